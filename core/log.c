/*
 * log.c - key encodings and the mutation log: every mutation, in commit
 * order, with its body hashed with XXH3 and stored in one of the forms of
 * body.c; the log record's one codec (its fixed, compact and short
 * forms); reading a body, with a delta's base; what a short record leaves
 * out, from its base and its versions entry.
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

uint32_t log_short_sum(const void *p, size_t n, uint64_t ts, uint32_t idx)
{
	return (uint32_t)XXH3_64bits_withSeed(
	    p, n, ts ^ (uint64_t)idx * 0x9e3779b97f4a7c15ull);
}

/* u8 REC_SHORT_BYTE, uvar size, uvar back, uvar base_idx, uvar nth,
 * lz4, u32 sum: at key (r->ts, r->idx). */
static int short_decode(const MDB_val *v, struct log_rec *r)
{
	const unsigned char *p = v->mv_data, *q = p + 1;
	const unsigned char *end = p + v->mv_size - LOG_SHORT_SUM;
	uint64_t size, back, bidx, nth;

	if (v->mv_size < 1 + 4 + 1 + LOG_SHORT_SUM ||
	    uvar_get(&q, end, &size) || uvar_get(&q, end, &back) ||
	    uvar_get(&q, end, &bidx) || uvar_get(&q, end, &nth) || !size ||
	    size > UINT32_MAX || back > r->ts || bidx > UINT32_MAX || !nth ||
	    nth > UINT16_MAX || q == end || (size_t)(end - q) > UINT32_MAX ||
	    (back == 0 && bidx >= r->idx) ||
	    log_short_sum(p, v->mv_size - LOG_SHORT_SUM, r->ts, r->idx) !=
		get_le32(end))
		return PITR_CORRUPT;
	r->op = OP_DOC_PUT;
	r->flags = LOG_DELTA;
	r->size = (uint32_t)size;
	r->base.ts = r->ts - back;
	r->base.idx = (uint32_t)bidx;
	r->base.nth = (uint16_t)nth;
	r->body = q;
	r->stored = (uint32_t)(end - q);
	return 0;
}

int log_decode(const MDB_val *k, const MDB_val *v, struct log_rec *r)
{
	const unsigned char *p = v->mv_data;

	memset(r, 0, sizeof(*r));
	if (k && log_key_decode(k, &r->ts, &r->idx))
		return PITR_CORRUPT;
	if (v->mv_size && p[0] == REC_SHORT_BYTE) {
		r->form = REC_SHORT;
		return k ? short_decode(v, r) : PITR_CORRUPT;
	}
	r->form = v->mv_size && (p[0] & LOG_COMPACT) ? REC_COMPACT : REC_FIXED;
	if ((r->form ? compact_decode(v, r) : fixed_decode(v, r)) ||
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
		if (r->form)
			return PITR_CORRUPT;
		r->op = r->op == OP_CT_CREATE ? OP_DB_CREATE : OP_CT_CREATE;
	}
	r->body = (const unsigned char *)r->name + r->namelen;
	return 0;
}

/* The bytes of r's body that go in `form`: a short record's lacks the
 * delta's header, which the others have; *hdr says whether the header is
 * dropped from them (1), written before them (-1) or neither (0). */
static size_t body_in(const struct log_rec *r, int form, int *hdr)
{
	*hdr = (form == REC_SHORT) - (r->form == REC_SHORT);
	return *hdr > 0	  ? r->stored - DELTA_HDR
	       : *hdr < 0 ? r->stored + DELTA_HDR
			  : r->stored;
}

size_t log_rec_size(const struct log_rec *r, int form)
{
	int hdr;
	size_t body = body_in(r, form, &hdr);
	struct body_base b;

	if (form == REC_SHORT) {
		body_form(r, &b);
		return 1 + uvar_len(r->size) + uvar_len(r->ts - b.ts) +
		       uvar_len(b.idx) + uvar_len(b.nth) + body + LOG_SHORT_SUM;
	}
	return (form ? 2 + uvar_len(r->parent) + uvar_len(r->inc) +
			   uvar_len(r->size) + 8
		     : LOG_HDR) +
	       r->namelen + body + LOG_SUM;
}

void log_rec_encode(unsigned char *p, size_t n, const struct log_rec *r,
		    int form)
{
	const unsigned char *body = r->body;
	struct body_base b;
	unsigned char *q;
	int hdr;

	size_t len = body_in(r, form, &hdr);
	if (hdr || form == REC_SHORT)
		body_form(r, &b);
	if (hdr > 0)
		body += DELTA_HDR;
	if (form == REC_SHORT) {
		p[0] = REC_SHORT_BYTE;
		q = uvar_put(p + 1, r->size);
		q = uvar_put(q, r->ts - b.ts);
		q = uvar_put(q, b.idx);
		q = uvar_put(q, b.nth);
		memcpy(q, body, len);
		put_le32(p + n - LOG_SHORT_SUM,
			 log_short_sum(p, n - LOG_SHORT_SUM, r->ts, r->idx));
		return;
	}
	if (form) {
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
		put_le32(p + 24, (uint32_t)len);
		put_le64(p + 28, r->etag);
		q = p + LOG_HDR;
	}
	if (r->namelen)
		memcpy(q, r->name, r->namelen);
	q += r->namelen;
	if (hdr < 0) {
		body_delta_header(&b, q);
		q += DELTA_HDR;
	}
	if (r->stored)
		memcpy(q, body, r->stored - (hdr > 0 ? DELTA_HDR : 0));
	put_le64(p + n - LOG_SUM, XXH3_64bits(p, n - LOG_SUM));
}

/* The form the account writes `r` in: a delta short from format 6,
 * compact from format 4. */
static int rec_form(const pitr_store *s, const struct log_rec *r)
{
	if (s->format >= 6 && r->op == OP_DOC_PUT && r->flags == LOG_DELTA)
		return REC_SHORT;
	return store_compact(s) ? REC_COMPACT : REC_FIXED;
}

/* Write `r` (body already in stored form) at log key (ts, idx): appended
 * at the end, or over the record there. */
static int log_write(pitr_txn *t, uint64_t ts, uint32_t idx,
		     const struct log_rec *rec, unsigned flags)
{
	unsigned char k[12];
	struct log_rec r = *rec;
	int form = rec_form(t->s, &r);
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	r.ts = ts;
	r.idx = idx;
	key_log(k, ts, idx);
	val.mv_size = log_rec_size(&r, form);
	rc = mdb_put(t->txn, t->s->log, &key, &val, flags | MDB_RESERVE);
	if (rc)
		return mdb_rc(rc);
	log_rec_encode(val.mv_data, val.mv_size, &r, form);
	return 0;
}

int log_read(pitr_txn *t, uint64_t ts, uint32_t idx, struct log_rec *r)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	key_log(k, ts, idx);
	rc = mdb_rc(mdb_get(t->txn, t->s->log, &key, &val));
	return rc ? rc : log_decode(&key, &val, r);
}

void log_claim(struct log_rec *r, uint64_t parent, const char *name,
	       size_t namelen, uint64_t etag)
{
	if (r->form != REC_SHORT)
		return;
	r->parent = parent;
	r->name = name;
	r->namelen = namelen;
	r->etag = etag;
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
 * `beat` bytes: its length, *flags set; else -1. With transaction `w`, as
 * dict_encode() chooses; without, in LZ4's fast mode. */
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

/* r's body as `from` stores it. */
static void stored_as(struct log_rec *r, const struct log_rec *from)
{
	r->flags = from->flags;
	r->body = from->body;
	r->stored = from->stored;
}

int log_encode_body(pitr_txn *t, struct log_rec *r, const void *body,
		    size_t size, const struct body_enc *enc, char *buf)
{
	size_t bound = body_bound(size);
	int n = -1, rc;

	r->size = (uint32_t)size;
	r->flags = 0;
	if (enc && enc->base_body && size) {
		size_t cap = body_delta_cap(size);
		n = body_delta_encode(&enc->base, enc->base_body, enc->base_len,
				      body, size, buf,
				      cap < bound ? cap : bound);
		if (n > 0 && body_delta_pays((size_t)n, size))
			r->flags = LOG_DELTA;
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
					    &r->flags);
			dict_put(&d);
		} else if (rc == PITR_CORRUPT) {
			t->err[0] = 0;
		} else if (rc != PITR_NOTFOUND) {
			return rc;
		}
	}
	if (n < 0 && enc && enc->key) {
		/* the keyframe packed before the transaction */
		stored_as(r, enc->key);
		return 0;
	}
	if (n < 0 &&
	    (n = body_key_encode(body, size, buf, bound, &r->flags)) < 0)
		return n;
	r->body = buf;
	r->stored = (uint32_t)n;
	return 0;
}

int log_append_body(pitr_txn *t, const struct log_rec *tmpl, const void *body,
		    size_t size, const struct body_enc *enc, uint32_t *idx)
{
	struct log_rec r = *tmpl;
	char small[8192], *buf = small;
	int rc;

	if (enc && enc->done) {
		r.size = (uint32_t)size;
		stored_as(&r, enc->done);
		return log_put(t, &r, idx);
	}
	if (body_bound(size) > sizeof(small) &&
	    !(buf = malloc(body_bound(size))))
		return ENOMEM;
	rc = log_encode_body(t, &r, body, size, enc, buf);
	if (!rc)
		rc = log_put(t, &r, idx);
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

/* The record of the keyframe a delta of `r` is made on, at `b`: whole, a
 * put of the same document (r's, when `same`) and a keyframe, its form
 * returned and its own base (a dictionary) in `bb`. */
static int base_record(pitr_txn *t, const struct log_rec *r,
		       const struct body_base *b, int same, struct log_rec *br,
		       struct body_base *bb)
{
	int rc = log_read(t, b->ts, b->idx, br);

	if (rc)
		return rc == PITR_NOTFOUND ? PITR_CORRUPT : rc;
	if (br->op != OP_DOC_PUT ||
	    (same && (br->parent != r->parent || br->namelen != r->namelen ||
		      (r->namelen && memcmp(br->name, r->name, r->namelen)))))
		return PITR_CORRUPT;
	rc = body_form(br, bb);
	return rc == BODY_KEY || rc == BODY_DICT ? rc : PITR_CORRUPT;
}

/* The keyframe a delta of `r` is made on, decoded into `*out`. */
static int base_body(pitr_txn *t, const struct log_rec *r,
		     const struct body_base *b, char **out)
{
	struct body_base bb;
	struct log_rec br;
	int rc, form;

	if ((form = base_record(t, r, b, 1, &br, &bb)) < 0)
		return form;
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

/* Decode r's body into `out` (r->size bytes), its etag not checked. */
static int body_decode(pitr_txn *t, const struct log_rec *r, void *out)
{
	struct body_base b;
	char *base = NULL;
	int rc = body_form(r, &b), n;

	if (rc == BODY_KEY || rc == BODY_DICT)
		return key_decode(t, r, rc, &b, out);
	if (rc != BODY_DELTA)
		return rc;
	n = base_body(t, r, &b, &base);
	rc = n < 0 ? n : body_delta_decode(r, base, (size_t)n, out);
	free(base);
	return rc;
}

/* Decode r's body into `out` and check its etag. */
static int body_check(pitr_txn *t, const struct log_rec *r, void *out)
{
	int rc = body_decode(t, r, out);

	if (rc)
		return rc;
	return XXH3_64bits(out, r->size) == r->etag ? 0 : PITR_CORRUPT;
}

int log_name(pitr_txn *t, struct log_rec *r)
{
	struct body_base bb;
	struct log_rec br;
	int rc;

	if (r->form != REC_SHORT || r->name)
		return 0;
	if ((rc = base_record(t, r, &r->base, 0, &br, &bb)) < 0)
		return rc;
	r->parent = br.parent;
	r->name = br.name;
	r->namelen = br.namelen;
	return 0;
}

int log_hash(pitr_txn *t, struct log_rec *r)
{
	char *out;
	int rc;

	if (r->form != REC_SHORT)
		return 0;
	if ((rc = log_name(t, r)))
		return rc;
	if (!(out = malloc(r->size)))
		return ENOMEM;
	rc = body_decode(t, r, out);
	if (!rc)
		r->etag = XXH3_64bits(out, r->size);
	free(out);
	return rc;
}

int log_resolve(pitr_txn *t, struct log_rec *r)
{
	unsigned char k[KEY_MAX];
	MDB_val key = { 0, k }, val;
	struct ver_rec vr;
	int rc;

	if (r->form != REC_SHORT)
		return 0;
	if ((rc = log_name(t, r)))
		return rc;
	/* the etag its versions entry says, which decoding it then checks */
	key.mv_size = key_named(k, r->parent, r->name, r->namelen, r->ts);
	rc = tbl_get(t->txn, t->s->versions, &key, &val);
	if (rc == 0 && ver_decode(&val, &vr, ver_form(t->s)) == 0 &&
	    vr.op == OP_DOC_PUT && vr.idx == r->idx && vr.size == r->size) {
		r->etag = vr.etag;
		return 0;
	}
	if (rc && rc != MDB_NOTFOUND)
		return mdb_rc(rc);
	return log_hash(t, r);
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
	r->form = REC_COMPACT; /* a keyframe, in the form of any record */
	return 0;
}

/* Whether `r`, a delta of another form about to be put at (ts, idx), may
 * be written short: a well-formed delta on an earlier record that is a
 * keyframe of its document here (else its name would be lost with it). */
static int shortens(pitr_txn *t, const struct log_rec *r, uint64_t ts,
		    uint32_t idx)
{
	struct body_base b, bb;
	struct log_rec br;

	if (rec_form(t->s, r) != REC_SHORT || r->form == REC_SHORT ||
	    body_form(r, &b) != BODY_DELTA || b.ts > ts ||
	    (b.ts == ts && b.idx >= idx))
		return 0;
	return base_record(t, r, &b, 1, &br, &bb) >= 0;
}

int log_put_replayed(pitr_txn *t, uint64_t ts, uint32_t idx, const MDB_val *rec,
		     const struct log_rec *r)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k };

	if (shortens(t, r, ts, idx))
		return log_write(t, ts, idx, r, MDB_APPEND);
	key_log(k, ts, idx);
	return mdb_rc(
	    mdb_put(t->txn, t->s->log, &key, (MDB_val *)rec, MDB_APPEND));
}

int log_portable(pitr_txn *t, const MDB_val *k, const MDB_val *v, MDB_val *out,
		 void **buf)
{
	struct log_rec r;
	int rc;

	*buf = NULL;
	*out = *v;
	if ((rc = log_decode(k, v, &r)) || r.form != REC_SHORT)
		return rc;
	/* its etag its body's: the media keep what the index may not */
	if ((rc = log_hash(t, &r)))
		return rc;
	out->mv_size = log_rec_size(&r, REC_COMPACT);
	if (!(*buf = malloc(out->mv_size)))
		return ENOMEM;
	log_rec_encode(*buf, out->mv_size, &r, REC_COMPACT);
	out->mv_data = *buf;
	return 0;
}

int log_rekey(pitr_txn *t, uint64_t ts, uint32_t idx, uint64_t bts,
	      uint32_t bidx)
{
	struct body_base b;
	struct log_rec r;
	char name[PITR_NAME_MAX];
	void *buf;
	int rc;

	rc = log_read(t, ts, idx, &r);
	if (rc)
		return rc == PITR_NOTFOUND ? 0 : rc;
	if (r.op != OP_DOC_PUT || body_form(&r, &b) != BODY_DELTA ||
	    b.ts != bts || b.idx != bidx)
		return 0;
	if ((rc = log_hash(t, &r)))
		return rc;
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
