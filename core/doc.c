/*
 * doc.c - documents: versions in time, and the live state; scratch files.
 */
#include <errno.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#include "internal.h"

/* Scratch files may be larger than documents (an editor's backup of a
 * document it is about to rewrite), but are still bounded. */
#define SCRATCH_FACTOR 8

int pitr_doc_check(pitr_store *s, const void *body, size_t len, char *err,
		   size_t errlen, pitr_checked *ok)
{
	int rc = json_check(body, len, s->max_doc, err, errlen);

	if (ok) {
		XXH128_hash_t h = XXH3_128bits(body, len);

		ok->len = rc ? 0 : len;
		ok->hash_lo = rc ? 0 : h.low64;
		ok->hash_hi = rc ? 0 : h.high64;
	}
	return rc;
}

static int proven(const pitr_checked *ok, const void *body, size_t len)
{
	XXH128_hash_t h;

	if (!ok || ok->len != len || (!ok->hash_lo && !ok->hash_hi))
		return 0;
	h = XXH3_128bits(body, len);
	return h.low64 == ok->hash_lo && h.high64 == ok->hash_hi;
}

/* Record version `v` of (ct, id) under the transaction's timestamp. */
static int version_put(pitr_txn *t, uint64_t ct, const char *id, size_t len,
		       int op, uint32_t idx, uint32_t size, uint64_t etag)
{
	unsigned char k[KEY_MAX], v[VER_VAL_MAX], old[12];
	MDB_val key = { key_named(k, ct, id, len, t->ts), k };
	MDB_val val = { 0, v }, prev;
	int rc;

	/* A second mutation of one document in one transaction replaces the
	 * first: drop the first one's log record with it. */
	struct ver_rec pv;
	if (tbl_get(t->txn, t->s->versions, &key, &prev) == 0 &&
	    ver_decode(&prev, &pv, ver_form(t->s)) == 0) {
		MDB_val lk = { sizeof(old), old };
		key_log(old, t->ts, pv.idx);
		rc = mdb_del(t->txn, t->s->log, &lk, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return mdb_rc(rc);
	}
	val.mv_size = ver_encode(v, &(struct ver_rec){ idx, op, size, etag },
				 ver_form(t->s));
	return mdb_rc(tbl_put(t->txn, t->s->versions, &key, &val, 0));
}

static int live_doc_put(pitr_txn *t, uint64_t ct, const char *id, size_t len,
			uint32_t idx, uint32_t size, uint64_t etag)
{
	unsigned char k[KEY_MAX], v[LIVE_DOC_VAL_MAX];
	MDB_val key = { key_live(k, ct, LIVE_DOC, id, len), k };
	MDB_val val = { 0, v };
	struct live_doc ld = { t->ts, idx, size, etag };

	val.mv_size = live_doc_encode(v, &ld, store_compact(t->s));
	return mdb_rc(mdb_put(t->txn, t->s->live, &key, &val, 0));
}

static int live_get(pitr_txn *t, uint64_t ct, int type, const char *name,
		    size_t len, MDB_val *val)
{
	unsigned char k[KEY_MAX];
	MDB_val key = { key_live(k, ct, type, name, len), k };

	return mdb_rc(mdb_get(t->txn, t->s->live, &key, val));
}

static int live_del(pitr_txn *t, uint64_t ct, int type, const char *name,
		    size_t len)
{
	unsigned char k[KEY_MAX], v[8];
	MDB_val key = { key_live(k, ct, type, name, len), k };
	MDB_val val = { 8, v };
	int rc;

	rc = mdb_rc(mdb_del(t->txn, t->s->live, &key, NULL));
	if (rc || type != LIVE_DOC || t->s->format < 2)
		return rc;
	key.mv_size = key_live(k, ct, LIVE_LEFT, "", 0);
	put_le64(v, t->ts);
	return mdb_rc(mdb_put(t->txn, t->s->live, &key, &val, 0));
}

static int writable_ct(pitr_txn *t, uint64_t ct, const char *id, size_t len)
{
	if (!t->ts)
		return PITR_RDONLY;
	if (pitr_name_check(id, len))
		return PITR_BADNAME;
	return ct_alive(t, ct);
}

static int doc_find(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		    uint64_t at, pitr_version *v, uint32_t *idx);
static int doc_record(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		      const pitr_version *v, uint32_t idx, struct log_rec *r);

/*
 * The keyframe a new version of (ct, id) can be a delta on, from format 3:
 * the live version if it is a keyframe, else the keyframe it is a delta
 * on, while it has fewer than DELTA_MAX deltas. Its reference goes to
 * *b (zero when there is none), its record to *r; returns 0, or
 * PITR_NOTFOUND when the version is to be a keyframe (no live version, or
 * one written in this very write transaction, which the new one
 * replaces), or an error.
 */
static int delta_ref(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		     struct body_base *b, struct log_rec *r)
{
	struct body_base lb;
	pitr_version v;
	uint32_t idx;
	int rc;

	memset(b, 0, sizeof(*b));
	if (t->s->format < 3)
		return PITR_NOTFOUND;
	if ((rc = doc_find(t, ct, id, idlen, PITR_NOW, &v, &idx)) ||
	    (rc = doc_record(t, ct, id, idlen, &v, idx, r)))
		return rc;
	if (t->ts && v.ts >= t->ts)
		return PITR_NOTFOUND;
	rc = body_form(r, &lb);
	if (rc == BODY_KEY || rc == BODY_DICT) {
		b->ts = v.ts;
		b->idx = idx;
		b->nth = 1;
	} else if (rc == BODY_DELTA && lb.nth < DELTA_MAX) {
		*b = lb;
		b->nth++;
		/* the keyframe's own record, found through its key */
		unsigned char k[12];
		MDB_val key = { sizeof(k), k }, val;
		key_log(k, lb.ts, lb.idx);
		if ((rc = mdb_rc(mdb_get(t->txn, t->s->log, &key, &val))) ||
		    (rc = log_decode(&key, &val, r)))
			return rc == PITR_NOTFOUND ? PITR_CORRUPT : rc;
		rc = body_form(r, &lb);
		if ((rc != BODY_KEY && rc != BODY_DICT) ||
		    r->op != OP_DOC_PUT || r->parent != ct ||
		    r->namelen != idlen || memcmp(r->name, id, idlen))
			return PITR_CORRUPT;
	} else {
		return rc < 0 ? rc : PITR_NOTFOUND;
	}
	return 0;
}

/* delta_ref(), and the keyframe's decoded body in a malloc'd *body: its
 * length, or what delta_ref() returned. */
static int delta_base(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		      struct body_base *b, void **body)
{
	struct log_rec r;
	size_t len;
	int rc = delta_ref(t, ct, id, idlen, b, &r);

	if (!rc)
		rc = log_body(t, &r, body, &len);
	return rc ? rc : (int)len;
}

size_t pitr_store_max_scratch(pitr_store *s)
{
	return (size_t)s->max_doc * SCRATCH_FACTOR;
}

int pitr_doc_put(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		 const void *body, size_t len)
{
	return pitr_doc_put_checked(t, ct, id, idlen, body, len, NULL);
}

/*
 * A body checked, hashed and packed (lz4) as the log stores a keyframe,
 * and when prepared for a document, encoded as its next version would be,
 * against the account as it was then (pre_encode). The raw bytes are kept
 * too: inside the write transaction that encoding is stored only if the
 * account is still as it was for it (pre_valid); else the body is encoded
 * there again.
 */
struct pre_enc {
	int kind; /* PRE_NONE, PRE_DELTA, PRE_KEY */
	uint64_t ct;
	char *id;
	size_t idlen;
	struct body_base base; /* the base it saw; nth 0: none */
	uint64_t dict;	       /* PRE_KEY: the container's dictionary */
	struct log_rec rec;    /* flags, body, stored */
	char *buf;	       /* rec.body, unless it is the packed keyframe */
};
enum { PRE_NONE, PRE_DELTA, PRE_KEY };

struct pitr_prepared {
	struct log_rec rec; /* size, flags, stored, etag, body */
	char *raw;	    /* the body; rec.body when kept raw */
	struct pre_enc pre;
	char packed[]; /* rec.body when compressed */
};

/*
 * Whether `e`, encoded before the transaction, is what a put of (ct, id)
 * would encode now: the same document, whose new version has the same
 * base as then (the same keyframe and count of deltas on it) or none, as
 * then; a keyframe also the same dictionary on its container. A delta
 * decodes on its base's body whatever else changed; a keyframe chose
 * between the dictionary and the plain form as the put would.
 */
static int pre_valid(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		     const struct pre_enc *e)
{
	struct body_base b;
	struct log_rec r;
	uint64_t dict, ts;
	int rc;

	if (e->kind == PRE_NONE || e->ct != ct || e->idlen != idlen ||
	    memcmp(e->id, id, idlen))
		return 0;
	rc = delta_ref(t, ct, id, idlen, &b, &r);
	if (rc == PITR_NOTFOUND) /* b zero: no base */
		rc = 0;
	if (!rc && b.ts == e->base.ts && b.idx == e->base.idx &&
	    b.nth == e->base.nth &&
	    (e->kind == PRE_DELTA ||
	     (ct_dict(t, ct, &dict, &ts) == 0 && dict == e->dict)))
		return 1;
	t->err[0] = 0;
	return 0;
}

/*
 * Encode p's body as the next version of (ct, id) would be, against the
 * account as it is now (a read transaction, in the writer's thread): kept
 * when it is a delta, or a keyframe in a container with a dictionary
 * (whose choice the put can check); else the put encodes it. Failures
 * leave it to the put.
 */
static void pre_encode(pitr_store *s, pitr_prepared *p, uint64_t ct,
		       const char *id, size_t idlen)
{
	struct pre_enc *e = &p->pre;
	struct body_enc enc = { .dict_ct = ct, .key = &p->rec };
	struct log_rec r = p->rec;
	void *base = NULL;
	uint64_t ts;
	pitr_txn *t;
	int n;

	if (!ct || s->format < 3 || pitr_name_check(id, idlen) ||
	    pitr_txn_begin(s, PITR_TXN_READ, &t))
		return;
	n = delta_base(t, ct, id, idlen, &enc.base, &base);
	if (n >= 0) {
		enc.base_body = base;
		enc.base_len = (size_t)n;
	}
	if ((n >= 0 || n == PITR_NOTFOUND) &&
	    (e->buf = malloc(body_bound(p->rec.size))) &&
	    (e->id = malloc(idlen ? idlen : 1)) &&
	    log_encode_body(t, &r, p->raw, p->rec.size, &enc, e->buf) == 0) {
		if (r.flags == LOG_DELTA)
			e->kind = PRE_DELTA;
		else if (ct_dict(t, ct, &e->dict, &ts) == 0)
			e->kind = PRE_KEY;
	}
	if (e->kind != PRE_NONE) {
		if (r.body != e->buf) { /* the packed keyframe itself */
			free(e->buf);
			e->buf = NULL;
		}
		e->ct = ct;
		memcpy(e->id, id, idlen);
		e->idlen = idlen;
		e->base = enc.base;
		e->rec = r;
	} else {
		free(e->buf);
		free(e->id);
		e->buf = e->id = NULL;
	}
	free(base);
	pitr_txn_abort(t);
}

/*
 * Store `body` as the next version of (ct, id), inside the write
 * transaction: as `pre` encoded it before the transaction if that is
 * still valid, else as a delta on the live version's keyframe while that
 * pays, else as a keyframe on the container's dictionary while that beats
 * the plain keyframe, else as the plain keyframe `key` (packed by
 * log_pack() before the transaction; NULL: packed here).
 */
static int doc_put_body(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
			const void *body, size_t len, uint64_t etag,
			const struct log_rec *key, const struct pre_enc *pre)
{
	struct body_enc enc = { .key = key, .dict_ct = ct };
	void *base = NULL;
	uint32_t idx;
	int rc, base_len = PITR_NOTFOUND;

	if (pre && pre_valid(t, ct, id, idlen, pre)) {
		enc.done = &pre->rec;
		t->s->pre_stored++;
	} else {
		base_len = delta_base(t, ct, id, idlen, &enc.base, &base);
	}
	/* A damaged earlier version is read as an error, never built on: the
	 * new version is then a keyframe. */
	if (base_len == PITR_CORRUPT)
		t->err[0] = 0;
	else if (base_len < 0 && base_len != PITR_NOTFOUND)
		return base_len;
	if (base_len >= 0) {
		enc.base_body = base;
		enc.base_len = (size_t)base_len;
	}
	struct log_rec tmpl = { .op = OP_DOC_PUT, .parent = ct, .etag = etag,
				.name = id, .namelen = idlen };
	rc = log_append_body(t, &tmpl, body, len, &enc, &idx);
	free(base);
	if (rc || (rc = version_put(t, ct, id, idlen, OP_DOC_PUT, idx,
				    (uint32_t)len, etag)))
		return rc;
	return live_doc_put(t, ct, id, idlen, idx, (uint32_t)len, etag);
}

int pitr_doc_put_checked(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
			 const void *body, size_t len, const pitr_checked *ok)
{
	int rc;

	t->err[0] = 0;
	rc = writable_ct(t, ct, id, idlen);
	if (rc)
		return rc;
	if (len > t->s->max_doc || !proven(ok, body, len)) {
		rc = json_check(body, len, t->s->max_doc, t->err,
				sizeof(t->err));
		if (rc)
			return rc;
	}
	return doc_put_body(t, ct, id, idlen, body, len, XXH3_64bits(body, len),
			    NULL, NULL);
}

int pitr_doc_prepare(pitr_store *s, uint64_t ct, const char *id, size_t idlen,
		     const void *body, size_t len, char *err, size_t errlen,
		     pitr_prepared **out)
{
	pitr_prepared *p;
	int rc, bound;

	*out = NULL;
	rc = json_check(body, len, s->max_doc, err, errlen);
	if (rc)
		return rc;
	/* json_check refused anything over max_doc: len fits an int */
	bound = LZ4_compressBound((int)len);
	p = malloc(sizeof(*p) + (size_t)bound);
	if (!p)
		return ENOMEM;
	memset(p, 0, sizeof(*p));
	p->raw = malloc(len ? len : 1);
	if (!p->raw) {
		free(p);
		return ENOMEM;
	}
	memcpy(p->raw, body, len);
	p->rec.etag = XXH3_64bits(body, len);
	log_pack(&p->rec, p->raw, len, p->packed, bound);
	pre_encode(s, p, ct, id, idlen);
	*out = p;
	return 0;
}

void pitr_prepared_free(pitr_prepared *p)
{
	if (p) {
		free(p->raw);
		free(p->pre.buf);
		free(p->pre.id);
	}
	free(p);
}

int pitr_doc_put_prepared(pitr_txn *t, uint64_t ct, const char *id,
			  size_t idlen, const pitr_prepared *p)
{
	int rc;

	t->err[0] = 0;
	rc = writable_ct(t, ct, id, idlen);
	if (rc)
		return rc;
	return doc_put_body(t, ct, id, idlen, p->raw, p->rec.size, p->rec.etag,
			    &p->rec, &p->pre);
}

int pitr_doc_delete(pitr_txn *t, uint64_t ct, const char *id, size_t idlen)
{
	MDB_val val;
	uint32_t idx;
	int rc;

	rc = writable_ct(t, ct, id, idlen);
	if (rc)
		return rc;
	rc = live_get(t, ct, LIVE_DOC, id, idlen, &val);
	if (rc)
		return rc;
	if ((rc = log_append(t, OP_DOC_DEL, ct, 0, id, idlen, NULL, 0, 0,
			     &idx)) ||
	    (rc = version_put(t, ct, id, idlen, OP_DOC_DEL, idx, 0, 0)))
		return rc;
	return live_del(t, ct, LIVE_DOC, id, idlen);
}

/* Where the version of (ct, id) visible at `at` is: its log key. */
static int doc_find(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		    uint64_t at, pitr_version *v, uint32_t *idx)
{
	struct tcur c;
	MDB_val key, val;
	int rc;

	if (pitr_name_check(id, idlen))
		return PITR_NOTFOUND;
	if ((rc = at_readable(t, at)))
		return rc;
	if (at == PITR_NOW) {
		rc = live_get(t, ct, LIVE_DOC, id, idlen, &val);
		if (rc)
			return rc;
		struct live_doc ld;
		if (live_doc_decode(&val, &ld, store_compact(t->s)))
			return PITR_CORRUPT;
		v->ts = ld.ts;
		*idx = ld.idx;
		v->size = ld.size;
		v->etag = ld.etag;
		v->deleted = 0;
		return 0;
	}
	rc = mdb_rc(tcur_open(t->txn, t->s->versions, &c));
	if (rc)
		return rc;
	rc = seek_at(&c, ct, id, idlen, VER_SUFFIX, at, &key, &val);
	struct ver_rec vr;
	if (!rc)
		rc = ver_decode(&val, &vr, ver_form(t->s));
	if (!rc) {
		v->ts = ~get_be64((unsigned char *)key.mv_data + 9 + idlen);
		*idx = vr.idx;
		v->deleted = vr.op == OP_DOC_DEL;
		v->size = vr.size;
		v->etag = vr.etag;
		if (v->deleted)
			rc = PITR_NOTFOUND;
	}
	tcur_close(&c);
	return rc;
}

int pitr_doc_stat(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		  uint64_t at, pitr_version *v)
{
	uint32_t idx;

	return doc_find(t, ct, id, idlen, at, v, &idx);
}

/* The log record of a version, checked against what points at it. */
static int doc_record(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		      const pitr_version *v, uint32_t idx, struct log_rec *r)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	key_log(k, v->ts, idx);
	rc = mdb_rc(mdb_get(t->txn, t->s->log, &key, &val));
	if (rc)
		return rc == PITR_NOTFOUND ? PITR_CORRUPT : rc;
	rc = log_decode(&key, &val, r);
	if (rc) {
		snprintf(t->err, sizeof(t->err),
			 "record of '%.*s' fails its checksum",
			 (int)(idlen > 64 ? 64 : idlen), id);
		return rc;
	}
	log_claim(r, ct, id, idlen, v->etag);
	if (r->op != OP_DOC_PUT || r->parent != ct || r->namelen != idlen ||
	    memcmp(r->name, id, idlen) || r->etag != v->etag ||
	    r->size != v->size)
		return PITR_CORRUPT;
	return 0;
}

int pitr_doc_get(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		 uint64_t at, pitr_version *v, void **body, size_t *len)
{
	pitr_version ver;
	struct log_rec r;
	uint32_t idx;
	int rc;

	t->err[0] = 0;
	rc = doc_find(t, ct, id, idlen, at, &ver, &idx);
	if (!rc)
		rc = doc_record(t, ct, id, idlen, &ver, idx, &r);
	if (!rc)
		rc = log_body(t, &r, body, len);
	if (!rc && v)
		*v = ver;
	return rc;
}

int doc_put_stored(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		   const struct log_rec *r)
{
	uint32_t idx;
	int rc;

	if ((rc = log_append_stored(t, OP_DOC_PUT, ct, id, idlen, r, &idx)) ||
	    (rc = version_put(t, ct, id, idlen, OP_DOC_PUT, idx, r->size,
			      r->etag)))
		return rc;
	return live_doc_put(t, ct, id, idlen, idx, r->size, r->etag);
}

int pitr_doc_rename(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		    uint64_t toct, const char *toid, size_t tolen)
{
	pitr_version v;
	struct log_rec r;
	void *copy;
	uint32_t idx;
	int rc;

	if ((rc = writable_ct(t, ct, id, idlen)) ||
	    (rc = writable_ct(t, toct, toid, tolen)))
		return rc;
	rc = doc_find(t, ct, id, idlen, PITR_NOW, &v, &idx);
	if (rc || (ct == toct && idlen == tolen && !memcmp(id, toid, idlen)))
		return rc;
	rc = doc_record(t, ct, id, idlen, &v, idx, &r);
	/* A delta is stored under the new name as a keyframe: its base is a
	 * version of the old name. */
	if (!rc)
		rc = log_standalone(t, &r, NULL, &copy);
	if (rc)
		return rc;
	/* The record lives in the map, which the writes below may move. */
	if (!copy) {
		copy = malloc(r.stored ? r.stored : 1);
		if (!copy)
			return ENOMEM;
		memcpy(copy, r.body, r.stored);
		r.body = copy;
	}
	rc = doc_put_stored(t, toct, toid, tolen, &r);
	free(copy);
	return rc ? rc : pitr_doc_delete(t, ct, id, idlen);
}

int pitr_doc_copy(pitr_txn *dst, uint64_t ct, pitr_txn *src, uint64_t srcct,
		  const char *id, size_t idlen, uint64_t at)
{
	pitr_version v;
	struct log_rec r;
	uint32_t idx;
	int rc;

	if ((rc = writable_ct(dst, ct, id, idlen)) ||
	    (rc = doc_find(src, srcct, id, idlen, at, &v, &idx)))
		return rc;
	/* Damage must not travel into the copy: the record's checksum is
	 * checked as it is decoded. */
	rc = doc_record(src, srcct, id, idlen, &v, idx, &r);
	/* The copy refers to nothing of the source: a delta goes as a
	 * keyframe. */
	void *buf = NULL;
	if (!rc)
		rc = log_standalone(src, &r, NULL, &buf);
	if (rc) {
		snprintf(dst->err, sizeof(dst->err), "%s", src->err);
		return rc;
	}
	rc = doc_put_stored(dst, ct, id, idlen, &r);
	free(buf);
	return rc;
}

/*
 * Scratch files
 */

int pitr_scratch_put(pitr_txn *t, uint64_t ct, const char *name, size_t len,
		     const void *data, size_t dlen)
{
	unsigned char k[KEY_MAX];
	MDB_val key = { key_live(k, ct, LIVE_SCRATCH, name, len), k };
	MDB_val val = { LIVE_SCRATCH_HDR + dlen, NULL };
	int rc;

	rc = writable_ct(t, ct, name, len);
	if (rc)
		return rc;
	if (dlen > pitr_store_max_scratch(t->s))
		return PITR_TOOBIG;
	rc = mdb_rc(mdb_put(t->txn, t->s->live, &key, &val, MDB_RESERVE));
	if (rc)
		return rc;
	put_le64(val.mv_data, t->ts);
	if (dlen)
		memcpy((char *)val.mv_data + LIVE_SCRATCH_HDR, data, dlen);
	return 0;
}

/* The stored value of scratch file (ct, name). */
static int scratch_val(pitr_txn *t, uint64_t ct, const char *name, size_t len,
		       MDB_val *val)
{
	if (pitr_name_check(name, len))
		return PITR_NOTFOUND;
	return live_get(t, ct, LIVE_SCRATCH, name, len, val);
}

int pitr_scratch_stat(pitr_txn *t, uint64_t ct, const char *name, size_t len,
		      size_t *dlen, uint64_t *mtime)
{
	MDB_val val;
	const void *data;
	uint64_t mt;
	int rc = scratch_val(t, ct, name, len, &val);

	if (!rc)
		rc = scratch_decode(&val, &mt, &data, dlen);
	if (!rc && mtime)
		*mtime = mt;
	return rc;
}

int pitr_scratch_get(pitr_txn *t, uint64_t ct, const char *name, size_t len,
		     void **data, size_t *dlen, uint64_t *mtime)
{
	MDB_val val;
	const void *stored;
	uint64_t mt;
	int rc = scratch_val(t, ct, name, len, &val);

	if (!rc)
		rc = scratch_decode(&val, &mt, &stored, dlen);
	if (rc)
		return rc;
	*data = malloc(*dlen ? *dlen : 1);
	if (!*data)
		return ENOMEM;
	memcpy(*data, stored, *dlen);
	if (mtime)
		*mtime = mt;
	return 0;
}

int pitr_scratch_delete(pitr_txn *t, uint64_t ct, const char *name, size_t len)
{
	if (!t->ts)
		return PITR_RDONLY;
	if (pitr_name_check(name, len))
		return PITR_NOTFOUND;
	return live_del(t, ct, LIVE_SCRATCH, name, len);
}

int pitr_scratch_promote(pitr_txn *t, uint64_t ct, const char *name, size_t len,
			 uint64_t toct, const char *id, size_t idlen)
{
	void *data;
	size_t dlen;
	int rc;

	if (!t->ts)
		return PITR_RDONLY;
	rc = pitr_scratch_get(t, ct, name, len, &data, &dlen, NULL);
	if (rc)
		return rc;
	rc = pitr_doc_put(t, toct, id, idlen, data, dlen);
	free(data);
	return rc ? rc : live_del(t, ct, LIVE_SCRATCH, name, len);
}

int doc_replay(pitr_txn *t, const struct log_rec *r, uint32_t idx)
{
	int rc;

	if (r->op == OP_DOC_PUT) {
		rc = version_put(t, r->parent, r->name, r->namelen, OP_DOC_PUT,
				 idx, r->size, r->etag);
		return rc ? rc
			  : live_doc_put(t, r->parent, r->name, r->namelen, idx,
					 r->size, r->etag);
	}
	rc = version_put(t, r->parent, r->name, r->namelen, OP_DOC_DEL, idx, 0,
			 0);
	if (!rc)
		rc = live_del(t, r->parent, LIVE_DOC, r->name, r->namelen);
	return rc == PITR_NOTFOUND ? 0 : rc;
}
