/*
 * fs.h - the daemon: FUSE low-level handlers (ops.c) over core's API, and
 * the process around them (main.c).
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

/* Log to stderr in the foreground, else to syslog. */
__attribute__((format(printf, 2, 3))) void fs_log(int prio, const char *fmt,
						  ...);

#endif
