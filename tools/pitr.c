/*
 * pitr.c - the command-line tool: one cmd_<name>() per command, dispatched
 * from a table; each command has its usage text.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pitr.h"
#include "tool.h"

static const struct command commands[] = {
	{ "create", cmd_create, "create a new account" },
	{ "info", cmd_info, "show an account's policy, window and size" },
	{ "events", cmd_events,
	  "list creates and deletes of databases and containers" },
	{ "ls", cmd_ls, "list databases, containers or documents at T" },
	{ "cat", cmd_cat, "write a document as it was at T to stdout" },
	{ "log", cmd_log, "list every version of one document" },
	{ "diff", cmd_diff, "list documents changed between two times" },
	{ "restore", cmd_restore, "restore a past state into a new account" },
	{ "undo", cmd_undo,
	  "bring a container back to its state at T, in place" },
	{ "policy", cmd_policy, "show or change the backup policy" },
	{ "prune", cmd_prune,
	  "remove history older than the retention window" },
	{ "backup", cmd_backup, "backup media: status, flush, set, unset" },
	{ "verify", cmd_verify,
	  "check every checksum of a store or backup media" },
	{ "repair", cmd_repair,
	  "rebuild a store's damaged indexes from its log" },
	{ "compact", cmd_compact,
	  "copy a store into a new one whose pages are full" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: pitr [--version] [--help] COMMAND [ARGS]\n\n"
		     "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "   %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'pitr COMMAND --help' tells more of one command.\n");
}

int main(int argc, char *argv[])
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("pitr %s\n", PITR_VERSION_STRING);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			/* getopt's messages start with argv[0]: "pitr:" as
			 * every other message */
			argv[1] = program_invocation_short_name;
			return commands[i].fn(argc - 1, argv + 1);
		}
	warnx("'%s' is not a pitr command; see 'pitr --help'", argv[1]);
	return 2;
}
