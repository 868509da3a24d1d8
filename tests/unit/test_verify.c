/*
 * test_verify.c - pitr_store_verify: a store built by every kind of
 * mutation verifies clean; index entries damaged through LMDB directly are
 * each reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../core/internal.h"
#include "docops.h"
#include "tap.h"

static char dir[256];

/* The problems of the last verify, one a line. */
static char seen[8192];
static int nseen;

static void collect(const char *where, const char *what, void *arg)
{
	size_t n = strlen(seen);

	(void)arg;
	nseen++;
	snprintf(seen + n, sizeof(seen) - n, "%s: %s\n", where, what);
}

static int verify(pitr_store *s)
{
	uint64_t records;

	seen[0] = 0;
	nseen = 0;
	return pitr_store_verify(s, collect, NULL, &records);
}

static int has(const char *what)
{
	return strstr(seen, what) != NULL;
}

/* Replace (or with NULL, delete) the value of `key` in table `dbi`; the
 * old one is saved in `old` when given. */
static int poke(pitr_store *s, MDB_dbi dbi, const void *k, size_t klen,
		const void *v, size_t vlen, unsigned char *old, size_t *oldlen)
{
	MDB_val key = { klen, (void *)k }, val;
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (rc)
		return rc;
	if (old && (rc = tbl_get(t->txn, dbi, &key, &val)) == 0) {
		memcpy(old, val.mv_data, val.mv_size);
		*oldlen = val.mv_size;
	}
	if (!rc && v) {
		val.mv_size = vlen;
		val.mv_data = (void *)v;
		rc = tbl_put(t->txn, dbi, &key, &val, 0);
	} else if (!rc) {
		rc = tbl_del(t->txn, dbi, &key);
	}
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, NULL);
}

static int ct_make(pitr_store *s, uint64_t db, const char *name, uint64_t *ct)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (!rc && (rc = pitr_ct_create(t, db, name, strlen(name), ct)))
		pitr_txn_abort(t);
	return rc ? rc : pitr_txn_commit(t, NULL);
}

int main(void)
{
	pitr_config cfg = { 0 };
	pitr_store *s = NULL;
	pitr_txn *t;
	char path[300];
	uint64_t db, ct, ct2, e, ts, ts_a;
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/pitr-unit-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/v", dir);
	pitr_policy_default(&cfg.policy);
	cfg.max_doc_size = 4096;
	rc = pitr_store_create(path, &cfg);
	if (!rc)
		rc = pitr_store_open(path, 0, &s);
	is_int(rc, 0, "a store");
	if (rc)
		return tap_done();

	/* Every kind of mutation. */
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	pitr_doc_put(t, ct, "a", 1, "{}", 2);
	pitr_doc_put(t, ct, "b", 1, "{\"b\":1}", 7);
	pitr_doc_put(t, ct, "c", 1, "{\"c\":1}", 7);
	is_int(pitr_txn_commit(t, NULL), 0, "documents");
	is_int(put(s, ct, "a", "{\"a\":2}", &ts_a), 0, "a new version");
	is_int(del(s, ct, "b", &ts), 0, "a delete");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_doc_rename(t, ct, "c", 1, ct, "c2", 2), 0, "a rename");
	/* a second mutation in one commit replaces the first */
	pitr_doc_put(t, ct, "x", 1, "{}", 2);
	is_int(pitr_doc_delete(t, ct, "x", 1), 0, "put and delete in a commit");
	pitr_doc_put(t, ct, "y", 1, "{}", 2);
	pitr_doc_put(t, ct, "y", 1, "{\"y\":2}", 7);
	is_int(pitr_scratch_put(t, ct, ".s.swp", 6, "junk", 4), 0, "scratch");
	is_int(pitr_txn_commit(t, NULL), 0, "committed");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_ct_rename(t, db, "c", 1, db, "c9", 2), 0,
	       "container renamed");
	is_int(pitr_txn_commit(t, NULL), 0, "committed");
	is_int(ct_make(s, db, "c", &ct2), 0, "its old name made again");
	is_int(put(s, ct2, "a", "{}", &ts), 0, "a document in it");
	is_int(ct_make(s, db, "e", &e), 0, "a container to delete");
	put(s, e, "z", "{}", &ts);
	del(s, e, "z", &ts);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_ct_delete(t, db, "e", 1), 0, "container deleted");
	pitr_db_create(t, "gone", 4, NULL);
	is_int(pitr_db_delete(t, "gone", 4), 0, "database made and deleted");
	is_int(pitr_txn_commit(t, NULL), 0, "committed");
	is_int(ct_make(s, db, "e", &e), 0, "and made again");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_db_rename(t, "d", 1, "d2", 2), 0, "database renamed");
	is_int(pitr_txn_commit(t, NULL), 0, "committed");

	is_int(verify(s), 0, "an undamaged store verifies");
	is_int(nseen, 0, "with no problem");
	if (nseen)
		printf("# %s", seen);

	/* Damage, one at a time, each undone after. */
	unsigned char vk[KEY_MAX], lk[KEY_MAX], old[64], v[64];
	size_t vklen = key_named(vk, ct, "a", 1, ts_a), oldlen = 0;
	size_t lklen = key_live(lk, ct, LIVE_DOC, "a", 1), n;

	is_int(poke(s, s->versions, vk, vklen, NULL, 0, old, &oldlen), 0,
	       "versions entry deleted");
	is_int(verify(s), PITR_CORRUPT, "verify finds it");
	ok(has("has no versions entry"), "the log record has no entry");
	ok(has("but the document's live entry disagrees"),
	   "live no longer agrees with the latest version");
	poke(s, s->versions, vk, vklen, old, oldlen, NULL, NULL);
	is_int(verify(s), 0, "undone");

	/* changed through the codec, in the account's form */
	struct ver_rec vrec;
	MDB_val ov = { oldlen, old };
	is_int(ver_decode(&ov, &vrec, ver_form(s)), 0, "the entry decodes");
	vrec.idx = 99;
	n = ver_encode(v, &vrec, ver_form(s));
	is_int(poke(s, s->versions, vk, vklen, v, n, NULL, NULL), 0,
	       "versions pointer changed");
	is_int(verify(s), PITR_CORRUPT, "verify finds it");
	ok(has("' at ") && has("points at log record #99, which does not exist"),
	   "the entry named with its time and what is wrong");
	ok(has("put of ") && has("has no versions entry"),
	   "the record it left");
	poke(s, s->versions, vk, vklen, old, oldlen, NULL, NULL);

	ver_decode(&ov, &vrec, ver_form(s));
	vrec.op = OP_DOC_DEL;
	n = ver_encode(v, &vrec, ver_form(s));
	poke(s, s->versions, vk, vklen, v, n, NULL, NULL);
	is_int(verify(s), PITR_CORRUPT, "versions op changed");
	ok(has("disagrees with its log record"), "disagrees with the log");
	ok(has("is a delete, but the document has a live entry"),
	   "and with live");
	poke(s, s->versions, vk, vklen, old, oldlen, NULL, NULL);
	is_int(verify(s), 0, "undone");

	is_int(poke(s, s->live, lk, lklen, NULL, 0, old, &oldlen), 0,
	       "live entry deleted");
	is_int(verify(s), PITR_CORRUPT, "verify finds it");
	ok(has("is the latest put, but the document has no live entry"),
	   "the latest version without its live entry");
	is_int(nseen, 1, "reported once");
	poke(s, s->live, lk, lklen, old, oldlen, NULL, NULL);

	n = key_live(v, ct, LIVE_DOC, "ghost", 5);
	is_int(poke(s, s->live, v, n, old, oldlen, NULL, NULL), 0,
	       "a bogus live entry");
	is_int(verify(s), PITR_CORRUPT, "verify finds it");
	ok(has("'ghost': has no versions entry"), "named");
	is_int(nseen, 1, "reported once");
	poke(s, s->live, v, n, NULL, 0, NULL, NULL);

	unsigned char ik[8];
	put_be64(ik, ct2);
	is_int(poke(s, s->incs, ik, 8, NULL, 0, old, &oldlen), 0,
	       "an incarnation deleted");
	is_int(verify(s), PITR_CORRUPT, "verify finds it");
	ok(has("but incs has no such record"), "names without its incarnation");
	ok(has("is in no live container"), "live in no container");
	poke(s, s->incs, ik, 8, old, oldlen, NULL, NULL);

	is_int(verify(s), 0, "every damage undone: verifies again");
	if (nseen)
		printf("# %s", seen);

	/* meta says format 4 over a table of items: the table is read by
	 * its layout, and verify says they disagree */
	unsigned char fmt[4];
	put_le32(fmt, 4);
	poke(s, s->meta, "format", 6, fmt, 4, NULL, NULL);
	pitr_store_close(s);
	is_int(pitr_store_open(path, 0, &s), 0, "meta says format 4: opens");
	pitr_version vx;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	is_int(pitr_doc_stat(t, ct, "a", 1, ts_a, &vx), 0, "and reads");
	pitr_txn_abort(t);
	is_int(verify(s), PITR_CORRUPT, "verify finds it");
	ok(has("says format 4, but the versions table keeps items"),
	   "the disagreement named");
	is_int(store_set_format(s, 3), EINVAL,
	       "no other layout under versions already there");
	put_le32(fmt, PITR_FORMAT);
	poke(s, s->meta, "format", 6, fmt, 4, NULL, NULL);
	pitr_store_close(s);
	is_int(pitr_store_open(path, 0, &s), 0, "format restored");
	is_int(verify(s), 0, "verifies again");

	/* Repair: damage of three indexes at once, rebuilt from the log. */
	pitr_version va, vr;
	void *body = NULL;
	size_t blen;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	is_int(pitr_doc_stat(t, ct, "a", 1, ts_a, &va), 0, "a's version");
	pitr_txn_abort(t);
	poke(s, s->versions, vk, vklen, NULL, 0, NULL, NULL);
	memset(v, 0xff, LIVE_DOC_VAL);
	poke(s, s->live, lk, lklen, v, LIVE_DOC_VAL, NULL, NULL);
	poke(s, s->incs, ik, 8, NULL, 0, NULL, NULL);
	is_int(verify(s), PITR_CORRUPT, "three indexes damaged");
	pitr_store_close(s);
	char fixed[320];
	uint64_t replayed = 0;
	snprintf(fixed, sizeof(fixed), "%s/fixed", dir);
	nseen = 0;
	is_int(pitr_store_repair(path, fixed, collect, NULL, &replayed), 0,
	       "repaired into a new account");
	ok(replayed > 10, "every log record replayed (%llu)",
	   (unsigned long long)replayed);
	is_int(pitr_store_open(fixed, 0, &s), 0, "which opens");
	is_int(verify(s), 0, "and verifies");
	if (nseen)
		printf("# %s", seen);
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	ok(pitr_doc_stat(t, ct, "a", 1, ts_a, &vr) == 0 && vr.ts == va.ts &&
	       vr.etag == va.etag,
	   "a's version at its instant as it was");
	ok(pitr_doc_get(t, ct, "a", 1, PITR_NOW, NULL, &body, &blen) == 0 &&
	       blen == 7 && !memcmp(body, "{\"a\":2}", 7),
	   "its body now");
	if (body)
		free(body);
	size_t slen = 0;
	is_int(pitr_scratch_stat(t, ct, ".s.swp", 6, &slen, NULL), 0,
	       "the scratch file copied");
	is_int(pitr_db_lookup(t, PITR_NOW, "d2", 2, NULL), 0,
	       "the renamed database");
	is_int(pitr_ct_lookup(t, PITR_NOW, db, "c", 1, NULL), 0,
	       "the container whose incarnation was lost");
	pitr_txn_abort(t);
	pitr_store_close(s);
	is_int(pitr_store_repair(path, fixed, collect, NULL, NULL), PITR_EXISTS,
	       "a target that exists: PITR_EXISTS");

	/* A damaged log record: named, nothing built. */
	is_int(pitr_store_open(path, 0, &s), 0, "the damaged store again");
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	MDB_cursor *lc;
	MDB_val lkey, lval;
	unsigned char logk[12];
	mdb_cursor_open(t->txn, s->log, &lc);
	mdb_cursor_get(lc, &lkey, &lval, MDB_LAST);
	memcpy(logk, lkey.mv_data, 12);
	n = lval.mv_size < sizeof(old) ? lval.mv_size : sizeof(old);
	memcpy(v, lval.mv_data, n);
	mdb_cursor_close(lc);
	pitr_txn_abort(t);
	v[n - 1] ^= 1;
	poke(s, s->log, logk, 12, v, n, NULL, NULL);
	pitr_store_close(s);
	snprintf(fixed, sizeof(fixed), "%s/fixed2", dir);
	nseen = 0;
	seen[0] = 0;
	is_int(pitr_store_repair(path, fixed, collect, NULL, NULL),
	       PITR_CORRUPT, "a damaged log record: PITR_CORRUPT");
	ok(has("fails its checksum"), "named");
	ok(access(fixed, F_OK) != 0, "nothing built");
	s = NULL;
	pitr_store_close(s);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
