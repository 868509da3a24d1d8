/*
 * cmd_undo.c - pitr undo: bring a container (or chosen documents of it)
 * back to its state at T, as new versions in the live account.
 *
 * Nothing in history is rewritten: the undo is mutations like any other,
 * so the state before it stays viewable and the undo can be undone.
 *
 * The plan compares the container as it was at T with the container
 * named so now (another incarnation when it was deleted and created
 * again) document by document:
 *   restore     changed since T: T's version is written back
 *   re-create   deleted since T: T's version is created again
 *   delete      created since T (only with --delete-created)
 *   keep-created  created since T, left alone (the default)
 *   keep-later  written after the accident's end E: left alone unless
 *               --include-later; these are the conflicts a dry run lists
 * E is --until, or else the end of the first bulk change of the container
 * after T (as pitr events --bulk finds it), or else now.
 *
 * How it writes: an account no daemon serves is opened as the daemon
 * would open it (its lock held, so nothing mounts it meanwhile), and the
 * whole undo is one write transaction: one instant. A mounted account is
 * written through its mount point, as any program writes it, so the
 * daemon's state and the kernel's caches stay right (the daemon lets the
 * kernel keep live entries and attributes for a minute, negative entries
 * too: a document written behind its back through core would stay
 * invisible, or keep its old size, that long). Each document is
 * written to a scratch file and renamed onto ID.json (one version each),
 * deleted with unlink(2); just before each, its live mtime (its version's
 * timestamp) and size are compared with
 * the plan's, and a document changed meanwhile is left alone and named.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

static const char undo_usage[] =
    "usage: pitr undo STORE DB/C --at T [ID.json...] [--until E | --gap D]\n"
    "                 [--include-later] [--delete-created] [--dry-run]\n"
    "                 [--json]\n"
    "\n"
    "Bring container DB/C (or only the documents ID.json named) back to\n"
    "its state at T, as new versions in the live account: documents\n"
    "changed since T get T's version back, documents deleted since T are\n"
    "created again. The undo is itself undoable: its output names the\n"
    "instant just before it. STORE may be mounted: then it writes through\n"
    "the mount point.\n"
    "\n"
    "  --at T            the state to bring back (inside the window)\n"
    "  --until E         the accident's end: documents written after E are\n"
    "                    left alone (default: the end of the first bulk\n"
    "                    change of the container after T, as the bulk\n"
    "                    changes of pitr events are found; else now)\n"
    "  --gap D           for that default: a run of changes ends after D\n"
    "                    without one of its kind (10s, as for events)\n"
    "  --include-later   undo documents written after E too\n"
    "  --delete-created  delete documents created since T (default: kept)\n"
    "  --dry-run         list what would change, and the conflicts\n"
    "                    (keep-later), and change nothing\n"
    "  --json            one JSON object per line\n";

enum action {
	A_SAME,
	A_RESTORE,
	A_RECREATE,
	A_DELETE,
	A_KEEP_CREATED,
	A_KEEP_LATER,
};

static const char *const action_names[] = {
	[A_SAME] = "same",
	[A_RESTORE] = "restore",
	[A_RECREATE] = "re-create",
	[A_DELETE] = "delete",
	[A_KEEP_CREATED] = "keep-created",
	[A_KEEP_LATER] = "keep-later",
};

struct doc {
	char *id;
	size_t idlen;
	int at_t, now;	 /* present at T, now */
	pitr_version vt; /* its version at T */
	pitr_version vn; /* its version now */
	uint64_t last;	 /* its latest mutation: vn.ts, or its delete */
	enum action act;
	int failed; /* not done: changed meanwhile, or an error */
};

struct plan {
	struct doc *v;
	size_t n, cap;
	uint64_t at, until, now;
	uint64_t db_t, ct_t; /* incarnations at T */
	uint64_t db_n, ct_n; /* now; 0 when none */
	uint64_t gap;	     /* a bulk change's run ends after it */
	uint64_t bulk_first; /* the bulk change E ends; 0 if none */
	int bulk_op;
};

static int add_doc(struct plan *p, const pitr_entry *e, int now)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct doc *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	struct doc *d = &p->v[p->n];
	memset(d, 0, sizeof(*d));
	if (!(d->id = malloc(e->namelen + 1)))
		return ENOMEM;
	memcpy(d->id, e->name, e->namelen);
	d->id[e->namelen] = 0;
	d->idlen = e->namelen;
	if (now) {
		d->now = 1;
		d->vn = e->ver;
	} else {
		d->at_t = 1;
		d->vt = e->ver;
	}
	p->n++;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct doc *x = a, *y = b;
	size_t n = x->idlen < y->idlen ? x->idlen : y->idlen;
	int c = memcmp(x->id, y->id, n);

	if (c)
		return c;
	if (x->idlen != y->idlen)
		return x->idlen < y->idlen ? -1 : 1;
	return y->at_t - x->at_t; /* the entry at T first */
}

/* List the documents of `ct` at `at` into the plan. */
static int list_docs(pitr_txn *t, struct plan *p, uint64_t ct, uint64_t at)
{
	pitr_iter *it = NULL;
	pitr_entry e;
	int rc =
	    pitr_iter_begin(t, PITR_LIST_DOCUMENTS, ct, at, NULL, 0, 0, &it);

	while (!rc && (rc = pitr_iter_next(it, &e)) == 0)
		if (!e.scratch)
			rc = add_doc(p, &e, at == PITR_NOW);
	pitr_iter_end(it);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

/* The latest mutation of a document (its delete, for one gone now). */
static int last_of(const pitr_mutation *m, void *arg)
{
	*(uint64_t *)arg = m->ts;
	return 0;
}

/* The first bulk change of the container after T: the accident. */
static int first_bulk(const pitr_bulk *b, void *arg)
{
	struct plan *p = arg;
	uint64_t end = b->last;

	if (!((b->ct && (b->ct == p->ct_t || b->ct == p->ct_n)) ||
	      (b->op == PITR_OP_DB_DELETE && b->db == p->db_t)))
		return 0;
	if (p->bulk_first && p->bulk_first <= b->first)
		return 0;
	if (b->ct_deleted > end)
		end = b->ct_deleted;
	if (b->db_deleted > end)
		end = b->db_deleted;
	p->bulk_first = b->first;
	p->bulk_op = b->op;
	p->until = end;
	return 0;
}

/* Is `id` (with .json) among the chosen documents? All when none. */
static int chosen(char **ids, int nids, const struct doc *d)
{
	if (!nids)
		return 1;
	for (int i = 0; i < nids; i++)
		if (strlen(ids[i]) == d->idlen + 5 &&
		    !memcmp(ids[i], d->id, d->idlen))
			return 1;
	return 0;
}

static void decide(struct doc *d, const struct plan *p, int later_too,
		   int delete_created)
{
	if (d->at_t && d->now && d->vt.etag == d->vn.etag &&
	    d->vt.size == d->vn.size)
		d->act = A_SAME;
	else if (d->last > p->until && !later_too)
		d->act = A_KEEP_LATER;
	else if (d->at_t)
		d->act = d->now ? A_RESTORE : A_RECREATE;
	else
		d->act = delete_created ? A_DELETE : A_KEEP_CREATED;
}

/*
 * Build the plan in read transaction (or write transaction) `t`. Prints
 * its errors; returns the exit status.
 */
static int make_plan(pitr_txn *t, struct plan *p, const struct split *sp,
		     const char *path, char **ids, int nids, int later_too,
		     int delete_created, int until_given)
{
	char tb[PITR_TIME_LEN], nb[SAFE_NAME_MAX];
	int rc;

	rc = pitr_db_lookup(t, p->at, sp->db, sp->dblen, &p->db_t);
	if (!rc)
		rc = pitr_ct_lookup(t, p->at, p->db_t, sp->ct, sp->ctlen,
				    &p->ct_t);
	if (rc == PITR_NOTFOUND) {
		safe_name(path, strlen(path), nb, NULL);
		warnx("cannot undo '%s': no container '%s' at %s", nb, nb,
		      pitr_time_format(p->at, tb));
		return 1;
	}
	if (!rc &&
	    pitr_db_lookup(t, PITR_NOW, sp->db, sp->dblen, &p->db_n) == 0)
		pitr_ct_lookup(t, PITR_NOW, p->db_n, sp->ct, sp->ctlen,
			       &p->ct_n);
	if (!rc)
		rc = list_docs(t, p, p->ct_t, p->at);
	if (!rc && p->ct_n)
		rc = list_docs(t, p, p->ct_n, PITR_NOW);
	if (!rc && !until_given) {
		p->until = p->now;
		rc =
		    pitr_bulk_walk(t, p->at, p->now, p->gap, 10, first_bulk, p);
	}
	if (rc) {
		warnx("cannot undo '%s': %s", path, pitr_strerror(rc));
		return 1;
	}
	if (p->n)
		qsort(p->v, p->n, sizeof(*p->v), by_id);
	/* merge the two listings: one entry per id */
	size_t w = 0;
	for (size_t r = 0; r < p->n; r++) {
		struct doc *d = &p->v[r];
		if (w && p->v[w - 1].idlen == d->idlen &&
		    !memcmp(p->v[w - 1].id, d->id, d->idlen)) {
			p->v[w - 1].now = 1;
			p->v[w - 1].vn = d->vn;
			free(d->id);
			continue;
		}
		p->v[w++] = *d;
	}
	p->n = w;
	w = 0;
	for (size_t r = 0; r < p->n; r++) {
		struct doc *d = &p->v[r];
		if (!chosen(ids, nids, d)) {
			free(d->id);
			continue;
		}
		if (d->now) {
			d->last = d->vn.ts;
		} else {
			/* its delete: in the container of now when the
			 * container is the same, else in T's */
			rc = pitr_doc_walk(t, p->ct_t, d->id, d->idlen, last_of,
					   &d->last);
			if (!rc && p->ct_n && p->ct_n != p->ct_t)
				rc = pitr_doc_walk(t, p->ct_n, d->id, d->idlen,
						   last_of, &d->last);
			if (rc) {
				warnx("cannot undo '%s': %s", path,
				      pitr_strerror(rc));
				return 1;
			}
		}
		decide(d, p, later_too, delete_created);
		p->v[w++] = *d;
	}
	p->n = w;
	for (int i = 0; i < nids; i++) {
		int found = 0;
		for (size_t j = 0; j < p->n && !found; j++)
			found = strlen(ids[i]) == p->v[j].idlen + 5 &&
				!memcmp(ids[i], p->v[j].id, p->v[j].idlen);
		if (!found) {
			safe_name(ids[i], strlen(ids[i]), nb, NULL);
			warnx("cannot undo '%s': no document '%s' at %s or "
			      "now",
			      path, nb, pitr_time_format(p->at, tb));
			return 1;
		}
	}
	return 0;
}

static void print_version(const char *key, int present, const pitr_version *v)
{
	char tb[PITR_TIME_LEN];

	printf(",\"%s\":", key);
	if (!present) {
		printf("null");
		return;
	}
	printf("{\"time\":\"%s\",\"size\":%" PRIu32 ",\"etag\":\"%016" PRIx64
	       "\"}",
	       pitr_time_format(v->ts, tb), v->size, v->etag);
}

/* One line of the plan or of what was done. */
static void print_doc(const struct doc *d, int json)
{
	char tb[PITR_TIME_LEN], sz[16];

	if (json) {
		printf("{\"id\":");
		json_string(stdout, d->id, d->idlen);
		printf(",\"action\":\"%s\",\"done\":%s", action_names[d->act],
		       d->failed ? "false" : "true");
		print_version("at", d->at_t, &d->vt);
		print_version("now", d->now, &d->vn);
		printf(",\"last\":\"%s\"}\n", pitr_time_format(d->last, tb));
		return;
	}
	printf("%-12s  %-30s  %10s  ", action_names[d->act],
	       pitr_time_format(d->last, tb),
	       d->at_t ? human_size(d->vt.size, sz) : "-");
	print_cell(stdout, d->id, d->idlen, 0);
	printf(".json%s\n", d->failed ? "  (not done)" : "");
}

/* The undo in one write transaction, on an account no daemon serves. */
static int undo_core(pitr_store *s, struct plan *p, const struct split *sp,
		     const char *path, uint64_t *ts)
{
	pitr_txn *t;
	uint64_t db = p->db_n, ct = p->ct_n;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (rc)
		goto out_fail;
	if (!db)
		rc = pitr_db_create(t, sp->db, sp->dblen, &db);
	if (!rc && !ct)
		rc = pitr_ct_create(t, db, sp->ct, sp->ctlen, &ct);
	for (size_t i = 0; !rc && i < p->n; i++) {
		struct doc *d = &p->v[i];
		void *body = NULL;
		size_t len = 0;

		if (d->act == A_RESTORE || d->act == A_RECREATE) {
			rc = pitr_doc_get(t, p->ct_t, d->id, d->idlen, p->at,
					  NULL, &body, &len);
			if (!rc)
				rc = pitr_doc_put(t, ct, d->id, d->idlen, body,
						  len);
			free(body);
		} else if (d->act == A_DELETE) {
			rc = pitr_doc_delete(t, ct, d->id, d->idlen);
		}
		if (rc) {
			char nb[SAFE_NAME_MAX];
			const char *detail = pitr_txn_error(t);
			safe_name(d->id, d->idlen, nb, NULL);
			warnx("cannot undo '%s/%s.json': %s%s%s", path, nb,
			      pitr_strerror(rc), *detail ? ": " : "", detail);
			pitr_txn_abort(t);
			return 1;
		}
	}
	if (!rc)
		rc = pitr_txn_commit(t, ts);
	else
		pitr_txn_abort(t);
	if (!rc)
		return 0;
out_fail:
	warnx("cannot undo '%s': %s", path, pitr_strerror(rc));
	return 1;
}

/* Write `len` bytes, whatever the short counts and EINTR. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Is the live document at `file` still the version the plan saw? A
 * version's timestamp is its file's mtime, to the nanosecond, and no two
 * versions of a document share one; AT_STATX_FORCE_SYNC makes the kernel
 * ask the daemon rather than answer from its attribute cache.
 */
static int unchanged(const char *file, const struct doc *d)
{
	struct statx sx;

	if (statx(AT_FDCWD, file, AT_STATX_FORCE_SYNC,
		  STATX_MTIME | STATX_SIZE, &sx))
		return errno == ENOENT && !d->now;
	if (!d->now)
		return 0;
	return (uint64_t)sx.stx_mtime.tv_sec * PITR_NS_PER_SEC +
			       sx.stx_mtime.tv_nsec ==
		       d->vn.ts &&
	       sx.stx_size == d->vn.size;
}

/*
 * The undo through the mount point `mnt` of a mounted account: each
 * document as a program would write it. Returns the exit status.
 */
static int undo_mount(pitr_store *s, struct plan *p, const struct split *sp,
		      const char *path, const char *mnt)
{
	char dir[PATH_MAX], file[PATH_MAX], tmp[PATH_MAX], nb[SAFE_NAME_MAX];
	int status = 0, n;

	n = snprintf(dir, sizeof(dir), "%s/%.*s", mnt, (int)sp->dblen, sp->db);
	if (n < 0 || n >= (int)sizeof(dir) ||
	    (mkdir(dir, 0755) && errno != EEXIST)) {
		warn("cannot undo '%s': cannot create the database", path);
		return 1;
	}
	n = snprintf(dir, sizeof(dir), "%s/%.*s/%.*s", mnt, (int)sp->dblen,
		     sp->db, (int)sp->ctlen, sp->ct);
	if (n < 0 || n >= (int)sizeof(dir) ||
	    (mkdir(dir, 0755) && errno != EEXIST)) {
		warn("cannot undo '%s': cannot create the container", path);
		return 1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s/.pitr-undo.%ld", dir,
		     (long)getpid());
	if (n < 0 || n >= (int)sizeof(tmp)) {
		warnx("cannot undo '%s': %s", path, strerror(ENAMETOOLONG));
		return 1;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct doc *d = &p->v[i];
		void *body = NULL;
		size_t len = 0;
		pitr_txn *t = NULL;
		int rc, fd;

		if (d->act != A_RESTORE && d->act != A_RECREATE &&
		    d->act != A_DELETE)
			continue;
		safe_name(d->id, d->idlen, nb, NULL);
		n = snprintf(file, sizeof(file), "%s/%.*s.json", dir,
			     (int)d->idlen, d->id);
		if (n < 0 || n >= (int)sizeof(file)) {
			warnx("cannot undo '%s/%s.json': %s", path, nb,
			      strerror(ENAMETOOLONG));
			d->failed = 1;
			status = 1;
			continue;
		}
		if (!unchanged(file, d)) {
			warnx("not undone '%s/%s.json': changed during the "
			      "undo",
			      path, nb);
			d->failed = 1;
			status = 1;
			continue;
		}
		if (d->act == A_DELETE) {
			if (unlink(file) && errno != ENOENT) {
				warn("cannot undo '%s/%s.json'", path, nb);
				d->failed = 1;
				status = 1;
			}
			continue;
		}
		rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
		if (!rc)
			rc = pitr_doc_get(t, p->ct_t, d->id, d->idlen, p->at,
					  NULL, &body, &len);
		pitr_txn_abort(t);
		if (rc) {
			warnx("cannot read '%s/%s.json' at T: %s", path, nb,
			      pitr_strerror(rc));
			d->failed = 1;
			status = 1;
			continue;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write_all(fd, body, len) || close(fd) ||
		    rename(tmp, file)) {
			warn("cannot undo '%s/%s.json'", path, nb);
			if (fd >= 0)
				unlink(tmp);
			d->failed = 1;
			status = 1;
		}
		free(body);
	}
	return status;
}

int cmd_undo(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "until", required_argument, NULL, 'u' },
		{ "gap", required_argument, NULL, 'g' },
		{ "include-later", no_argument, NULL, 'l' },
		{ "delete-created", no_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *attext = NULL, *untiltext = NULL, *store, *path;
	char buf[PATH_MAX], mnt[PATH_MAX], t1[PITR_TIME_LEN], t2[PITR_TIME_LEN];
	int later_too = 0, delete_created = 0, dry = 0, json = 0, c, rc;
	int mounted = 0, status = 0;
	struct plan p = { .gap = 10 * PITR_NS_PER_SEC };
	struct split sp;
	pitr_store *s = NULL;
	pitr_txn *t = NULL;
	uint64_t before = 0, ts = 0;
	size_t counts[A_KEEP_LATER + 1] = { 0 };

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			attext = optarg;
			break;
		case 'u':
			untiltext = optarg;
			break;
		case 'g':
			if (parse_duration_opt("--gap", optarg, &p.gap))
				return 2;
			break;
		case 'l':
			later_too = 1;
			break;
		case 'c':
			delete_created = 1;
			break;
		case 'n':
			dry = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return usage_exit(undo_usage, 1);
		default:
			return usage_exit(undo_usage, 0);
		}
	}
	if (argc - optind < 2 || !attext)
		return usage_exit(undo_usage, 0);
	if (untiltext && p.gap != 10 * PITR_NS_PER_SEC) {
		warnx("invalid --gap with --until: the end is given");
		return 2;
	}
	path = argv[optind + 1];
	if (split_path(path, &sp) || sp.depth != 2) {
		warnx("invalid path '%s': use DB/CONTAINER", path);
		return 2;
	}
	for (int i = optind + 2; i < argc; i++) {
		size_t l = strlen(argv[i]);
		if (l <= 5 || strcmp(argv[i] + l - 5, ".json") ||
		    pitr_name_check(argv[i], l - 5)) {
			warnx("invalid document '%s': use ID.json", argv[i]);
			return 2;
		}
	}
	store = store_path(argv[optind], buf, sizeof(buf));
	/* the daemon's lock: held, nobody mounts the account during the
	 * undo; busy, the account is mounted and written through its mount */
	rc = pitr_store_open(store, dry ? 0 : PITR_OPEN_DAEMON, &s);
	if (rc == PITR_BUSY) {
		if (!mount_point(store, mnt, sizeof(mnt))) {
			warnx("cannot undo in '%s': it is mounted, and not "
			      "at a mount point seen here",
			      argv[optind]);
			return 1;
		}
		mounted = 1;
		rc = pitr_store_open(store, 0, &s);
	}
	if (rc) {
		warnx("cannot open store '%s': %s", argv[optind],
		      pitr_strerror(rc));
		return 1;
	}
	if ((rc = parse_instant(s, attext, &p.at)) ||
	    (untiltext && (rc = parse_any_instant(s, untiltext, &p.until))))
		goto out;
	p.now = pitr_store_now(s);
	/* just before the undo: the state it changes, never moved by a later
	 * write (resolving it makes every later commit later) */
	if ((rc = pitr_store_resolve_ns(s, p.now, &before))) {
		warnx("cannot undo '%s': %s", path, pitr_strerror(rc));
		rc = 1;
		goto out;
	}
	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (rc) {
		warnx("cannot read '%s': %s", argv[optind], pitr_strerror(rc));
		rc = 1;
		goto out;
	}
	rc = make_plan(t, &p, &sp, path, argv + optind + 2, argc - optind - 2,
		       later_too, delete_created, untiltext != NULL);
	pitr_txn_abort(t);
	if (rc)
		goto out;
	if (!dry && !mounted)
		status = undo_core(s, &p, &sp, path, &ts);
	else if (!dry)
		status = undo_mount(s, &p, &sp, path, mnt);
	for (size_t i = 0; i < p.n; i++) {
		if (p.v[i].act == A_SAME)
			continue;
		if (!dry && !mounted && status)
			p.v[i].failed = p.v[i].act <= A_DELETE;
		counts[p.v[i].act]++;
	}
	pitr_time_format(p.at, t1);
	pitr_time_format(p.until, t2);
	if (!json)
		printf("%-12s  %-30s  %10s  %s\n", "ACTION", "LAST CHANGE",
		       "SIZE AT T", "NAME");
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].act != A_SAME)
			print_doc(&p.v[i], json);
	if (json) {
		char b[PITR_TIME_LEN];
		printf("{\"summary\":{\"at\":\"%s\",\"until\":\"%s\","
		       "\"dry_run\":%s,\"through_mount\":%s,\"restore\":%zu,"
		       "\"recreate\":%zu,\"delete\":%zu,\"keep_created\":%zu,"
		       "\"keep_later\":%zu,\"before\":\"%s\"}}\n",
		       t1, t2, dry ? "true" : "false",
		       mounted ? "true" : "false", counts[A_RESTORE],
		       counts[A_RECREATE], counts[A_DELETE],
		       counts[A_KEEP_CREATED], counts[A_KEEP_LATER],
		       pitr_time_format(before, b));
	} else {
		printf("%s to %s: %zu restore, %zu re-create, %zu delete; "
		       "kept: %zu created since T, %zu written after %s\n",
		       dry ? "would undo" : "undone", t1, counts[A_RESTORE],
		       counts[A_RECREATE], counts[A_DELETE],
		       counts[A_KEEP_CREATED], counts[A_KEEP_LATER], t2);
		if (!dry) {
			printf("to undo this undo: pitr undo %s ",
			       argv[optind]);
			print_cell(stdout, path, strlen(path), 0);
			printf(" --at %s\n", pitr_time_format(before, t1));
		}
	}
	(void)ts;
	rc = status;
out:
	for (size_t i = 0; i < p.n; i++)
		free(p.v[i].id);
	free(p.v);
	pitr_store_close(s);
	return rc;
}
