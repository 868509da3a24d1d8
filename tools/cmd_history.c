/*
 * cmd_history.c - finding a restore point: pitr events and pitr log.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static int by_time(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->m.ts != y->m.ts)
		return x->m.ts < y->m.ts ? -1 : 1;
	/* at one instant (a rename), the delete comes first */
	int xd = x->m.op == PITR_OP_DB_DELETE || x->m.op == PITR_OP_CT_DELETE;
	int yd = y->m.op == PITR_OP_DB_DELETE || y->m.op == PITR_OP_CT_DELETE;
	return yd - xd;
}

/* Name each container event's database as a restore at that instant
 * names it (core's namer). */
static int name_databases(pitr_txn *t, struct list *l)
{
	pitr_namer *nm;
	const char *name;
	size_t len;
	int rc = pitr_namer_new(t, &nm);

	if (rc)
		return rc;
	for (size_t i = 0; i < l->n; i++) {
		struct item *it = &l->v[i];
		if (it->m.parent &&
		    pitr_namer_name(nm, it->m.parent, it->m.ts, &name, &len) ==
			0) {
			memcpy(it->db, name, len);
			it->db[len] = 0;
		}
	}
	pitr_namer_free(nm);
	return 0;
}

/*
 * pitr events
 */

static const char events_usage[] =
    "usage: pitr events STORE [--database DB] [--container C] [--gap D]\n"
    "                         [--since T] [--until T] [--json]\n"
    "       pitr events STORE --bulk [--gap D] [--min N] [--database DB]\n"
    "                         [--container C] [--since T] [--until T]\n"
    "                         [--json]\n"
    "\n"
    "List creates and deletes of databases and containers, oldest first,\n"
    "with their incarnation ids: to pick a time just before an accident.\n"
    "A container's database is named as it was at the event, as a restore\n"
    "at that instant names it. For a container's delete, LAST-FULL is the\n"
    "instant just before the run of document deletes that ended in it\n"
    "began (rm -r), whatever else was written meanwhile; for a database's,\n"
    "just before the deletes of its containers and their documents.\n"
    "\n"
    "With --bulk, list the bulk changes instead: runs of deletes or of\n"
    "replaces in one container (an rm -r, a sed -i), whatever else wrote\n"
    "meanwhile, and dropped databases; each with BEFORE, the instant just\n"
    "before it began, the documents it touched, and the command that\n"
    "restores that state into a new account (with --json also \"undo\",\n"
    "the pitr undo command that brings a container back in place).\n"
    "\n"
    "  --database DB   only events of database DB\n"
    "  --container C   only events of containers named C\n"
    "  --since T       only events at or after T\n"
    "  --until T       only events at or before T\n"
    "  --bulk          bulk changes instead of creates and deletes\n"
    "  --gap D         a run ends after D without one of its kind (10s);\n"
    "                  LAST-FULL: the deletes before a container's or\n"
    "                  database's delete, each within D of the next\n"
    "  --min N         report runs of at least N documents (10); a run that\n"
    "                  ends in its container's delete is always reported\n"
    "  --json          one JSON object per line\n";

/* Is l->v[i], a delete, half of a rename (a create of the same
 * incarnation at the same instant, which by_time puts next)? */
static int is_rename(const struct list *l, size_t i)
{
	return i + 1 < l->n && l->v[i + 1].m.ts == l->v[i].m.ts &&
	       l->v[i + 1].m.inc == l->v[i].m.inc;
}

/*
 * The instant just before the deletes that emptied what the delete
 * l->v[i] removed began: for a container, the run of document deletes
 * that ended in it; for a database (rm -r of it), the chain of its
 * containers' deletes and their runs before it, each within `gap` of the
 * next. 0 when there is none.
 */
static uint64_t last_full(pitr_txn *t, const struct list *l, size_t i,
			  uint64_t gap)
{
	const pitr_mutation *m = &l->v[i].m;
	uint64_t start = m->ts, first;

	if (is_rename(l, i))
		return 0;
	if (m->op == PITR_OP_CT_DELETE)
		return pitr_ct_delete_run(t, m->inc, m->ts, gap, &first,
					  NULL) == 0
			   ? first - 1
			   : 0;
	if (m->op != PITR_OP_DB_DELETE)
		return 0;
	for (size_t j = i; j-- > 0;) {
		const pitr_mutation *c = &l->v[j].m;
		if (c->ts < start && start - c->ts > gap)
			break;
		if (c->op != PITR_OP_CT_DELETE || c->parent != m->inc ||
		    is_rename(l, j))
			continue;
		start = c->ts;
		if (pitr_ct_delete_run(t, c->inc, c->ts, gap, &first, NULL) ==
			0 &&
		    first < start)
			start = first;
	}
	return start < m->ts ? start - 1 : 0;
}

int cmd_events(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "database", required_argument, NULL, 'd' },
		{ "container", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "bulk", no_argument, NULL, 'b' },
		{ "gap", required_argument, NULL, 'g' },
		{ "min", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *ct = NULL, *since = NULL, *until = NULL;
	uint64_t gap = 10 * PITR_NS_PER_SEC, min = 10;
	int bulk = 0;
	char *end;
	uint64_t from = 0, to = UINT64_MAX;
	struct list l = { 0 };
	char tbuf[PITR_TIME_LEN];
	pitr_store *s;
	pitr_txn *t = NULL;
	int c, json = 0, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'c':
			ct = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'b':
			bulk = 1;
			break;
		case 'g':
			if (parse_duration_opt("--gap", optarg, &gap))
				return 2;
			break;
		case 'm':
			errno = 0;
			min = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-' ||
			    min == 0) {
				warnx("invalid --min '%s': use a number of "
				      "documents, at least 1",
				      optarg);
				return 2;
			}
			break;
		case 'h':
			return usage_exit(events_usage, 1);
		default:
			return usage_exit(events_usage, 0);
		}
	}
	if (optind + 1 != argc)
		return usage_exit(events_usage, 0);
	s = open_reader(argv[optind]);
	if (!s)
		return 1;
	if ((since && (rc = parse_any_instant(s, since, &from))) ||
	    (until && (rc = parse_any_instant(s, until, &to)))) {
		pitr_store_close(s);
		return rc;
	}
	if (bulk) {
		rc = events_bulk(s, argv[optind], db, ct, from, to, gap, min,
				 json);
		pitr_store_close(s);
		return rc;
	}
	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (!rc)
		rc = pitr_catalog_walk(t, collect, &l);
	if (!rc)
		rc = name_databases(t, &l);
	if (rc) {
		warnx("cannot read events of '%s': %s", argv[optind],
		      pitr_strerror(rc));
		goto out;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_time);
	if (!json)
		printf("%-30s  %-16s  %-20s  %-20s  %-11s  %s\n", "TIME",
		       "EVENT", "DATABASE", "CONTAINER", "INCARNATION",
		       "LAST-FULL");
	for (size_t i = 0; i < l.n; i++) {
		struct item *it = &l.v[i];
		int is_ct = it->m.parent != 0;
		const char *dbname = is_ct ? it->db : it->name;
		if (it->m.ts < from || it->m.ts > to ||
		    (db && strcmp(db, dbname)) ||
		    (ct && (!is_ct || strcmp(ct, it->name))))
			continue;
		pitr_time_format(it->m.ts, tbuf);
		/* A container or database emptied before its delete (rm
		 * -r): the instant to restore. */
		uint64_t full = last_full(t, &l, i, gap);
		char fbuf[PITR_TIME_LEN] = "-";
		if (full)
			pitr_time_format(full, fbuf);
		if (json) {
			printf(
			    "{\"time\":\"%s\",\"event\":\"%s\",\"database\":",
			    tbuf, catalog_event(it->m.op));
			json_string(stdout, dbname, strlen(dbname));
			if (is_ct) {
				printf(",\"container\":");
				json_string(stdout, it->name, strlen(it->name));
				printf(",\"database_incarnation\":%" PRIu64,
				       it->m.parent);
			}
			printf(",\"incarnation\":%" PRIu64, it->m.inc);
			if (full)
				printf(",\"last_full\":\"%s\"", fbuf);
			printf("}\n");
		} else {
			printf("%-30s  %-16s  ", tbuf, catalog_event(it->m.op));
			print_cell(stdout, dbname, strlen(dbname), 20);
			printf("  ");
			if (is_ct)
				print_cell(stdout, it->name, strlen(it->name),
					   20);
			else
				printf("%-20s", "-");
			printf("  %-11" PRIu64 "  %s\n", it->m.inc, fbuf);
		}
	}
out:
	pitr_txn_abort(t);
	free(l.v);
	pitr_store_close(s);
	return rc ? 1 : 0;
}

/*
 * pitr log
 */

static const char log_usage[] =
    "usage: pitr log STORE DB/C/ID.json [--since T] [--until T] [--json]\n"
    "       pitr log STORE DB[/C] [--every D | --full] [--since T]\n"
    "                [--until T] [--json]\n"
    "\n"
    "List every version of one document, oldest first, in every\n"
    "incarnation of its database and container, deletes included.\n"
    "\n"
    "For a container (DB/C) or a database (DB), its timeline: the mutations\n"
    "of every document in every incarnation of that name, oldest first,\n"
    "summed per interval: the documents at the interval's end, the creates,\n"
    "replaces and deletes, the bytes written, and the events (creates and\n"
    "deletes of containers and databases). With --full, every mutation.\n"
    "\n"
    "  --every D   the summary's interval (default 1m), e.g. 1s, 10m, 1h\n"
    "  --full      every mutation instead of a summary\n"
    "  --since T   from T on\n"
    "  --until T   up to T\n"
    "  --json      one JSON object per line\n";

/* Every incarnation ever named `name` under `parent`. */
static int incarnations(pitr_txn *t, uint64_t parent, const char *name,
			size_t len, struct list *out)
{
	struct list all = { 0 };
	int rc = pitr_name_walk(t, parent, name, len, collect, &all);

	for (size_t i = 0; !rc && i < all.n; i++) {
		int seen = 0;
		if (all.v[i].m.op != PITR_OP_DB_CREATE &&
		    all.v[i].m.op != PITR_OP_CT_CREATE)
			continue;
		for (size_t j = 0; j < out->n; j++)
			seen |= out->v[j].m.inc == all.v[i].m.inc;
		if (!seen && !list_push(out, &all.v[i].m))
			rc = ENOMEM;
	}
	free(all.v);
	return rc;
}

int cmd_log(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "every", required_argument, NULL, 'e' },
		{ "full", no_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct timeline_opts o = { .until = UINT64_MAX,
				   .every = 60 * PITR_NS_PER_SEC };
	const char *since = NULL, *until = NULL;
	int every = 0;
	struct list dbs = { 0 }, cts = { 0 }, vers = { 0 };
	char tbuf[PITR_TIME_LEN], sz[16];
	struct split sp;
	pitr_store *s;
	pitr_txn *t;
	int c, json = 0, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'e':
			if (parse_duration_opt("--every", optarg, &o.every))
				return 2;
			every = 1;
			break;
		case 'f':
			o.full = 1;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'h':
			return usage_exit(log_usage, 1);
		default:
			return usage_exit(log_usage, 0);
		}
	}
	if (optind + 2 != argc)
		return usage_exit(log_usage, 0);
	const char *path = argv[optind + 1];
	size_t plen = strlen(path);
	if (every && o.full) {
		warnx("--every and --full exclude each other");
		return 2;
	}
	if (!split_path(path, &sp) && sp.depth < 3) {
		o.json = json;
		s = open_reader(argv[optind]);
		if (!s)
			return 1;
		if ((since && parse_any_instant(s, since, &o.since)) ||
		    (until && parse_any_instant(s, until, &o.until))) {
			pitr_store_close(s);
			return 2;
		}
		rc = log_timeline(s, path, &sp, &o);
		pitr_store_close(s);
		return rc;
	}
	if (every || o.full) {
		warnx("--every and --full are for a container or a database");
		return 2;
	}
	char *doc = strndup(path, plen > 5 && !strcmp(path + plen - 5, ".json")
				      ? plen - 5
				      : plen);
	if (!doc || split_path(doc, &sp) || sp.depth != 3) {
		warnx("invalid path '%s': use DB, DB/CONTAINER or "
		      "DB/CONTAINER/ID.json",
		      path);
		free(doc);
		return 2;
	}
	s = open_reader(argv[optind]);
	if (!s) {
		free(doc);
		return 1;
	}
	if ((since && parse_any_instant(s, since, &o.since)) ||
	    (until && parse_any_instant(s, until, &o.until))) {
		pitr_store_close(s);
		free(doc);
		return 2;
	}
	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (!rc)
		rc = incarnations(t, 0, sp.db, sp.dblen, &dbs);
	for (size_t i = 0; !rc && i < dbs.n; i++)
		rc = incarnations(t, dbs.v[i].m.inc, sp.ct, sp.ctlen, &cts);
	for (size_t i = 0; !rc && i < cts.n; i++) {
		size_t first = vers.n;
		rc = pitr_doc_walk(t, cts.v[i].m.inc, sp.id, sp.idlen, collect,
				   &vers);
		for (size_t j = first; j < vers.n; j++)
			vers.v[j].m.inc = cts.v[i].m.inc;
	}
	pitr_txn_abort(t);
	if (!rc && !vers.n) {
		warnx("no version of '%s' in '%s'", path, argv[optind]);
		rc = 1;
	} else if (rc) {
		warnx("cannot read history of '%s': %s", path,
		      pitr_strerror(rc));
	}
	if (!json && !rc)
		printf("%-30s  %-7s  %10s  %-16s  %s\n", "TIME", "OP", "SIZE",
		       "ETAG", "CONTAINER-INCARNATION");
	/* Versions of one incarnation are in order; incarnations are too. */
	for (size_t i = 0; !rc && i < vers.n; i++) {
		const pitr_mutation *m = &vers.v[i].m;
		int first = i == 0 || vers.v[i - 1].m.inc != m->inc ||
			    vers.v[i - 1].m.op == PITR_OP_DOC_DELETE;
		const char *op = m->op == PITR_OP_DOC_DELETE ? "delete"
				 : first		     ? "create"
							     : "replace";
		if (m->ts < o.since || m->ts > o.until)
			continue;
		pitr_time_format(m->ts, tbuf);
		if (json)
			printf(
			    "{\"time\":\"%s\",\"op\":\"%s\",\"size\":%" PRIu32
			    ",\"etag\":\"%016" PRIx64
			    "\",\"container_incarnation\":%" PRIu64 "}\n",
			    tbuf, op, m->size, m->etag, m->inc);
		else if (m->op == PITR_OP_DOC_DELETE)
			printf("%-30s  %-7s  %10s  %-16s  %" PRIu64 "\n", tbuf,
			       op, "-", "-", m->inc);
		else
			printf(
			    "%-30s  %-7s  %10s  %016" PRIx64 "  %" PRIu64 "\n",
			    tbuf, op, human_size(m->size, sz), m->etag, m->inc);
	}
	free(dbs.v);
	free(cts.v);
	free(vers.v);
	free(doc);
	pitr_store_close(s);
	return rc ? 1 : 0;
}
