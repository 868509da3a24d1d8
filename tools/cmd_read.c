/*
 * cmd_read.c - reading an account without a mount: pitr ls, pitr cat.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char ls_usage[] =
    "usage: pitr ls STORE [DB[/C]] [--at T] [--json]\n"
    "\n"
    "List the databases of an account, the containers of DB, or the\n"
    "documents of DB/C, as they are now or as they were at T (inside the\n"
    "restorable window). Documents show their version's time, size and\n"
    "etag. Names are escaped in the table: control characters as \\xNN.\n"
    "\n"
    "  --at T     the instant to list (RFC 3339 or relative, e.g. -5m)\n"
    "  --json     one JSON object per line\n";

static const char cat_usage[] =
    "usage: pitr cat STORE DB/C/ID.json [--at T]\n"
    "\n"
    "Write a document's bytes, exactly as stored, to stdout: the version\n"
    "live now, or the one visible at T.\n"
    "\n"
    "  --at T     the instant to read (RFC 3339 or relative, e.g. -5m)\n";

/* Options common to ls and cat: --at, --json; operands left in argv.
 * Returns -1 to go on, else the exit status (help, usage). */
static int read_opts(int argc, char *argv[], const char *usage, int allow_json,
		     const char **at, int *json)
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			*at = optarg;
			break;
		case 'j':
			if (!allow_json)
				return usage_exit(usage, 0);
			*json = 1;
			break;
		case 'h':
			return usage_exit(usage, 1);
		default:
			return usage_exit(usage, 0);
		}
	}
	return -1;
}

/* Find what DB[/C] named at `at`: the incarnations of the database and
 * the container (0 where not asked). Prints the error. */
static int lookup(pitr_txn *t, const struct split *sp, uint64_t at,
		  const char *what, uint64_t *db, uint64_t *ct)
{
	char tbuf[PITR_TIME_LEN], nbuf[SAFE_NAME_MAX];
	int rc;

	*db = *ct = 0;
	rc = pitr_db_lookup(t, at, sp->db, sp->dblen, db);
	if (!rc && sp->depth >= 2)
		rc = pitr_ct_lookup(t, at, *db, sp->ct, sp->ctlen, ct);
	if (rc == PITR_NOTFOUND) {
		safe_name(sp->depth >= 2 && *db ? sp->ct : sp->db,
			  sp->depth >= 2 && *db ? sp->ctlen : sp->dblen, nbuf,
			  NULL);
		if (at == PITR_NOW)
			warnx("cannot read '%s': no %s '%s' now", what,
			      *db ? "container" : "database", nbuf);
		else
			warnx("cannot read '%s': no %s '%s' at %s", what,
			      *db ? "container" : "database", nbuf,
			      pitr_time_format(at, tbuf));
	} else if (rc) {
		warnx("cannot read '%s': %s", what, pitr_strerror(rc));
	}
	return rc;
}

int cmd_ls(int argc, char *argv[])
{
	const char *attext = NULL, *path = NULL;
	char tbuf[PITR_TIME_LEN];
	struct split sp = { 0 };
	uint64_t at = PITR_NOW, db = 0, ct = 0;
	pitr_store *s;
	pitr_txn *t = NULL;
	pitr_iter *it = NULL;
	pitr_entry e;
	enum pitr_list_kind kind;
	int json = 0, rc;

	rc = read_opts(argc, argv, ls_usage, 1, &attext, &json);
	if (rc >= 0)
		return rc;
	if (optind + 1 != argc && optind + 2 != argc)
		return usage_exit(ls_usage, 0);
	if (optind + 2 == argc) {
		path = argv[optind + 1];
		if (split_path(path, &sp) || sp.depth > 2) {
			warnx("invalid path '%s': use DB or DB/CONTAINER",
			      path);
			return 2;
		}
	}
	s = open_reader(argv[optind]);
	if (!s)
		return 1;
	if (attext && (rc = parse_instant(s, attext, &at))) {
		pitr_store_close(s);
		return rc;
	}
	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (rc) {
		warnx("cannot read '%s': %s", argv[optind], pitr_strerror(rc));
		goto out;
	}
	if (sp.depth && (rc = lookup(t, &sp, at, path, &db, &ct)))
		goto out;
	kind = sp.depth == 0   ? PITR_LIST_DATABASES
	       : sp.depth == 1 ? PITR_LIST_CONTAINERS
			       : PITR_LIST_DOCUMENTS;
	rc = pitr_iter_begin(t, kind, sp.depth == 2 ? ct : db, at, NULL, 0, 0,
			     &it);
	if (!rc && !json && kind == PITR_LIST_DOCUMENTS)
		printf("%-30s  %10s  %-16s  %s\n", "TIME", "SIZE", "ETAG",
		       "NAME");
	else if (!rc && !json)
		printf("%-20s  %s\n", "NAME", "INCARNATION");
	while (!rc && (rc = pitr_iter_next(it, &e)) == 0) {
		if (e.scratch)
			continue;
		if (json && kind == PITR_LIST_DOCUMENTS) {
			printf("{\"id\":");
			json_string(stdout, e.name, e.namelen);
			printf(",\"time\":\"%s\",\"size\":%" PRIu32
			       ",\"etag\":\"%016" PRIx64 "\"}\n",
			       pitr_time_format(e.ver.ts, tbuf), e.ver.size,
			       e.ver.etag);
		} else if (json) {
			printf("{\"name\":");
			json_string(stdout, e.name, e.namelen);
			printf(",\"incarnation\":%" PRIu64 "}\n", e.inc);
		} else if (kind == PITR_LIST_DOCUMENTS) {
			char sz[16];
			printf("%-30s  %10s  %016" PRIx64 "  ",
			       pitr_time_format(e.ver.ts, tbuf),
			       human_size(e.ver.size, sz), e.ver.etag);
			print_cell(stdout, e.name, e.namelen, 0);
			printf(".json\n");
		} else {
			print_cell(stdout, e.name, e.namelen, 20);
			printf("  %" PRIu64 "\n", e.inc);
		}
	}
	if (rc == PITR_NOTFOUND)
		rc = 0;
	if (rc)
		warnx("cannot list '%s': %s", path ? path : argv[optind],
		      pitr_strerror(rc));
out:
	pitr_iter_end(it);
	pitr_txn_abort(t);
	pitr_store_close(s);
	if (!rc && fflush(stdout)) {
		warn("cannot write the listing");
		rc = 1;
	}
	return rc ? 1 : 0;
}

int cmd_cat(int argc, char *argv[])
{
	const char *attext = NULL, *path;
	struct split sp;
	uint64_t at = PITR_NOW, db, ct;
	pitr_store *s;
	pitr_txn *t = NULL;
	void *body = NULL;
	size_t len = 0, plen;
	char *doc;
	int json = 0, rc;

	rc = read_opts(argc, argv, cat_usage, 0, &attext, &json);
	if (rc >= 0)
		return rc;
	if (optind + 2 != argc)
		return usage_exit(cat_usage, 0);
	path = argv[optind + 1];
	plen = strlen(path);
	if (plen <= 5 || strcmp(path + plen - 5, ".json")) {
		warnx("invalid document path '%s': use DB/CONTAINER/ID.json",
		      path);
		return 2;
	}
	doc = strndup(path, plen - 5);
	if (!doc) {
		warnx("cannot read '%s': %s", path, strerror(ENOMEM));
		return 1;
	}
	if (split_path(doc, &sp) || sp.depth != 3) {
		warnx("invalid document path '%s': use DB/CONTAINER/ID.json",
		      path);
		free(doc);
		return 2;
	}
	s = open_reader(argv[optind]);
	if (!s) {
		free(doc);
		return 1;
	}
	if (attext && (rc = parse_instant(s, attext, &at)))
		goto out_close;
	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (rc) {
		warnx("cannot read '%s': %s", argv[optind], pitr_strerror(rc));
		goto out_close;
	}
	if ((rc = lookup(t, &sp, at, path, &db, &ct)))
		goto out_abort;
	rc = pitr_doc_get(t, ct, sp.id, sp.idlen, at, NULL, &body, &len);
	if (rc == PITR_NOTFOUND) {
		char tbuf[PITR_TIME_LEN], nbuf[SAFE_NAME_MAX];
		safe_name(path, plen > PITR_NAME_MAX ? PITR_NAME_MAX : plen,
			  nbuf, NULL);
		if (at == PITR_NOW)
			warnx("cannot read '%s': no such document now", nbuf);
		else
			warnx("cannot read '%s': no such document at %s", nbuf,
			      pitr_time_format(at, tbuf));
	} else if (rc) {
		const char *detail = pitr_txn_error(t);
		warnx("cannot read '%s': %s%s%s", path, pitr_strerror(rc),
		      *detail ? ": " : "", detail);
	} else if (fwrite(body, 1, len, stdout) != len || fflush(stdout)) {
		warn("cannot write '%s' to stdout", path);
		rc = 1;
	}
	free(body);
out_abort:
	pitr_txn_abort(t);
out_close:
	pitr_store_close(s);
	free(doc);
	return rc == 2 ? 2 : rc ? 1 : 0;
}
