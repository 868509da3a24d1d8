/*
 * fsops.c - the filesystem benchmark's driver: one operation over N files
 * "doc%06u.json" of a directory, timed, so the shell's overhead is not what
 * gets measured.
 *
 * usage: fsops OP DIR N [ROUND]
 *   create, overwrite  open(O_WRONLY|O_CREAT|O_TRUNC), write the document of
 *                      ROUND (default 0), close: one commit per file
 *   read               open, read to EOF, close each file; with ROUND, check
 *                      every byte against the document of that round
 *   stat               readdir DIR and lstat every entry (ls -l); the number
 *                      of entries must be N
 *   unlink             unlink every file
 *
 * Prints one line: "<ops/s> <ops> <seconds> <checksum>", the checksum an
 * FNV-1a hash of what was read (read) or 0. Exits 1 at the first failure,
 * with the file and the error on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "docgen.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what, const char *path)
{
	fprintf(stderr, "fsops: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static uint64_t seed_of(unsigned i, unsigned round)
{
	return (uint64_t)i * 1000003u + (uint64_t)round * 7919u + 1;
}

/* The documents of one round, made before the clock starts. */
static char **make_docs(unsigned n, unsigned round, size_t **lens)
{
	char **docs = malloc(n * sizeof(*docs));
	char buf[DOC_MAX], id[32];

	*lens = malloc(n * sizeof(**lens));
	if (!docs || !*lens) {
		perror("fsops: malloc");
		exit(1);
	}
	for (unsigned i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "doc%06u", i);
		(*lens)[i] = doc_gen(buf, sizeof(buf), id, seed_of(i, round));
		docs[i] = malloc((*lens)[i]);
		if (!docs[i]) {
			perror("fsops: malloc");
			exit(1);
		}
		memcpy(docs[i], buf, (*lens)[i]);
	}
	return docs;
}

int main(int argc, char **argv)
{
	const char *op, *dir;
	unsigned n, round = 0, ops = 0;
	int check = 0;
	char **docs = NULL, path[4096];
	size_t *lens = NULL;
	uint64_t sum = 1469598103934665603ull;
	double t0, sec;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: fsops create|overwrite|read|stat|unlink "
				"DIR N [ROUND]\n");
		return 2;
	}
	op = argv[1];
	dir = argv[2];
	n = (unsigned)strtoul(argv[3], NULL, 10);
	if (argc > 4) {
		round = (unsigned)strtoul(argv[4], NULL, 10);
		check = 1;
	}
	if (!strcmp(op, "create") || !strcmp(op, "overwrite") ||
	    (!strcmp(op, "read") && check))
		docs = make_docs(n, round, &lens);

	t0 = now_s();
	if (!strcmp(op, "create") || !strcmp(op, "overwrite")) {
		for (unsigned i = 0; i < n; i++, ops++) {
			snprintf(path, sizeof(path), "%s/doc%06u.json", dir, i);
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0)
				fail("open", path);
			ssize_t w = write(fd, docs[i], lens[i]);
			if (w != (ssize_t)lens[i]) {
				if (w >= 0)
					errno = EIO;
				fail("write", path);
			}
			if (close(fd))
				fail("close (commit)", path);
		}
	} else if (!strcmp(op, "read")) {
		char buf[65536];
		for (unsigned i = 0; i < n; i++, ops++) {
			size_t len = 0;
			ssize_t r;
			snprintf(path, sizeof(path), "%s/doc%06u.json", dir, i);
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				fail("open", path);
			while ((r = read(fd, buf + len, sizeof(buf) - len)) > 0)
				len += (size_t)r;
			if (r < 0)
				fail("read", path);
			close(fd);
			for (size_t k = 0; k < len; k++)
				sum = (sum ^ (unsigned char)buf[k]) *
				      1099511628211ull;
			if (check && (len != lens[i] ||
				      memcmp(buf, docs[i], len))) {
				fprintf(stderr, "fsops: %s: %zu bytes, not the "
						"%zu of round %u\n",
					path, len, lens[i], round);
				return 1;
			}
		}
	} else if (!strcmp(op, "stat")) {
		DIR *d = opendir(dir);
		struct dirent *de;
		struct stat st;
		if (!d)
			fail("opendir", dir);
		errno = 0;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			if (fstatat(dirfd(d), de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW)) {
				snprintf(path, sizeof(path), "%s/%s", dir,
					 de->d_name);
				fail("lstat", path);
			}
			if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
				fprintf(stderr, "fsops: %s/%s: not a non-empty"
						" file\n", dir, de->d_name);
				return 1;
			}
			ops++;
			errno = 0;
		}
		if (errno)
			fail("readdir", dir);
		closedir(d);
		if (ops != n) {
			fprintf(stderr, "fsops: %s: %u entries, expected %u\n",
				dir, ops, n);
			return 1;
		}
	} else if (!strcmp(op, "unlink")) {
		for (unsigned i = 0; i < n; i++, ops++) {
			snprintf(path, sizeof(path), "%s/doc%06u.json", dir, i);
			if (unlink(path))
				fail("unlink", path);
		}
	} else {
		fprintf(stderr, "fsops: unknown operation '%s'\n", op);
		return 2;
	}
	sec = now_s() - t0;
	if (strcmp(op, "read"))
		sum = 0;
	printf("%.0f %u %.3f %016" PRIx64 "\n", ops / sec, ops, sec, sum);
	return 0;
}
