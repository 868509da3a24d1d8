/*
 * test_history.c - history: the log, catalog, incarnation, name and
 * document walks; copying a version between accounts; the instant before a
 * container was emptied; policy changes; destroying an account; the read
 * floor. White-box where a test must damage the store or read its meta.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../core/internal.h"
#include "docops.h"
#include "tap.h"

#define HOUR (3600 * PITR_NS_PER_SEC)
#define DAY  (86400 * PITR_NS_PER_SEC)

static char dir[256];

/*
 * Helpers
 */

static void rm_rf(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

/* The path of account `name` in the test directory. */
static void path_of(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", dir, name);
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static pitr_store *make_store(const char *name, const pitr_policy *pol)
{
	pitr_config cfg = { 0 };
	pitr_store *s = NULL;
	char path[300];

	path_of(name, path, sizeof(path));
	pitr_policy_default(&cfg.policy);
	if (pol)
		cfg.policy = *pol;
	cfg.max_doc_size = 4096;
	if (pitr_store_create(path, &cfg) || pitr_store_open(path, 0, &s)) {
		fprintf(stderr, "cannot make store %s\n", path);
		exit(2);
	}
	return s;
}

/* Database `dbname` with container `ctname` in it, in one commit. */
static uint64_t make_ct(pitr_store *s, const char *dbname, const char *ctname,
			uint64_t *db, uint64_t *ts)
{
	pitr_txn *t;
	uint64_t d = 0, ct = 0;

	if (pitr_txn_begin(s, PITR_TXN_WRITE, &t) ||
	    pitr_db_create(t, dbname, strlen(dbname), &d) ||
	    pitr_ct_create(t, d, ctname, strlen(ctname), &ct) ||
	    pitr_txn_commit(t, ts)) {
		fprintf(stderr, "cannot make %s/%s\n", dbname, ctname);
		exit(2);
	}
	if (db)
		*db = d;
	return ct;
}

/* Body of `id` at `at` as a NUL-terminated string in buf, or "" on error. */
static int get(pitr_store *s, uint64_t ct, const char *id, uint64_t at,
	       pitr_version *v, char *buf, size_t size)
{
	pitr_txn *t;
	void *body;
	size_t len;
	int rc;

	buf[0] = 0;
	if ((rc = pitr_txn_begin(s, PITR_TXN_READ, &t)))
		return rc;
	rc = pitr_doc_get(t, ct, id, strlen(id), at, v, &body, &len);
	pitr_txn_abort(t);
	if (rc)
		return rc;
	snprintf(buf, size, "%.*s", (int)len, (char *)body);
	free(body);
	return 0;
}

static int stat_at(pitr_store *s, uint64_t ct, const char *id, uint64_t at,
		   pitr_version *v)
{
	pitr_txn *t;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = pitr_txn_begin(s, PITR_TXN_READ, &t)))
		return rc;
	rc = pitr_doc_stat(t, ct, id, strlen(id), at, v);
	pitr_txn_abort(t);
	return rc;
}

/* The etag pitr_doc_stat reports for `id` at `at`; 0 if it fails. */
static uint64_t stat_etag(pitr_store *s, uint64_t ct, const char *id,
			  uint64_t at)
{
	pitr_version v;

	return stat_at(s, ct, id, at, &v) ? 0 : v.etag;
}

static uint64_t etag_of(const char *body)
{
	return XXH3_64bits(body, strlen(body));
}

/* Names listed at `at`, comma-separated. */
static int list(pitr_store *s, enum pitr_list_kind kind, uint64_t parent,
		uint64_t at, char *buf, size_t size)
{
	pitr_txn *t;
	pitr_iter *it = NULL;
	pitr_entry e;
	size_t off = 0;
	int rc;

	buf[0] = 0;
	if ((rc = pitr_txn_begin(s, PITR_TXN_READ, &t)))
		return rc;
	rc = pitr_iter_begin(t, kind, parent, at, NULL, 0, 0, &it);
	while (!rc && !(rc = pitr_iter_next(it, &e)))
		off +=
		    snprintf(buf + off, size - off, "%s%s%.*s", off ? "," : "",
			     e.scratch ? "~" : "", (int)e.namelen, e.name);
	pitr_iter_end(it);
	pitr_txn_abort(t);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

static void is_str(const char *got, const char *want, const char *name)
{
	if (!ok(!strcmp(got, want), "%s", name))
		printf("#   got '%s', want '%s'\n", got, want);
}

static void is_u64(uint64_t got, uint64_t want, const char *name)
{
	if (!ok(got == want, "%s", name))
		printf("#   got %" PRIu64 ", want %" PRIu64 "\n", got, want);
}

/*
 * Collecting the mutations a walk reports
 */

#define MAX_MUTS 64

struct mut {
	uint64_t ts;
	uint32_t idx;
	int op;
	uint64_t parent, inc;
	char name[PITR_NAME_MAX + 1];
	size_t namelen;
	uint32_t size;
	uint64_t etag;
};

struct muts {
	int calls;   /* callbacks made */
	int stop_at; /* return stop_rc at this call; 0: never */
	int stop_rc;
	int n; /* entries kept (at most MAX_MUTS) */
	struct mut m[MAX_MUTS];
};

static void muts_init(struct muts *ms, int stop_at, int stop_rc)
{
	memset(ms, 0, sizeof(*ms));
	ms->stop_at = stop_at;
	ms->stop_rc = stop_rc;
}

static int collect(const pitr_mutation *m, void *arg)
{
	struct muts *ms = arg;

	ms->calls++;
	if (ms->n < MAX_MUTS) {
		struct mut *r = &ms->m[ms->n++];
		size_t len =
		    m->namelen > PITR_NAME_MAX ? PITR_NAME_MAX : m->namelen;

		r->ts = m->ts;
		r->idx = m->idx;
		r->op = (int)m->op;
		r->parent = m->parent;
		r->inc = m->inc;
		memcpy(r->name, m->name, len);
		r->name[len] = 0;
		r->namelen = m->namelen;
		r->size = m->size;
		r->etag = m->etag;
	}
	return ms->stop_at && ms->calls == ms->stop_at ? ms->stop_rc : 0;
}

static int walk_log(pitr_store *s, uint64_t after, uint64_t until,
		    struct muts *ms)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_READ, &t);

	if (rc)
		return rc;
	rc = pitr_log_walk(t, after, until, collect, ms);
	pitr_txn_abort(t);
	return rc;
}

static int walk_catalog(pitr_store *s, struct muts *ms)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_READ, &t);

	if (rc)
		return rc;
	rc = pitr_catalog_walk(t, collect, ms);
	pitr_txn_abort(t);
	return rc;
}

static int walk_name(pitr_store *s, uint64_t parent, const char *name,
		     struct muts *ms)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_READ, &t);

	if (rc)
		return rc;
	rc = pitr_name_walk(t, parent, name, strlen(name), collect, ms);
	pitr_txn_abort(t);
	return rc;
}

static int walk_doc(pitr_store *s, uint64_t ct, const char *id, struct muts *ms)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_READ, &t);

	if (rc)
		return rc;
	rc = pitr_doc_walk(t, ct, id, strlen(id), collect, ms);
	pitr_txn_abort(t);
	return rc;
}

static const char *op_name(int op)
{
	switch (op) {
	case PITR_OP_DOC_PUT:
		return "DOC_PUT";
	case PITR_OP_DOC_DELETE:
		return "DOC_DELETE";
	case PITR_OP_DB_CREATE:
		return "DB_CREATE";
	case PITR_OP_DB_DELETE:
		return "DB_DELETE";
	case PITR_OP_CT_CREATE:
		return "CT_CREATE";
	case PITR_OP_CT_DELETE:
		return "CT_DELETE";
	}
	return "?";
}

static int mut_eq(const struct mut *m, const struct mut *w)
{
	return m->ts == w->ts && m->idx == w->idx && m->op == w->op &&
	       m->parent == w->parent && m->inc == w->inc &&
	       m->namelen == w->namelen &&
	       !memcmp(m->name, w->name, w->namelen) && m->size == w->size &&
	       m->etag == w->etag;
}

static void print_mut(const char *label, const struct mut *m)
{
	printf("#   %s ts=%" PRIu64 " idx=%" PRIu32 " op=%s parent=%" PRIu64
	       " inc=%" PRIu64 " name='%s' size=%" PRIu32 " etag=%016" PRIx64
	       "\n",
	       label, m->ts, m->idx, op_name(m->op), m->parent, m->inc, m->name,
	       m->size, m->etag);
}

static struct mut want_mut(uint64_t ts, uint32_t idx, int op, uint64_t parent,
			   uint64_t inc, const char *name, uint32_t size,
			   uint64_t etag)
{
	struct mut w = { .ts = ts,
			 .idx = idx,
			 .op = op,
			 .parent = parent,
			 .inc = inc,
			 .namelen = strlen(name),
			 .size = size,
			 .etag = etag };

	snprintf(w.name, sizeof(w.name), "%s", name);
	return w;
}

/* Entry i of the walk is exactly the mutation described. */
static void is_mut(const struct muts *ms, int i, uint64_t ts, uint32_t idx,
		   int op, uint64_t parent, uint64_t inc, const char *name,
		   uint32_t size, uint64_t etag, const char *what)
{
	struct mut w = want_mut(ts, idx, op, parent, inc, name, size, etag);
	int good = i < ms->n && mut_eq(&ms->m[i], &w);

	if (ok(good, "%s", what))
		return;
	if (i < ms->n)
		print_mut("got ", &ms->m[i]);
	else
		printf("#   got no entry %d (the walk gave %d)\n", i, ms->n);
	print_mut("want", &w);
}

/* How many entries of the walk are exactly the mutation described. */
static int count_mut(const struct muts *ms, uint64_t ts, uint32_t idx, int op,
		     uint64_t parent, uint64_t inc, const char *name,
		     uint32_t size, uint64_t etag)
{
	struct mut w = want_mut(ts, idx, op, parent, inc, name, size, etag);
	int n = 0;

	for (int i = 0; i < ms->n; i++)
		n += mut_eq(&ms->m[i], &w);
	return n;
}

/*
 * pitr_log_walk
 */

static void test_log_walk(void)
{
	pitr_store *s = make_store("log", NULL);
	uint64_t db, ct, ct2, dbe, ts[8];
	const char *a1 = "{\"a\":1}", *a2 = "{\"a\":\"two\"}",
		   *b1 = "{\"b\":[1,2,3]}";
	struct muts ms;
	pitr_txn *t;

	/* ts0: a database and a container, in one commit. */
	ct = make_ct(s, "d", "c", &db, &ts[0]);
	/* ts1: put a. ts2: put b, then a again, in one commit. */
	is_int(put(s, ct, "a", a1, &ts[1]), 0, "log: put a");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_doc_put(t, ct, "b", 1, b1, strlen(b1));
	pitr_doc_put(t, ct, "a", 1, a2, strlen(a2));
	is_int(pitr_txn_commit(t, &ts[2]), 0, "log: put b and a in a commit");
	/* ts3: delete a. */
	is_int(del(s, ct, "a", &ts[3]), 0, "log: delete a");
	/* ts4: a second container; ts5: it is deleted and a database made;
	 * ts6: that database is deleted. */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_create(t, db, "tmp", 3, &ct2);
	is_int(pitr_txn_commit(t, &ts[4]), 0, "log: create container tmp");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_delete(t, db, "tmp", 3);
	pitr_db_create(t, "e", 1, &dbe);
	is_int(pitr_txn_commit(t, &ts[5]), 0,
	       "log: delete tmp, create database e");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_delete(t, "e", 1);
	is_int(pitr_txn_commit(t, &ts[6]), 0, "log: delete database e");
	ok(ts[0] < ts[1] && ts[1] < ts[2] && ts[2] < ts[3] && ts[3] < ts[4] &&
	       ts[4] < ts[5] && ts[5] < ts[6],
	   "log: commit timestamps increase");

	/* Everything, in commit order. */
	muts_init(&ms, 0, 0);
	is_int(walk_log(s, 0, PITR_NOW, &ms), 0, "log walk (0, now]: rc 0");
	is_int(ms.n, 10, "log walk (0, now]: 10 mutations");
	is_mut(&ms, 0, ts[0], 0, PITR_OP_DB_CREATE, 0, db, "d", 0, 0,
	       "log[0]: create database d (parent 0, its incarnation)");
	is_mut(&ms, 1, ts[0], 1, PITR_OP_CT_CREATE, db, ct, "c", 0, 0,
	       "log[1]: create container c in d, same commit, idx 1");
	is_mut(&ms, 2, ts[1], 0, PITR_OP_DOC_PUT, ct, 0, "a",
	       (uint32_t)strlen(a1), etag_of(a1),
	       "log[2]: put a: container, size, XXH3 etag");
	is_mut(&ms, 3, ts[2], 0, PITR_OP_DOC_PUT, ct, 0, "b",
	       (uint32_t)strlen(b1), etag_of(b1), "log[3]: put b, idx 0");
	is_mut(&ms, 4, ts[2], 1, PITR_OP_DOC_PUT, ct, 0, "a",
	       (uint32_t)strlen(a2), etag_of(a2),
	       "log[4]: put a again, same commit, idx 1");
	is_mut(&ms, 5, ts[3], 0, PITR_OP_DOC_DELETE, ct, 0, "a", 0, 0,
	       "log[5]: delete a: size 0, etag 0");
	is_mut(&ms, 6, ts[4], 0, PITR_OP_CT_CREATE, db, ct2, "tmp", 0, 0,
	       "log[6]: create container tmp");
	is_mut(&ms, 7, ts[5], 0, PITR_OP_CT_DELETE, db, ct2, "tmp", 0, 0,
	       "log[7]: delete container tmp");
	is_mut(&ms, 8, ts[5], 1, PITR_OP_DB_CREATE, 0, dbe, "e", 0, 0,
	       "log[8]: create database e, same commit, idx 1");
	is_mut(&ms, 9, ts[6], 0, PITR_OP_DB_DELETE, 0, dbe, "e", 0, 0,
	       "log[9]: delete database e");

	/* The etags of the log are those pitr_doc_stat reports. */
	is_u64(ms.m[2].etag, stat_etag(s, ct, "a", ts[1]),
	       "log: etag of a at ts1 equals pitr_doc_stat's");
	is_u64(ms.m[3].etag, stat_etag(s, ct, "b", ts[2]),
	       "log: etag of b at ts2 equals pitr_doc_stat's");
	is_u64(ms.m[4].etag, stat_etag(s, ct, "a", ts[2]),
	       "log: etag of a at ts2 equals pitr_doc_stat's");

	/* Bounds: after excluded, until included. */
	muts_init(&ms, 0, 0);
	is_int(walk_log(s, ts[1], ts[3], &ms), 0, "log walk (ts1, ts3]: rc 0");
	is_int(ms.n, 3, "log walk (ts1, ts3]: 3 mutations");
	ok(ms.n == 3 && ms.m[0].ts == ts[2] && ms.m[1].ts == ts[2] &&
	       ms.m[2].ts == ts[3],
	   "log walk (ts1, ts3]: ts1 excluded, ts2 and ts3 included");
	is_mut(&ms, 0, ts[2], 0, PITR_OP_DOC_PUT, ct, 0, "b",
	       (uint32_t)strlen(b1), etag_of(b1),
	       "log walk (ts1, ts3]: starts at put b");
	is_mut(&ms, 2, ts[3], 0, PITR_OP_DOC_DELETE, ct, 0, "a", 0, 0,
	       "log walk (ts1, ts3]: ends at delete a");

	muts_init(&ms, 0, 0);
	walk_log(s, ts[1] - 1, ts[1], &ms);
	is_int(ms.n, 1, "log walk (ts1-1, ts1]: exactly the put at ts1");
	is_mut(&ms, 0, ts[1], 0, PITR_OP_DOC_PUT, ct, 0, "a",
	       (uint32_t)strlen(a1), etag_of(a1),
	       "log walk (ts1-1, ts1]: it is put a");

	muts_init(&ms, 0, 0);
	walk_log(s, ts[1], ts[2] - 1, &ms);
	is_int(ms.n, 0, "log walk (ts1, ts2-1]: nothing between commits");
	muts_init(&ms, 0, 0);
	walk_log(s, 0, ts[0] - 1, &ms);
	is_int(ms.n, 0, "log walk (0, ts0-1]: nothing before the first");
	muts_init(&ms, 0, 0);
	walk_log(s, ts[6], PITR_NOW, &ms);
	is_int(ms.n, 0, "log walk (last, now]: nothing after the last");
	muts_init(&ms, 0, 0);
	walk_log(s, ts[5] - 1, PITR_NOW, &ms);
	is_int(ms.n, 3, "log walk (ts5-1, now]: the last 3 mutations");

	/* after >= until: nothing. */
	muts_init(&ms, 0, 0);
	is_int(walk_log(s, ts[2], ts[2], &ms), 0, "log walk after == until: 0");
	is_int(ms.calls, 0, "log walk after == until: no callback");
	muts_init(&ms, 0, 0);
	is_int(walk_log(s, ts[4], ts[1], &ms), 0, "log walk after > until: 0");
	is_int(ms.calls, 0, "log walk after > until: no callback");
	muts_init(&ms, 0, 0);
	is_int(walk_log(s, PITR_NOW, PITR_NOW, &ms), 0,
	       "log walk after == until == PITR_NOW: 0");
	is_int(ms.calls, 0, "log walk after == until == PITR_NOW: no callback");

	/* A callback's non-zero return stops the walk and is returned. */
	muts_init(&ms, 3, 42);
	is_int(walk_log(s, 0, PITR_NOW, &ms), 42,
	       "log walk stopped at the 3rd callback returns its 42");
	is_int(ms.calls, 3, "log walk stopped: no callback after the 3rd");
	muts_init(&ms, 1, -7);
	is_int(walk_log(s, 0, PITR_NOW, &ms), -7,
	       "log walk stopped at the 1st callback returns its -7");
	is_int(ms.calls, 1, "log walk stopped at the 1st: one callback");
	muts_init(&ms, 1, PITR_NOTFOUND);
	is_int(walk_log(s, 0, PITR_NOW, &ms), PITR_NOTFOUND,
	       "log walk stopped with PITR_NOTFOUND returns it");
	muts_init(&ms, 10, 5);
	is_int(walk_log(s, 0, PITR_NOW, &ms), 5,
	       "log walk stopped at the last callback still returns its 5");
	pitr_store_close(s);
}

/*
 * pitr_catalog_walk
 */

static void test_catalog_walk(void)
{
	pitr_store *s = make_store("catalog", NULL);
	uint64_t d1, d2, c1, c2, ts[5];
	struct muts ms;
	pitr_txn *t;

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d1", 2, &d1);
	pitr_ct_create(t, d1, "c1", 2, &c1);
	pitr_ct_create(t, d1, "c2", 2, &c2);
	is_int(pitr_txn_commit(t, &ts[0]), 0, "catalog: create d1, c1, c2");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d2", 2, &d2);
	is_int(pitr_txn_commit(t, &ts[1]), 0, "catalog: create d2");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_ct_rename(t, d1, "c1", 2, d1, "r1", 2), 0,
	       "catalog: rename c1 to r1");
	is_int(pitr_txn_commit(t, &ts[2]), 0, "catalog: commit the rename");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_delete(t, d1, "c2", 2);
	is_int(pitr_txn_commit(t, &ts[3]), 0, "catalog: delete c2");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_delete(t, "d2", 2);
	is_int(pitr_txn_commit(t, &ts[4]), 0, "catalog: delete d2");
	/* Documents are not catalog events. */
	put(s, c1, "doc", "{}", NULL);

	muts_init(&ms, 0, 0);
	is_int(walk_catalog(s, &ms), 0, "catalog walk: rc 0");
	is_int(ms.n, 8, "catalog walk: 8 events, one per create or delete");
	is_int(count_mut(&ms, ts[0], 0, PITR_OP_DB_CREATE, 0, d1, "d1", 0, 0),
	       1, "catalog walk: create database d1");
	is_int(count_mut(&ms, ts[0], 1, PITR_OP_CT_CREATE, d1, c1, "c1", 0, 0),
	       1, "catalog walk: create container c1 in d1");
	is_int(count_mut(&ms, ts[0], 2, PITR_OP_CT_CREATE, d1, c2, "c2", 0, 0),
	       1, "catalog walk: create container c2 in d1");
	is_int(count_mut(&ms, ts[1], 0, PITR_OP_DB_CREATE, 0, d2, "d2", 0, 0),
	       1, "catalog walk: create database d2");
	is_int(count_mut(&ms, ts[2], 0, PITR_OP_CT_DELETE, d1, c1, "c1", 0, 0),
	       1, "catalog walk: rename shows a delete of old name c1");
	is_int(count_mut(&ms, ts[2], 1, PITR_OP_CT_CREATE, d1, c1, "r1", 0, 0),
	       1,
	       "catalog walk: and a create of r1, same ts, same incarnation");
	is_int(count_mut(&ms, ts[3], 0, PITR_OP_CT_DELETE, d1, c2, "c2", 0, 0),
	       1, "catalog walk: delete container c2");
	is_int(count_mut(&ms, ts[4], 0, PITR_OP_DB_DELETE, 0, d2, "d2", 0, 0),
	       1, "catalog walk: delete database d2");

	muts_init(&ms, 2, 9);
	is_int(walk_catalog(s, &ms), 9,
	       "catalog walk stopped at the 2nd callback returns its 9");
	is_int(ms.calls, 2, "catalog walk stopped: no callback after the 2nd");
	pitr_store_close(s);
}

/*
 * pitr_inc_get
 */

static void is_inc(pitr_store *s, uint64_t inc, int is_ct, uint64_t parent,
		   uint64_t created, uint64_t deleted, const char *name,
		   const char *what)
{
	pitr_inc_info info;
	pitr_txn *t;
	int rc;

	memset(&info, 0xa5, sizeof(info));
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	rc = pitr_inc_get(t, inc, &info);
	pitr_txn_abort(t);
	int good = rc == 0 && info.is_container == is_ct &&
		   info.parent == parent && info.created == created &&
		   info.deleted == deleted && info.namelen == strlen(name) &&
		   info.namelen <= PITR_NAME_MAX && !strcmp(info.name, name);
	if (ok(good, "%s", what))
		return;
	if (rc)
		printf("#   got rc %d\n", rc);
	else
		printf("#   got is_container=%d parent=%" PRIu64
		       " created=%" PRIu64 " deleted=%" PRIu64
		       " namelen=%zu name='%.*s'\n",
		       info.is_container, info.parent, info.created,
		       info.deleted, info.namelen,
		       (int)(info.namelen <= PITR_NAME_MAX ? info.namelen : 0),
		       info.name);
	printf("#  want is_container=%d parent=%" PRIu64 " created=%" PRIu64
	       " deleted=%" PRIu64 " namelen=%zu name='%s'\n",
	       is_ct, parent, created, deleted, strlen(name), name);
}

static void test_inc_get(void)
{
	pitr_store *s = make_store("incs", NULL);
	uint64_t db, db2, ct, ts[6];
	pitr_inc_info info;
	pitr_txn *t;

	ct = make_ct(s, "d", "c", &db, &ts[0]);
	is_inc(s, db, 0, 0, ts[0], 0, "d",
	       "inc_get database: not a container, parent 0, alive");
	is_inc(s, ct, 1, db, ts[0], 0, "c",
	       "inc_get container: its database, created, alive");

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_rename(t, db, "c", 1, db, "renamed", 7);
	pitr_txn_commit(t, &ts[1]);
	is_inc(s, ct, 1, db, ts[0], 0, "renamed",
	       "inc_get after rename: latest name, created unchanged");

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d2", 2, &db2);
	pitr_txn_commit(t, &ts[2]);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_ct_rename(t, db, "renamed", 7, db2, "moved", 5), 0,
	       "inc_get: move the container to database d2");
	pitr_txn_commit(t, &ts[3]);
	is_inc(s, ct, 1, db2, ts[0], 0, "moved",
	       "inc_get after a move: new parent and name");

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_delete(t, db2, "moved", 5);
	pitr_txn_commit(t, &ts[4]);
	is_inc(s, ct, 1, db2, ts[0], ts[4], "moved",
	       "inc_get deleted container: deleted is the delete ts");
	is_inc(s, db, 0, 0, ts[0], 0, "d",
	       "inc_get: the first database is still alive");

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_delete(t, "d", 1);
	pitr_txn_commit(t, &ts[5]);
	is_inc(s, db, 0, 0, ts[0], ts[5], "d",
	       "inc_get deleted database: deleted is the delete ts");
	is_inc(s, db2, 0, 0, ts[2], 0, "d2",
	       "inc_get second database: its own creation, alive");

	pitr_txn_begin(s, PITR_TXN_READ, &t);
	is_int(pitr_inc_get(t, 999999, &info), PITR_NOTFOUND,
	       "inc_get unknown id: PITR_NOTFOUND");
	is_int(pitr_inc_get(t, 0, &info), PITR_NOTFOUND,
	       "inc_get id 0: PITR_NOTFOUND");
	is_int(pitr_inc_get(t, UINT64_MAX, &info), PITR_NOTFOUND,
	       "inc_get id UINT64_MAX: PITR_NOTFOUND");
	pitr_txn_abort(t);
	pitr_store_close(s);
}

/*
 * The daemon's rename(2) of a directory over an empty one: the target is
 * deleted and the source renamed onto its name, in one commit. Each event
 * must still be in the catalog.
 */
static void test_catalog_walk_replace(void)
{
	pitr_store *s = make_store("catalog-replace", NULL);
	uint64_t db, ca, cb, ts0, ts1;
	struct muts ms;
	pitr_txn *t;

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "a", 1, &ca);
	pitr_ct_create(t, db, "b", 1, &cb);
	is_int(pitr_txn_commit(t, &ts0), 0, "catalog replace: create a, b");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_ct_delete(t, db, "b", 1), 0,
	       "catalog replace: delete the empty target b");
	is_int(pitr_ct_rename(t, db, "a", 1, db, "b", 1), 0,
	       "catalog replace: rename a onto b, same commit");
	is_int(pitr_txn_commit(t, &ts1), 0, "catalog replace: commit");

	muts_init(&ms, 0, 0);
	is_int(walk_catalog(s, &ms), 0, "catalog replace walk: rc 0");
	is_int(ms.n, 6, "catalog replace walk: 6 events");
	is_int(count_mut(&ms, ts1, 0, PITR_OP_CT_DELETE, db, cb, "b", 0, 0), 1,
	       "catalog replace walk: delete of the replaced b");
	is_int(count_mut(&ms, ts1, 1, PITR_OP_CT_DELETE, db, ca, "a", 0, 0), 1,
	       "catalog replace walk: delete of old name a");
	is_int(count_mut(&ms, ts1, 2, PITR_OP_CT_CREATE, db, ca, "b", 0, 0), 1,
	       "catalog replace walk: create of b by a's incarnation");

	muts_init(&ms, 0, 0);
	walk_name(s, db, "b", &ms);
	is_int(ms.n, 3, "catalog replace: name walk b has 3 entries");
	is_mut(&ms, 0, ts0, 2, PITR_OP_CT_CREATE, db, cb, "b", 0, 0,
	       "catalog replace: name walk b[0]: b created");
	is_mut(&ms, 1, ts1, 0, PITR_OP_CT_DELETE, db, cb, "b", 0, 0,
	       "catalog replace: name walk b[1]: b deleted");
	is_mut(&ms, 2, ts1, 2, PITR_OP_CT_CREATE, db, ca, "b", 0, 0,
	       "catalog replace: name walk b[2]: a took the name");
	is_inc(s, cb, 1, db, ts0, ts1, "b",
	       "catalog replace: the replaced incarnation is deleted");
	pitr_store_close(s);
}

/*
 * pitr_name_walk (idx: the event's index in its commit's log)
 */

static void test_name_walk(void)
{
	pitr_store *s = make_store("names", NULL);
	uint64_t db, c1, c2, cc, cx, e1, e2, ts[8];
	struct muts ms;
	pitr_txn *t;

	/* ts0: database d, containers c, cc and "c\x01" (neighbours of "c"
	 * in key order). */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &c1);
	pitr_ct_create(t, db, "cc", 2, &cc);
	pitr_ct_create(t, db, "c\x01", 2, &cx);
	is_int(pitr_txn_commit(t, &ts[0]), 0, "names: create d, c, cc, c\\x01");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_delete(t, db, "c", 1);
	is_int(pitr_txn_commit(t, &ts[1]), 0, "names: delete c");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_create(t, db, "c", 1, &c2);
	is_int(pitr_txn_commit(t, &ts[2]), 0, "names: create c again");
	ok(c2 != c1, "names: a re-created container is a new incarnation");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_rename(t, db, "c", 1, db, "x", 1);
	is_int(pitr_txn_commit(t, &ts[3]), 0, "names: rename c to x");
	/* A database deleted and created again. */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "e", 1, &e1);
	pitr_txn_commit(t, &ts[4]);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_delete(t, "e", 1);
	pitr_txn_commit(t, &ts[5]);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "e", 1, &e2);
	pitr_txn_commit(t, &ts[6]);
	ok(e2 != e1, "names: a re-created database is a new incarnation");

	muts_init(&ms, 0, 0);
	is_int(walk_name(s, db, "c", &ms), 0, "name walk c: rc 0");
	is_int(ms.n, 4, "name walk c: 4 entries, not those of cc or c\\x01");
	is_mut(&ms, 0, ts[0], 1, PITR_OP_CT_CREATE, db, c1, "c", 0, 0,
	       "name walk c[0]: first incarnation created");
	is_mut(&ms, 1, ts[1], 0, PITR_OP_CT_DELETE, db, c1, "c", 0, 0,
	       "name walk c[1]: first incarnation deleted");
	is_mut(&ms, 2, ts[2], 0, PITR_OP_CT_CREATE, db, c2, "c", 0, 0,
	       "name walk c[2]: second incarnation created");
	is_mut(&ms, 3, ts[3], 0, PITR_OP_CT_DELETE, db, c2, "c", 0, 0,
	       "name walk c[3]: second incarnation renamed away");

	muts_init(&ms, 0, 0);
	walk_name(s, db, "x", &ms);
	is_int(ms.n, 1, "name walk x: one entry");
	is_mut(&ms, 0, ts[3], 1, PITR_OP_CT_CREATE, db, c2, "x", 0, 0,
	       "name walk x[0]: the renamed incarnation took the name");
	muts_init(&ms, 0, 0);
	walk_name(s, db, "cc", &ms);
	is_int(ms.n, 1, "name walk cc: one entry");
	is_mut(&ms, 0, ts[0], 2, PITR_OP_CT_CREATE, db, cc, "cc", 0, 0,
	       "name walk cc[0]: its create");
	muts_init(&ms, 0, 0);
	walk_name(s, db, "c\x01", &ms);
	is_int(ms.n, 1, "name walk c\\x01: one entry");
	is_mut(&ms, 0, ts[0], 3, PITR_OP_CT_CREATE, db, cx, "c\x01", 0, 0,
	       "name walk c\\x01[0]: its create");

	muts_init(&ms, 0, 0);
	is_int(walk_name(s, 0, "e", &ms), 0, "name walk database e: rc 0");
	is_int(ms.n, 3, "name walk database e: 3 entries");
	is_mut(&ms, 0, ts[4], 0, PITR_OP_DB_CREATE, 0, e1, "e", 0, 0,
	       "name walk e[0]: first incarnation created");
	is_mut(&ms, 1, ts[5], 0, PITR_OP_DB_DELETE, 0, e1, "e", 0, 0,
	       "name walk e[1]: first incarnation deleted");
	is_mut(&ms, 2, ts[6], 0, PITR_OP_DB_CREATE, 0, e2, "e", 0, 0,
	       "name walk e[2]: second incarnation created");
	muts_init(&ms, 0, 0);
	walk_name(s, 0, "d", &ms);
	is_int(ms.n, 1, "name walk database d: one entry");
	is_mut(&ms, 0, ts[0], 0, PITR_OP_DB_CREATE, 0, db, "d", 0, 0,
	       "name walk d[0]: its create");

	muts_init(&ms, 0, 0);
	is_int(walk_name(s, db, "nope", &ms), 0, "name walk unknown name: 0");
	is_int(ms.calls, 0, "name walk unknown name: no callback");
	muts_init(&ms, 0, 0);
	walk_name(s, db + 1000, "c", &ms);
	is_int(ms.calls, 0, "name walk under an unknown parent: no callback");
	muts_init(&ms, 0, 0);
	walk_name(s, 0, "c", &ms);
	is_int(ms.calls, 0, "name walk container name as a database: none");
	muts_init(&ms, 0, 0);
	walk_name(s, 0, "zzz", &ms);
	is_int(ms.calls, 0, "name walk past every key: no callback");

	muts_init(&ms, 2, 3);
	is_int(walk_name(s, db, "c", &ms), 3,
	       "name walk stopped at the 2nd callback returns its 3");
	is_int(ms.calls, 2, "name walk stopped: no callback after the 2nd");
	pitr_store_close(s);
}

/*
 * pitr_doc_walk
 */

static void test_doc_walk(void)
{
	pitr_store *s = make_store("docwalk", NULL);
	const char *v1 = "{\"v\":1}", *v2 = "{\"v\":\"second\"}",
		   *v3 = "{\"v\":[3,3,3]}";
	uint64_t ct, ts[4];
	struct muts ms;
	pitr_txn *t;

	ct = make_ct(s, "d", "c", NULL, NULL);
	/* Neighbours of "x" in key order. */
	put(s, ct, "w", "{}", NULL);
	put(s, ct, "xa", "{}", NULL);
	put(s, ct, "x\x01", "{}", NULL);
	is_int(put(s, ct, "x", v1, &ts[0]), 0, "doc walk: put v1");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_doc_put(t, ct, "y", 1, "{}", 2);
	pitr_doc_put(t, ct, "x", 1, v2, strlen(v2));
	is_int(pitr_txn_commit(t, &ts[1]), 0, "doc walk: put y, then v2");
	is_int(del(s, ct, "x", &ts[2]), 0, "doc walk: delete");
	is_int(put(s, ct, "x", v3, &ts[3]), 0, "doc walk: put v3");
	put(s, ct, "xa", "{\"later\":1}", NULL);

	muts_init(&ms, 0, 0);
	is_int(walk_doc(s, ct, "x", &ms), 0, "doc walk x: rc 0");
	is_int(ms.n, 4, "doc walk x: 4 versions, none of its neighbours");
	is_mut(&ms, 0, ts[0], 0, PITR_OP_DOC_PUT, ct, 0, "x",
	       (uint32_t)strlen(v1), etag_of(v1), "doc walk x[0]: put v1");
	is_mut(&ms, 1, ts[1], 1, PITR_OP_DOC_PUT, ct, 0, "x",
	       (uint32_t)strlen(v2), etag_of(v2),
	       "doc walk x[1]: put v2, second of its commit (idx 1)");
	is_mut(&ms, 2, ts[2], 0, PITR_OP_DOC_DELETE, ct, 0, "x", 0, 0,
	       "doc walk x[2]: delete, size 0, etag 0");
	is_mut(&ms, 3, ts[3], 0, PITR_OP_DOC_PUT, ct, 0, "x",
	       (uint32_t)strlen(v3), etag_of(v3), "doc walk x[3]: put v3");
	ok(ms.n == 4 && ms.m[0].ts < ms.m[1].ts && ms.m[1].ts < ms.m[2].ts &&
	       ms.m[2].ts < ms.m[3].ts,
	   "doc walk x: timestamps strictly increasing");
	is_u64(ms.m[0].etag, stat_etag(s, ct, "x", ts[0]),
	       "doc walk x[0]: etag equals pitr_doc_stat's at ts0");
	is_u64(ms.m[1].etag, stat_etag(s, ct, "x", ts[2] - 1),
	       "doc walk x[1]: etag equals pitr_doc_stat's before the delete");
	is_u64(ms.m[3].etag, stat_etag(s, ct, "x", PITR_NOW),
	       "doc walk x[3]: etag equals pitr_doc_stat's now");

	muts_init(&ms, 0, 0);
	is_int(walk_doc(s, ct, "nope", &ms), 0, "doc walk unknown id: rc 0");
	is_int(ms.calls, 0, "doc walk unknown id: no callback");
	muts_init(&ms, 0, 0);
	is_int(walk_doc(s, ct + 1000, "x", &ms), 0,
	       "doc walk unknown container: rc 0");
	is_int(ms.calls, 0, "doc walk unknown container: no callback");
	muts_init(&ms, 0, 0);
	walk_doc(s, ct, "zzz", &ms);
	is_int(ms.calls, 0, "doc walk id past every key: no callback");
	muts_init(&ms, 0, 0);
	walk_doc(s, ct, "xa", &ms);
	is_int(ms.n, 2, "doc walk xa: its own 2 versions");

	muts_init(&ms, 3, 11);
	is_int(walk_doc(s, ct, "x", &ms), 11,
	       "doc walk stopped at the 3rd callback returns its 11");
	is_int(ms.calls, 3, "doc walk stopped: no callback after the 3rd");
	pitr_store_close(s);
}

/*
 * pitr_doc_copy
 */

/* Flip one byte near the end of the log record (ts, idx): its body. */
static int damage_log(pitr_store *s, uint64_t ts, uint32_t idx)
{
	unsigned char lk[12];
	MDB_val key = { 12, lk }, val;
	pitr_txn *t;
	int rc;

	if ((rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t)))
		return rc;
	key_log(lk, ts, idx);
	rc = mdb_get(t->txn, s->log, &key, &val);
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	unsigned char *copy = malloc(val.mv_size);
	if (!copy) {
		pitr_txn_abort(t);
		return ENOMEM;
	}
	memcpy(copy, val.mv_data, val.mv_size);
	copy[val.mv_size - 2] ^= 0x20;
	val.mv_data = copy;
	rc = mdb_put(t->txn, s->log, &key, &val, 0);
	free(copy);
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, NULL);
}

/* The raw log record (ts, idx): its flags and stored body, malloc'd. */
static int log_stored(pitr_store *s, uint64_t ts, uint32_t idx, int *flags,
		      void **stored, size_t *len)
{
	unsigned char lk[12];
	MDB_val key = { 12, lk }, val;
	struct log_rec r;
	pitr_txn *t;
	int rc;

	*stored = NULL;
	if ((rc = pitr_txn_begin(s, PITR_TXN_READ, &t)))
		return rc;
	key_log(lk, ts, idx);
	rc = mdb_rc(mdb_get(t->txn, s->log, &key, &val));
	if (!rc)
		rc = log_decode(&key, &val, &r);
	if (!rc && !(*stored = malloc(r.stored ? r.stored : 1)))
		rc = ENOMEM;
	if (!rc) {
		memcpy(*stored, r.body, r.stored);
		*len = r.stored;
		*flags = r.flags;
	}
	pitr_txn_abort(t);
	return rc;
}

/* Copy `id` of `sct` at `at` from `src` to `dct` of `dst`, in one commit;
 * `err` (may be NULL) receives pitr_txn_error of the destination. */
static int copy_doc(pitr_store *dst, uint64_t dct, pitr_store *src,
		    uint64_t sct, const char *id, uint64_t at, uint64_t *ts,
		    char *err, size_t errlen)
{
	pitr_txn *dt, *st;
	int rc;

	if ((rc = pitr_txn_begin(src, PITR_TXN_READ, &st)))
		return rc;
	if ((rc = pitr_txn_begin(dst, PITR_TXN_WRITE, &dt))) {
		pitr_txn_abort(st);
		return rc;
	}
	rc = pitr_doc_copy(dt, dct, st, sct, id, strlen(id), at);
	if (err)
		snprintf(err, errlen, "%s", pitr_txn_error(dt));
	/* Committed even on failure: whatever a failed copy wrote would be
	 * kept. */
	int crc = pitr_txn_commit(dt, ts);
	pitr_txn_abort(st);
	return rc ? rc : crc;
}

static void test_doc_copy(void)
{
	pitr_store *src = make_store("copysrc", NULL);
	pitr_store *dst = make_store("copydst", NULL);
	char big[1024], buf[2048], err[200];
	const char *b2 = "{\"v\":2}", *dmg = "{\"k\":\"v\"}";
	uint64_t sct, dct, ts[4], cts, dts;
	pitr_version v, sv;
	struct muts ms;
	pitr_info before, after;
	pitr_txn *t, *st;

	/* A compressible body (stored lz4) and a small one (stored raw). */
	size_t n = (size_t)snprintf(big, sizeof(big), "{\"text\":\"");
	while (n < 900)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "abcabcabc ");
	snprintf(big + n, sizeof(big) - n, "\"}");

	sct = make_ct(src, "d", "c", NULL, NULL);
	dct = make_ct(dst, "d", "c", NULL, NULL);
	is_int(put(src, sct, "doc", big, &ts[0]), 0, "copy: src put big v1");
	is_int(put(src, sct, "doc", b2, &ts[1]), 0, "copy: src put small v2");
	is_int(del(src, sct, "doc", &ts[2]), 0, "copy: src delete");

	/* The version of a past instant. */
	is_int(copy_doc(dst, dct, src, sct, "doc", ts[0], &cts, NULL, 0), 0,
	       "copy v1 at ts0: rc 0");
	is_int(get(dst, dct, "doc", PITR_NOW, &v, buf, sizeof(buf)), 0,
	       "copy v1: readable in the destination");
	is_str(buf, big, "copy v1: identical bytes in the destination");
	stat_at(src, sct, "doc", ts[0], &sv);
	is_u64(v.etag, sv.etag, "copy v1: same etag as the source version");
	is_u64(v.etag, etag_of(big), "copy v1: etag is XXH3 of the bytes");
	is_int(v.size, strlen(big), "copy v1: same size");
	is_u64(v.ts, cts, "copy v1: the destination's own commit timestamp");
	ok(cts != ts[0], "copy v1: not the source's timestamp");
	muts_init(&ms, 0, 0);
	walk_doc(dst, dct, "doc", &ms);
	is_int(ms.n, 1, "copy v1: one version in the destination");
	is_mut(&ms, 0, cts, 0, PITR_OP_DOC_PUT, dct, 0, "doc",
	       (uint32_t)strlen(big), etag_of(big),
	       "copy v1: destination version: put, its ts, size, etag");

	/* The stored (compressed) bytes are copied as they are. */
	void *sbytes = NULL, *dbytes = NULL;
	size_t slen = 0, dlen = 0;
	int sflags = 0, dflags = 0;
	is_int(log_stored(src, ts[0], 0, &sflags, &sbytes, &slen), 0,
	       "copy v1: read the source log record");
	is_int(log_stored(dst, cts, 0, &dflags, &dbytes, &dlen), 0,
	       "copy v1: read the destination log record");
	ok(sflags & LOG_LZ4, "copy v1: the source body is stored lz4");
	is_int(dflags, sflags, "copy v1: same storage flags");
	ok(slen == dlen && slen < strlen(big) && sbytes && dbytes &&
	       !memcmp(sbytes, dbytes, slen),
	   "copy v1: identical stored bytes (%zu, compressed)", dlen);
	free(sbytes);
	free(dbytes);

	/* Just before the next version: still v1. Then v2 over it. */
	is_int(copy_doc(dst, dct, src, sct, "doc", ts[1] - 1, NULL, NULL, 0), 0,
	       "copy at ts1-1: rc 0");
	get(dst, dct, "doc", PITR_NOW, NULL, buf, sizeof(buf));
	is_str(buf, big, "copy at ts1-1: v1");
	is_int(copy_doc(dst, dct, src, sct, "doc", ts[1], &cts, NULL, 0), 0,
	       "copy v2 at ts1: rc 0");
	get(dst, dct, "doc", PITR_NOW, &v, buf, sizeof(buf));
	is_str(buf, b2, "copy v2: replaces the current version");
	is_u64(v.etag, stat_etag(src, sct, "doc", ts[1]),
	       "copy v2: same etag as the source version");
	is_u64(v.ts, cts, "copy v2: the destination's own timestamp");

	/* Instants when the document did not exist. */
	pitr_store_info(dst, &before);
	is_int(copy_doc(dst, dct, src, sct, "doc", ts[0] - 1, NULL, NULL, 0),
	       PITR_NOTFOUND, "copy before the document existed: NOTFOUND");
	is_int(copy_doc(dst, dct, src, sct, "doc", ts[2], NULL, NULL, 0),
	       PITR_NOTFOUND, "copy at its delete: PITR_NOTFOUND");
	is_int(copy_doc(dst, dct, src, sct, "doc", PITR_NOW, NULL, NULL, 0),
	       PITR_NOTFOUND, "copy now, after its delete: PITR_NOTFOUND");
	is_int(copy_doc(dst, dct, src, sct, "nope", PITR_NOW, NULL, NULL, 0),
	       PITR_NOTFOUND, "copy an unknown id: PITR_NOTFOUND");
	pitr_store_info(dst, &after);
	is_u64(after.mutations, before.mutations,
	       "copy NOTFOUND: nothing written to the destination");

	/* Into a read transaction: refused. */
	pitr_txn_begin(src, PITR_TXN_READ, &st);
	pitr_txn_begin(dst, PITR_TXN_READ, &t);
	is_int(pitr_doc_copy(t, dct, st, sct, "doc", 3, ts[0]), PITR_RDONLY,
	       "copy into a read transaction: PITR_RDONLY");
	pitr_txn_abort(t);
	pitr_txn_abort(st);

	/* A damaged body is refused and nothing reaches the destination. */
	is_int(put(src, sct, "dmg", dmg, &ts[3]), 0, "copy: src put dmg");
	muts_init(&ms, 0, 0);
	walk_doc(src, sct, "dmg", &ms);
	is_int(damage_log(src, ts[3], ms.n ? ms.m[0].idx : 0), 0,
	       "copy: damage the stored body of dmg");
	is_int(get(src, sct, "dmg", PITR_NOW, NULL, buf, sizeof(buf)),
	       PITR_CORRUPT, "copy: the damaged body fails its checksum");
	pitr_store_info(dst, &before);
	is_int(copy_doc(dst, dct, src, sct, "dmg", PITR_NOW, &dts, err,
			sizeof(err)),
	       PITR_CORRUPT, "copy a damaged body: PITR_CORRUPT");
	ok(strstr(err, "checksum") != NULL,
	   "copy a damaged body: destination error says why (%s)", err);
	pitr_store_info(dst, &after);
	is_u64(after.mutations, before.mutations,
	       "copy a damaged body: no mutation in the destination");
	is_u64(after.last_write, before.last_write,
	       "copy a damaged body: destination last write unchanged");
	is_int(stat_at(dst, dct, "dmg", PITR_NOW, &v), PITR_NOTFOUND,
	       "copy a damaged body: no document in the destination");
	muts_init(&ms, 0, 0);
	walk_log(dst, before.last_write, PITR_NOW, &ms);
	is_int(ms.n, 0, "copy a damaged body: nothing in the destination log");
	muts_init(&ms, 0, 0);
	walk_doc(dst, dct, "dmg", &ms);
	is_int(ms.n, 0, "copy a damaged body: no version in the destination");

	/* The source's other versions still copy. */
	is_int(copy_doc(dst, dct, src, sct, "doc", ts[0], NULL, NULL, 0), 0,
	       "copy from the damaged store, another version: rc 0");
	get(dst, dct, "doc", PITR_NOW, NULL, buf, sizeof(buf));
	is_str(buf, big, "copy from the damaged store: identical bytes");
	pitr_store_close(src);
	pitr_store_close(dst);
}

/*
 * pitr_ct_before_emptied
 */

static int before_emptied(pitr_store *s, uint64_t ct, uint64_t *at)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_READ, &t);

	*at = 0;
	if (rc)
		return rc;
	rc = pitr_ct_before_emptied(t, ct, at);
	pitr_txn_abort(t);
	return rc;
}

static void test_before_emptied(void)
{
	pitr_store *s = make_store("emptied", NULL);
	uint64_t db, full, mixed, again, nodel, empty, at, first = 0, ts;
	uint64_t t_del_a = 0, t_del_b = 0;
	pitr_txn *t;
	char buf[256], id[8];
	int rc, fails = 0;

	full = make_ct(s, "d", "full", &db, NULL);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_create(t, db, "mixed", 5, &mixed);
	pitr_ct_create(t, db, "again", 5, &again);
	pitr_ct_create(t, db, "nodel", 5, &nodel);
	pitr_ct_create(t, db, "empty", 5, &empty);
	pitr_txn_commit(t, NULL);

	/* Five documents, then deleted one by one, then the container. */
	for (int i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		fails += put(s, full, id, "{\"x\":1}", NULL) != 0;
	}
	put(s, full, "d3", "{\"x\":2}", NULL); /* a later version */
	for (int i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		fails += del(s, full, id, &ts) != 0;
		if (i == 1)
			first = ts;
	}
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	rc = pitr_ct_delete(t, db, "full", 4);
	pitr_txn_commit(t, NULL);
	is_int(fails, 0, "emptied: 5 puts and 5 deletes");
	is_int(rc, 0, "emptied: the container is deleted");
	is_int(before_emptied(s, full, &at), 0, "emptied rm -r: rc 0");
	is_u64(at, first - 1, "emptied rm -r: one ns before the first delete");
	list(s, PITR_LIST_DOCUMENTS, full, at, buf, sizeof(buf));
	is_str(buf, "d1,d2,d3,d4,d5",
	       "emptied rm -r: all 5 docs at that instant");
	get(s, full, "d3", at, NULL, buf, sizeof(buf));
	is_str(buf, "{\"x\":2}", "emptied rm -r: their last versions");
	list(s, PITR_LIST_DOCUMENTS, full, at + 1, buf, sizeof(buf));
	is_str(buf, "d2,d3,d4,d5", "emptied rm -r: one fewer a ns later");

	/* put a, b; delete a; put c; delete b, c: the delete of a came before
	 * the last put and does not count. */
	put(s, mixed, "a", "{}", NULL);
	put(s, mixed, "b", "{}", NULL);
	del(s, mixed, "a", &t_del_a);
	put(s, mixed, "c", "{}", NULL);
	del(s, mixed, "b", &t_del_b);
	del(s, mixed, "c", NULL);
	is_int(before_emptied(s, mixed, &at), 0, "emptied mixed: rc 0");
	is_u64(at, t_del_b - 1,
	       "emptied mixed: before the first delete after the last put");
	ok(at != t_del_a - 1, "emptied mixed: the earlier delete not counted");
	list(s, PITR_LIST_DOCUMENTS, mixed, at, buf, sizeof(buf));
	is_str(buf, "b,c", "emptied mixed: b and c at that instant");

	/* A delete followed by a later put, no delete after it. */
	put(s, again, "a", "{}", NULL);
	del(s, again, "a", NULL);
	put(s, again, "a", "{\"back\":1}", NULL);
	is_int(before_emptied(s, again, &at), PITR_NOTFOUND,
	       "emptied: a delete before the last put: PITR_NOTFOUND");

	/* No deletes at all. */
	put(s, nodel, "a", "{}", NULL);
	put(s, nodel, "b", "{}", NULL);
	is_int(before_emptied(s, nodel, &at), PITR_NOTFOUND,
	       "emptied: a container with no deletes: PITR_NOTFOUND");
	is_int(before_emptied(s, empty, &at), PITR_NOTFOUND,
	       "emptied: a container never written: PITR_NOTFOUND");
	is_int(before_emptied(s, 999999, &at), PITR_NOTFOUND,
	       "emptied: an unknown container: PITR_NOTFOUND");
	pitr_store_close(s);
}

/*
 * pitr_store_set_policy, pitr_store_policy
 */

static void is_policy(pitr_store *s, int mode, uint64_t retention,
		      uint64_t interval, const char *what)
{
	pitr_policy p;
	int rc;

	memset(&p, 0xa5, sizeof(p));
	rc = pitr_store_policy(s, &p);
	if (ok(rc == 0 && (int)p.mode == mode && p.retention == retention &&
		   p.interval == interval,
	       "%s", what))
		return;
	printf("#   got rc %d mode %d retention %" PRIu64 " interval %" PRIu64
	       "\n#  want rc 0 mode %d retention %" PRIu64 " interval %" PRIu64
	       "\n",
	       rc, (int)p.mode, p.retention, p.interval, mode, retention,
	       interval);
}

static pitr_store *reopen(pitr_store *s, const char *name)
{
	char path[300];
	pitr_store *s2 = NULL;

	pitr_store_close(s);
	path_of(name, path, sizeof(path));
	if (pitr_store_open(path, 0, &s2)) {
		fprintf(stderr, "cannot reopen %s\n", path);
		exit(2);
	}
	return s2;
}

static void test_policy(void)
{
	pitr_policy cont7 = { PITR_CONTINUOUS, 7 * DAY, 0 };
	pitr_policy per = { PITR_PERIODIC, 2 * DAY, HOUR };
	pitr_policy bad0 = { PITR_CONTINUOUS, 0, 0 };
	pitr_policy badint = { PITR_CONTINUOUS, DAY, HOUR };
	pitr_store *s = make_store("policy", NULL);
	pitr_info info;

	is_policy(s, PITR_CONTINUOUS, 30 * DAY, 0,
		  "policy: created continuous, 30 days");
	is_int(pitr_store_set_policy(s, &cont7), 0,
	       "policy: change retention to 7 days");
	is_policy(s, PITR_CONTINUOUS, 7 * DAY, 0, "policy: now 7 days");
	pitr_store_info(s, &info);
	ok(info.policy.retention == 7 * DAY, "policy: info shows 7 days");
	s = reopen(s, "policy");
	is_policy(s, PITR_CONTINUOUS, 7 * DAY, 0,
		  "policy: 7 days persists across close and reopen");

	is_int(pitr_store_set_policy(s, &per), PITR_BADPOLICY,
	       "policy: continuous to periodic refused");
	is_policy(s, PITR_CONTINUOUS, 7 * DAY, 0,
		  "policy: refused change leaves it continuous, 7 days");
	is_int(pitr_store_set_policy(s, &bad0), PITR_BADPOLICY,
	       "policy: retention 0 refused");
	is_int(pitr_store_set_policy(s, &badint), PITR_BADPOLICY,
	       "policy: continuous with an interval refused");
	is_policy(s, PITR_CONTINUOUS, 7 * DAY, 0,
		  "policy: invalid policies leave it unchanged");
	s = reopen(s, "policy");
	is_policy(s, PITR_CONTINUOUS, 7 * DAY, 0,
		  "policy: refused changes stored nothing");
	pitr_store_close(s);

	/* Periodic: retention may change, and it may become continuous. */
	s = make_store("policy-periodic", &per);
	is_policy(s, PITR_PERIODIC, 2 * DAY, HOUR,
		  "policy: created periodic, 2 days, hourly");
	pitr_policy per3 = { PITR_PERIODIC, 3 * DAY, HOUR };
	is_int(pitr_store_set_policy(s, &per3), 0,
	       "policy: periodic retention change allowed");
	is_policy(s, PITR_PERIODIC, 3 * DAY, HOUR, "policy: now 3 days");
	pitr_policy per_bad = { PITR_PERIODIC, HOUR, HOUR };
	is_int(pitr_store_set_policy(s, &per_bad), PITR_BADPOLICY,
	       "policy: periodic retention below 2 intervals refused");
	is_int(pitr_store_set_policy(s, &cont7), 0,
	       "policy: periodic to continuous allowed");
	is_policy(s, PITR_CONTINUOUS, 7 * DAY, 0,
		  "policy: now continuous, 7 days");
	s = reopen(s, "policy-periodic");
	is_policy(s, PITR_CONTINUOUS, 7 * DAY, 0,
		  "policy: continuous persists across close and reopen");
	is_int(pitr_store_set_policy(s, &per3), PITR_BADPOLICY,
	       "policy: and cannot go back to periodic");
	is_policy(s, PITR_CONTINUOUS, 7 * DAY, 0,
		  "policy: still continuous, 7 days");
	pitr_store_close(s);
}

/*
 * pitr_store_destroy
 */

static void test_destroy(void)
{
	pitr_config cfg = { 0 };
	char path[300], file[400];
	pitr_store *s = NULL;

	pitr_policy_default(&cfg.policy);
	path_of("doomed", path, sizeof(path));
	is_int(pitr_store_create(path, &cfg), 0, "destroy: create an account");
	is_int(pitr_store_destroy(path), 0, "destroy: rc 0");
	ok(!exists(path), "destroy: the directory is gone");

	path_of("busy", path, sizeof(path));
	is_int(pitr_store_create(path, &cfg), 0, "destroy: create busy");
	is_int(pitr_store_open(path, PITR_OPEN_DAEMON, &s), 0,
	       "destroy: open busy as the daemon");
	is_int(pitr_store_destroy(path), PITR_BUSY,
	       "destroy while a daemon holds it: PITR_BUSY");
	ok(exists(path), "destroy refused: the directory still exists");
	snprintf(file, sizeof(file), "%s/data.mdb", path);
	ok(exists(file), "destroy refused: its data file still exists");
	if (s) {
		/* The daemon still holds it after the refused destroy. */
		pitr_txn *t;
		uint64_t db;
		is_int(pitr_txn_begin(s, PITR_TXN_WRITE, &t), 0,
		       "destroy refused: the daemon still writes");
		pitr_db_create(t, "d", 1, &db);
		is_int(pitr_txn_commit(t, NULL), 0,
		       "destroy refused: and commits");
		pitr_store_close(s);
	}
	is_int(pitr_store_destroy(path), 0, "destroy after close: rc 0");
	ok(!exists(path), "destroy after close: the directory is gone");
}

/*
 * The read floor
 */

static int meta_u64(pitr_store *s, const char *key, uint64_t *v)
{
	MDB_val k = { strlen(key), (void *)key }, val;
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_READ, &t);

	*v = 0;
	if (rc)
		return rc;
	rc = mdb_get(t->txn, s->meta, &k, &val);
	if (!rc && val.mv_size == 8)
		*v = get_le64(val.mv_data);
	else if (!rc)
		rc = PITR_CORRUPT;
	pitr_txn_abort(t);
	return rc;
}

static void test_read_floor(void)
{
	pitr_store *s = make_store("floor", NULL);
	uint64_t at, ts, floor, db;
	pitr_txn *t;

	make_ct(s, "d", "c", &db, NULL);
	is_int(pitr_store_resolve(s, "-0s", 3, &at), 0,
	       "read floor: resolve -0s");
	is_int(pitr_txn_begin(s, PITR_TXN_WRITE, &t), 0,
	       "read floor: begin a write");
	ts = pitr_txn_ts(t);
	ok(ts > at, "read floor: the write's ts is after the resolved instant");
	pitr_db_create(t, "e", 1, NULL);
	uint64_t cts = 0;
	is_int(pitr_txn_commit(t, &cts), 0, "read floor: commit the write");
	is_u64(cts, ts, "read floor: it commits under pitr_txn_ts");
	is_int(meta_u64(s, "read_floor", &floor), 0,
	       "read floor: stored for other processes");
	is_u64(floor, at, "read floor: the stored floor is the instant");

	/* A floor recorded by another process (faked an hour ahead) is
	 * obeyed by a handle that never resolved it. */
	s = reopen(s, "floor");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	unsigned char b[8];
	uint64_t ahead = pitr_clock() + HOUR;
	put_le64(b, ahead);
	MDB_val k = { 10, (void *)"read_floor" }, v = { 8, b };
	int rc = mdb_put(t->txn, s->meta, &k, &v, 0);
	pitr_txn_commit(t, NULL);
	is_int(rc, 0, "read floor: fake a floor an hour ahead");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_u64(pitr_txn_ts(t), ahead + 1,
	       "read floor: a later write lands just after the stored floor");
	pitr_txn_abort(t);
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	is_u64(pitr_txn_ts(t), 0, "read floor: a read transaction has ts 0");
	pitr_txn_abort(t);
	pitr_store_close(s);
}

/*
 * Listings at an instant, against one lookup per name: documents and
 * containers with few and with many versions (more than a cursor steps
 * through before it seeks), deleted, recreated, born later; whole and
 * resumed after a name.
 */
#define L_IDS	  24
#define L_MUTS	  1200
#define L_CTS	  4
#define L_CT_MUTS 120

/* List `kind` of `parent` at `at` in pages of `page`: "name@ts,..." */
static void list_at(pitr_store *s, enum pitr_list_kind kind, uint64_t parent,
		    uint64_t at, int page, char *out, size_t size)
{
	char last[PITR_NAME_MAX + 1] = "";
	size_t used = 0, lastlen = 0;
	int started = 0, rc = 0;

	out[0] = 0;
	while (!rc) {
		pitr_txn *t;
		pitr_iter *it;
		pitr_entry e;
		int n = 0;

		if (pitr_txn_begin(s, PITR_TXN_READ, &t))
			return;
		rc = pitr_iter_begin(t, kind, parent, at, started ? last : NULL,
				     lastlen, 0, &it);
		while (!rc && n < page && !(rc = pitr_iter_next(it, &e))) {
			used += (size_t)snprintf(
			    out + used, size - used, "%.*s@%" PRIu64 ",",
			    (int)e.namelen, e.name,
			    kind == PITR_LIST_DOCUMENTS ? e.ver.ts : e.inc);
			memcpy(last, e.name, e.namelen);
			lastlen = e.namelen;
			started = 1;
			n++;
		}
		pitr_iter_end(it);
		pitr_txn_abort(t);
	}
	if (rc != PITR_NOTFOUND)
		snprintf(out, size, "error %d", rc);
}

/* The same, one lookup per name that ever was. */
static void lookup_at(pitr_store *s, enum pitr_list_kind kind, uint64_t parent,
		      uint64_t at, const char *const *names, int n, char *out,
		      size_t size)
{
	size_t used = 0;
	pitr_txn *t;

	out[0] = 0;
	if (pitr_txn_begin(s, PITR_TXN_READ, &t))
		return;
	for (int i = 0; i < n; i++) {
		pitr_version v;
		uint64_t inc, val;
		int rc;

		if (kind == PITR_LIST_DOCUMENTS) {
			rc = pitr_doc_stat(t, parent, names[i],
					   strlen(names[i]), at, &v);
			val = v.ts;
		} else {
			rc = pitr_ct_lookup(t, at, parent, names[i],
					    strlen(names[i]), &inc);
			val = inc;
		}
		if (!rc)
			used +=
			    (size_t)snprintf(out + used, size - used,
					     "%s@%" PRIu64 ",", names[i], val);
	}
	pitr_txn_abort(t);
}

/* Does the listing at `at` match the lookups? Says how not, if `say`. */
static int listing_matches(pitr_store *s, enum pitr_list_kind kind,
			   uint64_t parent, uint64_t at, int page,
			   const char *const *names, int n, int say)
{
	static char got[L_IDS * 40], want[L_IDS * 40];

	list_at(s, kind, parent, at, page, got, sizeof(got));
	lookup_at(s, kind, parent, at, names, n, want, sizeof(want));
	if (strcmp(got, want) && say)
		printf("# at %" PRIu64 ": listed %s, looked up %s\n", at, got,
		       want);
	return !strcmp(got, want);
}

static void test_listing_at(void)
{
	static char ids[L_IDS][8], cts[L_CTS][8];
	const char *idp[L_IDS], *ctp[L_CTS + 1];
	static uint64_t when[L_MUTS + L_CT_MUTS];
	int alive[L_IDS] = { 0 }, ct_alive[L_CTS] = { 0 };
	uint64_t seed = 42, db, ct, ts;
	int nwhen = 0, bad = 0, checked = 0;
	pitr_store *s = make_store("listing", NULL);

	ct = make_ct(s, "db", "docs", &db, NULL);
	for (int i = 0; i < L_IDS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "d%02d", i);
		idp[i] = ids[i];
	}
	for (int i = 0; i < L_CTS; i++) {
		snprintf(cts[i], sizeof(cts[i]), "c%d", i);
		ctp[i] = cts[i];
	}
	ctp[L_CTS] = "docs"; /* sorts after c0..c3 */
	for (int m = 0; m < L_MUTS; m++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* d00 and d01 change most: dozens of versions each */
		int i = (seed >> 33) % 4 == 0 ? (int)(seed >> 40) % 2
					      : (int)((seed >> 40) % L_IDS);
		int rc;

		/* No document leaves in the last 200 mutations, so that
		 * listings there walk the live table (format 2). */
		if (alive[i] && (seed >> 20) % 4 == 0 && m < L_MUTS - 200) {
			rc = del(s, ct, ids[i], &ts);
			alive[i] = 0;
		} else if (i >= L_IDS - 4 && m < L_MUTS - 100) {
			continue; /* the last ones are born late */
		} else {
			rc = put(s, ct, ids[i], "{\"v\": 1}", &ts);
			alive[i] = 1;
		}
		if (rc) {
			ok(0, "mutation %d: %s", m, pitr_strerror(rc));
			return;
		}
		when[nwhen++] = ts;
	}
	for (int m = 0; m < L_CT_MUTS; m++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int i = (seed >> 33) % 2 ? 0 : (int)((seed >> 40) % L_CTS);
		pitr_txn *t;
		int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

		if (!rc)
			rc = ct_alive[i]
				 ? pitr_ct_delete(t, db, cts[i], 2)
				 : pitr_ct_create(t, db, cts[i], 2, NULL);
		if (!rc)
			rc = pitr_txn_commit(t, &ts);
		else
			pitr_txn_abort(t);
		if (rc) {
			ok(0, "container mutation %d: %s", m,
			   pitr_strerror(rc));
			return;
		}
		ct_alive[i] = !ct_alive[i];
		when[nwhen++] = ts;
	}
	for (int w = 0; w < nwhen; w += 7) {
		for (uint64_t at = when[w] - 1; at <= when[w]; at++) {
			for (int page = 3; page <= 1000; page += 997) {
				bad += !listing_matches(s, PITR_LIST_DOCUMENTS,
							ct, at, page, idp,
							L_IDS, !bad);
				bad += !listing_matches(s, PITR_LIST_CONTAINERS,
							db, at, page, ctp,
							L_CTS + 1, !bad);
				checked++;
			}
		}
	}
	ok(!bad, "%d listings at %d instants match one lookup per name",
	   2 * checked, checked / 2);
	pitr_store_close(s);
}

static void count_problem(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	(*(int *)arg)++;
}

/* What is pending for the media: nothing without a directory; with one,
 * every mutation after the last shipped, the oldest first. */
static void test_backup_status(void)
{
	pitr_store *s = make_store("status", NULL);
	pitr_backup_info b;
	uint64_t ct, ts[3], n = 0;
	char media[300];

	ct = make_ct(s, "db", "ct", NULL, NULL);
	put(s, ct, "a", "{}", &ts[0]);
	put(s, ct, "b", "{}", NULL);
	is_int(pitr_backup_status(s, &b), 0, "status: no media");
	ok(!*b.dir && b.pending == 0 && b.oldest_pending == 0 && b.shipped == 0,
	   "status: nothing bound for media without a directory");
	path_of("status-media", media, sizeof(media));
	mkdir(media, 0700);
	is_int(pitr_backup_set_dir(s, media), 0, "status: set media");
	is_int(pitr_backup_status(s, &b), 0, "status: media set");
	is_u64(b.pending, 4, "status: db, ct and two puts pending");
	is_int(pitr_backup_ship(s, 1, &n), 0, "status: ship");
	is_u64(n, 4, "status: four shipped");
	is_int(pitr_backup_status(s, &b), 0, "status: shipped");
	ok(b.pending == 0 && b.oldest_pending == 0 && b.shipped >= ts[0],
	   "status: none pending after shipping");
	put(s, ct, "c", "{}", &ts[1]);
	del(s, ct, "a", &ts[2]);
	is_int(pitr_backup_status(s, &b), 0, "status: two more");
	is_u64(b.pending, 2, "status: a put and a delete pending");
	is_u64(b.oldest_pending, ts[1], "status: the oldest pending");

	/* A damaged record is never shipped, and status says why; the
	 * commits before it are. */
	is_int(damage_log(s, ts[2], 0), 0, "status: damaged a");
	is_int(pitr_backup_ship(s, 1, &n), PITR_CORRUPT,
	       "status: a damaged record stops shipping");
	is_u64(n, 1, "status: the commit before it shipped");
	is_int(pitr_backup_status(s, &b), 0, "status: after the damage");
	ok(strstr(b.error, "damaged") != NULL, "status: says so (%s)", b.error);
	is_u64(b.pending, 1, "status: the damaged one still pending");
	is_u64(b.oldest_pending, ts[2], "status: from the damaged commit");
	is_int(pitr_backup_ship(s, 1, &n), PITR_CORRUPT,
	       "status: and shipping stays stopped there");
	is_u64(n, 0, "status: with nothing more shipped");
	uint64_t segs, complete;
	int problems = 0;
	is_int(pitr_backup_verify(media, count_problem, &problems, &segs,
				  &complete),
	       0, "status: the media holds nothing damaged");
	is_int(problems, 0, "status: no problem on the media");
	pitr_store_close(s);

	/* Damage inside a commit: none of that commit is shipped. */
	s = make_store("status2", NULL);
	path_of("status2-media", media, sizeof(media));
	mkdir(media, 0700);
	pitr_backup_set_dir(s, media);
	ct = make_ct(s, "db", "ct", NULL, &ts[0]); /* records 0 and 1 */
	is_int(damage_log(s, ts[0], 1), 0, "status: damaged ct");
	is_int(pitr_backup_ship(s, 1, &n), PITR_CORRUPT,
	       "status: damage in the second record of a commit");
	is_u64(n, 0, "status: not even its first record shipped");
	is_int(pitr_backup_status(s, &b), 0, "status: after it");
	ok(b.pending == 2 && b.oldest_pending == ts[0],
	   "status: the whole commit pending");
	pitr_store_close(s);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pitr-history-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_log_walk();
	test_catalog_walk();
	test_inc_get();
	test_catalog_walk_replace();
	test_name_walk();
	test_doc_walk();
	test_doc_copy();
	test_before_emptied();
	test_policy();
	test_destroy();
	test_read_floor();
	test_listing_at();
	test_backup_status();
	rm_rf(dir);
	return tap_done();
}
