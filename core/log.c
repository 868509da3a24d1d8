/*
 * log.c - the mutation log: every mutation, in commit
 * order, with its body lz4-compressed and hashed with XXH3.
 */
#include <errno.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#include "internal.h"


int seek_at(MDB_cursor *c, uint64_t parent, const char *name, size_t len,
	    size_t suffix, uint64_t at, MDB_val *key, MDB_val *val)
{
	unsigned char k[KEY_MAX];
	size_t prefix = 9 + len;
	int rc;

	key->mv_size = key_named(k, parent, name, len, at);
	key->mv_data = k;
	rc = mdb_cursor_get(c, key, val, MDB_SET_RANGE);
	if (rc)
		return mdb_rc(rc);
	if (key->mv_size != prefix + suffix || memcmp(key->mv_data, k, prefix))
		return PITR_NOTFOUND;
	return 0;
}

int log_decode(const MDB_val *v, struct log_rec *r)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size < LOG_HDR)
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
	    v->mv_size != LOG_HDR + r->namelen + r->stored + LOG_SUM ||
	    r->op < OP_DOC_PUT || r->op > OP_CT_DELETE + 1 ||
	    XXH3_64bits(p, v->mv_size - LOG_SUM) !=
		get_le64(p + v->mv_size - LOG_SUM))
		return PITR_CORRUPT;
	/* Earlier builds logged the create half of a rename as its delete's
	 * op + 1: 7 for a container, 5 with no parent for a database. Both
	 * are unambiguous, and the records are intact. */
	if (r->op == OP_CT_DELETE + 1)
		r->op = OP_CT_CREATE;
	else if (r->op == OP_CT_CREATE && r->parent == 0)
		r->op = OP_DB_CREATE;
	r->name = (const char *)p + LOG_HDR;
	r->body = p + LOG_HDR + r->namelen;
	return 0;
}

/* Write `r` (body already in stored form) under the next index. */
static int log_put(pitr_txn *t, const struct log_rec *r, uint32_t *idx)
{
	unsigned char k[12], *p;
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	key_log(k, t->ts, t->idx);
	val.mv_size = LOG_HDR + r->namelen + r->stored + LOG_SUM;
	/* Timestamps only grow, so every record is appended at the end. */
	rc = mdb_put(t->txn, t->s->log, &key, &val, MDB_APPEND | MDB_RESERVE);
	if (rc)
		return mdb_rc(rc);
	p = val.mv_data;
	p[0] = (unsigned char)r->op;
	p[1] = (unsigned char)r->flags;
	p[2] = (unsigned char)r->namelen;
	p[3] = (unsigned char)(r->namelen >> 8);
	put_le64(p + 4, r->parent);
	put_le64(p + 12, r->inc);
	put_le32(p + 20, r->size);
	put_le32(p + 24, r->stored);
	put_le64(p + 28, r->etag);
	memcpy(p + LOG_HDR, r->name, r->namelen);
	if (r->stored)
		memcpy(p + LOG_HDR + r->namelen, r->body, r->stored);
	put_le64(p + val.mv_size - LOG_SUM,
		 XXH3_64bits(p, val.mv_size - LOG_SUM));
	*idx = t->idx++;
	return 0;
}

void log_pack(struct log_rec *r, const void *body, size_t size, char *buf,
	      int bound)
{
	int n = size ? LZ4_compress_default(body, buf, (int)size, bound) : 0;

	r->size = (uint32_t)size;
	/* Kept raw when compression does not pay. */
	if (n > 0 && (size_t)n < size) {
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
	char small[8192], *buf = small;
	int bound = size ? LZ4_compressBound((int)size) : 0, rc;

	if (bound > (int)sizeof(small) && !(buf = malloc(bound)))
		return ENOMEM;
	log_pack(&r, body, size, buf, bound);
	rc = log_put(t, &r, idx);
	if (buf != small)
		free(buf);
	return rc;
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

static int log_check(const struct log_rec *r, void *buf)
{
	if (r->flags & LOG_LZ4) {
		int n = LZ4_decompress_safe(r->body, buf, (int)r->stored,
					    (int)r->size);
		if (n < 0 || (uint32_t)n != r->size)
			return PITR_CORRUPT;
	} else if (r->stored == r->size) {
		memcpy(buf, r->body, r->size);
	} else {
		return PITR_CORRUPT;
	}
	return XXH3_64bits(buf, r->size) == r->etag ? 0 : PITR_CORRUPT;
}

int log_body(pitr_txn *t, const struct log_rec *r, void **body, size_t *len)
{
	char *out = malloc(r->size ? r->size : 1);

	if (!out)
		return ENOMEM;
	if (log_check(r, out) == 0) {
		*body = out;
		*len = r->size;
		return 0;
	}
	free(out);
	log_damage(t, r);
	return PITR_CORRUPT;
}

void log_damage(pitr_txn *t, const struct log_rec *r)
{
	snprintf(t->err, sizeof(t->err), "body of '%.*s' fails its checksum",
		 (int)(r->namelen > 64 ? 64 : r->namelen), r->name);
}
