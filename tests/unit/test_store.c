/*
 * test_store.c - the account store: catalog, documents, history, errors.
 * White-box where a test must damage the store or fake the clock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/internal.h"
#include "tap.h"

static char dir[256];

static void rm_rf(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

static pitr_store *make_store(const char *name, const pitr_policy *pol)
{
	pitr_config cfg = { 0 };
	pitr_store *s = NULL;
	char path[300];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	pitr_policy_default(&cfg.policy);
	if (pol)
		cfg.policy = *pol;
	cfg.max_doc_size = 4096;
	if (pitr_store_create(path, &cfg) || pitr_store_open(path, 0, &s))
		return NULL;
	return s;
}

static int put(pitr_store *s, uint64_t ct, const char *id, const char *body,
	       uint64_t *ts)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (rc)
		return rc;
	rc = pitr_doc_put(t, ct, id, strlen(id), body, strlen(body));
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, ts);
}

/* Body of `id` at `at` as a NUL-terminated string in buf, or "" on error. */
static int get(pitr_store *s, uint64_t ct, const char *id, uint64_t at,
	       char *buf, size_t size)
{
	pitr_txn *t;
	void *body;
	size_t len;
	int rc;

	buf[0] = 0;
	if ((rc = pitr_txn_begin(s, PITR_TXN_READ, &t)))
		return rc;
	rc = pitr_doc_get(t, ct, id, strlen(id), at, NULL, &body, &len);
	pitr_txn_abort(t);
	if (rc)
		return rc;
	snprintf(buf, size, "%.*s", (int)len, (char *)body);
	free(body);
	return 0;
}

/* Names listed at `at`, comma-separated. */
static int list(pitr_store *s, enum pitr_list_kind kind, uint64_t parent,
		uint64_t at, char *buf, size_t size)
{
	pitr_txn *t;
	pitr_iter *it;
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

static void test_create_open(void)
{
	pitr_config cfg = { 0 };
	pitr_store *s;
	char path[300];

	pitr_policy_default(&cfg.policy);
	snprintf(path, sizeof(path), "%s/a", dir);
	is_int(pitr_store_create(path, &cfg), 0, "create an account");
	is_int(pitr_store_create(path, &cfg), PITR_EXISTS,
	       "create refuses an existing path");
	snprintf(path, sizeof(path), "%s/missing/a", dir);
	is_int(pitr_store_create(path, &cfg), ENOENT,
	       "create needs the parent directory");
	snprintf(path, sizeof(path), "%s/bad", dir);
	cfg.policy.mode = PITR_PERIODIC;
	cfg.policy.interval = 3600 * PITR_NS_PER_SEC;
	cfg.policy.retention = 3600 * PITR_NS_PER_SEC;
	is_int(pitr_store_create(path, &cfg), PITR_BADPOLICY,
	       "periodic retention below two intervals is refused");
	ok(access(path, F_OK) != 0, "a refused create leaves nothing");

	snprintf(path, sizeof(path), "%s/plain", dir);
	mkdir(path, 0700);
	is_int(pitr_store_open(path, 0, &s), PITR_NOTSTORE,
	       "a plain directory is not an account");
	ok(access("data.mdb", F_OK) != 0, "and opening it created nothing");
	snprintf(path, sizeof(path), "%s/nothing", dir);
	is_int(pitr_store_open(path, 0, &s), ENOENT, "missing path: ENOENT");

	snprintf(path, sizeof(path), "%s/a", dir);
	is_int(pitr_store_open(path, PITR_OPEN_DAEMON, &s), 0,
	       "open as the daemon");
	pitr_store *s2;
	is_int(pitr_store_open(path, PITR_OPEN_DAEMON, &s2), PITR_BUSY,
	       "a second daemon is refused");
	pitr_info info;
	is_int(pitr_store_info(s, &info), 0, "info");
	ok(!strcmp(info.name, "a"), "account name defaults to the basename");
	ok(info.policy.mode == PITR_CONTINUOUS &&
	       info.policy.retention == 30ull * 86400 * PITR_NS_PER_SEC,
	   "default policy: continuous, 30 days");
	is_int(info.max_doc_size, PITR_DEFAULT_MAX_DOC, "default size limit");
	ok(info.earliest == info.created && info.latest >= info.created,
	   "window starts at creation");

	/* A newer on-disk format is refused, not misread. */
	pitr_txn *t;
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	unsigned char fmt[4];
	put_le32(fmt, PITR_FORMAT + 1);
	MDB_val k = { 6, (void *)"format" }, v = { 4, fmt };
	mdb_put(t->txn, s->meta, &k, &v, 0);
	pitr_txn_commit(t, NULL);
	pitr_store_close(s);
	is_int(pitr_store_open(path, 0, &s), PITR_NEWFORMAT,
	       "a newer format is refused");
}

static void test_catalog(void)
{
	pitr_store *s = make_store("cat", NULL);
	uint64_t db, ct, ct2, ts1, ts2, x;
	pitr_txn *t;
	char buf[1024];

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_db_create(t, "shop", 4, &db), 0, "create database");
	is_int(pitr_db_create(t, "shop", 4, NULL), PITR_EXISTS,
	       "duplicate database");
	is_int(pitr_db_create(t, "@x", 2, NULL), PITR_BADNAME, "name with @");
	is_int(pitr_db_create(t, "a/b", 3, NULL), PITR_BADNAME, "name with /");
	is_int(pitr_db_create(t, "", 0, NULL), PITR_BADNAME, "empty name");
	char longname[300];
	memset(longname, 'n', sizeof(longname));
	is_int(pitr_db_create(t, longname, 256, NULL), PITR_BADNAME,
	       "256-byte name");
	is_int(pitr_db_create(t, longname, 255, NULL), 0, "255-byte name");
	is_int(pitr_ct_create(t, db, "orders", 6, &ct), 0, "create container");
	is_int(pitr_ct_create(t, 999, "x", 1, NULL), PITR_NOTFOUND,
	       "container in a missing database");
	is_int(pitr_txn_commit(t, &ts1), 0, "commit");

	put(s, ct, "o1", "{\"n\":1}", NULL);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_ct_delete(t, db, "orders", 6), PITR_NOTEMPTY,
	       "container with a document is not empty");
	is_int(pitr_db_delete(t, "shop", 4), PITR_NOTEMPTY,
	       "database with a container is not empty");
	is_int(pitr_doc_delete(t, ct, "o1", 2), 0, "delete the document");
	is_int(pitr_ct_delete(t, db, "orders", 6), 0, "delete the container");
	is_int(pitr_txn_commit(t, &ts2), 0, "commit");

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_ct_create(t, db, "orders", 6, &ct2), 0,
	       "re-create the container");
	pitr_txn_commit(t, NULL);
	ok(ct2 != ct, "a re-created container is a new incarnation");
	put(s, ct2, "o2", "{\"n\":2}", NULL);

	pitr_txn_begin(s, PITR_TXN_READ, &t);
	is_int(pitr_ct_lookup(t, ts1, db, "orders", 6, &x), 0, "lookup at ts1");
	ok(x == ct, "finds the first incarnation at ts1");
	is_int(pitr_ct_lookup(t, ts2, db, "orders", 6, &x), PITR_NOTFOUND,
	       "none at the delete");
	pitr_ct_lookup(t, PITR_NOW, db, "orders", 6, &x);
	ok(x == ct2, "the second incarnation now");
	is_int(pitr_ct_lookup(t, ts1 - 1, db, "orders", 6, &x), PITR_NOTFOUND,
	       "none before creation");
	pitr_txn_abort(t);

	list(s, PITR_LIST_DOCUMENTS, ct2, PITR_NOW, buf, sizeof(buf));
	ok(!strcmp(buf, "o2"), "new incarnation lists only its documents (%s)",
	   buf);
	list(s, PITR_LIST_DOCUMENTS, ct, ts2 - 1, buf, sizeof(buf));
	ok(!strcmp(buf, "o1"), "old incarnation before delete: o1 (%s)", buf);
	list(s, PITR_LIST_DATABASES, 0, PITR_NOW, buf, sizeof(buf));
	ok(!strncmp(buf, "nnn", 3) && strstr(buf, ",shop"),
	   "list databases now");
	list(s, PITR_LIST_CONTAINERS, db, ts2, buf, sizeof(buf));
	ok(!strcmp(buf, ""), "no container listed at the delete");

	/* Renaming a container keeps its documents and its history. */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_ct_rename(t, db, "orders", 6, db, "sales", 5), 0,
	       "rename container");
	pitr_txn_commit(t, &ts2);
	list(s, PITR_LIST_CONTAINERS, db, PITR_NOW, buf, sizeof(buf));
	ok(!strcmp(buf, "sales"), "renamed container listed (%s)", buf);
	list(s, PITR_LIST_CONTAINERS, db, ts2 - 1, buf, sizeof(buf));
	ok(!strcmp(buf, "orders"), "old name before the rename (%s)", buf);
	get(s, ct2, "o2", PITR_NOW, buf, sizeof(buf));
	ok(!strcmp(buf, "{\"n\":2}"), "documents follow the rename");
	pitr_store_close(s);
}

static void test_documents(void)
{
	pitr_store *s = make_store("docs", NULL);
	uint64_t db, ct, ts[4];
	pitr_txn *t;
	char buf[256];

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	pitr_txn_commit(t, NULL);

	is_int(put(s, ct, "x", "{\"v\":1}", &ts[0]), 0, "put v1");
	is_int(put(s, ct, "x", "{\"v\":2}", &ts[1]), 0, "put v2");
	ok(ts[1] > ts[0], "timestamps increase");
	is_int(put(s, ct, "x", " {\"v\": 3}\n", &ts[2]), 0, "put v3");
	get(s, ct, "x", PITR_NOW, buf, sizeof(buf));
	ok(!strcmp(buf, " {\"v\": 3}\n"), "bytes kept exactly");
	get(s, ct, "x", ts[0], buf, sizeof(buf));
	ok(!strcmp(buf, "{\"v\":1}"), "v1 at ts1");
	get(s, ct, "x", ts[1] - 1, buf, sizeof(buf));
	ok(!strcmp(buf, "{\"v\":1}"), "v1 just before ts2");
	get(s, ct, "x", ts[1], buf, sizeof(buf));
	ok(!strcmp(buf, "{\"v\":2}"), "v2 at ts2");
	is_int(get(s, ct, "x", ts[0] - 1, buf, sizeof(buf)), PITR_NOTFOUND,
	       "nothing before creation");

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_doc_delete(t, ct, "x", 1), 0, "delete");
	is_int(pitr_doc_delete(t, ct, "nope", 4), PITR_NOTFOUND,
	       "delete missing");
	pitr_txn_commit(t, &ts[3]);
	is_int(get(s, ct, "x", PITR_NOW, buf, sizeof(buf)), PITR_NOTFOUND,
	       "gone now");
	is_int(get(s, ct, "x", ts[3], buf, sizeof(buf)), PITR_NOTFOUND,
	       "gone at delete");
	get(s, ct, "x", ts[3] - 1, buf, sizeof(buf));
	ok(!strcmp(buf, " {\"v\": 3}\n"), "v3 before delete");

	/* Validation. */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_doc_put(t, ct, "b", 1, "{\n  \"a\": 1,\n  }", 15),
	       PITR_BADJSON, "invalid JSON refused");
	ok(strstr(pitr_txn_error(t), "line 3, column 3") != NULL,
	   "error names line and column (%s)", pitr_txn_error(t));
	is_int(pitr_doc_put(t, ct, "b", 1, "[1,2]", 5), PITR_BADJSON,
	       "an array is not a document");
	ok(strstr(pitr_txn_error(t), "array") != NULL, "says why (%s)",
	   pitr_txn_error(t));
	is_int(pitr_doc_put(t, ct, "b", 1, "", 0), PITR_BADJSON, "empty body");
	is_int(pitr_doc_put(t, ct, "b", 1, "{} x", 4), PITR_BADJSON,
	       "trailing garbage");
	is_int(pitr_doc_put(t, ct, "b", 1, "{\"a\":\"\xff\"}", 9), PITR_BADJSON,
	       "invalid UTF-8");
	char big[5000];
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	is_int(pitr_doc_put(t, ct, "b", 1, big, sizeof(big)), PITR_TOOBIG,
	       "over the size limit");
	is_int(pitr_doc_put(t, ct, "b", 1, big, 4096 - 1), PITR_BADJSON,
	       "at the limit it is parsed");
	big[4095] = '}';
	is_int(pitr_doc_put(t, ct, "b", 1, big, 4096), 0,
	       "exactly the limit is accepted");
	is_int(pitr_doc_put(t, ct, "a/b", 3, "{}", 2), PITR_BADNAME,
	       "bad document id");
	is_int(pitr_doc_put(t, 12345, "b", 1, "{}", 2), PITR_NOTFOUND,
	       "missing container");
	pitr_txn_commit(t, NULL);
	get(s, ct, "b", PITR_NOW, buf, sizeof(buf));
	ok(buf[0] == '{', "refused writes left the accepted one");

	/* A proof of acceptance spares the parse only for its own body. */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	{
		static const char good[] = "{\"p\": [1, 2, {\"q\": null}]}";
		static const char bad[] = "{\"p\": [1, 2, {\"q\": null}]]";
		pitr_checked proof, none;
		char err[160];

		is_int(pitr_doc_check(s, good, strlen(good), err, sizeof(err),
				      &proof),
		       0, "check accepts and proves");
		ok(proof.len == strlen(good), "the proof covers the body");
		is_int(pitr_doc_check(s, bad, strlen(bad), err, sizeof(err),
				      &none),
		       PITR_BADJSON, "check refuses");
		ok(!none.len && !none.hash_lo && !none.hash_hi,
		   "a refusal proves nothing");
		is_int(pitr_doc_put_checked(t, ct, "c", 1, good, strlen(good),
					    &proof),
		       0, "a proven body is stored");
		is_int(pitr_doc_put_checked(t, ct, "c", 1, bad, strlen(bad),
					    &proof),
		       PITR_BADJSON,
		       "another body of the same length is "
		       "parsed, and refused");
		is_int(pitr_doc_put_checked(t, ct, "c", 1, bad, strlen(bad),
					    &none),
		       PITR_BADJSON, "an empty proof proves nothing");
		is_int(pitr_doc_put_checked(t, ct, "c", 1, big, sizeof(big),
					    &proof),
		       PITR_TOOBIG, "the size limit still holds");
		ok(strstr(pitr_txn_error(t), "limit") != NULL, "says why (%s)",
		   pitr_txn_error(t));
	}
	is_int(pitr_doc_put(t, ct, "n", 1, "{\"id\": 18446744073709551616123}",
			    31),
	       0, "integers beyond 64 bits are JSON too");
	is_int(pitr_doc_put(t, ct, "n", 1, "{\"x\": 1e999}", 13), PITR_BADJSON,
	       "numbers beyond a double are refused");
	pitr_txn_abort(t);

	/* Rename: a delete and a create at one instant. */
	uint64_t rts;
	put(s, ct, "y", "{\"y\":1}", NULL);
	put(s, ct, "z", "{\"z\":1}", NULL);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_doc_rename(t, ct, "y", 1, ct, "z", 1), 0,
	       "rename onto an existing document");
	pitr_txn_commit(t, &rts);
	get(s, ct, "z", PITR_NOW, buf, sizeof(buf));
	ok(!strcmp(buf, "{\"y\":1}"), "target replaced");
	is_int(get(s, ct, "y", rts, buf, sizeof(buf)), PITR_NOTFOUND,
	       "source gone at the rename");
	get(s, ct, "y", rts - 1, buf, sizeof(buf));
	ok(!strcmp(buf, "{\"y\":1}"), "source there just before");
	get(s, ct, "z", rts - 1, buf, sizeof(buf));
	ok(!strcmp(buf, "{\"z\":1}"), "old target just before");

	/* Scratch files: kept, never in history, promoted atomically. */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_scratch_put(t, ct, "tmp1", 4, "{\"s\":1}", 7), 0,
	       "scratch put");
	pitr_txn_commit(t, NULL);
	list(s, PITR_LIST_DOCUMENTS, ct, PITR_NOW, buf, sizeof(buf));
	ok(!strcmp(buf, "b,z,~tmp1"),
	   "live listing: documents then scratch (%s)", buf);
	list(s, PITR_LIST_DOCUMENTS, ct, pitr_store_now(s), buf, sizeof(buf));
	ok(!strcmp(buf, "b,z"), "history never lists scratch (%s)", buf);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_scratch_put(t, ct, "bad", 3, "nope", 4), 0, "scratch bad");
	is_int(pitr_scratch_promote(t, ct, "bad", 3, ct, "q", 1), PITR_BADJSON,
	       "promoting invalid JSON fails");
	is_int(pitr_scratch_promote(t, ct, "tmp1", 4, ct, "b", 1), 0,
	       "promote scratch onto a document");
	pitr_txn_commit(t, NULL);
	get(s, ct, "b", PITR_NOW, buf, sizeof(buf));
	ok(!strcmp(buf, "{\"s\":1}"), "promoted content");
	list(s, PITR_LIST_DOCUMENTS, ct, PITR_NOW, buf, sizeof(buf));
	ok(!strcmp(buf, "b,z,~bad"), "scratch consumed (%s)", buf);

	/* Resumable listing. */
	pitr_iter *it;
	pitr_entry e;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	pitr_iter_begin(t, PITR_LIST_DOCUMENTS, ct, PITR_NOW, "b", 1, 0, &it);
	pitr_iter_next(it, &e);
	ok(e.namelen == 1 && e.name[0] == 'z', "listing resumes after a name");
	pitr_iter_end(it);
	pitr_iter_begin(t, PITR_LIST_DOCUMENTS, ct, ts[2], "b", 1, 0, &it);
	is_int(pitr_iter_next(it, &e), 0, "history listing resumes");
	ok(e.namelen == 1 && e.name[0] == 'x', "after b comes x at ts3");
	pitr_iter_end(it);
	pitr_txn_abort(t);
	pitr_store_close(s);
}

static void count_problem(const char *where, const char *what, void *arg)
{
	(void)what;
	ok(strstr(where, "log record") != NULL, "problem located (%s)", where);
	(*(int *)arg)++;
}

static void test_clock_and_damage(void)
{
	pitr_store *s = make_store("clock", NULL);
	uint64_t db, ct, ts, future = pitr_clock() + 3600 * PITR_NS_PER_SEC;
	pitr_txn *t;
	char buf[256];

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	pitr_txn_commit(t, NULL);
	/* The last commit is an hour ahead: as if the clock stepped back. */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	unsigned char b[8];
	put_le64(b, future);
	MDB_val k = { 7, (void *)"last_ts" }, v = { 8, b };
	mdb_put(t->txn, s->meta, &k, &v, 0);
	pitr_txn_commit(t, NULL);
	put(s, ct, "x", "{\"a\":\"hello hello hello hello hello\"}", &ts);
	ok(ts == future + 1, "clock behind the last commit: still increasing");
	put(s, ct, "x", "{}", &ts);
	ok(ts == future + 2, "and again");

	/* Flip a byte of a stored body: the read fails, never returns it. */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	unsigned char lk[12];
	key_log(lk, future + 1, 0);
	MDB_val key = { 12, lk }, val;
	int rc = mdb_get(t->txn, s->log, &key, &val);
	unsigned char *copy = malloc(val.mv_size);
	memcpy(copy, val.mv_data, val.mv_size);
	copy[val.mv_size - 2] ^= 0x20;
	val.mv_data = copy;
	mdb_put(t->txn, s->log, &key, &val, 0);
	free(copy);
	pitr_txn_commit(t, NULL);
	is_int(rc, 0, "found the record to damage");
	is_int(get(s, ct, "x", future + 1, buf, sizeof(buf)), PITR_CORRUPT,
	       "a damaged body is an error");
	ok(buf[0] == 0, "and no data is returned");
	is_int(get(s, ct, "x", PITR_NOW, buf, sizeof(buf)), 0,
	       "other versions still read");
	is_int(pitr_errno(PITR_CORRUPT), EIO, "damage maps to EIO");
	int named = 1;
	for (int c = PITR_NOTFOUND; c >= PITR_FIRST_CODE; c--)
		named &= pitr_strerror(c) && *pitr_strerror(c);
	ok(named, "every return code has a message");
	int problems = 0;
	uint64_t records;
	is_int(pitr_store_verify(s, count_problem, &problems, &records),
	       PITR_CORRUPT, "verify finds the damaged record");
	is_int(problems, 1, "and reports it once");
	pitr_store_close(s);
}

static void test_window(void)
{
	pitr_policy pol = { PITR_CONTINUOUS, 3600 * PITR_NS_PER_SEC, 0 };
	pitr_store *s = make_store("window", &pol);
	uint64_t at, now = pitr_clock();
	char text[PITR_TIME_LEN];

	is_int(pitr_store_resolve(s, "-0s", 3, &at), 0, "now resolves");
	is_int(pitr_store_resolve(s, "-2h", 3, &at), PITR_OUTOFRANGE,
	       "before creation: out of range");
	pitr_time_format(now + 3600 * PITR_NS_PER_SEC, text);
	is_int(pitr_store_resolve(s, text, strlen(text), &at), PITR_OUTOFRANGE,
	       "the future: out of range");
	is_int(pitr_store_resolve(s, "yesterday", 9, &at), PITR_BADTIME,
	       "malformed: bad time");
	is_int(pitr_errno(PITR_OUTOFRANGE), ENOENT, "out of range is ENOENT");
	pitr_store_close(s);

	pol.mode = PITR_PERIODIC;
	pol.interval = 2 * PITR_NS_PER_SEC;
	pol.retention = 10 * PITR_NS_PER_SEC;
	s = make_store("periodic", &pol);
	pitr_info info;
	pitr_store_info(s, &info);
	usleep(2100000);
	is_int(pitr_store_resolve(s, "-0s", 3, &at), 0, "periodic now");
	ok(at == info.created + 2 * PITR_NS_PER_SEC,
	   "periodic views show the latest boundary");
	pitr_store_close(s);
}

/* Listing at T and reading at T do not depend on history depth. */
static void test_many_versions(void)
{
	pitr_store *s = make_store("deep", NULL);
	uint64_t db, ct, mid = 0, ts;
	pitr_txn *t;
	char body[64], buf[256];

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	pitr_txn_commit(t, NULL);
	for (int i = 0; i < 300; i++) {
		pitr_txn_begin(s, PITR_TXN_WRITE, &t);
		for (int d = 0; d < 5; d++) {
			char id[8];
			snprintf(id, sizeof(id), "d%d", d);
			snprintf(body, sizeof(body), "{\"i\":%d}", i);
			pitr_doc_put(t, ct, id, strlen(id), body, strlen(body));
		}
		pitr_txn_commit(t, &ts);
		if (i == 150)
			mid = ts;
	}
	get(s, ct, "d3", mid, buf, sizeof(buf));
	ok(!strcmp(buf, "{\"i\":150}"), "read at a middle instant (%s)", buf);
	list(s, PITR_LIST_DOCUMENTS, ct, mid, buf, sizeof(buf));
	ok(!strcmp(buf, "d0,d1,d2,d3,d4"), "list at a middle instant (%s)",
	   buf);
	pitr_store_close(s);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pitr-unit-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_create_open();
	test_catalog();
	test_documents();
	test_clock_and_damage();
	test_window();
	test_many_versions();
	rm_rf(dir);
	return tap_done();
}
