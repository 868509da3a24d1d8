/*
 * cmd_backup.c - backup media: pitr backup STORE status|flush, pitr verify.
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
    "       pitr backup STORE flush\n"
    "       pitr backup STORE set DIR\n"
    "       pitr backup STORE unset\n"
    "\n"
    "status: the backup directory, lag (age of the oldest mutation not\n"
    "yet on the media), pending mutations, latest-restorable (everything\n"
    "at or before it is on the media) and the last error.\n"
    "flush: copy every pending mutation to the media now, and wait.\n"
    "set: ship to DIR from now on, as pitrfs --backup-dir DIR does.\n"
    "unset: ship nowhere; what was pending may then be pruned.\n"
    "The daemon (pitrfs --backup-dir DIR) ships by itself within seconds.\n";

/* Set (dir) or remove (NULL) the account's backup media. */
static int set_dir(pitr_store *s, const char *store, const char *dir)
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
	printf("backup media: %s\n", dir ? dir : "(none)");
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
	int rc, json = argc == 4 && !strcmp(argv[3], "--json");
	const char *verb = argc >= 3 ? argv[2] : "";

	if (wants_help(argc, argv))
		return usage_exit(backup_usage, 1);
	if (!strcmp(verb, "set")) {
		if (argc != 4 || !*argv[3])
			return usage_exit(backup_usage, 0);
	} else if (argc < 3 || (argc > 3 && !json) ||
		   (strcmp(verb, "status") && strcmp(verb, "flush") &&
		    strcmp(verb, "unset")) ||
		   (json && strcmp(verb, "status"))) {
		return usage_exit(backup_usage, 0);
	}
	s = open_store(argv[1], 0);
	if (!s)
		return 1;
	if (!strcmp(verb, "status")) {
		rc = status(s, argv[1], json);
	} else if (!strcmp(verb, "set")) {
		rc = set_dir(s, argv[1], argv[3]);
	} else if (!strcmp(verb, "unset")) {
		rc = set_dir(s, argv[1], NULL);
	} else {
		rc = pitr_backup_ship(s, 1, &n);
		const char *why = pitr_backup_media_error();
		if (rc)
			warnx("cannot flush '%s' to its backup media: %s%s%s",
			      argv[1], pitr_strerror(rc), *why ? ": " : "",
			      why);
		else
			printf("flushed %" PRIu64 " mutations\n", n);
		rc = rc ? 1 : 0;
	}
	pitr_store_close(s);
	return rc;
}

static const char verify_usage[] =
    "usage: pitr verify STORE|DIR|s3://BUCKET/PREFIX [--sample N]\n"
    "\n"
    "Check every checksum of an account's log and every index entry against\n"
    "the log, or backup media's segments and their chain. Names each\n"
    "damaged or missing record, entry or segment; exit status 1 if any.\n"
    "--sample N: on media, read only N segments whole (the last one and\n"
    "others at random) and the names of the rest: a bounded check.\n";

static void problem(const char *where, const char *what, void *arg)
{
	(*(int *)arg)++;
	printf("damaged: %s: %s\n", where, what);
}

int cmd_verify(int argc, char *argv[])
{
	char path[4096], buf[PATH_MAX];
	struct stat st;
	uint64_t n = 0, complete = 0;
	int problems = 0, rc;
	unsigned sample = 0;

	if (wants_help(argc, argv))
		return usage_exit(verify_usage, 1);
	if (argc == 4 && !strcmp(argv[2], "--sample")) {
		char *end;
		unsigned long v = strtoul(argv[3], &end, 10);
		if (*end || !*argv[3] || v < 1 || v > 1000000) {
			warnx("invalid --sample '%s': 1 to 1000000 segments",
			      argv[3]);
			return 2;
		}
		sample = (unsigned)v;
		argc = 2;
	}
	if (argc != 2 || argv[1][0] == '-')
		return usage_exit(verify_usage, 0);
	snprintf(path, sizeof(path), "%s/data.mdb",
		 store_path(argv[1], buf, sizeof(buf)));
	if (!sample && strncmp(argv[1], "s3://", 5) && stat(path, &st) == 0) {
		pitr_store *s = open_store(argv[1], 0);
		if (!s)
			return 1;
		rc = pitr_store_verify(s, problem, &problems, &n);
		pitr_store_close(s);
		if (rc && rc != PITR_CORRUPT) {
			warnx("cannot verify '%s': %s", argv[1],
			      pitr_strerror(rc));
			return 1;
		}
		if (problems)
			printf("%s: %d problems\n", argv[1], problems);
		printf("%s: %" PRIu64 " records checked, %s\n", argv[1], n,
		       problems ? "DAMAGED" : "ok");
		return problems ? 1 : 0;
	}
	rc = pitr_backup_verify_sample(argv[1], sample, problem, &problems, &n,
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
	if (sample && sample < n)
		printf("%s: %u of %" PRIu64 " segments read whole, the rest "
		       "by name, %s; complete up to %s\n",
		       argv[1], sample, n, problems ? "DAMAGED" : "ok", t);
	else
		printf("%s: %" PRIu64 " segments checked, %s; complete up to "
		       "%s\n",
		       argv[1], n, problems ? "DAMAGED" : "ok", t);
	return problems ? 1 : 0;
}
