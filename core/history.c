/*
 * history.c - walks over the log, the catalog and one document's versions:
 * what the tools read to find a restore point, and what restore copies.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

int pitr_log_walk(pitr_txn *t, uint64_t after, uint64_t until,
		  pitr_mutation_fn fn, void *arg)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	MDB_cursor *c;
	struct log_rec r;
	int rc;

	if (after == UINT64_MAX || after >= until)
		return 0;
	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->log, &c));
	if (rc)
		return rc;
	key_log(k, after + 1, 0);
	for (rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		pitr_mutation m = { 0 };
		if ((rc = log_key_decode(&key, &m.ts, &m.idx)))
			break;
		if (m.ts > until)
			break;
		if ((rc = log_decode(&key, &val, &r)))
			break;
		if (r.op == OP_DICT) /* a dictionary: no mutation */
			continue;
		/* a short record: its document and etag */
		if ((rc = log_resolve(t, &r)))
			break;
		m.op = (enum pitr_op_kind)r.op;
		m.parent = r.parent;
		m.inc = r.inc;
		m.name = r.name;
		m.namelen = r.namelen;
		m.size = r.size;
		m.etag = r.etag;
		if ((rc = fn(&m, arg)))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A names entry as a mutation. */
static int name_mutation(const MDB_val *key, const MDB_val *val, int form,
			 pitr_mutation *m)
{
	struct name_entry e;
	int rc = name_entry_decode(key, val, &e);

	(void)form; /* a name value has one form */
	if (rc)
		return rc;
	memset(m, 0, sizeof(*m));
	m->parent = e.parent;
	m->name = e.name;
	m->namelen = e.namelen;
	m->ts = e.ts;
	m->idx = e.idx;
	m->inc = e.inc;
	if (m->parent == 0)
		m->op = e.op == NAME_CREATE ? PITR_OP_DB_CREATE
					    : PITR_OP_DB_DELETE;
	else
		m->op = e.op == NAME_CREATE ? PITR_OP_CT_CREATE
					    : PITR_OP_CT_DELETE;
	return 0;
}

int pitr_catalog_walk(pitr_txn *t, pitr_mutation_fn fn, void *arg)
{
	MDB_val key, val;
	MDB_cursor *c;
	pitr_mutation m;
	int rc;

	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->names, &c));
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))
		if ((rc = name_mutation(&key, &val, 0, &m)) ||
		    (rc = fn(&m, arg)))
			break;
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int pitr_inc_get(pitr_txn *t, uint64_t inc, pitr_inc_info *info)
{
	struct inc_rec r;
	int rc = inc_get(t, inc, &r);

	if (rc)
		return rc;
	info->is_container = r.kind == INC_CT;
	info->parent = r.parent;
	info->created = r.created;
	info->deleted = r.deleted;
	info->namelen = r.namelen;
	memcpy(info->name, r.name, r.namelen);
	info->name[r.namelen] = 0;
	return 0;
}

/*
 * Walk the entries of (parent, name) in a named table oldest first: they
 * are stored newest first, so from the entry past the last one, backwards.
 */
static int walk_backward(pitr_txn *t, MDB_dbi dbi, uint64_t parent,
			 const char *name, size_t len, size_t suffix,
			 int (*conv)(const MDB_val *, const MDB_val *, int,
				     pitr_mutation *),
			 pitr_mutation_fn fn, void *arg)
{
	unsigned char k[KEY_MAX];
	MDB_val key, val;
	struct tcur c;
	pitr_mutation m;
	int rc;

	if (len > PITR_NAME_MAX)
		return PITR_NOTFOUND;
	rc = mdb_rc(tcur_open(t->txn, dbi, &c));
	if (rc)
		return rc;
	put_be64(k, parent);
	memcpy(k + 8, name, len);
	k[8 + len] = 1;
	key.mv_size = 9 + len;
	key.mv_data = k;
	rc = tcur_get(&c, &key, &val, MDB_SET_RANGE);
	rc = tcur_get(&c, &key, &val, rc == 0 ? MDB_PREV : MDB_LAST);
	for (; rc == 0; rc = tcur_get(&c, &key, &val, MDB_PREV)) {
		k[8 + len] = 0;
		if (key.mv_size != 9 + len + suffix ||
		    memcmp(key.mv_data, k, 9 + len))
			break;
		if ((rc = conv(&key, &val, ver_form(t->s), &m)) ||
		    (rc = fn(&m, arg)))
			break;
	}
	tcur_close(&c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int pitr_name_walk(pitr_txn *t, uint64_t parent, const char *name, size_t len,
		   pitr_mutation_fn fn, void *arg)
{
	return walk_backward(t, t->s->names, parent, name, len, NAME_SUFFIX,
			     name_mutation, fn, arg);
}

static int version_mutation(const MDB_val *key, const MDB_val *val, int form,
			    pitr_mutation *m)
{
	struct ver_entry e;
	int rc = ver_entry_decode(key, val, &e, form);

	if (rc)
		return rc;
	memset(m, 0, sizeof(*m));
	m->parent = e.ct;
	m->name = e.id;
	m->namelen = e.idlen;
	m->ts = e.ts;
	m->idx = e.v.idx;
	m->op = e.v.op == OP_DOC_DEL ? PITR_OP_DOC_DELETE : PITR_OP_DOC_PUT;
	m->size = e.v.size;
	m->etag = e.v.etag;
	return 0;
}

int pitr_doc_walk(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		  pitr_mutation_fn fn, void *arg)
{
	return walk_backward(t, t->s->versions, ct, id, idlen, VER_SUFFIX,
			     version_mutation, fn, arg);
}

int ct_versions_each(pitr_txn *t, uint64_t ct,
		     int (*fn)(const struct ver_entry *e, void *arg),
		     void *arg)
{
	unsigned char k[8];
	MDB_val key = { 8, k }, val;
	struct ver_entry e;
	struct tcur c;
	int rc;

	put_be64(k, ct);
	rc = mdb_rc(tcur_open(t->txn, t->s->versions, &c));
	if (rc)
		return rc;
	for (rc = tcur_get(&c, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = tcur_get(&c, &key, &val, MDB_NEXT)) {
		if (key.mv_size < 8 || get_be64(key.mv_data) != ct)
			break;
		rc = ver_entry_decode(&key, &val, &e, ver_form(t->s));
		if (rc || (rc = fn(&e, arg)))
			break;
	}
	tcur_close(&c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct ct_scan {
	uint64_t after, put, del;
};

static int scan_one(const struct ver_entry *e, void *arg)
{
	struct ct_scan *sc = arg;

	if (e->v.op == OP_DOC_PUT && e->ts > sc->put)
		sc->put = e->ts;
	else if (e->v.op == OP_DOC_DEL && e->ts > sc->after &&
		 e->ts < sc->del)
		sc->del = e->ts;
	return 0;
}

/* Over every version of container `ct`: the newest put, and the oldest
 * delete after `after`. */
static int scan_ct(pitr_txn *t, uint64_t ct, uint64_t after, uint64_t *put,
		   uint64_t *del)
{
	struct ct_scan sc = { after, 0, UINT64_MAX };
	int rc = ct_versions_each(t, ct, scan_one, &sc);

	*put = sc.put;
	*del = sc.del;
	return rc;
}

int pitr_ct_before_emptied(pitr_txn *t, uint64_t ct, uint64_t *at)
{
	uint64_t put, del;
	int rc = scan_ct(t, ct, 0, &put, &del);

	if (!rc)
		rc = scan_ct(t, ct, put, &put, &del);
	if (rc)
		return rc;
	if (del == UINT64_MAX)
		return PITR_NOTFOUND;
	*at = del - 1;
	return 0;
}
