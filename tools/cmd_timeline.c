/*
 * cmd_timeline.c - a container's or database's timeline (pitr log DB[/C])
 * and the bulk changes found in the log (pitr events --bulk).
 *
 * Both are one walk over the log between two instants: the cost grows with
 * the mutations of the account in that span, never with a loop over the
 * documents of the container.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* Sorted set of incarnations. */
struct incs {
	uint64_t *v;
	size_t n;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int incs_has(const struct incs *s, uint64_t inc)
{
	return bsearch(&inc, s->v, s->n, sizeof(inc), cmp_u64) != NULL;
}

/* Every create of a database or container (renames included). */
static int catalog_creates(pitr_txn *t, struct list *out)
{
	struct list all = { 0 };
	int rc = pitr_catalog_walk(t, collect, &all);

	for (size_t i = 0; !rc && i < all.n; i++)
		if ((all.v[i].m.op == PITR_OP_DB_CREATE ||
		     all.v[i].m.op == PITR_OP_CT_CREATE) &&
		    !list_push(out, &all.v[i].m))
			rc = ENOMEM;
	free(all.v);
	return rc;
}

/*
 * pitr log STORE DB[/C]
 */

struct tl {
	pitr_txn *t;
	const struct timeline_opts *o;
	const struct list *cr;
	pitr_namer *nm; /* names at instants */
	struct incs dbs, cts;
	int depth;
	uint64_t docs; /* documents now, in the walk */
	uint64_t bucket;
	uint64_t creates, replaces, deletes, bytes, events;
};

static void tl_flush(struct tl *w)
{
	char a[PITR_TIME_LEN], b[PITR_TIME_LEN];
	uint64_t end = w->bucket + w->o->every - 1;

	if (!w->creates && !w->replaces && !w->deletes && !w->events)
		return;
	pitr_time_format(w->bucket, a);
	pitr_time_format(end < w->bucket ? UINT64_MAX : end, b);
	if (w->o->json)
		printf(
		    "{\"from\":\"%s\",\"until\":\"%s\",\"documents\":%" PRIu64
		    ",\"creates\":%" PRIu64 ",\"replaces\":%" PRIu64
		    ",\"deletes\":%" PRIu64 ",\"bytes\":%" PRIu64
		    ",\"events\":%" PRIu64 "}\n",
		    a, b, w->docs, w->creates, w->replaces, w->deletes,
		    w->bytes, w->events);
	else {
		char sz[16];
		printf("%-30s  %10" PRIu64 "  %8" PRIu64 "  %8" PRIu64
		       "  %8" PRIu64 "  %12s  %" PRIu64 "\n",
		       a, w->docs, w->creates, w->replaces, w->deletes,
		       human_size(w->bytes, sz), w->events);
	}
	w->creates = w->replaces = w->deletes = w->bytes = w->events = 0;
}

static void tl_line(struct tl *w, const pitr_mutation *m, const char *op)
{
	char tbuf[PITR_TIME_LEN];
	const char *ct = NULL;
	size_t ctlen = 0;
	int doc = m->op == PITR_OP_DOC_PUT || m->op == PITR_OP_DOC_DELETE;
	uint64_t cinc = doc ? m->parent : m->inc;

	pitr_time_format(m->ts, tbuf);
	if (m->op != PITR_OP_DB_CREATE && m->op != PITR_OP_DB_DELETE &&
	    pitr_namer_name(w->nm, cinc, m->ts, &ct, &ctlen))
		ct = NULL;
	if (w->o->json) {
		printf("{\"time\":\"%s\",\"op\":\"%s\"", tbuf, op);
		if (ct) {
			printf(",\"container\":");
			json_string(stdout, ct, ctlen);
		}
		if (m->op != PITR_OP_DB_CREATE && m->op != PITR_OP_DB_DELETE)
			printf(",\"container_incarnation\":%" PRIu64, cinc);
		if (doc) {
			printf(",\"id\":");
			json_string(stdout, m->name, m->namelen);
		}
		if (m->op == PITR_OP_DOC_PUT)
			printf(",\"size\":%" PRIu32 ",\"etag\":\"%016" PRIx64
			       "\"",
			       m->size, m->etag);
		printf("}\n");
		return;
	}
	printf("%-30s  %-16s  ", tbuf, op);
	if (w->depth == 1) {
		if (ct)
			print_cell(stdout, ct, ctlen, 20);
		else
			printf("%-20s", "-");
		printf("  ");
	}
	char sz[16];
	if (m->op == PITR_OP_DOC_PUT)
		printf("%10s  %016" PRIx64 "  ", human_size(m->size, sz),
		       m->etag);
	else
		printf("%10s  %-16s  ", "-", "-");
	if (doc) {
		print_cell(stdout, m->name, m->namelen, 0);
		printf(".json\n");
	} else {
		printf("-\n");
	}
}

static int tl_step(const pitr_mutation *m, void *arg)
{
	struct tl *w = arg;
	const char *op;
	pitr_version v;
	int rc;

	switch (m->op) {
	case PITR_OP_DOC_PUT:
	case PITR_OP_DOC_DELETE:
		if (!incs_has(&w->cts, m->parent))
			return 0;
		break;
	case PITR_OP_CT_CREATE:
	case PITR_OP_CT_DELETE:
		if (!incs_has(&w->cts, m->inc))
			return 0;
		break;
	default:
		if (w->depth == 2 || !incs_has(&w->dbs, m->inc))
			return 0;
	}
	if (!w->o->full && m->ts - m->ts % w->o->every != w->bucket) {
		tl_flush(w);
		w->bucket = m->ts - m->ts % w->o->every;
	}
	if (m->op == PITR_OP_DOC_DELETE) {
		op = "delete";
		w->deletes++;
		w->docs -= w->docs > 0;
	} else if (m->op == PITR_OP_DOC_PUT) {
		rc = pitr_doc_stat(w->t, m->parent, m->name, m->namelen,
				   m->ts - 1, &v);
		if (rc && rc != PITR_NOTFOUND && rc != PITR_OUTOFRANGE)
			return rc;
		op = rc ? "create" : "replace";
		if (rc) {
			w->creates++;
			w->docs++;
		} else {
			w->replaces++;
		}
		w->bytes += m->size;
	} else {
		op = catalog_event(m->op);
		w->events++;
	}
	if (w->o->full)
		tl_line(w, m, op);
	return 0;
}

/* Documents of container `ct` at `at`. */
static int count_docs(pitr_txn *t, uint64_t ct, uint64_t at, uint64_t *n)
{
	pitr_iter *it;
	pitr_entry e;
	int rc =
	    pitr_iter_begin(t, PITR_LIST_DOCUMENTS, ct, at, NULL, 0, 0, &it);

	while (!rc && (rc = pitr_iter_next(it, &e)) == 0)
		*n += !e.scratch;
	pitr_iter_end(it);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

/* Documents of DB[/C] at `at` (what it named then). */
static int count_at(pitr_txn *t, const struct split *sp, uint64_t at,
		    uint64_t *n)
{
	uint64_t db, ct;
	pitr_iter *it;
	pitr_entry e;
	int rc;

	*n = 0;
	if (pitr_db_lookup(t, at, sp->db, sp->dblen, &db))
		return 0;
	if (sp->depth == 2)
		return pitr_ct_lookup(t, at, db, sp->ct, sp->ctlen, &ct)
			   ? 0
			   : count_docs(t, ct, at, n);
	rc = pitr_iter_begin(t, PITR_LIST_CONTAINERS, db, at, NULL, 0, 0, &it);
	while (!rc && (rc = pitr_iter_next(it, &e)) == 0)
		rc = count_docs(t, e.inc, at, n);
	pitr_iter_end(it);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

int log_timeline(pitr_store *s, const char *path, const struct split *sp,
		 const struct timeline_opts *o)
{
	struct list cr = { 0 };
	struct tl w = { .o = o, .cr = &cr, .depth = sp->depth };
	uint64_t after = o->since ? o->since - 1 : 0;
	int rc;

	rc = pitr_txn_begin(s, PITR_TXN_READ, &w.t);
	if (!rc)
		rc = catalog_creates(w.t, &cr);
	if (!rc)
		rc = pitr_namer_new(w.t, &w.nm);
	if (rc)
		goto out;
	w.dbs.v = malloc((cr.n + 1) * sizeof(uint64_t));
	w.cts.v = malloc((cr.n + 1) * sizeof(uint64_t));
	if (!w.dbs.v || !w.cts.v) {
		rc = ENOMEM;
		goto out;
	}
	/* every incarnation ever named DB, and their containers ever
	 * named C (all of them for a database's timeline) */
	for (size_t i = 0; i < cr.n; i++)
		if (cr.v[i].m.op == PITR_OP_DB_CREATE &&
		    strlen(cr.v[i].name) == sp->dblen &&
		    !memcmp(cr.v[i].name, sp->db, sp->dblen))
			w.dbs.v[w.dbs.n++] = cr.v[i].m.inc;
	if (w.dbs.n)
		qsort(w.dbs.v, w.dbs.n, sizeof(uint64_t), cmp_u64);
	for (size_t i = 0; i < cr.n; i++)
		if (cr.v[i].m.op == PITR_OP_CT_CREATE &&
		    incs_has(&w.dbs, cr.v[i].m.parent) &&
		    (sp->depth == 1 ||
		     (strlen(cr.v[i].name) == sp->ctlen &&
		      !memcmp(cr.v[i].name, sp->ct, sp->ctlen))))
			w.cts.v[w.cts.n++] = cr.v[i].m.inc;
	if (w.cts.n)
		qsort(w.cts.v, w.cts.n, sizeof(uint64_t), cmp_u64);
	if (!(sp->depth == 1 ? w.dbs.n : w.cts.n)) {
		warnx("no %s '%s' in the history of the account",
		      sp->depth == 1 ? "database" : "container", path);
		rc = -1;
		goto out;
	}
	/* the count at the start; from the beginning of the log, every
	 * document there is one of its records */
	if (o->since && (rc = count_at(w.t, sp, o->since - 1, &w.docs))) {
		if (rc != PITR_OUTOFRANGE)
			goto out;
		after = 0;
		w.docs = 0;
	}
	if (!o->json && o->full)
		printf("%-30s  %-16s  %s%10s  %-16s  %s\n", "TIME", "OP",
		       sp->depth == 1 ? "CONTAINER             " : "", "SIZE",
		       "ETAG", "ID");
	else if (!o->json)
		printf("%-30s  %10s  %8s  %8s  %8s  %12s  %s\n", "FROM",
		       "DOCUMENTS", "CREATES", "REPLACES", "DELETES", "BYTES",
		       "EVENTS");
	rc = pitr_log_walk(w.t, after, o->until, tl_step, &w);
	if (!rc && !o->full)
		tl_flush(&w);
out:
	if (rc > 0 || rc < -1)
		warnx("cannot read the timeline of '%s': %s", path,
		      pitr_strerror(rc));
	pitr_namer_free(w.nm);
	pitr_txn_abort(w.t);
	free(w.dbs.v);
	free(w.cts.v);
	free(cr.v);
	return rc ? 1 : 0;
}

/*
 * pitr events --bulk
 */

struct found {
	pitr_bulk *v;
	size_t n, cap;
};

static int keep_bulk(const pitr_bulk *b, void *arg)
{
	struct found *f = arg;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		pitr_bulk *v = realloc(f->v, cap * sizeof(*v));
		if (!v)
			return ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = *b;
	return 0;
}

static int by_first(const void *a, const void *b)
{
	const pitr_bulk *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->last < y->last ? -1 : x->last > y->last;
}

/* Print `s` as one shell word: bare if it is plain, else in $'...' with
 * every byte outside printable ASCII, and the quote, escaped. */
static void shell_word(FILE *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789._-/:+,=@%",
			s[i]) ||
		    !s[i])
			break;
	if (len && i == len) {
		fwrite(s, 1, len, out);
		return;
	}
	fputs("$'", out);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\'' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('\'', out);
}

/* The command line that restores DB[/C] at `before` from `store`. */
static void restore_cmd(FILE *out, const char *store, const char *before,
			const char *db, const char *ct)
{
	char sel[2 * PITR_NAME_MAX + 2];

	snprintf(sel, sizeof(sel), "%s%s%s", db, ct ? "/" : "", ct ? ct : "");
	fputs("pitr restore ", out);
	shell_word(out, store, strlen(store));
	fprintf(out, " TARGET --at %s --database ", before);
	shell_word(out, sel, strlen(sel));
}

/* The command line that undoes a container's bulk change in place. */
static void undo_cmd(FILE *out, const char *store, const char *before,
		     const char *last, const char *db, const char *ct)
{
	char sel[2 * PITR_NAME_MAX + 2];

	snprintf(sel, sizeof(sel), "%s/%s", db, ct);
	fputs("pitr undo ", out);
	shell_word(out, store, strlen(store));
	fputc(' ', out);
	shell_word(out, sel, strlen(sel));
	fprintf(out, " --at %s --until %s", before, last);
}

/* It, as the JSON member "undo". */
static int json_undo_cmd(const char *store, const char *before,
			 const char *last, const char *db, const char *ct)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return errno;
	undo_cmd(f, store, before, last, db, ct);
	if (fclose(f)) {
		free(buf);
		return ENOMEM;
	}
	printf(",\"undo\":");
	json_string(stdout, buf, len);
	free(buf);
	return 0;
}

/* The same, as the JSON member "restore". */
static int json_restore_cmd(const char *store, const char *before,
			    const char *db, const char *ct)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return errno;
	restore_cmd(f, store, before, db, ct);
	if (fclose(f)) {
		free(buf);
		return ENOMEM;
	}
	printf(",\"restore\":");
	json_string(stdout, buf, len);
	free(buf);
	return 0;
}

static const char *bulk_kind(const pitr_bulk *b)
{
	if (b->op == PITR_OP_DB_DELETE)
		return "drop-database";
	if (b->op == PITR_OP_DOC_PUT)
		return "replaces";
	return b->ct_deleted ? "drop-container" : "deletes";
}

/* The name of incarnation `inc` at `at`, copied to `buf`
 * (PITR_NAME_MAX + 1 bytes); NULL when unknown. */
static const char *name_copy(pitr_namer *nm, uint64_t inc, uint64_t at,
			     char *buf)
{
	const char *name;
	size_t len;

	if (pitr_namer_name(nm, inc, at, &name, &len))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = 0;
	return buf;
}

int events_bulk(pitr_store *s, const char *store, const char *db,
		const char *ct, uint64_t since, uint64_t until, uint64_t gap,
		uint64_t min, int json)
{
	char dbbuf[PITR_NAME_MAX + 1], ctbuf[PITR_NAME_MAX + 1];
	pitr_namer *nm = NULL;
	struct found f = { 0 };
	char before[PITR_TIME_LEN], first[PITR_TIME_LEN], last[PITR_TIME_LEN];
	pitr_txn *t = NULL;
	int rc;

	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (!rc)
		rc = pitr_namer_new(t, &nm);
	if (!rc)
		rc = pitr_bulk_walk(t, since ? since - 1 : 0, until, gap, min,
				    keep_bulk, &f);
	if (rc) {
		warnx("cannot read the log of '%s': %s", store,
		      pitr_strerror(rc));
		goto out;
	}
	if (f.n)
		qsort(f.v, f.n, sizeof(*f.v), by_first);
	if (!json)
		printf("%-30s  %-14s  %-20s  %-20s  %9s  %-30s  %s\n", "BEFORE",
		       "CHANGE", "DATABASE", "CONTAINER", "DOCUMENTS", "LAST",
		       "RESTORE");
	for (size_t i = 0; i < f.n; i++) {
		const pitr_bulk *b = &f.v[i];
		uint64_t at = b->first - 1;
		const char *dbname = name_copy(nm, b->db, at, dbbuf);
		const char *ctname =
		    b->ct ? name_copy(nm, b->ct, at, ctbuf) : NULL;
		if (!dbname)
			dbname = "?";
		if ((db && strcmp(db, dbname)) ||
		    (ct && (!ctname || strcmp(ct, ctname))))
			continue;
		pitr_time_format(at, before);
		pitr_time_format(b->first, first);
		pitr_time_format(b->last, last);
		if (json) {
			printf("{\"before\":\"%s\",\"change\":\"%s\","
			       "\"database\":",
			       before, bulk_kind(b));
			json_string(stdout, dbname, strlen(dbname));
			printf(",\"database_incarnation\":%" PRIu64, b->db);
			if (b->ct) {
				printf(",\"container\":");
				if (ctname)
					json_string(stdout, ctname,
						    strlen(ctname));
				else
					printf("null");
				printf(",\"incarnation\":%" PRIu64, b->ct);
			}
			printf(",\"first\":\"%s\",\"last\":\"%s\","
			       "\"documents\":%" PRIu64
			       ",\"mutations\":%" PRIu64,
			       first, last, b->docs, b->mutations);
			if (b->ct_deleted || b->db_deleted) {
				char d[PITR_TIME_LEN];
				pitr_time_format(
				    b->ct ? b->ct_deleted : b->db_deleted, d);
				printf(",\"deleted\":\"%s\"", d);
			}
			if (ctname && (rc = json_undo_cmd(store, before, last,
							  dbname, ctname))) {
				warnx("cannot print the undo command: %s",
				      strerror(rc));
				goto out;
			}
			if ((rc = json_restore_cmd(store, before, dbname,
						   ctname))) {
				warnx("cannot print the restore command: %s",
				      strerror(rc));
				goto out;
			}
			printf("}\n");
			continue;
		}
		printf("%-30s  %-14s  ", before, bulk_kind(b));
		print_cell(stdout, dbname, strlen(dbname), 20);
		printf("  ");
		if (ctname)
			print_cell(stdout, ctname, strlen(ctname), 20);
		else
			printf("%-20s", "-");
		printf("  %9" PRIu64 "  %-30s  ", b->docs, last);
		restore_cmd(stdout, store, before, dbname, ctname);
		printf("\n");
	}
out:
	pitr_txn_abort(t);
	pitr_namer_free(nm);
	free(f.v);
	return rc ? 1 : 0;
}
