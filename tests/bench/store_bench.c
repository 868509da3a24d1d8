/*
 * store_bench.c - benchmark of core/ alone (no FUSE).
 *
 * usage: store_bench DIR [NDOCS [DEPTH]]
 *
 * DIR is an existing, empty directory (on tmpfs) that receives one account
 * per measurement; each is removed when its measurement is done. NDOCS is
 * the number of documents of the large container (default 100000), DEPTH
 * the number of versions of the deep document (default 10000). Stores are
 * opened as the daemon opens them (durable commits), so a commit costs what
 * it costs under pitrfs.
 */
#include <errno.h>
#include <inttypes.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pitr.h"
#include "docgen.h"

static const char *base;

#define REPS 3 /* read measurements: the best of REPS runs */

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "store_bench: %s: %s\n", what, pitr_strerror(rc));
	exit(1);
}

#define CHECK(expr)                                \
	do {                                       \
		int rc_ = (expr);                  \
		if (rc_)                           \
			die(#expr, rc_);           \
	} while (0)

/* One line per figure: label, value, unit, comment. */
static void line(const char *label, double value, const char *unit,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void line(const char *label, double value, const char *unit,
		 const char *fmt, ...)
{
	char note[200] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(note, sizeof(note), fmt, ap);
		va_end(ap);
	}
	if (value >= 100)
		printf("  %-46s %12.0f %-10s %s\n", label, value, unit, note);
	else
		printf("  %-46s %12.2f %-10s %s\n", label, value, unit, note);
	fflush(stdout);
}

static void section(const char *title)
{
	printf("\n %s\n", title);
}

/*
 * Stores
 */

struct bstore {
	char path[512];
	pitr_store *s;
	uint64_t ct;
};

static void store_make(struct bstore *b, const char *name)
{
	pitr_config cfg = { 0 };
	pitr_txn *t;
	uint64_t db;

	snprintf(b->path, sizeof(b->path), "%s/%s", base, name);
	pitr_policy_default(&cfg.policy);
	CHECK(pitr_store_create(b->path, &cfg));
	CHECK(pitr_store_open(b->path, 0, &b->s));
	CHECK(pitr_txn_begin(b->s, PITR_TXN_WRITE, &t));
	CHECK(pitr_db_create(t, "bench", 5, &db));
	CHECK(pitr_ct_create(t, db, "docs", 4, &b->ct));
	CHECK(pitr_txn_commit(t, NULL));
}

static void store_drop(struct bstore *b)
{
	char cmd[600];

	pitr_store_close(b->s);
	b->s = NULL;
	/* STORE_BENCH_KEEP=name (or "all") keeps that store for inspection,
	 * e.g. with mdb_stat -a. */
	const char *keep = getenv("STORE_BENCH_KEEP");
	const char *name = strrchr(b->path, '/') + 1;
	if (keep && (!strcmp(keep, "all") || !strcmp(keep, name)))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->path);
	if (system(cmd) != 0)
		fprintf(stderr, "store_bench: cannot remove %s\n", b->path);
}

static size_t id_of(char *id, uint32_t i)
{
	return (size_t)sprintf(id, "doc%07" PRIu32, i);
}

static uint64_t seed_of(uint32_t i, uint32_t round)
{
	return (uint64_t)i * 1000003u + (uint64_t)round * 7919u + 1;
}

/* Bodies of documents 0..n-1 for one round, made before any timing. */
struct bodies {
	uint32_t n;
	char *data;
	uint32_t *off, *len;
	uint64_t total;
};

static void bodies_make(struct bodies *b, uint32_t n, uint32_t round)
{
	char id[32], buf[DOC_MAX];

	b->n = n;
	b->data = malloc((size_t)n * 1200 + 1);
	b->off = malloc(n * sizeof(uint32_t));
	b->len = malloc(n * sizeof(uint32_t));
	if (!b->data || !b->off || !b->len)
		die("malloc", ENOMEM);
	b->total = 0;
	for (uint32_t i = 0; i < n; i++) {
		id_of(id, i);
		size_t len = doc_gen(buf, sizeof(buf), id, seed_of(i, round));
		memcpy(b->data + b->total, buf, len);
		b->off[i] = (uint32_t)b->total;
		b->len[i] = (uint32_t)len;
		b->total += len;
	}
}

/* `from`, each body with "rev":1 added as its first member. */
static void bodies_edit(struct bodies *b, const struct bodies *from)
{
	static const char rev[] = "\"rev\":1,";
	size_t add = sizeof(rev) - 1;

	b->n = from->n;
	b->data = malloc(from->total + (size_t)from->n * add + 1);
	b->off = malloc(from->n * sizeof(uint32_t));
	b->len = malloc(from->n * sizeof(uint32_t));
	if (!b->data || !b->off || !b->len)
		die("malloc", ENOMEM);
	b->total = 0;
	for (uint32_t i = 0; i < from->n; i++) {
		const char *d = from->data + from->off[i];
		char *o = b->data + b->total;
		o[0] = d[0]; /* '{' */
		memcpy(o + 1, rev, add);
		memcpy(o + 1 + add, d + 1, from->len[i] - 1);
		b->off[i] = (uint32_t)b->total;
		b->len[i] = from->len[i] + (uint32_t)add;
		b->total += b->len[i];
	}
}

static void bodies_free(struct bodies *b)
{
	free(b->data);
	free(b->off);
	free(b->len);
}

/* Put every body, `per` documents per transaction; returns seconds. */
static double put_all(struct bstore *s, const struct bodies *b, uint32_t per,
		      uint64_t *last_ts)
{
	char id[32];
	pitr_txn *t = NULL;
	double t0 = now_s();

	for (uint32_t i = 0; i < b->n; i++) {
		if (!t)
			CHECK(pitr_txn_begin(s->s, PITR_TXN_WRITE, &t));
		CHECK(pitr_doc_put(t, s->ct, id, id_of(id, i),
				   b->data + b->off[i], b->len[i]));
		if ((i + 1) % per == 0 || i + 1 == b->n) {
			CHECK(pitr_txn_commit(t, last_ts));
			t = NULL;
		}
	}
	return now_s() - t0;
}

/* Every body put prepared (as the daemon puts them), 100 documents per
 * transaction: each 100 prepared before their transaction. Returns the
 * seconds inside the write transactions, *prep the seconds preparing. */
static double put_prepared_all(struct bstore *s, const struct bodies *b,
			       double *prep)
{
	pitr_prepared *p[100];
	char id[32], err[160];
	pitr_txn *t;
	double in = 0, t0;

	*prep = 0;
	for (uint32_t i = 0; i < b->n; i += 100) {
		uint32_t k, m = b->n - i < 100 ? b->n - i : 100;
		t0 = now_s();
		for (k = 0; k < m; k++)
			CHECK(pitr_doc_prepare(
			    s->s, s->ct, id, id_of(id, i + k),
			    b->data + b->off[i + k], b->len[i + k], err,
			    sizeof(err), &p[k]));
		*prep += now_s() - t0;
		t0 = now_s();
		CHECK(pitr_txn_begin(s->s, PITR_TXN_WRITE, &t));
		for (k = 0; k < m; k++)
			CHECK(pitr_doc_put_prepared(t, s->ct, id,
						    id_of(id, i + k), p[k]));
		CHECK(pitr_txn_commit(t, NULL));
		in += now_s() - t0;
		for (k = 0; k < m; k++)
			pitr_prepared_free(p[k]);
	}
	return in;
}

/* `count` gets of random documents of 0..ndocs-1 at `at`, one read
 * transaction each; returns seconds. */
static double get_random(struct bstore *s, uint32_t ndocs, uint64_t at,
			 uint32_t count, uint64_t seed)
{
	char id[32];
	uint64_t rng = seed;
	size_t total = 0;
	double t0 = now_s();

	for (uint32_t k = 0; k < count; k++) {
		pitr_txn *t;
		void *body;
		size_t len;
		uint32_t i = (uint32_t)(doc_rand(&rng) % ndocs);

		CHECK(pitr_txn_begin(s->s, PITR_TXN_READ, &t));
		CHECK(pitr_doc_get(t, s->ct, id, id_of(id, i), at, NULL, &body,
				   &len));
		pitr_txn_abort(t);
		total += len;
		free(body);
	}
	if (total == 0)
		die("get_random: empty bodies", EIO);
	return now_s() - t0;
}

/* List the container at `at`; returns seconds, `*n` the entries. */
static double list_at1(struct bstore *s, uint64_t at, uint32_t *n)
{
	pitr_entry e;
	pitr_iter *it;
	pitr_txn *t;
	int rc;
	double t0 = now_s();

	*n = 0;
	CHECK(pitr_txn_begin(s->s, PITR_TXN_READ, &t));
	CHECK(pitr_iter_begin(t, PITR_LIST_DOCUMENTS, s->ct, at, NULL, 0, 0,
			      &it));
	while ((rc = pitr_iter_next(it, &e)) == 0)
		(*n)++;
	if (rc != PITR_NOTFOUND)
		die("pitr_iter_next", rc);
	pitr_iter_end(it);
	pitr_txn_abort(t);
	return now_s() - t0;
}

/* The same, best of REPS runs. */
static double list_at(struct bstore *s, uint64_t at, uint32_t *n)
{
	double best = 1e9;

	for (int r = 0; r < REPS; r++)
		best = min_d(best, list_at1(s, at, n));
	return best;
}

static void info_of(struct bstore *s, pitr_info *info)
{
	CHECK(pitr_store_info(s->s, info));
}

/*
 * Measurements
 */

static void bench_puts_gets(uint32_t n)
{
	struct bstore a, b, small;
	struct bodies r0, r1, rs;
	uint64_t t_mid, t_end;
	uint32_t count, listed;
	double sec, puts1, puts100, get_now, get_at, lnow, lat;
	double g_small, g_big;
	uint32_t nsmall = n < 1000 ? n : 1000;
	char label[80];

	bodies_make(&r0, n, 0);
	bodies_make(&r1, n, 1);
	printf(" documents: %" PRIu32 " of %.0f bytes JSON on average\n", n,
	       (double)r0.total / n);

	section("writes");
	store_make(&a, "a");
	sec = put_all(&a, &r0, 1, &t_mid);
	puts1 = n / sec;
	snprintf(label, sizeof(label), "put, 1 doc per txn (%" PRIu32 " docs)", n);
	line(label, puts1, "puts/s", "%.1f us/put", 1e6 * sec / n);

	store_make(&b, "b");
	sec = put_all(&b, &r0, 100, NULL);
	puts100 = n / sec;
	snprintf(label, sizeof(label), "put, 100 docs per txn (%" PRIu32 " docs)", n);
	line(label, puts100, "puts/s", "%.1f us/put, %.1fx the 1-doc rate",
	     1e6 * sec / n, puts100 / puts1);

	{
		char err[160];
		double c0 = now_s();
		for (uint32_t i = 0; i < n; i++)
			CHECK(pitr_doc_check(a.s, r0.data + r0.off[i],
					     r0.len[i], err, sizeof(err), NULL));
		sec = now_s() - c0;
		line("JSON validation alone (pitr_doc_check)",
		     1e6 * sec / n, "us/doc", "%.0f%% of a 1-doc put, %.0f%% of a "
		     "batched one", 100.0 * sec * puts1 / n,
		     100.0 * sec * puts100 / n);
	}

	/* A second version of every document of store a, so that t_mid
	 * (the end of the first pass) lies in the middle of its history:
	 * each a new document under the same id. */
	sec = put_all(&a, &r1, 100, &t_end);
	line("overwrite, 100 docs per txn (2nd version)", n / sec, "puts/s",
	     NULL);
	{
		/* A small edit of every document, as applications make
		 * them: a counter field added in front, the rest unchanged.
		 * In a store of its own, so that store a stays as the
		 * measurements below expect it. */
		struct bstore e;
		struct bodies re;
		bodies_edit(&re, &r0);
		store_make(&e, "e");
		put_all(&e, &r0, 100, NULL);
		sec = put_all(&e, &re, 100, NULL);
		line("small edit, 100 docs per txn (2nd version)", n / sec,
		     "puts/s", NULL);
		store_drop(&e);
		bodies_free(&re);
	}
	{
		/* New documents, a small edit of each, then a new document
		 * under each id, put prepared as the daemon puts them: each
		 * body encoded before its transaction (in a writer's own
		 * thread, in parallel with others), the transaction storing
		 * it; what a writer's lock holds is the second figure. */
		struct bstore p;
		struct bodies re;
		double prep;
		static const char *const what[] = {
			"put prepared, 100 per txn: in the txn",
			"small edit prepared: in the txn",
			"overwrite prepared: in the txn",
		};
		bodies_edit(&re, &r0);
		store_make(&p, "p");
		const struct bodies *pass[] = { &r0, &re, &r1 };
		for (int k = 0; k < 3; k++) {
			sec = put_prepared_all(&p, pass[k], &prep);
			line(what[k], n / sec, "puts/s",
			     "%.1f us/put; preparing %.1f us/doc before",
			     1e6 * sec / n, 1e6 * prep / n);
		}
		store_drop(&p);
		bodies_free(&re);
	}
	{
		pitr_info ia;
		info_of(&a, &ia);
		line("disk bytes per version, this store", (double)ia.disk_bytes /
		     (2.0 * n), "B", "(%" PRIu32 " docs x 2 versions; see space)",
		     n);
	}

	section("reads (random ids, one read txn per get; best of 3 runs)");
	count = n;
	double s_now = 1e9, s_at = 1e9;
	for (uint64_t r = 0; r < REPS; r++) {
		s_now = min_d(s_now, get_random(&a, n, PITR_NOW, count, 42 + r));
		s_at = min_d(s_at, get_random(&a, n, t_mid, count, 52 + r));
	}
	get_now = count / s_now;
	line("get now", get_now, "gets/s", "%.2f us/get", 1e6 * s_now / count);
	get_at = count / s_at;
	line("get at past T (middle of history)", get_at, "gets/s",
	     "%.2f us/get, %.2fx the cost of now", 1e6 * s_at / count,
	     get_now / get_at);

	section("listing a container with pitr_iter (best of 3 runs)");
	sec = list_at(&a, PITR_NOW, &listed);
	if (listed != n)
		die("list now: wrong count", EIO);
	lnow = listed / sec;
	snprintf(label, sizeof(label), "list now (%" PRIu32 " docs)", listed);
	line(label, lnow, "docs/s", "%.1f ms in all", 1e3 * sec);
	sec = list_at(&a, t_mid, &listed);
	if (listed != n)
		die("list at T: wrong count", EIO);
	lat = listed / sec;
	snprintf(label, sizeof(label), "list at past T (%" PRIu32 " docs)", listed);
	line(label, lat, "docs/s", "%.1f ms in all, %.2fx the cost of now",
	     1e3 * sec, lnow / lat);
	sec = list_at(&a, t_end, &listed);
	if (listed != n)
		die("list at T_end: wrong count", EIO);
	snprintf(label, sizeof(label), "list at T = last write (%" PRIu32 " docs)",
		 listed);
	line(label, listed / sec, "docs/s", "%.2fx the cost of now",
	     lnow / (listed / sec));

	section("read cost vs number of other documents (get now, random ids, "
		"best of 3)");
	store_make(&small, "small");
	bodies_make(&rs, nsmall, 0);
	put_all(&small, &rs, 100, NULL);
	count = 100000;
	g_small = g_big = 1e9;
	for (uint64_t r = 0; r < REPS; r++) {
		g_small = min_d(g_small, get_random(&small, nsmall, PITR_NOW,
						    count, 7 + r));
		g_big = min_d(g_big, get_random(&b, n, PITR_NOW, count,
						17 + r));
	}
	snprintf(label, sizeof(label), "get in a container of %" PRIu32 " docs",
		 nsmall);
	line(label, 1e6 * g_small / count, "us/get", "%.0f gets/s",
	     count / g_small);
	snprintf(label, sizeof(label), "get in a container of %" PRIu32 " docs", n);
	line(label, 1e6 * g_big / count, "us/get", "%.0f gets/s",
	     count / g_big);
	line("ratio large/small container", g_big / g_small, "x", NULL);

	store_drop(&small);
	store_drop(&a);
	store_drop(&b);
	bodies_free(&r0);
	bodies_free(&r1);
	bodies_free(&rs);
}

/* `count` gets at instants uniform in [lo, hi]: of document `id`, or, if
 * `id` is NULL, of a random one of "s0000000".."s<nset-1>". */
static double get_at_random(struct bstore *s, const char *id, uint32_t nset,
			    uint64_t lo, uint64_t hi, uint32_t count,
			    uint64_t seed)
{
	char sid[32];
	uint64_t rng = seed;
	size_t idlen = id ? strlen(id) : 0, total = 0;
	pitr_txn *t = NULL;
	double t0 = now_s();

	for (uint32_t k = 0; k < count; k++) {
		uint64_t at = lo + doc_rand(&rng) % (hi - lo + 1);
		const char *p = id;
		void *body;
		size_t len;

		if (!id) {
			idlen = (size_t)sprintf(
				sid, "s%07u",
				(unsigned)(doc_rand(&rng) % nset));
			p = sid;
		}
		/* one read txn per 1000 gets: measure the lookup itself */
		if (!t)
			CHECK(pitr_txn_begin(s->s, PITR_TXN_READ, &t));
		CHECK(pitr_doc_get(t, s->ct, p, idlen, at, NULL, &body, &len));
		total += len;
		free(body);
		if ((k + 1) % 1000 == 0) {
			pitr_txn_abort(t);
			t = NULL;
		}
	}
	pitr_txn_abort(t);
	if (!total)
		die("get_at_random: empty", EIO);
	return now_s() - t0;
}

static void bench_depth(uint32_t depth)
{
	struct bstore c;
	char buf[DOC_MAX], id[32];
	uint64_t t0, ts = 0, lo = 0;
	pitr_txn *t = NULL;
	size_t len;
	double one = 1e9, set = 1e9, deep = 1e9;
	const uint32_t rounds = 6, count = 40000; /* per round */
	char label[96];

	section("read cost vs history depth (pitr_doc_get at random T, "
		"1 read txn per 1000 gets, best of 6)");
	store_make(&c, "depth");
	/* `depth` documents of one version each, "m-shallow" among them. */
	for (uint32_t i = 0; i < depth; i++) {
		if (!t)
			CHECK(pitr_txn_begin(c.s, PITR_TXN_WRITE, &t));
		len = (size_t)sprintf(id, "s%07" PRIu32, i);
		len = doc_gen(buf, sizeof(buf), id, 900000 + i);
		CHECK(pitr_doc_put(t, c.ct, id, strlen(id), buf, len));
		if ((i + 1) % 100 == 0 || i + 1 == depth) {
			CHECK(pitr_txn_commit(t, &t0));
			t = NULL;
		}
	}
	CHECK(pitr_txn_begin(c.s, PITR_TXN_WRITE, &t));
	len = doc_gen(buf, sizeof(buf), "m-shallow", 1);
	CHECK(pitr_doc_put(t, c.ct, "m-shallow", 9, buf, len));
	CHECK(pitr_txn_commit(t, &t0));
	/* "m-deep": `depth` versions, one transaction each. */
	for (uint32_t v = 0; v < depth; v++) {
		CHECK(pitr_txn_begin(c.s, PITR_TXN_WRITE, &t));
		len = doc_gen(buf, sizeof(buf), "m-deep", 1000 + v);
		CHECK(pitr_doc_put(t, c.ct, "m-deep", 6, buf, len));
		CHECK(pitr_txn_commit(t, &ts));
		if (!v)
			lo = ts;
	}
	/* T uniform in [first version of m-deep, its last version]. */
	if (lo <= t0)
		die("clock: deep version not after the shallow one", EIO);
	for (uint32_t r = 0; r < rounds; r++) {
		one = min_d(one, get_at_random(&c, "m-shallow", 0, lo, ts,
					       count, 100 + r));
		deep = min_d(deep, get_at_random(&c, "m-deep", 0, lo, ts,
						 count, 200 + r));
		set = min_d(set, get_at_random(&c, NULL, depth, lo, ts, count,
					       300 + r));
	}
	line("one document with 1 version", 1e6 * one / count, "us/get",
	     "%.0f gets/s", count / one);
	snprintf(label, sizeof(label), "one document with %" PRIu32 " versions",
		 depth);
	line(label, 1e6 * deep / count, "us/get", "%.0f gets/s", count / deep);
	line("ratio deep/1-version", deep / one, "x",
	     "(one record, always in CPU cache, vs %" PRIu32 ")", depth);
	snprintf(label, sizeof(label),
		 "control: random doc of %" PRIu32 " with 1 version", depth);
	line(label, 1e6 * set / count, "us/get",
	     "same number of distinct records as the deep doc");
	line("ratio deep/control (should be ~1)", deep / set, "x", "%s",
	     deep / set < 1.25 ? "ok: history depth costs nothing measurable"
			       : "SLOWER WITH DEPTH");
	store_drop(&c);
}

static void bench_space(uint32_t ndocs, uint32_t rounds)
{
	struct bstore e;
	struct bodies b;
	pitr_info info;
	uint64_t raw = 0, lz = 0, versions = (uint64_t)ndocs * rounds;
	char lzbuf[LZ4_COMPRESSBOUND(DOC_MAX)];
	char label[96];

	section("space");
	store_make(&e, "space");
	for (uint32_t r = 0; r < rounds; r++) {
		bodies_make(&b, ndocs, 100 + r);
		raw += b.total;
		for (uint32_t i = 0; i < ndocs; i++)
			lz += (uint64_t)LZ4_compress_default(
				b.data + b.off[i], lzbuf, (int)b.len[i],
				(int)sizeof(lzbuf));
		put_all(&e, &b, 100, NULL);
		bodies_free(&b);
	}
	info_of(&e, &info);
	double per_raw = (double)raw / versions;
	double per_disk = (double)info.disk_bytes / versions;
	double per_used = (double)info.used_bytes / versions;
	printf("  (%" PRIu32 " docs x %" PRIu32 " versions = %" PRIu64
	       " versions, 100 docs/txn; %" PRIu64 " mutations logged)\n",
	       ndocs, rounds, versions, info.mutations);
	line("raw JSON per version", per_raw, "B", NULL);
	line("lz4 of the JSON alone per version", (double)lz / versions, "B",
	     "%.2f of raw", (double)lz / raw);
	line("used bytes (LMDB pages) per version", per_used, "B",
	     "%.2f of raw", per_used / per_raw);
	line("  store overhead beyond lz4 per version", per_used -
	     (double)lz / versions, "B", "(log header, version and live "
	     "entries, page slack)");
	snprintf(label, sizeof(label), "disk bytes per version (%.1f MB on disk)",
		 info.disk_bytes / 1e6);
	line(label, per_disk, "B", "%.2f of raw; target <= 1.0 KB per 1 KB "
	     "version: %s", per_disk / per_raw,
	     per_disk <= per_raw ? "met" : "NOT MET");
	store_drop(&e);
}

int main(int argc, char **argv)
{
	uint32_t n = 100000, depth = 10000;
	struct stat st;
	double t0 = now_s();

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: store_bench DIR [NDOCS [DEPTH]]\n");
		return 2;
	}
	base = argv[1];
	if (stat(base, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "store_bench: %s: not a directory\n", base);
		return 2;
	}
	if (argc > 2)
		n = (uint32_t)strtoul(argv[2], NULL, 10);
	if (argc > 3)
		depth = (uint32_t)strtoul(argv[3], NULL, 10);
	if (n < 100 || depth < 2) {
		fprintf(stderr, "store_bench: NDOCS >= 100, DEPTH >= 2\n");
		return 2;
	}
	printf("== core (libpitr, no FUSE): stores in %s, durable commits ==\n",
	       base);
	bench_puts_gets(n);
	bench_depth(depth);
	bench_space(n / 10, 10);
	printf("\n (core benchmark: %.1f s)\n", now_s() - t0);
	return 0;
}
