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
    "                         [--max-doc-size BYTES] [--json]\n"
    "\n"
    "Create a new account at STORE (which must not exist). The backup\n"
    "policy is fixed now: continuous (default; retention 30d) keeps every\n"
    "version; periodic (interval 4h, retention 8h) keeps the state at\n"
    "each interval boundary. Durations: 30d, 8h, 90m, 45s.\n"
    "\n"
    "  --backup-mode M     continuous (default) or periodic\n"
    "  --retention D       how long history is kept\n"
    "  --interval D        periodic mode: the interval between states kept\n"
    "  --max-doc-size N    the largest document, in bytes (default 2 MiB)\n"
    "  --json              print the new account as pitr info --json does\n";

int cmd_create(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "backup-mode", required_argument, NULL, 'm' },
		{ "retention", required_argument, NULL, 'r' },
		{ "interval", required_argument, NULL, 'i' },
		{ "max-doc-size", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pitr_config cfg = { 0 };
	const char *retention = NULL, *interval = NULL;
	char *end;
	int c, rc, json = 0;

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
		case 'j':
			json = 1;
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
	if (json) {
		pitr_store *s = open_store(argv[optind], PITR_OPEN_RDONLY);
		pitr_info info;
		if (!s)
			return 1;
		rc = pitr_store_info(s, &info);
		if (!rc)
			print_info_json(s, &info);
		else
			warnx("cannot read store '%s': %s", argv[optind],
			      pitr_strerror(rc));
		pitr_store_close(s);
		return rc ? 1 : 0;
	}
	return 0;
}

static const char info_usage[] =
    "usage: pitr info STORE [--json]\n"
    "\n"
    "Show the account's name, creation time, backup policy, the window\n"
    "of restorable times, and its size on disk.\n"
    "\n"
    "  --json     one JSON object, sizes in bytes and durations in ns\n";

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

static void json_time(const char *key, uint64_t ns)
{
	char t[PITR_TIME_LEN];

	printf(",\"%s\":\"%s\"", key, pitr_time_format(ns, t));
}

static void json_policy(const pitr_policy *p)
{
	char r[32], i[32];

	pitr_duration_format(p->retention, r, sizeof(r));
	printf("\"mode\":\"%s\",\"retention\":\"%s\","
	       "\"retention_ns\":%" PRIu64,
	       p->mode == PITR_PERIODIC ? "periodic" : "continuous", r,
	       p->retention);
	if (p->mode == PITR_PERIODIC) {
		pitr_duration_format(p->interval, i, sizeof(i));
		printf(",\"interval\":\"%s\",\"interval_ns\":%" PRIu64, i,
		       p->interval);
	}
}

void print_info_json(pitr_store *s, const pitr_info *info)
{
	pitr_backup_info bk;

	printf("{\"account\":");
	json_string(stdout, info->name, strlen(info->name));
	json_time("created", info->created);
	printf(",\"policy\":{");
	json_policy(&info->policy);
	printf("}");
	json_time("earliest_restorable", info->earliest);
	json_time("latest_restorable", info->latest);
	json_time("last_write", info->last_write);
	printf(",\"mutations\":%" PRIu64 ",\"max_doc_size\":%" PRIu32
	       ",\"disk_bytes\":%" PRIu64 ",\"used_bytes\":%" PRIu64
	       ",\"live_documents\":%" PRIu64 ",\"live_bytes\":%" PRIu64
	       ",\"versions\":%" PRIu64 ",\"log_bytes\":%" PRIu64
	       ",\"format\":%" PRIu32,
	       info->mutations, info->max_doc_size, info->disk_bytes,
	       info->used_bytes, info->live_docs, info->live_bytes,
	       info->versions, info->log_bytes, info->format);
	printf(",\"backup\":");
	if (pitr_backup_status(s, &bk) == 0 && *bk.dir) {
		uint64_t now = pitr_clock();
		printf("{\"dir\":");
		json_string(stdout, bk.dir, strlen(bk.dir));
		printf(",\"lag_ns\":%" PRIu64 ",\"pending\":%" PRIu64
		       ",\"last_error\":",
		       bk.oldest_pending && now > bk.oldest_pending
			   ? now - bk.oldest_pending
			   : 0,
		       bk.pending);
		if (*bk.error)
			json_string(stdout, bk.error, strlen(bk.error));
		else
			printf("null");
		printf("}");
	} else {
		printf("null");
	}
	if (info->policy.mode == PITR_PERIODIC) {
		uint64_t step = info->policy.interval, n = 0;
		uint64_t b = info->created +
			     (info->latest - info->created) / step * step;
		printf(",\"restore_points\":[");
		for (; b >= info->earliest && n < 20; b -= step, n++) {
			char t[PITR_TIME_LEN];
			printf("%s\"%s\"", n ? "," : "",
			       pitr_time_format(b, t));
			if (b < step)
				break;
		}
		printf("]");
	}
	printf("}\n");
}

int cmd_info(int argc, char *argv[])
{
	char t1[PITR_TIME_LEN], t2[PITR_TIME_LEN], t3[PITR_TIME_LEN];
	char z1[16], z2[16];
	pitr_store *s;
	pitr_info info;
	int rc, json;

	if (wants_help(argc, argv))
		return usage_exit(info_usage, 1);
	json = take_flag(&argc, argv, "--json");
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
	if (json) {
		print_info_json(s, &info);
		pitr_store_close(s);
		return 0;
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
	printf("max document size:   %s\n", human_size(info.max_doc_size, z1));
	printf("size on disk:        %s (%s in use)\n",
	       human_size(info.disk_bytes, z1),
	       human_size(info.used_bytes, z2));
	printf("live:                %" PRIu64 " documents, %s of JSON\n",
	       info.live_docs, human_size(info.live_bytes, z1));
	printf("history:             %" PRIu64 " versions kept, %s of log "
	       "pages\n",
	       info.versions, human_size(info.log_bytes, z1));
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
    "                         [--json]\n"
    "\n"
    "Show the backup policy, or change it: the retention may change, and\n"
    "periodic mode may become continuous (never the reverse).\n"
    "\n"
    "  --retention D            the new retention (e.g. 30d, 8h)\n"
    "  --backup-mode continuous  a periodic account becomes continuous\n"
    "  --json                   one JSON object\n";

int cmd_policy(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "retention", required_argument, NULL, 'r' },
		{ "backup-mode", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *retention = NULL, *mode = NULL;
	pitr_policy p;
	pitr_store *s;
	int c, rc, json = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			retention = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'j':
			json = 1;
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
	if (!rc && json) {
		printf("{");
		json_policy(&p);
		printf("}\n");
	} else if (!rc) {
		print_policy(&p);
	}
	pitr_store_close(s);
	return rc ? 1 : 0;
}

static const char prune_usage[] =
    "usage: pitr prune STORE [--dry-run] [--json]\n"
    "\n"
    "Remove the history older than the retention window, keeping the state\n"
    "at the window's start. A mounted daemon does this by itself; on a\n"
    "mounted account this prunes now (one pruner runs at a time: it waits\n"
    "for the daemon's, and the daemon's for it).\n"
    "\n"
    "  --dry-run  only report what would be removed\n"
    "  --json     print one JSON object\n";

int cmd_prune(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char when[PITR_TIME_LEN], size[16];
	pitr_prune_stats st;
	pitr_store *s;
	int c, dry = 0, json = 0, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return usage_exit(prune_usage, 1);
		default:
			return usage_exit(prune_usage, 0);
		}
	}
	if (optind + 1 != argc)
		return usage_exit(prune_usage, 0);
	/* a mounted account too: pitr_prune() takes the account's prune
	 * lock, so it never walks beside the daemon's pruner, and every batch
	 * is an LMDB write transaction like the daemon's own */
	s = open_store(argv[optind], 0);
	if (!s)
		return 1;
	rc = pitr_prune(s, pitr_store_now(s), dry, &st);
	pitr_store_close(s);
	if (rc) {
		warnx("cannot prune '%s': %s", argv[optind], pitr_strerror(rc));
		return 1;
	}
	pitr_time_format(st.until, when);
	if (json) {
		printf("{\"dry_run\":%s,\"versions\":%" PRIu64
		       ",\"events\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"until\":\"%s\"}\n",
		       dry ? "true" : "false", st.versions, st.events, st.bytes,
		       when);
		return 0;
	}
	printf("%s %" PRIu64 " document versions, %" PRIu64
	       " database/container events, %s\n",
	       dry ? "would remove" : "removed", st.versions, st.events,
	       human_size(st.bytes, size));
	printf("history %s at %s\n", dry ? "would start" : "starts", when);
	return 0;
}
