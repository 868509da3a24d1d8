/*
 * codec.c - the one encoder and decoder of each record of the store's
 * indexes and meta table: keys of every table, versions, names, live and
 * incs values, and meta values (the log record's pair is in log.c, the
 * backup media's in backup.c). Layouts are in internal.h.
 *
 * Every decoder checks each length and field before it reads, and returns
 * PITR_CORRUPT for anything malformed; pointers it returns point into the
 * bytes it was given. None asserts or aborts on data: what is decoded
 * comes from disk.
 */
#include "internal.h"

/*
 * Keys
 */

size_t key_named(unsigned char *k, uint64_t parent, const char *name,
		 size_t len, uint64_t ts)
{
	put_be64(k, parent);
	memcpy(k + 8, name, len);
	k[8 + len] = 0;
	/* Inverted so the newest entry sorts first within a name. */
	put_be64(k + 9 + len, ~ts);
	return 17 + len;
}

size_t key_event(unsigned char *k, uint64_t parent, const char *name,
		 size_t len, uint64_t ts, uint32_t idx)
{
	size_t n = key_named(k, parent, name, len, ts);

	put_be32(k + n, ~idx);
	return n + 4;
}

size_t key_live(unsigned char *k, uint64_t ct, int type, const char *name,
		size_t len)
{
	put_be64(k, ct);
	k[8] = (unsigned char)type;
	memcpy(k + 9, name, len);
	return 9 + len;
}

void key_log(unsigned char *k, uint64_t ts, uint32_t idx)
{
	put_be64(k, ts);
	put_be32(k + 8, idx);
}

int log_key_decode(const MDB_val *k, uint64_t *ts, uint32_t *idx)
{
	const unsigned char *p = k->mv_data;

	if (k->mv_size != 12)
		return PITR_CORRUPT;
	*ts = get_be64(p);
	*idx = get_be32(p + 8);
	return 0;
}

/* (parent, name, 0x00, suffix): the parent, the name, its length. */
static int named_key_decode(const MDB_val *k, size_t suffix, uint64_t *parent,
			    const char **name, size_t *len)
{
	const unsigned char *p = k->mv_data;

	if (k->mv_size < 8 + 1 + 1 + suffix ||
	    k->mv_size > 8 + PITR_NAME_MAX + 1 + suffix)
		return PITR_CORRUPT;
	*len = k->mv_size - 9 - suffix;
	*name = (const char *)p + 8;
	if (p[8 + *len] || pitr_name_check(*name, *len))
		return PITR_CORRUPT;
	*parent = get_be64(p);
	return 0;
}

int live_key_decode(const MDB_val *k, struct live_key *lk)
{
	const unsigned char *p = k->mv_data;

	if (k->mv_size < 9 || k->mv_size > 9 + PITR_NAME_MAX)
		return PITR_CORRUPT;
	lk->ct = get_be64(p);
	lk->type = p[8];
	lk->name = (const char *)p + 9;
	lk->namelen = k->mv_size - 9;
	if (lk->type == LIVE_LEFT)
		return lk->namelen ? PITR_CORRUPT : 0;
	if (lk->type != LIVE_DOC && lk->type != LIVE_SCRATCH)
		return PITR_CORRUPT;
	return pitr_name_check(lk->name, lk->namelen) ? PITR_CORRUPT : 0;
}

/*
 * versions
 */

size_t ver_encode(unsigned char *v, const struct ver_rec *r, int form)
{
	unsigned char *p = v;

	if (form == VER_ITEM) {
		put_le32(v, r->idx);
		put_le32(v + 4, r->op == OP_DOC_PUT ? r->size : VER_GONE);
		put_le64(v + 8, r->op == OP_DOC_PUT ? r->etag : 0);
		return VER_ITEM_VAL;
	}
	if (form == VER_FIXED) {
		put_le32(v, r->idx);
		v[4] = (unsigned char)r->op;
		put_le32(v + 5, r->size);
		put_le64(v + 9, r->etag);
		return VER_VAL;
	}
	p = uvar_put(p, r->idx);
	if (r->op == OP_DOC_PUT) {
		p = uvar_put(p, r->size);
		put_le64(p, r->etag);
		p += 8;
	}
	return (size_t)(p - v);
}

int ver_decode(const MDB_val *v, struct ver_rec *r, int form)
{
	const unsigned char *p = v->mv_data, *end = p + v->mv_size;
	uint64_t idx, size;

	if (form == VER_ITEM) {
		if (v->mv_size != VER_ITEM_VAL)
			return PITR_CORRUPT;
		r->idx = get_le32(p);
		r->size = get_le32(p + 4);
		r->etag = get_le64(p + 8);
		r->op = r->size == VER_GONE ? OP_DOC_DEL : OP_DOC_PUT;
		if (r->op == OP_DOC_DEL && r->etag)
			return PITR_CORRUPT;
		if (r->op == OP_DOC_DEL)
			r->size = 0;
		return 0;
	}
	if (form == VER_FIXED) {
		if (v->mv_size != VER_VAL ||
		    (p[4] != OP_DOC_PUT && p[4] != OP_DOC_DEL))
			return PITR_CORRUPT;
		r->idx = get_le32(p);
		r->op = p[4];
		r->size = get_le32(p + 5);
		r->etag = get_le64(p + 9);
		return 0;
	}
	if (uvar_get(&p, end, &idx) || idx > UINT32_MAX)
		return PITR_CORRUPT;
	r->idx = (uint32_t)idx;
	if (p == end) {
		r->op = OP_DOC_DEL;
		r->size = 0;
		r->etag = 0;
		return 0;
	}
	if (uvar_get(&p, end, &size) || size > UINT32_MAX || end - p != 8)
		return PITR_CORRUPT;
	r->op = OP_DOC_PUT;
	r->size = (uint32_t)size;
	r->etag = get_le64(p);
	return 0;
}

int ver_entry_decode(const MDB_val *key, const MDB_val *val,
		     struct ver_entry *e, int form)
{
	int rc = named_key_decode(key, VER_SUFFIX, &e->ct, &e->id, &e->idlen);

	if (rc)
		return rc;
	e->ts = ~get_be64((const unsigned char *)key->mv_data + 9 + e->idlen);
	return val ? ver_decode(val, &e->v, form) : 0;
}

/*
 * names
 */

void name_encode(unsigned char *v, int op, uint64_t inc)
{
	v[0] = (unsigned char)op;
	put_le64(v + 1, inc);
}

int name_decode(const MDB_val *v, int *op, uint64_t *inc)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size != NAME_VAL ||
	    (p[0] != NAME_CREATE && p[0] != NAME_DELETE))
		return PITR_CORRUPT;
	*op = p[0];
	*inc = get_le64(p + 1);
	return 0;
}

int name_entry_decode(const MDB_val *key, const MDB_val *val,
		      struct name_entry *e)
{
	const unsigned char *p = key->mv_data;
	int rc = named_key_decode(key, NAME_SUFFIX, &e->parent, &e->name,
				  &e->namelen);

	if (rc)
		return rc;
	e->ts = ~get_be64(p + 9 + e->namelen);
	e->idx = ~get_be32(p + 17 + e->namelen);
	return val ? name_decode(val, &e->op, &e->inc) : 0;
}

/*
 * live
 */

size_t live_doc_encode(unsigned char *v, const struct live_doc *d,
		       int compact)
{
	unsigned char *p = v + 8;

	put_le64(v, d->ts);
	if (compact) {
		p = uvar_put(p, d->idx);
		p = uvar_put(p, d->size);
	} else {
		put_le32(p, d->idx);
		put_le32(p + 4, d->size);
		p += 8;
	}
	put_le64(p, d->etag);
	return (size_t)(p + 8 - v);
}

int live_doc_decode(const MDB_val *v, struct live_doc *d, int compact)
{
	const unsigned char *p = v->mv_data, *end = p + v->mv_size, *q;
	uint64_t idx, size;

	if (!compact) {
		if (v->mv_size != LIVE_DOC_VAL)
			return PITR_CORRUPT;
		d->ts = get_le64(p);
		d->idx = get_le32(p + 8);
		d->size = get_le32(p + 12);
		d->etag = get_le64(p + 16);
		return 0;
	}
	if (v->mv_size < 8 + 2 + 8)
		return PITR_CORRUPT;
	q = p + 8;
	if (uvar_get(&q, end, &idx) || idx > UINT32_MAX ||
	    uvar_get(&q, end, &size) || size > UINT32_MAX || end - q != 8)
		return PITR_CORRUPT;
	d->ts = get_le64(p);
	d->idx = (uint32_t)idx;
	d->size = (uint32_t)size;
	d->etag = get_le64(q);
	return 0;
}

int live_left_decode(const MDB_val *v, uint64_t *ts)
{
	return u64_decode(v, ts);
}

int scratch_decode(const MDB_val *v, uint64_t *mtime, const void **data,
		   size_t *len)
{
	if (v->mv_size < LIVE_SCRATCH_HDR)
		return PITR_CORRUPT;
	*mtime = get_le64(v->mv_data);
	*data = (const unsigned char *)v->mv_data + LIVE_SCRATCH_HDR;
	*len = v->mv_size - LIVE_SCRATCH_HDR;
	return 0;
}

/*
 * incs
 */

size_t inc_encode(unsigned char *v, const struct inc_rec *r)
{
	if (!r->namelen || r->namelen > PITR_NAME_MAX ||
	    (r->kind != INC_DB && r->kind != INC_CT))
		return 0;
	v[0] = (unsigned char)r->kind;
	put_le64(v + 1, r->parent);
	put_le64(v + 9, r->created);
	put_le64(v + 17, r->deleted);
	memcpy(v + INC_HDR, r->name, r->namelen);
	return INC_HDR + r->namelen;
}

int inc_decode(const MDB_val *v, struct inc_rec *r)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size <= INC_HDR || v->mv_size > INC_MAX ||
	    (p[0] != INC_DB && p[0] != INC_CT))
		return PITR_CORRUPT;
	r->kind = p[0];
	r->parent = get_le64(p + 1);
	r->created = get_le64(p + 9);
	r->deleted = get_le64(p + 17);
	r->name = (const char *)p + INC_HDR;
	r->namelen = v->mv_size - INC_HDR;
	return pitr_name_check(r->name, r->namelen) ? PITR_CORRUPT : 0;
}

int inc_key_decode(const MDB_val *k, uint64_t *inc)
{
	if (k->mv_size != 8)
		return PITR_CORRUPT;
	*inc = get_be64(k->mv_data);
	return 0;
}

/*
 * meta values
 */

int u64_decode(const MDB_val *v, uint64_t *x)
{
	if (v->mv_size != 8)
		return PITR_CORRUPT;
	*x = get_le64(v->mv_data);
	return 0;
}

int u32_decode(const MDB_val *v, uint32_t *x)
{
	if (v->mv_size != 4)
		return PITR_CORRUPT;
	*x = get_le32(v->mv_data);
	return 0;
}

void policy_encode(unsigned char *b, const pitr_policy *p)
{
	b[0] = (unsigned char)p->mode;
	put_le64(b + 1, p->retention);
	put_le64(b + 9, p->interval);
}

int policy_decode(const MDB_val *v, pitr_policy *p)
{
	const unsigned char *b = v->mv_data;

	if (v->mv_size != POLICY_VAL ||
	    (b[0] != PITR_CONTINUOUS && b[0] != PITR_PERIODIC))
		return PITR_CORRUPT;
	p->mode = b[0];
	p->retention = get_le64(b + 1);
	p->interval = get_le64(b + 9);
	return pitr_policy_check(p) ? PITR_CORRUPT : 0;
}

int prune_next_decode(const MDB_val *v, uint64_t *ts, uint32_t *idx)
{
	if (v->mv_size != 12)
		return PITR_CORRUPT;
	*ts = get_le64(v->mv_data);
	*idx = get_le32((const unsigned char *)v->mv_data + 8);
	return 0;
}

void prune_next_encode(unsigned char *v, uint64_t ts, uint32_t idx)
{
	put_le64(v, ts);
	put_le32(v + 8, idx);
}

int shipped_ts_decode(const MDB_val *v, uint64_t *x)
{
	const unsigned char *p = v->mv_data;
	uint64_t n = 0;

	if (v->mv_size == 0 || v->mv_size > 20)
		return PITR_CORRUPT;
	for (size_t i = 0; i < v->mv_size; i++) {
		unsigned d = p[i] - (unsigned)'0';
		if (d > 9 || n > (UINT64_MAX - d) / 10)
			return PITR_CORRUPT;
		n = n * 10 + d;
	}
	*x = n;
	return 0;
}
