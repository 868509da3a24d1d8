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
int cmd_policy(int argc, char *argv[]);
int cmd_prune(int argc, char *argv[]);
int cmd_backup(int argc, char *argv[]);
int cmd_verify(int argc, char *argv[]);
int cmd_repair(int argc, char *argv[]);
int cmd_compact(int argc, char *argv[]);
int cmd_events(int argc, char *argv[]);
int cmd_log(int argc, char *argv[]);
int cmd_ls(int argc, char *argv[]);
int cmd_cat(int argc, char *argv[]);
int cmd_diff(int argc, char *argv[]);
int cmd_restore(int argc, char *argv[]);
int cmd_undo(int argc, char *argv[]);

/* Print `usage`: to stdout and return 0 for --help, else to stderr, 2. */
int usage_exit(const char *usage, int help);

/* Remove every `flag` (such as "--json") from the arguments, for
 * commands that take no other options; returns whether there was one. */
int take_flag(int *argc, char *argv[], const char *flag);

/* Remove `opt VALUE` from the arguments, wherever it is: 1 with `*value`
 * set (the last one given), 0 when absent, -1 when it ends the
 * arguments without a value. */
int take_option(int *argc, char *argv[], const char *opt, const char **value);

/* Is --help or -h among the arguments? */
int wants_help(int argc, char *argv[]);

/*
 * STORE as the commands take it: a store, or the mount point of a pitrfs
 * mount of one. For a mount point, the store it shows (the source the
 * daemon gives the mount), copied to `buf`; else `path` itself.
 */
const char *store_path(const char *path, char *buf, size_t size);

/* The mount point where a pitrfs daemon serves `store` (as this process
 * sees the mounts), copied to `buf`. Returns 1 when there is one, else 0. */
int mount_point(const char *store, char *buf, size_t size);

/* Open STORE (or its mount point) for a command; on error print it and
 * return NULL. */
pitr_store *open_store(const char *path, unsigned flags);

/*
 * Open STORE for a command that only reads it. A writable account is
 * opened read-write all the same, but only so that resolving an instant
 * at or after its last commit can record it as a floor for later commits
 * (see pitr_store_resolve): the command writes nothing else. An account
 * this user cannot write (a read-only copy, read-only media) is opened
 * read-only (PITR_OPEN_RDONLY), without LMDB's lock file when nothing
 * can be writing it.
 */
pitr_store *open_reader(const char *path);

/* Parse a duration option; on error print it and return -1. */
int parse_duration_opt(const char *opt, const char *text, uint64_t *ns);

/* An instant a view or restore may show (inside the window); on error
 * print it, naming the window, and return the exit status: 2 for a
 * malformed time, 1 for one outside the window. */
int parse_instant(pitr_store *s, const char *text, uint64_t *at);

/* Any well-formed instant (for filters); on error print it, return 2. */
int parse_any_instant(pitr_store *s, const char *text, uint64_t *at);

/* A size for tables: "512 B", "1.5 KiB", "12.0 MiB" ... (JSON prints the
 * exact number of bytes instead). `buf` holds 16 bytes; returns it. */
char *human_size(uint64_t bytes, char buf[16]);

/* Print an account's info (pitr info --json, pitr create --json): one
 * JSON object and a newline. */
void print_info_json(pitr_store *s, const pitr_info *info);

/* Write `s` as a JSON string. */
void json_string(FILE *out, const char *s, size_t len);

/* Room for a name escaped by safe_name(). */
#define SAFE_NAME_MAX (4 * PITR_NAME_MAX + 1)

/*
 * Escape a name (at most PITR_NAME_MAX bytes) for a terminal: control
 * characters (C0, C1, DEL), backslashes and bytes that are no UTF-8 become
 * \xNN. `buf` holds SAFE_NAME_MAX bytes; `cols` (may be NULL) receives the
 * columns it takes on a terminal (wide characters 2, combining ones 0).
 * Returns the bytes written.
 */
size_t safe_name(const char *name, size_t len, char *buf, size_t *cols);

/* Print a name escaped, padded with spaces to `width` columns. */
void print_cell(FILE *out, const char *name, size_t len, int width);

/* "db", "db/ct" or "db/ct/id": pointers into the argument. */
struct split {
	int depth;
	const char *db, *ct, *id;
	size_t dblen, ctlen, idlen;
};

/* Split and check a path; -1 if malformed. */
int split_path(const char *path, struct split *sp);

/* The event name of a catalog operation ("create-database" ...), "?" for
 * a document's. */
const char *catalog_event(enum pitr_op_kind op);

/* A growable array of mutations with their names copied. */
struct list {
	struct item {
		pitr_mutation m;
		char name[PITR_NAME_MAX + 1];
		char db[PITR_NAME_MAX + 1]; /* containers: database name */
	} * v;
	size_t n, cap;
};

/* Append a copy of `m` (its name copied); NULL when out of memory. */
struct item *list_push(struct list *l, const pitr_mutation *m);

/* A pitr_mutation_fn appending every mutation to the list `arg`. */
int collect(const pitr_mutation *m, void *arg);

/* Options of a container's or database's timeline (pitr log DB[/C]). */
struct timeline_opts {
	uint64_t since, until; /* 0, UINT64_MAX: all */
	uint64_t every;	       /* summary interval, ns */
	int full, json;
};

/* pitr log STORE DB[/C]: the exit status. */
int log_timeline(pitr_store *s, const char *path, const struct split *sp,
		 const struct timeline_opts *o);

/* pitr events STORE --bulk: the exit status. */
int events_bulk(pitr_store *s, const char *store, const char *db,
		const char *ct, uint64_t since, uint64_t until, uint64_t gap,
		uint64_t min, int json);

#endif
