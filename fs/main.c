/*
 * main.c - pitrfs [options] STORE MOUNTPOINT: open the account, mount it,
 * serve until unmounted or signalled, and sync what was committed.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "node.h"

struct fs fs = { .history_gid = (gid_t)-1 };

struct options {
	char *store;
	char *backup_dir;
	char *history_group;
	char *sync_interval;
	char *backup_interval;
	int show_help;
	int shared; /* allow_other or allow_root: others may enter */
};

enum { KEY_SHARED = 1 };

#define OPT(t, p)                                                              \
	{                                                                      \
		t, offsetof(struct options, p), 1                              \
	}
static const struct fuse_opt option_spec[] = {
	/* "--opt %s" matches "--opt VALUE" and "--opt=VALUE" (as "=VALUE") */
	OPT("--backup-dir %s", backup_dir),
	OPT("--backup-interval %s", backup_interval),
	OPT("--history-group %s", history_group),
	OPT("--sync-interval %s", sync_interval),
	FUSE_OPT_KEY("allow_other", KEY_SHARED),
	FUSE_OPT_KEY("allow_root", KEY_SHARED),
	FUSE_OPT_END
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: pitrfs [options] STORE MOUNTPOINT\n"
	    "\n"
	    "Mount the pitrfs account STORE at MOUNTPOINT: the live account\n"
	    "read-write, and MOUNTPOINT/@<time>/ as it was at that time.\n"
	    "\n"
	    "pitrfs options:\n"
	    "    --sync-interval=S      flush commits to disk within S seconds "
	    "(default 1)\n"
	    "    --history-group=GROUP  this group may read history views too\n"
	    "    --backup-dir=DIR       copy every mutation to DIR, the backup "
	    "media\n"
	    "    --backup-interval=S    ship to it every S seconds (default "
	    "1;\n"
	    "                           backoff up to 16 s while it fails)\n"
	    "    -f                     stay in the foreground, log to stderr\n"
	    "    -o OPT[,OPT...]        FUSE mount options\n"
	    "    -h, --help             this help\n"
	    "    -V, --version          version\n");
}

void fs_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (fs.foreground) {
		fputs("pitrfs: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}

/* The first non-option is the store; the second is left for FUSE. */
static int option_proc(void *data, const char *arg, int key,
		       struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	if (key == FUSE_OPT_KEY_NONOPT && !o->store) {
		o->store = strdup(arg);
		return 0;
	}
	if (key == KEY_SHARED)
		o->shared = 1;
	return 1; /* kept for FUSE */
}

static pthread_mutex_t sync_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond = PTHREAD_COND_INITIALIZER;
static int sync_stop;
static double sync_interval = 1.0;
static unsigned backup_interval = 1; /* seconds between shipments */

/* Commits write their data at once; this bounds how long until the rest
 * (LMDB's meta page) is on disk too. */
static void *syncer(void *arg)
{
	unsigned long synced = 0;
	struct timespec until;

	(void)arg;
	pthread_mutex_lock(&sync_mtx);
	while (!sync_stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		long ns = (long)(sync_interval * 1e9);
		until.tv_sec += ns / 1000000000L;
		until.tv_nsec += ns % 1000000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sync_cond, &sync_mtx, &until);
		unsigned long now = atomic_load(&fs.commits);
		if (now != synced) {
			int rc = pitr_store_sync(fs.store);
			if (rc)
				fs_log(LOG_ERR, "sync failed: %s",
				       pitr_strerror(rc));
			else
				synced = now;
		}
	}
	pthread_mutex_unlock(&sync_mtx);
	return NULL;
}

/*
 * Retention: prune what left the window, a little at a time (pitr_prune
 * commits every 1000 mutations, so writers never wait long). It runs every
 * tenth of the retention, between 1 s and 60 s.
 */
static void *pruner(void *arg)
{
	pitr_prune_stats st;
	pitr_policy p;
	struct timespec until;
	int failing = 0;

	(void)arg;
	pthread_mutex_lock(&sync_mtx);
	while (!sync_stop) {
		pitr_store_policy(fs.store, &p);
		uint64_t every = p.retention / 10;
		if (every < PITR_NS_PER_SEC)
			every = PITR_NS_PER_SEC;
		if (every > 60 * PITR_NS_PER_SEC)
			every = 60 * PITR_NS_PER_SEC;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)(every / PITR_NS_PER_SEC);
		pthread_cond_timedwait(&sync_cond, &sync_mtx, &until);
		if (sync_stop)
			break;
		pthread_mutex_unlock(&sync_mtx);
		int rc = pitr_prune(fs.store, pitr_store_now(fs.store), 0, &st);
		if (rc && !failing) /* once per change of state, not per try */
			fs_log(LOG_ERR, "pruning failed: %s",
			       pitr_strerror(rc));
		else if (!rc && failing)
			fs_log(LOG_INFO, "pruning works again");
		failing = rc != 0;
		if (!rc && st.versions + st.events)
			atomic_fetch_add(&fs.commits, 1);
		pthread_mutex_lock(&sync_mtx);
	}
	pthread_mutex_unlock(&sync_mtx);
	return NULL;
}

/*
 * Backup media: ship what is pending every second; when the directory
 * fails, retry with backoff up to 16 s, logging once per change of state.
 */
static void *shipper(void *arg)
{
	pitr_backup_info b;
	struct timespec until;
	int failing = 0;
	unsigned backoff = 1;

	(void)arg;
	pthread_mutex_lock(&sync_mtx);
	while (!sync_stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += failing ? backoff : backup_interval;
		pthread_cond_timedwait(&sync_cond, &sync_mtx, &until);
		if (sync_stop)
			break;
		pthread_mutex_unlock(&sync_mtx);
		/* idle, the latest restorable instant still moves on */
		if (pitr_backup_status(fs.store, &b) == 0 && *b.dir &&
		    (b.pending ||
		     pitr_clock() > b.shipped + 5 * PITR_NS_PER_SEC)) {
			int rc = pitr_backup_ship(fs.store, 1, NULL);
			if (rc && !failing)
				fs_log(LOG_ERR,
				       "backup to '%s' failing, will "
				       "retry: %s",
				       b.dir, pitr_strerror(rc));
			else if (!rc && failing)
				fs_log(LOG_INFO, "backup to '%s' works again",
				       b.dir);
			failing = rc != 0;
			backoff =
			    failing ? (backoff < 16 ? backoff * 2 : 16) : 1;
		}
		pthread_mutex_lock(&sync_mtx);
	}
	pthread_mutex_unlock(&sync_mtx);
	return NULL;
}

/* The value of an option given as "--opt=VALUE" or "--opt VALUE". */
static const char *value(const char *v)
{
	return v[0] == '=' ? v + 1 : v;
}

static int parse_options(struct options *o)
{
	if (o->history_group) {
		struct group *g = getgrnam(value(o->history_group));
		if (!g) {
			fprintf(stderr, "pitrfs: no such group '%s'\n",
				value(o->history_group));
			return -1;
		}
		fs.history_gid = g->gr_gid;
	}
	if (o->backup_interval) {
		char *end;
		unsigned long v = strtoul(value(o->backup_interval), &end, 10);
		if (*end || !*value(o->backup_interval) || v < 1 || v > 60) {
			fprintf(stderr,
				"pitrfs: invalid --backup-interval '%s': "
				"1 to 60 seconds\n",
				value(o->backup_interval));
			return -1;
		}
		backup_interval = (unsigned)v;
	}
	if (o->sync_interval) {
		char *end;
		sync_interval = strtod(value(o->sync_interval), &end);
		if (*end || !(sync_interval > 0 && sync_interval <= 3600)) {
			fprintf(stderr,
				"pitrfs: invalid --sync-interval '%s'\n",
				value(o->sync_interval));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd = { 0 };
	struct options o = { 0 };
	struct fuse_loop_config *loop;
	char store[PATH_MAX], opts[PATH_MAX + 64];
	pthread_t sync_thread, prune_thread, ship_thread;
	int rc, ret = 1;

	if (fuse_opt_parse(&args, &o, option_spec, option_proc) ||
	    fuse_parse_cmdline(&args, &cmd)) {
		usage(stderr);
		ret = 2;
		goto out_args;
	}
	if (cmd.show_help || cmd.show_version) {
		if (cmd.show_help)
			usage(stdout);
		else
			printf("pitrfs %s (libfuse %s)\n", PITR_VERSION_STRING,
			       fuse_pkgversion());
		ret = 0;
		goto out_args;
	}
	if (!o.store || !cmd.mountpoint) {
		usage(stderr);
		ret = 2;
		goto out_args;
	}
	if (parse_options(&o)) {
		ret = 2;
		goto out_args;
	}
	if (!realpath(o.store, store)) {
		fprintf(stderr, "pitrfs: cannot open store '%s': %s\n", o.store,
			strerror(errno));
		goto out_args;
	}
	rc = pitr_store_open(store, PITR_OPEN_DAEMON, &fs.store);
	if (rc) {
		fprintf(stderr, "pitrfs: cannot open store '%s': %s\n", o.store,
			pitr_strerror(rc));
		goto out_args;
	}
	fs.store_path = store;
	if (o.backup_dir) {
		/* kept in the account: a remount ships there too */
		char dir[PATH_MAX + 1], cwd[PATH_MAX];
		const char *bd = value(o.backup_dir);
		if (bd[0] != '/' && getcwd(cwd, sizeof(cwd)))
			snprintf(dir, sizeof(dir), "%.2000s/%.2000s", cwd, bd);
		else
			snprintf(dir, sizeof(dir), "%s", bd);
		rc = pitr_backup_set_dir(fs.store, dir);
		if (rc) {
			fprintf(stderr,
				"pitrfs: cannot set the backup "
				"directory: %s\n",
				pitr_strerror(rc));
			goto out_store;
		}
	}
	fs.uid = getuid();
	fs.gid = getgid();
	fs.foreground = cmd.foreground;
	fs.mounted = pitr_clock();
	node_table_init();
	/*
	 * When others may enter, the kernel checks permissions from the modes
	 * we report: history is readable by the owner (and --history-group)
	 * only. Else it admits the owner alone, who may read everything and
	 * write everything live: checking modes would protect nothing and
	 * cost a GETATTR of the directory after each create and unlink in it.
	 */
	snprintf(opts, sizeof(opts), "-o%sfsname=pitrfs,subtype=pitrfs",
		 o.shared ? "default_permissions," : "");
	fuse_opt_add_arg(&args, opts);
	fs.se = fuse_session_new(&args, &pitrfs_ops, sizeof(pitrfs_ops), NULL);
	if (!fs.se)
		goto out_store;
	/* Started in the background by a shell, SIGINT comes ignored, and
	 * libfuse only replaces default actions: SIGINT must still unmount. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (fuse_set_signal_handlers(fs.se))
		goto out_session;
	if (fuse_session_mount(fs.se, cmd.mountpoint)) {
		fprintf(stderr, "pitrfs: cannot mount at '%s'\n",
			cmd.mountpoint);
		goto out_signals;
	}
	if (!cmd.foreground)
		openlog("pitrfs", LOG_PID, LOG_DAEMON);
	fuse_daemonize(cmd.foreground);
	/* Threads are started after daemonizing: fork keeps none. */
	if (pthread_create(&sync_thread, NULL, syncer, NULL))
		goto out_unmount;
	if (pthread_create(&prune_thread, NULL, pruner, NULL)) {
		prune_thread = sync_thread; /* joined once below */
		fs_log(LOG_ERR, "cannot start pruning: history will grow");
	}
	if (pthread_create(&ship_thread, NULL, shipper, NULL)) {
		ship_thread = sync_thread;
		fs_log(LOG_ERR, "cannot start shipping to backup media");
	}
	if (cmd.singlethread) {
		ret = fuse_session_loop(fs.se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, cmd.clone_fd);
		fuse_loop_cfg_set_max_threads(loop, 16);
		if (cmd.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop,
						       cmd.max_idle_threads);
		ret = fuse_session_loop_mt(fs.se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	/* libfuse reports an exit on SIGTERM, SIGINT or SIGHUP as that
	 * signal's number: for us it is a clean unmount. */
	if (ret == SIGTERM || ret == SIGINT || ret == SIGHUP)
		ret = 0;
	else if (ret)
		ret = 1;
	pthread_mutex_lock(&sync_mtx);
	sync_stop = 1;
	pthread_cond_broadcast(&sync_cond);
	pthread_mutex_unlock(&sync_mtx);
	pthread_join(sync_thread, NULL);
	if (!pthread_equal(prune_thread, sync_thread))
		pthread_join(prune_thread, NULL);
	if (!pthread_equal(ship_thread, sync_thread))
		pthread_join(ship_thread, NULL);
	ops_release_all();
	rc = pitr_store_sync(fs.store);
	if (rc) {
		fs_log(LOG_ERR, "final sync failed: %s", pitr_strerror(rc));
		ret = 1;
	}
out_unmount:
	fuse_session_unmount(fs.se);
out_signals:
	fuse_remove_signal_handlers(fs.se);
out_session:
	fuse_session_destroy(fs.se);
out_store:
	node_table_free();
	pitr_store_close(fs.store);
out_args:
	free(cmd.mountpoint);
	free(o.store);
	free(o.backup_dir);
	free(o.history_group);
	free(o.sync_interval);
	free(o.backup_interval);
	fuse_opt_free_args(&args);
	return ret;
}
