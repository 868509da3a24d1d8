/*
 * tool.h - the commands of bin/pitr and what they share.
 *
 * A command returns the process's exit status: 0 success, 1 failure,
 * 2 usage error. Errors go to stderr as "pitr: what failed: why".
 */
#ifndef PITR_TOOL_H
#define PITR_TOOL_H

#include <stdio.h>

#include "pitr.h"

struct command {
	const char *name;
	int (*fn)(int argc, char *argv[]);
	const char *summary;
};

int cmd_create(int argc, char *argv[]);
int cmd_info(int argc, char *argv[]);

/*
 * Parse the common "--help" and reject unknown options: returns -1 after
 * printing `usage` to stdout for --help, or 2 after printing it to stderr.
 */
int usage_exit(const char *usage, int help);

/* Open STORE for a command; on error print it and return NULL. */
pitr_store *open_store(const char *path, unsigned flags);

/* Parse a duration option; on error print it and return -1. */
int parse_duration_opt(const char *opt, const char *text, uint64_t *ns);

#endif
