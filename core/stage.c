/*
 * stage.c - accounts built aside and renamed into place.
 *
 * Create, restore, repair, compact and the replay of backup media build
 * a new account beside its final path under a staging name, PATH.TAG-PID
 * (create adds .XXXXXX), and rename it into place only when it is whole
 * and on disk; the rename is then made durable by an fsync of the
 * directory. A crash or kill part-way leaves no account at PATH, only the
 * staging directory, which the next create or restore in the same
 * directory removes: its PID names a process that no longer exists, and
 * no process holds its directory lock or its daemon lock. A live
 * builder's staging is never touched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "internal.h"

static const char *const tags[] = { "creating", "restoring", "replay",
				    "repairing", "compacting" };

int pitr_stage_path(const char *target, const char *tag, char *buf,
		    size_t size)
{
	int n = snprintf(buf, size, "%s.%s-%ld", target, tag, (long)getpid());

	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

/* The directory holding `path`, into `dir` (PATH_MAX bytes). */
static void parent_of(const char *path, char *dir)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, PATH_MAX, "%s", dirname(tmp));
}

int pitr_stage_commit(const char *tmp, const char *target)
{
	char dir[PATH_MAX];

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_NOREPLACE))
		return errno == EEXIST ? PITR_EXISTS : errno;
	parent_of(target, dir);
	return dir_sync(dir);
}

/* The PID a staging name carries: the digits after its last ".TAG-", up
 * to the end or a '.'; 0 when `name` is no staging name. */
static long stage_pid(const char *name)
{
	const char *best = NULL;

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		size_t tl = strlen(tags[i]);
		for (const char *p = strchr(name, '.'); p;
		     p = strchr(p + 1, '.'))
			if (!strncmp(p + 1, tags[i], tl) && p[1 + tl] == '-' &&
			    (!best || p > best))
				best = p + 2 + tl;
	}
	if (!best || *best < '1' || *best > '9')
		return 0;
	long pid = 0;
	for (; *best >= '0' && *best <= '9'; best++) {
		if (pid > 99999999)
			return 0;
		pid = pid * 10 + (*best - '0');
	}
	return *best == 0 || *best == '.' ? pid : 0;
}

int stage_lock(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -1;
	}
	return fd;
}

void pitr_stage_clean(const char *target)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *d;
	DIR *dp;

	parent_of(target, dir);
	if (!(dp = opendir(dir)))
		return;
	while ((d = readdir(dp))) {
		long pid = stage_pid(d->d_name);
		if (!pid || pid == (long)getpid() ||
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		int n = snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (n < 0 || n >= (int)sizeof(path))
			continue;
		/* Held by its directory lock (a create) or its daemon lock
		 * (a restore, repair or replay): alive after all, kept. */
		int fd = stage_lock(path);
		if (fd < 0)
			continue;
		pitr_store_destroy(path);
		close(fd);
	}
	closedir(dp);
}
