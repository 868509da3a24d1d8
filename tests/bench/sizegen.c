/*
 * sizegen.c - the history-size benchmark's two helpers.
 *
 *   sizegen write DIR N ROUND   write the state of round ROUND of N
 *                               documents under DIR (five containers:
 *                               orders, users, events, products, notes),
 *                               one file per document, each written whole
 *                               (open, write, close). Round 0 creates them;
 *                               each later round changes a few fields of
 *                               every document: a status, updated_at and a
 *                               counter, as an application's edits would.
 *   sizegen pages STORE         the bytes of the pages a store's tables use
 *                               (branch, leaf and overflow pages of every
 *                               named table and of the main table, and the
 *                               sub-databases of a table of items, which
 *                               no MDB_stat counts: the file's pages less
 *                               the free ones, the free list's and the
 *                               rest), times the page size: its size as a
 *                               compacting copy would write it, minus the
 *                               free pages.
 *   sizegen tables STORE        the same per table: "NAME BYTES ENTRIES"
 *                               lines, then the total.
 *
 * Documents are deterministic: the same (N, ROUND) gives the same bytes.
 * Exit status 0, or 1 with a message on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docgen.h"

static const char *const kinds[] = { "orders", "users", "events", "products",
				     "notes" };

struct state {
	unsigned round;
	uint64_t base; /* the document's own seed */
};

/* The fields an edit changes: a status, updated_at, a counter. */
static const char *status_at(const struct state *st, const char *const *v,
			     unsigned n)
{
	uint64_t s = st->base ^ (st->round * 0x9e37ull);

	return v[st->round == 0 ? st->base % n : doc_below(&s, n)];
}

static void stamp(char *buf, size_t size, const struct state *st)
{
	uint64_t s = st->base;
	unsigned day = 1 + doc_below(&s, 28), h = doc_below(&s, 24);
	unsigned m = (doc_below(&s, 60) + st->round * 7) % 60;

	snprintf(buf, size, "2026-11-%02uT%02u:%02u:%02u.%03uZ", day,
		 (h + st->round) % 24, m, (st->round * 13) % 60,
		 (unsigned)((st->base + st->round) % 1000));
}

/* Free text of skewed words up to about `target` bytes in all. */
static void text(struct doc_buf *b, uint64_t *s, size_t target)
{
	for (int first = 1; b->len + 12 < target && b->len + 16 < b->cap;
	     first = 0)
		doc_add(b, "%s%s", first ? "" : " ", doc_word(s));
}

static size_t gen(char *buf, size_t cap, int kind, unsigned i,
		  const struct state *st)
{
	static const char *const ost[] = { "placed", "paid", "shipped",
					   "delivered", "returned" };
	static const char *const ust[] = { "active", "pending", "suspended",
					   "closed" };
	static const char *const est[] = { "new", "acked", "resolved",
					   "muted" };
	static const char *const pst[] = { "draft", "listed", "out_of_stock",
					   "retired" };
	static const char *const nst[] = { "draft", "shared", "archived" };
	struct doc_buf b = { buf, 0, cap };
	uint64_t s = st->base;
	size_t target = 900 + doc_below(&s, 250);
	char when[40];
	unsigned n;

	stamp(when, sizeof(when), st);
	switch (kind) {
	case 0:
		doc_add(&b, "{\"order_id\":\"ORD-%07u\",\"customer_id\":\"CUS-%06u\","
			    "\"status\":\"%s\",\"currency\":\"EUR\",\"items\":[",
			i, doc_below(&s, 1000000), status_at(st, ost, 5));
		n = 2 + doc_below(&s, 3);
		for (unsigned j = 0; j < n; j++) {
			doc_add(&b, "%s{\"sku\":\"%c%c-%04u\",\"name\":\"",
				j ? "," : "", 'A' + doc_below(&s, 26),
				'A' + doc_below(&s, 26), doc_below(&s, 10000));
			doc_add_cap(&b, &s);
			doc_add(&b, " %s\",\"qty\":%u,\"unit_price\":%u.%02u}",
				doc_word(&s), 1 + doc_below(&s, 9),
				doc_below(&s, 500), doc_below(&s, 100));
		}
		doc_add(&b, "],\"shipping\":{\"street\":\"%u ",
			1 + doc_below(&s, 9999));
		doc_add_cap(&b, &s);
		doc_add(&b, " Street\",\"city\":\"");
		doc_add_cap(&b, &s);
		doc_add(&b, "\",\"zip\":\"%05u\",\"country\":\"%s\"}",
			doc_below(&s, 100000), doc_countries[doc_below(&s, 10)]);
		break;
	case 1:
		doc_add(&b, "{\"user_id\":\"USR-%06u\",\"name\":\"", i);
		doc_add_cap(&b, &s);
		doc_add(&b, " ");
		doc_add_cap(&b, &s);
		doc_add(&b, "\",\"email\":\"%s.%s%u@%s.example\",\"status\":\"%s\","
			    "\"roles\":[\"%s\",\"%s\"],\"locale\":\"%s\"",
			doc_word(&s), doc_word(&s), doc_below(&s, 1000),
			doc_word(&s), status_at(st, ust, 4),
			doc_below(&s, 2) ? "admin" : "member", doc_word(&s),
			doc_countries[doc_below(&s, 10)]);
		doc_add(&b, ",\"preferences\":{\"newsletter\":%s,\"theme\":\"%s\","
			    "\"timezone\":\"UTC+%u\"}",
			doc_below(&s, 2) ? "true" : "false",
			doc_below(&s, 2) ? "dark" : "light", doc_below(&s, 12));
		break;
	case 2:
		doc_add(&b, "{\"event_id\":\"EVT-%08u\",\"source\":\"%s-%s\","
			    "\"severity\":\"%s\",\"status\":\"%s\","
			    "\"host\":\"%s-%02u.%s.internal\",\"payload\":{"
			    "\"path\":\"/api/v1/%s/%u\",\"latency_ms\":%u,"
			    "\"code\":%u}",
			i, doc_word(&s), doc_word(&s),
			doc_below(&s, 2) ? "warning" : "info",
			status_at(st, est, 4), doc_word(&s), doc_below(&s, 40),
			doc_word(&s), doc_word(&s), doc_below(&s, 100000),
			doc_below(&s, 3000), 200 + doc_below(&s, 400));
		break;
	case 3:
		doc_add(&b, "{\"sku\":\"%c%c-%05u\",\"title\":\"",
			'A' + doc_below(&s, 26), 'A' + doc_below(&s, 26), i);
		doc_add_cap(&b, &s);
		doc_add(&b, " %s %s\",\"status\":\"%s\",\"price\":%u.%02u,"
			    "\"dimensions\":{\"w\":%u,\"h\":%u,\"d\":%u},"
			    "\"tags\":[\"%s\",\"%s\",\"%s\"]",
			doc_word(&s), doc_word(&s), status_at(st, pst, 4),
			doc_below(&s, 900), doc_below(&s, 100),
			doc_below(&s, 200), doc_below(&s, 200),
			doc_below(&s, 200), doc_word(&s), doc_word(&s),
			doc_word(&s));
		break;
	default:
		doc_add(&b, "{\"note_id\":\"NOTE-%06u\",\"author\":\"USR-%06u\","
			    "\"status\":\"%s\",\"title\":\"",
			i, doc_below(&s, 1000000), status_at(st, nst, 3));
		doc_add_cap(&b, &s);
		doc_add(&b, " %s\"", doc_word(&s));
		break;
	}
	doc_add(&b, ",\"created_at\":\"2026-10-%02uT%02u:%02u:00Z\","
		    "\"updated_at\":\"%s\",\"revision\":%u,\"views\":%u,"
		    "\"description\":\"",
		1 + (unsigned)(st->base % 28), (unsigned)(st->base % 24),
		(unsigned)(st->base % 60), when, st->round + 1,
		(unsigned)(st->base % 500) + st->round * 3);
	text(&b, &s, target);
	doc_add(&b, "\"}");
	return b.len < cap ? b.len : cap;
}

static int write_all(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return errno;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			return e;
		}
		p += w;
		n -= (size_t)w;
	}
	return close(fd) ? errno : 0;
}

static int cmd_write(const char *dir, unsigned n, unsigned round)
{
	char path[4096], buf[DOC_MAX];

	for (int k = 0; k < 5; k++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kinds[k]);
		if (mkdir(path, 0755) && errno != EEXIST) {
			fprintf(stderr, "sizegen: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		int k = (int)(i % 5);
		struct state st = { round, i * 0x100000001b3ull + 7 };
		size_t len = gen(buf, sizeof(buf), k, i, &st);
		int e;

		snprintf(path, sizeof(path), "%s/%s/%s-%06u.json", dir,
			 kinds[k], kinds[k], i);
		if ((e = write_all(path, buf, len))) {
			fprintf(stderr, "sizegen: %s: %s\n", path, strerror(e));
			return 1;
		}
	}
	return 0;
}

static size_t db_pages(const MDB_stat *st)
{
	return st->ms_branch_pages + st->ms_leaf_pages + st->ms_overflow_pages;
}

/* The free pages a read transaction sees; the free list's own in *list. */
static size_t free_pages(MDB_txn *txn, size_t *list)
{
	MDB_cursor *c;
	MDB_val k, v;
	MDB_stat st;
	size_t n = 0;

	*list = mdb_stat(txn, 0, &st) == 0 ? db_pages(&st) : 0;
	if (mdb_cursor_open(txn, 0, &c))
		return 0;
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0)
		if (v.mv_size >= sizeof(size_t))
			n += *(const size_t *)v.mv_data; /* an IDL: its count */
	mdb_cursor_close(c);
	return n;
}

static int cmd_pages(const char *store, int each)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi main, dbi;
	MDB_cursor *c;
	MDB_val key, val;
	MDB_stat st;
	size_t pages, psize;
	char name[512];
	int rc;

	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 32)) ||
	    (rc = mdb_env_set_mapsize(env, (size_t)1 << 36)) ||
	    (rc = mdb_env_open(env, store, MDB_RDONLY, 0)) ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &main)) ||
	    (rc = mdb_stat(txn, main, &st))) {
		fprintf(stderr, "sizegen: %s: %s\n", store, mdb_strerror(rc));
		return 1;
	}
	psize = st.ms_psize;
	pages = db_pages(&st) + 2; /* the two meta pages */
	/* the sub-databases' pages: what the file uses beyond the rest */
	MDB_envinfo info;
	size_t list = 0, used = 0, sub = 0;
	if (mdb_env_info(env, &info) == 0)
		used = info.me_last_pgno + 1 - free_pages(txn, &list);
	struct table {
		char name[512];
		size_t pages, entries;
		int items;
	} t[32];
	int n = 0;
	rc = mdb_cursor_open(txn, main, &c);
	while (!rc && !(rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))) {
		unsigned flags = 0;
		if (key.mv_size >= sizeof(name) || n == 32)
			continue;
		memcpy(name, key.mv_data, key.mv_size);
		name[key.mv_size] = 0;
		if (mdb_dbi_open(txn, name, 0, &dbi) == 0 &&
		    mdb_stat(txn, dbi, &st) == 0) {
			pages += db_pages(&st);
			mdb_dbi_flags(txn, dbi, &flags);
			snprintf(t[n].name, sizeof(t[n].name), "%s", name);
			t[n].pages = db_pages(&st);
			t[n].entries = st.ms_entries;
			t[n++].items = (flags & MDB_DUPSORT) != 0;
		}
	}
	if (used > pages + list)
		sub = used - pages - list;
	pages += sub;
	for (int i = 0; i < n; i++) {
		/* one table of items (versions) holds every sub-database */
		if (t[i].items) {
			t[i].pages += sub;
			sub = 0;
		}
		if (each)
			printf("%s %zu %zu\n", t[i].name, t[i].pages * psize,
			       t[i].entries);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	printf("%zu\n", pages * psize);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "write"))
		return cmd_write(argv[2], (unsigned)strtoul(argv[3], NULL, 10),
				 (unsigned)strtoul(argv[4], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "pages"))
		return cmd_pages(argv[2], 0);
	if (argc == 3 && !strcmp(argv[1], "tables"))
		return cmd_pages(argv[2], 1);
	fprintf(stderr, "usage: sizegen write DIR N ROUND | sizegen pages|tables "
			"STORE\n");
	return 1;
}
