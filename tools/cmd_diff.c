/*
 * cmd_diff.c - pitr diff: what changed between two instants, each path
 * named as it was at each of them (across renames and incarnations).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char diff_usage[] =
    "usage: pitr diff STORE T1 T2 [DB[/C]] [--json]\n"
    "\n"
    "List documents added, changed and deleted from the state at T1 to\n"
    "the state at T2 (T2 may be the earlier). Reads only the mutations\n"
    "between them. Paths are named as they were at each instant: a\n"
    "document whose database or container was renamed between them shows\n"
    "both paths (OLD -> NEW); when a path names another incarnation at the\n"
    "other instant (deleted and created again), the incarnation is shown.\n"
    "DB[/C] keeps what was so named at T1 or at T2.\n"
    "\n"
    "  --json     one JSON object per line: change, database, container,\n"
    "             id (as named at T2, or at T1 for a delete), from and to\n"
    "             (the paths at T1 and T2, null where it did not exist),\n"
    "             incarnation (the container's), reincarnated\n";

static int by_doc(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->m.parent != y->m.parent)
		return x->m.parent < y->m.parent ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int collect_docs(const pitr_mutation *m, void *arg)
{
	if (m->op != PITR_OP_DOC_PUT && m->op != PITR_OP_DOC_DELETE)
		return 0;
	return list_push(arg, m) ? 0 : ENOMEM;
}

/* What a DB[/C] filter names at each of two instants: incarnations of
 * databases (depth 1) or containers (depth 2); 0 where it named none. */
struct filter {
	int depth;
	uint64_t inc[2];
};

/* Resolve the filter at t1 and t2; 0 if it named nothing at either. */
static int filter_resolve(pitr_txn *t, const struct split *sp, uint64_t t1,
			  uint64_t t2, struct filter *f)
{
	uint64_t at[2] = { t1, t2 }, db, ct;

	f->depth = sp->depth;
	for (int i = 0; i < 2; i++) {
		f->inc[i] = 0;
		if (pitr_db_lookup(t, at[i], sp->db, sp->dblen, &db))
			continue;
		if (sp->depth < 2)
			f->inc[i] = db;
		else if (pitr_ct_lookup(t, at[i], db, sp->ct, sp->ctlen, &ct) ==
			 0)
			f->inc[i] = ct;
	}
	return f->inc[0] || f->inc[1];
}

/* Does a document of container `ct` (in database `db`) pass? */
static int filter_passes(const struct filter *f, uint64_t ct, uint64_t db)
{
	uint64_t inc = f->depth == 2 ? ct : db;

	return !f->depth || (inc && (inc == f->inc[0] || inc == f->inc[1]));
}

/* A document's path at one instant: its container's and database's
 * names then (core's names at instants). */
struct dpath {
	char db[PITR_NAME_MAX + 1], ct[PITR_NAME_MAX + 1];
	uint64_t dbinc;
};

static int name_copy_at(pitr_namer *nm, uint64_t inc, uint64_t at, char *out)
{
	const char *n;
	size_t len;

	if (pitr_namer_name(nm, inc, at, &n, &len) || len > PITR_NAME_MAX)
		return -1;
	memcpy(out, n, len);
	out[len] = 0;
	return 0;
}

static int path_at(pitr_txn *t, pitr_namer *nm, uint64_t ct, uint64_t at,
		   struct dpath *p)
{
	pitr_inc_info ci;

	if (pitr_inc_get(t, ct, &ci))
		return -1;
	p->dbinc = ci.parent;
	if (name_copy_at(nm, ct, at, p->ct) ||
	    name_copy_at(nm, p->dbinc, at, p->db))
		return -1;
	return 0;
}

/* Does the path name another container incarnation than `ct` at `at`? */
static int reincarnated(pitr_txn *t, const struct dpath *p, uint64_t ct,
			uint64_t at)
{
	uint64_t db, other;

	return pitr_db_lookup(t, at, p->db, strlen(p->db), &db) == 0 &&
	       pitr_ct_lookup(t, at, db, p->ct, strlen(p->ct), &other) == 0 &&
	       other != ct;
}

static void json_path(const struct dpath *p, const struct item *it, int ok)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!ok || !(f = open_memstream(&buf, &len))) {
		printf("null");
		return;
	}
	fprintf(f, "%s/%s/", p->db, p->ct);
	fwrite(it->name, 1, it->m.namelen, f);
	fputs(".json", f);
	if (fclose(f)) {
		free(buf);
		printf("null");
		return;
	}
	json_string(stdout, buf, len);
	free(buf);
}

static void print_path(const struct dpath *p, const struct item *it)
{
	print_cell(stdout, p->db, strlen(p->db), 0);
	putchar('/');
	print_cell(stdout, p->ct, strlen(p->ct), 0);
	putchar('/');
	print_cell(stdout, it->name, it->m.namelen, 0);
	printf(".json");
}

int cmd_diff(int argc, char *argv[])
{
	const char *pos[4];
	struct list l = { 0 };
	pitr_namer *nm = NULL;
	uint64_t t1, t2;
	struct split sp = { 0 };
	struct filter f = { 0 };
	pitr_store *s;
	pitr_txn *t = NULL;
	int npos = 0, json = 0, rc;

	/* By hand, not getopt: relative times such as -5m are operands. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage_exit(diff_usage, 1);
		else if (argv[i][0] == '-' &&
			 !(argv[i][1] >= '0' && argv[i][1] <= '9'))
			return usage_exit(diff_usage, 0);
		else if (npos < 4)
			pos[npos++] = argv[i];
		else
			return usage_exit(diff_usage, 0);
	}
	if (npos < 3)
		return usage_exit(diff_usage, 0);
	if (npos == 4 && (split_path(pos[3], &sp) || sp.depth > 2)) {
		warnx("invalid filter '%s': use DB or DB/CONTAINER", pos[3]);
		return 2;
	}
	s = open_reader(pos[0]);
	if (!s)
		return 1;
	if ((rc = parse_instant(s, pos[1], &t1)) ||
	    (rc = parse_instant(s, pos[2], &t2))) {
		pitr_store_close(s);
		return rc;
	}
	/* From the state at T1 to the state at T2, whichever is earlier. */
	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (!rc && sp.depth >= 1 && !filter_resolve(t, &sp, t1, t2, &f)) {
		char a[PITR_TIME_LEN], b[PITR_TIME_LEN];
		pitr_time_format(t1, a);
		pitr_time_format(t2, b);
		warnx("'%s' did not exist at %s nor at %s", pos[3], a, b);
		pitr_txn_abort(t);
		pitr_store_close(s);
		return 1;
	}
	if (!rc)
		rc = pitr_log_walk(t, t1 < t2 ? t1 : t2, t1 < t2 ? t2 : t1,
				   collect_docs, &l);
	if (!rc)
		rc = pitr_namer_new(t, &nm);
	if (rc) {
		warnx("cannot read the log of '%s': %s", pos[0],
		      pitr_strerror(rc));
		goto out;
	}
	if (l.n) /* qsort of NULL is undefined, even of nothing */
		qsort(l.v, l.n, sizeof(*l.v), by_doc);
	for (size_t i = 0; i < l.n; i++) {
		struct item *it = &l.v[i];
		pitr_version a, b;
		if (i && !by_doc(it, it - 1))
			continue; /* one line per document */
		int had = pitr_doc_stat(t, it->m.parent, it->name,
					it->m.namelen, t1, &a) == 0;
		int has = pitr_doc_stat(t, it->m.parent, it->name,
					it->m.namelen, t2, &b) == 0;
		const char *change = had && has
					 ? (a.etag != b.etag ? "changed" : NULL)
				     : had ? "deleted"
				     : has ? "added"
					   : NULL;
		struct dpath p1, p2;
		if (!change)
			continue;
		/* the paths at T1 and T2 (where it existed) */
		int ok1 = had && !path_at(t, nm, it->m.parent, t1, &p1);
		int ok2 = has && !path_at(t, nm, it->m.parent, t2, &p2);
		if (!ok1 && !ok2)
			continue; /* its names were pruned */
		const struct dpath *p = ok2 ? &p2 : &p1;
		if (!filter_passes(&f, it->m.parent, p->dbinc) &&
		    !(ok1 && filter_passes(&f, it->m.parent, p1.dbinc)))
			continue;
		int renamed = ok1 && ok2 &&
			      (strcmp(p1.db, p2.db) || strcmp(p1.ct, p2.ct));
		/* the same path names another incarnation at the other
		 * instant: deleted and created again between them */
		int reinc = ok2 ? reincarnated(t, &p2, it->m.parent, t1)
				: reincarnated(t, &p1, it->m.parent, t2);
		if (json) {
			printf("{\"change\":\"%s\",\"database\":", change);
			json_string(stdout, p->db, strlen(p->db));
			printf(",\"container\":");
			json_string(stdout, p->ct, strlen(p->ct));
			printf(",\"id\":");
			json_string(stdout, it->name, it->m.namelen);
			printf(",\"from\":");
			json_path(&p1, it, ok1);
			printf(",\"to\":");
			json_path(&p2, it, ok2);
			printf(",\"incarnation\":%" PRIu64
			       ",\"reincarnated\":%s}\n",
			       it->m.parent, reinc ? "true" : "false");
		} else {
			printf("%-8s ", change);
			print_path(ok1 ? &p1 : &p2, it);
			if (renamed) {
				printf(" -> ");
				print_path(&p2, it);
			}
			if (reinc)
				printf("  (incarnation %" PRIu64 ")",
				       it->m.parent);
			putchar('\n');
		}
	}
out:
	pitr_namer_free(nm);
	pitr_txn_abort(t);
	free(l.v);
	pitr_store_close(s);
	return rc ? 1 : 0;
}
