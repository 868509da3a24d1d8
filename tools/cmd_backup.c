/*
 * cmd_backup.c - backup media and checks: pitr backup STORE status|flush,
 * pitr verify, pitr repair, pitr compact.
 */
#include <err.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

static const char backup_usage[] =
    "usage: pitr backup STORE status [--json]\n"
    "       pitr backup STORE flush [--json]\n"
    "       pitr backup STORE set DIR|s3://BUCKET/PREFIX [--json]\n"
    "       pitr backup STORE unset [--json]\n"
    "\n"
    "status: the backup media, lag (age of the oldest mutation not\n"
    "yet on the media), pending mutations, latest-restorable (everything\n"
    "at or before it is on the media) and the last error.\n"
    "flush: copy every pending mutation to the media now, and wait.\n"
    "set: ship to DIR or the bucket from now on, as pitrfs --backup-dir DIR\n"
    "or --backup-url does (an S3 bucket's endpoint, region and keys come\n"
    "from the environment, see pitr(1)).\n"
    "unset: ship nowhere; what was pending may then be pruned.\n"
    "The daemon (pitrfs --backup-dir or --backup-url) ships by itself within\n"
    "seconds.\n"
    "\n"
    "  --json     one JSON object\n";

/* Set (dir) or remove (NULL) the account's backup media. */
static int set_dir(pitr_store *s, const char *store, const char *dir, int json)
{
	char path[4096], cwd[2048];
	int rc;

	if (dir && dir[0] != '/' && strncmp(dir, "s3://", 5)) {
		if (!getcwd(cwd, sizeof(cwd))) {
			warn("cannot resolve '%s'", dir);
			return 1;
		}
		snprintf(path, sizeof(path), "%s/%s", cwd, dir);
		dir = path;
	}
	rc = pitr_backup_set_dir(s, dir);
	if (rc) {
		warnx("cannot change the backup media of '%s': %s", store,
		      pitr_strerror(rc));
		return 1;
	}
	if (json) {
		printf("{\"dir\":");
		if (dir)
			json_string(stdout, dir, strlen(dir));
		else
			printf("null");
		printf("}\n");
	} else {
		printf("backup media: %s\n", dir ? dir : "(none)");
	}
	return 0;
}

static int status(pitr_store *s, const char *store, int json)
{
	char t1[PITR_TIME_LEN] = "-", lag[32] = "0s";
	pitr_backup_info b;
	int rc = pitr_backup_status(s, &b);

	if (rc) {
		warnx("cannot read backup status of '%s': %s", store,
		      pitr_strerror(rc));
		return 1;
	}
	if (b.shipped)
		pitr_time_format(b.shipped, t1);
	uint64_t now = pitr_clock(), l = 0;
	if (b.oldest_pending && now > b.oldest_pending)
		l = now - b.oldest_pending;
	if (l >= PITR_NS_PER_SEC)
		pitr_duration_format(l / PITR_NS_PER_SEC * PITR_NS_PER_SEC, lag,
				     sizeof(lag));
	else if (l)
		snprintf(lag, sizeof(lag), "%.3fs", l / 1e9);
	if (json) {
		printf("{\"dir\":");
		json_string(stdout, b.dir, strlen(b.dir));
		printf(",\"lag_ns\":%" PRIu64 ",\"pending\":%" PRIu64
		       ",\"latest_restorable\":",
		       l, b.pending);
		if (b.shipped)
			printf("\"%s\"", t1);
		else
			printf("null");
		printf(",\"last_error\":");
		if (*b.error)
			json_string(stdout, b.error, strlen(b.error));
		else
			printf("null");
		printf("}\n");
	} else {
		printf("dir: %s\n", *b.dir ? b.dir : "(none)");
		printf("lag: %s\n", lag);
		printf("pending: %" PRIu64 "\n", b.pending);
		printf("latest-restorable: %s\n", t1);
		printf("last-error: %s\n", *b.error ? b.error : "none");
	}
	return 0;
}

int cmd_backup(int argc, char *argv[])
{
	pitr_store *s;
	uint64_t n = 0;
	int rc, json;
	const char *verb;

	if (wants_help(argc, argv))
		return usage_exit(backup_usage, 1);
	json = take_flag(&argc, argv, "--json");
	verb = argc >= 3 ? argv[2] : "";
	if (!strcmp(verb, "set")) {
		if (argc != 4 || !*argv[3])
			return usage_exit(backup_usage, 0);
	} else if (argc != 3 ||
		   (strcmp(verb, "status") && strcmp(verb, "flush") &&
		    strcmp(verb, "unset"))) {
		return usage_exit(backup_usage, 0);
	}
	if (argv[1][0] == '-')
		return usage_exit(backup_usage, 0);
	s = !strcmp(verb, "status") ? open_reader(argv[1])
				    : open_store(argv[1], 0);
	if (!s)
		return 1;
	if (!strcmp(verb, "status")) {
		rc = status(s, argv[1], json);
	} else if (!strcmp(verb, "set")) {
		rc = set_dir(s, argv[1], argv[3], json);
	} else if (!strcmp(verb, "unset")) {
		rc = set_dir(s, argv[1], NULL, json);
	} else {
		rc = pitr_backup_ship(s, 1, &n);
		const char *why = pitr_backup_media_error();
		if (rc)
			warnx("cannot flush '%s' to its backup media: %s%s%s",
			      argv[1], pitr_strerror(rc), *why ? ": " : "",
			      why);
		else if (json)
			printf("{\"flushed\":%" PRIu64 "}\n", n);
		else
			printf("flushed %" PRIu64 " mutations\n", n);
		rc = rc ? 1 : 0;
	}
	pitr_store_close(s);
	return rc;
}

static const char verify_usage[] =
    "usage: pitr verify STORE|DIR|s3://BUCKET/PREFIX [--sample N] [--json]\n"
    "\n"
    "Check every checksum of an account's log and every index entry against\n"
    "the log, or backup media's segments, their chain and their base. Names\n"
    "each damaged or missing record, entry or segment; exit status 1 if any.\n"
    "\n"
    "  --sample N  on media, read only N segments whole (the last one and\n"
    "              others at random) and the names of the rest: a bounded\n"
    "              check\n"
    "  --json      one JSON object per problem ({\"damaged\": WHERE,\n"
    "              \"problem\": WHAT}), then one for the verdict\n";

struct problems {
	int n, json;
};

static void problem(const char *where, const char *what, void *arg)
{
	struct problems *p = arg;

	p->n++;
	if (p->json) {
		printf("{\"damaged\":");
		json_string(stdout, where, strlen(where));
		printf(",\"problem\":");
		json_string(stdout, what, strlen(what));
		printf("}\n");
	} else {
		printf("damaged: %s: %s\n", where, what);
	}
}

int cmd_verify(int argc, char *argv[])
{
	char path[4096], buf[PATH_MAX];
	struct stat st;
	uint64_t n = 0, complete = 0;
	struct problems pr = { 0 };
	unsigned sample = 0;
	int rc;

	if (wants_help(argc, argv))
		return usage_exit(verify_usage, 1);
	pr.json = take_flag(&argc, argv, "--json");
	const char *sv;
	int has = take_option(&argc, argv, "--sample", &sv);
	if (has < 0)
		return usage_exit(verify_usage, 0);
	if (has) {
		char *end;
		unsigned long v = strtoul(sv, &end, 10);
		if (*end || !*sv || v < 1 || v > 1000000) {
			warnx("invalid --sample '%s': 1 to 1000000 segments",
			      sv);
			return 2;
		}
		sample = (unsigned)v;
	}
	if (argc != 2 || argv[1][0] == '-')
		return usage_exit(verify_usage, 0);
	snprintf(path, sizeof(path), "%s/data.mdb",
		 store_path(argv[1], buf, sizeof(buf)));
	if (!sample && strncmp(argv[1], "s3://", 5) && stat(path, &st) == 0) {
		pitr_store *s = open_reader(argv[1]);
		if (!s)
			return 1;
		rc = pitr_store_verify(s, problem, &pr, &n);
		pitr_store_close(s);
		if (rc && rc != PITR_CORRUPT) {
			warnx("cannot verify '%s': %s", argv[1],
			      pitr_strerror(rc));
			return 1;
		}
		if (pr.json) {
			printf("{\"path\":");
			json_string(stdout, argv[1], strlen(argv[1]));
			printf(",\"kind\":\"store\",\"records\":%" PRIu64
			       ",\"problems\":%d,\"ok\":%s}\n",
			       n, pr.n, pr.n ? "false" : "true");
			return pr.n ? 1 : 0;
		}
		if (pr.n)
			printf("%s: %d problems\n", argv[1], pr.n);
		printf("%s: %" PRIu64 " records checked, %s\n", argv[1], n,
		       pr.n ? "DAMAGED" : "ok");
		return pr.n ? 1 : 0;
	}
	rc = pitr_backup_verify_sample(argv[1], sample, problem, &pr, &n,
				       &complete);
	if (rc && rc != PITR_CORRUPT) {
		const char *why = pitr_backup_media_error();
		warnx("cannot verify '%s': %s", argv[1],
		      *why ? why : pitr_strerror(rc));
		return 1;
	}
	char t[PITR_TIME_LEN] = "-";
	if (complete)
		pitr_time_format(complete, t);
	if (pr.json) {
		printf("{\"path\":");
		json_string(stdout, argv[1], strlen(argv[1]));
		printf(",\"kind\":\"backup\",\"segments\":%" PRIu64
		       ",\"problems\":%d,\"ok\":%s,\"complete_up_to\":",
		       n, pr.n, pr.n ? "false" : "true");
		if (complete)
			printf("\"%s\"}\n", t);
		else
			printf("null}\n");
		return pr.n ? 1 : 0;
	}
	if (sample && sample < n)
		printf("%s: %u of %" PRIu64 " segments read whole, the rest "
		       "by name, %s; complete up to %s\n",
		       argv[1], sample, n, pr.n ? "DAMAGED" : "ok", t);
	else
		printf("%s: %" PRIu64 " segments checked, %s; complete up to "
		       "%s\n",
		       argv[1], n, pr.n ? "DAMAGED" : "ok", t);
	return pr.n ? 1 : 0;
}

static const char repair_usage[] =
    "usage: pitr repair STORE TARGET\n"
    "\n"
    "Rebuild an account whose indexes are damaged (see pitr verify) from\n"
    "its log into a new account at TARGET, which must not exist: every log\n"
    "record is checked and replayed with its own timestamp, so every\n"
    "instant reads as it did; the account's settings and scratch files are\n"
    "copied. STORE is only read. TARGET is built beside itself, verified\n"
    "and renamed into place whole. A log record that fails its checksum\n"
    "cannot be repaired: it is named, nothing is built, exit status 1\n"
    "(restore from backup media instead).\n";

/* The arguments of `pitr VERB STORE TARGET`, where TARGET is to be a new
 * account: -1 to go on, else the exit status (--help, or after saying
 * what is wrong). */
static int store_target_args(int argc, char *argv[], const char *verb,
			     const char *usage)
{
	struct stat st;

	if (wants_help(argc, argv))
		return usage_exit(usage, 1);
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return usage_exit(usage, 0);
	if (!argv[2][0]) {
		warnx("TARGET must not be empty");
		return 2;
	}
	if (lstat(argv[2], &st) == 0) {
		warnx("cannot %s into '%s': it exists; %s creates a new "
		      "account",
		      verb, argv[2], verb);
		return 1;
	}
	return -1;
}

int cmd_repair(int argc, char *argv[])
{
	char buf[PATH_MAX];
	uint64_t n = 0;
	struct problems problems = { 0, 0 };
	int rc = store_target_args(argc, argv, "repair", repair_usage);

	if (rc >= 0)
		return rc;
	rc = pitr_store_repair(store_path(argv[1], buf, sizeof(buf)), argv[2],
			       problem, &problems, &n);
	if (rc) {
		warnx("cannot repair '%s' into '%s': %s", argv[1], argv[2],
		      pitr_strerror(rc));
		return 1;
	}
	printf("%s: %" PRIu64 " records replayed into '%s'\n", argv[1], n,
	       argv[2]);
	return 0;
}

static const char compact_usage[] =
    "usage: pitr compact STORE TARGET\n"
    "\n"
    "Copy an account whole into a new account at TARGET, which must not\n"
    "exist, every table in key order, so that its pages are full: every\n"
    "version, setting and backup position is the same, in fewer bytes.\n"
    "STORE is only read (it may be mounted: the copy is the instant the\n"
    "command began). TARGET is built beside itself, verified and renamed\n"
    "into place whole; a damaged STORE is refused (see pitr repair),\n"
    "nothing is built, exit status 1. To put TARGET in STORE's place,\n"
    "unmount STORE first, then compact and move them. TARGET ships to the\n"
    "backup media STORE names: mount one of the two, not both.\n";

int cmd_compact(int argc, char *argv[])
{
	char buf[PATH_MAX];
	struct problems problems = { 0, 0 };
	pitr_compacted c;
	int rc = store_target_args(argc, argv, "compact", compact_usage);

	if (rc >= 0)
		return rc;
	rc = pitr_store_compact(store_path(argv[1], buf, sizeof(buf)), argv[2],
				problem, &problems, &c);
	if (rc) {
		warnx("cannot compact '%s' into '%s': %s", argv[1], argv[2],
		      pitr_strerror(rc));
		return 1;
	}
	printf("%s: %" PRIu64 " entries copied into '%s': %" PRIu64
	       " bytes of pages, were %" PRIu64 "\n",
	       argv[1], c.entries, argv[2], c.after, c.before);
	return 0;
}
