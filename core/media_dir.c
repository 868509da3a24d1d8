/*
 * media_dir.c - backup media in a local directory (see media.h). An
 * object is a file, created once: written to a temporary file, fsync'd,
 * linked to its name (which fails if the name exists, so nothing is ever
 * replaced), and the directory fsync'd. Files are created 0600: they hold
 * every version of every document. One shipper at a time holds DIR/.lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "media.h"

struct media_dir {
	struct media m;
	int lock_fd;
};

static int path_of(char path[PATH_MAX], struct media *m, const char *name)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", m->where, name);

	return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

static int dir_put(struct media *m, const char *name,
		   const struct file_part *parts, int nparts)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, rc = 0, n;

	if ((rc = path_of(path, m, name)))
		return rc;
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", m->where, name,
		     (int)getpid());
	if (n < 0 || n >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	for (int i = 0; !rc && i < nparts; i++)
		rc = file_write_all(fd, parts[i].data, parts[i].len);
	if (!rc && fsync(fd))
		rc = errno;
	if (close(fd) && !rc)
		rc = errno;
	if (!rc && link(tmp, path))
		rc = errno == EEXIST ? PITR_EXISTS : errno;
	unlink(tmp);
	if (rc)
		return rc;
	return dir_sync(m->where);
}

static int dir_get(struct media *m, const char *name, size_t max,
		   unsigned char **buf, size_t *len)
{
	char path[PATH_MAX];
	int rc = path_of(path, m, name);

	return rc ? rc : file_read(path, max, buf, len);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dir_list(struct media *m, const char *prefix, const char *after,
		    media_name_fn fn, void *arg)
{
	DIR *d = opendir(m->where);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0, plen = strlen(prefix);
	int rc = 0;

	if (!d)
		return errno;
	while (!rc && (e = readdir(d))) {
		/* hidden: ".", "..", the lock, temporary files */
		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, plen) ||
		    (after && strcmp(e->d_name, after) <= 0))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **w = realloc(v, cap * sizeof(*w));
			if (!w) {
				rc = ENOMEM;
				break;
			}
			v = w;
		}
		if (!(v[n] = strdup(e->d_name)))
			rc = ENOMEM;
		else
			n++;
	}
	closedir(d);
	if (!rc && n)
		qsort(v, n, sizeof(*v), by_name);
	for (size_t i = 0; i < n; i++) {
		if (!rc)
			rc = fn(v[i], arg);
		free(v[i]);
	}
	free(v);
	return rc;
}

static int dir_del(struct media *m, const char *const *names, size_t n)
{
	char path[PATH_MAX];
	int rc;

	for (size_t i = 0; i < n; i++) {
		if ((rc = path_of(path, m, names[i])))
			return rc;
		if (unlink(path) && errno != ENOENT)
			return errno;
	}
	return n ? dir_sync(m->where) : 0;
}

static int dir_lock(struct media *m)
{
	struct media_dir *d = (struct media_dir *)m;
	char path[PATH_MAX];
	int rc;

	if (d->lock_fd >= 0)
		return 0;
	if ((rc = path_of(path, m, ".lock")))
		return rc;
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return errno;
	if (flock(d->lock_fd, LOCK_EX)) {
		rc = errno;
		close(d->lock_fd);
		d->lock_fd = -1;
	}
	return rc;
}

static void dir_close(struct media *m)
{
	struct media_dir *d = (struct media_dir *)m;

	if (d->lock_fd >= 0)
		close(d->lock_fd);
	free(d);
}

static const struct media_ops dir_ops = {
	.put = dir_put,
	.get = dir_get,
	.list = dir_list,
	.del = dir_del,
	.lock = dir_lock,
	.close = dir_close,
};

int media_dir_open(const char *dir, struct media **m)
{
	struct media_dir *d;

	if (strlen(dir) >= sizeof(d->m.where))
		return ENAMETOOLONG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return ENOMEM;
	d->m.ops = &dir_ops;
	d->lock_fd = -1;
	snprintf(d->m.where, sizeof(d->m.where), "%s", dir);
	*m = &d->m;
	return 0;
}
