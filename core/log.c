/*
 * log.c - key encodings and the mutation log: every mutation, in commit
 * order, with its body hashed with XXH3 and stored in one of the forms of
 * body.c; reading a body, with a delta's base.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#include "internal.h"


static int fixed_decode(const MDB_val *v, struct log_rec *r)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size < LOG_HDR + LOG_SUM)
		return PITR_CORRUPT;
	r->op = p[0];
	r->flags = p[1];
	r->namelen = (size_t)p[2] | (size_t)p[3] << 8;
	r->parent = get_le64(p + 4);
	r->inc = get_le64(p + 12);
	r->size = get_le32(p + 20);
	r->stored = get_le32(p + 24);
	r->etag = get_le64(p + 28);
	if (r->namelen > PITR_NAME_MAX ||
	    v->mv_size != LOG_HDR + r->namelen + r->stored + LOG_SUM)
		return PITR_CORRUPT;
	r->name = (const char *)p + LOG_HDR;
	return 0;
}

static int compact_decode(const MDB_val *v, struct log_rec *r)
{
	const unsigned char *p = v->mv_data, *q = p + 2;
	const unsigned char *end = p + v->mv_size - LOG_SUM;
	uint64_t size;

	if (v->mv_size < 2 + 3 + 8 + LOG_SUM)
		return PITR_CORRUPT;
	r->op = p[0] & 0xf;
	r->flags = p[0] >> 4 & 0x7;
	r->namelen = p[1];
	if (uvar_get(&q, end, &r->parent) || uvar_get(&q, end, &r->inc) ||
	    uvar_get(&q, end, &size) || size > UINT32_MAX ||
	    (size_t)(end - q) < 8 + r->namelen ||
	    (size_t)(end - q) - 8 - r->namelen > UINT32_MAX)
		return PITR_CORRUPT;
	r->size = (uint32_t)size;
	r->etag = get_le64(q);
	r->name = (const char *)q + 8;
	r->stored = (uint32_t)((size_t)(end - q) - 8 - r->namelen);
	return 0;
}

int log_decode(const MDB_val *v, struct log_rec *r)
{
	const unsigned char *p = v->mv_data;

	r->compact = v->mv_size && (p[0] & LOG_COMPACT);
	if ((r->compact ? compact_decode(v, r) : fixed_decode(v, r)) ||
	    r->op < OP_DOC_PUT || r->op > OP_DICT ||
	    XXH3_64bits(p, v->mv_size - LOG_SUM) !=
		get_le64(p + v->mv_size - LOG_SUM))
		return PITR_CORRUPT;
	/* Earlier builds logged the create half of a rename as its delete's
	 * op + 1: 7 for a container, 5 with no parent for a database. Both
	 * are unambiguous, and the records are intact; no build writes them
	 * in the compact form. */
	if (r->op == OP_CT_DELETE + 1 ||
	    (r->op == OP_CT_CREATE && r->parent == 0)) {
		if (r->compact)
			return PITR_CORRUPT;
		r->op = r->op == OP_CT_CREATE ? OP_DB_CREATE : OP_CT_CREATE;
	}
	r->body = (const unsigned char *)r->name + r->namelen;
	return 0;
}

size_t log_rec_size(const struct log_rec *r, int compact)
{
	size_t hdr = compact ? 2 + uvar_len(r->parent) + uvar_len(r->inc) +
				   uvar_len(r->size) + 8
			     : LOG_HDR;

	return hdr + r->namelen + r->stored + LOG_SUM;
}

void log_rec_encode(unsigned char *p, size_t n, const struct log_rec *r,
		    int compact)
{
	unsigned char *q;

	if (compact) {
		p[0] = (unsigned char)(LOG_COMPACT | r->flags << 4 | r->op);
		p[1] = (unsigned char)r->namelen;
		q = uvar_put(p + 2, r->parent);
		q = uvar_put(q, r->inc);
		q = uvar_put(q, r->size);
		put_le64(q, r->etag);
		q += 8;
	} else {
		p[0] = (unsigned char)r->op;
		p[1] = (unsigned char)r->flags;
		p[2] = (unsigned char)r->namelen;
		p[3] = (unsigned char)(r->namelen >> 8);
		put_le64(p + 4, r->parent);
		put_le64(p + 12, r->inc);
		put_le32(p + 20, r->size);
		put_le32(p + 24, r->stored);
		put_le64(p + 28, r->etag);
		q = p + LOG_HDR;
	}
	memcpy(q, r->name, r->namelen);
	if (r->stored)
		memcpy(q + r->namelen, r->body, r->stored);
	put_le64(p + n - LOG_SUM, XXH3_64bits(p, n - LOG_SUM));
}

/* Write `r` (body already in stored form) at log key (ts, idx): appended
 * at the end, or over the record there; compact from format 4. */
static int log_write(pitr_txn *t, uint64_t ts, uint32_t idx,
		     const struct log_rec *r, unsigned flags)
{
	unsigned char k[12];
	int compact = store_compact(t->s);
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	key_log(k, ts, idx);
	val.mv_size = log_rec_size(r, compact);
	rc = mdb_put(t->txn, t->s->log, &key, &val, flags | MDB_RESERVE);
	if (rc)
		return mdb_rc(rc);
	log_rec_encode(val.mv_data, val.mv_size, r, compact);
	return 0;
}

/* Write `r` under the next index. */
static int log_put(pitr_txn *t, const struct log_rec *r, uint32_t *idx)
{
	/* Timestamps only grow, so every record is appended at the end. */
	int rc = log_write(t, t->ts, t->idx, r, MDB_APPEND);

	if (!rc)
		*idx = t->idx++;
	return rc;
}

/* A keyframe of `body` on dictionary `d` in `buf` when it takes fewer than
 * `beat` bytes: its length, *flags set; else -1. With write transaction
 * `w`, as dict_encode() chooses; without, in LZ4's fast mode. */
static int dict_key_encode(pitr_txn *w, const struct dict_ref *d,
			   const void *body, size_t len, void *buf, size_t cap,
			   size_t beat, int *flags)
{
	int n = w ? dict_encode(w, d, body, len, buf, cap)
		  : body_dict_encode(d->id, d->bytes, d->len, d->stream, body,
				     len, buf, cap);

	if (n <= 0 || (size_t)n >= beat)
		return -1;
	*flags = LOG_DICT;
	return n;
}

int log_append_body(pitr_txn *t, const struct log_rec *tmpl, const void *body,
		    size_t size, const struct body_enc *enc, uint32_t *idx)
{
	struct log_rec r = *tmpl;
	char small[8192], *buf = small;
	size_t bound = body_bound(size);
	int n = -1, rc;

	r.size = (uint32_t)size;
	r.flags = 0;
	if (bound > sizeof(small) && !(buf = malloc(bound)))
		return ENOMEM;
	if (enc && enc->base_body && size) {
		size_t cap = body_delta_cap(size);
		n = body_delta_encode(&enc->base, enc->base_body, enc->base_len,
				      body, size, buf,
				      cap < bound ? cap : bound);
		if (n > 0 && body_delta_pays((size_t)n, size))
			r.flags = LOG_DELTA;
		else
			n = -1;
	}
	if (n < 0 && enc && enc->dict_ct && size) {
		/* a keyframe on the container's dictionary, if it has or can
		 * now make one; a damaged one is not built on */
		struct dict_ref d;
		rc = dict_of_ct(t, enc->dict_ct, &d);
		if (rc == 0) {
			n = dict_key_encode(t, &d, body, size, buf, bound,
					    enc->key ? enc->key->stored : size,
					    &r.flags);
			dict_put(&d);
		} else if (rc == PITR_CORRUPT) {
			t->err[0] = 0;
		} else if (rc != PITR_NOTFOUND) {
			if (buf != small)
				free(buf);
			return rc;
		}
	}
	if (n < 0 && enc && enc->key) {
		/* the keyframe packed before the transaction */
		r.flags = enc->key->flags;
		r.body = enc->key->body;
		r.stored = enc->key->stored;
		rc = log_put(t, &r, idx);
	} else {
		if (n < 0)
			n = body_key_encode(body, size, buf, bound, &r.flags);
		rc = n;
	}
	if (n >= 0) {
		r.body = buf;
		r.stored = (uint32_t)n;
		rc = log_put(t, &r, idx);
	}
	if (buf != small)
		free(buf);
	return rc;
}

void log_pack(struct log_rec *r, const void *body, size_t size, char *buf,
	      int bound)
{
	int flags = 0;
	int n = body_key_encode(body, size, buf, (size_t)bound, &flags);

	r->size = (uint32_t)size;
	/* Kept raw, borrowing `body`, when compression does not pay. */
	if (n > 0 && (flags & LOG_LZ4)) {
		r->flags = LOG_LZ4;
		r->body = buf;
		r->stored = (uint32_t)n;
	} else {
		r->flags = 0;
		r->body = body;
		r->stored = (uint32_t)size;
	}
}

int log_append(pitr_txn *t, int op, uint64_t parent, uint64_t inc,
	       const char *name, size_t namelen, const void *body, size_t size,
	       uint64_t etag, uint32_t *idx)
{
	struct log_rec r = {
		.op = op,
		.parent = parent,
		.inc = inc,
		.etag = etag,
		.name = name,
		.namelen = namelen,
	};

	if (op == OP_DOC_PUT)
		return log_append_body(t, &r, body, size, NULL, idx);
	/* Catalog events and deletes carry no body. */
	if (size)
		return EINVAL;
	return log_put(t, &r, idx);
}

int log_append_stored(pitr_txn *t, int op, uint64_t parent, const char *name,
		      size_t namelen, const struct log_rec *src, uint32_t *idx)
{
	struct log_rec r = *src;

	r.op = op;
	r.parent = parent;
	r.inc = 0;
	r.name = name;
	r.namelen = namelen;
	return log_put(t, &r, idx);
}

/* Decode a keyframe of either form into `out`. */
static int key_decode(pitr_txn *t, const struct log_rec *r, int form,
		      const struct body_base *b, void *out)
{
	struct dict_ref d;
	int rc;

	if (form == BODY_KEY)
		return body_key_decode(r, out);
	if ((rc = dict_get(t, b->dict, &d)))
		return rc;
	rc = body_dict_decode(r, d.bytes, d.len, out);
	dict_put(&d);
	return rc;
}

/* The keyframe a delta of `r` is made on, decoded into `*out`: its record
 * must be whole, a put of the same document and a keyframe. */
static int base_body(pitr_txn *t, const struct log_rec *r,
		     const struct body_base *b, char **out)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	struct body_base bb;
	struct log_rec br;
	int rc, form;

	key_log(k, b->ts, b->idx);
	rc = mdb_rc(mdb_get(t->txn, t->s->log, &key, &val));
	if (rc)
		return rc == PITR_NOTFOUND ? PITR_CORRUPT : rc;
	if (log_decode(&val, &br) || br.op != OP_DOC_PUT ||
	    br.parent != r->parent || br.namelen != r->namelen ||
	    memcmp(br.name, r->name, r->namelen))
		return PITR_CORRUPT;
	form = body_form(&br, &bb);
	if (form != BODY_KEY && form != BODY_DICT)
		return PITR_CORRUPT;
	if (!(*out = malloc(br.size ? br.size : 1)))
		return ENOMEM;
	/* Not checked against its own etag: the delta's, checked after it
	 * is decoded on this base, proves both. */
	rc = key_decode(t, &br, form, &bb, *out);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	return (int)br.size;
}

/* Decode r's body into `out` (r->size bytes) and check its etag. */
static int body_check(pitr_txn *t, const struct log_rec *r, void *out)
{
	struct body_base b;
	char *base = NULL;
	int rc = body_form(r, &b), n;

	if (rc == BODY_KEY || rc == BODY_DICT) {
		rc = key_decode(t, r, rc, &b, out);
	} else if (rc == BODY_DELTA) {
		n = base_body(t, r, &b, &base);
		rc = n < 0 ? n
			   : body_delta_decode(r, base, (size_t)n, out);
		free(base);
	}
	if (rc)
		return rc;
	return XXH3_64bits(out, r->size) == r->etag ? 0 : PITR_CORRUPT;
}

int log_body(pitr_txn *t, const struct log_rec *r, void **body, size_t *len)
{
	char *out = malloc(r->size ? r->size : 1);
	int rc;

	if (!out)
		return ENOMEM;
	rc = body_check(t, r, out);
	if (rc == 0) {
		*body = out;
		*len = r->size;
		return 0;
	}
	free(out);
	if (rc == PITR_CORRUPT)
		log_damage(t, r);
	return rc;
}

int log_standalone(pitr_txn *t, struct log_rec *r, const struct dict_ref *d,
		   void **buf)
{
	struct body_base b;
	void *body;
	size_t len;
	int rc, n = -1;

	*buf = NULL;
	rc = body_form(r, &b);
	if (rc < 0)
		return rc;
	if (rc == BODY_KEY || (rc == BODY_DICT && d && b.dict == d->id))
		return 0;
	if ((rc = log_body(t, r, &body, &len)))
		return rc;
	if (!(*buf = malloc(body_bound(len)))) {
		free(body);
		return ENOMEM;
	}
	if (d && len)
		n = dict_key_encode(NULL, d, body, len, *buf, body_bound(len),
				    len, &r->flags);
	if (n < 0)
		n = body_key_encode(body, len, *buf, body_bound(len),
				    &r->flags);
	free(body);
	if (n < 0) {
		free(*buf);
		*buf = NULL;
		return n;
	}
	r->body = *buf;
	r->stored = (uint32_t)n;
	return 0;
}

int log_rekey(pitr_txn *t, uint64_t ts, uint32_t idx, uint64_t bts,
	      uint32_t bidx)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	struct body_base b;
	struct log_rec r;
	char name[PITR_NAME_MAX];
	void *buf;
	int rc;

	key_log(k, ts, idx);
	rc = mdb_rc(mdb_get(t->txn, t->s->log, &key, &val));
	if (rc)
		return rc == PITR_NOTFOUND ? 0 : rc;
	if ((rc = log_decode(&val, &r)))
		return rc;
	if (r.op != OP_DOC_PUT || body_form(&r, &b) != BODY_DELTA ||
	    b.ts != bts || b.idx != bidx)
		return 0;
	/* The record lives in the map, which the write below may move. */
	memcpy(name, r.name, r.namelen);
	r.name = name;
	if ((rc = log_standalone(t, &r, NULL, &buf)))
		return rc;
	rc = log_write(t, ts, idx, &r, 0);
	free(buf);
	return rc;
}

void log_damage(pitr_txn *t, const struct log_rec *r)
{
	snprintf(t->err, sizeof(t->err), "body of '%.*s' fails its checksum",
		 (int)(r->namelen > 64 ? 64 : r->namelen), r->name);
}
