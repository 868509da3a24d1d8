/*
 * timeline.c - bulk changes found in the log: runs of deletes or replaces
 * in one container (an rm -r, a sed -i), and dropped databases.
 *
 * One walk over the log in commit order. Each container touched keeps two
 * open runs, one of deletes and one of replaces; a mutation of the other
 * kinds (a concurrent writer's creates, a replace amid deletes) neither
 * extends nor ends a run, so other writers cannot hide one. A run ends at
 * the first of its kind more than `gap` after its last, at its container's
 * delete, or at the end of the walk. Each database keeps the chain of its
 * containers' deletes (with the delete runs ending in them) that its own
 * delete ends.
 */
#include <errno.h>
#include <stdlib.h>
#include <xxhash.h>

#include "internal.h"

/* A set of 64-bit hashes of document ids (open addressing; 0 is empty). */
struct idset {
	uint64_t *v;
	size_t n, cap; /* cap a power of two, or 0 */
};

static int idset_add(struct idset *s, const char *id, size_t len)
{
	uint64_t h = XXH3_64bits(id, len) | 1;
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *v = calloc(cap, sizeof(*v));
		if (!v)
			return ENOMEM;
		for (size_t j = 0; j < s->cap; j++) {
			if (!s->v[j])
				continue;
			for (i = s->v[j] & (cap - 1); v[i];
			     i = (i + 1) & (cap - 1))
				;
			v[i] = s->v[j];
		}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	for (i = h & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == h)
			return 0;
	s->v[i] = h;
	s->n++;
	return 0;
}

static void idset_clear(struct idset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct run {
	uint64_t first, last; /* 0: none open */
	uint64_t count;	      /* mutations */
	struct idset ids;
};

struct ctstate {
	uint64_t ct, db;
	struct run del, rep;
};

struct dbstate {
	uint64_t db;
	uint64_t first, last; /* the chain of container deletes; 0: none */
	uint64_t docs;
};

struct walk {
	pitr_txn *t;
	uint64_t gap, min;
	pitr_bulk_fn fn;
	void *arg;
	struct ctstate *cts; /* sorted by ct */
	size_t ncts, capcts;
	struct dbstate *dbs; /* sorted by db */
	size_t ndbs, capdbs;
};

/* Find or insert the entry for `key` in a sorted array of structs whose
 * first member is the uint64_t key. */
static void *slot(void **arr, size_t *n, size_t *cap, size_t size, uint64_t key)
{
	size_t lo = 0, hi = *n;
	unsigned char *v = *arr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k;
		memcpy(&k, v + mid * size, sizeof(k));
		if (k == key)
			return v + mid * size;
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		unsigned char *nv = realloc(v, c * size);
		if (!nv)
			return NULL;
		*arr = v = nv;
		*cap = c;
	}
	memmove(v + (lo + 1) * size, v + lo * size, (*n - lo) * size);
	memset(v + lo * size, 0, size);
	memcpy(v + lo * size, &key, sizeof(key));
	(*n)++;
	return v + lo * size;
}

/* End a run and report it if it is one: at least `min` documents, or
 * any deletes that its container's delete ended. */
static int run_end(struct walk *w, struct ctstate *c, struct run *r,
		   enum pitr_op_kind op, uint64_t ct_deleted)
{
	pitr_bulk b = { .ct = c->ct,
			.db = c->db,
			.op = op,
			.first = r->first,
			.last = r->last,
			.mutations = r->count,
			.docs = r->ids.n,
			.ct_deleted = ct_deleted };
	int rc = 0;

	if (r->first && (b.docs >= w->min || ct_deleted))
		rc = w->fn(&b, w->arg);
	idset_clear(&r->ids);
	r->first = r->last = r->count = 0;
	return rc;
}

static int run_add(struct walk *w, struct ctstate *c, struct run *r,
		   enum pitr_op_kind op, const pitr_mutation *m)
{
	int rc;

	if (r->first && m->ts - r->last > w->gap &&
	    (rc = run_end(w, c, r, op, 0)))
		return rc;
	if (!r->first)
		r->first = m->ts;
	r->last = m->ts;
	r->count++;
	return idset_add(&r->ids, m->name, m->namelen);
}

/* The state of container `ct`, made on first sight with its database. */
static struct ctstate *ct_get(struct walk *w, uint64_t ct, int *rc)
{
	struct ctstate *c =
	    slot((void **)&w->cts, &w->ncts, &w->capcts, sizeof(*c), ct);
	pitr_inc_info info;

	*rc = c ? 0 : ENOMEM;
	if (c && !c->db) {
		*rc = pitr_inc_get(w->t, ct, &info);
		if (*rc == 0)
			c->db = info.parent;
		else if (*rc == PITR_NOTFOUND)
			*rc = 0; /* pruned: reported without its database */
	}
	return *rc ? NULL : c;
}

static int ct_deleted(struct walk *w, const pitr_mutation *m)
{
	int rc;
	struct ctstate *c = ct_get(w, m->inc, &rc);
	struct dbstate *d;
	uint64_t first = m->ts, docs = 0;

	if (!c)
		return rc;
	if ((rc = run_end(w, c, &c->rep, PITR_OP_DOC_PUT, 0)))
		return rc;
	if (c->del.first && m->ts - c->del.last <= w->gap) {
		first = c->del.first;
		docs = c->del.ids.n;
		rc = run_end(w, c, &c->del, PITR_OP_DOC_DELETE, m->ts);
	} else {
		rc = run_end(w, c, &c->del, PITR_OP_DOC_DELETE, 0);
	}
	if (rc)
		return rc;
	d = slot((void **)&w->dbs, &w->ndbs, &w->capdbs, sizeof(*d), m->parent);
	if (!d)
		return ENOMEM;
	/* a run may begin before the previous container's delete (deletes
	 * made in parallel): that extends the chain too */
	if (!d->first || (first > d->last && first - d->last > w->gap)) {
		d->first = first;
		d->docs = 0;
	} else if (first < d->first) {
		d->first = first;
	}
	d->last = m->ts;
	d->docs += docs;
	return 0;
}

static int db_deleted(struct walk *w, const pitr_mutation *m)
{
	struct dbstate *d =
	    slot((void **)&w->dbs, &w->ndbs, &w->capdbs, sizeof(*d), m->inc);
	pitr_bulk b = { .db = m->inc,
			.op = PITR_OP_DB_DELETE,
			.first = m->ts,
			.last = m->ts,
			.db_deleted = m->ts };

	if (!d)
		return ENOMEM;
	if (d->first && m->ts - d->last <= w->gap) {
		b.first = d->first;
		b.docs = d->docs;
	}
	d->first = d->last = d->docs = 0;
	return w->fn(&b, w->arg);
}

static int bulk_step(const pitr_mutation *m, void *arg)
{
	struct walk *w = arg;
	struct ctstate *c;
	pitr_version v;
	int rc;

	switch (m->op) {
	case PITR_OP_CT_DELETE:
		return ct_deleted(w, m);
	case PITR_OP_DB_DELETE:
		return db_deleted(w, m);
	case PITR_OP_DOC_DELETE:
	case PITR_OP_DOC_PUT:
		break;
	default:
		return 0;
	}
	if (!(c = ct_get(w, m->parent, &rc)))
		return rc;
	if (m->op == PITR_OP_DOC_DELETE)
		return run_add(w, c, &c->del, PITR_OP_DOC_DELETE, m);
	/* a put replaces what was there just before; creates count not */
	rc = pitr_doc_stat(w->t, m->parent, m->name, m->namelen, m->ts - 1, &v);
	if (rc == PITR_NOTFOUND || rc == PITR_OUTOFRANGE)
		return 0;
	return rc ? rc : run_add(w, c, &c->rep, PITR_OP_DOC_PUT, m);
}

int pitr_bulk_walk(pitr_txn *t, uint64_t after, uint64_t until, uint64_t gap,
		   uint64_t min_docs, pitr_bulk_fn fn, void *arg)
{
	struct walk w = { .t = t,
			  .gap = gap,
			  .min = min_docs ? min_docs : 1,
			  .fn = fn,
			  .arg = arg };
	int rc = pitr_log_walk(t, after, until, bulk_step, &w);

	for (size_t i = 0; i < w.ncts; i++) {
		struct ctstate *c = &w.cts[i];
		if (!rc)
			rc = run_end(&w, c, &c->del, PITR_OP_DOC_DELETE, 0);
		if (!rc)
			rc = run_end(&w, c, &c->rep, PITR_OP_DOC_PUT, 0);
		idset_clear(&c->del.ids);
		idset_clear(&c->rep.ids);
	}
	free(w.cts);
	free(w.dbs);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The times of container `ct`'s deletes up to `end`, in v[0..n). */
struct del_times {
	uint64_t end;
	uint64_t *v;
	size_t n, cap;
};

static int del_time(const struct ver_entry *e, void *arg)
{
	struct del_times *d = arg;
	uint64_t ts = e->ts;

	if (e->v.op != OP_DOC_DEL || ts > d->end)
		return 0;
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 256;
		uint64_t *nv = realloc(d->v, nc * sizeof(*nv));
		if (!nv)
			return ENOMEM;
		d->v = nv;
		d->cap = nc;
	}
	d->v[d->n++] = ts;
	return 0;
}

int pitr_ct_delete_run(pitr_txn *t, uint64_t ct, uint64_t end, uint64_t gap,
		       uint64_t *first, uint64_t *count)
{
	struct del_times d = { end, NULL, 0, 0 };
	uint64_t *v;
	size_t n, i;
	int rc = ct_versions_each(t, ct, del_time, &d);

	v = d.v;
	n = d.n;
	if (rc)
		goto out;
	rc = PITR_NOTFOUND;
	if (!n)
		goto out;
	qsort(v, n, sizeof(*v), cmp_u64);
	if (end - v[n - 1] > gap)
		goto out;
	for (i = n - 1; i > 0 && v[i] - v[i - 1] <= gap; i--)
		;
	*first = v[i];
	if (count)
		*count = n - i;
	rc = 0;
out:
	free(v);
	return rc;
}
