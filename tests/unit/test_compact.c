/*
 * test_compact.c - pitr_store_compact: the copy of a store whose tables
 * were written in turns (three containers, edits, deletes, a deleted
 * container; more than one chunk of copying) holds every entry of every
 * table byte for byte, in fewer pages, and verifies; a target that exists,
 * a missing source and a damaged one build nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../core/internal.h"
#include "tap.h"

static char dir[256];
static int problems;

static void count(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	(void)arg;
	problems++;
}

/* Every table of `a` and `b` the same, entry by entry; entries compared
 * in *n. */
static int same_tables(pitr_store *a, pitr_store *b, uint64_t *n)
{
	MDB_dbi ta[] = { a->meta,  a->log,  a->versions, a->live,
			 a->names, a->incs, a->dicts };
	MDB_dbi tb[] = { b->meta,  b->log,  b->versions, b->live,
			 b->names, b->incs, b->dicts };
	MDB_txn *xa, *xb;
	int same = 1;

	*n = 0;
	if (mdb_txn_begin(a->env, NULL, MDB_RDONLY, &xa))
		return 0;
	if (mdb_txn_begin(b->env, NULL, MDB_RDONLY, &xb)) {
		mdb_txn_abort(xa);
		return 0;
	}
	for (size_t i = 0; same && i < sizeof(ta) / sizeof(ta[0]); i++) {
		MDB_cursor *ca, *cb;
		MDB_val ka, va, kb, vb;
		mdb_cursor_open(xa, ta[i], &ca);
		mdb_cursor_open(xb, tb[i], &cb);
		int ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST);
		int rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
		for (; ra == 0 && rb == 0;
		     ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT),
		     rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT)) {
			if (ka.mv_size != kb.mv_size ||
			    va.mv_size != vb.mv_size ||
			    memcmp(ka.mv_data, kb.mv_data, ka.mv_size) ||
			    memcmp(va.mv_data, vb.mv_data, va.mv_size)) {
				same = 0;
				break;
			}
			(*n)++;
		}
		if (ra != rb)
			same = 0;
		mdb_cursor_close(ca);
		mdb_cursor_close(cb);
	}
	mdb_txn_abort(xa);
	mdb_txn_abort(xb);
	return same;
}

/* Anything but `keep` left in the test's directory. */
static int strays(const char *keep1, const char *keep2)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd),
		 "ls '%s' | grep -v '^%s$' | grep -v '^%s$' | grep -q .", dir,
		 keep1, keep2);
	return system(cmd) == 0;
}

int main(void)
{
	pitr_config cfg = { 0 };
	pitr_store *s = NULL, *c = NULL;
	pitr_compacted out;
	pitr_txn *t;
	char path[300], copy[300], id[32], body[2200];
	uint64_t db, ct[3], gone, n = 0, seed = 1;
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/pitr-unit-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(copy, sizeof(copy), "%s/c", dir);
	pitr_policy_default(&cfg.policy);
	rc = pitr_store_create(path, &cfg);
	if (!rc)
		rc = pitr_store_open(path, 0, &s);
	is_int(rc, 0, "a store");
	if (rc)
		return tap_done();

	/* Three containers written in turns, 2 KB of random hex each (which
	 * no dictionary shrinks, so the copy takes several chunks). */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "a", 1, &ct[0]);
	pitr_ct_create(t, db, "b", 1, &ct[1]);
	pitr_ct_create(t, db, "c", 1, &ct[2]);
	pitr_ct_create(t, db, "gone", 4, &gone);
	pitr_doc_put(t, gone, "g", 1, "{}", 2);
	rc = pitr_txn_commit(t, NULL);
	for (int round = 0; !rc && round < 2; round++) {
		for (int i = 0; !rc && i < 1500; i++) {
			if (i % 100 == 0 &&
			    (rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t)))
				break;
			for (int k = 0; !rc && k < 3; k++) {
				if (round && i % 3)
					continue;
				int len =
				    snprintf(body, sizeof(body), "{\"h\":\"");
				for (int j = 0; j < 1000; j++) {
					seed = seed * 6364136223846793005ull +
					       1442695040888963407ull;
					len += snprintf(
					    body + len, sizeof(body) - len,
					    "%02x", (unsigned)(seed >> 56));
				}
				len += snprintf(body + len, sizeof(body) - len,
						"\",\"r\":%d}", round);
				int idlen =
				    snprintf(id, sizeof(id), "doc%05d", i);
				rc = pitr_doc_put(t, ct[k], id, (size_t)idlen,
						  body, (size_t)len);
			}
			if (!rc && i % 100 == 99)
				rc = pitr_txn_commit(t, NULL);
		}
	}
	is_int(rc, 0, "4,500 documents of 2 KB in turns, 1,500 edits");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_doc_delete(t, ct[1], "doc00007", 8);
	pitr_ct_delete(t, db, "gone", 4);
	is_int(pitr_txn_commit(t, NULL), 0, "a delete, a deleted container");
	pitr_store_close(s);

	is_int(pitr_store_compact(path, copy, count, NULL, &out), 0,
	       "compacted");
	is_int(problems, 0, "no problem reported");
	ok(out.entries > 4500 * 3, "every entry copied (%llu)",
	   (unsigned long long)out.entries);
	ok(out.after < out.before, "in fewer bytes of pages (%llu, were %llu)",
	   (unsigned long long)out.after, (unsigned long long)out.before);
	ok(out.before > out.after + 12 * 4096,
	   "versions and live pages: fewer by 12 at least");
	ok(!strays("s", "c"), "nothing else made");
	pitr_store_open(path, PITR_OPEN_RDONLY, &s);
	is_int(pitr_store_open(copy, 0, &c), 0, "the copy opens");
	ok(c && same_tables(s, c, &n), "every table the same, entry by entry");
	ok(n == out.entries, "as many entries as copied (%llu)",
	   (unsigned long long)n);
	is_int(c ? c->format : 0, s->format, "the source's format");
	uint64_t records;
	is_int(c ? pitr_store_verify(c, count, NULL, &records) : -1, 0,
	       "the copy verifies");
	void *got = NULL;
	size_t glen = 0;
	if (c && pitr_txn_begin(c, PITR_TXN_READ, &t) == 0) {
		is_int(pitr_doc_get(t, ct[0], "doc01497", 8, PITR_NOW, NULL,
				    &got, &glen),
		       0, "a document of the copy reads");
		ok(glen > 2000 && got &&
		       !memcmp((char *)got + glen - 6, "\"r\":1}", 6),
		   "its last version");
		free(got);
		is_int(pitr_doc_get(t, ct[1], "doc00007", 8, PITR_NOW, NULL,
				    &got, &glen),
		       PITR_NOTFOUND, "the deleted one is gone");
		pitr_txn_abort(t);
	}
	pitr_store_close(c);
	pitr_store_close(s);

	is_int(pitr_store_compact(path, copy, count, NULL, &out), PITR_EXISTS,
	       "a target that exists: PITR_EXISTS");
	char none[300], other[300];
	snprintf(none, sizeof(none), "%s/none", dir);
	snprintf(other, sizeof(other), "%s/o", dir);
	ok(pitr_store_compact(none, other, count, NULL, &out) != 0,
	   "a source that is not there: an error");
	ok(access(other, F_OK) != 0 && !strays("s", "c"), "nothing made");

	/* A versions entry deleted: the copy does not verify, nothing is
	 * left. */
	pitr_store_open(path, 0, &s);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	MDB_cursor *vc;
	MDB_val k, v;
	mdb_cursor_open(t->txn, s->versions, &vc);
	rc = mdb_cursor_get(vc, &k, &v, MDB_FIRST);
	if (!rc)
		rc = mdb_cursor_del(vc, 0);
	mdb_cursor_close(vc);
	is_int(rc ? rc : pitr_txn_commit(t, NULL), 0,
	       "a versions entry deleted");
	if (rc)
		pitr_txn_abort(t);
	pitr_store_close(s);
	problems = 0;
	is_int(pitr_store_compact(path, other, count, NULL, &out), PITR_CORRUPT,
	       "a damaged store: PITR_CORRUPT");
	ok(problems > 0, "the damage reported (%d)", problems);
	ok(access(other, F_OK) != 0 && !strays("s", "c"),
	   "nothing built, no staging left");

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
