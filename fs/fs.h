/*
 * fs.h - the daemon: FUSE low-level handlers (one file per job, listed in
 * ops.h) over core's API, and the process around them (main.c).
 */
#ifndef PITRFS_FS_H
#define PITRFS_FS_H

#include <fuse_lowlevel.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "pitr.h"

struct fs {
	pitr_store *store;
	const char *store_path;
	struct fuse_session *se;
	uid_t uid;
	gid_t gid;
	gid_t history_gid; /* (gid_t)-1: owner and root only */
	int foreground;
	int xattr; /* -o xattr: documents show user.pitr.ts and .etag */
	uint64_t mounted;     /* live directories' mtime: when serving began */
	atomic_ulong commits; /* counted for the syncer */
	atomic_ulong attr_replies; /* see attrs_coming() */
};

extern struct fs fs;
extern const struct fuse_lowlevel_ops pitrfs_ops;

/* After the session ends: do what their RELEASE would have, and free, the
 * handles the kernel never released (an unmount drops RELEASE requests
 * still queued; a signal ends the session with files still open). */
void ops_release_all(void);

/*
 * Logging (log.c). fs_log() writes one message (no newline) with its
 * time: to the --log-file if one was opened, else to stderr, else, after
 * fs_log_daemon(), to syslog. A message repeated word for word, and a call
 * site (a format) past 10 lines a second, are counted, not written. Safe
 * from any thread.
 */
__attribute__((format(printf, 2, 3))) void fs_log(int prio, const char *fmt,
						  ...);
/* Append to PATH from now on: 0, or an errno. */
int fs_log_open(const char *path);
/* The daemon left its terminal: syslog, unless a file was opened. */
void fs_log_daemon(void);
/* Send libfuse's messages to the same place, when that is not stderr. */
void fs_log_fuse(void);
/* Write what is still counted, and close. */
void fs_log_close(void);

#endif
