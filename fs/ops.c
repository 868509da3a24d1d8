/*
 * ops.c - FUSE low-level handlers: every filesystem call mapped onto one
 * core transaction. Each handler replies exactly once.
 *
 * Caching: history never changes, so views are cached by the kernel for
 * long: a view's document goes into the kernel's cache with its first open,
 * and a listing sends bare names for what the kernel still holds. The live
 * tree changes only through this mount, so the kernel sees every change of
 * names itself; after a commit (which sets a document's mtime and size) its
 * attributes are invalidated explicitly.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <syslog.h>

#include "fs.h"
#include "node.h"

#define LIVE_TIMEOUT	  60.0
#define VIEW_TIMEOUT	  86400.0
#define VIEW_ROOT_TIMEOUT 1.0 /* absolute views leave the window in time */
#define VIEW_BIT	  (1ull << 63)
#define XATTR_TS	  "user.pitr.ts"
#define XATTR_ETAG	  "user.pitr.etag"
#define SCRATCH_FACTOR	  8
#define FILL_MAX	  (256 * 1024) /* larger: read as asked */
#define WRITERS_MAX	  4

/*
 * Every handle the kernel holds is on a list: an unmount drops the RELEASE
 * requests still queued, and ops_release_all() settles what they would
 * have.
 */
struct link {
	struct link *prev, *next;
};

static pthread_mutex_t handles_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct link open_files = { &open_files, &open_files };
static struct link open_dirs = { &open_dirs, &open_dirs };

static void link_add(struct link *head, struct link *l)
{
	pthread_mutex_lock(&handles_mtx);
	l->prev = head;
	l->next = head->next;
	head->next->prev = l;
	head->next = l;
	pthread_mutex_unlock(&handles_mtx);
}

static void link_del(struct link *l)
{
	pthread_mutex_lock(&handles_mtx);
	l->prev->next = l->next;
	l->next->prev = l->prev;
	pthread_mutex_unlock(&handles_mtx);
}

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
	pid_t writer; /* the process of the last write, for the log */
};

/* A place in a listing: after entry `name`, or at the start. */
struct listing_pos {
	int started, scratch;
	size_t len;
	char name[PITR_NAME_MAX + 1];
};

/* An open directory: where the listing resumes. */
struct dh {
	struct link link; /* first: a link is its handle */
	struct node_ref ref;
	off_t off; /* offset of the last entry returned */
	int eof;
	struct listing_pos pos;
	/* Where the last reply began: the kernel asks again from inside it
	 * when the caller's buffer took only part of it. */
	off_t mark_off;
	struct listing_pos mark;
};

static int is_live(const struct node_ref *r)
{
	return r->at == PITR_NOW;
}

/* Documents are "<id>.json" not starting with '.'; the rest are scratch. */
static int doc_id_len(const char *name, size_t len, size_t *idlen)
{
	if (len > 5 && name[0] != '.' && !memcmp(name + len - 5, ".json", 5)) {
		*idlen = len - 5;
		return 1;
	}
	*idlen = len;
	return 0;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static uint64_t name_hash(const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	return h;
}

/*
 * st_ino: live files keep theirs across versions; a file in a view gets
 * one per version, with the top bit set so it never equals a live one.
 */
static uint64_t ino_of(const struct node_ref *r, uint64_t version)
{
	uint64_t h;

	if (r->kind == N_ROOT)
		return 1;
	h = mix(mix(r->kind, r->inc), name_hash(r->name, r->namelen));
	if (is_live(r))
		h &= ~VIEW_BIT;
	else
		h = mix(h, r->kind == N_DOC ? version : r->at) | VIEW_BIT;
	return h > 1 ? h : h + 2;
}

/* History is readable by the owner and --history-group only. */
static mode_t mode_of(const struct node_ref *r)
{
	int dir = r->kind != N_DOC && r->kind != N_SCRATCH;
	int group = fs.history_gid != (gid_t)-1;

	if (is_live(r))
		return dir ? S_IFDIR | 0755 : S_IFREG | 0644;
	return dir ? S_IFDIR | (group ? 0550 : 0500)
		   : S_IFREG | (group ? 0440 : 0400);
}

static void fill_dir(const struct node_ref *r, struct stat *st, uint64_t ts)
{
	st->st_ino = ino_of(r, 0);
	st->st_nlink = 2;
	st->st_mode = mode_of(r);
	st->st_uid = fs.uid;
	st->st_gid = !is_live(r) && fs.history_gid != (gid_t)-1 ? fs.history_gid
								: fs.gid;
	st->st_mtim.tv_sec = (time_t)(ts / PITR_NS_PER_SEC);
	st->st_mtim.tv_nsec = (long)(ts % PITR_NS_PER_SEC);
	st->st_ctim = st->st_atim = st->st_mtim;
	st->st_blksize = 4096;
}

static void fill_file(const struct node_ref *r, struct stat *st, uint64_t size,
		      uint64_t ts)
{
	fill_dir(r, st, ts);
	st->st_ino = ino_of(r, ts);
	st->st_nlink = 1;
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

static int stat_ref(pitr_txn *t, const struct node_ref *r, struct stat *st)
{
	pitr_version v;
	size_t idlen, len;
	uint64_t mtime;
	int64_t pending;
	int rc;

	memset(st, 0, sizeof(*st));
	switch (r->kind) {
	case N_ROOT:
	case N_DB:
	case N_CT:
		fill_dir(r, st, is_live(r) ? fs.mounted : r->at);
		return 0;
	case N_VIEW:
		fill_dir(r, st, r->at);
		return 0;
	case N_DOC:
		pending = node_pending_size(r->node);
		doc_id_len(r->name, r->namelen, &idlen);
		rc = pitr_doc_stat(t, r->inc, r->name, idlen, r->at, &v);
		if (rc == PITR_NOTFOUND && pending >= 0 && is_live(r)) {
			/* created, not yet committed: its writer sees it */
			fill_file(r, st, (uint64_t)pending, pitr_clock());
			return 0;
		}
		if (rc)
			return rc;
		fill_file(r, st, pending >= 0 ? (uint64_t)pending : v.size,
			  v.ts);
		return 0;
	case N_SCRATCH:
		pending = node_pending_size(r->node);
		rc = pitr_scratch_stat(t, r->inc, r->name, r->namelen, &len,
				       &mtime);
		if (rc == PITR_NOTFOUND && pending >= 0) {
			fill_file(r, st, (uint64_t)pending, pitr_clock());
			return 0;
		}
		if (rc)
			return rc;
		fill_file(r, st, pending >= 0 ? (uint64_t)pending : len, mtime);
		return 0;
	}
	return PITR_NOTFOUND;
}

/*
 * Count a reply that may carry a file's attributes, before it reads the
 * store. A write makes the kernel drop the file's size and times; if no
 * such reply began since, the kernel holds none a commit made stale.
 */
static void attrs_coming(void)
{
	atomic_fetch_add(&fs.attr_replies, 1);
}

static double timeout_of(const struct node_ref *r)
{
	return is_live(r) ? LIVE_TIMEOUT : VIEW_TIMEOUT;
}

static int read_txn(pitr_txn **t)
{
	return pitr_txn_begin(fs.store, PITR_TXN_READ, t);
}

static void reply_rc(fuse_req_t req, int rc)
{
	fuse_reply_err(req, pitr_errno(rc));
}

/* End a write transaction: abort it after an error, else commit it and
 * count the commit for the syncer. Returns the first error. */
static int finish(pitr_txn *t, int rc)
{
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	rc = pitr_txn_commit(t, NULL);
	if (!rc)
		atomic_fetch_add(&fs.commits, 1);
	return rc;
}

/* The kernel passes names up to 1024 bytes; ours stop at 255. */
static int too_long(const char *name)
{
	return strlen(name) > PITR_NAME_MAX;
}

/*
 * The parent of a name about to be created, removed or renamed: live, and
 * the name not too long. Otherwise reply with the error and return -1.
 */
static int changeable(fuse_req_t req, fuse_ino_t parent, const char *name,
		      struct node_ref *p)
{
	if (too_long(name)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return -1;
	}
	node_get(node_of(parent), p);
	if (!is_live(p)) {
		fuse_reply_err(req, EROFS);
		return -1;
	}
	return 0;
}

/* Does `name` under `p` name a view (a read-only tree, not a name)? */
static int is_view(const struct node_ref *p, const char *name)
{
	uint64_t at;

	return p->kind == N_ROOT && name[0] == '@' &&
	       pitr_store_resolve(fs.store, name + 1, strlen(name) - 1, &at) ==
		   0;
}

/*
 * Lookup
 */

/*
 * The instant a view's name `@T` shows. The kernel hears only ENOENT when
 * it shows none; the log says why: a malformed time, or one outside the
 * window, which it names.
 */
static int view_instant(const char *name, size_t len, uint64_t *at)
{
	char lo[PITR_TIME_LEN], hi[PITR_TIME_LEN];
	int rc = pitr_store_resolve(fs.store, name + 1, len - 1, at);
	uint64_t now;

	if (rc == PITR_BADTIME) {
		fs_log(LOG_NOTICE, "no view %.*s: not a time (RFC 3339, or "
		       "relative as -5m)", (int)len, name);
	} else if (rc == PITR_OUTOFRANGE) {
		now = pitr_store_now(fs.store);
		pitr_time_format(pitr_store_window_start(fs.store, now), lo);
		pitr_time_format(now, hi);
		fs_log(LOG_NOTICE, "no view %.*s: outside the window %s to %s",
		       (int)len, name, lo, hi);
	}
	return rc;
}

/* Resolve `name` under `p` into a child's properties. */
static int resolve_child(pitr_txn *t, const struct node_ref *p,
			 const char *name, size_t len, enum node_kind *kind,
			 uint64_t *at, uint64_t *inc, uint64_t *db)
{
	size_t idlen;
	size_t slen;
	pitr_version v;

	*at = p->at;
	*db = 0;
	switch (p->kind) {
	case N_ROOT:
		if (name[0] == '@') {
			*kind = N_VIEW;
			*inc = 0;
			return view_instant(name, len, at);
		}
		*kind = N_DB;
		return pitr_db_lookup(t, PITR_NOW, name, len, inc);
	case N_VIEW:
		*kind = N_DB;
		return pitr_db_lookup(t, p->at, name, len, inc);
	case N_DB:
		*kind = N_CT;
		*db = p->inc;
		return pitr_ct_lookup(t, p->at, p->inc, name, len, inc);
	case N_CT: {
		int rc;
		*inc = p->inc;
		if (doc_id_len(name, len, &idlen)) {
			*kind = N_DOC;
			rc = pitr_doc_stat(t, p->inc, name, idlen, p->at, &v);
		} else {
			*kind = N_SCRATCH;
			if (!is_live(p))
				return PITR_NOTFOUND;
			rc = pitr_scratch_stat(t, p->inc, name, len, &slen,
					       NULL);
		}
		/* created, not committed yet: there for as long as its writer
		 */
		if (rc == PITR_NOTFOUND && is_live(p) &&
		    node_child_pending(p->node, name, len) >= 0)
			rc = 0;
		return rc;
	}
	default:
		return ENOTDIR;
	}
}

/* Make the node for a resolved child and fill its entry. */
static int make_entry(pitr_txn *t, struct node *parent, enum node_kind kind,
		      uint64_t at, uint64_t inc, uint64_t db, const char *name,
		      size_t len, struct fuse_entry_param *e)
{
	char key[32];
	struct node_ref r;
	struct node *n;
	int rc;

	if (kind == N_VIEW) {
		/* one node per instant, whatever spelling reached it */
		len = (size_t)snprintf(key, sizeof(key), "@%" PRIu64, at);
		name = key;
	}
	n = node_lookup(parent, kind, at, inc, db, name, len);
	if (!n)
		return ENOMEM;
	node_get(n, &r);
	rc = stat_ref(t, &r, &e->attr);
	if (rc) {
		node_forget(n, 1);
		return rc;
	}
	e->ino = node_id(n);
	e->attr_timeout = e->entry_timeout = timeout_of(&r);
	return 0;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = { 0 };
	struct node_ref p;
	enum node_kind kind;
	uint64_t at, inc, db;
	size_t len = strlen(name);
	pitr_txn *t;
	int rc;

	if (too_long(name)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	node_get(node_of(parent), &p);
	attrs_coming();
	rc = read_txn(&t);
	if (rc)
		return reply_rc(req, rc);
	rc = resolve_child(t, &p, name, len, &kind, &at, &inc, &db);
	if (!rc)
		rc = make_entry(t, p.node, kind, at, inc, db, name, len, &e);
	pitr_txn_abort(t);
	if (kind == N_VIEW && !rc) {
		/* "@-5m" means a new instant at every lookup */
		int relative = name[1] == '-';
		e.entry_timeout = relative ? 0 : VIEW_ROOT_TIMEOUT;
		e.attr_timeout = relative ? 0 : VIEW_ROOT_TIMEOUT;
	}
	if (rc == PITR_NOTFOUND && !(p.kind == N_ROOT && name[0] == '@')) {
		/* a cacheable negative entry */
		e.ino = 0;
		e.entry_timeout = timeout_of(&p);
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc)
		return reply_rc(req, rc);
	fuse_reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(node_of(ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		node_forget(node_of(forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

/*
 * The attributes of a file unlinked or replaced while open, which no name
 * leads to any more: those of what an open handle on it reads, with no
 * link. fstat(2) asks for them (without naming its handle), and Python's
 * read() asks fstat first. The handles share one inode, so when they hold
 * different versions it shows the one `h` holds, else the newest handle's,
 * as it showed before the unlink. PITR_NOTFOUND if no handle is open.
 */
static int stat_unlinked(const struct node_ref *r, struct fh *h,
			 struct stat *st)
{
	pthread_mutex_lock(&handles_mtx);
	for (struct link *l = open_files.next; !h && l != &open_files;
	     l = l->next)
		if (((struct fh *)(void *)l)->ref.node == r->node)
			h = (struct fh *)(void *)l;
	if (h) {
		pthread_mutex_lock(&h->mtx);
		memset(st, 0, sizeof(*st));
		fill_file(r, st, h->len, h->ts);
		st->st_nlink = 0;
		pthread_mutex_unlock(&h->mtx);
	}
	pthread_mutex_unlock(&handles_mtx);
	return h ? 0 : PITR_NOTFOUND;
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct node_ref r;
	struct stat st;
	pitr_txn *t;
	int rc;

	node_get(node_of(ino), &r);
	if (is_live(&r) && (r.kind == N_DOC || r.kind == N_SCRATCH) &&
	    !node_hashed(r.node)) {
		/* its name, if taken again, is another file's */
		rc = stat_unlinked(
		    &r, fi ? (struct fh *)(uintptr_t)fi->fh : NULL, &st);
		if (rc)
			return reply_rc(req, rc);
		fuse_reply_attr(req, &st, 0);
		return;
	}
	attrs_coming();
	rc = read_txn(&t);
	if (rc)
		return reply_rc(req, rc);
	rc = stat_ref(t, &r, &st);
	pitr_txn_abort(t);
	if (rc)
		return reply_rc(req, rc);
	if (!is_live(&r))
		node_attrs_refreshed(r.node);
	fuse_reply_attr(req, &st, timeout_of(&r));
}

/*
 * access(2), asked only when the kernel does not check modes itself: then
 * the mount admits its owner alone (and root, with allow_root), so the
 * owner's bits decide. A write into history is EROFS, as on any read-only
 * filesystem, before any mode is looked at.
 */
static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct node_ref r;
	mode_t mode;

	node_get(node_of(ino), &r);
	mode = mode_of(&r);
	if ((mask & W_OK) && !is_live(&r))
		return reply_rc(req, EROFS);
	if (ctx->uid == 0) /* root may run what anyone may */
		return reply_rc(req, (mask & X_OK) && !S_ISDIR(mode) &&
					     !(mode & 0111)
					 ? EACCES
					 : 0);
	reply_rc(req, (unsigned)mask & ~((mode >> 6) & 7) ? EACCES : 0);
}

/*
 * Files
 */

static size_t limit_of(const struct node_ref *r)
{
	size_t max = pitr_store_max_doc(fs.store);

	return r->kind == N_DOC ? max : max * SCRATCH_FACTOR;
}

static struct fh *fh_new(const struct node_ref *r, int write)
{
	struct fh *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	pthread_mutex_init(&h->mtx, NULL);
	h->ref = *r;
	h->write = write;
	h->ts = pitr_clock();
	node_open(r->node);
	link_add(&open_files, &h->link);
	return h;
}

/* The handle holds uncommitted data, which makes the file `size` bytes. */
static void fh_pending(struct fh *h, int64_t size)
{
	node_pending(h->ref.node, h->pending ? 0 : 1, size);
	h->pending = 1;
}

/* The handle's data is committed, or dropped. */
static void fh_settled(struct fh *h)
{
	if (h->pending)
		node_pending(h->ref.node, -1, -1);
	h->pending = 0;
}

static void fh_free(struct fh *h)
{
	link_del(&h->link);
	fh_settled(h);
	if (h->body)
		body_put(h->body);
	else
		free(h->buf);
	node_close(h->ref.node);
	pthread_mutex_destroy(&h->mtx);
	free(h);
}

static void invalidate_attrs(fuse_ino_t ino)
{
	/* A negative offset invalidates attributes only: no page locks,
	 * so this is safe from within a handler. */
	fuse_lowlevel_notify_inval_inode(fs.se, ino, -1, 0);
}

/*
 * Held for reading by commits from the moment they read their file's name
 * until their commit ends, and for writing by rename and unlink until the
 * node table agrees with the store: a commit never lands under a name its
 * file just lost.
 */
static pthread_rwlock_t names_lock =
    PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP; /* no starved rename */

/* " (pid 123, python3)": who wrote what the log refuses; "" if unknown. */
static const char *writer_of(const struct fh *h, char *buf, size_t size)
{
	char path[40], comm[32] = "";
	FILE *f;

	if (!h->writer)
		return "";
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)h->writer);
	if ((f = fopen(path, "r"))) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(buf, size, " (pid %ld%s%s)", (long)h->writer,
		 *comm ? ", " : "", comm);
	return buf;
}

/* Put the buffer under the handle's name, now; names_lock held. */
static int fh_put(struct fh *h, const pitr_checked *ok)
{
	char path[3 * PITR_NAME_MAX + 8], who[80];
	size_t idlen;
	pitr_txn *t;
	int rc;

	if (!node_hashed(h->ref.node))
		return 0; /* unlinked or replaced: its data goes nowhere */
	node_get(h->ref.node, &h->ref);
	rc = pitr_txn_begin(fs.store, PITR_TXN_WRITE, &t);
	if (rc)
		return pitr_errno(rc);
	if (h->ref.kind == N_DOC) {
		doc_id_len(h->ref.name, h->ref.namelen, &idlen);
		rc = pitr_doc_put_checked(t, h->ref.inc, h->ref.name, idlen,
					  h->buf, h->len, ok);
	} else {
		rc = pitr_scratch_put(t, h->ref.inc, h->ref.name,
				      h->ref.namelen, h->buf, h->len);
	}
	if (rc) {
		node_path(h->ref.node, path, sizeof(path));
		fs_log(LOG_ERR, "%s: not committed: %s%s%s%s", path,
		       pitr_strerror(rc), *pitr_txn_error(t) ? ": " : "",
		       pitr_txn_error(t), writer_of(h, who, sizeof(who)));
		pitr_txn_abort(t);
		return pitr_errno(rc);
	}
	rc = pitr_txn_commit(t, NULL);
	if (rc) {
		node_path(h->ref.node, path, sizeof(path));
		fs_log(LOG_ERR, "%s: commit failed: %s%s", path,
		       pitr_strerror(rc), writer_of(h, who, sizeof(who)));
		return pitr_errno(rc);
	}
	atomic_fetch_add(&fs.commits, 1);
	return 0;
}

/* Store the handle's buffer as the next version; h->mtx held. */
static int fh_store(struct fh *h)
{
	char path[3 * PITR_NAME_MAX + 8], who[80];
	pitr_checked ok = { 0 };
	int rc;

	if (h->toobig) {
		h->toobig = 0;
		node_path(h->ref.node, path, sizeof(path));
		fs_log(LOG_ERR,
		       "%s: not committed: over the size limit of %zu "
		       "bytes%s",
		       path, limit_of(&h->ref), writer_of(h, who, sizeof(who)));
		return EFBIG;
	}
	/* Parse before taking the write lock: writers parse in parallel. */
	if (h->ref.kind == N_DOC) {
		char err[160];

		rc = pitr_doc_check(fs.store, h->buf, h->len, err, sizeof(err),
				    &ok);
		if (rc) {
			node_path(h->ref.node, path, sizeof(path));
			fs_log(LOG_ERR, "%s: not committed: %s: %s%s", path,
			       pitr_strerror(rc), err,
			       writer_of(h, who, sizeof(who)));
			return pitr_errno(rc);
		}
	}
	pthread_rwlock_rdlock(&names_lock);
	rc = fh_put(h, &ok);
	pthread_rwlock_unlock(&names_lock);
	return rc;
}

/* Commit the handle's buffer as the next version; h->mtx held. */
static int fh_commit(struct fh *h)
{
	int written = h->written, rc;

	h->dirty = h->written = 0;
	h->nwriters = 0;
	/* A rename may have moved the file since it was opened; an unlink
	 * or a rename over it took its name away: its data goes nowhere,
	 * as with a file deleted while open. */
	if (!node_hashed(h->ref.node)) {
		h->toobig = 0;
		return 0;
	}
	node_get(h->ref.node, &h->ref);
	rc = fh_store(h);
	/* Refused data is no version: the file shows the last one again. */
	fh_settled(h);
	/* The kernel dropped its size and times itself at the last write:
	 * it holds stale ones only if a reply gave it some since. */
	if (rc || !written ||
	    atomic_load(&fs.attr_replies) != h->attrs_at_write)
		invalidate_attrs(node_id(h->ref.node));
	return rc;
}

/*
 * Point the handle at the committed body (or scratch data) it opens: the
 * copy another handle already shares, or one read now.
 */
static int fh_load(struct fh *h)
{
	const struct node_ref *r = &h->ref;
	pitr_version v = { 0 };
	struct body *b = NULL;
	void *data = NULL;
	size_t idlen, len;
	pitr_txn *t;
	int rc;

	rc = read_txn(&t);
	if (rc)
		return rc;
	if (r->kind == N_DOC) {
		doc_id_len(r->name, r->namelen, &idlen);
		rc = pitr_doc_stat(t, r->inc, r->name, idlen, r->at, &v);
		if (!rc && !(b = node_body_get(r->node, v.ts)))
			rc = pitr_doc_get(t, r->inc, r->name, idlen, r->at, &v,
					  &data, &len);
		if (rc == PITR_CORRUPT) {
			char path[3 * PITR_NAME_MAX + 8];
			node_path(r->node, path, sizeof(path));
			fs_log(LOG_ERR, "%s: %s", path, pitr_txn_error(t));
		}
	} else {
		rc = pitr_scratch_stat(t, r->inc, r->name, r->namelen, &len,
				       &v.ts);
		if (!rc && !(b = node_body_get(r->node, v.ts)))
			rc = pitr_scratch_get(t, r->inc, r->name, r->namelen,
					      &data, &len, &v.ts);
	}
	pitr_txn_abort(t);
	if (rc)
		return rc;
	if (!b && !(b = node_body_share(r->node, v.ts, data, len)))
		return ENOMEM;
	h->body = b;
	h->buf = b->data;
	h->len = b->len;
	h->cap = 0;
	h->ts = v.ts;
	return 0;
}

/* Give the handle its own copy of the body before it changes it. */
static int fh_own(struct fh *h)
{
	size_t cap = h->len > 4096 ? h->len : 4096;
	char *b;

	if (!h->body)
		return 0;
	b = malloc(cap);
	if (!b)
		return ENOMEM;
	memcpy(b, h->buf, h->len);
	body_put(h->body);
	h->body = NULL;
	h->buf = b;
	h->cap = cap;
	return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int write = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct node_ref r;
	struct fh *h;
	int rc;

	node_get(node_of(ino), &r);
	if (r.kind != N_DOC && r.kind != N_SCRATCH) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (write && !is_live(&r)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	h = fh_new(&r, write);
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (write && (fi->flags & O_TRUNC)) {
		h->dirty = 1;
		fh_pending(h, 0);
	} else if ((rc = fh_load(h))) {
		if (!(write && rc == PITR_NOTFOUND &&
		      node_pending_size(r.node) >= 0)) {
			fh_free(h);
			return reply_rc(req, rc);
		}
		/* opened again while its creator has not committed yet */
	}
	if (is_live(&r)) {
		/* The kernel's inode, and its size, are shared with writers
		 * whose versions are not committed: a cached read would be
		 * cut to that size. Each handle reads its own snapshot. */
		fi->direct_io = 1;
	} else {
		/* History never changes: its content goes into the kernel's
		 * cache before the open returns, so the first read finds it
		 * there and no READ comes. Should the push fail, READs serve
		 * the content as before. */
		fi->keep_cache = 1;
		if (h->len && h->len <= FILL_MAX && node_claim_fill(r.node)) {
			struct fuse_bufvec bv = FUSE_BUFVEC_INIT(h->len);
			bv.buf[0].mem = h->buf;
			fuse_lowlevel_notify_store(fs.se, ino, 0, &bv, 0);
		}
	}
	if (!write)
		fi->noflush = 1;
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi) == -ENOENT)
		fh_free(h); /* interrupted: no release will come */
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_entry_param e = { 0 };
	size_t len = strlen(name), idlen;
	enum node_kind kind;
	struct node_ref p, r;
	struct node *n;
	struct fh *h;

	(void)mode;
	attrs_coming();
	if (changeable(req, parent, name, &p))
		return;
	if (p.kind != N_CT) {
		fuse_reply_err(req, EPERM);
		return;
	}
	kind = doc_id_len(name, len, &idlen) ? N_DOC : N_SCRATCH;
	if (pitr_name_check(name, kind == N_DOC ? idlen : len)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	n = node_lookup(p.node, kind, PITR_NOW, p.inc, 0, name, len);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	node_get(n, &r);
	h = fh_new(&r, 1);
	if (!h) {
		node_forget(n, 1);
		{
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	h->dirty = 1;
	fh_pending(h, 0);
	fill_file(&r, &e.attr, 0, pitr_clock());
	e.ino = node_id(n);
	e.attr_timeout = e.entry_timeout = LIVE_TIMEOUT;
	fi->direct_io = 1;
	fi->fh = (uintptr_t)h;
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		fh_free(h);
		node_forget(n, 1);
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;

	(void)ino;
	if (!is_live(&h->ref))
		node_attrs_dropped(h->ref.node); /* the kernel's access time */
	pthread_mutex_lock(&h->mtx);
	if ((size_t)off >= h->len)
		size = 0;
	else if (size > h->len - (size_t)off)
		size = h->len - (size_t)off;
	fuse_reply_buf(req, size ? h->buf + off : NULL, size);
	pthread_mutex_unlock(&h->mtx);
}

/*
 * Make the buffer `len` bytes long, zero-filling; h->mtx held. A write
 * past the limit (`writing`) dooms the version: the data it would have
 * held is lost, so its close must fail too. A refused truncate loses
 * nothing.
 */
static int fh_resize(struct fh *h, size_t len, int writing)
{
	if (len > limit_of(&h->ref)) {
		if (writing)
			h->toobig = 1;
		return EFBIG;
	}
	if (fh_own(h))
		return ENOMEM;
	if (len > h->cap) {
		size_t cap = h->cap ? h->cap : 4096;
		while (cap < len)
			cap *= 2;
		char *b = realloc(h->buf, cap);
		if (!b)
			return ENOMEM;
		h->buf = b;
		h->cap = cap;
	}
	if (len > h->len)
		memset(h->buf + h->len, 0, len - h->len);
	h->len = len;
	return 0;
}

/* Did `owner` write since the last commit (or did too many, to tell)? */
static int fh_wrote_by(const struct fh *h, uint64_t owner)
{
	if (h->nwriters > WRITERS_MAX)
		return 1;
	for (int i = 0; i < h->nwriters; i++)
		if (h->writers[i] == owner)
			return 1;
	return 0;
}

/* Count `owner` among the handle's writers; h->mtx held. */
static void fh_wrote(struct fh *h, uint64_t owner)
{
	if (fh_wrote_by(h, owner))
		return;
	if (h->nwriters < WRITERS_MAX)
		h->writers[h->nwriters++] = owner;
	else
		h->nwriters = WRITERS_MAX + 1;
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	size_t end = (size_t)off + size;
	int rc = 0;

	(void)ino;
	pthread_mutex_lock(&h->mtx);
	if (!h->write)
		rc = EBADF;
	else if (end > h->len)
		rc = fh_resize(h, end, 1);
	else
		rc = fh_own(h);
	if (!rc) {
		memcpy(h->buf + off, buf, size);
		fh_pending(h, (int64_t)h->len);
		h->attrs_at_write = atomic_load(&fs.attr_replies);
	}
	/* Data refused as too big is lost: its writer's close must say so,
	 * and a close of another process must not. */
	if (!rc || h->toobig) {
		h->dirty = h->written = 1;
		h->writer = fuse_req_ctx(req)->pid;
		fh_wrote(h, fi->lock_owner);
	}
	pthread_mutex_unlock(&h->mtx);
	if (rc)
		fuse_reply_err(req, rc);
	else
		fuse_reply_write(req, size);
}

/* Commit a changed handle (fsync, release). */
static int fh_settle(struct fh *h)
{
	int rc = 0;

	pthread_mutex_lock(&h->mtx);
	if (h->dirty)
		rc = fh_commit(h);
	pthread_mutex_unlock(&h->mtx);
	return rc;
}

/*
 * Would the handle's body, changed by truncation alone, be accepted as it
 * is? A scratch file takes any bytes; a document only a JSON object.
 */
static int fh_acceptable(struct fh *h)
{
	pitr_checked ok;
	char err[8];

	if (h->ref.kind != N_DOC)
		return 1;
	return h->len &&
	       !pitr_doc_check(fs.store, h->buf, h->len, err, sizeof(err), &ok);
}

/*
 * Every close() of a descriptor flushes, and what it commits returns with
 * it: the next open reads it.
 *
 * Written data is committed only by a close of its writer. A child that
 * inherited the descriptor at fork and exits (a shell's command, Python's
 * subprocess) closes it too, in the middle of the writer's work.
 *
 * A truncation with no write since (O_TRUNC, ftruncate) is committed by
 * any close when the result is acceptable: it is the file's whole state.
 * When it is not (an empty document), the close commits nothing and
 * succeeds, for another descriptor of the same open may still write (the
 * shell's open, dup2, close; a child given it as its output): that is
 * left to the last close (release), where a failure can only be logged.
 */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	int rc = 0;

	(void)ino;
	pthread_mutex_lock(&h->mtx);
	if (h->dirty && h->written ? fh_wrote_by(h, fi->lock_owner)
				   : h->dirty && fh_acceptable(h))
		rc = fh_commit(h);
	pthread_mutex_unlock(&h->mtx);
	fuse_reply_err(req, rc);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	int rc;

	(void)ino;
	(void)datasync;
	rc = fh_settle((struct fh *)(uintptr_t)fi->fh);
	if (!rc)
		rc = pitr_errno(pitr_store_sync(fs.store));
	fuse_reply_err(req, rc);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;

	(void)ino;
	fh_settle(h);
	fh_free(h);
	fuse_reply_err(req, 0);
}

/*
 * truncate(2) of what the file's writers hold and have not committed: their
 * commits store it. ENOENT if none holds any.
 */
static int truncate_pending(struct node *n, size_t size)
{
	int rc = ENOENT;

	pthread_mutex_lock(&handles_mtx);
	for (struct link *l = open_files.next; l != &open_files; l = l->next) {
		struct fh *h = (struct fh *)l;
		pthread_mutex_lock(&h->mtx);
		if (h->ref.node == n && h->write && h->pending) {
			rc = fh_resize(h, size, 0);
			if (!rc) {
				h->dirty = 1;
				fh_pending(h, (int64_t)h->len);
			}
		}
		pthread_mutex_unlock(&h->mtx);
		if (rc && rc != ENOENT)
			break;
	}
	pthread_mutex_unlock(&handles_mtx);
	return rc;
}

/*
 * truncate(2) on a path: a resize of what the file's writers hold (their
 * commits store it), then one commit of the resized body, if there is one.
 * Writers first: one that commits meanwhile commits the resized data. A
 * file neither committed nor held may be between the two: look again.
 */
static int truncate_ref(const struct node_ref *r, size_t size)
{
	for (int tries = 0;; tries++) {
		int held = node_pending_size(r->node) >= 0
			       ? truncate_pending(r->node, size)
			       : ENOENT;
		struct fh *h;
		int rc;

		if (held && held != ENOENT)
			return held;
		h = fh_new(r, 1);
		if (!h)
			return ENOMEM;
		pthread_mutex_lock(&h->mtx); /* truncate_pending() looks */
		rc = fh_load(h);
		if (rc == PITR_NOTFOUND) {
			pthread_mutex_unlock(&h->mtx);
			fh_free(h);
			if (!held || tries == 3)
				return held;
			continue;
		}
		rc = pitr_errno(rc);
		if (!rc)
			rc = fh_resize(h, size, 0);
		if (!rc)
			rc = fh_commit(h);
		pthread_mutex_unlock(&h->mtx);
		fh_free(h);
		return rc;
	}
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct node_ref r;
	struct stat st;
	pitr_txn *t;
	int rc = 0;

	attrs_coming();
	node_get(node_of(ino), &r);
	if (!is_live(&r)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (r.kind != N_DOC && r.kind != N_SCRATCH) {
			fuse_reply_err(req, EISDIR);
			return;
		}
		if (fi) {
			struct fh *h = (struct fh *)(uintptr_t)fi->fh;
			pthread_mutex_lock(&h->mtx);
			rc = h->write ? fh_resize(h, (size_t)attr->st_size, 0)
				      : EBADF;
			if (!rc) {
				h->dirty = 1;
				fh_pending(h, (int64_t)h->len);
			}
			pthread_mutex_unlock(&h->mtx);
		} else {
			rc = truncate_ref(&r, (size_t)attr->st_size);
		}
		if (rc) {
			fuse_reply_err(req, rc);
			return;
		}
	}
	/* Modes, owners and times are accepted and not kept: a document's
	 * mtime is its version's timestamp. */
	rc = read_txn(&t);
	if (rc)
		return reply_rc(req, rc);
	rc = stat_ref(t, &r, &st);
	pitr_txn_abort(t);
	if (rc)
		return reply_rc(req, rc);
	fuse_reply_attr(req, &st, timeout_of(&r));
}

/*
 * Directories
 */

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct fuse_entry_param e = { 0 };
	size_t len = strlen(name);
	struct node_ref p;
	uint64_t inc;
	pitr_txn *t;
	int rc;

	(void)mode;
	if (changeable(req, parent, name, &p))
		return;
	if (p.kind != N_ROOT && p.kind != N_DB) {
		fuse_reply_err(req, EPERM);
		return;
	}
	rc = pitr_txn_begin(fs.store, PITR_TXN_WRITE, &t);
	if (rc)
		return reply_rc(req, rc);
	rc = p.kind == N_ROOT ? pitr_db_create(t, name, len, &inc)
			      : pitr_ct_create(t, p.inc, name, len, &inc);
	rc = finish(t, rc);
	if (rc)
		return reply_rc(req, rc);
	rc = read_txn(&t);
	if (!rc) {
		rc = make_entry(t, p.node, p.kind == N_ROOT ? N_DB : N_CT,
				PITR_NOW, inc, p.inc, name, len, &e);
		pitr_txn_abort(t);
	}
	if (rc)
		return reply_rc(req, rc);
	fuse_reply_entry(req, &e);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	size_t len = strlen(name);
	struct node_ref p;
	pitr_txn *t;
	int rc;

	if (changeable(req, parent, name, &p))
		return;
	if (p.kind == N_CT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (is_view(&p, name)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (p.kind == N_DB && node_child_has_pending(p.node, name, len)) {
		/* files created in it and not committed yet */
		fuse_reply_err(req, ENOTEMPTY);
		return;
	}
	rc = pitr_txn_begin(fs.store, PITR_TXN_WRITE, &t);
	if (rc)
		return reply_rc(req, rc);
	rc = p.kind == N_ROOT ? pitr_db_delete(t, name, len)
			      : pitr_ct_delete(t, p.inc, name, len);
	rc = finish(t, rc);
	if (!rc)
		node_unhash(p.node, name, len);
	reply_rc(req, rc);
}

/* Remove (ct, name), a document or a scratch file. */
static int remove_file(pitr_txn *t, uint64_t ct, const char *name, size_t len)
{
	size_t idlen;

	if (doc_id_len(name, len, &idlen))
		return pitr_doc_delete(t, ct, name, idlen);
	return pitr_scratch_delete(t, ct, name, len);
}

/* Was (container p, name) created by a writer that has not committed? */
static int uncommitted(const struct node_ref *p, const char *name, size_t len)
{
	return node_child_pending(p->node, name, len) >= 0;
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	size_t len = strlen(name);
	struct node_ref p;
	pitr_txn *t;
	int rc;

	if (changeable(req, parent, name, &p))
		return;
	if (p.kind != N_CT) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	pthread_rwlock_wrlock(&names_lock);
	rc = pitr_txn_begin(fs.store, PITR_TXN_WRITE, &t);
	if (!rc) {
		rc = remove_file(t, p.inc, name, len);
		if (rc == PITR_NOTFOUND && uncommitted(&p, name, len))
			rc = 0; /* its data goes nowhere */
		rc = finish(t, rc);
		if (!rc)
			node_unhash(p.node, name, len);
	}
	pthread_rwlock_unlock(&names_lock);
	reply_rc(req, rc);
}

/* Does (ct, name) exist now? */
static int file_exists(pitr_txn *t, uint64_t ct, const char *name, size_t len)
{
	pitr_version v;
	size_t idlen, dlen;

	if (doc_id_len(name, len, &idlen))
		return pitr_doc_stat(t, ct, name, idlen, PITR_NOW, &v) == 0;
	return pitr_scratch_stat(t, ct, name, len, &dlen, NULL) == 0;
}

/* Move a file between containers, as documents or scratch files. */
static int rename_file(pitr_txn *t, uint64_t ct, const char *name, size_t len,
		       uint64_t toct, const char *to, size_t tolen)
{
	size_t idlen, toidlen, dlen;
	int src_doc = doc_id_len(name, len, &idlen);
	int dst_doc = doc_id_len(to, tolen, &toidlen);
	void *data;
	int rc;

	if (ct == toct && len == tolen && !memcmp(name, to, len))
		return 0;
	if (src_doc && dst_doc)
		return pitr_doc_rename(t, ct, name, idlen, toct, to, toidlen);
	if (!src_doc && dst_doc)
		return pitr_scratch_promote(t, ct, name, len, toct, to,
					    toidlen);
	if (src_doc)
		rc = pitr_doc_get(t, ct, name, idlen, PITR_NOW, NULL, &data,
				  &dlen);
	else
		rc = pitr_scratch_get(t, ct, name, len, &data, &dlen, NULL);
	if (rc)
		return rc;
	rc = pitr_scratch_put(t, toct, to, tolen, data, dlen);
	free(data);
	if (rc)
		return rc;
	return src_doc ? pitr_doc_delete(t, ct, name, idlen)
		       : pitr_scratch_delete(t, ct, name, len);
	return rc;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	size_t len = strlen(name), newlen = strlen(newname), idlen;
	struct node_ref p, np;
	enum node_kind kind;
	uint64_t inc = 0, db = 0;
	pitr_txn *t;
	int rc;

	if (too_long(newname)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	node_get(node_of(parent), &p);
	node_get(node_of(newparent), &np);
	if (!is_live(&p) || !is_live(&np)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (is_view(&p, name) || is_view(&np, newname)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (flags & RENAME_EXCHANGE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (p.kind != np.kind) {
		/* a container among databases, a file outside a container */
		fuse_reply_err(req, EPERM);
		return;
	}
	pthread_rwlock_wrlock(&names_lock);
	rc = pitr_txn_begin(fs.store, PITR_TXN_WRITE, &t);
	if (rc) {
		pthread_rwlock_unlock(&names_lock);
		return reply_rc(req, rc);
	}
	if (p.kind == N_CT) {
		if ((flags & RENAME_NOREPLACE) &&
		    file_exists(t, np.inc, newname, newlen))
			rc = PITR_EXISTS;
		else
			rc = rename_file(t, p.inc, name, len, np.inc, newname,
					 newlen);
		/* Created, not committed yet: the name moves, its writer will
		 * commit under the new one, and what it replaces goes now. */
		if (rc == PITR_NOTFOUND && uncommitted(&p, name, len)) {
			size_t id = newlen;
			doc_id_len(newname, newlen, &id);
			rc = pitr_name_check(newname, id)
				 ? PITR_BADNAME
				 : remove_file(t, np.inc, newname, newlen);
			if (rc == PITR_NOTFOUND)
				rc = 0;
		}
		kind = doc_id_len(newname, newlen, &idlen) ? N_DOC : N_SCRATCH;
		inc = np.inc;
		if (rc == PITR_BADJSON || rc == PITR_TOOBIG)
			fs_log(LOG_ERR, "rename '%s' to '%s': %s%s%s", name,
			       newname, pitr_strerror(rc),
			       *pitr_txn_error(t) ? ": " : "",
			       pitr_txn_error(t));
	} else {
		int root = p.kind == N_ROOT;
		uint64_t target;
		kind = root ? N_DB : N_CT;
		rc = root
			 ? pitr_db_lookup(t, PITR_NOW, newname, newlen, &target)
			 : pitr_ct_lookup(t, PITR_NOW, np.inc, newname, newlen,
					  &target);
		if (rc == 0 && (flags & RENAME_NOREPLACE))
			rc = PITR_EXISTS;
		else if (rc == 0 && !root &&
			 node_child_has_pending(np.node, newname, newlen))
			rc = PITR_NOTEMPTY; /* files not committed yet */
		else if (rc == 0) /* replace an empty directory, as rename(2) */
			rc = root ? pitr_db_delete(t, newname, newlen)
				  : pitr_ct_delete(t, np.inc, newname, newlen);
		else if (rc == PITR_NOTFOUND)
			rc = 0;
		if (!rc)
			rc = root ? pitr_db_lookup(t, PITR_NOW, name, len, &inc)
				  : pitr_ct_lookup(t, PITR_NOW, p.inc, name,
						   len, &inc);
		if (!rc)
			rc = root
				 ? pitr_db_rename(t, name, len, newname, newlen)
				 : pitr_ct_rename(t, p.inc, name, len, np.inc,
						  newname, newlen);
		db = np.inc;
	}
	rc = finish(t, rc);
	if (!rc)
		node_move(p.node, name, len, np.node, newname, newlen, kind,
			  inc, db);
	pthread_rwlock_unlock(&names_lock);
	reply_rc(req, rc);
}

static void dh_free(struct dh *d)
{
	link_del(&d->link);
	node_close(d->ref.node);
	free(d);
}

/* This reply begins here: remember where, to begin it again. */
static void dh_mark(struct dh *d)
{
	d->mark_off = d->off;
	d->mark = d->pos;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct dh *d = calloc(1, sizeof(*d));

	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	node_get(node_of(ino), &d->ref);
	if (d->ref.kind == N_DOC || d->ref.kind == N_SCRATCH) {
		free(d);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	node_open(d->ref.node);
	link_add(&open_dirs, &d->link);
	if (!is_live(&d->ref)) {
		/* a view's listing never changes */
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
	}
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi) == -ENOENT)
		dh_free(d);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	dh_free((struct dh *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

void ops_release_all(void)
{
	while (open_files.next != &open_files) {
		struct fh *h = (struct fh *)(void *)open_files.next;
		/* What its RELEASE would have committed: a truncation. Data
		 * written and not flushed is a process's that has not closed
		 * the file yet; its close fails, and the data is lost as in
		 * a crash. */
		pthread_mutex_lock(&h->mtx);
		if (h->dirty && !h->written)
			fh_commit(h);
		pthread_mutex_unlock(&h->mtx);
		fh_free(h);
	}
	while (open_dirs.next != &open_dirs)
		dh_free((struct dh *)(void *)open_dirs.next);
}

/* An id too long for a file name with ".json": not listed. */
static int unrepresentable(const struct dh *d, const pitr_entry *en)
{
	return d->ref.kind == N_CT && !en->scratch &&
	       en->namelen + 5 > PITR_NAME_MAX;
}

/* Add one entry to a readdir reply: its size, more than `size` when it did
 * not fit (then nothing was added). */
static size_t add_entry(fuse_req_t req, struct dh *d, pitr_txn *t, char *buf,
			size_t size, const char *name, size_t len,
			const pitr_entry *en, off_t off, int plus)
{
	char fname[PITR_NAME_MAX + 8];
	struct fuse_entry_param e = { 0 };
	struct node_ref r = { 0 };
	enum node_kind kind;
	size_t n;

	memcpy(fname, name, len);
	fname[len] = 0;
	if (!en) {
		/* "." and "..": no lookup; glibc skips inode 0 */
		e.attr.st_ino = len == 1 ? ino_of(&d->ref, 0) : 1;
		e.attr.st_mode = S_IFDIR;
		return plus ? fuse_add_direntry_plus(req, buf, size, fname, &e,
						     off)
			    : fuse_add_direntry(req, buf, size, fname, &e.attr,
						off);
	}
	r.at = d->ref.at;
	r.inc = en->inc;
	switch (d->ref.kind) {
	case N_ROOT:
	case N_VIEW:
		kind = N_DB;
		break;
	case N_DB:
		kind = N_CT;
		break;
	default:
		kind = en->scratch ? N_SCRATCH : N_DOC;
		r.inc = d->ref.inc;
		if (kind == N_DOC) {
			memcpy(fname + len, ".json", 6);
			len += 5;
		}
	}
	r.kind = kind;
	memcpy(r.name, fname, len + 1);
	r.namelen = len;
	if (kind == N_DB || kind == N_CT)
		fill_dir(&r, &e.attr, is_live(&r) ? fs.mounted : r.at);
	else
		fill_file(&r, &e.attr, en->ver.size, en->ver.ts);
	if (!plus)
		return fuse_add_direntry(req, buf, size, fname, &e.attr, off);
	/* Whether it fits, first: the kernel counts a lookup for each entry
	 * of a reply with a node id, and only for those. */
	n = fuse_add_direntry_plus(req, NULL, 0, fname, NULL, 0);
	if (n > size)
		return n;
	/* An entry without a node id is a bare name: the kernel keeps the
	 * node and attributes it holds, which in a view are still true, and
	 * asks for what it does not hold. */
	if (!is_live(&r) &&
	    node_attrs_held(d->ref.node, kind, r.at, r.inc, fname, len))
		return fuse_add_direntry_plus(req, buf, size, fname, &e, off);
	struct node *nd =
	    node_lookup(d->ref.node, kind, d->ref.at, r.inc,
			kind == N_CT ? d->ref.inc : 0, fname, len);
	if (!nd) /* out of memory: the name still, and a lookup later */
		return fuse_add_direntry_plus(req, buf, size, fname, &e, off);
	r.node = nd;
	e.ino = node_id(nd);
	e.attr_timeout = e.entry_timeout = timeout_of(&d->ref);
	/* a writer's size; the listing's own if it committed meanwhile */
	if (is_live(&r) && (kind == N_DOC || kind == N_SCRATCH) &&
	    node_pending_size(nd) >= 0 && stat_ref(t, &r, &e.attr))
		fill_file(&r, &e.attr, en->ver.size, en->ver.ts);
	return fuse_add_direntry_plus(req, buf, size, fname, &e, off);
}

static enum pitr_list_kind list_kind(enum node_kind k)
{
	return k == N_DB   ? PITR_LIST_CONTAINERS
	       : k == N_CT ? PITR_LIST_DOCUMENTS
			   : PITR_LIST_DATABASES;
}

/*
 * Files created and not committed yet are in no listing of the store; a
 * container's listing merges them in, in the store's order: documents by
 * id, then scratch files by name.
 */
static int listing_cmp(const pitr_entry *a, const pitr_entry *b)
{
	size_t len = a->namelen < b->namelen ? a->namelen : b->namelen;
	int c;

	if (a->scratch != b->scratch)
		return a->scratch - b->scratch;
	c = memcmp(a->name, b->name, len);
	if (c)
		return c;
	return (a->namelen > b->namelen) - (a->namelen < b->namelen);
}

static int unlisted_cmp(const void *a, const void *b)
{
	return listing_cmp(a, b);
}

/* The uncommitted files of a live container past the listing's position,
 * as listing entries in its order; their names are in `*names`. Free both. */
static int unlisted_files(const struct dh *d, pitr_entry **out, size_t *count,
			  struct node_child **names)
{
	struct node_child *c;
	pitr_entry last = { .name = d->pos.name,
			    .namelen = d->pos.len,
			    .scratch = d->pos.scratch };
	size_t n, k = 0, idlen;
	pitr_entry *v;
	int rc;

	*out = NULL;
	*count = 0;
	*names = NULL;
	if (d->ref.kind != N_CT || !is_live(&d->ref))
		return 0;
	rc = node_pending_children(d->ref.node, &c, &n);
	if (rc || !n)
		return rc;
	v = calloc(n, sizeof(*v));
	if (!v) {
		free(c);
		return ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		pitr_entry *e = &v[k];
		e->scratch = !doc_id_len(c[i].name, c[i].len, &idlen);
		e->name = c[i].name;
		e->namelen = e->scratch ? c[i].len : idlen;
		e->ver.size = c[i].size >= 0 ? (uint64_t)c[i].size : 0;
		e->ver.ts = pitr_clock();
		if (!d->pos.started || listing_cmp(e, &last) > 0)
			k++;
	}
	if (k)
		qsort(v, k, sizeof(*v), unlisted_cmp);
	*out = v;
	*count = k;
	*names = c;
	return 0;
}

static void do_readdir(fuse_req_t req, size_t size, off_t off,
		       struct fuse_file_info *fi, int plus)
{
	struct dh *d = (struct dh *)(uintptr_t)fi->fh;
	size_t used = 0, n, nextra = 0, xi = 0;
	pitr_entry *extra = NULL;
	char *buf;
	pitr_txn *t = NULL;
	pitr_iter *it = NULL;
	struct node_child *names = NULL;
	pitr_entry e, *en;
	int rc = 0, have = 0, store_end = 0;
	off_t skip = 0;
	int marked = 0; /* dh_mark() done for this reply */

	if (off != d->off && off >= d->mark_off && off < d->off) {
		/* part of the last reply was used: from its start, passing
		 * over what was */
		d->off = d->mark_off;
		d->pos = d->mark;
		d->eof = 0;
		skip = off;
	} else if (off != d->off) {
		/* seekdir, rewind, or a new handle going on where the kernel's
		 * cache of a view's listing ends: list again from the start,
		 * passing over the entries before `off` */
		d->off = 0;
		d->eof = 0;
		d->pos = (struct listing_pos){ 0 };
		skip = off;
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	while (d->off < 2) {
		if (d->off < skip) {
			d->off++;
			continue;
		}
		if (!marked)
			dh_mark(d), marked = 1;
		n = add_entry(req, d, NULL, buf + used, size - used,
			      d->off ? ".." : ".", d->off ? 2 : 1, NULL,
			      d->off + 1, plus);
		if (n > size - used)
			goto out_reply;
		used += n;
		d->off++;
	}
	if (d->eof)
		goto out_reply;
	rc = unlisted_files(d, &extra, &nextra, &names);
	if (!rc)
		rc = read_txn(&t);
	if (!rc)
		rc = pitr_iter_begin(t, list_kind(d->ref.kind), d->ref.inc,
				     d->ref.at,
				     d->pos.started ? d->pos.name : NULL,
				     d->pos.len, d->pos.scratch, &it);
	if (rc == PITR_NOTFOUND)
		store_end = 1, rc = 0;
	while (!rc) {
		if (!have && !store_end) {
			rc = pitr_iter_next(it, &e);
			if (rc == PITR_NOTFOUND)
				store_end = 1, rc = 0;
			else if (rc)
				break;
			else
				have = 1;
		}
		int c = !have	       ? 1
			: xi == nextra ? -1
				       : listing_cmp(&e, &extra[xi]);
		if (c > 0 && xi == nextra)
			break; /* both done */
		en = c <= 0 ? &e : &extra[xi];
		if (unrepresentable(d, en)) {
			n = SIZE_MAX;
		} else if (d->off < skip) {
			n = 0;
		} else {
			if (!marked)
				dh_mark(d), marked = 1;
			n = add_entry(req, d, t, buf + used, size - used,
				      en->name, en->namelen, en, d->off + 1,
				      plus);
		}
		if (n != SIZE_MAX && n > size - used)
			break; /* returned again next time */
		memcpy(d->pos.name, en->name, en->namelen);
		d->pos.len = en->namelen;
		d->pos.scratch = en->scratch;
		d->pos.started = 1;
		if (c >= 0)
			xi++; /* listed, or committed meanwhile: once */
		if (c <= 0)
			have = 0;
		if (n == SIZE_MAX)
			continue;
		used += n;
		d->off++;
	}
	if (!rc && store_end && !have && xi == nextra)
		d->eof = 1;
	pitr_iter_end(it);
	pitr_txn_abort(t);
	free(extra);
	free(names);
out_reply:
	if (!is_live(&d->ref))
		node_attrs_dropped(d->ref.node); /* the kernel's access time */
	if (rc && !used)
		reply_rc(req, rc);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, off, fi, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	attrs_coming();
	do_readdir(req, size, off, fi, 1);
}

/*
 * The rest
 */

static void op_refuse(fuse_req_t req, fuse_ino_t parent)
{
	struct node_ref p;

	node_get(node_of(parent), &p);
	fuse_reply_err(req, is_live(&p) ? EPERM : EROFS);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)name;
	(void)mode;
	(void)rdev;
	op_refuse(req, parent);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link;
	(void)name;
	op_refuse(req, parent);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)ino;
	(void)newname;
	op_refuse(req, newparent);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	if (statvfs(fs.store_path, &sv)) {
		fuse_reply_err(req, errno);
		return;
	}
	sv.f_namemax = PITR_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	char val[PITR_TIME_LEN + 8];
	struct node_ref r;
	pitr_version v;
	size_t idlen, len;
	pitr_txn *t;
	int rc;

	node_get(node_of(ino), &r);
	if (r.kind != N_DOC ||
	    (strcmp(name, XATTR_TS) && strcmp(name, XATTR_ETAG))) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	rc = read_txn(&t);
	if (rc)
		return reply_rc(req, rc);
	doc_id_len(r.name, r.namelen, &idlen);
	rc = pitr_doc_stat(t, r.inc, r.name, idlen, r.at, &v);
	pitr_txn_abort(t);
	if (rc) {
		fuse_reply_err(req,
			       rc == PITR_NOTFOUND ? ENODATA : pitr_errno(rc));
		return;
	}
	if (!strcmp(name, XATTR_TS))
		pitr_time_format(v.ts, val);
	else
		snprintf(val, sizeof(val), "%016" PRIx64, v.etag);
	len = strlen(val);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, val, len);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	static const char names[] = XATTR_TS "\0" XATTR_ETAG;
	struct node_ref r;

	node_get(node_of(ino), &r);
	size_t len = r.kind == N_DOC ? sizeof(names) : 0;
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, names, len);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct node_ref r;

	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	node_get(node_of(ino), &r);
	fuse_reply_err(req, is_live(&r) ? ENOTSUP : EROFS);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	op_setxattr(req, ino, name, NULL, 0, 0);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

const struct fuse_lowlevel_ops pitrfs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.access = op_access,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.fsync = op_fsync,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
};
