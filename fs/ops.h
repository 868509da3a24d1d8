/*
 * ops.h - what the daemon's handler files share: open-file and directory
 * handles, the attributes of a node, and the one translation of core's
 * codes into a FUSE reply.
 *
 * The handlers are split by job:
 *   attr.c      attributes: getattr, setattr, access, statfs
 *   lookup.c    names to nodes: lookup, forget
 *   file.c      the open-file pipeline: open, read, write, flush, fsync,
 *               release, truncation, and the commit of a handle's buffer
 *   namespace.c names created, removed and moved: create, mkdir, rmdir,
 *               unlink, rename (mknod, symlink, link are refused)
 *   dir.c       listings: opendir, readdir(plus) merged with files not
 *               committed yet, releasedir
 *   xattr.c     the extended attributes a document shows
 *   ops.c       the ops table, init, and the handles the kernel never
 *               released
 *
 * Helpers return 0, a positive errno or a negative core code (PITR_*), and
 * never reply; each handler replies exactly once, through reply_err() for
 * errors, which is where core's codes become errnos.
 *
 * Caching: history never changes, so views are cached by the kernel for
 * long: a view's document goes into the kernel's cache with its first open,
 * and a listing sends bare names for what the kernel still holds. The live
 * tree changes only through this mount, so the kernel sees every change of
 * names itself; after a commit (which sets a document's mtime and size) its
 * attributes are invalidated explicitly.
 */
#ifndef PITRFS_OPS_H
#define PITRFS_OPS_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
#include "node.h"

#define LIVE_TIMEOUT	  60.0
#define VIEW_TIMEOUT	  86400.0
#define VIEW_ROOT_TIMEOUT 1.0 /* absolute views leave the window in time */
#define WRITERS_MAX	  4

/*
 * Every handle the kernel holds is on a list (open files in file.c, open
 * directories in dir.c): an unmount drops the RELEASE requests still
 * queued, and ops_release_all() settles what they would have. handles_mtx
 * guards both lists.
 */
struct link {
	struct link *prev, *next;
};
extern pthread_mutex_t handles_mtx;
void link_add(struct link *head, struct link *l);
void link_del(struct link *l);

/*
 * An open file: the whole body, read at open or being written. Until the
 * handle changes it, the body is the committed version shared with every
 * other handle reading it (`body`, and `buf` points into it); the first
 * change makes the handle its own copy (fh_own()).
 */
struct fh {
	struct link link; /* first: a link is its handle */
	pthread_mutex_t mtx;
	struct node_ref ref;
	struct body *body; /* shared, read-only; NULL: `buf` is the handle's */
	char *buf;
	size_t len, cap;
	int write;   /* opened for writing */
	int dirty;   /* changed since the last commit */
	int written; /* data written (not only truncated) since then */
	/* the lock owners (files tables) that wrote since the last commit;
	 * WRITERS_MAX + 1 if more did */
	uint64_t writers[WRITERS_MAX];
	int nwriters;
	int toobig;  /* a write went past the size limit */
	int pending; /* holds uncommitted data: counted by its node */
	uint64_t ts; /* of the version it read; else of its open */
	unsigned long attrs_at_write; /* fs.attr_replies at the last write */
	pid_t writer;	  /* the process of the last write, for the log */
	pthread_t holder; /* the thread holding mtx, if `held` */
	int held;
};

static inline int is_live(const struct node_ref *r)
{
	return r->at == PITR_NOW;
}

/* Documents are "<id>.json" not starting with '.'; the rest are scratch. */
static inline int doc_id_len(const char *name, size_t len, size_t *idlen)
{
	if (len > 5 && name[0] != '.' && !memcmp(name + len - 5, ".json", 5)) {
		*idlen = len - 5;
		return 1;
	}
	*idlen = len;
	return 0;
}

/* The kernel passes names up to 1024 bytes; ours stop at 255. */
static inline int too_long(const char *name)
{
	return strlen(name) > PITR_NAME_MAX;
}

static inline double timeout_of(const struct node_ref *r)
{
	return is_live(r) ? LIVE_TIMEOUT : VIEW_TIMEOUT;
}

static inline int read_txn(pitr_txn **t)
{
	return pitr_txn_begin(fs.store, PITR_TXN_READ, t);
}

/*
 * Count a reply that may carry a file's attributes, before it reads the
 * store. A write makes the kernel drop the file's size and times; if no
 * such reply began since, the kernel holds none a commit made stale.
 */
static inline void attrs_coming(void)
{
	atomic_fetch_add(&fs.attr_replies, 1);
}

/* The one edge: reply `rc` (0, an errno or a core code) as an errno. */
void reply_err(fuse_req_t req, int rc);

/* attr.c: a node's attributes. stat_ref() fills `st` from the store (and
 * from writers not committed yet); the fill_*() from what the caller
 * knows. */
uint64_t ino_of(const struct node_ref *r, uint64_t version);
mode_t mode_of(const struct node_ref *r);
void fill_dir(const struct node_ref *r, struct stat *st, uint64_t ts);
void fill_file(const struct node_ref *r, struct stat *st, uint64_t size,
	       uint64_t ts);
int stat_ref(pitr_txn *t, const struct node_ref *r, struct stat *st);

/* lookup.c: make the node for a resolved child (with one kernel lookup
 * counted on it) and fill its entry. */
int make_entry(pitr_txn *t, struct node *parent, enum node_kind kind,
	       uint64_t at, uint64_t inc, uint64_t db, const char *name,
	       size_t len, struct fuse_entry_param *e);

/* file.c: a new handle on `r` (NULL: out of memory), on the open-files
 * list, freed by fh_free(). */
struct fh *fh_new(const struct node_ref *r, int write);
void fh_free(struct fh *h);
/* The handle holds uncommitted data, which makes the file `size` bytes. */
void fh_pending(struct fh *h, int64_t size);
/* Take and drop h->mtx; FH_HELD(h) asserts that this thread holds it. */
void fh_lock(struct fh *h);
void fh_unlock(struct fh *h);
#define FH_HELD(h)                                                             \
	assert((h)->held &&pthread_equal((h)->holder, pthread_self()))
/* Resize a handle's buffer (h->mtx held), as ftruncate(2) does. */
int fh_truncate(struct fh *h, size_t size);
/* truncate(2) of a file by its node: what its writers hold, and what is
 * committed. */
int file_truncate(const struct node_ref *r, size_t size);
/* The attributes of a file no name leads to any more, from a handle open
 * on it (`h` first, if not NULL). PITR_NOTFOUND if none is open. */
int file_stat_unlinked(const struct node_ref *r, struct fh *h, struct stat *st);
/* Held for reading by commits while they put a file under its name, and
 * for writing by rename and unlink until the node table agrees with the
 * store. */
void names_write_lock(void);
void names_write_unlock(void);
/* Settle and free the files and the directories the kernel never
 * released. */
void files_release_all(void);
void dirs_release_all(void);

/* The handlers, for the table in ops.c. */
void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_access(fuse_req_t req, fuse_ino_t ino, int mask);
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *fi);
void op_statfs(fuse_req_t req, fuse_ino_t ino);
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void op_forget_multi(fuse_req_t req, size_t count,
		     struct fuse_forget_data *forgets);
void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi);
void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	      off_t off, struct fuse_file_info *fi);
void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *fi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi);
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	      dev_t rdev);
void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		const char *name);
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname);
void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		 const char *value, size_t size, int flags);
void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

#endif
