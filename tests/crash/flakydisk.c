/*
 * flakydisk.c - a disk with a volatile write cache, for power-loss tests.
 *
 * usage: flakydisk IMAGE MOUNTPOINT SEED
 *
 * Serves MOUNTPOINT/disk, a file as large as IMAGE, to put a loop device
 * on. Writes to it are held in memory, in 4 KB blocks; an fsync (what the
 * loop device sends for a flush or a FUA write) writes them to IMAGE and
 * syncs it. Writing "cut" to MOUNTPOINT/ctl is the power failure: a random
 * half of the blocks written since the last fsync reach IMAGE, chosen by
 * SEED, the rest are lost, and the process exits without answering, so the
 * disk is gone for everything above it. IMAGE then holds what a disk that
 * honours flushes, and nothing more, could hold after losing power.
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK	4096
#define BUCKETS 65536

struct block {
	struct block *next;
	uint64_t no;
	unsigned char data[BLOCK];
};

static struct block *cache[BUCKETS]; /* written since the last fsync */
static int image = -1;
static off_t image_size;
static uint64_t seed;

static struct block **slot(uint64_t no)
{
	struct block **p = &cache[no % BUCKETS];

	while (*p && (*p)->no != no)
		p = &(*p)->next;
	return p;
}

static int read_block(uint64_t no, unsigned char *buf)
{
	struct block *b = *slot(no);
	ssize_t n;

	if (b) {
		memcpy(buf, b->data, BLOCK);
		return 0;
	}
	n = pread(image, buf, BLOCK, (off_t)(no * BLOCK));
	if (n < 0)
		return -errno;
	memset(buf + n, 0, (size_t)(BLOCK - n));
	return 0;
}

/* Write the cached blocks that `keep` chooses to the image, drop all. */
static int flush_cache(int (*keep)(void))
{
	int rc = 0;

	for (size_t i = 0; i < BUCKETS; i++) {
		struct block *b = cache[i], *next;
		for (; b; b = next) {
			next = b->next;
			if (keep() && pwrite(image, b->data, BLOCK,
					     (off_t)(b->no * BLOCK)) != BLOCK)
				rc = -EIO;
			free(b);
		}
		cache[i] = NULL;
	}
	if (fdatasync(image))
		rc = -errno;
	return rc;
}

static int always(void)
{
	return 1;
}

static int coin(void)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return (seed >> 33) & 1;
}

static int fd_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (!strcmp(path, "/disk")) {
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = 1;
		st->st_size = image_size;
	} else if (!strcmp(path, "/ctl")) {
		st->st_mode = S_IFREG | 0200;
		st->st_nlink = 1;
	} else {
		return -ENOENT;
	}
	return 0;
}

static int fd_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, "/disk") && strcmp(path, "/ctl"))
		return -ENOENT;
	fi->direct_io = 1; /* no page cache between the loop device and us */
	return 0;
}

static int fd_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	unsigned char blk[BLOCK];
	size_t done = 0;

	(void)fi;
	if (strcmp(path, "/disk"))
		return -EINVAL;
	if (off >= image_size)
		return 0;
	if ((off_t)size > image_size - off)
		size = (size_t)(image_size - off);
	while (done < size) {
		uint64_t pos = (uint64_t)off + done, no = pos / BLOCK;
		size_t in = pos % BLOCK, n = BLOCK - in;
		int rc = read_block(no, blk);

		if (rc)
			return rc;
		if (n > size - done)
			n = size - done;
		memcpy(buf + done, blk + in, n);
		done += n;
	}
	return (int)done;
}

static int fd_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	size_t done = 0;

	(void)fi;
	if (!strcmp(path, "/ctl")) {
		if (size >= 3 && !memcmp(buf, "cut", 3)) {
			flush_cache(coin);
			_exit(0); /* the power is off: no answer, ever */
		}
		return -EINVAL;
	}
	if (off + (off_t)size > image_size)
		return -ENOSPC;
	while (done < size) {
		uint64_t pos = (uint64_t)off + done, no = pos / BLOCK;
		size_t in = pos % BLOCK, n = BLOCK - in;
		struct block **p = slot(no);

		if (!*p) {
			struct block *b = malloc(sizeof(*b));
			if (!b)
				return -ENOMEM;
			if (read_block(no, b->data)) {
				free(b);
				return -EIO;
			}
			b->no = no;
			b->next = NULL;
			*p = b;
		}
		if (n > size - done)
			n = size - done;
		memcpy((*p)->data + in, buf + done, n);
		done += n;
	}
	return (int)done;
}

static int fd_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	(void)fi;
	return flush_cache(always);
}

static int fd_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	return !strcmp(path, "/ctl") ? 0 : size == image_size ? 0 : -EPERM;
}

static int fd_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "disk", NULL, 0, 0);
	fill(buf, "ctl", NULL, 0, 0);
	return 0;
}

static const struct fuse_operations ops = {
	.getattr = fd_getattr,
	.open = fd_open,
	.read = fd_read,
	.write = fd_write,
	.fsync = fd_fsync,
	.truncate = fd_truncate,
	.readdir = fd_readdir,
};

int main(int argc, char **argv)
{
	struct stat st;

	if (argc != 4) {
		fprintf(stderr, "usage: flakydisk IMAGE MOUNTPOINT SEED\n");
		return 2;
	}
	image = open(argv[1], O_RDWR);
	if (image < 0 || fstat(image, &st)) {
		perror(argv[1]);
		return 1;
	}
	image_size = st.st_size;
	seed = strtoull(argv[3], NULL, 10);
	/* one thread: the cache needs no lock */
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	if (fuse_opt_add_arg(&args, argv[0]) || fuse_opt_add_arg(&args, "-s") ||
	    fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, "fsname=flakydisk") ||
	    fuse_opt_add_arg(&args, argv[2]))
		return 1;
	return fuse_main(args.argc, args.argv, &ops, NULL);
}
