/*
 * cmd_account.c - pitr create, pitr info.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char create_usage[] =
    "usage: pitr create STORE [--backup-mode continuous|periodic]\n"
    "                         [--retention D] [--interval D]\n"
    "                         [--max-doc-size BYTES]\n"
    "\n"
    "Create a new account at STORE (which must not exist). The backup\n"
    "policy is fixed now: continuous (default; retention 30d) keeps every\n"
    "version; periodic (interval 4h, retention 8h) keeps the state at\n"
    "each interval boundary. Durations: 30d, 8h, 90m, 45s.\n";

int cmd_create(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "backup-mode", required_argument, NULL, 'm' },
		{ "retention", required_argument, NULL, 'r' },
		{ "interval", required_argument, NULL, 'i' },
		{ "max-doc-size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pitr_config cfg = { 0 };
	const char *retention = NULL, *interval = NULL;
	char *end;
	int c, rc;

	pitr_policy_default(&cfg.policy);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "continuous")) {
				cfg.policy.mode = PITR_CONTINUOUS;
			} else if (!strcmp(optarg, "periodic")) {
				cfg.policy.mode = PITR_PERIODIC;
			} else {
				warnx("invalid --backup-mode '%s': use "
				      "continuous or periodic",
				      optarg);
				return 2;
			}
			break;
		case 'r':
			retention = optarg;
			break;
		case 'i':
			interval = optarg;
			break;
		case 's':
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 2 || v > (1ul << 30)) {
				warnx("invalid --max-doc-size '%s'", optarg);
				return 2;
			}
			cfg.max_doc_size = (uint32_t)v;
			break;
		case 'h':
			return usage_exit(create_usage, 1);
		default:
			return usage_exit(create_usage, 0);
		}
	}
	if (optind + 1 != argc)
		return usage_exit(create_usage, 0);
	if (cfg.policy.mode == PITR_PERIODIC) {
		cfg.policy.interval = 4 * 3600 * PITR_NS_PER_SEC;
		cfg.policy.retention = 8 * 3600 * PITR_NS_PER_SEC;
	} else if (interval) {
		warnx("--interval needs --backup-mode periodic");
		return 2;
	}
	if ((retention && parse_duration_opt("--retention", retention,
					     &cfg.policy.retention)) ||
	    (interval &&
	     parse_duration_opt("--interval", interval, &cfg.policy.interval)))
		return 2;
	if (pitr_policy_check(&cfg.policy)) {
		warnx("invalid policy: periodic retention must be at least two "
		      "intervals");
		return 2;
	}
	rc = pitr_store_create(argv[optind], &cfg);
	if (rc) {
		warnx("cannot create store '%s': %s", argv[optind],
		      pitr_strerror(rc));
		return 1;
	}
	return 0;
}

static const char info_usage[] =
    "usage: pitr info STORE\n"
    "\n"
    "Show the account's name, creation time, backup policy, the window\n"
    "of restorable times, and its size on disk.\n";

static void print_policy(const pitr_policy *p)
{
	char r[32], i[32];

	pitr_duration_format(p->retention, r, sizeof(r));
	if (p->mode == PITR_PERIODIC) {
		pitr_duration_format(p->interval, i, sizeof(i));
		printf("policy:              periodic, interval %s, retention "
		       "%s\n",
		       i, r);
	} else {
		printf("policy:              continuous, retention %s\n", r);
	}
}

int cmd_info(int argc, char *argv[])
{
	char t1[PITR_TIME_LEN], t2[PITR_TIME_LEN], t3[PITR_TIME_LEN];
	pitr_store *s;
	pitr_info info;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return usage_exit(info_usage, 1);
	if (argc != 2 || argv[1][0] == '-')
		return usage_exit(info_usage, 0);
	s = open_reader(argv[1]);
	if (!s)
		return 1;
	rc = pitr_store_info(s, &info);
	if (rc) {
		warnx("cannot read store '%s': %s", argv[1], pitr_strerror(rc));
		pitr_store_close(s);
		return 1;
	}
	printf("account:             ");
	print_cell(stdout, info.name, strlen(info.name), 0);
	putchar('\n');
	printf("created:             %s\n", pitr_time_format(info.created, t1));
	print_policy(&info.policy);
	printf("earliest restorable: %s\n",
	       pitr_time_format(info.earliest, t2));
	printf("latest restorable:   %s\n", pitr_time_format(info.latest, t3));
	printf("last write:          %s\n",
	       pitr_time_format(info.last_write, t1));
	printf("mutations:           %" PRIu64 "\n", info.mutations);
	printf("max document size:   %" PRIu32 " bytes\n", info.max_doc_size);
	printf("size on disk:        %" PRIu64 " bytes (%" PRIu64 " in use)\n",
	       info.disk_bytes, info.used_bytes);
	printf("live:                %" PRIu64 " documents, %" PRIu64
	       " bytes of JSON\n",
	       info.live_docs, info.live_bytes);
	printf("history:             %" PRIu64 " versions kept, %" PRIu64
	       " bytes of log pages\n",
	       info.versions, info.log_bytes);
	pitr_backup_info bk;
	if (pitr_backup_status(s, &bk) == 0 && *bk.dir) {
		uint64_t now = pitr_clock();
		double lag = bk.oldest_pending && now > bk.oldest_pending
				 ? (now - bk.oldest_pending) / 1e9
				 : 0;
		printf("backup:              %s, lag %.1fs, %" PRIu64
		       " pending%s%s\n",
		       bk.dir, lag, bk.pending,
		       *bk.error ? ", last error: " : "", bk.error);
	} else {
		printf("backup:              none\n");
	}
	printf("format:              %" PRIu32 "\n", info.format);
	if (info.policy.mode == PITR_PERIODIC) {
		/* the instants a view or restore can show, newest first */
		uint64_t step = info.policy.interval, n = 0;
		uint64_t b =
		    info.created + (info.latest - info.created) / step * step;
		printf("restore points:\n");
		for (; b >= info.earliest && n < 20; b -= step, n++) {
			printf("  %s\n", pitr_time_format(b, t1));
			if (b < step)
				break;
		}
		if (b >= info.earliest && n == 20)
			printf("  ... and %" PRIu64 " earlier\n",
			       (b - info.earliest) / step + 1);
	}
	pitr_store_close(s);
	return 0;
}

static const char policy_usage[] =
    "usage: pitr policy STORE [--retention D] [--backup-mode continuous]\n"
    "\n"
    "Show the backup policy, or change it: the retention may change, and\n"
    "periodic mode may become continuous (never the reverse).\n";

int cmd_policy(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "retention", required_argument, NULL, 'r' },
		{ "backup-mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *retention = NULL, *mode = NULL;
	pitr_policy p;
	pitr_store *s;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			retention = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'h':
			return usage_exit(policy_usage, 1);
		default:
			return usage_exit(policy_usage, 0);
		}
	}
	if (optind + 1 != argc)
		return usage_exit(policy_usage, 0);
	if (mode && strcmp(mode, "continuous") && strcmp(mode, "periodic")) {
		warnx("invalid --backup-mode '%s'", mode);
		return 2;
	}
	s = open_store(argv[optind], 0);
	if (!s)
		return 1;
	pitr_store_policy(s, &p);
	if (mode && !strcmp(mode, "periodic")) {
		if (p.mode != PITR_PERIODIC) {
			warnx("cannot switch to periodic mode: continuous "
			      "history cannot become periodic; create a new "
			      "account and restore into it instead");
			pitr_store_close(s);
			return 2;
		}
		mode = NULL; /* already so */
	}
	if (retention &&
	    parse_duration_opt("--retention", retention, &p.retention)) {
		pitr_store_close(s);
		return 2;
	}
	if (mode) {
		p.mode = PITR_CONTINUOUS;
		p.interval = 0;
	}
	rc = 0;
	if (retention || mode) {
		rc = pitr_store_set_policy(s, &p);
		if (rc == PITR_BADPOLICY)
			warnx("cannot set policy: periodic retention must be "
			      "at least two intervals");
		else if (rc)
			warnx("cannot set policy of '%s': %s", argv[optind],
			      pitr_strerror(rc));
	}
	if (!rc)
		print_policy(&p);
	pitr_store_close(s);
	return rc ? 1 : 0;
}

static const char prune_usage[] =
    "usage: pitr prune STORE [--dry-run]\n"
    "\n"
    "Remove the history older than the retention window, keeping the state\n"
    "at the window's start (a mounted daemon does this by itself). With\n"
    "--dry-run, only report what would be removed.\n";

int cmd_prune(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char when[PITR_TIME_LEN];
	pitr_prune_stats st;
	pitr_store *s;
	int c, dry = 0, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry = 1;
			break;
		case 'h':
			return usage_exit(prune_usage, 1);
		default:
			return usage_exit(prune_usage, 0);
		}
	}
	if (optind + 1 != argc)
		return usage_exit(prune_usage, 0);
	/* the daemon prunes a mounted account itself: one pruner at a time
	 * (a dry run only reads) */
	char buf[PATH_MAX];
	const char *store = store_path(argv[optind], buf, sizeof(buf));
	rc = pitr_store_open(store, dry ? 0 : PITR_OPEN_DAEMON, &s);
	if (rc == PITR_BUSY) {
		warnx("'%s' is mounted: its daemon prunes it", argv[optind]);
		return 1;
	}
	if (rc) {
		warnx("cannot open store '%s': %s", argv[optind],
		      pitr_strerror(rc));
		return 1;
	}
	rc = pitr_prune(s, pitr_store_now(s), dry, &st);
	pitr_store_close(s);
	if (rc) {
		warnx("cannot prune '%s': %s", argv[optind], pitr_strerror(rc));
		return 1;
	}
	printf("%s %" PRIu64 " document versions, %" PRIu64
	       " database/container events, %" PRIu64 " bytes\n",
	       dry ? "would remove" : "removed", st.versions, st.events,
	       st.bytes);
	printf("history %s at %s\n", dry ? "would start" : "starts",
	       pitr_time_format(st.until, when));
	return 0;
}
