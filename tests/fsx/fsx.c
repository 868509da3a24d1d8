/*
 * fsx.c - a model-based random file exerciser, after xfstests' fsx: random
 * writes, pwrites past the end, truncate and ftruncate, close and reopen
 * (plain, O_TRUNC without a write, O_APPEND), each followed by reads that
 * are compared with an in-memory model of what the file must hold.
 *
 *   fsx [-j] [-N ops] [-S seed] [-l maxlen] [-v] FILE
 *
 * -j  JSON mode, for a document: the file is always one valid JSON object,
 *     {"k":"<letters>"} and whitespace after it, and every operation keeps
 *     it valid (letters written over letters, whitespace appended, written
 *     or cut, whole rewrites), so every close commits a version.
 * -N  operations (default 2000); -S seed (default: from the clock);
 *     -l  largest file size (default 65536; 8192 with -j); -v each op.
 *
 * FILE is created (or emptied) first. Reads go through the open
 * descriptor, and through a fresh one after each close: what close()
 * returned for must be what the next open reads. On a miscompare it prints
 * the seed, the operation, the first differing offset and the last
 * operations, and exits 1; the same seed and -N repeat the run exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HISTORY 32

static const char *path;
static int json, verbose, fd = -1;
static unsigned char *model, *buf;
static size_t msize, maxlen;
static uint64_t seed, rng;
static long opno;
static char history[HISTORY][96];

static uint64_t rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t rnd(size_t n)
{
	return n ? (size_t)(rnd64() % n) : 0;
}

static void note(const char *fmt, ...)
{
	va_list ap;
	char *h = history[opno % HISTORY];

	va_start(ap, fmt);
	vsnprintf(h, sizeof(history[0]), fmt, ap);
	va_end(ap);
	if (verbose)
		printf("%ld %s\n", opno, h);
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fsx: seed %" PRIu64 ", op %ld: ", seed, opno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nfsx: file %s, model size %zu; last operations:\n",
		path, msize);
	for (long i = opno - HISTORY + 1; i <= opno; i++)
		if (i >= 0)
			fprintf(stderr, "fsx:   %ld %s\n", i, history[i % HISTORY]);
	fprintf(stderr, "fsx: to repeat: fsx%s -S %" PRIu64 " -N %ld -l %zu %s\n",
		json ? " -j" : "", seed, opno + 1, maxlen, path);
	exit(1);
}

static void sys_fail(const char *what)
{
	fail("%s: %s", what, strerror(errno));
}

static void do_open(int flags)
{
	if ((fd = open(path, flags, 0644)) < 0)
		sys_fail("open");
}

static void do_close(void)
{
	if (close(fd))
		sys_fail("close");
	fd = -1;
}

static void put(size_t off, const void *p, size_t n)
{
	if (pwrite(fd, p, n, (off_t)off) != (ssize_t)n)
		sys_fail("pwrite");
	if (off + n > msize) {
		if (off > msize)
			memset(model + msize, 0, off - msize);
		msize = off + n;
	}
	memcpy(model + off, p, n);
}

static void set_size(size_t n)
{
	if (n > msize)
		memset(model + msize, 0, n - msize);
	msize = n;
}

/* Compare the file through descriptor `d` with the model. */
static void check_fd(int d, const char *how)
{
	struct stat st;
	ssize_t got;
	size_t n = 0;

	if (fstat(d, &st))
		sys_fail("fstat");
	if ((size_t)st.st_size != msize)
		fail("%s: size %jd, want %zu", how, (intmax_t)st.st_size,
		     msize);
	while ((got = pread(d, buf + n, maxlen + 1 - n, (off_t)n)) > 0)
		n += (size_t)got;
	if (got < 0)
		sys_fail("pread");
	for (size_t i = 0; i < n && i < msize; i++)
		if (buf[i] != model[i])
			fail("%s: byte %zu is 0x%02x, want 0x%02x (%zu bytes "
			     "read)",
			     how, i, buf[i], model[i], n);
	if (n != msize)
		fail("%s: read %zu bytes, want %zu", how, n, msize);
}

/* After a close: a new descriptor reads what the model holds. */
static void check_fresh(void)
{
	int d = open(path, O_RDONLY);

	if (d < 0)
		sys_fail("open for reading");
	check_fd(d, "read after close");
	close(d);
}

/* The first byte after the JSON object: whitespace only from there. */
static size_t json_end(void)
{
	return (size_t)((unsigned char *)memchr(model, '}', msize) - model) + 1;
}

static void fill_letters(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)('a' + rnd(26));
}

static void fill_ws(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = " \n\t "[rnd(4)];
}

static void fill_bytes(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rnd64() >> 24);
}

/* A whole new JSON body of at most maxlen bytes, in buf. */
static size_t json_body(void)
{
	size_t letters = rnd(maxlen / 2), ws = rnd(64);

	memcpy(buf, "{\"k\":\"", 6);
	fill_letters(buf + 6, letters);
	memcpy(buf + 6 + letters, "\"}", 2);
	fill_ws(buf + 8 + letters, ws);
	return 8 + letters + ws;
}

static void op_json(void)
{
	size_t end = json_end(), off, n;

	/* (not `: > f` and a write: the empty body is no version, README) */
	switch (rnd(8)) {
	case 0: /* letters over letters */
		if (end <= 8)
			return;
		off = 6 + rnd(end - 8);
		n = 1 + rnd(end - 8 - (off - 6));
		fill_letters(buf, n);
		note("write letters at %zu, %zu bytes", off, n);
		put(off, buf, n);
		break;
	case 1: /* whitespace at or past the end */
		off = end + rnd(msize - end + 1);
		n = 1 + rnd(64);
		if (off + n > maxlen)
			return;
		fill_ws(buf, n);
		note("write whitespace at %zu, %zu bytes (size %zu)", off, n,
		     msize);
		put(off, buf, n);
		break;
	case 2: /* ftruncate into the whitespace */
		n = end + rnd(msize - end + 1);
		note("ftruncate to %zu (size %zu)", n, msize);
		if (ftruncate(fd, (off_t)n))
			sys_fail("ftruncate");
		set_size(n);
		break;
	case 3: /* truncate by name, no descriptor open */
		n = end + rnd(msize - end + 1);
		note("close, truncate to %zu (size %zu), open", n, msize);
		do_close();
		if (truncate(path, (off_t)n))
			sys_fail("truncate");
		set_size(n);
		check_fresh();
		do_open(O_RDWR);
		break;
	case 4: /* a whole new body: O_TRUNC and one write */
		n = json_body();
		note("close, open O_TRUNC, write %zu bytes", n);
		do_close();
		do_open(O_RDWR | O_TRUNC);
		msize = 0;
		put(0, buf, n);
		break;
	case 5: /* O_APPEND */
		n = 1 + rnd(32);
		if (msize + n > maxlen)
			return;
		fill_ws(buf, n);
		note("close, open O_APPEND, append %zu bytes, close", n);
		do_close();
		do_open(O_WRONLY | O_APPEND);
		if (write(fd, buf, n) != (ssize_t)n)
			sys_fail("write");
		memcpy(model + msize, buf, n);
		msize += n;
		do_close();
		check_fresh();
		do_open(O_RDWR);
		break;
	default:
		note("close, reopen");
		do_close();
		check_fresh();
		do_open(O_RDWR);
	}
}

static void op_scratch(void)
{
	size_t off, n;

	switch (rnd(10)) {
	case 0:
	case 1: /* a write anywhere up to the end */
		off = rnd(msize + 1);
		n = 1 + rnd(maxlen / 8);
		if (off + n > maxlen)
			n = maxlen - off;
		if (!n)
			return;
		fill_bytes(buf, n);
		note("pwrite at %zu, %zu bytes (size %zu)", off, n, msize);
		put(off, buf, n);
		break;
	case 2: /* a pwrite past the end: a hole */
		if (msize >= maxlen - 1)
			return;
		off = msize + 1 + rnd(maxlen - msize - 1);
		n = 1 + rnd(maxlen - off);
		fill_bytes(buf, n);
		note("pwrite past the end at %zu, %zu bytes (size %zu)", off,
		     n, msize);
		put(off, buf, n);
		break;
	case 3: /* ftruncate, shorter or longer */
		n = rnd(maxlen + 1);
		note("ftruncate to %zu (size %zu)", n, msize);
		if (ftruncate(fd, (off_t)n))
			sys_fail("ftruncate");
		set_size(n);
		break;
	case 4: /* truncate by name, no descriptor open */
		n = rnd(maxlen + 1);
		note("close, truncate to %zu (size %zu), open", n, msize);
		do_close();
		if (truncate(path, (off_t)n))
			sys_fail("truncate");
		set_size(n);
		check_fresh();
		do_open(O_RDWR);
		break;
	case 5: /* O_TRUNC, closed without a write, then O_APPEND */
		n = 1 + rnd(32);
		note("close, open O_TRUNC and close at once, open O_APPEND, "
		     "write %zu bytes, close",
		     n);
		do_close();
		do_open(O_WRONLY | O_TRUNC);
		do_close();
		msize = 0;
		do_open(O_WRONLY | O_APPEND);
		fill_bytes(buf, n);
		if (write(fd, buf, n) != (ssize_t)n)
			sys_fail("write");
		memcpy(model, buf, n);
		msize = n;
		do_close();
		check_fresh();
		do_open(O_RDWR);
		break;
	case 6: /* O_TRUNC then writes on that descriptor */
		note("close, open O_TRUNC");
		do_close();
		do_open(O_RDWR | O_TRUNC);
		msize = 0;
		break;
	case 7: /* O_APPEND */
		n = 1 + rnd(256);
		if (msize + n > maxlen)
			return;
		note("close, open O_APPEND, append %zu bytes, close", n);
		do_close();
		do_open(O_WRONLY | O_APPEND);
		fill_bytes(buf, n);
		if (write(fd, buf, n) != (ssize_t)n)
			sys_fail("write");
		memcpy(model + msize, buf, n);
		msize += n;
		do_close();
		check_fresh();
		do_open(O_RDWR);
		break;
	default:
		note("close, reopen");
		do_close();
		check_fresh();
		do_open(O_RDWR);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: fsx [-j] [-N ops] [-S seed] [-l maxlen] [-v] "
			"FILE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long ops = 2000;
	int c;

	maxlen = 0;
	seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
	while ((c = getopt(argc, argv, "jN:S:l:v")) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'N':
			ops = atol(optarg);
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'l':
			maxlen = (size_t)atol(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	path = argv[optind];
	if (!maxlen)
		maxlen = json ? 8192 : 65536;
	if (maxlen < 64)
		usage();
	rng = seed * 0x9e3779b97f4a7c15u + 1;
	model = calloc(maxlen + 1, 1);
	buf = calloc(maxlen + 1, 1);
	if (!model || !buf)
		return 1;
	printf("fsx: seed %" PRIu64 ", %ld ops, %s, %s\n", seed, ops,
	       json ? "JSON document" : "any bytes", path);
	fflush(stdout);

	/* the start: some bytes, or a small valid document */
	opno = 0;
	note("create");
	do_open(O_RDWR | O_CREAT | O_TRUNC);
	if (json) {
		size_t n = json_body();
		put(0, buf, n);
	} else {
		size_t n = 1 + rnd(maxlen / 2);
		fill_bytes(buf, n);
		put(0, buf, n);
	}
	do_close();
	check_fresh();
	do_open(O_RDWR);
	for (opno = 1; opno <= ops; opno++) {
		if (json)
			op_json();
		else
			op_scratch();
		if (fd >= 0)
			check_fd(fd, "read through the open descriptor");
	}
	opno = ops;
	note("final close");
	do_close();
	check_fresh();
	printf("fsx: seed %" PRIu64 ": %ld ops, no miscompare\n", seed, ops);
	return 0;
}
