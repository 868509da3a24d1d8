/*
 * test_body.c - version bodies stored as keyframes and deltas: the codec's
 * round trips and refusals, reads at every instant of a long history, a
 * damaged or missing base read as an error (never wrong data), pruning
 * that keeps what the window needs, rename and restore storing standalone
 * bodies, verify, and a format-2 account read and written by this build.
 * White-box where a test must look at or damage the stored records.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../core/internal.h"
#include "../bench/docgen.h"
#include "tap.h"

#define SEC PITR_NS_PER_SEC

static char dir[64];

/* Version v of a ~1 KB document: a few fields change with v. */
static size_t doc(char *buf, size_t cap, unsigned id, unsigned v)
{
	char head[128], rest[DOC_MAX];
	size_t n = doc_gen(rest, sizeof(rest), "d", id);
	int h = snprintf(head, sizeof(head),
			 "{\"status\":\"%s\",\"updated_at\":\"2026-12-%02uT%02u:"
			 "00:00Z\",\"counter\":%u,\"doc\":",
			 v % 3 ? "open" : "closed", 1 + v % 28, v % 24, v);

	return (size_t)snprintf(buf, cap, "%s%.*s}", head, (int)n, rest) <
			       cap
		   ? (size_t)h + n + 1
		   : 0;
}

static pitr_store *make_store(const char *name, uint32_t format)
{
	pitr_config cfg = { 0 };
	pitr_store *s = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	pitr_policy_default(&cfg.policy);
	cfg.policy.retention = 3600 * SEC;
	if (pitr_store_create(path, &cfg) || pitr_store_open(path, 0, &s))
		return NULL;
	if (format != PITR_FORMAT) {
		/* An account of an earlier format: its meta says so before
		 * anything is written, and before format 3 it has no dicts
		 * table, as a build of that format made it; the library
		 * writes it in that format from then on. */
		if (store_set_format(s, format))
			return NULL;
		pitr_store_close(s);
		if (pitr_store_open(path, 0, &s))
			return NULL;
	}
	return s;
}

static uint64_t container(pitr_store *s, const char *db, const char *ct)
{
	uint64_t d = 0, c = 0;
	pitr_txn *t;

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, db, strlen(db), &d);
	pitr_ct_create(t, d, ct, strlen(ct), &c);
	pitr_txn_commit(t, NULL);
	return c;
}

static int put(pitr_store *s, uint64_t ct, const char *id, const char *body,
	       size_t len, uint64_t *ts)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (!rc && (rc = pitr_doc_put(t, ct, id, strlen(id), body, len))) {
		pitr_txn_abort(t);
		return rc;
	}
	return rc ? rc : pitr_txn_commit(t, ts);
}

/* Versions 0..n-1 of document `id` (doc()'s document `seed`), each in a
 * commit of its own: their bodies, lengths and instants. */
static void put_versions(pitr_store *s, uint64_t ct, const char *id,
			 unsigned seed, unsigned n, char body[][DOC_MAX],
			 size_t *len, uint64_t *ts)
{
	for (unsigned v = 0; v < n; v++) {
		len[v] = doc(body[v], DOC_MAX, seed, v);
		put(s, ct, id, body[v], len[v], &ts[v]);
	}
}

/* Read (ct, id) at `at`: 1 when it is exactly body[len]; else 0, rc set. */
static int reads(pitr_store *s, uint64_t ct, const char *id, uint64_t at,
		 const char *body, size_t len, int *rc)
{
	pitr_txn *t;
	void *got;
	size_t glen;
	int same = 0;

	*rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (*rc)
		return 0;
	*rc = pitr_doc_get(t, ct, id, strlen(id), at, NULL, &got, &glen);
	if (!*rc) {
		same = glen == len && !memcmp(got, body, len);
		free(got);
	}
	pitr_txn_abort(t);
	return same;
}

struct forms {
	int keys, dicts, deltas, bad, maxnth, base_not_key;
	int records, compact; /* every record, and those in the compact form */
	int shorts;	      /* those in the short form (of compact) */
	int dict_records;     /* dictionaries */
};

/* Count the stored forms of every document put in the log. */
static struct forms forms(pitr_store *s)
{
	struct forms f = { 0 };
	MDB_val key, val, bk, bv;
	MDB_cursor *c;
	pitr_txn *t;
	struct log_rec r, br;
	struct body_base b, bb;

	pitr_txn_begin(s, PITR_TXN_READ, &t);
	mdb_cursor_open(t->txn, s->log, &c);
	while (mdb_cursor_get(c, &key, &val, MDB_NEXT) == 0) {
		if (log_decode(&key, &val, &r))
			continue;
		f.records++;
		f.compact += r.form != REC_FIXED;
		f.shorts += r.form == REC_SHORT;
		f.dict_records += r.op == OP_DICT;
		if (r.op != OP_DOC_PUT)
			continue;
		int form = body_form(&r, &b);
		if (form == BODY_KEY || form == BODY_DICT) {
			f.keys++;
			f.dicts += form == BODY_DICT;
			continue;
		}
		if (form != BODY_DELTA) {
			f.bad++;
			continue;
		}
		f.deltas++;
		if (b.nth > f.maxnth)
			f.maxnth = b.nth;
		unsigned char k[12];
		key_log(k, b.ts, b.idx);
		bk.mv_size = 12;
		bk.mv_data = k;
		if (mdb_get(t->txn, s->log, &bk, &bv) ||
		    log_decode(&bk, &bv, &br) ||
		    (body_form(&br, &bb) != BODY_KEY &&
		     body_form(&br, &bb) != BODY_DICT))
			f.base_not_key++;
	}
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	return f;
}

static void count_problem(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	++*(int *)arg;
}

static int problems(pitr_store *s)
{
	int n = 0;
	uint64_t records;
	int rc = pitr_store_verify(s, count_problem, &n, &records);

	return rc && !n ? -1 : n;
}

/*
 * The codec alone
 */
static void test_codec(void)
{
	char a[DOC_MAX], b[DOC_MAX], other[DOC_MAX], out[DOC_MAX];
	unsigned char buf[4096];
	size_t alen = doc(a, sizeof(a), 1, 1), blen = doc(b, sizeof(b), 1, 2);
	size_t olen = doc(other, sizeof(other), 2, 1);
	struct body_base base = { 1234, 7, 3, 0 }, got;
	struct log_rec r = { .op = OP_DOC_PUT, .size = (uint32_t)blen };
	int n, flags;

	ok(alen > 900 && blen > 900, "documents of about 1 KB (%zu, %zu)", alen,
	   blen);
	n = body_delta_encode(&base, a, alen, b, blen, buf, sizeof(buf));
	ok(n > DELTA_HDR && body_delta_pays((size_t)n, blen),
	   "a small edit is a small delta (%d bytes of %zu)", n, blen);
	r.flags = LOG_DELTA;
	r.body = buf;
	r.stored = (uint32_t)n;
	is_int(body_form(&r, &got), BODY_DELTA, "its form: a delta");
	ok(got.ts == 1234 && got.idx == 7 && got.nth == 3,
	   "naming its base and rank");
	is_int(body_delta_decode(&r, a, alen, out), 0, "decodes on its base");
	ok(!memcmp(out, b, blen), "to the body");
	/* on another base, LZ4 may decode to other bytes: the etag, which
	 * every reader checks, tells */
	memset(out, 0, sizeof(out));
	if (body_delta_decode(&r, other, olen, out) == 0)
		ok(XXH3_64bits(out, blen) != XXH3_64bits(b, blen),
		   "on another base: not the body's etag");
	else
		ok(1, "on another base: refused");
	r.stored = DELTA_HDR + 3;
	is_int(body_delta_decode(&r, a, alen, out), PITR_CORRUPT,
	       "a truncated delta is refused");
	r.stored = DELTA_HDR;
	is_int(body_form(&r, &got), PITR_CORRUPT, "a delta of no bytes too");
	r.stored = (uint32_t)n;
	buf[12] = buf[13] = 0;
	is_int(body_form(&r, &got), PITR_CORRUPT, "and one of rank 0");
	r.flags = LOG_DELTA | LOG_LZ4;
	is_int(body_form(&r, &got), PITR_CORRUPT, "unknown flags are refused");
	r.flags = 0x80;
	is_int(body_form(&r, &got), PITR_CORRUPT, "every unknown flag");

	n = body_key_encode(b, blen, buf, sizeof(buf), &flags);
	ok(n > 0 && flags == LOG_LZ4 && (size_t)n < blen,
	   "a keyframe is an lz4 block (%d bytes)", n);
	r.flags = flags;
	r.stored = (uint32_t)n;
	is_int(body_form(&r, &got), BODY_KEY, "its form: a keyframe");
	is_int(body_key_decode(&r, out), 0, "decodes");
	ok(!memcmp(out, b, blen), "to the body");
	r.size = (uint32_t)blen + 1;
	is_int(body_key_decode(&r, out), PITR_CORRUPT,
	       "a size that does not match is refused");
	n = body_key_encode("{}", 2, buf, sizeof(buf), &flags);
	ok(n == 2 && flags == 0, "a body compression does not shrink is kept");
	r.flags = 0;
	r.size = 3;
	r.stored = 2;
	is_int(body_form(&r, &got), PITR_CORRUPT,
	       "a plain body of the wrong size is refused");
}

/*
 * A long history: every version reads back at its instant; deltas carry
 * the edits; the chains stay one keyframe deep.
 */
static void test_history(void)
{
	enum { V = 300 };
	pitr_store *s = make_store("hist", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), ts[V];
	static char bodies[V][DOC_MAX];
	size_t lens[V];
	int rc, bad = 0;

	for (unsigned v = 0; v < V; v++) {
		lens[v] = doc(bodies[v], DOC_MAX, 1, v);
		if (put(s, ct, "x", bodies[v], lens[v], &ts[v]))
			bad++;
	}
	is_int(bad, 0, "300 versions written");
	struct forms f = forms(s);
	ok(f.deltas >= V * 9 / 10, "most are deltas (%d of %d)", f.deltas, V);
	ok(f.keys >= V / DELTA_MAX && f.keys < V / 10,
	   "a keyframe every DELTA_MAX at most (%d)", f.keys);
	ok(f.maxnth <= DELTA_MAX, "no base carries more than DELTA_MAX");
	is_int(f.base_not_key, 0, "every delta's base is a keyframe");
	is_int(f.bad, 0, "every form is known");
	for (unsigned v = 0; v < V; v++)
		if (!reads(s, ct, "x", ts[v], bodies[v], lens[v], &rc))
			bad++;
	is_int(bad, 0, "every version reads back at its instant");
	ok(reads(s, ct, "x", PITR_NOW, bodies[V - 1], lens[V - 1], &rc),
	   "and the latest now");
	is_int(problems(s), 0, "verify decodes every body");

	/* A document whose edits change everything: keyframes. */
	char a[DOC_MAX], b[DOC_MAX];
	size_t al = doc(a, sizeof(a), 7, 0), bl = doc(b, sizeof(b), 8, 0);
	uint64_t t1, t2;
	put(s, ct, "y", a, al, &t1);
	put(s, ct, "y", b, bl, &t2);
	f = forms(s);
	ok(reads(s, ct, "y", t1, a, al, &rc) && reads(s, ct, "y", t2, b, bl, &rc),
	   "a rewrite reads back");

	/* Two puts of one document in one transaction: the second replaces
	 * the first, and is no delta on it. */
	pitr_txn *t;
	uint64_t t3;
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_doc_put(t, ct, "y", 1, a, al);
	pitr_doc_put(t, ct, "y", 1, bodies[5], lens[5]);
	is_int(pitr_txn_commit(t, &t3), 0, "two puts in one commit");
	ok(reads(s, ct, "y", t3, bodies[5], lens[5], &rc),
	   "the second is what is read");
	is_int(problems(s), 0, "and the store verifies");
	pitr_store_close(s);
}

/* The log record at (ts, idx), copied, and a way to write it back. */
static int record_get(pitr_store *s, uint64_t ts, uint32_t idx,
		      unsigned char *buf, size_t *len)
{
	unsigned char k[12];
	MDB_val key = { 12, k }, val;
	pitr_txn *t;
	int rc;

	key_log(k, ts, idx);
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	rc = mdb_get(t->txn, s->log, &key, &val);
	if (!rc) {
		memcpy(buf, val.mv_data, val.mv_size);
		*len = val.mv_size;
	}
	pitr_txn_abort(t);
	return rc;
}

static void record_set(pitr_store *s, uint64_t ts, uint32_t idx,
		       const unsigned char *buf, size_t len)
{
	unsigned char k[12];
	MDB_val key = { 12, k }, val = { len, (void *)buf };
	pitr_txn *t;

	key_log(k, ts, idx);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	if (buf)
		mdb_put(t->txn, s->log, &key, &val, 0);
	else
		mdb_del(t->txn, s->log, &key, NULL);
	pitr_txn_commit(t, NULL);
}

/* The base of the version of (ct, id) at `at`. */
static int base_of(pitr_store *s, uint64_t ct, const char *id, uint64_t at,
		   struct body_base *b)
{
	pitr_txn *t;
	pitr_version v;
	unsigned char rec[4096];
	size_t len;
	struct log_rec r;
	MDB_val val;
	int found = 0;

	pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (pitr_doc_stat(t, ct, id, strlen(id), at, &v) == 0) {
		/* the log index: the only record of the commit */
		if (record_get(s, v.ts, 0, rec, &len) == 0) {
			unsigned char k[12];
			MDB_val key = { sizeof(k), k };
			key_log(k, v.ts, 0);
			val.mv_size = len;
			val.mv_data = rec;
			found = log_decode(&key, &val, &r) == 0 &&
				body_form(&r, b) == BODY_DELTA;
		}
	}
	pitr_txn_abort(t);
	return found;
}

/* A damaged or missing base is an error, never wrong data. */
static void test_damage(void)
{
	pitr_store *s = make_store("damage", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), ts[3];
	char body[3][DOC_MAX];
	size_t len[3];
	unsigned char orig[4096], bad[4096];
	size_t olen;
	struct body_base b;
	int rc;

	for (unsigned v = 0; v < 3; v++) {
		len[v] = doc(body[v], DOC_MAX, 3, v);
		put(s, ct, "x", body[v], len[v], &ts[v]);
	}
	ok(base_of(s, ct, "x", ts[2], &b) && b.ts == ts[0],
	   "the third version is a delta on the first");
	record_get(s, b.ts, b.idx, orig, &olen);

	/* a flipped byte: the base fails its checksum */
	memcpy(bad, orig, olen);
	bad[olen - 20] ^= 0x40;
	record_set(s, b.ts, b.idx, bad, olen);
	ok(!reads(s, ct, "x", ts[2], body[2], len[2], &rc) &&
	       rc == PITR_CORRUPT,
	   "damaged base: the delta reads as PITR_CORRUPT");
	ok(problems(s) > 0, "verify reports it");

	/* a base whose checksum holds but whose body is another document's
	 * (its own etag recomputed): the delta's etag tells */
	char other[DOC_MAX];
	size_t ol = doc(other, sizeof(other), 4, 0);
	struct log_rec r;
	MDB_val v = { olen, orig };
	log_decode(NULL, &v, &r);
	int flags, n = body_key_encode(other, ol, bad + LOG_HDR + r.namelen,
				       sizeof(bad) - LOG_HDR - r.namelen -
					   LOG_SUM,
				       &flags);
	memcpy(bad, orig, LOG_HDR + r.namelen);
	bad[1] = (unsigned char)flags;
	put_le32(bad + 20, (uint32_t)ol);
	put_le32(bad + 24, (uint32_t)n);
	put_le64(bad + 28, XXH3_64bits(other, ol));
	size_t blen = LOG_HDR + r.namelen + (size_t)n + LOG_SUM;
	put_le64(bad + blen - LOG_SUM, XXH3_64bits(bad, blen - LOG_SUM));
	record_set(s, b.ts, b.idx, bad, blen);
	ok(!reads(s, ct, "x", ts[2], body[2], len[2], &rc) &&
	       rc == PITR_CORRUPT,
	   "a whole but wrong base: PITR_CORRUPT, not its decoding");

	/* the base gone */
	record_set(s, b.ts, b.idx, NULL, 0);
	ok(!reads(s, ct, "x", ts[2], body[2], len[2], &rc) &&
	       rc == PITR_CORRUPT,
	   "missing base: PITR_CORRUPT");
	ok(problems(s) > 0, "verify reports it");

	/* a new version after the damage is a keyframe, and reads */
	uint64_t t4;
	is_int(put(s, ct, "x", body[0], len[0], &t4), 0,
	       "a put over a damaged history succeeds");
	ok(reads(s, ct, "x", t4, body[0], len[0], &rc), "and reads back");
	record_set(s, b.ts, b.idx, orig, olen);
	ok(reads(s, ct, "x", ts[2], body[2], len[2], &rc),
	   "the base put back: the delta reads again");
	is_int(problems(s), 0, "and the store verifies");
	pitr_store_close(s);
}

/* Pruning removes a keyframe only after the deltas on it that stay are
 * keyframes themselves. */
static void test_prune(void)
{
	pitr_store *s = make_store("prune", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), ts[6];
	char body[6][DOC_MAX];
	size_t len[6];
	pitr_prune_stats st;
	struct body_base b;
	int rc, bad = 0;

	put_versions(s, ct, "x", 5, 6, body, len, ts);
	ok(base_of(s, ct, "x", ts[3], &b) && b.ts == ts[0],
	   "versions 2..6 are deltas on the first");
	/* the window starts between versions 3 and 4: 1 and 2 go */
	is_int(pitr_prune(s, ts[2] + 3600 * SEC, 0, &st), 0, "prune");
	is_int(st.versions, 2, "two versions removed");
	ok(!base_of(s, ct, "x", ts[2], &b), "version 3 is now a keyframe");
	for (unsigned v = 2; v < 6; v++)
		if (!reads(s, ct, "x", ts[v], body[v], len[v], &rc))
			bad++;
	is_int(bad, 0, "every version inside the window reads back");
	struct forms f = forms(s);
	is_int(f.base_not_key, 0, "every delta has its keyframe");
	is_int(problems(s), 0, "the pruned store verifies");
	uint64_t t7;
	put(s, ct, "x", body[0], len[0], &t7);
	ok(reads(s, ct, "x", t7, body[0], len[0], &rc), "writes go on");
	pitr_store_close(s);
}

/* A delta on a keyframe that goes whose record is lost (damage): the
 * later deltas on that keyframe are still made keyframes, and read. */
static void test_prune_gap(void)
{
	pitr_store *s = make_store("prunegap", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), ts[6];
	char body[6][DOC_MAX];
	size_t len[6];
	pitr_prune_stats st;
	int rc, bad = 0;

	put_versions(s, ct, "x", 5, 6, body, len, ts);
	record_set(s, ts[1], 0, NULL, 0);
	is_int(pitr_prune(s, ts[2] + 3600 * SEC, 0, &st), 0, "prune");
	for (unsigned v = 2; v < 6; v++)
		if (!reads(s, ct, "x", ts[v], body[v], len[v], &rc))
			bad++;
	is_int(bad, 0, "every version inside the window reads back");
	struct forms f = forms(s);
	is_int(f.base_not_key, 0, "every delta has its keyframe");
	pitr_store_close(s);
}

/* Rename and restore store bodies that stand alone. */
static void test_standalone(void)
{
	pitr_store *s = make_store("alone", PITR_FORMAT);
	pitr_store *d = make_store("copy", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), dct = container(d, "d", "c");
	char body[4][DOC_MAX];
	size_t len[4];
	uint64_t ts[4];
	pitr_txn *t, *dt;
	int rc;

	for (unsigned v = 0; v < 4; v++) {
		len[v] = doc(body[v], DOC_MAX, 6, v);
		put(s, ct, "x", body[v], len[v], &ts[v]);
	}
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_doc_rename(t, ct, "x", 1, ct, "y", 1), 0, "rename a delta");
	pitr_txn_commit(t, NULL);
	ok(reads(s, ct, "y", PITR_NOW, body[3], len[3], &rc),
	   "the new name reads");
	struct body_base b;
	ok(!base_of(s, ct, "y", PITR_NOW, &b), "as a keyframe");
	ok(reads(s, ct, "x", ts[3], body[3], len[3], &rc),
	   "the old name's history reads");

	pitr_txn_begin(s, PITR_TXN_READ, &t);
	pitr_txn_begin(d, PITR_TXN_WRITE, &dt);
	is_int(pitr_ct_copy(&dt, dct, t, ct, ts[3], NULL, NULL, NULL), 0,
	       "copy the container as it was");
	pitr_txn_commit(dt, NULL);
	pitr_txn_abort(t);
	ok(reads(d, dct, "x", PITR_NOW, body[3], len[3], &rc),
	   "the copy reads");
	struct forms f = forms(d);
	ok(f.deltas == 0 && f.keys == 1, "as a keyframe: nothing refers to the "
					 "source");
	is_int(problems(d), 0, "the copy verifies");
	pitr_store_close(s);
	pitr_store_close(d);
}

/*
 * An account of format 2 (as every build before format 3 made them): it
 * opens, its history reads, writes keep format 2 (whole bodies, which an
 * older build reads), and it verifies.
 */
static void test_format2(void)
{
	pitr_store *s = make_store("old", 2);
	uint64_t ct, ts[5];
	char body[5][DOC_MAX];
	size_t len[5];
	pitr_info info;
	int rc, bad = 0;

	ok(s != NULL, "a format-2 account opens");
	if (!s)
		return;
	ok(!s->has_dicts, "it has no dicts table");
	ct = container(s, "d", "c");
	for (unsigned v = 0; v < 5; v++) {
		len[v] = doc(body[v], DOC_MAX, 9, v);
		put(s, ct, "x", body[v], len[v], &ts[v]);
	}
	/* enough documents for a dictionary, were it format 3 */
	char many[DOC_MAX], id[16];
	for (unsigned i = 0; i < DICT_SCAN + 4; i++) {
		size_t ml = doc(many, sizeof(many), 200 + i, 0);
		snprintf(id, sizeof(id), "m%03u", i);
		put(s, ct, id, many, ml, NULL);
	}
	struct forms f = forms(s);
	ok(f.deltas == 0 && f.dicts == 0 && f.keys == 5 + DICT_SCAN + 4,
	   "its writes are plain keyframes, as format 2's");
	pitr_store_info(s, &info);
	is_int(info.format, 2, "and it stays format 2");
	pitr_store_close(s);
	char path[128];
	snprintf(path, sizeof(path), "%s/old", dir);
	is_int(pitr_store_open(path, PITR_OPEN_RDONLY, &s), 0, "reopened");
	for (unsigned v = 0; v < 5; v++)
		if (!reads(s, ct, "x", ts[v], body[v], len[v], &rc))
			bad++;
	is_int(bad, 0, "every version reads");
	is_int(problems(s), 0, "it verifies");
	pitr_store_close(s);
}

/*
 * Accounts of format 4 (as builds before the versions table of items made
 * them) and 5 (before short deltas): the versions table stays plain in 4,
 * the deltas compact records in both, every version reads at its instant,
 * a delete hides the document, and a compacted copy and a repair keep the
 * format and read the same.
 */
static int older_reads(pitr_store *s, uint64_t ct, const uint64_t *ts,
		       char body[][DOC_MAX], const size_t *len, uint64_t gone)
{
	int rc, bad = 0;

	for (unsigned v = 0; v < 6; v++)
		if (!reads(s, ct, "x", ts[v], body[v], len[v], &rc))
			bad++;
	pitr_txn *t;
	void *got = NULL;
	size_t glen;
	if (pitr_txn_begin(s, PITR_TXN_READ, &t))
		return -1;
	if (pitr_doc_get(t, ct, "y", 1, gone, NULL, &got, &glen) !=
	    PITR_NOTFOUND)
		bad++;
	free(got);
	pitr_txn_abort(t);
	return bad;
}

static void test_older(int format)
{
	char name[16];
	snprintf(name, sizeof(name), "fmt%d", format);
	pitr_store *s = make_store(name, format);
	uint64_t ct, ts[6], gone;
	char body[6][DOC_MAX], path[128], copy[160];
	size_t len[6];
	pitr_info info;
	unsigned flags = 1;

	ok(s != NULL && s->ver_items == (format >= 5),
	   "a format-%d account: versions %s", format,
	   format >= 5 ? "of items" : "plain");
	if (!s)
		return;
	ct = container(s, "d", "c");
	put(s, ct, "y", "{\"y\": 1}", 8, NULL);
	put_versions(s, ct, "x", 9, 6, body, len, ts);
	pitr_txn *t;
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_doc_delete(t, ct, "y", 1);
	pitr_txn_commit(t, &gone);
	struct forms f = forms(s);
	ok(f.deltas >= 4 && f.compact == f.records && !f.shorts,
	   "compact records, deltas, none short");
	MDB_txn *rt;
	mdb_txn_begin(s->env, NULL, MDB_RDONLY, &rt);
	mdb_dbi_flags(rt, s->versions, &flags);
	mdb_txn_abort(rt);
	is_int(flags & VERSIONS_ITEMS, format >= 5 ? VERSIONS_ITEMS : 0,
	       "its versions table keeps its layout");
	is_int(older_reads(s, ct, ts, body, len, gone), 0,
	       "every version reads, the delete hides");
	pitr_store_info(s, &info);
	ok(info.format == (unsigned)format, "and it stays format %d", format);
	is_int(problems(s), 0, "it verifies");
	pitr_store_close(s);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (int i = 0; i < 2; i++) {
		snprintf(copy, sizeof(copy), "%s/%s-%s", dir, name,
			 i ? "repaired" : "compacted");
		pitr_compacted out;
		uint64_t records;
		is_int(i ? pitr_store_repair(path, copy, NULL, NULL, &records)
			 : pitr_store_compact(path, copy, NULL, NULL, &out),
		       0, i ? "repaired" : "compacted");
		s = NULL;
		is_int(pitr_store_open(copy, PITR_OPEN_RDONLY, &s), 0,
		       "the copy opens");
		if (!s)
			continue;
		pitr_store_info(s, &info);
		f = forms(s);
		ok(info.format == (unsigned)format &&
		       s->ver_items == (format >= 5) && !f.shorts,
		   "the copy is format %d, its layout and records kept",
		   format);
		is_int(older_reads(s, ct, ts, body, len, gone), 0,
		       "the copy reads every version");
		pitr_store_close(s);
	}
}

/*
 * Short records (format 6): a delta names its document through its base.
 * A walk of the log learns its name and etag; a read proves them (the
 * base must be the document's, the body must hash to the etag); a delta
 * made to point at another document's keyframe, or whose base is gone,
 * is an error for every reader, never wrong data.
 */
struct walked {
	pitr_store *s;
	int puts, wrong;
};

static int walk_a(const pitr_mutation *m, void *arg)
{
	struct walked *w = arg;
	pitr_version v;
	pitr_txn *t;

	if (m->op != PITR_OP_DOC_PUT || m->namelen != 1 || m->name[0] != 'a')
		return 0;
	w->puts++;
	if (pitr_txn_begin(w->s, PITR_TXN_READ, &t))
		return -1;
	if (pitr_doc_stat(t, m->parent, "a", 1, m->ts, &v) ||
	    v.etag != m->etag || v.size != m->size || v.ts != m->ts)
		w->wrong++;
	pitr_txn_abort(t);
	return 0;
}

static void test_short(void)
{
	pitr_store *s = make_store("short", PITR_FORMAT);
	uint64_t ct, ts[3], tb;
	char a[3][DOC_MAX], b[DOC_MAX], path[128], copy[160];
	size_t la[3], lb;
	int rc, bad = 0;

	if (!s)
		return;
	ct = container(s, "d", "c");
	lb = doc(b, sizeof(b), 2, 0);
	put(s, ct, "b", b, lb, &tb);
	put_versions(s, ct, "a", 1, 3, a, la, ts);
	struct forms f = forms(s);
	ok(f.deltas == 2 && f.shorts == 2, "a document's deltas are short");
	static unsigned char orig[DOC_MAX + 64], forged[DOC_MAX + 64];
	size_t olen = 0;
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	struct log_rec r;
	record_get(s, ts[1], 0, orig, &olen);
	key_log(k, ts[1], 0);
	val = (MDB_val){ olen, orig };
	rc = log_decode(&key, &val, &r);
	ok(rc == 0 && r.form == REC_SHORT && !r.namelen &&
	       olen <= 1 + 3 + 10 + 1 + 1 + r.stored + LOG_SHORT_SUM,
	   "no name, parent or etag: %zu bytes for %u of delta", olen,
	   r.stored);
	ok(r.base.ts == ts[0], "its base is found from its own key");
	key_log(k, ts[1], 1);
	is_int(log_decode(&key, &val, &r), PITR_CORRUPT,
	       "at another key it fails its checksum");
	key_log(k, ts[1] + 1, 0);
	is_int(log_decode(&key, &val, &r), PITR_CORRUPT,
	       "at another instant too");
	key_log(k, ts[1], 0);
	ok(log_decode(NULL, &val, &r) == PITR_CORRUPT,
	   "away from its key it is refused");
	for (unsigned v = 0; v < 3; v++)
		if (!reads(s, ct, "a", ts[v], a[v], la[v], &rc))
			bad++;
	is_int(bad, 0, "every version reads");
	struct walked w = { .s = s };
	pitr_txn *t;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	rc = pitr_log_walk(t, 0, UINT64_MAX - 1, walk_a, &w);
	pitr_txn_abort(t);
	ok(rc == 0 && w.puts == 3 && w.wrong == 0,
	   "a walk of the log names each and gives its etag (%d of %d "
	   "wrong)",
	   w.wrong, w.puts);
	is_int(problems(s), 0, "it verifies");

	/* replayed (as a rebuild from media replays the compact form): a
	 * delta is written short only on its base, else kept as it is */
	pitr_store *o = make_store("short-replay", PITR_FORMAT);
	static unsigned char kf[DOC_MAX + 64], cbuf[DOC_MAX + 64];
	size_t kflen = 0;
	pitr_version v1;
	struct log_rec kr, cr, got;
	MDB_val kk = { sizeof(k), k }, kv, cv;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	pitr_doc_stat(t, ct, "a", 1, ts[1], &v1);
	pitr_txn_abort(t);
	log_decode(&key, &val, &r);
	log_claim(&r, ct, "a", 1, v1.etag);
	cv = (MDB_val){ log_rec_size(&r, REC_COMPACT), cbuf };
	log_rec_encode(cbuf, cv.mv_size, &r, REC_COMPACT);
	log_decode(NULL, &cv, &cr);
	record_get(s, ts[0], 0, kf, &kflen);
	kv = (MDB_val){ kflen, kf };
	key_log(k, ts[0], 0);
	log_decode(&kk, &kv, &kr);
	int forms[2] = { -1, -1 };
	for (int with = 0; with < 2; with++) {
		pitr_txn_begin(o, PITR_TXN_WRITE, &t);
		if (with)
			log_put_replayed(t, ts[0], 0, &kv, &kr);
		log_put_replayed(t, ts[1], 0, &cv, &cr);
		if (log_read(t, ts[1], 0, &got) == 0)
			forms[with] = got.form;
		pitr_txn_abort(t);
	}
	ok(forms[0] == REC_COMPACT && forms[1] == REC_SHORT,
	   "replayed without its base a delta stays compact, on it short");
	/* as shipped: compact, named, its etag its body's */
	MDB_val pv;
	void *pbuf = NULL;
	key_log(k, ts[1], 0);
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	rc = log_portable(t, &key, &val, &pv, &pbuf);
	pitr_txn_abort(t);
	ok(rc == 0 && pbuf && log_decode(NULL, &pv, &got) == 0 &&
	       got.form == REC_COMPACT && got.parent == ct &&
	       got.namelen == 1 && got.name[0] == 'a' &&
	       got.etag == XXH3_64bits(a[1], la[1]),
	   "shipped in the compact form, with its name and etag");
	free(pbuf);
	pitr_store_close(o);
	key_log(k, ts[1], 0);

	/* made to point at b's keyframe, its checksum made good */
	log_decode(&key, &val, &r);
	r.base.ts = tb;
	r.base.idx = 0;
	size_t n = log_rec_size(&r, REC_SHORT);
	log_rec_encode(forged, n, &r, REC_SHORT);
	record_set(s, ts[1], 0, forged, n);
	ok(!reads(s, ct, "a", ts[1], a[1], la[1], &rc) && rc == PITR_CORRUPT,
	   "a delta on another document's keyframe: an error");
	ok(problems(s) > 0, "verify finds it");
	w.puts = w.wrong = 0;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	rc = pitr_log_walk(t, 0, UINT64_MAX - 1, walk_a, &w);
	pitr_txn_abort(t);
	ok(rc == PITR_CORRUPT || (rc == 0 && w.puts == 2 && w.wrong == 0),
	   "a walk of the log gives no wrong version of a (%d, %d of %d)", rc,
	   w.wrong, w.puts);

	/* its base gone */
	record_set(s, ts[1], 0, orig, olen);
	record_set(s, ts[0], 0, NULL, 0);
	ok(!reads(s, ct, "a", ts[1], a[1], la[1], &rc) && rc == PITR_CORRUPT,
	   "a delta whose base is gone: an error");
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	rc = pitr_log_walk(t, 0, UINT64_MAX - 1, walk_a, &w);
	pitr_txn_abort(t);
	is_int(rc, PITR_CORRUPT, "a walk of the log stops at it");
	ok(problems(s) > 0, "verify finds it");
	ok(reads(s, ct, "b", tb, b, lb, &rc), "the other document reads");
	pitr_prune_stats st;
	is_int(pitr_prune(s, ts[2] + 3600 * SEC, 0, &st), 0,
	       "pruning passes it by");
	ok(reads(s, ct, "a", ts[2], a[2], la[2], &rc) == 0 &&
	       reads(s, ct, "b", ts[2], b, lb, &rc),
	   "the other document still reads, the delta is still an error");
	pitr_store_close(s);
	uint64_t records;
	snprintf(path, sizeof(path), "%s/short", dir);
	snprintf(copy, sizeof(copy), "%s/short-repaired", dir);
	is_int(pitr_store_repair(path, copy, NULL, NULL, &records),
	       PITR_CORRUPT, "repair refuses to rebuild it");
}

/*
 * Container dictionaries: keyframes of a container with enough documents
 * are compressed against one; they read back, a damaged dictionary is an
 * error, and a copy stands alone.
 */
static void test_dict(void)
{
	enum { N = 80 };
	pitr_store *s = make_store("dict", PITR_FORMAT);
	pitr_store *d = make_store("dictcopy", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), dct = container(d, "d", "c");
	static char body[N][DOC_MAX];
	size_t len[N], plain = 0, stored = 0;
	char id[16];
	int rc, bad = 0;

	for (unsigned i = 0; i < N; i++) {
		len[i] = doc(body[i], DOC_MAX, 100 + i, 1);
		snprintf(id, sizeof(id), "d%02u", i);
		if (put(s, ct, id, body[i], len[i], NULL))
			bad++;
	}
	is_int(bad, 0, "80 documents written");
	struct forms f = forms(s);
	ok(f.dicts >= N - DICT_SCAN && f.keys == N,
	   "the keyframes after the first %u KB are on a dictionary (%d)",
	   DICT_MAX >> 10, f.dicts);
	/* what a keyframe costs with and without it */
	pitr_txn *t;
	MDB_cursor *c;
	MDB_val key, val;
	struct log_rec r;
	struct body_base b;
	int ndict = 0;
	uint64_t dts = 0;
	uint32_t didx = 0;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	mdb_cursor_open(t->txn, s->log, &c);
	while (mdb_cursor_get(c, &key, &val, MDB_NEXT) == 0) {
		if (log_decode(&key, &val, &r))
			continue;
		if (r.op == OP_DICT) {
			ndict++;
			dts = get_be64(key.mv_data);
			didx = get_be32((unsigned char *)key.mv_data + 8);
		}
		if (r.op != OP_DOC_PUT)
			continue;
		if (body_form(&r, &b) == BODY_DICT)
			stored += r.stored;
		else
			plain += r.stored;
	}
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	is_int(ndict, 1, "one dictionary record in the log");
	ok(f.dicts && stored / f.dicts < plain / (N - f.dicts) * 3 / 4,
	   "a keyframe on it is smaller (%zu bytes against %zu)",
	   f.dicts ? stored / f.dicts : 0,
	   N - f.dicts ? plain / (N - f.dicts) : 0);
	for (unsigned i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "d%02u", i);
		if (!reads(s, ct, id, PITR_NOW, body[i], len[i], &rc))
			bad++;
	}
	is_int(bad, 0, "every document reads back");
	is_int(problems(s), 0, "the store verifies");

	/* edits of a document on a dictionary are deltas on it */
	uint64_t t2;
	char e[DOC_MAX];
	size_t el = doc(e, sizeof(e), 100 + N - 1, 2);
	snprintf(id, sizeof(id), "d%02u", N - 1);
	put(s, ct, id, e, el, &t2);
	ok(base_of(s, ct, id, t2, &b), "an edit is a delta on it");
	ok(reads(s, ct, id, t2, e, el, &rc), "and reads back");

	/* a copy stands alone */
	pitr_txn *dt;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	pitr_txn_begin(d, PITR_TXN_WRITE, &dt);
	is_int(pitr_ct_copy(&dt, dct, t, ct, PITR_NOW, NULL, NULL, NULL), 0,
	       "copy the container");
	pitr_txn_commit(dt, NULL);
	pitr_txn_abort(t);
	f = forms(d);
	struct forms fs = forms(s);
	/* the source's plain keyframes (all its versions are keyframes but
	 * the edit) are copied as they are; every other document is on the
	 * dictionary, the delta included */
	ok(f.deltas == 0 && f.keys == N &&
	       f.dicts == N - (fs.keys - fs.dicts) && fs.deltas == 1,
	   "the copy holds keyframes, %d of %d on the dictionary", f.dicts,
	   f.keys);
	ok(f.records == N + 1 + 2, "and the dictionary as its own record");
	bad = 0;
	for (unsigned i = 0; i + 1 < N; i++) {
		snprintf(id, sizeof(id), "d%02u", i);
		if (!reads(d, dct, id, PITR_NOW, body[i], len[i], &rc))
			bad++;
	}
	snprintf(id, sizeof(id), "d%02u", N - 1);
	if (!reads(d, dct, id, PITR_NOW, e, el, &rc))
		bad++;
	is_int(bad, 0, "every document of the copy reads back");
	is_int(problems(d), 0, "and verifies");

	/* the dictionary damaged (in a store that has not read it yet) */
	pitr_store_close(s);
	char path[128];
	snprintf(path, sizeof(path), "%s/dict", dir);
	pitr_store_open(path, 0, &s);
	unsigned char rec[DICT_MAX + 256];
	size_t rl;
	record_get(s, dts, didx, rec, &rl);
	rec[rl / 2] ^= 1;
	record_set(s, dts, didx, rec, rl);
	snprintf(id, sizeof(id), "d%02u", N - 2);
	ok(!reads(s, ct, id, PITR_NOW, body[N - 2], len[N - 2], &rc) &&
	       rc == PITR_CORRUPT,
	   "a damaged dictionary: its keyframes read as PITR_CORRUPT");
	ok(problems(s) > 0, "verify reports it");
	/* a copy of it refuses the documents on it, never copies them */
	uint64_t dct2 = container(d, "d2", "c");
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	pitr_txn_begin(d, PITR_TXN_WRITE, &dt);
	is_int(pitr_ct_copy(&dt, dct2, t, ct, PITR_NOW, NULL, NULL, NULL),
	       PITR_CORRUPT, "a copy from a damaged dictionary: PITR_CORRUPT");
	pitr_txn_abort(dt);
	pitr_txn_abort(t);
	pitr_store_close(s);
	pitr_store_close(d);
}

/*
 * Repair of an account holding deltas and a dictionary: the log records
 * are replayed as they are stored, the dictionary record into the dicts
 * table, so every body of the repaired account decodes, at every instant.
 */
static void test_repair(void)
{
	enum { N = 80 };
	pitr_store *s = make_store("rep", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), ts[3];
	static char body[N][DOC_MAX], edit[3][DOC_MAX];
	size_t len[N], elen[3];
	char id[16], path[128], fixed[128];
	int rc, bad = 0;

	for (unsigned i = 0; i < N; i++) {
		len[i] = doc(body[i], DOC_MAX, 200 + i, 1);
		snprintf(id, sizeof(id), "r%02u", i);
		if (put(s, ct, id, body[i], len[i], NULL))
			bad++;
	}
	for (unsigned v = 0; v < 3; v++) {
		elen[v] = doc(edit[v], DOC_MAX, 200 + N - 1, 2 + v);
		snprintf(id, sizeof(id), "r%02u", N - 1);
		if (put(s, ct, id, edit[v], elen[v], &ts[v]))
			bad++;
	}
	is_int(bad, 0, "80 documents and 3 edits written");
	struct forms f = forms(s);
	ok(f.dicts > 0 && f.deltas == 3, "on a dictionary (%d) and deltas (%d)",
	   f.dicts, f.deltas);
	pitr_store_close(s);

	snprintf(path, sizeof(path), "%s/rep", dir);
	snprintf(fixed, sizeof(fixed), "%s/rep-fixed", dir);
	uint64_t replayed = 0;
	int n = 0;
	is_int(pitr_store_repair(path, fixed, count_problem, &n, &replayed), 0,
	       "repaired into a new account");
	is_int(n, 0, "no problem reported");
	rc = pitr_store_open(fixed, 0, &s);
	is_int(rc, 0, "which opens");
	if (rc)
		return;
	f = forms(s);
	ok(f.dicts > 0 && f.deltas == 3 && !f.bad && !f.base_not_key,
	   "its records as stored: dictionary keyframes and deltas");
	for (unsigned i = 0; i + 1 < N; i++) {
		snprintf(id, sizeof(id), "r%02u", i);
		if (!reads(s, ct, id, PITR_NOW, body[i], len[i], &rc))
			bad++;
	}
	is_int(bad, 0, "every document on the dictionary reads back");
	snprintf(id, sizeof(id), "r%02u", N - 1);
	for (unsigned v = 0; v < 3; v++)
		if (!reads(s, ct, id, ts[v], edit[v], elen[v], &rc))
			bad++;
	is_int(bad, 0, "every delta reads back at its instant");
	is_int(problems(s), 0, "the repaired account verifies");

	/* it goes on writing: an edit is a delta, a new keyframe uses the
	 * dictionary replayed */
	uint64_t t2;
	char e[DOC_MAX];
	size_t el = doc(e, sizeof(e), 200 + N - 1, 9);
	put(s, ct, id, e, el, &t2);
	struct body_base b;
	ok(base_of(s, ct, id, t2, &b), "an edit after repair is a delta");
	ok(reads(s, ct, id, t2, e, el, &rc), "and reads back");
	pitr_store_close(s);

	/* a restore at an instant of the source stores standalone bodies */
	char restored[128];
	pitr_config cfg = { 0 };
	pitr_restore_stats st;
	snprintf(restored, sizeof(restored), "%s/rep-restored", dir);
	pitr_policy_default(&cfg.policy);
	rc = pitr_store_open(path, 0, &s);
	if (!rc)
		rc = pitr_restore(s, ts[1], NULL, 0, restored, &cfg, NULL, NULL,
				  &st);
	is_int(rc, 0, "restored as it was after the second edit");
	pitr_store_close(s);
	if (rc || pitr_store_open(restored, 0, &s))
		return;
	/* the container by its name in the restored account */
	uint64_t rdb = 0;
	pitr_txn *t;
	ct = 0;
	if (!pitr_txn_begin(s, PITR_TXN_READ, &t)) {
		if (!pitr_db_lookup(t, PITR_NOW, "d", 1, &rdb))
			pitr_ct_lookup(t, PITR_NOW, rdb, "c", 1, &ct);
		pitr_txn_abort(t);
	}
	ok(ct != 0, "its container");
	f = forms(s);
	ok(f.keys == N && f.dicts > 0 && f.deltas == 0,
	   "as keyframes, on the restored account's own copy of the "
	   "dictionary (%d, %d, %d)",
	   f.keys, f.dicts, f.deltas);
	for (unsigned i = 0; i + 1 < N; i++) {
		snprintf(id, sizeof(id), "r%02u", i);
		if (!reads(s, ct, id, PITR_NOW, body[i], len[i], &rc))
			bad++;
	}
	snprintf(id, sizeof(id), "r%02u", N - 1);
	if (!reads(s, ct, id, PITR_NOW, edit[1], elen[1], &rc))
		bad++;
	is_int(bad, 0, "every document reads back as it was");
	is_int(problems(s), 0, "the restored account verifies");
	pitr_store_close(s);
}

/* Put `p` as (ct, id) in a transaction of its own. */
static int put_p(pitr_store *s, uint64_t ct, const char *id,
		 const pitr_prepared *p, uint64_t *ts)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (!rc && (rc = pitr_doc_put_prepared(t, ct, id, strlen(id), p)))
		pitr_txn_abort(t);
	else if (!rc)
		rc = pitr_txn_commit(t, ts);
	return rc;
}

/*
 * A prepared put (the daemon's, under the group commit) tries a delta on
 * the live version inside the transaction, and falls back on the
 * keyframe packed before it.
 */
static void test_prepared(void)
{
	pitr_store *s = make_store("prep", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), ts[4];
	char body[4][DOC_MAX], err[128];
	size_t len[4];
	int rc, bad = 0;

	for (unsigned v = 0; v < 4; v++) {
		pitr_prepared *p;
		len[v] = doc(body[v], DOC_MAX, 7, v);
		rc = pitr_doc_prepare(s, ct, "p", 1, body[v], len[v], err,
				      sizeof(err), &p);
		if (!rc)
			rc = put_p(s, ct, "p", p, &ts[v]);
		pitr_prepared_free(p);
		bad += rc != 0;
	}
	is_int(bad, 0, "4 versions put prepared");
	struct forms f = forms(s);
	ok(f.keys == 1 && f.deltas == 3 && !f.base_not_key,
	   "a keyframe, then deltas on it (%d keyframes, %d deltas)", f.keys,
	   f.deltas);
	for (unsigned v = 0; v < 4; v++)
		if (!reads(s, ct, "p", ts[v], body[v], len[v], &rc))
			bad++;
	is_int(bad, 0, "every version reads back");
	is_int(problems(s), 0, "and verifies");
	pitr_store_close(s);
}

/* Prepare `body` for (pct, pid), and put it as (ct, id). */
static int put_prepared_as(pitr_store *s, uint64_t pct, const char *pid,
			   uint64_t ct, const char *id, const char *body,
			   size_t len, uint64_t *ts)
{
	pitr_prepared *p = NULL;
	char err[128];
	int rc = pitr_doc_prepare(s, pct, pid, strlen(pid), body, len, err,
				  sizeof(err), &p);

	if (!rc)
		rc = put_p(s, ct, id, p, ts);
	pitr_prepared_free(p);
	return rc;
}

/* Each document put's stored form and length, in log order. */
static size_t encodings(pitr_store *s, unsigned (*e)[2], size_t max)
{
	MDB_val key, val;
	MDB_cursor *c;
	pitr_txn *t;
	struct log_rec r;
	struct body_base b;
	size_t n = 0;

	pitr_txn_begin(s, PITR_TXN_READ, &t);
	mdb_cursor_open(t->txn, s->log, &c);
	while (n < max && mdb_cursor_get(c, &key, &val, MDB_NEXT) == 0) {
		if (log_decode(&key, &val, &r) || r.op != OP_DOC_PUT)
			continue;
		e[n][0] = (unsigned)body_form(&r, &b);
		e[n++][1] = r.stored;
	}
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	return n;
}

/*
 * Encoded before the transaction, a version is stored as the put would
 * have encoded it: the same sequence of new documents (before and after
 * the container has a dictionary), small edits and rewrites, put
 * prepared into one account and plainly into another, gives the same
 * form and length for every record, and the prepared encodings were the
 * ones stored.
 */
#define PRE_DOCS  80
#define PRE_EDITS 3
static void test_pre_encoded(uint32_t format)
{
	static unsigned ea[PRE_DOCS * (PRE_EDITS + 2)][2],
	    eb[PRE_DOCS * (PRE_EDITS + 2)][2];
	char name[2][16];
	snprintf(name[0], sizeof(name[0]), "pre-a%u", format);
	snprintf(name[1], sizeof(name[1]), "pre-b%u", format);
	pitr_store *a = make_store(name[0], format),
		   *b = make_store(name[1], format);
	uint64_t ca = container(a, "d", "c"), cb = container(b, "d", "c");
	char body[DOC_MAX], id[16];
	size_t len, na, nb;
	int rc, bad = 0, wrong = 0;
	uint64_t ts;

	for (unsigned v = 0; v <= PRE_EDITS + 1; v++) {
		for (unsigned i = 0; i < PRE_DOCS; i++) {
			snprintf(id, sizeof(id), "n%02u", i);
			/* the last round rewrites every document */
			len = v <= PRE_EDITS ? doc(body, DOC_MAX, i, v)
					     : doc(body, DOC_MAX, 1000 + i, 0);
			bad += put_prepared_as(a, ca, id, ca, id, body, len,
					       &ts) != 0;
			bad += put(b, cb, id, body, len, NULL) != 0;
			wrong += !reads(a, ca, id, ts, body, len, &rc);
		}
	}
	ok(!bad && !wrong,
	   "format %u: every put, prepared or not; every prepared version "
	   "reads back (%d, %d failed)",
	   format, bad, wrong);
	na = encodings(a, ea, sizeof(ea) / sizeof(ea[0]));
	nb = encodings(b, eb, sizeof(eb) / sizeof(eb[0]));
	ok(na == nb && !memcmp(ea, eb, na * sizeof(ea[0])),
	   "format %u: each record has the form and length a put in the "
	   "transaction gives (%zu, %zu records)",
	   format, na, nb);
	struct forms f = forms(a);
	ok(f.dicts > 0 && f.deltas > 0 && !f.base_not_key &&
	       f.shorts == (format >= 6 ? f.deltas : 0),
	   "format %u: keyframes on the dictionary and deltas (%d, %d; %d "
	   "short)",
	   format, f.dicts, f.deltas, f.shorts);
	ok(a->pre_stored >= PRE_DOCS * (PRE_EDITS + 1) && !b->pre_stored,
	   "format %u: the edits and rewrites stored their prepared encoding "
	   "(%llu), plain puts none",
	   format, (unsigned long long)a->pre_stored);
	is_int(problems(a), 0, "the account verifies");
	pitr_store_close(a);
	pitr_store_close(b);
}

/*
 * An encoding made against the account as it was is not stored once the
 * account moved on: another version of the document committed since, its
 * deletion, a put under another name, a second put of the same prepared
 * body. Each version is then encoded in the transaction and reads back.
 */
static void test_pre_stale(void)
{
	pitr_store *s = make_store("pre-stale", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), ts, before;
	char body[3][DOC_MAX], err[128];
	size_t len[3];
	pitr_prepared *p = NULL;
	pitr_txn *t;
	int rc, bad = 0;

	for (unsigned v = 0; v < 3; v++)
		len[v] = doc(body[v], DOC_MAX, 5, v);
	put(s, ct, "x", body[0], len[0], NULL);

	/* an edit prepared, another version committed before it */
	pitr_doc_prepare(s, ct, "x", 1, body[2], len[2], err, sizeof(err), &p);
	put(s, ct, "x", body[1], len[1], NULL);
	before = s->pre_stored;
	rc = put_p(s, ct, "x", p, &ts);
	ok(!rc && s->pre_stored == before &&
	       reads(s, ct, "x", ts, body[2], len[2], &rc),
	   "a version committed since: encoded again, reads back");

	/* the same prepared body put again: its base is now the put above */
	rc = put_p(s, ct, "x", p, &ts);
	ok(!rc && s->pre_stored == before &&
	       reads(s, ct, "x", ts, body[2], len[2], &rc),
	   "put twice: encoded again the second time, reads back");
	pitr_prepared_free(p);

	/* prepared, then the document deleted */
	pitr_doc_prepare(s, ct, "x", 1, body[0], len[0], err, sizeof(err), &p);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_doc_delete(t, ct, "x", 1);
	pitr_txn_commit(t, NULL);
	rc = put_p(s, ct, "x", p, &ts);
	ok(!rc && s->pre_stored == before &&
	       reads(s, ct, "x", ts, body[0], len[0], &rc),
	   "deleted since: a keyframe, reads back");
	pitr_prepared_free(p);

	/* prepared as an edit of x, put as y (a rename before the commit) */
	rc = put_prepared_as(s, ct, "x", ct, "y", body[1], len[1], &ts);
	ok(!rc && s->pre_stored == before &&
	       reads(s, ct, "y", ts, body[1], len[1], &rc),
	   "put under another name: encoded again, reads back");

	/* an edit prepared as a delta on z's keyframe, which pruning then
	 * removes (the live version made a keyframe in its place) */
	uint64_t zts[3];
	char zb[3][DOC_MAX];
	size_t zl[3];
	pitr_prune_stats pst;
	put_versions(s, ct, "z", 9, 3, zb, zl, zts);
	struct body_base zbase;
	ok(base_of(s, ct, "z", zts[2], &zbase) && zbase.ts == zts[0],
	   "z's live version is a delta on its first");
	pitr_doc_prepare(s, ct, "z", 1, body[1], len[1], err, sizeof(err), &p);
	rc = pitr_prune(s, zts[2] + 3600 * SEC, 0, &pst);
	rc = rc ? rc : put_p(s, ct, "z", p, &ts);
	ok(!rc && s->pre_stored == before &&
	       reads(s, ct, "z", ts, body[1], len[1], &rc) &&
	       reads(s, ct, "z", zts[2], zb[2], zl[2], &rc),
	   "its keyframe pruned since: encoded again, reads back");
	pitr_prepared_free(p);

	/* prepared for a container that is not there: the put says so */
	rc = put_prepared_as(s, ct + 100, "x", ct + 100, "x", body[1], len[1],
			     &ts);
	is_int(rc, PITR_NOTFOUND, "prepared for no container: not found");
	struct forms f = forms(s);
	ok(!f.bad && !f.base_not_key, "every record well formed");
	bad = problems(s);
	is_int(bad, 0, "the account verifies");
	pitr_store_close(s);
}

/* Writers preparing in parallel and committing together. */
#define PRE_THREADS 8
#define PRE_ROUNDS  6
#define PRE_EACH    80
#define PRE_CTS	    20 /* more than DICT_HC_MAX */
struct pre_writer {
	pitr_store *s;
	const uint64_t *ct;
	unsigned n;
	int bad;
	pthread_t th;
};

struct pre_put {
	uint64_t ct;
	const char *id;
	const pitr_prepared *p;
};

static int pre_apply(pitr_txn *t, void *arg)
{
	struct pre_put *pp = arg;

	return pitr_doc_put_prepared(t, pp->ct, pp->id, strlen(pp->id), pp->p);
}

static void *pre_write(void *arg)
{
	struct pre_writer *w = arg;
	char body[DOC_MAX], id[16], err[128];

	for (unsigned r = 0; r < PRE_ROUNDS; r++) {
		for (unsigned i = 0; i < PRE_EACH; i++) {
			unsigned d = w->n * PRE_EACH + i;
			/* edits, and every third round a rewrite */
			size_t len = doc(body, DOC_MAX, d + 1000 * (r / 3), r);
			struct pre_put pp = { w->ct[d % PRE_CTS], id, NULL };
			pitr_prepared *p;
			snprintf(id, sizeof(id), "w%03u", d);
			if (pitr_doc_prepare(w->s, pp.ct, id, strlen(id), body,
					     len, err, sizeof(err), &p)) {
				w->bad++;
				continue;
			}
			pp.p = p;
			w->bad += pitr_group_commit(w->s, pre_apply, &pp, id,
						    strlen(id), NULL) != 0;
			pitr_prepared_free(p);
		}
	}
	return NULL;
}

static void test_pre_threads(void)
{
	pitr_store *s = make_store("pre-threads", PITR_FORMAT);
	uint64_t ct[PRE_CTS];
	struct pre_writer w[PRE_THREADS];
	char body[DOC_MAX], id[16], name[8];
	int bad = 0, wrong = 0, rc;

	for (unsigned c = 0; c < PRE_CTS; c++) {
		snprintf(name, sizeof(name), "d%u", c);
		ct[c] = container(s, name, "c");
	}
	for (unsigned i = 0; i < PRE_THREADS; i++) {
		w[i] = (struct pre_writer){ s, ct, i, 0, 0 };
		pthread_create(&w[i].th, NULL, pre_write, &w[i]);
	}
	for (unsigned i = 0; i < PRE_THREADS; i++) {
		pthread_join(w[i].th, NULL);
		bad += w[i].bad;
	}
	is_int(bad, 0,
	       "8 writers in 20 containers, each preparing and committing "
	       "480 puts");
	for (unsigned d = 0; d < PRE_THREADS * PRE_EACH; d++) {
		unsigned r = PRE_ROUNDS - 1;
		size_t len = doc(body, DOC_MAX, d + 1000 * (r / 3), r);
		snprintf(id, sizeof(id), "w%03u", d);
		wrong +=
		    !reads(s, ct[d % PRE_CTS], id, PITR_NOW, body, len, &rc);
	}
	is_int(wrong, 0, "every document reads as its last put");
	struct forms f = forms(s);
	ok(s->pre_stored > 0 && s->hc_made >= DICT_HC_MAX && f.dicts > 0 &&
	       f.deltas > 0 && !f.bad && !f.base_not_key,
	   "prepared encodings stored (%llu), %llu HC states made; keyframes "
	   "on dictionaries and deltas, well formed",
	   (unsigned long long)s->pre_stored, (unsigned long long)s->hc_made);
	is_int(problems(s), 0, "the account verifies");
	pitr_store_close(s);
}

/*
 * Pruning rewrites as keyframes the deltas whose keyframe goes, after the
 * media got them as deltas; the next edit is a delta on such a rewritten
 * keyframe. A replay of the media must rebuild every version all the
 * same (it rewrites the base as the source did).
 */
static void test_shipped_rekey(void)
{
	pitr_store *s = make_store("shiprk", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), ts[6];
	char body[6][DOC_MAX], media[128], out[128];
	size_t len[6];
	pitr_prune_stats st;
	struct body_base b;
	int rc, bad = 0;

	snprintf(media, sizeof(media), "%s/shiprk-media", dir);
	snprintf(out, sizeof(out), "%s/shiprk-replay", dir);
	mkdir(media, 0700);
	is_int(pitr_backup_set_dir(s, media), 0, "media set");
	for (unsigned v = 0; v < 4; v++) {
		len[v] = doc(body[v], DOC_MAX, 7, v);
		put(s, ct, "x", body[v], len[v], &ts[v]);
	}
	is_int(pitr_backup_ship(s, 1, NULL), 0, "four versions shipped");
	is_int(pitr_prune(s, ts[2] + 3600 * SEC, 0, &st), 0, "pruned");
	ok(!base_of(s, ct, "x", ts[3], &b), "version 4 is now a keyframe");
	for (unsigned v = 4; v < 6; v++) {
		len[v] = doc(body[v], DOC_MAX, 7, v);
		put(s, ct, "x", body[v], len[v], &ts[v]);
	}
	ok(base_of(s, ct, "x", ts[4], &b) && b.ts == ts[3],
	   "version 5 is a delta on it");
	is_int(pitr_backup_ship(s, 1, NULL), 0, "two more shipped");
	pitr_store_close(s);
	rc = pitr_backup_replay(media, out, ts[5], NULL);
	is_int(rc, 0, "replayed from the media");
	if (rc || pitr_store_open(out, 0, &s))
		return;
	for (unsigned v = 0; v < 6; v++)
		if (!reads(s, ct, "x", ts[v], body[v], len[v], &rc))
			bad++;
	is_int(bad, 0, "every version reads back from the media");
	is_int(problems(s), 0, "the replayed account verifies");
	pitr_store_close(s);
}

/* A keyframe of `body` on dictionary `dict` named `id`, decoded from `at`
 * (which holds the dictionary's bytes by then): 1 when it is `body`. */
static int dict_round_trip(uint64_t id, const char *dict, size_t dlen,
			   const char *at, const char *body, size_t len)
{
	size_t cap = body_bound(len);
	unsigned char *buf = malloc(cap);
	char *out = malloc(len);
	int same = 0;
	int n = body_dict_encode(id, dict, dlen, NULL, body, len, buf, cap);

	if (n > DICT_HDR) {
		struct log_rec r = { .op = OP_DOC_PUT, .flags = LOG_DICT,
				     .size = (uint32_t)len,
				     .stored = (uint32_t)n, .body = buf };
		same = body_dict_decode(&r, at, dlen, out) == 0 &&
		       !memcmp(out, body, len);
	}
	free(buf);
	free(out);
	return same;
}

/*
 * The codec's per-thread buffer: two dictionaries of one length, passed in
 * turn at one address under their own ids, each decode on their own; and
 * a dictionary and body that just fill the buffer, or pass it by a byte.
 */
static void test_prefix(void)
{
	enum { L = 4096 };
	char *a = malloc(L), *b = malloc(L), *at = malloc(L), body[1200];
	int good = 1;

	for (size_t i = 0; i < L; i++) {
		a[i] = (char)('a' + i * 7 % 26);
		b[i] = (char)('A' + i * 11 % 26);
	}
	for (int k = 0; k < 4; k++) {
		const char *d = k % 2 ? b : a;
		memcpy(body, d + 100, sizeof(body));
		body[600] = '#';
		memcpy(at, d, L);
		good &= dict_round_trip(XXH3_64bits(d, L), d, L, at, body,
					sizeof(body));
	}
	ok(good, "two dictionaries at one address, decoded in turn");

	size_t dlen = DICT_MAX, big = BODY_PREFIX_MAX - DICT_MAX + 1;
	char *d = malloc(dlen), *x = malloc(big);
	for (size_t i = 0; i < dlen; i++)
		d[i] = (char)('0' + i * 13 % 61);
	for (size_t i = 0; i < big; i++)
		x[i] = d[(i * 5) % dlen];
	uint64_t id = XXH3_64bits(d, dlen);
	ok(dict_round_trip(id, d, dlen, d, x, big - 1) &&
	       dict_round_trip(id, d, dlen, d, x, big),
	   "a body that fills the buffer with its dictionary, and one a "
	   "byte over");
	free(a);
	free(b);
	free(at);
	free(d);
	free(x);
}

/*
 * Blocks are decoded behind a per-thread copy of their dictionary or base
 * (body.c), kept from one block to the next by the dictionary's id: reads
 * that alternate between two containers' dictionaries, and deltas on
 * their keyframes, each decode on their own; a document too large for
 * that copy takes the other way and reads back too.
 */
static void test_alternating(void)
{
	enum { N = 80 };
	pitr_store *s = make_store("alt", PITR_FORMAT);
	uint64_t ct[2] = { container(s, "a", "c"), container(s, "b", "c") };
	static char body[2][N][DOC_MAX], edit[2][N][DOC_MAX];
	size_t len[2][N], elen[2][N];
	uint64_t ts1 = 0;
	char id[16];
	int rc, bad = 0, wrong = 0;

	for (unsigned v = 1; v <= 2; v++)
		for (unsigned i = 0; i < N; i++)
			for (unsigned k = 0; k < 2; k++) {
				char *b = v == 1 ? body[k][i] : edit[k][i];
				size_t *l = v == 1 ? &len[k][i] : &elen[k][i];
				*l = doc(b, DOC_MAX, 7000 * k + i, v);
				snprintf(id, sizeof(id), "d%02u", i);
				if (put(s, ct[k], id, b, *l,
					v == 1 ? &ts1 : NULL))
					bad++;
			}
	is_int(bad, 0, "two containers of 80 documents, each edited once");
	struct forms f = forms(s);
	int ndict = 0;
	pitr_txn *t;
	MDB_cursor *c;
	MDB_val key, val;
	struct log_rec r;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	mdb_cursor_open(t->txn, s->log, &c);
	while (mdb_cursor_get(c, &key, &val, MDB_NEXT) == 0)
		ndict += log_decode(&key, &val, &r) == 0 && r.op == OP_DICT;
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	ok(ndict == 2 && f.dicts >= 2 * (N - DICT_SCAN) && f.deltas == 2 * N &&
	       !f.bad,
	   "two dictionaries (%d), keyframes on them (%d), a delta per edit "
	   "(%d)",
	   ndict, f.dicts, f.deltas);
	for (unsigned i = 0; i < N; i++)
		for (unsigned k = 0; k < 2; k++) {
			snprintf(id, sizeof(id), "d%02u", i);
			wrong += !reads(s, ct[k], id, ts1, body[k][i],
					len[k][i], &rc);
			wrong += !reads(s, ct[k], id, PITR_NOW, edit[k][i],
					elen[k][i], &rc);
		}
	is_int(wrong, 0, "read alternately, every version is its own");

	/* 300 KB of JSON, then an edit of it: decoded the other way */
	size_t big = 300 << 10, blen;
	char *a = malloc(big + 64), *e = malloc(big + 64);
	uint64_t bts = 0;
	blen = (size_t)snprintf(a, big + 64, "{\"v\":1,\"s\":\"");
	while (blen < big)
		blen += (size_t)snprintf(a + blen, big + 64 - blen, "%08zx",
					 blen * 2654435761u);
	blen += (size_t)snprintf(a + blen, big + 64 - blen, "\"}");
	memcpy(e, a, blen);
	e[5] = '2';
	ok(!put(s, ct[0], "big", a, blen, &bts) &&
	       !put(s, ct[0], "big", e, blen, NULL),
	   "a 300 KB document and an edit of it");
	ok(reads(s, ct[0], "big", bts, a, blen, &rc) &&
	       reads(s, ct[0], "big", PITR_NOW, e, blen, &rc) &&
	       reads(s, ct[0], "d79", ts1, body[0][79], len[0][79], &rc) &&
	       reads(s, ct[1], "d79", ts1, body[1][79], len[1][79], &rc),
	   "both read back, and keyframes on each dictionary after them");
	is_int(problems(s), 0, "verify: every record decodes to its etag");
	free(a);
	free(e);
	pitr_store_close(s);
}

/* One new document in each container ct[k] whose bit k is set in `which`,
 * in turns, `rounds` times, its body from *seed on: put, or with `check`
 * read back. The puts that failed, or the documents that differ. */
static int rotate(pitr_store *s, const uint64_t *ct, uint64_t which,
		  unsigned rounds, char tag, unsigned *seed, int check)
{
	char id[16], body[DOC_MAX];
	int bad = 0, rc;

	for (unsigned r = 0; r < rounds; r++)
		for (unsigned k = 0; k < 64; k++) {
			if (!(which >> k & 1))
				continue;
			size_t len = doc(body, sizeof(body), (*seed)++, 1);
			snprintf(id, sizeof(id), "%c%03u", tag, r);
			bad += check ? !reads(s, ct[k], id, PITR_NOW, body, len,
					      &rc)
				     : put(s, ct[k], id, body, len, NULL) != 0;
		}
	return bad;
}

/* The DICT_SCAN first documents of ct[from..to), one container after the
 * other: put, or with `check` read back. */
static int firsts(pitr_store *s, const uint64_t *ct, unsigned from, unsigned to,
		  unsigned *seed, int check)
{
	char id[16], body[DOC_MAX];
	int bad = 0, rc;

	for (unsigned k = from; k < to; k++)
		for (unsigned i = 0; i < DICT_SCAN; i++) {
			size_t len = doc(body, sizeof(body), (*seed)++, 1);
			snprintf(id, sizeof(id), "f%03u", i);
			bad += check ? !reads(s, ct[k], id, PITR_NOW, body, len,
					      &rc)
				     : put(s, ct[k], id, body, len, NULL) != 0;
		}
	return bad;
}

/* The containers whose dictionaries hold an HC state, as a bit set over
 * ct[0..n), and how many states there are. */
static unsigned hc_holders(pitr_store *s, const uint64_t *ct, unsigned n,
			   uint64_t *set)
{
	unsigned states = 0;
	pitr_txn *t;

	*set = 0;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	for (unsigned i = 0; i < DICT_HC_MAX; i++) {
		if (!s->hc[i].state)
			continue;
		states++;
		for (unsigned k = 0; k < n; k++) {
			struct dict_ref d;
			if (dict_of_ct(t, ct[k], &d) == 0 &&
			    d.id == s->hc[i].id)
				*set |= 1ull << k;
			dict_put(&d);
		}
	}
	pitr_txn_abort(t);
	return states;
}

/* If log record `val` is a document's keyframe on a dictionary: its stored
 * bytes, and those LZ4's fast mode gives for its body on that dictionary;
 * 1. Else 0. */
static int vs_fast(pitr_txn *t, const MDB_val *val, size_t *stored,
		   size_t *fast)
{
	static char out[64 << 10];
	struct log_rec r;
	struct body_base b;
	struct dict_ref d;
	void *got;
	size_t glen;
	int n = 0;

	if (log_decode(NULL, val, &r) || r.op != OP_DOC_PUT ||
	    body_form(&r, &b) != BODY_DICT || dict_get(t, b.dict, &d))
		return 0;
	if (log_body(t, &r, &got, &glen) == 0) {
		n = body_dict_encode(d.id, d.bytes, d.len, NULL, got, glen, out,
				     sizeof(out));
		free(got);
	}
	dict_put(&d);
	*stored = r.stored;
	*fast = n > 0 ? (size_t)n : 0;
	return n > 0;
}

/* Keyframes on dictionaries in the log: their bytes, and the bytes LZ4's
 * fast mode gives for the same bodies on the same dictionaries. */
static size_t against_fast(pitr_store *s, size_t *stored, size_t *fast,
			   size_t *smaller)
{
	size_t keys = 0, st, fa;
	pitr_txn *t;
	MDB_cursor *c;
	MDB_val key, val;

	*stored = *fast = *smaller = 0;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	mdb_cursor_open(t->txn, s->log, &c);
	while (mdb_cursor_get(c, &key, &val, MDB_NEXT) == 0) {
		if (!vs_fast(t, &val, &st, &fa))
			continue;
		keys++;
		*stored += st;
		*fast += fa;
		*smaller += st < fa;
	}
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	return keys;
}

/* vs_fast() of the last record of the log (0, 0 if it is no such
 * keyframe). */
static void last_vs_fast(pitr_store *s, size_t *stored, size_t *fast)
{
	pitr_txn *t;
	MDB_cursor *c;
	MDB_val key, val;

	*stored = *fast = 0;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	mdb_cursor_open(t->txn, s->log, &c);
	if (mdb_cursor_get(c, &key, &val, MDB_LAST) == 0 &&
	    !vs_fast(t, &val, stored, fast))
		*stored = *fast = 0;
	mdb_cursor_close(c);
	pitr_txn_abort(t);
}

/* A JSON document of exactly `len` bytes (at least 64) made of doc()'s
 * documents from `seed` on. */
static void doc_of_len(char *buf, size_t len, unsigned seed)
{
	char one[DOC_MAX];
	size_t n = (size_t)snprintf(buf, len, "{\"items\":[");

	for (;;) {
		size_t l = doc(one, sizeof(one), seed++, 1);
		if (n + l + 1 + 12 > len)
			break;
		if (buf[n - 1] != '[')
			buf[n++] = ',';
		memcpy(buf + n, one, l);
		n += l;
	}
	n += (size_t)sprintf(buf + n, "],\"p\":\"");
	memset(buf + n, 'p', len - n - 2);
	memcpy(buf + len - 2, "\"}", 2);
}


/*
 * Keyframes put on a dictionary are compressed with LZ4 HC (dict.c), from
 * states kept for DICT_HC_MAX dictionaries. Written in turns, more
 * containers than that (20, then 40): every document reads back, the store
 * verifies, the keyframes take fewer bytes than LZ4's fast mode gives for
 * the same bodies, and the states stay with the same containers instead of
 * being made again for each (no state made after the first rounds). When
 * only the containers without one are written, they get states.
 */
static void test_hc(void)
{
	enum { CTS = 40, FEW = DICT_HC_MAX + 4 };
	pitr_store *s = make_store("hc", PITR_FORMAT);
	uint64_t ct[CTS], set, made;
	char name[16];
	unsigned seed = 0, states;
	int bad = 0, wrong = 0;

	for (unsigned k = 0; k < CTS; k++) {
		snprintf(name, sizeof(name), "h%02u", k);
		ct[k] = container(s, name, "c");
	}
	/* enough documents in each for a dictionary, and keyframes on it */
	bad += firsts(s, ct, 0, FEW, &seed, 0);
	const uint64_t few = (1ull << FEW) - 1, all = (1ull << CTS) - 1;
	bad += rotate(s, ct, few, 2, 'a', &seed, 0);
	made = s->hc_made;
	states = hc_holders(s, ct, FEW, &set);
	bad += rotate(s, ct, few, 4, 'b', &seed, 0);
	ok(bad == 0,
	   "%d containers of %d documents, then 6 rounds of one new "
	   "document in each, in turns (%d failed)",
	   FEW, DICT_SCAN, bad);
	uint64_t set2;
	ok(states == DICT_HC_MAX && s->hc_made == made &&
	       hc_holders(s, ct, FEW, &set2) == DICT_HC_MAX && set2 == set &&
	       __builtin_popcountll(set) == DICT_HC_MAX,
	   "%d states, of as many containers, the same after 4 more rounds "
	   "(%llu made, then %llu)",
	   DICT_HC_MAX, (unsigned long long)made,
	   (unsigned long long)s->hc_made);

	/* only the containers without a state written: they get one */
	uint64_t others = few & ~set;
	bad = rotate(s, ct, others, 3, 'c', &seed, 0);
	hc_holders(s, ct, FEW, &set2);
	ok(!bad && s->hc_made == made + (FEW - DICT_HC_MAX) &&
	       (set2 & others) == others,
	   "the %d others, written alone, get states (%llu made)",
	   FEW - DICT_HC_MAX, (unsigned long long)s->hc_made);

	/* 40 in turns: still no state made again and again */
	bad += firsts(s, ct, FEW, CTS, &seed, 0);
	bad += rotate(s, ct, all, 2, 'd', &seed, 0);
	made = s->hc_made;
	bad += rotate(s, ct, all, 3, 'e', &seed, 0);
	ok(!bad && s->hc_made == made &&
	       hc_holders(s, ct, CTS, &set) == DICT_HC_MAX,
	   "%d containers in turns: %d states kept, none made in the last 3 "
	   "rounds (%llu made in all)",
	   CTS, DICT_HC_MAX, (unsigned long long)s->hc_made);

	/* a body of DICT_HC_BODY bytes in HC, one a byte longer not */
	static char big[DICT_HC_BODY + 1];
	size_t hs, hf, fs, ff;
	unsigned held = (unsigned)__builtin_ctzll(set);
	int rc;
	doc_of_len(big, DICT_HC_BODY, 90000);
	bad = put(s, ct[held], "big", big, DICT_HC_BODY, NULL);
	last_vs_fast(s, &hs, &hf);
	doc_of_len(big, DICT_HC_BODY + 1, 90000);
	bad += put(s, ct[held], "bigger", big, DICT_HC_BODY + 1, NULL);
	last_vs_fast(s, &fs, &ff);
	ok(!bad && hs && hs < hf && fs && fs == ff,
	   "a body of %u bytes in LZ4 HC (%zu bytes, fast %zu), one a byte "
	   "longer in the fast mode (%zu, %zu)",
	   DICT_HC_BODY, hs, hf, fs, ff);
	ok(reads(s, ct[held], "bigger", PITR_NOW, big, DICT_HC_BODY + 1, &rc),
	   "and it reads back");

	size_t stored, fast, smaller,
	    keys = against_fast(s, &stored, &fast, &smaller);
	ok(keys > 1000 && smaller > keys / 2 && stored * 10 < fast * 9,
	   "%zu keyframes on dictionaries take %zu bytes, %zu of them fewer "
	   "than in the fast mode, which takes %zu",
	   keys, stored, smaller, fast);

	/* every document of every round reads back: the puts again, read */
	seed = 0;
	wrong += firsts(s, ct, 0, FEW, &seed, 1);
	wrong += rotate(s, ct, few, 2, 'a', &seed, 1);
	wrong += rotate(s, ct, few, 4, 'b', &seed, 1);
	wrong += rotate(s, ct, others, 3, 'c', &seed, 1);
	wrong += firsts(s, ct, FEW, CTS, &seed, 1);
	wrong += rotate(s, ct, all, 2, 'd', &seed, 1);
	wrong += rotate(s, ct, all, 3, 'e', &seed, 1);
	is_int(wrong, 0, "every document reads back");
	is_int(problems(s), 0, "the store verifies");
	pitr_store_close(s);
}

/*
 * The log record's two forms: each field through both, the compact one's
 * size, and what its decoder refuses.
 */
static int sealed(unsigned char *p, size_t n, struct log_rec *r)
{
	MDB_val v = { n, p };

	put_le64(p + n - LOG_SUM, XXH3_64bits(p, n - LOG_SUM));
	return log_decode(NULL, &v, r);
}

static void test_records(void)
{
	static const uint64_t big[] = { 0, 1, 127, 128, 16383, 16384,
					UINT32_MAX, (uint64_t)1 << 63,
					UINT64_MAX };
	unsigned char p[LOG_HDR_MAX + 300 + LOG_SUM];
	const char *body = "012345678";
	struct log_rec r, d;
	int bad = 0;

	for (int compact = 0; compact < 2; compact++)
		for (size_t i = 0; i < sizeof(big) / sizeof(*big); i++) {
			r = (struct log_rec){
				.op = compact ? OP_DICT : OP_CT_DELETE,
				.flags = LOG_LZ4 | LOG_DICT,
				.parent = big[i],
				.inc = big[sizeof(big) / sizeof(*big) - 1 - i],
				.size = (uint32_t)big[i],
				.stored = 9,
				.etag = big[i] ^ 0x5555,
				.name = "n",
				.namelen = 1,
				.body = body,
			};
			size_t n = log_rec_size(&r, compact);
			MDB_val v = { n, p };
			log_rec_encode(p, n, &r, compact);
			if (log_decode(NULL, &v, &d) || d.form != compact ||
			    d.op != r.op || d.flags != r.flags ||
			    d.parent != r.parent || d.inc != r.inc ||
			    d.size != r.size || d.stored != 9 ||
			    d.etag != r.etag || d.namelen != 1 ||
			    memcmp(d.name, "n", 1) || memcmp(d.body, body, 9))
				bad++;
		}
	is_int(bad, 0, "every field through both forms, at its bounds");

	char name[PITR_NAME_MAX];
	memset(name, 'x', sizeof(name));
	r = (struct log_rec){ .op = OP_DOC_PUT, .flags = LOG_DELTA,
			      .parent = 12, .size = 1000, .stored = 60,
			      .etag = 7, .name = name, .namelen = 10,
			      .body = name };
	ok(log_rec_size(&r, 1) == 14 + 10 + 60 + LOG_SUM &&
	       log_rec_size(&r, 0) == LOG_HDR + 10 + 60 + LOG_SUM,
	   "a document's header: 14 bytes compact, %d fixed", LOG_HDR);
	r.namelen = PITR_NAME_MAX;
	size_t n = log_rec_size(&r, 1);
	log_rec_encode(p, n, &r, 1);
	MDB_val v = { n, p };
	ok(log_decode(NULL, &v, &d) == 0 && d.namelen == PITR_NAME_MAX,
	   "the longest name in one byte");

	/* refused: a compact record with ... */
	static const unsigned char twelve[] = { 0x80 | OP_DOC_PUT, 0, 0x8c,
						0x00, 0, 0 };
	memset(p, 0, sizeof(p));
	memcpy(p, twelve, sizeof(twelve));
	is_int(sealed(p, sizeof(twelve) + 8 + LOG_SUM, &d), PITR_CORRUPT,
	       "... a varint ending in a zero byte");
	p[2] = 12;
	p[3] = 0;
	p[4] = 0;
	ok(sealed(p, 5 + 8 + LOG_SUM, &d) == 0 && d.parent == 12 &&
	       d.stored == 0,
	   "and read when written in one byte");
	p[1] = 1; /* a name past the end */
	is_int(sealed(p, 5 + 8 + LOG_SUM, &d), PITR_CORRUPT,
	       "... a name longer than the record");
	p[1] = 0;
	p[0] = (unsigned char)(LOG_COMPACT | (OP_CT_DELETE + 1));
	is_int(sealed(p, 5 + 8 + LOG_SUM, &d), PITR_CORRUPT,
	       "... the old rename op");
	p[0] = (unsigned char)(LOG_COMPACT | OP_CT_CREATE);
	p[2] = 0;
	is_int(sealed(p, 5 + 8 + LOG_SUM, &d), PITR_CORRUPT,
	       "... the old database create (a container op, no parent)");
	p[0] = (unsigned char)(LOG_COMPACT | 9);
	is_int(sealed(p, 5 + 8 + LOG_SUM, &d), PITR_CORRUPT,
	       "... an op past the last");
	/* parent: eleven bytes of continuation */
	memset(p, 0xff, sizeof(p));
	p[0] = (unsigned char)(LOG_COMPACT | OP_DOC_PUT);
	p[1] = 0;
	is_int(sealed(p, 2 + 11 + 2 + 8 + LOG_SUM, &d), PITR_CORRUPT,
	       "... a varint of more than 10 bytes");
	/* 10 bytes whose last carries more than bit 63 */
	memset(p + 2, 0xff, 9);
	p[11] = 0x02;
	p[12] = 0;
	p[13] = 0;
	is_int(sealed(p, 14 + 8 + LOG_SUM, &d), PITR_CORRUPT,
	       "... a varint past 64 bits");
	p[11] = 0x01;
	ok(sealed(p, 14 + 8 + LOG_SUM, &d) == 0 && d.parent == UINT64_MAX,
	   "and 2^64 - 1 in 10 bytes is read");
	p[0] = (unsigned char)(LOG_COMPACT | OP_DOC_PUT);
	p[1] = 0;
	p[2] = 0;
	p[3] = 0;
	p[4] = 0x80; /* size cut short by the end of the header */
	is_int(sealed(p, 5 + LOG_SUM, &d), PITR_CORRUPT,
	       "... a record cut inside its header");
	/* a size past 32 bits */
	unsigned char *e = p + 2;
	*e++ = 0;
	*e++ = 0;
	*e++ = 0x80, *e++ = 0x80, *e++ = 0x80, *e++ = 0x80, *e++ = 0x10;
	memset(e, 0, 8);
	is_int(sealed(p, (size_t)(e + 8 - p) + LOG_SUM, &d), PITR_CORRUPT,
	       "... a size past 32 bits");

	/* the short form: a delta at its key, through every form */
	unsigned char k[12], q[64];
	MDB_val key = { sizeof(k), k };
	const uint64_t at = 1765000000000000000ull;
	unsigned char lz[10] = "0123456789";
	r = (struct log_rec){ .op = OP_DOC_PUT,
			      .flags = LOG_DELTA,
			      .form = REC_SHORT,
			      .ts = at,
			      .idx = 3,
			      .size = 1000,
			      .stored = sizeof(lz),
			      .body = lz,
			      .base = { at - 3 * SEC, 9, 2, 0 } };
	n = log_rec_size(&r, REC_SHORT);
	log_rec_encode(q, n, &r, REC_SHORT);
	key_log(k, at, 3);
	v = (MDB_val){ n, q };
	ok(log_decode(&key, &v, &d) == 0 && d.form == REC_SHORT &&
	       d.op == OP_DOC_PUT && d.flags == LOG_DELTA && d.size == 1000 &&
	       d.stored == sizeof(lz) && !memcmp(d.body, lz, sizeof(lz)) &&
	       d.base.ts == at - 3 * SEC && d.base.idx == 9 &&
	       d.base.nth == 2 && !d.namelen && !d.etag,
	   "a short record: every field");
	is_int((int)n, 1 + 2 + 5 + 1 + 1 + 10 + LOG_SHORT_SUM,
	       "its header: 10 bytes for a delta 3 s after its base");
	ok(log_decode(NULL, &v, &d) == PITR_CORRUPT,
	   "refused away from its key");
	size_t cn = log_rec_size(&r, REC_COMPACT);
	log_rec_encode(p, cn, &r, REC_COMPACT);
	MDB_val cv = { cn, p };
	struct body_base cb;
	unsigned char again[64];
	ok(log_decode(NULL, &cv, &d) == 0 && d.form == REC_COMPACT &&
	       body_form(&d, &cb) == BODY_DELTA && cb.ts == at - 3 * SEC &&
	       cb.idx == 9 && cb.nth == 2 && d.stored == DELTA_HDR + 10,
	   "in the compact form its header is in its body");
	d.ts = at;
	d.idx = 3;
	ok(log_rec_size(&d, REC_SHORT) == n &&
	       (log_rec_encode(again, n, &d, REC_SHORT), !memcmp(again, q, n)),
	   "and back to the same short bytes");
	q[n - 1] ^= 1;
	is_int(log_decode(&key, &v, &d), PITR_CORRUPT, "... a bad sum");
	q[n - 1] ^= 1;
	key_log(k, 2 * SEC, 3);
	is_int(log_decode(&key, &v, &d), PITR_CORRUPT,
	       "... a base before time began");
	r.base = (struct body_base){ at, 3, 1, 0 };
	n = log_rec_size(&r, REC_SHORT);
	log_rec_encode(q, n, &r, REC_SHORT);
	v.mv_size = n;
	key_log(k, at, 3);
	is_int(log_decode(&key, &v, &d), PITR_CORRUPT,
	       "... a base at its own key");
	r.base.idx = 2;
	log_rec_encode(q, n, &r, REC_SHORT);
	ok(log_decode(&key, &v, &d) == 0, "and read on one just before");
	r.base.nth = 0;
	log_rec_encode(q, n, &r, REC_SHORT);
	is_int(log_decode(&key, &v, &d), PITR_CORRUPT, "... nth 0");
	r.base.nth = 1;
	r.stored = 0;
	n = log_rec_size(&r, REC_SHORT);
	log_rec_encode(q, n, &r, REC_SHORT);
	v.mv_size = n;
	is_int(log_decode(&key, &v, &d), PITR_CORRUPT, "... no delta bytes");
	r.stored = sizeof(lz);
	r.size = 0;
	n = log_rec_size(&r, REC_SHORT);
	log_rec_encode(q, n, &r, REC_SHORT);
	v.mv_size = n;
	is_int(log_decode(&key, &v, &d), PITR_CORRUPT, "... size 0");
}

/*
 * An account of format 3 (as builds before the compact records made
 * them): its writes stay in the fixed form, with deltas and dictionaries
 * as before, so those builds still open it. Replayed into a format-4
 * account (as a rebuild from its media does), its log records keep the
 * fixed form beside new compact ones: every version reads, and new
 * deltas are made on keyframes of the other form.
 */
static void test_format3(void)
{
	pitr_store *s = make_store("three", 3);
	uint64_t ct, ts[8];
	char body[8][DOC_MAX], many[DOC_MAX], id[16];
	size_t len[8];
	pitr_info info;
	int rc, bad = 0;

	ok(s != NULL && s->has_dicts, "a format-3 account opens");
	if (!s)
		return;
	ct = container(s, "d", "c");
	for (unsigned i = 0; i < DICT_SCAN + 4; i++) {
		size_t ml = doc(many, sizeof(many), 300 + i, 0);
		snprintf(id, sizeof(id), "m%03u", i);
		put(s, ct, id, many, ml, NULL);
	}
	for (unsigned v = 0; v < 4; v++) {
		len[v] = doc(body[v], DOC_MAX, 9, v);
		put(s, ct, "x", body[v], len[v], &ts[v]);
	}
	struct forms f = forms(s);
	ok(f.records > 0 && f.compact == 0 && f.deltas >= 3 && f.dicts > 0,
	   "its writes: deltas and dictionary keyframes, none compact");
	pitr_store_info(s, &info);
	is_int(info.format, 3, "and it stays format 3");

	/* its log replayed into a new account, as a rebuild from its media
	 * does: the records copied as they are, the indexes made anew */
	pitr_store *d = make_store("three4", PITR_FORMAT);
	struct replayer rp = { .s = d };
	pitr_txn *t;
	MDB_val key, val;
	struct log_rec lr;
	uint64_t lts;
	uint32_t lidx;
	MDB_cursor *c = NULL;
	int rrc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (!rrc)
		rrc = mdb_rc(mdb_cursor_open(t->txn, s->log, &c));
	while (!rrc && mdb_cursor_get(c, &key, &val, MDB_NEXT) == 0)
		if ((rrc = log_key_decode(&key, &lts, &lidx)) ||
		    (rrc = log_decode(&key, &val, &lr)) ||
		    (rrc = log_resolve(t, &lr)) ||
		    (rrc = replayer_apply(&rp, lts, lidx, &val, &lr)))
			break;
	if (rp.t && !rrc)
		rrc = pitr_txn_commit(rp.t, NULL);
	else if (rp.t)
		pitr_txn_abort(rp.t);
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	pitr_store_close(s);
	s = d;
	is_int(rrc, 0, "replayed into a format-4 account");
	int before = f.records, replayed = f.deltas;
	f = forms(s);
	ok(f.shorts == replayed && f.compact == replayed,
	   "its deltas replayed short, the rest as they were (%d of %d)",
	   f.shorts, f.records);
	for (unsigned v = 4; v < 8; v++) {
		len[v] = doc(body[v], DOC_MAX, 9, v);
		put(s, ct, "x", body[v], len[v], &ts[v]);
	}
	f = forms(s);
	ok(f.compact - replayed == f.records - before && f.compact >= 4,
	   "its new records are compact (%d of %d)", f.compact, f.records);
	for (unsigned v = 0; v < 8; v++)
		if (!reads(s, ct, "x", ts[v], body[v], len[v], &rc))
			bad++;
	is_int(bad, 0, "every version of both forms reads");
	is_int(problems(s), 0, "it verifies");
	pitr_store_close(s);

	s = make_store("four", PITR_FORMAT);
	ct = container(s, "d", "c");
	put(s, ct, "x", body[0], len[0], NULL);
	put(s, ct, "x", body[1], len[1], NULL);
	f = forms(s);
	ok(f.records > 0 && f.compact == f.records && f.deltas == 1 &&
	       f.shorts == 1,
	   "a new account writes every record compact, its delta short");
	pitr_store_close(s);
}

/*
 * A restore takes the dictionary its source container had at the instant
 * restored, and only when a document it copies is stored on it: never
 * one made later (of documents written after the instant), never one no
 * restored document needs.
 */
static void test_restore_dict(void)
{
	enum { N = 80 };
	pitr_store *s = make_store("rdict", PITR_FORMAT);
	uint64_t ct = container(s, "d", "c"), ct2 = container(s, "e", "p");
	char body[DOC_MAX], id[16], restored[128];
	size_t len;
	uint64_t t0, t1;
	pitr_config cfg = { 0 };
	pitr_restore_stats st;
	pitr_store *r;
	struct forms f;
	int rc;

	put(s, ct, "early", "{\"a\": 1}", 8, NULL);
	put(s, ct2, "plain", "{\"b\": 2}", 8, &t0);
	for (unsigned i = 0; i < N; i++) {
		len = doc(body, DOC_MAX, 500 + i, 1);
		snprintf(id, sizeof(id), "later%02u", i);
		put(s, ct, id, body, len, &t1);
	}
	f = forms(s);
	ok(f.dict_records == 1 && f.dicts > 0,
	   "documents written after t0 made a dictionary");
	pitr_policy_default(&cfg.policy);

	snprintf(restored, sizeof(restored), "%s/rdict-t0", dir);
	rc = pitr_restore(s, t0, NULL, 0, restored, &cfg, NULL, NULL, &st);
	is_int(rc, 0, "restored at t0, before the dictionary");
	if (!rc && !pitr_store_open(restored, 0, &r)) {
		f = forms(r);
		ok(f.dict_records == 0 && f.keys == 2,
		   "no dictionary in it, its two documents alone");
		pitr_store_close(r);
	}

	/* at t1 the later documents are there, on the dictionary */
	snprintf(restored, sizeof(restored), "%s/rdict-t1", dir);
	rc = pitr_restore(s, t1, NULL, 0, restored, &cfg, NULL, NULL, &st);
	is_int(rc, 0, "restored at t1");
	if (!rc && !pitr_store_open(restored, 0, &r)) {
		f = forms(r);
		ok(f.dict_records == 1 && f.dicts > 0 && f.keys == N + 2,
		   "its own copy of the dictionary, once, its documents on it "
		   "(%d of %d)", f.dicts, f.keys);
		is_int(problems(r), 0, "and it verifies");
		pitr_store_close(r);
	}

	/* the documents on the dictionary deleted: a restore after that
	 * has nothing to store on it, and takes none */
	char names[N][16];
	unsigned nd = 0;
	pitr_txn *t;
	MDB_cursor *c;
	MDB_val key, val;
	struct log_rec lr;
	struct body_base b;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	mdb_cursor_open(t->txn, s->log, &c);
	while (nd < N && mdb_cursor_get(c, &key, &val, MDB_NEXT) == 0)
		if (!log_decode(&key, &val, &lr) && lr.op == OP_DOC_PUT &&
		    body_form(&lr, &b) == BODY_DICT && lr.namelen < 16) {
			memcpy(names[nd], lr.name, lr.namelen);
			names[nd++][lr.namelen] = 0;
		}
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	uint64_t t2 = 0;
	int bad = 0;
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	for (unsigned i = 0; i < nd; i++)
		if (pitr_doc_delete(t, ct, names[i], strlen(names[i])))
			bad++;
	pitr_txn_commit(t, &t2);
	ok(nd > 0 && !bad, "the %u documents on it deleted", nd);
	snprintf(restored, sizeof(restored), "%s/rdict-t2", dir);
	rc = pitr_restore(s, t2, NULL, 0, restored, &cfg, NULL, NULL, &st);
	is_int(rc, 0, "restored after that");
	if (!rc && !pitr_store_open(restored, 0, &r)) {
		f = forms(r);
		ok(f.dict_records == 0 && f.dicts == 0 &&
		       f.keys == N + 2 - (int)nd,
		   "no dictionary in it: no document of it needs one");
		pitr_store_close(r);
	}
	pitr_store_close(s);
}

/* Progress of a restore: counts its calls, stops it at the first commit
 * inside a container. */
static int stop_inside(uint64_t done, void *arg)
{
	++*(int *)arg;
	return done ? EINTR : 0;
}

/* Do (ct, id) at `at` in `s` and (rct, id) now in `r` read the same? */
static int same_doc(pitr_store *s, uint64_t ct, uint64_t at, pitr_store *r,
		    uint64_t rct, const char *id)
{
	pitr_txn *t, *rt;
	void *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int same = 0;

	if (pitr_txn_begin(s, PITR_TXN_READ, &t))
		return 0;
	if (!pitr_txn_begin(r, PITR_TXN_READ, &rt)) {
		same =
		    !pitr_doc_get(t, ct, id, strlen(id), at, NULL, &a, &alen) &&
		    !pitr_doc_get(rt, rct, id, strlen(id), PITR_NOW, NULL, &b,
				  &blen) &&
		    alen == blen && !memcmp(a, b, alen);
		pitr_txn_abort(rt);
	}
	pitr_txn_abort(t);
	free(a);
	free(b);
	return same;
}

/* A restore of more documents than the copy holds in flight and than
 * one target transaction takes, of keyframes on a dictionary, plain ones
 * and deltas: every document as the source reads it at the instant; a
 * record damaged far into the container fails it whole, and a progress
 * callback stops it, each leaving nothing behind. */
static void test_restore_many(void)
{
	enum { N = 12000, EDIT = 5, DAMAGED = 9001 };
	pitr_store *s = make_store("rmany", PITR_FORMAT), *r;
	uint64_t ct = container(s, "d", "c"), at[2], rct = 0, rdb = 0;
	char body[DOC_MAX], id[16], restored[128];
	pitr_config cfg = { 0 };
	pitr_restore_stats st;
	pitr_txn *t = NULL;
	struct forms f;
	size_t len;
	int rc = 0, bad = 0, calls = 0;

	for (unsigned v = 0; v < 2; v++) {
		for (unsigned i = 0; i < N && !rc; i++) {
			if (v && i % EDIT)
				continue;
			if (!t && (rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t)))
				break;
			len = doc(body, DOC_MAX, i, v);
			snprintf(id, sizeof(id), "r%05u", i);
			rc = pitr_doc_put(t, ct, id, strlen(id), body, len);
			if (!rc && i % 500 == 499) {
				rc = pitr_txn_commit(t, NULL);
				t = NULL;
			}
		}
		if (!rc && t)
			rc = pitr_txn_commit(t, NULL);
		t = NULL;
		at[v] = pitr_store_now(s);
	}
	f = forms(s);
	is_int(rc, 0, "12000 documents, every fifth edited");
	ok(f.dicts > N / 2 && f.deltas > N / EDIT / 2,
	   "keyframes on a dictionary (%d) and deltas (%d)", f.dicts, f.deltas);
	pitr_policy_default(&cfg.policy);

	for (unsigned v = 0; v < 2; v++) {
		snprintf(restored, sizeof(restored), "%s/rmany-%u", dir, v);
		rc = pitr_restore(s, at[v], NULL, 0, restored, &cfg, NULL, NULL,
				  &st);
		ok(rc == 0, "restored at the %s instant: %d",
		   v ? "second" : "first", rc);
		if (rc || pitr_store_open(restored, 0, &r))
			continue;
		if (!pitr_txn_begin(r, PITR_TXN_READ, &t)) {
			if (!pitr_db_lookup(t, PITR_NOW, "d", 1, &rdb))
				pitr_ct_lookup(t, PITR_NOW, rdb, "c", 1, &rct);
			pitr_txn_abort(t);
		}
		bad = 0;
		for (unsigned i = 0; i < N; i++) {
			snprintf(id, sizeof(id), "r%05u", i);
			bad += !same_doc(s, ct, at[v], r, rct, id);
		}
		f = forms(r);
		ok(st.docs == N && !bad && f.keys == N && !f.deltas &&
		       f.dict_records == 1,
		   "all %u read as the source does then, as keyframes on its "
		   "own dictionary (%d differ)",
		   N, bad);
		pitr_store_close(r);
	}

	/* a flipped byte in a document past the first ring-fulls */
	MDB_cursor *c;
	MDB_val key, val;
	struct log_rec lr;
	unsigned char orig[4096], dmg[4096];
	uint64_t dts = 0;
	uint32_t didx = 0;
	size_t olen = 0;
	snprintf(id, sizeof(id), "r%05u", DAMAGED);
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	mdb_cursor_open(t->txn, s->log, &c);
	while (!olen && mdb_cursor_get(c, &key, &val, MDB_NEXT) == 0)
		if (!log_decode(&key, &val, &lr) && lr.op == OP_DOC_PUT &&
		    lr.namelen == strlen(id) &&
		    !memcmp(lr.name, id, lr.namelen) &&
		    val.mv_size <= sizeof(orig)) {
			dts = lr.ts;
			didx = lr.idx;
			olen = val.mv_size;
			memcpy(orig, val.mv_data, olen);
		}
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	ok(olen > 0, "the record of %s", id);
	memcpy(dmg, orig, olen);
	dmg[olen / 2] ^= 0x10;
	record_set(s, dts, didx, dmg, olen);
	snprintf(restored, sizeof(restored), "%s/rmany-bad", dir);
	rc = pitr_restore(s, at[1], NULL, 0, restored, &cfg, NULL, NULL, &st);
	is_int(rc, PITR_CORRUPT, "a damaged record fails the restore");
	ok(strstr(st.error, id) != NULL, "naming its document: %s", st.error);
	ok(access(restored, F_OK) != 0, "and leaves no target");
	record_set(s, dts, didx, orig, olen);

	snprintf(restored, sizeof(restored), "%s/rmany-stop", dir);
	rc = pitr_restore(s, at[1], NULL, 0, restored, &cfg, stop_inside,
			  &calls, &st);
	is_int(rc, EINTR, "a callback stops it after the first commit");
	ok(calls == 1 && access(restored, F_OK) != 0,
	   "called once, no target left");
	is_int(problems(s), 0, "the source, its byte put back, verifies");
	pitr_store_close(s);
}

/* Containers about the size of the copy's ring (1,024 records): walked
 * by the caller alone, or handed over from the first record on, or with
 * no reader thread (`alone`) by the caller whenever the ring is empty;
 * each document read back as it was. */
static void test_restore_ring(int alone)
{
	static const unsigned sizes[] = { 1, 1023, 1024, 1025, 2049 };
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	pitr_store *s =
		       make_store(alone ? "rring-alone" : "rring", PITR_FORMAT),
		   *r;
	uint64_t ct[NS], at, rdb = 0;
	char name[16], id[16], body[64], restored[128];
	pitr_config cfg = { 0 };
	pitr_restore_stats st;
	pitr_txn *t;
	int rc = 0, bad = 0;

	for (unsigned k = 0; k < NS; k++) {
		snprintf(name, sizeof(name), "c%u", sizes[k]);
		ct[k] = container(s, name, "c");
		if (rc || (rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t)))
			break;
		for (unsigned i = 0; i < sizes[k] && !rc; i++) {
			int l = snprintf(body, sizeof(body),
					 "{\"k\":%u,\"i\":%u}", k, i);
			snprintf(id, sizeof(id), "i%05u", i);
			rc = pitr_doc_put(t, ct[k], id, strlen(id), body,
					  (size_t)l);
		}
		if (rc)
			pitr_txn_abort(t);
		else
			rc = pitr_txn_commit(t, NULL);
	}
	at = pitr_store_now(s);
	pitr_policy_default(&cfg.policy);
	snprintf(restored, sizeof(restored), "%s/rring-r%d", dir, alone);
	copy_alone = alone;
	if (!rc)
		rc = pitr_restore(s, at, NULL, 0, restored, &cfg, NULL, NULL,
				  &st);
	copy_alone = 0;
	ok(rc == 0,
	   "an account of containers of 1 to 2049 documents restored%s: %d",
	   alone ? " with no reader thread" : "", rc);
	if (rc || pitr_store_open(restored, 0, &r)) {
		pitr_store_close(s);
		return;
	}
	for (unsigned k = 0; k < NS; k++) {
		uint64_t rct = 0;
		snprintf(name, sizeof(name), "c%u", sizes[k]);
		if (!pitr_txn_begin(r, PITR_TXN_READ, &t)) {
			if (!pitr_db_lookup(t, PITR_NOW, name, strlen(name),
					    &rdb))
				pitr_ct_lookup(t, PITR_NOW, rdb, "c", 1, &rct);
			pitr_txn_abort(t);
		}
		for (unsigned i = 0; i <= sizes[k]; i++) {
			snprintf(id, sizeof(id), "i%05u", i);
			int same = same_doc(s, ct[k], at, r, rct, id);
			bad += i < sizes[k] ? !same : same;
		}
	}
	ok(st.docs == 1 + 1023 + 1024 + 1025 + 2049 && !bad,
	   "every document in its container, none more (%d wrong)", bad);
	pitr_store_close(r);
	pitr_store_close(s);
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/pitr-body.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_codec();
	test_records();
	test_history();
	test_damage();
	test_prune();
	test_prune_gap();
	test_standalone();
	test_format2();
	test_format3();
	test_older(4);
	test_older(5);
	test_short();
	test_restore_dict();
	test_restore_many();
	test_restore_ring(0);
	test_restore_ring(1);
	test_dict();
	test_repair();
	test_prepared();
	for (uint32_t f = 3; f <= PITR_FORMAT; f++)
		test_pre_encoded(f);
	test_pre_stale();
	test_pre_threads();
	test_shipped_rekey();
	test_alternating();
	test_hc();
	test_prefix();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
