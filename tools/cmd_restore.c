/*
 * cmd_restore.c - pitr restore: a past state of an account, or of chosen
 * databases and containers, into a new account.
 *
 * The options, the progress bar and the mount; the restore itself is
 * core's (pitr_restore: built aside, renamed into place whole).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
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
    "                    [--retention D] [--mount MNT] [--json]\n"
    "       pitr restore DIR|s3://BUCKET/PREFIX TARGET --from-backup --at T\n"
    "                    [--database ...] [--retention D] [--mount MNT] [--json]\n"
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
    "  --from-backup    SOURCE is backup media (a directory or s3://BUCKET/\n"
    "                   PREFIX): rebuild from them alone\n"
    "  --json           at the end, one JSON object on stdout: source,\n"
    "                   instant, target and documents restored\n";

static void ignore_problem(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	(void)arg;
}

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

static int on_progress(uint64_t done, void *arg)
{
	struct progress *p = arg;

	p->done = done;
	progress_show(p, 0);
	return interrupted ? EINTR : 0;
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

/* The instant `t` (`text`) of an account replayed from backup media
 * complete up to `complete`: its window ends there, however long the
 * replay took. */
static int replayed_instant(pitr_store *s, const char *text, uint64_t t,
			    uint64_t complete, uint64_t *at)
{
	char a[PITR_TIME_LEN], b[PITR_TIME_LEN];
	int rc = pitr_store_resolve_asof(s, t, complete, at);

	if (rc == PITR_OUTOFRANGE) {
		warnx("time '%s' is outside the backup's restorable window "
		      "[%s, %s]",
		      text,
		      pitr_time_format(pitr_store_window_start(s, complete), a),
		      pitr_time_format(complete, b));
		return 1;
	}
	if (rc) {
		warnx("cannot use time '%s': %s", text, pitr_strerror(rc));
		return 1;
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
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *when = NULL, *mnt = NULL, *retention = NULL;
	char parent[PATH_MAX], when_buf[PITR_TIME_LEN];
	pitr_selection sel[64];
	char *slash;
	struct progress prog = { 0 };
	pitr_config cfg = { 0 };
	pitr_restore_stats st;
	pitr_store *src_store = NULL;
	pitr_txn *src = NULL;
	struct stat sb;
	uint64_t at, until = 0, complete = 0;
	int c, nsel = 0, rc = 1, from_backup = 0, json = 0;
	char replay[PATH_MAX] = "", from_buf[PITR_TIME_LEN];

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			when = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'd':
			if (nsel == (int)(sizeof(sel) / sizeof(sel[0]))) {
				warnx("too many --database options");
				return 2;
			}
			slash = strchr(optarg, '/');
			if (slash)
				*slash = 0;
			sel[nsel].db = optarg;
			sel[nsel].ct = slash ? slash + 1 : NULL;
			if (pitr_name_check(sel[nsel].db,
					    strlen(sel[nsel].db)) ||
			    (sel[nsel].ct &&
			     pitr_name_check(sel[nsel].ct,
					     strlen(sel[nsel].ct)))) {
				if (slash)
					*slash = '/'; /* as given */
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
	if (lstat(target, &sb) == 0) {
		warnx("cannot restore into '%s': it exists; restore creates a "
		      "new account",
		      target);
		return 1;
	}
	snprintf(parent, sizeof(parent), "%s", target);
	if (stat(dirname(parent), &sb) || !S_ISDIR(sb.st_mode)) {
		warnx("cannot restore into '%s': no parent directory '%s'",
		      target, parent);
		return 1;
	}
	if (mnt && mount_point_bad(mnt))
		return 1;
	if (from_backup) {
		/* The media alone: replay them into a hidden account, then
		 * restore from it exactly as from a live one. */
		uint64_t now = pitr_clock();
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
		if (pitr_stage_path(target, "replay", replay,
				    sizeof(replay))) {
			warnx("cannot restore into '%s': %s", target,
			      strerror(ENAMETOOLONG));
			return 1;
		}
		pitr_stage_clean(target);
		int brc = pitr_backup_replay(source, replay, until, &complete);
		uint64_t start;
		if (brc == PITR_OUTOFRANGE && complete >= until &&
		    pitr_backup_start(source, &start) == 0 && until < start) {
			warnx("the backup in '%s' holds history from %s on; "
			      "'%s' is earlier",
			      source, pitr_time_format(start, c1), when);
			return 1;
		}
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
	src_store = open_reader(source);
	if (!src_store)
		goto out_replay;
	if ((rc = from_backup
		      ? replayed_instant(src_store, when, until, complete, &at)
		      : parse_instant(src_store, when, &at)))
		goto out;
	pitr_time_format(at, when_buf);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	prog.on = isatty(2);
	prog.start = prog.last = mono();
	if (prog.on && !nsel &&
	    pitr_txn_begin(src_store, PITR_TXN_READ, &src) == 0) {
		prog.total = pitr_count_documents(src, at);
		pitr_txn_abort(src);
	}
	rc = pitr_restore(src_store, at, sel, (size_t)nsel, target, &cfg,
			  on_progress, &prog, &st);
	if (rc == PITR_NOTFOUND && st.bad >= 0) {
		if (sel[st.bad].ct)
			warnx("container '%s/%s' did not exist at %s",
			      sel[st.bad].db, sel[st.bad].ct, when_buf);
		else
			warnx("database '%s' did not exist at %s",
			      sel[st.bad].db, when_buf);
		rc = 1;
		goto out;
	}
	if (rc) {
		warnx("restore into '%s' failed: %s%s%s", target,
		      rc == EINTR ? "interrupted" : pitr_strerror(rc),
		      *st.error ? ": " : "", st.error);
		rc = 1;
		goto out;
	}
	prog.done = st.docs;
	progress_show(&prog, 1);
	fprintf(stderr, "restored '%s' at %s into '%s': %llu documents\n",
		named, when_buf, target, (unsigned long long)prog.done);
	if (json) {
		printf("{\"source\":");
		json_string(stdout, named, strlen(named));
		printf(",\"at\":\"%s\",\"target\":", when_buf);
		json_string(stdout, target, strlen(target));
		printf(",\"documents\":%llu}\n", (unsigned long long)prog.done);
		fflush(stdout);
	}
	rc = mnt ? (mount_target(argv[0], target, mnt) ? 1 : 0) : 0;
out:
	pitr_store_close(src_store);
out_replay:
	if (*replay)
		pitr_store_destroy(replay);
	return rc;
}
