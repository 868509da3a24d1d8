/*
 * restore.c - a past state of an account, whole or chosen databases and
 * containers, into a new account; and the names databases had at an
 * instant.
 *
 * A restore reads one snapshot of the source, builds the new account
 * aside (stage.c) with the daemon lock held, copies each container's
 * documents through pitr_ct_copy() (checked against their etags, never
 * parsed again; the source container's dictionary becomes the new
 * container's own, a record of the new account, so keyframes, plain or on
 * it, are copied as stored, and deltas are stored as keyframes on it:
 * log_standalone(); the new account refers to nothing of the source),
 * syncs and renames it into place. Whatever fails, nothing is left at the
 * target nor beside it.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct restore {
	pitr_txn *src, *dt;
	uint64_t at;
	uint64_t base; /* documents of containers done */
	pitr_progress_fn fn;
	void *arg;
};

static int on_copied(uint64_t done, void *arg)
{
	struct restore *r = arg;

	return r->fn ? r->fn(r->base + done, r->arg) : 0;
}

/* Create container `name` in `newdb` and copy `ct`'s documents into it,
 * unless a selection named it before. */
static int restore_ct(struct restore *r, uint64_t newdb, uint64_t ct,
		      const char *name, size_t len)
{
	uint64_t newct, n = 0;
	int rc;

	if (pitr_ct_lookup(r->dt, PITR_NOW, newdb, name, len, NULL) == 0)
		return 0; /* named twice */
	rc = pitr_ct_create(r->dt, newdb, name, len, &newct);
	if (!rc)
		rc = pitr_ct_copy(&r->dt, newct, r->src, ct, r->at, on_copied,
				  r, &n);
	r->base += n;
	return rc;
}

/* The containers of database `db` at `at` (named `dbname` in the new
 * account), or the one named `only`. */
static int restore_db(struct restore *r, const char *dbname, uint64_t db,
		      const char *only)
{
	uint64_t newdb, ct;
	pitr_iter *it;
	pitr_entry e;
	int rc;

	rc = pitr_db_lookup(r->dt, PITR_NOW, dbname, strlen(dbname), &newdb);
	if (rc == PITR_NOTFOUND)
		rc = pitr_db_create(r->dt, dbname, strlen(dbname), &newdb);
	if (rc)
		return rc;
	if (only) {
		rc = pitr_ct_lookup(r->src, r->at, db, only, strlen(only), &ct);
		return rc ? rc : restore_ct(r, newdb, ct, only, strlen(only));
	}
	rc = pitr_iter_begin(r->src, PITR_LIST_CONTAINERS, db, r->at, NULL, 0,
			     0, &it);
	while (!rc && (rc = pitr_iter_next(it, &e)) == 0)
		rc = restore_ct(r, newdb, e.inc, e.name, e.namelen);
	pitr_iter_end(it);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

static int restore_all(struct restore *r)
{
	char name[PITR_NAME_MAX + 1];
	pitr_iter *it;
	pitr_entry e;
	int rc;

	rc = pitr_iter_begin(r->src, PITR_LIST_DATABASES, 0, r->at, NULL, 0, 0,
			     &it);
	while (!rc && (rc = pitr_iter_next(it, &e)) == 0) {
		memcpy(name, e.name, e.namelen);
		name[e.namelen] = 0;
		rc = restore_db(r, name, e.inc, NULL);
	}
	pitr_iter_end(it);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

/* Did every selection exist at `at`? `*bad` names the first that did
 * not. */
static int check_selection(pitr_txn *src, const pitr_selection *sel,
			   size_t nsel, uint64_t at, int *bad)
{
	uint64_t db;
	int rc;

	for (size_t i = 0; i < nsel; i++) {
		rc = pitr_db_lookup(src, at, sel[i].db, strlen(sel[i].db), &db);
		if (!rc && sel[i].ct)
			rc = pitr_ct_lookup(src, at, db, sel[i].ct,
					    strlen(sel[i].ct), NULL);
		if (rc) {
			if (rc == PITR_NOTFOUND)
				*bad = (int)i;
			return rc;
		}
	}
	return 0;
}

uint64_t pitr_count_documents(pitr_txn *t, uint64_t at)
{
	pitr_iter *dbs, *cts, *docs;
	pitr_entry d, c, e;
	uint64_t n = 0;

	if (pitr_iter_begin(t, PITR_LIST_DATABASES, 0, at, NULL, 0, 0, &dbs))
		return 0;
	while (pitr_iter_next(dbs, &d) == 0) {
		if (pitr_iter_begin(t, PITR_LIST_CONTAINERS, d.inc, at, NULL, 0,
				    0, &cts))
			continue;
		while (pitr_iter_next(cts, &c) == 0) {
			if (pitr_iter_begin(t, PITR_LIST_DOCUMENTS, c.inc, at,
					    NULL, 0, 0, &docs))
				continue;
			while (pitr_iter_next(docs, &e) == 0)
				n += !e.scratch;
			pitr_iter_end(docs);
		}
		pitr_iter_end(cts);
	}
	pitr_iter_end(dbs);
	return n;
}

int pitr_restore(pitr_store *src, uint64_t at, const pitr_selection *sel,
		 size_t nsel, const char *target, const pitr_config *cfg,
		 pitr_progress_fn fn, void *arg, pitr_restore_stats *st)
{
	struct restore r = { .at = at, .fn = fn, .arg = arg };
	char tmp[PATH_MAX], base[PATH_MAX];
	pitr_restore_stats dummy;
	pitr_config c = *cfg;
	pitr_store *dst = NULL;
	struct stat sb;
	int rc;

	if (!st)
		st = &dummy;
	st->docs = 0;
	st->bad = -1;
	st->error[0] = 0;
	if (!*target)
		return ENOENT;
	if (lstat(target, &sb) == 0)
		return PITR_EXISTS;
	if ((rc = pitr_stage_path(target, "restoring", tmp, sizeof(tmp))))
		return rc;
	snprintf(base, sizeof(base), "%s", target);
	if (!c.name)
		c.name = basename(base);
	if (!c.max_doc_size)
		c.max_doc_size = pitr_store_max_doc(src);
	c.created = 0;
	/* One snapshot of the source for the whole restore. */
	if ((rc = pitr_txn_begin(src, PITR_TXN_READ, &r.src)))
		return rc;
	if ((rc = check_selection(r.src, sel, nsel, at, &st->bad)))
		goto out;
	pitr_stage_clean(target);
	if ((rc = pitr_store_create(tmp, &c)))
		goto out;
	rc = pitr_store_open(tmp, PITR_OPEN_DAEMON | PITR_OPEN_BULK, &dst);
	if (!rc)
		rc = pitr_txn_begin(dst, PITR_TXN_WRITE, &r.dt);
	if (!rc && !nsel)
		rc = restore_all(&r);
	for (size_t i = 0; !rc && i < nsel; i++) {
		uint64_t db;
		rc = pitr_db_lookup(r.src, at, sel[i].db, strlen(sel[i].db),
				    &db);
		if (!rc)
			rc = restore_db(&r, sel[i].db, db, sel[i].ct);
	}
	if (rc && r.dt && *r.dt->err)
		snprintf(st->error, sizeof(st->error), "%s", r.dt->err);
	if (!rc) {
		rc = pitr_txn_commit(r.dt, NULL);
		r.dt = NULL;
	}
	if (!rc)
		rc = pitr_store_sync(dst);
	st->docs = r.base;
	pitr_txn_abort(r.dt);
	r.dt = NULL;
	pitr_store_close(dst);
	dst = NULL;
	if (!rc)
		rc = pitr_stage_commit(tmp, target);
	if (rc && access(tmp, F_OK) == 0)
		pitr_store_destroy(tmp);
out:
	pitr_txn_abort(r.src);
	return rc;
}

/*
 * Names at instants
 */

struct name_event {
	uint64_t inc, ts;
	int create;
	size_t len;
	char name[PITR_NAME_MAX + 1];
};

struct pitr_namer {
	pitr_txn *t;
	struct name_event *v;
	size_t n, cap;
	pitr_inc_info latest; /* the last fallback's */
};

static int namer_add(const pitr_mutation *m, void *arg)
{
	pitr_namer *n = arg;

	if (m->op != PITR_OP_DB_CREATE && m->op != PITR_OP_DB_DELETE &&
	    m->op != PITR_OP_CT_CREATE && m->op != PITR_OP_CT_DELETE)
		return 0;
	if (m->namelen > PITR_NAME_MAX)
		return PITR_CORRUPT;
	if (n->n == n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 64;
		struct name_event *v = realloc(n->v, cap * sizeof(*v));
		if (!v)
			return ENOMEM;
		n->v = v;
		n->cap = cap;
	}
	struct name_event *e = &n->v[n->n++];
	e->inc = m->inc;
	e->ts = m->ts;
	e->create = m->op == PITR_OP_DB_CREATE || m->op == PITR_OP_CT_CREATE;
	e->len = m->namelen;
	memcpy(e->name, m->name, m->namelen);
	e->name[m->namelen] = 0;
	return 0;
}

/* By incarnation, then time; at one instant (a rename) the delete
 * first. */
static int by_inc_time(const void *a, const void *b)
{
	const struct name_event *x = a, *y = b;

	if (x->inc != y->inc)
		return x->inc < y->inc ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->create - y->create;
}

int pitr_namer_new(pitr_txn *t, pitr_namer **out)
{
	pitr_namer *n = calloc(1, sizeof(*n));
	int rc;

	if (!n)
		return ENOMEM;
	n->t = t;
	rc = pitr_catalog_walk(t, namer_add, n);
	if (rc) {
		pitr_namer_free(n);
		return rc;
	}
	if (n->n)
		qsort(n->v, n->n, sizeof(*n->v), by_inc_time);
	*out = n;
	return 0;
}

int pitr_namer_name(pitr_namer *n, uint64_t inc, uint64_t at,
		    const char **name, size_t *len)
{
	size_t lo = 0, hi = n->n;

	/* The first event after (inc, at). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct name_event *e = &n->v[mid];
		if (e->inc < inc || (e->inc == inc && e->ts <= at))
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct name_event *e = NULL;
	if (lo && n->v[lo - 1].inc == inc && n->v[lo - 1].create)
		e = &n->v[lo - 1];
	else if (lo < n->n && n->v[lo].inc == inc && !n->v[lo].create)
		e = &n->v[lo];
	if (!e) {
		int rc = pitr_inc_get(n->t, inc, &n->latest);
		if (rc)
			return rc;
		*name = n->latest.name;
		*len = n->latest.namelen;
		return 0;
	}
	*name = e->name;
	*len = e->len;
	return 0;
}

void pitr_namer_free(pitr_namer *n)
{
	if (n) {
		free(n->v);
		free(n);
	}
}
