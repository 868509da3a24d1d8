/*
 * test_timeline.c - pitr_bulk_walk: runs of deletes and replaces found
 * amid other writes, container and database drops.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pitr.h"
#include "docops.h"
#include "tap.h"

static char dir[256];

static void is_u64(uint64_t got, uint64_t want, const char *name)
{
	if (!ok(got == want, "%s", name))
		printf("#   got %" PRIu64 ", want %" PRIu64 "\n", got, want);
}

static pitr_store *make_store(void)
{
	pitr_config cfg = { 0 };
	pitr_store *s = NULL;
	char path[300];

	snprintf(path, sizeof(path), "%s/store", dir);
	pitr_policy_default(&cfg.policy);
	if (pitr_store_create(path, &cfg) || pitr_store_open(path, 0, &s)) {
		fprintf(stderr, "cannot make store %s\n", path);
		exit(2);
	}
	return s;
}

/* One write transaction doing one thing; its timestamp in `*ts`. */
static uint64_t mk(pitr_store *s, uint64_t db, const char *name)
{
	pitr_txn *t;
	uint64_t inc = 0;

	if (pitr_txn_begin(s, PITR_TXN_WRITE, &t) ||
	    (db ? pitr_ct_create(t, db, name, strlen(name), &inc)
		: pitr_db_create(t, name, strlen(name), &inc)) ||
	    pitr_txn_commit(t, NULL)) {
		fprintf(stderr, "cannot create %s\n", name);
		exit(2);
	}
	return inc;
}

static int rmct(pitr_store *s, uint64_t db, const char *name, uint64_t *ts)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (rc)
		return rc;
	rc = db ? pitr_ct_delete(t, db, name, strlen(name))
		: pitr_db_delete(t, name, strlen(name));
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, ts);
}

struct found {
	pitr_bulk v[64];
	int n;
};

static int keep(const pitr_bulk *b, void *arg)
{
	struct found *f = arg;

	if (f->n < 64)
		f->v[f->n] = *b;
	f->n++;
	return 0;
}

static int walk(pitr_store *s, uint64_t after, uint64_t until, uint64_t gap,
		uint64_t min, struct found *f)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_READ, &t);

	memset(f, 0, sizeof(*f));
	if (!rc)
		rc = pitr_bulk_walk(t, after, until, gap, min, keep, f);
	pitr_txn_abort(t);
	return rc;
}

#define GAP (60 * PITR_NS_PER_SEC)

int main(void)
{
	pitr_store *s;
	struct found f;
	uint64_t db, c, e, db2, c1, c2, start, ts, first = 0, last = 0;
	uint64_t rep_first = 0, c1_first = 0, dbdel = 0, ctdel = 0;
	char id[16], cmd[300];
	int fails = 0;

	snprintf(dir, sizeof(dir), "/tmp/pitr-timeline-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	s = make_store();
	db = mk(s, 0, "db");
	c = mk(s, db, "c");
	e = mk(s, db, "e");
	for (int i = 0; i < 30; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		fails += put(s, c, id, "{\"v\":1}", &start) != 0;
	}

	/* rm -r while a writer creates documents there (and elsewhere) */
	for (int i = 0; i < 30; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		fails += del(s, c, id, &ts) != 0;
		if (!first)
			first = ts;
		last = ts;
		if (i % 5 == 0) {
			snprintf(id, sizeof(id), "w%d", i);
			fails += put(s, c, id, "{\"w\":1}", NULL) != 0;
			fails += put(s, e, id, "{\"w\":1}", NULL) != 0;
		}
	}
	is_int(fails, 0, "setup: 30 puts, 30 deletes, 12 creates");
	is_int(walk(s, 0, PITR_NOW, GAP, 10, &f), 0, "walk: rc 0");
	is_int(f.n, 1, "rm -r amid creates: one bulk change");
	is_int(f.v[0].op, PITR_OP_DOC_DELETE, "rm -r: a run of deletes");
	is_u64(f.v[0].ct, c, "rm -r: in its container");
	is_u64(f.v[0].db, db, "rm -r: with its database");
	is_u64(f.v[0].first, first, "rm -r: from the first delete");
	is_u64(f.v[0].last, last, "rm -r: to the last");
	is_u64(f.v[0].docs, 30, "rm -r: 30 documents");
	is_u64(f.v[0].ct_deleted, 0, "rm -r: the container was not deleted");

	is_int(walk(s, 0, PITR_NOW, 0, 1, &f), 0, "gap 0: rc 0");
	is_int(f.n, 30, "gap 0: every delete is its own run");
	is_int(walk(s, 0, PITR_NOW, GAP, 31, &f), 0, "min 31: rc 0");
	is_int(f.n, 0, "min 31: the run of 30 is not reported");
	is_int(walk(s, first, PITR_NOW, GAP, 10, &f), 0, "after: rc 0");
	is_u64(f.n ? f.v[0].docs : 0, 29, "after the first delete: 29");
	is_int(walk(s, 0, first - 1, GAP, 1, &f), 0, "until: rc 0");
	is_int(f.n, 0, "until before the first delete: nothing");

	/* sed -i over 12 documents (one twice) amid creates */
	for (int i = 0; i < 12; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		fails += put(s, e, id, "{\"r\":1}", NULL) != 0;
	}
	start = last;
	for (int i = 0; i < 12; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		fails += put(s, e, id, "{\"r\":2}", &ts) != 0;
		if (!i)
			rep_first = ts;
		snprintf(id, sizeof(id), "n%d", i);
		fails += put(s, e, id, "{\"n\":1}", NULL) != 0;
	}
	fails += put(s, e, "r3", "{\"r\":3}", NULL) != 0;
	is_int(walk(s, start, PITR_NOW, GAP, 10, &f), 0, "replaces: rc 0");
	is_int(f.n, 1, "replaces amid creates: one bulk change");
	is_int(f.v[0].op, PITR_OP_DOC_PUT, "replaces: a run of replaces");
	is_u64(f.v[0].ct, e, "replaces: in its container");
	is_u64(f.v[0].first, rep_first, "replaces: from the first replace");
	is_u64(f.v[0].docs, 12, "replaces: 12 distinct documents");
	is_u64(f.v[0].mutations, 13, "replaces: 13 mutations");

	/* rm -r of a database: c1 (3), c2 (2), an empty c3 */
	db2 = mk(s, 0, "db2");
	c1 = mk(s, db2, "c1");
	c2 = mk(s, db2, "c2");
	mk(s, db2, "c3");
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "a%d", i);
		fails += put(s, c1, id, "{}", NULL) != 0;
	}
	fails += put(s, c2, "b0", "{}", NULL) != 0;
	fails += put(s, c2, "b1", "{}", &start) != 0;
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "a%d", i);
		fails += del(s, c1, id, &ts) != 0;
		if (!i)
			c1_first = ts;
	}
	fails += rmct(s, db2, "c1", &ctdel) != 0;
	fails += del(s, c2, "b0", NULL) != 0;
	fails += del(s, c2, "b1", NULL) != 0;
	fails += rmct(s, db2, "c2", NULL) != 0;
	fails += rmct(s, db2, "c3", NULL) != 0;
	fails += rmct(s, 0, "db2", &dbdel) != 0;
	is_int(fails, 0, "drop: setup");
	is_int(walk(s, start, PITR_NOW, GAP, 10, &f), 0, "drop: rc 0");
	is_int(f.n, 3, "drop: two containers and the database");
	is_int(f.v[0].op, PITR_OP_DOC_DELETE, "drop: c1's deletes first");
	is_u64(f.v[0].ct, c1, "drop: c1");
	is_u64(f.v[0].ct_deleted, ctdel, "drop: ended by c1's delete");
	is_u64(f.v[0].docs, 3, "drop: below --min, reported all the same");
	is_u64(f.v[1].ct, c2, "drop: then c2");
	is_int(f.v[2].op, PITR_OP_DB_DELETE, "drop: then the database");
	is_u64(f.v[2].db, db2, "drop: db2");
	is_u64(f.v[2].first, c1_first, "drop: from c1's first delete");
	is_u64(f.v[2].db_deleted, dbdel, "drop: to the database's delete");
	is_u64(f.v[2].docs, 5, "drop: 5 documents");

	/* the run that ended in c1's delete, from the versions alone */
	{
		pitr_txn *t;
		uint64_t f1 = 0, n1 = 0;
		pitr_txn_begin(s, PITR_TXN_READ, &t);
		is_int(pitr_ct_delete_run(t, c1, ctdel, GAP, &f1, &n1), 0,
		       "delete run: rc 0");
		is_u64(f1, c1_first, "delete run: from c1's first delete");
		is_u64(n1, 3, "delete run: 3 deletes");
		is_int(pitr_ct_delete_run(t, c, last, GAP, &f1, &n1), 0,
		       "delete run amid creates: rc 0");
		is_u64(f1, first, "delete run amid creates: the first delete");
		is_u64(n1, 30, "delete run amid creates: 30 deletes");
		is_int(pitr_ct_delete_run(t, c, last, 0, &f1, &n1), 0,
		       "delete run, gap 0: rc 0");
		is_u64(n1, 1, "delete run, gap 0: the last delete alone");
		is_int(pitr_ct_delete_run(t, c1, ctdel, 0, &f1, &n1),
		       PITR_NOTFOUND, "delete run, gap 0: none at the end");
		is_int(pitr_ct_delete_run(t, c1, c1_first - 1, GAP, &f1, NULL),
		       PITR_NOTFOUND, "delete run: none before the first");
		is_int(pitr_ct_delete_run(t, e, PITR_NOW - 1, GAP, &f1, NULL),
		       PITR_NOTFOUND,
		       "delete run: none in a container without");
		pitr_txn_abort(t);
	}

	pitr_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
