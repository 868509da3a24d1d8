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

/* The pitrfs options: each as "--backup-dir=DIR" (or "--backup-dir DIR")
 * and as "-o backup_dir=DIR", which mount(8) and fstab give. */
enum {
	O_BACKUP_DIR,
	O_BACKUP_INTERVAL,
	O_HISTORY_GROUP,
	O_SYNC_INTERVAL,
	O_LOG_FILE,
	O_BACKUP_URL,
	O_S3_ENDPOINT,
	O_S3_REGION,
	O_S3_CREDENTIALS,
	O_COUNT
};

static const struct {
	const char *dashed; /* "--name" */
	const char *opt;    /* "name=", as in -o */
} opt_names[O_COUNT] = {
	[O_BACKUP_DIR] = { "--backup-dir", "backup_dir=" },
	[O_BACKUP_INTERVAL] = { "--backup-interval", "backup_interval=" },
	[O_HISTORY_GROUP] = { "--history-group", "history_group=" },
	[O_SYNC_INTERVAL] = { "--sync-interval", "sync_interval=" },
	[O_LOG_FILE] = { "--log-file", "log_file=" },
	[O_BACKUP_URL] = { "--backup-url", "backup_url=" },
	[O_S3_ENDPOINT] = { "--s3-endpoint", "s3_endpoint=" },
	[O_S3_REGION] = { "--s3-region", "s3_region=" },
	[O_S3_CREDENTIALS] = { "--s3-credentials", "s3_credentials=" },
};

struct options {
	char *store;
	char *val[O_COUNT]; /* NULL: not given */
	int shared;	    /* allow_other or allow_root: others may enter */
	int xattr;	    /* -o xattr: serve user.pitr.ts and user.pitr.etag */
};

enum { KEY_SHARED = 1, KEY_XATTR, KEY_OPT = 16 /* + O_... */ };

static const struct fuse_opt option_spec[] = {
	/* "name=" matches "name=VALUE", VALUE possibly empty */
	FUSE_OPT_KEY("backup_dir=", KEY_OPT + O_BACKUP_DIR),
	FUSE_OPT_KEY("backup_interval=", KEY_OPT + O_BACKUP_INTERVAL),
	FUSE_OPT_KEY("history_group=", KEY_OPT + O_HISTORY_GROUP),
	FUSE_OPT_KEY("sync_interval=", KEY_OPT + O_SYNC_INTERVAL),
	FUSE_OPT_KEY("log_file=", KEY_OPT + O_LOG_FILE),
	FUSE_OPT_KEY("backup_url=", KEY_OPT + O_BACKUP_URL),
	FUSE_OPT_KEY("s3_endpoint=", KEY_OPT + O_S3_ENDPOINT),
	FUSE_OPT_KEY("s3_region=", KEY_OPT + O_S3_REGION),
	FUSE_OPT_KEY("s3_credentials=", KEY_OPT + O_S3_CREDENTIALS),
	FUSE_OPT_KEY("allow_other", KEY_SHARED),
	FUSE_OPT_KEY("allow_root", KEY_SHARED),
	FUSE_OPT_KEY("xattr", KEY_XATTR),
	FUSE_OPT_END
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: pitrfs [options] STORE MOUNTPOINT\n"
	    "       mount -t fuse.pitrfs STORE MOUNTPOINT [-o OPT[,OPT...]]\n"
	    "\n"
	    "Mount the pitrfs account STORE at MOUNTPOINT: the live account\n"
	    "read-write, and MOUNTPOINT/@<time>/ as it was at that time.\n"
	    "\n"
	    "pitrfs options (each also as -o name=value, e.g. -o "
	    "backup_dir=DIR):\n"
	    "    --sync-interval=S      flush commits to disk within S seconds "
	    "(default 1)\n"
	    "    --history-group=GROUP  this group may read history views too\n"
	    "    --backup-dir=DIR       copy every mutation to DIR, the backup "
	    "media\n"
	    "    --backup-url=s3://BUCKET/PREFIX\n"
	    "                           ship to an S3 object store instead\n"
	    "    --s3-endpoint=URL      its endpoint (or PITR_S3_ENDPOINT)\n"
	    "    --s3-region=REGION     its region (or AWS_REGION)\n"
	    "    --s3-credentials=FILE  an AWS-style credentials file (or\n"
	    "                           AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\n"
	    "                           in the environment; never as options)\n"
	    "    --backup-interval=S    ship to it every S seconds (default "
	    "1;\n"
	    "                           backoff up to 16 s while it fails)\n"
	    "    --log-file=FILE        log there (default: stderr with -f,\n"
	    "                           else syslog)\n"
	    "    -o xattr               show user.pitr.ts and user.pitr.etag on\n"
	    "                           documents (costs a request per getxattr,\n"
	    "                           ls -l and truncating open included)\n"
	    "    -f                     stay in the foreground, log to stderr\n"
	    "    -o OPT[,OPT...]        mount options: the above, and FUSE's\n"
	    "                           (allow_other, allow_root, ro, ...)\n"
	    "    -h, --help             this help\n"
	    "    -V, --version          version\n");
}

/* Keep VALUE for option i (the last one given wins). */
static int set_opt(struct options *o, int i, const char *v)
{
	free(o->val[i]);
	o->val[i] = strdup(v);
	return o->val[i] ? 0 : -1;
}

/* The first non-option is the store; the second is left for FUSE. */
static int option_proc(void *data, const char *arg, int key,
		       struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	if (key == FUSE_OPT_KEY_NONOPT && !o->store) {
		o->store = strdup(arg);
		return o->store ? 0 : -1;
	}
	if (key >= KEY_OPT && key < KEY_OPT + O_COUNT)
		return set_opt(o, key - KEY_OPT,
			       arg + strlen(opt_names[key - KEY_OPT].opt));
	if (key == KEY_SHARED)
		o->shared = 1;
	if (key == KEY_XATTR) {
		o->xattr = 1;
		return 0; /* ours alone */
	}
	return 1; /* kept for FUSE */
}

/*
 * Take the "--name=VALUE" and "--name VALUE" options out of argv into o;
 * the rest goes to args, for fuse_opt. -1 when a value is missing.
 */
static int take_dashed(int argc, char **argv, struct options *o,
		       struct fuse_args *args)
{
	int i, k;

	if (fuse_opt_add_arg(args, argv[0]))
		return -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "-o") == 0 && i + 1 < argc) {
			if (fuse_opt_add_arg(args, a))
				return -1;
			a = argv[++i]; /* never one of ours */
			if (fuse_opt_add_arg(args, a))
				return -1;
			continue;
		}
		for (k = 0; k < O_COUNT; k++) {
			size_t n = strlen(opt_names[k].dashed);
			if (strncmp(a, opt_names[k].dashed, n) != 0)
				continue;
			if (a[n] == '=') {
				if (set_opt(o, k, a + n + 1))
					return -1;
				break;
			}
			if (a[n] == '\0') {
				if (i + 1 == argc) {
					fprintf(stderr,
						"pitrfs: option '%s' needs a "
						"value\n",
						a);
					return -1;
				}
				if (set_opt(o, k, argv[++i]))
					return -1;
				break;
			}
		}
		if (k == O_COUNT && fuse_opt_add_arg(args, a))
			return -1;
	}
	for (; i < argc; i++)
		if (fuse_opt_add_arg(args, argv[i]))
			return -1;
	return 0;
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

#define SHIP_AT_EXIT 10 /* seconds a clean unmount may ship for */

/*
 * A clean unmount ships what is still pending to the backup media, a
 * segment at a time, starting no segment after SHIP_AT_EXIT seconds.
 * What is left stays in the store and ships after the next mount.
 */
static void ship_pending(void)
{
	uint64_t until = pitr_clock() + SHIP_AT_EXIT * PITR_NS_PER_SEC;
	pitr_backup_info b;
	int rc = 0;

	if (pitr_backup_status(fs.store, &b) || !*b.dir)
		return;
	while (b.pending && pitr_clock() < until) {
		rc = pitr_backup_ship(fs.store, 0, NULL);
		if (rc || (rc = pitr_backup_status(fs.store, &b)))
			break;
	}
	if (rc)
		fs_log(LOG_ERR,
		       "unmounting: %llu mutations not shipped to '%s': %s; "
		       "they ship after the next mount",
		       (unsigned long long)b.pending, b.dir, pitr_strerror(rc));
	else if (b.pending)
		fs_log(LOG_ERR,
		       "unmounting: %llu mutations not shipped to '%s' "
		       "within %d s; they ship after the next mount",
		       (unsigned long long)b.pending, b.dir, SHIP_AT_EXIT);
}

/* Check the values of the pitrfs options; a message and -1 if one is bad. */
/* `p` made absolute against the directory pitrfs started in: the daemon
 * runs in "/". */
static void absolute(const char *p, char *out, size_t size)
{
	char cwd[PATH_MAX];

	if (p[0] != '/' && getcwd(cwd, sizeof(cwd)))
		snprintf(out, size, "%.2000s/%.2000s", cwd, p);
	else
		snprintf(out, size, "%s", p);
}

static int parse_options(struct options *o)
{
	const char *v;
	char *end;

	for (int i = 0; i < O_COUNT; i++) {
		if (o->val[i] && !*o->val[i]) {
			fprintf(stderr, "pitrfs: empty value of %s\n",
				opt_names[i].dashed);
			return -1;
		}
	}
	if ((v = o->val[O_HISTORY_GROUP])) {
		struct group *g = getgrnam(v);
		if (!g) {
			fprintf(stderr, "pitrfs: no such group '%s'\n", v);
			return -1;
		}
		fs.history_gid = g->gr_gid;
	}
	if (o->val[O_BACKUP_DIR] && o->val[O_BACKUP_URL]) {
		fprintf(stderr, "pitrfs: --backup-dir and --backup-url "
				"exclude each other\n");
		return -1;
	}
	if ((v = o->val[O_BACKUP_URL]) && strncmp(v, "s3://", 5)) {
		fprintf(stderr,
			"pitrfs: invalid --backup-url '%s': use "
			"s3://BUCKET/PREFIX\n",
			v);
		return -1;
	}
	/* for the media code, in this process and what it forks; a file
	 * named relative to where pitrfs started (the daemon runs in /) */
	char cred[PATH_MAX + 1] = "";
	if (!(v = o->val[O_S3_CREDENTIALS]))
		v = getenv("AWS_SHARED_CREDENTIALS_FILE");
	if (v && *v)
		absolute(v, cred, sizeof(cred));
	if (((v = o->val[O_S3_ENDPOINT]) && setenv("PITR_S3_ENDPOINT", v, 1)) ||
	    ((v = o->val[O_S3_REGION]) && setenv("PITR_S3_REGION", v, 1)) ||
	    (cred[0] && setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1))) {
		perror("pitrfs: setenv");
		return -1;
	}
	if ((v = o->val[O_BACKUP_INTERVAL])) {
		unsigned long n = strtoul(v, &end, 10);
		if (*end || n < 1 || n > 60) {
			fprintf(stderr,
				"pitrfs: invalid --backup-interval '%s': "
				"1 to 60 seconds\n",
				v);
			return -1;
		}
		backup_interval = (unsigned)n;
	}
	if ((v = o->val[O_SYNC_INTERVAL])) {
		sync_interval = strtod(v, &end);
		if (*end || !(sync_interval > 0 && sync_interval <= 3600)) {
			fprintf(stderr,
				"pitrfs: invalid --sync-interval '%s'\n", v);
			return -1;
		}
	}
	return 0;
}

/* Where the account at STORE (resolved) is mounted, into mnt; 0 if found. */
static int mounted_at(const char *store, char *mnt, size_t size)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char line[2 * PATH_MAX + 256], src[PATH_MAX], dir[PATH_MAX];
	char type[64];
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		/* fsname is the store: see below (octal escapes aside) */
		if (sscanf(line, "%4095s %4095s %63s", src, dir, type) == 3 &&
		    strcmp(type, "fuse.pitrfs") == 0 &&
		    strcmp(src, store) == 0) {
			snprintf(mnt, size, "%s", dir);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts cmd = { 0 };
	struct options o = { 0 };
	struct fuse_loop_config *loop;
	char store[PATH_MAX], where[PATH_MAX], fsname[PATH_MAX + 8];
	char *mopts = NULL;
	pthread_t sync_thread, prune_thread, ship_thread;
	int rc, ret = 1;

	if (take_dashed(argc, argv, &o, &args) ||
	    fuse_opt_parse(&args, &o, option_spec, option_proc) ||
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
	/*
	 * The session first: it refuses options neither we nor FUSE know
	 * (a usage error), before anything is opened. When others may enter,
	 * the kernel checks permissions from the modes we report: history is
	 * readable by the owner (and --history-group) only. Else it admits
	 * the owner alone, who may read everything and write everything
	 * live: checking modes would protect nothing and cost a GETATTR of
	 * the directory after each create and unlink in it. The store is
	 * the source in the mount table, as the remote is for sshfs.
	 */
	snprintf(fsname, sizeof(fsname), "fsname=%s", store);
	if ((o.shared && fuse_opt_add_opt(&mopts, "default_permissions")) ||
	    fuse_opt_add_opt_escaped(&mopts, fsname) ||
	    fuse_opt_add_opt(&mopts, "subtype=pitrfs") ||
	    fuse_opt_add_arg(&args, "-o") || fuse_opt_add_arg(&args, mopts))
		goto out_args;
	fs.xattr = o.xattr;
	fs.se = fuse_session_new(&args, &pitrfs_ops, sizeof(pitrfs_ops), NULL);
	if (!fs.se) {
		usage(stderr);
		ret = 2;
		goto out_args;
	}
	if (o.val[O_LOG_FILE] && (rc = fs_log_open(o.val[O_LOG_FILE]))) {
		fprintf(stderr, "pitrfs: cannot open log file '%s': %s\n",
			o.val[O_LOG_FILE], strerror(rc));
		goto out_session;
	}
	rc = pitr_store_open(store, PITR_OPEN_DAEMON, &fs.store);
	if (rc == PITR_BUSY && mounted_at(store, where, sizeof(where)) == 0) {
		fprintf(stderr, "pitrfs: cannot open store '%s': %s at '%s'\n",
			o.store, pitr_strerror(rc), where);
		goto out_session;
	}
	if (rc) {
		fprintf(stderr, "pitrfs: cannot open store '%s': %s\n", o.store,
			pitr_strerror(rc));
		goto out_session;
	}
	fs.store_path = store;
	/* the media (a directory made absolute, or a URL) are kept in the
	 * account: a remount ships there too */
	char media[PATH_MAX + 1];
	media[0] = 0;
	if (o.val[O_BACKUP_DIR])
		absolute(o.val[O_BACKUP_DIR], media, sizeof(media));
	if (o.val[O_BACKUP_URL])
		snprintf(media, sizeof(media), "%s", o.val[O_BACKUP_URL]);
	if (media[0] && (rc = pitr_backup_set_dir(fs.store, media))) {
		fprintf(stderr, "pitrfs: cannot set the backup media: %s\n",
			pitr_strerror(rc));
		goto out_store;
	}
	fs.uid = getuid();
	fs.gid = getgid();
	fs.foreground = cmd.foreground;
	fs.mounted = pitr_clock();
	node_table_init();
	/* Started in the background by a shell, SIGINT comes ignored, and
	 * libfuse only replaces default actions: SIGINT must still unmount. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (fuse_set_signal_handlers(fs.se))
		goto out_store;
	if (fuse_session_mount(fs.se, cmd.mountpoint)) {
		fprintf(stderr, "pitrfs: cannot mount at '%s'\n",
			cmd.mountpoint);
		goto out_signals;
	}
	if (!cmd.foreground)
		fs_log_daemon();
	fs_log_fuse();
	fuse_daemonize(cmd.foreground);
	/* In the background this is the child of a fork, which inherits
	 * none of the LMDB environment's record locks: without them, the
	 * next pitr to open the store would reset its lock file, and a
	 * writer here could wait for LMDB's write lock for ever. */
	if (!cmd.foreground && (rc = pitr_store_forked(fs.store))) {
		fs_log(LOG_ERR, "cannot reopen store '%s' in the background: %s",
		       store, pitr_strerror(rc));
		goto out_unmount;
	}
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
	ship_pending();
	rc = pitr_store_sync(fs.store);
	if (rc) {
		fs_log(LOG_ERR, "final sync failed: %s", pitr_strerror(rc));
		ret = 1;
	}
out_unmount:
	fuse_session_unmount(fs.se);
out_signals:
	fuse_remove_signal_handlers(fs.se);
out_store:
	node_table_free();
	pitr_store_close(fs.store);
out_session:
	fuse_session_destroy(fs.se);
out_args:
	fs_log_close();
	free(mopts);
	free(cmd.mountpoint);
	free(o.store);
	for (int i = 0; i < O_COUNT; i++)
		free(o.val[i]);
	fuse_opt_free_args(&args);
	return ret;
}
