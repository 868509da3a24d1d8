/*
 * catalog.c - databases and containers, each name a sequence of
 * incarnations in time; and the listings of names and documents at any
 * instant.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

static int inc_put(pitr_txn *t, uint64_t inc, const struct inc_rec *r)
{
	unsigned char k[8], v[INC_MAX];
	MDB_val key = { 8, k }, val = { inc_encode(v, r), v };

	if (!val.mv_size)
		return PITR_CORRUPT;
	put_be64(k, inc);
	return mdb_rc(mdb_put(t->txn, t->s->incs, &key, &val, 0));
}

int inc_get(pitr_txn *t, uint64_t inc, struct inc_rec *r)
{
	unsigned char k[8];
	MDB_val key = { 8, k }, val;
	int rc;

	put_be64(k, inc);
	rc = mdb_rc(mdb_get(t->txn, t->s->incs, &key, &val));
	return rc ? rc : inc_decode(&val, r);
}

/* Is `inc` a live incarnation of `kind`? 0 or PITR_NOTFOUND. */
static int inc_alive(pitr_txn *t, uint64_t inc, int kind)
{
	struct inc_rec r;
	int rc = inc_get(t, inc, &r);

	if (rc)
		return rc;
	return r.kind == kind && r.deleted == 0 ? 0 : PITR_NOTFOUND;
}

int ct_alive(pitr_txn *t, uint64_t ct)
{
	return inc_alive(t, ct, INC_CT);
}

/* Mark the incarnation deleted (deleted != 0) or rename it. */
static int inc_update(pitr_txn *t, uint64_t inc, uint64_t parent,
		      uint64_t deleted, const char *name, size_t len)
{
	char copy[PITR_NAME_MAX];
	struct inc_rec r;
	int rc = inc_get(t, inc, &r);

	if (rc)
		return rc;
	if (name) {
		r.name = name;
		r.namelen = len;
	}
	if (r.namelen > sizeof(copy))
		return PITR_CORRUPT;
	/* the old name lives in the page mdb_put may overwrite */
	memcpy(copy, r.name, r.namelen);
	r.name = copy;
	r.parent = parent;
	r.deleted = deleted;
	return inc_put(t, inc, &r);
}

static int name_lookup(pitr_txn *t, uint64_t at, uint64_t parent,
		       const char *name, size_t len, uint64_t *inc)
{
	struct tcur c;
	MDB_val key, val;
	int rc;

	if (pitr_name_check(name, len))
		return PITR_NOTFOUND;
	if ((rc = at_readable(t, at)))
		return rc;
	rc = mdb_rc(tcur_open(t->txn, t->s->names, &c));
	if (rc)
		return rc;
	rc = seek_at(&c, parent, name, len, NAME_SUFFIX, at, &key, &val);
	int op = 0;
	uint64_t id = 0;
	if (!rc)
		rc = name_decode(&val, &op, &id);
	if (!rc && op != NAME_CREATE)
		rc = PITR_NOTFOUND;
	if (!rc && inc)
		*inc = id;
	tcur_close(&c);
	return rc;
}

static int name_put(pitr_txn *t, uint64_t parent, const char *name, size_t len,
		    int op, uint64_t inc)
{
	unsigned char k[KEY_MAX], v[NAME_VAL];
	MDB_val key = { key_event(k, parent, name, len, t->ts, t->idx), k };
	MDB_val val = { NAME_VAL, v };

	name_encode(v, op, inc);
	return mdb_rc(mdb_put(t->txn, t->s->names, &key, &val, 0));
}

static int named_create(pitr_txn *t, int kind, uint64_t parent,
			const char *name, size_t len, uint64_t *inc)
{
	uint32_t idx;
	uint64_t id;
	int rc;

	if (!t->ts)
		return PITR_RDONLY;
	if (pitr_name_check(name, len))
		return PITR_BADNAME;
	if (kind == INC_CT && (rc = inc_alive(t, parent, INC_DB)))
		return rc;
	rc = name_lookup(t, PITR_NOW, parent, name, len, NULL);
	if (rc != PITR_NOTFOUND)
		return rc ? rc : PITR_EXISTS;
	id = t->next_inc++;
	t->dirty_meta = 1;
	if ((rc = name_put(t, parent, name, len, NAME_CREATE, id)) ||
	    (rc = inc_put(t, id,
			  &(struct inc_rec){ kind, parent, t->ts, 0, name, len })) ||
	    (rc = log_append(t, kind == INC_DB ? OP_DB_CREATE : OP_CT_CREATE,
			     parent, id, name, len, NULL, 0, 0, &idx)))
		return rc;
	if (inc)
		*inc = id;
	return 0;
}

/* Does any live container remain in database `db`? */
static int db_empty(pitr_txn *t, uint64_t db)
{
	pitr_iter *it;
	pitr_entry e;
	int rc = pitr_iter_begin(t, PITR_LIST_CONTAINERS, db, PITR_NOW, NULL, 0,
				 0, &it);

	if (rc)
		return rc;
	rc = pitr_iter_next(it, &e);
	pitr_iter_end(it);
	if (rc == PITR_NOTFOUND)
		return 0;
	return rc ? rc : PITR_NOTEMPTY;
}

static int ct_empty(pitr_txn *t, uint64_t ct)
{
	unsigned char k[8];
	MDB_val key = { 8, k }, val;
	MDB_cursor *c;
	int rc;

	put_be64(k, ct);
	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->live, &c));
	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc == 0) /* documents and scratch files have names */
		rc = key.mv_size > 9 && get_be64(key.mv_data) == ct
			 ? PITR_NOTEMPTY
			 : 0;
	else
		rc = mdb_rc(rc);
	mdb_cursor_close(c);
	return rc;
}

static int named_delete(pitr_txn *t, int kind, uint64_t parent,
			const char *name, size_t len)
{
	uint64_t inc;
	uint32_t idx;
	int rc;

	if (!t->ts)
		return PITR_RDONLY;
	rc = name_lookup(t, PITR_NOW, parent, name, len, &inc);
	if (rc)
		return rc;
	rc = kind == INC_DB ? db_empty(t, inc) : ct_empty(t, inc);
	if (rc)
		return rc;
	if ((rc = name_put(t, parent, name, len, NAME_DELETE, inc)) ||
	    (rc = inc_update(t, inc, parent, t->ts, NULL, 0)))
		return rc;
	return log_append(t, kind == INC_DB ? OP_DB_DELETE : OP_CT_DELETE,
			  parent, inc, name, len, NULL, 0, 0, &idx);
}

static int named_rename(pitr_txn *t, int kind, uint64_t parent,
			const char *from, size_t flen, uint64_t toparent,
			const char *to, size_t tlen)
{
	int del = kind == INC_DB ? OP_DB_DELETE : OP_CT_DELETE;
	int create = kind == INC_DB ? OP_DB_CREATE : OP_CT_CREATE;
	uint64_t inc;
	uint32_t idx;
	int rc;

	if (!t->ts)
		return PITR_RDONLY;
	if (pitr_name_check(to, tlen))
		return PITR_BADNAME;
	rc = name_lookup(t, PITR_NOW, parent, from, flen, &inc);
	if (rc)
		return rc;
	if (parent == toparent && flen == tlen && !memcmp(from, to, flen))
		return 0;
	if (kind == INC_CT && (rc = inc_alive(t, toparent, INC_DB)))
		return rc;
	rc = name_lookup(t, PITR_NOW, toparent, to, tlen, NULL);
	if (rc != PITR_NOTFOUND)
		return rc ? rc : PITR_EXISTS;
	/* The incarnation moves: history shows it under the old name before
	 * this instant and under the new one from it on. Each names entry
	 * carries its event's log index: name_put, then its log_append. */
	if ((rc = name_put(t, parent, from, flen, NAME_DELETE, inc)) ||
	    (rc = log_append(t, del, parent, inc, from, flen, NULL, 0, 0,
			     &idx)) ||
	    (rc = name_put(t, toparent, to, tlen, NAME_CREATE, inc)) ||
	    (rc = log_append(t, create, toparent, inc, to, tlen, NULL, 0, 0,
			     &idx)))
		return rc;
	return inc_update(t, inc, toparent, 0, to, tlen);
}

int pitr_db_create(pitr_txn *t, const char *name, size_t len, uint64_t *inc)
{
	return named_create(t, INC_DB, 0, name, len, inc);
}

int pitr_db_delete(pitr_txn *t, const char *name, size_t len)
{
	return named_delete(t, INC_DB, 0, name, len);
}

int pitr_db_lookup(pitr_txn *t, uint64_t at, const char *name, size_t len,
		   uint64_t *inc)
{
	return name_lookup(t, at, 0, name, len, inc);
}

int pitr_db_rename(pitr_txn *t, const char *from, size_t flen, const char *to,
		   size_t tlen)
{
	return named_rename(t, INC_DB, 0, from, flen, 0, to, tlen);
}

int pitr_ct_create(pitr_txn *t, uint64_t db, const char *name, size_t len,
		   uint64_t *inc)
{
	return named_create(t, INC_CT, db, name, len, inc);
}

int pitr_ct_delete(pitr_txn *t, uint64_t db, const char *name, size_t len)
{
	return named_delete(t, INC_CT, db, name, len);
}

int pitr_ct_lookup(pitr_txn *t, uint64_t at, uint64_t db, const char *name,
		   size_t len, uint64_t *inc)
{
	return name_lookup(t, at, db, name, len, inc);
}

int pitr_ct_rename(pitr_txn *t, uint64_t db, const char *from, size_t flen,
		   uint64_t todb, const char *to, size_t tlen)
{
	return named_rename(t, INC_CT, db, from, flen, todb, to, tlen);
}

/*
 * Listings
 */

struct pitr_iter {
	pitr_txn *t;
	struct tcur c;
	enum pitr_list_kind kind;
	uint64_t parent, at;
	int live;	/* documents at PITR_NOW: a scan of the live table */
	int merged;	/* documents at `at`, none gone since: the live table,
			   and versions for those changed since */
	struct tcur vc; /* merged: on versions */
	int started;
	int on_name;   /* history: the cursor is on an entry of `name` */
	int type;      /* live scan: type of the last entry */
	size_t len;    /* the last name returned */
	uint32_t idx;  /* documents: the listed version's log index */
	size_t suffix; /* of the table's keys after (parent, name, 0) */
	char name[PITR_NAME_MAX + 1];
};

uint32_t iter_log_idx(const pitr_iter *it)
{
	return it->idx;
}

int pitr_iter_begin(pitr_txn *t, enum pitr_list_kind kind, uint64_t parent,
		    uint64_t at, const char *after, size_t afterlen,
		    int after_scratch, pitr_iter **out)
{
	pitr_iter *it;
	MDB_dbi dbi;
	int rc;

	if (afterlen > PITR_NAME_MAX)
		return PITR_BADNAME;
	if ((rc = at_readable(t, at)))
		return rc;
	it = calloc(1, sizeof(*it));
	if (!it)
		return ENOMEM;
	it->t = t;
	it->kind = kind;
	it->parent = kind == PITR_LIST_DATABASES ? 0 : parent;
	it->at = at;
	it->live = kind == PITR_LIST_DOCUMENTS && at == PITR_NOW;
	it->suffix = kind == PITR_LIST_DOCUMENTS ? VER_SUFFIX : NAME_SUFFIX;
	if (after) {
		memcpy(it->name, after, afterlen);
		it->len = afterlen;
		it->type = after_scratch ? LIVE_SCRATCH : LIVE_DOC;
		it->started = 1;
	}
	if (kind == PITR_LIST_DOCUMENTS && !it->live && t->s->format >= 2) {
		unsigned char k[9];
		MDB_val key = { key_live(k, parent, LIVE_LEFT, "", 0), k }, val;

		rc = mdb_rc(mdb_get(t->txn, t->s->live, &key, &val));
		if (rc && rc != PITR_NOTFOUND) {
			free(it);
			return rc;
		}
		uint64_t left;
		it->merged = rc == PITR_NOTFOUND ||
			     (live_left_decode(&val, &left) == 0 && left <= at);
		if (it->merged &&
		    (rc = mdb_rc(tcur_open(t->txn, t->s->versions, &it->vc)))) {
			free(it);
			return rc;
		}
	}
	dbi = it->live || it->merged	    ? t->s->live
	      : kind == PITR_LIST_DOCUMENTS ? t->s->versions
					    : t->s->names;
	rc = mdb_rc(tcur_open(t->txn, dbi, &it->c));
	if (rc) {
		tcur_close(&it->vc);
		free(it);
		return rc;
	}
	*out = it;
	return 0;
}

void pitr_iter_end(pitr_iter *it)
{
	if (!it)
		return;
	tcur_close(&it->c);
	tcur_close(&it->vc);
	free(it);
}

static int iter_next_live(pitr_iter *it, pitr_entry *e)
{
	unsigned char k[KEY_MAX];
	MDB_val key, val;
	int rc;

	if (it->on_name) {
		rc = tcur_get(&it->c, &key, &val, MDB_NEXT);
	} else if (!it->started) {
		key.mv_size = key_live(k, it->parent, LIVE_DOC, "", 0);
		key.mv_data = k;
		rc = tcur_get(&it->c, &key, &val, MDB_SET_RANGE);
	} else {
		key.mv_size =
		    key_live(k, it->parent, it->type, it->name, it->len);
		key.mv_data = k;
		rc = tcur_get(&it->c, &key, &val, MDB_SET_RANGE);
		if (!rc && key.mv_size == 9 + it->len &&
		    !memcmp(key.mv_data, k, key.mv_size))
			rc = tcur_get(&it->c, &key, &val, MDB_NEXT);
	}
	if (rc)
		return mdb_rc(rc);
	const unsigned char *p = key.mv_data;
	struct live_key lk;
	struct live_doc ld;
	/* past the container, or at its LIVE_LEFT mark, which has no name */
	if (key.mv_size < 10 || get_be64(p) != it->parent)
		return PITR_NOTFOUND;
	if (live_key_decode(&key, &lk))
		return PITR_CORRUPT;
	it->started = it->on_name = 1;
	it->type = lk.type;
	it->len = lk.namelen;
	memcpy(it->name, lk.name, it->len);
	memset(e, 0, sizeof(*e));
	e->name = it->name;
	e->namelen = it->len;
	if (it->type == LIVE_SCRATCH) {
		const void *data;
		size_t dlen;
		if (scratch_decode(&val, &e->ver.ts, &data, &dlen))
			return PITR_CORRUPT;
		e->scratch = 1;
		e->ver.size = (uint32_t)dlen;
		return 0;
	}
	if (live_doc_decode(&val, &ld, store_compact(it->t->s)))
		return PITR_CORRUPT;
	e->ver.ts = ld.ts;
	it->idx = ld.idx;
	e->ver.size = ld.size;
	e->ver.etag = ld.etag;
	return 0;
}

/*
 * Named tables hold every version of a name newest first. The entries of
 * one name are adjacent, and a step of the cursor costs less than a descent
 * from the root: up to STEPS steps stand for a seek, and past them a seek
 * bounds the cost, however deep the history.
 */
#define STEPS 2

/* Is `key` an entry of the iterator's current name? */
static int of_name(const pitr_iter *it, const MDB_val *key)
{
	const unsigned char *p = key->mv_data;

	return key->mv_size == 9 + it->len + it->suffix &&
	       get_be64(p) == it->parent && !memcmp(p + 8, it->name, it->len);
}

/* Put the cursor on the newest entry of the name after it->name. */
static int next_name(pitr_iter *it, MDB_val *key, MDB_val *val)
{
	unsigned char k[KEY_MAX];
	int rc;

	for (int i = 0; it->on_name && i < STEPS; i++) {
		rc = tcur_get(&it->c, key, val, MDB_NEXT);
		if (rc || !of_name(it, key))
			return mdb_rc(rc);
	}
	put_be64(k, it->parent);
	memcpy(k + 8, it->name, it->len);
	k[8 + it->len] = 1; /* past every version of it->name */
	key->mv_size = it->started ? 9 + it->len : 8;
	key->mv_data = k;
	return mdb_rc(tcur_get(&it->c, key, val, MDB_SET_RANGE));
}

/* From the newest entry of it->name, go to its newest at or before `at`. */
static int name_at(pitr_iter *it, MDB_val *key, MDB_val *val)
{
	for (int i = 0; i < STEPS; i++) {
		int rc = tcur_get(&it->c, key, val, MDB_NEXT);
		if (rc || !of_name(it, key))
			return rc && rc != MDB_NOTFOUND ? mdb_rc(rc)
							: PITR_NOTFOUND;
		if (~get_be64((unsigned char *)key->mv_data + 9 + it->len) <=
		    it->at)
			return 0;
	}
	return seek_at(&it->c, it->parent, it->name, it->len, it->suffix,
		       it->at, key, val);
}

static int iter_next_named(pitr_iter *it, pitr_entry *e)
{
	MDB_val key, val;
	int rc;

	for (;;) {
		rc = next_name(it, &key, &val);
		if (rc)
			return rc;
		const unsigned char *p = key.mv_data;
		if (key.mv_size < 10 + it->suffix || get_be64(p) != it->parent)
			return PITR_NOTFOUND;
		it->started = it->on_name = 1;
		it->len = key.mv_size - 9 - it->suffix;
		if (it->len > PITR_NAME_MAX)
			return PITR_CORRUPT;
		memcpy(it->name, p + 8, it->len);
		uint64_t ts = ~get_be64(p + 9 + it->len);
		if (ts > it->at) {
			rc = name_at(it, &key, &val);
			if (rc == PITR_NOTFOUND) {
				it->on_name = 0; /* born after `at` */
				continue;
			}
			if (rc)
				return rc;
			ts = ~get_be64((unsigned char *)key.mv_data + 9 +
				       it->len);
		}
		memset(e, 0, sizeof(*e));
		e->name = it->name;
		e->namelen = it->len;
		if (it->kind == PITR_LIST_DOCUMENTS) {
			struct ver_rec vr;
			if (ver_decode(&val, &vr, ver_form(it->t->s)))
				return PITR_CORRUPT;
			if (vr.op != OP_DOC_PUT)
				continue;
			e->ver.ts = ts;
			e->ver.size = vr.size;
			e->ver.etag = vr.etag;
			it->idx = vr.idx;
		} else {
			int op;
			if (name_decode(&val, &op, &e->inc))
				return PITR_CORRUPT;
			if (op != NAME_CREATE)
				continue;
			e->ver.ts = ts;
			/* the event's log index: ~idx after ~ts */
			it->idx = ~get_be32((unsigned char *)key.mv_data + 9 +
					    it->len + 8);
		}
		return 0;
	}
}

/*
 * No document left the container since `at`: those of `at` are live now.
 * A live document unchanged since `at` is listed as it is; one changed
 * since is looked up at `at` (and skipped if it was born after).
 */
static int iter_next_merged(pitr_iter *it, pitr_entry *e)
{
	MDB_val key, val;
	int rc;

	for (;;) {
		rc = iter_next_live(it, e);
		if (rc)
			return rc;
		if (e->scratch)
			return PITR_NOTFOUND; /* they follow the documents */
		if (e->ver.ts <= it->at)
			return 0;
		rc = seek_at(&it->vc, it->parent, it->name, it->len, VER_SUFFIX,
			     it->at, &key, &val);
		if (rc == PITR_NOTFOUND)
			continue;
		if (rc)
			return rc;
		struct ver_rec vr;
		if (ver_decode(&val, &vr, ver_form(it->t->s)))
			return PITR_CORRUPT;
		if (vr.op != OP_DOC_PUT)
			continue;
		e->ver.ts =
		    ~get_be64((unsigned char *)key.mv_data + 9 + it->len);
		e->ver.size = vr.size;
		e->ver.etag = vr.etag;
		it->idx = vr.idx;
		return 0;
	}
}

int pitr_iter_next(pitr_iter *it, pitr_entry *e)
{
	return it->live	    ? iter_next_live(it, e)
	       : it->merged ? iter_next_merged(it, e)
			    : iter_next_named(it, e);
}

int catalog_replay(pitr_txn *t, const struct log_rec *r)
{
	int create = r->op == OP_DB_CREATE || r->op == OP_CT_CREATE;
	int kind =
	    r->op == OP_DB_CREATE || r->op == OP_DB_DELETE ? INC_DB : INC_CT;
	struct inc_rec ir;
	int rc;

	rc = name_put(t, r->parent, r->name, r->namelen,
		      create ? NAME_CREATE : NAME_DELETE, r->inc);
	if (rc)
		return rc;
	if (!create) { /* a rename's create, next, makes it alive again */
		rc = inc_update(t, r->inc, r->parent, t->ts, NULL, 0);
		/* its create was pruned before it was shipped: nothing to mark
		 */
		return rc == PITR_NOTFOUND ? 0 : rc;
	}
	if (r->inc >= t->next_inc) {
		t->next_inc = r->inc + 1;
		t->dirty_meta = 1;
	}
	rc = inc_get(t, r->inc, &ir);
	if (rc == 0) /* a rename */
		return inc_update(t, r->inc, r->parent, 0, r->name, r->namelen);
	if (rc != PITR_NOTFOUND)
		return rc;
	ir = (struct inc_rec){ kind, r->parent, t->ts, 0, r->name, r->namelen };
	return inc_put(t, r->inc, &ir);
}
