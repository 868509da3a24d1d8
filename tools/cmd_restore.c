/*
 * cmd_restore.c - pitr restore: a past state of an account, or of chosen
 * databases and containers, into a new account.
 *
 * The new account is built beside TARGET under a temporary name, held with
 * the daemon lock so that a later restore knows whether it is still being
 * built, synced, and renamed into place: a crash or error part-way leaves no
 * TARGET, and the next restore removes what a dead one left.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

static const char restore_usage[] =
    "usage: pitr restore SOURCE TARGET --at T [--database DB | --database "
    "DB/C]...\n"
    "                    [--retention D] [--mount MNT]\n"
    "       pitr restore DIR|s3://BUCKET/PREFIX TARGET --from-backup --at T [--database ...]\n"
    "                    [--retention D] [--mount MNT]\n"
    "\n"
    "Create a new account at TARGET holding the databases and containers\n"
    "of SOURCE (default: all) exactly as they were at T. TARGET must not\n"
    "exist; its parent must. Deleted databases and containers can be\n"
    "restored. Not restored: backup media, access and sync settings, mount\n"
    "options; the new account has continuous backup (retention 30d unless\n"
    "--retention) and its own history, starting now.\n"
    "\n"
    "  --at T           the instant to restore (RFC 3339 or relative; with\n"
    "                   --from-backup, relative to the latest instant the\n"
    "                   media prove complete: -0s is that instant)\n"
    "  --database DB    a database to restore, or DB/C a container; again\n"
    "                   for more (default: every database)\n"
    "  --retention D    the new account's retention (default 30d)\n"
    "  --mount MNT      mount the new account at MNT\n"
    "  --from-backup    SOURCE is a backup directory: rebuild from it alone\n";

static void ignore_problem(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	(void)arg;
}

struct sel {
	char *db, *ct; /* ct NULL: the whole database */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct progress {
	int on;
	uint64_t done, total;
	double start, last;
};

static void progress_show(struct progress *p, int final)
{
	double now = mono(), rate;

	if (!p->on || (!final && now - p->last < 0.1))
		return;
	p->last = now;
	rate = p->done / (now - p->start > 1e-6 ? now - p->start : 1e-6);
	int width = 30,
	    fill = p->total ? (int)(width * p->done / p->total) : width;
	double eta = rate > 0 && p->total > p->done
			 ? (double)(p->total - p->done) / rate
			 : 0;
	fprintf(stderr,
		"\rrestoring [%.*s%*s] %llu/%llu documents, %.0f/s, "
		"ETA %.0fs ",
		fill, "##############################", width - fill, "",
		(unsigned long long)p->done, (unsigned long long)p->total, rate,
		eta);
	if (final)
		fputc('\n', stderr);
}

/* Remove what restores that died left beside TARGET. */
static void remove_stale(const char *target)
{
	char pattern[PATH_MAX];
	glob_t g;

	if (snprintf(pattern, sizeof(pattern), "%s.restoring-*", target) >=
	    (int)sizeof(pattern))
		return;
	if (glob(pattern, 0, NULL, &g))
		g.gl_pathc = 0;
	if (snprintf(pattern, sizeof(pattern), "%s.replay-*", target) <
		(int)sizeof(pattern) &&
	    glob(pattern, g.gl_pathc ? GLOB_APPEND : 0, NULL, &g))
		if (!g.gl_pathc)
			return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		pitr_store_destroy(g.gl_pathv[i]); /* busy: alive, kept */
	globfree(&g);
}

struct copy_state {
	struct progress *p;
	uint64_t base; /* documents of earlier containers */
};

static int on_progress(uint64_t done, void *arg)
{
	struct copy_state *cs = arg;

	cs->p->done = cs->base + done;
	progress_show(cs->p, 0);
	return interrupted ? EINTR : 0;
}

/* Copy the documents of container `from` at `at` into `to`. */
static int copy_container(pitr_txn **dt, pitr_txn *src, uint64_t from,
			  uint64_t to, uint64_t at, struct progress *p)
{
	struct copy_state cs = { p, p->done };
	int rc = pitr_ct_copy(dt, to, src, from, at, on_progress, &cs, NULL);

	if (rc && rc != EINTR)
		warnx("cannot restore a document: %s%s%s", pitr_strerror(rc),
		      *dt && *pitr_txn_error(*dt) ? ": " : "",
		      *dt ? pitr_txn_error(*dt) : "");
	return rc;
}

/* The containers of database `db` at `at`, or the one named `only`. */
static int restore_db(pitr_txn **dt, pitr_txn *src, const char *dbname,
		      uint64_t db, const char *only, uint64_t at,
		      struct progress *p)
{
	uint64_t newdb, newct, ct;
	pitr_iter *it;
	pitr_entry e;
	int rc;

	rc = pitr_db_lookup(*dt, PITR_NOW, dbname, strlen(dbname), &newdb);
	if (rc == PITR_NOTFOUND)
		rc = pitr_db_create(*dt, dbname, strlen(dbname), &newdb);
	if (rc)
		return rc;
	if (only) {
		rc = pitr_ct_lookup(src, at, db, only, strlen(only), &ct);
		if (!rc && pitr_ct_lookup(*dt, PITR_NOW, newdb, only,
					  strlen(only), NULL) == 0)
			return 0; /* named twice */
		if (!rc)
			rc = pitr_ct_create(*dt, newdb, only, strlen(only),
					    &newct);
		return rc ? rc : copy_container(dt, src, ct, newct, at, p);
	}
	rc =
	    pitr_iter_begin(src, PITR_LIST_CONTAINERS, db, at, NULL, 0, 0, &it);
	while (!rc && (rc = pitr_iter_next(it, &e)) == 0) {
		char name[PITR_NAME_MAX + 1];
		memcpy(name, e.name, e.namelen);
		name[e.namelen] = 0;
		ct = e.inc;
		if (pitr_ct_lookup(*dt, PITR_NOW, newdb, name, e.namelen,
				   NULL) == 0)
			continue;
		rc = pitr_ct_create(*dt, newdb, name, e.namelen, &newct);
		if (!rc)
			rc = copy_container(dt, src, ct, newct, at, p);
	}
	pitr_iter_end(it);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

/* Count the documents to restore, for the progress bar. */
static uint64_t count_docs(pitr_txn *src, uint64_t parent, int depth,
			   uint64_t at)
{
	pitr_iter *it;
	pitr_entry e;
	uint64_t n = 0;

	if (pitr_iter_begin(src,
			    depth == 0	 ? PITR_LIST_DATABASES
			    : depth == 1 ? PITR_LIST_CONTAINERS
					 : PITR_LIST_DOCUMENTS,
			    parent, at, NULL, 0, 0, &it))
		return 0;
	while (pitr_iter_next(it, &e) == 0)
		n += depth == 2 ? 1 : count_docs(src, e.inc, depth + 1, at);
	pitr_iter_end(it);
	return n;
}

/* Check that every selection existed at `at`; name the first that did not. */
static int check_selection(pitr_txn *src, const struct sel *sel, int nsel,
			   uint64_t at, const char *when)
{
	uint64_t db;

	for (int i = 0; i < nsel; i++) {
		if (pitr_db_lookup(src, at, sel[i].db, strlen(sel[i].db),
				   &db)) {
			warnx("database '%s' did not exist at %s", sel[i].db,
			      when);
			return -1;
		}
		if (sel[i].ct && pitr_ct_lookup(src, at, db, sel[i].ct,
						strlen(sel[i].ct), NULL)) {
			warnx("container '%s/%s' did not exist at %s",
			      sel[i].db, sel[i].ct, when);
			return -1;
		}
	}
	return 0;
}

/* Is `path` (resolved) the mount point of a mount? /proc/self/mountinfo
 * names them in its fifth field, with \ooo escapes. */
static int is_mount_point(const char *path)
{
	char line[4096], point[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line;
		size_t n = 0;
		for (int field = 0; field < 4 && p; field++)
			if ((p = strchr(p, ' ')))
				p++;
		while (p && *p && *p != ' ' && n + 1 < sizeof(point)) {
			if (p[0] == '\\' && p[1] && p[2] && p[3]) {
				point[n++] =
				    (char)((p[1] - '0') * 64 +
					   (p[2] - '0') * 8 + p[3] - '0');
				p += 4;
			} else {
				point[n++] = *p++;
			}
		}
		point[n] = 0;
		found = p && !strcmp(point, path);
	}
	fclose(f);
	return found;
}

/* Is MNT no directory to mount on, or taken by another mount? Says why. */
static int mount_point_bad(const char *mnt)
{
	char real[PATH_MAX];
	struct stat st;

	errno = 0;
	if (stat(mnt, &st) == 0 && !S_ISDIR(st.st_mode))
		errno = ENOTDIR;
	if (errno || !realpath(mnt, real)) {
		warn("cannot mount at '%s'", mnt);
		return 1;
	}
	if (is_mount_point(real)) {
		warnx("cannot mount at '%s': something is mounted there", mnt);
		return 1;
	}
	return 0;
}

static int mount_target(const char *self, const char *target, const char *mnt)
{
	char exe[PATH_MAX], fsbin[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;
	int st;

	(void)self;
	if (n > 0) {
		exe[n] = 0;
		snprintf(fsbin, sizeof(fsbin), "%s/pitrfs", dirname(exe));
	}
	if (n <= 0 || access(fsbin, X_OK))
		snprintf(fsbin, sizeof(fsbin), "pitrfs");
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp(fsbin, "pitrfs", target, mnt, (char *)NULL);
		warn("cannot run '%s'", fsbin);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		warnx("restored to '%s', but mounting it at '%s' failed",
		      target, mnt);
		return -1;
	}
	return 0;
}

int cmd_restore(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "database", required_argument, NULL, 'd' },
		{ "retention", required_argument, NULL, 'r' },
		{ "mount", required_argument, NULL, 'm' },
		{ "from-backup", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *when = NULL, *mnt = NULL, *retention = NULL;
	char tmp[PATH_MAX], parent[PATH_MAX], when_buf[PITR_TIME_LEN];
	struct sel sel[64];
	struct progress prog = { 0 };
	pitr_config cfg = { 0 };
	pitr_store *src_store = NULL, *dst = NULL;
	pitr_txn *src = NULL, *dt = NULL;
	struct stat st;
	uint64_t at;
	int c, nsel = 0, rc = 1, from_backup = 0;
	char replay[PATH_MAX] = "", from_buf[PITR_TIME_LEN];

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			when = optarg;
			break;
		case 'd':
			if (nsel == (int)(sizeof(sel) / sizeof(sel[0]))) {
				warnx("too many --database options");
				return 2;
			}
			sel[nsel].db = optarg;
			sel[nsel].ct = strchr(optarg, '/');
			if (sel[nsel].ct)
				*sel[nsel].ct++ = 0;
			if (pitr_name_check(sel[nsel].db,
					    strlen(sel[nsel].db)) ||
			    (sel[nsel].ct &&
			     pitr_name_check(sel[nsel].ct,
					     strlen(sel[nsel].ct)))) {
				if (sel[nsel].ct)
					sel[nsel].ct[-1] = '/'; /* as given */
				warnx("invalid --database '%s': use DB or "
				      "DB/CONTAINER",
				      optarg);
				return 2;
			}
			nsel++;
			break;
		case 'r':
			retention = optarg;
			break;
		case 'm':
			mnt = optarg;
			break;
		case 'b':
			from_backup = 1;
			break;
		case 'h':
			return usage_exit(restore_usage, 1);
		default:
			return usage_exit(restore_usage, 0);
		}
	}
	if (optind + 2 != argc || !when)
		return usage_exit(restore_usage, 0);
	const char *source = argv[optind], *target = argv[optind + 1];
	if (!*target) {
		warnx("TARGET must not be empty");
		return 2;
	}
	const char *named = source; /* in messages: what the user gave */
	pitr_policy_default(&cfg.policy);
	if (retention &&
	    parse_duration_opt("--retention", retention, &cfg.policy.retention))
		return 2;
	if (lstat(target, &st) == 0) {
		warnx("cannot restore into '%s': it exists; restore creates a "
		      "new account",
		      target);
		return 1;
	}
	snprintf(parent, sizeof(parent), "%s", target);
	if (stat(dirname(parent), &st) || !S_ISDIR(st.st_mode)) {
		warnx("cannot restore into '%s': no parent directory '%s'",
		      target, parent);
		return 1;
	}
	if (mnt && mount_point_bad(mnt))
		return 1;
	if (from_backup) {
		/* The media alone: replay them into a hidden account, then
		 * restore from it exactly as from a live one. */
		uint64_t until, complete = 0, now = pitr_clock();
		char c1[PITR_TIME_LEN];
		if (pitr_time_parse(when, strlen(when), now, &until)) {
			warnx("invalid time '%s': use RFC 3339, e.g. "
			      "2021-01-15T10:00:00Z, or a relative time such "
			      "as -5m",
			      when);
			return 2;
		}
		if (when[0] == '-') {
			/* Relative to the media's end, not to now: -0s is
			 * the latest instant they prove complete. */
			int vrc = pitr_backup_verify(source, ignore_problem,
						     NULL, NULL, &complete);
			if (vrc && vrc != PITR_CORRUPT) {
				warnx("cannot read the backup in '%s': %s",
				      source, pitr_strerror(vrc));
				return 1;
			}
			if (!complete) {
				warnx("the backup in '%s' is complete up to "
				      "no instant (see pitr verify)",
				      source);
				return 1;
			}
			pitr_time_parse(when, strlen(when), complete, &until);
			if (vrc)
				warnx("the backup in '%s' is damaged after %s "
				      "(see pitr verify): '%s' counts back "
				      "from there",
				      source, pitr_time_format(complete, c1),
				      when);
			when = pitr_time_format(until, from_buf);
		}
		snprintf(replay, sizeof(replay), "%s.replay-%ld", target,
			 (long)getpid());
		int brc = pitr_backup_replay(source, replay, until, &complete);
		if (brc == PITR_OUTOFRANGE) {
			warnx("the backup in '%s' is complete only up to %s; "
			      "'%s' is later (see pitr verify)",
			      source,
			      complete ? pitr_time_format(complete, c1) : "-",
			      when);
			return 1;
		}
		if (brc) {
			const char *why = pitr_backup_media_error();
			warnx("cannot read the backup in '%s': %s", source,
			      *why ? why : pitr_strerror(brc));
			return 1;
		}
		source = replay;
	}
	src_store = open_store(source, 0);
	if (!src_store)
		goto out_replay;
	if ((rc = parse_instant(src_store, when, &at)))
		goto out;
	pitr_time_format(at, when_buf);
	/* One snapshot of the source for the whole restore. */
	if ((rc = pitr_txn_begin(src_store, PITR_TXN_READ, &src))) {
		warnx("cannot read '%s': %s", source, pitr_strerror(rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	if (check_selection(src, sel, nsel, at, when_buf))
		goto out;

	remove_stale(target);
	snprintf(tmp, sizeof(tmp), "%s.restoring-%ld", target, (long)getpid());
	cfg.max_doc_size = pitr_store_max_doc(src_store);
	snprintf(parent, sizeof(parent), "%s", target);
	cfg.name = basename(parent);
	int crc = pitr_store_create(tmp, &cfg);
	if (!crc)
		crc = pitr_store_open(tmp, PITR_OPEN_DAEMON | PITR_OPEN_BULK,
				      &dst);
	if (crc) {
		warnx("cannot create '%s': %s", tmp, pitr_strerror(crc));
		goto out_destroy;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	prog.on = isatty(2);
	prog.start = prog.last = mono();
	if (prog.on)
		prog.total = nsel ? 0 : count_docs(src, 0, 0, at);

	crc = pitr_txn_begin(dst, PITR_TXN_WRITE, &dt);
	if (!nsel) {
		pitr_iter *it = NULL;
		pitr_entry e;
		if (!crc)
			crc = pitr_iter_begin(src, PITR_LIST_DATABASES, 0, at,
					      NULL, 0, 0, &it);
		while (!crc && (crc = pitr_iter_next(it, &e)) == 0) {
			char name[PITR_NAME_MAX + 1];
			memcpy(name, e.name, e.namelen);
			name[e.namelen] = 0;
			crc =
			    restore_db(&dt, src, name, e.inc, NULL, at, &prog);
		}
		pitr_iter_end(it);
		if (crc == PITR_NOTFOUND)
			crc = 0;
	}
	for (int i = 0; !crc && i < nsel; i++) {
		uint64_t db;
		crc =
		    pitr_db_lookup(src, at, sel[i].db, strlen(sel[i].db), &db);
		if (!crc)
			crc = restore_db(&dt, src, sel[i].db, db, sel[i].ct, at,
					 &prog);
	}
	if (!crc && interrupted)
		crc = EINTR;
	if (!crc) {
		crc = pitr_txn_commit(dt, NULL);
		dt = NULL;
	}
	if (!crc)
		crc = pitr_store_sync(dst);
	if (crc) {
		warnx("restore into '%s' failed: %s", target,
		      crc == EINTR ? "interrupted" : pitr_strerror(crc));
		goto out_destroy;
	}
	progress_show(&prog, 1);
	pitr_txn_abort(src);
	src = NULL;
	pitr_store_close(dst);
	dst = NULL;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_NOREPLACE)) {
		warn("cannot rename '%s' to '%s'", tmp, target);
		goto out_destroy;
	}
	/* The rename itself must reach the disk. */
	snprintf(parent, sizeof(parent), "%s", target);
	int dfd = open(dirname(parent), O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	fprintf(stderr, "restored '%s' at %s into '%s': %llu documents\n",
		named, when_buf, target, (unsigned long long)prog.done);
	rc = mnt ? (mount_target(argv[0], target, mnt) ? 1 : 0) : 0;
	goto out;
out_destroy:
	pitr_txn_abort(dt);
	pitr_store_close(dst);
	dst = NULL;
	pitr_store_destroy(tmp);
	rc = 1;
out:
	pitr_txn_abort(src);
	pitr_store_close(dst);
	pitr_store_close(src_store);
out_replay:
	if (*replay)
		pitr_store_destroy(replay);
	return rc;
}
