/*
 * test_store.c - the account store: catalog, documents, history, errors.
 * White-box where a test must damage the store or fake the clock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <xxhash.h>

#include "../../core/internal.h"
#include "rfc8259.h"
#include "docops.h"
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

/* The ops of the log records from `after` on, in order, as digits. */
static int collect_ops(const pitr_mutation *m, void *arg)
{
	char *ops = arg;
	size_t n = strlen(ops);

	ops[n] = (char)('0' + m->op);
	ops[n + 1] = 0;
	return 0;
}

static void log_ops(pitr_store *s, uint64_t after, char *ops)
{
	pitr_txn *t;

	ops[0] = 0;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	pitr_log_walk(t, after, PITR_NOW, collect_ops, ops);
	pitr_txn_abort(t);
}

/* The op of log record (ts, idx) as stored, in either form; -1 if there
 * is none. */
static int raw_log_op(pitr_store *s, uint64_t ts, uint32_t idx)
{
	unsigned char lk[12];
	MDB_val key = { 12, lk }, val;
	pitr_txn *t;
	int op = -1;

	pitr_txn_begin(s, PITR_TXN_READ, &t);
	key_log(lk, ts, idx);
	if (!mdb_get(t->txn, s->log, &key, &val)) {
		op = ((unsigned char *)val.mv_data)[0];
		if (op & LOG_COMPACT)
			op &= 0xf;
	}
	pitr_txn_abort(t);
	return op;
}

/* Rewrite the op byte of fixed-form log record (ts, idx), with a valid
 * checksum. */
static void set_log_op(pitr_store *s, uint64_t ts, uint32_t idx, int op)
{
	unsigned char lk[12], *copy;
	MDB_val key = { 12, lk }, val;
	pitr_txn *t;

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	key_log(lk, ts, idx);
	if (mdb_get(t->txn, s->log, &key, &val)) {
		ok(0, "log record (%llu, %u) found", (unsigned long long)ts,
		   idx);
		pitr_txn_abort(t);
		return;
	}
	copy = malloc(val.mv_size);
	memcpy(copy, val.mv_data, val.mv_size);
	copy[0] = (unsigned char)op;
	put_le64(copy + val.mv_size - LOG_SUM,
		 XXH3_64bits(copy, val.mv_size - LOG_SUM));
	val.mv_data = copy;
	mdb_put(t->txn, s->log, &key, &val, 0);
	free(copy);
	pitr_txn_commit(t, NULL);
}

static void ignore_problem(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	(*(int *)arg)++;
}

/* Renames logged as a delete and a create, in an account of `format`:
 * from 4 the records are compact; in 3, also as earlier builds wrote
 * them (fixed form only). */
static void test_rename_log(uint32_t format)
{
	pitr_store *s = make_store(format == 3 ? "renamelog3" : "renamelog",
				   NULL);
	uint64_t db, ct, ts0, ts1, ts2, records;
	int problems = 0;
	char ops[16];
	pitr_txn *t;

	if (format != PITR_FORMAT)
		is_int(store_set_format(s, format), 0,
		       "rename log: an account of an earlier format");

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	pitr_txn_commit(t, &ts0);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_ct_rename(t, db, "c", 1, db, "c2", 2), 0,
	       "rename log: container");
	pitr_txn_commit(t, &ts1);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_db_rename(t, "d", 1, "d2", 2), 0, "rename log: database");
	pitr_txn_commit(t, &ts2);

	is_int(raw_log_op(s, ts1, 0), PITR_OP_CT_DELETE,
	       "rename log: ct delete");
	is_int(raw_log_op(s, ts1, 1), PITR_OP_CT_CREATE,
	       "rename log: ct create");
	is_int(raw_log_op(s, ts2, 0), PITR_OP_DB_DELETE,
	       "rename log: db delete");
	is_int(raw_log_op(s, ts2, 1), PITR_OP_DB_CREATE,
	       "rename log: db create");
	log_ops(s, ts0, ops);
	ok(!strcmp(ops, "6543"), "rename log: walked as %s (ct 6 5, db 4 3)",
	   ops);
	is_int(pitr_store_verify(s, ignore_problem, &problems, &records), 0,
	       "rename log: the store verifies");
	is_int(problems, 0, "rename log: no problem");
	if (format != 3) {
		pitr_store_close(s);
		return;
	}

	/* As earlier builds wrote them: the delete's op + 1. */
	set_log_op(s, ts1, 1, PITR_OP_CT_DELETE + 1);
	set_log_op(s, ts2, 1, PITR_OP_DB_DELETE + 1);
	log_ops(s, ts0, ops);
	ok(!strcmp(ops, "6543"),
	   "rename log: earlier builds' records read right: %s", ops);
	is_int(pitr_store_verify(s, ignore_problem, &problems, &records), 0,
	       "rename log: and verify");
	/* (8 is a dictionary record, from format 3) */
	set_log_op(s, ts1, 1, PITR_OP_CT_DELETE + 3);
	is_int(pitr_store_verify(s, ignore_problem, &problems, &records),
	       PITR_CORRUPT, "rename log: an unknown op is corruption");
	is_int(problems, 1, "rename log: reported once");
	pitr_store_close(s);
}

static off_t data_size(const char *name)
{
	char path[400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/data.mdb", dir, name);
	return stat(path, &st) ? -1 : st.st_size;
}

/* A process that died inside a read transaction (a restore killed) must
 * not keep the store from reusing its pages. */
static void test_dead_reader(void)
{
	pitr_store *s = make_store("deadreader", NULL);
	char path[300], body[64];
	uint64_t db, ct;
	pitr_txn *t;
	int status = -1;
	off_t before, after;

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	pitr_txn_commit(t, NULL);
	put(s, ct, "x", "{\"n\": 0}", NULL);
	snprintf(path, sizeof(path), "%s/deadreader", dir);
	pid_t pid = fork();
	if (pid == 0) {
		pitr_store *c;
		if (pitr_store_open(path, 0, &c) ||
		    pitr_txn_begin(c, PITR_TXN_READ, &t))
			_exit(1);
		_exit(0); /* dies holding the snapshot */
	}
	waitpid(pid, &status, 0);
	is_int(status, 0, "dead reader: the child read and died");
	usleep(1100 * 1000); /* past the once-a-second check */
	before = data_size("deadreader");
	for (int i = 1; i <= 3000; i++) {
		snprintf(body, sizeof(body), "{\"n\": %d}", i);
		put(s, ct, "x", body, NULL);
	}
	after = data_size("deadreader");
	ok(after - before < 2 << 20,
	   "dead reader: 3000 commits grew the file by %lld bytes",
	   (long long)(after - before));
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

/*
 * The scan that proves documents valid before jansson is asked: typical
 * documents take it, and each edge either side of the rules gives the
 * verdict of RFC 8259 (rfc8259.h), or where the RFC leaves it to us,
 * jansson's (both computed here too).
 */
static void test_json_scan(void)
{
	static const struct {
		const char *body;
		int ok, proven;
	} cases[] = {
		{ "{}", 1, 1 },
		{ " \t\r\n{ \"a\" : [ 1 , -0.5e+3 , true , false , null , "
		  "{ } , [ ] , \"\" ] }\n ",
		  1, 1 },
		{ "{\"s\": \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t "
		  "\\u00e9 \\uFFFF\"}",
		  1, 1 },
		{ "{\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\": 1}", 1, 1 },
		{ "{\"n\": [0, -0, 0.0, 1e299, 1E-400, "
		  "123456789012345678901234]}",
		  1, 1 },
		{ "{\"n\": 1.7976931348623157e308}", 1, 0 },
		{ "{\"n\": 0e99999}", 1, 0 },
		{ "{\"pair\": \"\\ud83d\\ude00\"}", 1, 0 },
		{ "{\"a\": 1, \"a\": 2}", 1, 1 },
		{ "{\"s\": \"\\u0000\"}", 1, 1 },
		{ "{\"foo\\u0000bar\": 42}", 1, 1 },
		{ "{\"foo\\u0000bar\": 1.7976931348623157e308}", 1, 0 },
		{ "{\"k\\u0000\": [\"\\\\u0000\", \"\\ud83d\\ude00\\u0000\"]}", 1,
		  0 },
		/* refused */
		{ "{\"n\": 1.8e308}", 0, 0 },
		{ "{\"n\": -1e309}", 0, 0 },
		{ "{\"n\": 01}", 0, 0 },
		{ "{\"n\": 1.}", 0, 0 },
		{ "{\"n\": .5}", 0, 0 },
		{ "{\"n\": -}", 0, 0 },
		{ "{\"n\": 1e}", 0, 0 },
		{ "{\"n\": +1}", 0, 0 },
		{ "{\"n\": 1x}", 0, 0 },
		{ "{\"n\": NaN}", 0, 0 },
		{ "{\"t\": tru}", 0, 0 },
		{ "{\"t\": True}", 0, 0 },
		{ "{\"t\": truex}", 0, 0 },
		{ "{\"s\": \"\\ud800\"}", 0, 0 },
		{ "{\"s\": \"\\udc00\\ud800\"}", 0, 0 },
		{ "{\"s\": \"\\u12G4\"}", 0, 0 },
		{ "{\"s\": \"\\u000\"}", 0, 0 },
		{ "{\"s\": \\u0000}", 0, 0 },
		{ "{\"s\": \"\\ud800\\u0000\"}", 0, 0 },
		{ "{\"s\": \"\\x\"}", 0, 0 },
		{ "{\"s\": \"tab\there\"}", 0, 0 },
		{ "{\"s\": \"\xc0\x80\"}", 0, 0 },
		{ "{\"s\": \"\xed\xa0\x80\"}", 0, 0 },
		{ "{\"s\": \"\xf4\x90\x80\x80\"}", 0, 0 },
		{ "{\"s\": \"\xe2\x82\"}", 0, 0 },
		{ "{\"s\": \"open}", 0, 0 },
		{ "{\"a\": 1,}", 0, 0 },
		{ "{\"a\" 1}", 0, 0 },
		{ "{\"a\": [1, 2}", 0, 0 },
		{ "{\"a\": [1 2]}", 0, 0 },
		{ "{\"a\": 1", 0, 0 },
		{ "{1: 2}", 0, 0 },
		{ "{'a': 1}", 0, 0 },
		{ "{} {}", 0, 0 },
		{ "\xef\xbb\xbf{}", 0, 0 },
		{ "[{}]", 0, 0 },
		{ "\"{}\"", 0, 0 },
		{ "{/* c */}", 0, 0 },
	};
	char name[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *b = cases[i].body;
		size_t len = strlen(b);
		json_error_t e;
		json_t *j = json_loadb(b, len, JSON_DECODE_INT_AS_REAL, &e);
		int jansson = j && json_is_object(j);
		char err[160];

		int rfc = rfc8259_verdict(b, len);

		json_decref(j);
		if (rfc != RFC_IMPL) {
			snprintf(name, sizeof(name),
				 "json case %zu: RFC 8259 %s it", i,
				 cases[i].ok ? "accepts" : "refuses");
			is_int(rfc == RFC_OBJECT, cases[i].ok, name);
		} else {
			snprintf(name, sizeof(name),
				 "json case %zu: implementation-defined: "
				 "jansson %s it",
				 i, cases[i].ok ? "accepts" : "refuses");
			is_int(jansson, cases[i].ok, name);
		}
		snprintf(name, sizeof(name), "json case %zu: %s by the scan", i,
			 cases[i].proven ? "proven" : "not proven");
		is_int(json_proven(b, len), cases[i].proven, name);
		snprintf(name, sizeof(name), "json case %zu: the check agrees",
			 i);
		is_int(json_check(b, len, 4096, err, sizeof(err)),
		       cases[i].ok ? 0 : PITR_BADJSON, name);
	}
	char err[160];
	ok(!json_proven("{}\0", 3) &&
	       json_check("{}\0", 3, 4096, err, sizeof(err)) == PITR_BADJSON,
	   "json: a NUL after the object is refused");
	ok(!json_proven("{\"a\":\"\0\"}", 8) &&
	       json_check("{\"a\":\"\0\"}", 8, 4096, err, sizeof(err)) ==
		   PITR_BADJSON,
	   "json: a NUL in a string is refused");
	/* jansson skips a raw NUL after a number or a literal */
	static const char *const nul_after[] = {
		"{\"a\":1\0}",	"{\"a\":true\0}",
		"{\"a\":[1\0]}",	"{\"a\":null\0,\"b\":2}",
		"{\"a\":-1.5e3\0 }", "{\"a\":false\0\n}",
		"{\"a\":1e999\0}",
	};
	for (size_t i = 0; i < sizeof(nul_after) / sizeof(nul_after[0]);
	     i++) {
		const char *b = nul_after[i];
		size_t len = strlen(b) + 1 + strlen(b + strlen(b) + 1);
		snprintf(name, sizeof(name),
			 "json: a raw NUL after a value is refused (case %zu)",
			 i);
		is_int(json_check(b, len, 4096, err, sizeof(err)),
		       PITR_BADJSON, name);
		is_int(rfc8259_verdict(b, len), RFC_INVALID,
		       "json: ... and RFC 8259 refuses it too");
	}
	is_int(json_check("{\n \"a\": 12\0}", 13, 4096, err, sizeof(err)),
	       PITR_BADJSON, "json: a raw NUL: refused");
	ok(!strcmp(err, "line 2, column 9: NUL byte"),
	   "json: a raw NUL: its line and column (%s)", err);
	/* nesting: the scan proves 256 levels, jansson goes on to 2048 */
	static const int levels[] = { 255, 256, 257, 2048, 2049 };
	char deep[2 * 2049 + 8];
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		int n = levels[l], k = 0;
		deep[k++] = '{';
		deep[k++] = '"';
		deep[k++] = 'a';
		deep[k++] = '"';
		deep[k++] = ':';
		for (int i = 0; i < n - 1; i++)
			deep[k++] = '[';
		for (int i = 0; i < n - 1; i++)
			deep[k++] = ']';
		deep[k++] = '}';
		snprintf(name, sizeof(name), "%d levels: proven %s", n,
			 n <= 256 ? "yes" : "no");
		is_int(json_proven(deep, (size_t)k), n <= 256, name);
		snprintf(name, sizeof(name), "%d levels: %s", n,
			 n <= 2048 ? "accepted" : "refused");
		is_int(json_check(deep, (size_t)k, 8192, err, sizeof(err)),
		       n <= 2048 ? 0 : PITR_BADJSON, name);
	}
}

/*
 * Random documents near the rules' edges, half of them with one byte
 * changed: whatever the scan proves, jansson must accept as an object.
 */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

struct gen {
	char *p, *end;
};

static void emit(struct gen *g, const char *s, size_t n)
{
	if ((size_t)(g->end - g->p) < n)
		n = (size_t)(g->end - g->p);
	memcpy(g->p, s, n);
	g->p += n;
}

static void emit_s(struct gen *g, const char *s)
{
	emit(g, s, strlen(s));
}

static void gen_ws(struct gen *g)
{
	static const char *const ws[] = { "", "", " ", "\n  ", "\t", "\r\n" };
	emit_s(g, ws[rnd(6)]);
}

static void gen_string(struct gen *g)
{
	static const char *const parts[] = {
		"a",
		"key",
		" ",
		"\\\"",
		"\\\\",
		"\\/",
		"\\b",
		"\\f",
		"\\n",
		"\\r",
		"\\t",
		"\\u00e9",
		"\\uFFFF",
		"\\ud83d\\ude00",
		"\\ud800",
		"\\udc00",
		"\\u0000",
		"\\u12g4",
		"\\x",
		"\xc3\xa9",
		"\xe2\x82\xac",
		"\xf0\x9f\x98\x80",
		"\xed\xa0\x80",
		"\xc0\x80",
		"\xf4\x90\x80\x80",
		"\xe2\x82",
		"\x01",
		"\t",
		"\x7f",
	};
	int n = (int)rnd(5);

	emit_s(g, "\"");
	for (int i = 0; i < n; i++)
		emit_s(g,
		       parts[rnd(4) ? rnd(3)
				    : rnd(sizeof(parts) / sizeof(parts[0]))]);
	emit_s(g, "\"");
}

static void gen_digits(struct gen *g, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		char d = (char)('0' + rnd(10));
		emit(g, &d, 1);
	}
}

static void gen_number(struct gen *g)
{
	char buf[16];

	if (rnd(3) == 0)
		emit_s(g, "-");
	if (rnd(4) == 0) {
		emit_s(g, "0");
	} else {
		buf[0] = (char)('1' + rnd(9));
		emit(g, buf, 1);
		gen_digits(g, rnd(8) ? rnd(20) : 295 + rnd(15));
	}
	if (rnd(2)) {
		emit_s(g, ".");
		gen_digits(g, 1 + rnd(10));
	}
	if (rnd(2)) {
		static const char *const e[] = { "e", "E", "e+", "e-", "E-" };
		emit_s(g, e[rnd(5)]);
		snprintf(buf, sizeof(buf), "%u",
			 rnd(4) ? rnd(20)
				: 280 + rnd(40) + (rnd(8) ? 0 : 99990));
		emit_s(g, buf);
	}
}

static void gen_value(struct gen *g, int depth)
{
	unsigned k = depth > 6 ? 2 + rnd(3) : rnd(7);

	gen_ws(g);
	switch (k) {
	case 0:
	case 1: {
		int obj = k == 0, n = (int)rnd(4);
		emit_s(g, obj ? "{" : "[");
		for (int i = 0; i < n; i++) {
			if (i)
				emit_s(g, ",");
			if (obj) {
				gen_ws(g);
				gen_string(g);
				gen_ws(g);
				emit_s(g, ":");
			}
			gen_value(g, depth + 1);
		}
		gen_ws(g);
		emit_s(g, obj ? "}" : "]");
		break;
	}
	case 2:
		gen_string(g);
		break;
	case 3:
		gen_number(g);
		break;
	default: {
		static const char *const lit[] = { "true", "false", "null",
						   "tru",  "nul",   "True" };
		emit_s(g, lit[rnd(8) ? rnd(3) : rnd(6)]);
	}
	}
	gen_ws(g);
}

static void test_json_differential(void)
{
	static const char edits[] = "\"\\,:{}[]0e.-+ \x80\xc0\xed";
	char buf[8192];
	int proven = 0, wrong = 0, disagree = 0, n = 40000;

	for (int i = 0; i < n; i++) {
		struct gen g = { buf, buf + sizeof(buf) };
		emit_s(&g, "{\"doc\":");
		gen_value(&g, 1);
		emit_s(&g, "}");
		size_t len = (size_t)(g.p - buf);
		if (rnd(2))
			buf[rnd((unsigned)len)] =
			    rnd(8) ? edits[rnd(sizeof(edits) - 1)] : '\0';
		char err[160];
		int rfc = rfc8259_verdict(buf, len);
		int accepted = !json_check(buf, len, sizeof(buf), err,
					   sizeof(err));
		if (rfc != RFC_IMPL && accepted != (rfc == RFC_OBJECT)) {
			if (!disagree++)
				printf("#   RFC 8259 %s, pitrfs %s: %.*s\n",
				       rfc == RFC_OBJECT ? "accepts"
							 : "refuses",
				       accepted ? "accepts" : "refuses",
				       (int)len, buf);
		}
		if (!json_proven(buf, len))
			continue;
		proven++;
		if (rfc != RFC_OBJECT && !wrong++)
			printf("#   proven, refused by RFC 8259: %.*s\n",
			       (int)len, buf);
	}
	is_int(wrong, 0, "json: the scan proves nothing RFC 8259 refuses");
	is_int(disagree, 0,
	       "json: the check and RFC 8259 agree outside its "
	       "implementation limits");
	ok(proven > n / 10, "json: random documents: %d of %d proven", proven,
	   n);
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
	test_rename_log(PITR_FORMAT);
	test_rename_log(3);
	test_dead_reader();
	test_window();
	test_many_versions();
	test_json_scan();
	test_json_differential();
	rm_rf(dir);
	return tap_done();
}
