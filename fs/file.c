/*
 * file.c - the open-file pipeline: open (a handle holding the whole body),
 * read, write, flush and release (a close commits what its writer wrote),
 * fsync, truncation, and the commit of a handle's buffer as the next
 * version of its file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ops.h"

#define FILL_MAX (256 * 1024) /* larger: read as asked */

static struct link open_files = { &open_files, &open_files };

static size_t limit_of(const struct node_ref *r)
{
	return r->kind == N_DOC ? pitr_store_max_doc(fs.store)
				: pitr_store_max_scratch(fs.store);
}

void fh_lock(struct fh *h)
{
	pthread_mutex_lock(&h->mtx);
	h->holder = pthread_self();
	h->held = 1;
}

void fh_unlock(struct fh *h)
{
	FH_HELD(h);
	h->held = 0;
	pthread_mutex_unlock(&h->mtx);
}

struct fh *fh_new(const struct node_ref *r, int write)
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
void fh_pending(struct fh *h, int64_t size)
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

void fh_free(struct fh *h)
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
static __thread int names_read_held; /* this thread holds it for reading */

void names_write_lock(void)
{
	pthread_rwlock_wrlock(&names_lock);
}

void names_write_unlock(void)
{
	pthread_rwlock_unlock(&names_lock);
}

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

/*
 * Parse, hash and compress the handle's buffer as the next version of its
 * document, into `*doc` (pitr_prepared_free() it); a refusal is logged.
 * Returns 0 or a code.
 */
static int fh_prepare(struct fh *h, pitr_prepared **doc)
{
	char path[3 * PITR_NAME_MAX + 8], who[80], err[160];
	size_t idlen;
	int rc;

	doc_id_len(h->ref.name, h->ref.namelen, &idlen);
	rc = pitr_doc_prepare(fs.store, h->ref.inc, h->ref.name, idlen, h->buf,
			      h->len, err, sizeof(err), doc);

	if (rc) {
		node_path(h->ref.node, path, sizeof(path));
		fs_log(LOG_ERR, "%s: not committed: %s: %s%s", path,
		       pitr_strerror(rc), err, writer_of(h, who, sizeof(who)));
	}
	return rc;
}

/* One handle's commit, as group commit runs it (on any thread). */
struct put {
	const struct fh *h;
	const pitr_prepared *doc; /* documents: the body, prepared */
	int put_rc;    /* the put's own code: 0 if only the commit failed */
	char err[160]; /* its detail */
};

static int put_apply(pitr_txn *t, void *arg)
{
	struct put *p = arg;
	const struct node_ref *r = &p->h->ref;
	size_t idlen;
	int rc;

	if (r->kind == N_DOC) {
		assert(p->doc); /* fh_put() prepared it for this kind */
		doc_id_len(r->name, r->namelen, &idlen);
		rc = pitr_doc_put_prepared(t, r->inc, r->name, idlen, p->doc);
	} else {
		rc = pitr_scratch_put(t, r->inc, r->name, r->namelen, p->h->buf,
				      p->h->len);
	}
	p->put_rc = rc;
	snprintf(p->err, sizeof(p->err), "%s", rc ? pitr_txn_error(t) : "");
	return rc;
}

/*
 * Put the buffer under the handle's name, now, in a transaction shared
 * with the commits of other handles closed at the same time; durable when
 * it returns. names_lock held.
 */
static int fh_put(struct fh *h, pitr_prepared **doc)
{
	char path[3 * PITR_NAME_MAX + 8], who[80];
	unsigned char key[8 + PITR_NAME_MAX + 1];
	struct put p = { .h = h };
	int rc;

	assert(names_read_held);
	if (!node_hashed(h->ref.node))
		return 0; /* unlinked or replaced: its data goes nowhere */
	node_get(h->ref.node, &h->ref);
	/* a scratch file renamed to a document since fh_store() looked */
	if (h->ref.kind == N_DOC && !*doc && (rc = fh_prepare(h, doc)))
		return rc;
	p.doc = *doc;
	/* one version per file and transaction: its container and name */
	memcpy(key, &h->ref.inc, 8);
	memcpy(key + 8, h->ref.name, h->ref.namelen);
	rc = pitr_group_commit(fs.store, put_apply, &p, key, 8 + h->ref.namelen,
			       NULL);
	if (rc) {
		node_path(h->ref.node, path, sizeof(path));
		if (p.put_rc)
			fs_log(LOG_ERR, "%s: not committed: %s%s%s%s", path,
			       pitr_strerror(rc), *p.err ? ": " : "", p.err,
			       writer_of(h, who, sizeof(who)));
		else
			fs_log(LOG_ERR, "%s: commit failed: %s%s", path,
			       pitr_strerror(rc),
			       writer_of(h, who, sizeof(who)));
		return rc;
	}
	atomic_fetch_add(&fs.commits, 1);
	return 0;
}

/* Store the handle's buffer as the next version; h->mtx held. */
static int fh_store(struct fh *h)
{
	char path[3 * PITR_NAME_MAX + 8], who[80];
	pitr_prepared *doc = NULL;
	int rc;

	FH_HELD(h);
	if (h->toobig) {
		h->toobig = 0;
		node_path(h->ref.node, path, sizeof(path));
		fs_log(LOG_ERR,
		       "%s: not committed: over the size limit of %zu "
		       "bytes%s",
		       path, limit_of(&h->ref), writer_of(h, who, sizeof(who)));
		return EFBIG;
	}
	/* Parse, hash and compress before any lock: writers do that in
	 * parallel, and a commit's transaction only stores bytes. */
	if (h->ref.kind == N_DOC && (rc = fh_prepare(h, &doc)))
		return rc;
	pthread_rwlock_rdlock(&names_lock);
	names_read_held = 1;
	rc = fh_put(h, &doc);
	names_read_held = 0;
	pthread_rwlock_unlock(&names_lock);
	pitr_prepared_free(doc);
	return rc;
}

/* Commit the handle's buffer as the next version; h->mtx held. */
static int fh_commit(struct fh *h)
{
	int written, rc;

	FH_HELD(h);
	written = h->written;
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

void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int write = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct node_ref r;
	struct fh *h;
	int rc;

	node_get(node_of(ino), &r);
	if (r.kind != N_DOC && r.kind != N_SCRATCH)
		return reply_err(req, EISDIR);
	if (write && !is_live(&r))
		return reply_err(req, EROFS);
	h = fh_new(&r, write);
	if (!h)
		return reply_err(req, ENOMEM);
	if (write && (fi->flags & O_TRUNC)) {
		h->dirty = 1;
		fh_pending(h, 0);
	} else if ((rc = fh_load(h))) {
		if (!(write && rc == PITR_NOTFOUND &&
		      node_pending_size(r.node) >= 0)) {
			fh_free(h);
			return reply_err(req, rc);
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

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;

	(void)ino;
	if (!is_live(&h->ref))
		node_attrs_dropped(h->ref.node); /* the kernel's access time */
	fh_lock(h);
	if ((size_t)off >= h->len)
		size = 0;
	else if (size > h->len - (size_t)off)
		size = h->len - (size_t)off;
	fuse_reply_buf(req, size ? h->buf + off : NULL, size);
	fh_unlock(h);
}

/*
 * Make the buffer `len` bytes long, zero-filling; h->mtx held. A write
 * past the limit (`writing`) dooms the version: the data it would have
 * held is lost, so its close must fail too. A refused truncate loses
 * nothing.
 */
static int fh_resize(struct fh *h, size_t len, int writing)
{
	FH_HELD(h);
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
	FH_HELD(h);
	if (fh_wrote_by(h, owner))
		return;
	if (h->nwriters < WRITERS_MAX)
		h->writers[h->nwriters++] = owner;
	else
		h->nwriters = WRITERS_MAX + 1;
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	      off_t off, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	size_t end = (size_t)off + size;
	int rc = 0;

	(void)ino;
	fh_lock(h);
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
	fh_unlock(h);
	if (rc)
		reply_err(req, rc);
	else
		fuse_reply_write(req, size);
}

/* Commit a changed handle (fsync, release). */
static int fh_settle(struct fh *h)
{
	int rc = 0;

	fh_lock(h);
	if (h->dirty)
		rc = fh_commit(h);
	fh_unlock(h);
	return rc;
}

/*
 * Would the handle's body, changed by truncation alone, be accepted as it
 * is? A scratch file takes any bytes; a document only a JSON object.
 */
static int fh_acceptable(struct fh *h)
{
	char err[8];

	if (h->ref.kind != N_DOC)
		return 1;
	return h->len && !pitr_doc_check(fs.store, h->buf, h->len, err,
					 sizeof(err), NULL);
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
void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	int rc = 0;

	(void)ino;
	fh_lock(h);
	if (h->dirty && h->written ? fh_wrote_by(h, fi->lock_owner)
				   : h->dirty && fh_acceptable(h))
		rc = fh_commit(h);
	fh_unlock(h);
	reply_err(req, rc);
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *fi)
{
	int rc;

	(void)ino;
	(void)datasync;
	rc = fh_settle((struct fh *)(uintptr_t)fi->fh);
	if (!rc)
		rc = pitr_store_sync(fs.store);
	reply_err(req, rc);
}

void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;

	(void)ino;
	fh_settle(h);
	fh_free(h);
	reply_err(req, 0);
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
		fh_lock(h);
		if (h->ref.node == n && h->write && h->pending) {
			rc = fh_resize(h, size, 0);
			if (!rc) {
				h->dirty = 1;
				fh_pending(h, (int64_t)h->len);
			}
		}
		fh_unlock(h);
		if (rc && rc != ENOENT)
			break;
	}
	pthread_mutex_unlock(&handles_mtx);
	return rc;
}

/* ftruncate(2) of an open handle; h->mtx held. */
int fh_truncate(struct fh *h, size_t size)
{
	int rc;

	FH_HELD(h);
	rc = h->write ? fh_resize(h, size, 0) : EBADF;
	if (!rc) {
		h->dirty = 1;
		fh_pending(h, (int64_t)h->len);
	}
	return rc;
}

/*
 * truncate(2) on a path: a resize of what the file's writers hold (their
 * commits store it), then one commit of the resized body, if there is one.
 * Writers first: one that commits meanwhile commits the resized data. A
 * file neither committed nor held may be between the two: look again.
 */
int file_truncate(const struct node_ref *r, size_t size)
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
		fh_lock(h); /* truncate_pending() looks */
		rc = fh_load(h);
		if (rc == PITR_NOTFOUND) {
			fh_unlock(h);
			fh_free(h);
			if (!held || tries == 3)
				return held;
			continue;
		}
		if (!rc)
			rc = fh_resize(h, size, 0);
		if (!rc)
			rc = fh_commit(h);
		fh_unlock(h);
		fh_free(h);
		return rc;
	}
}

void files_release_all(void)
{
	while (open_files.next != &open_files) {
		struct fh *h = (struct fh *)(void *)open_files.next;
		/* What its RELEASE would have committed: a truncation. Data
		 * written and not flushed is a process's that has not closed
		 * the file yet; its close fails, and the data is lost as in
		 * a crash. */
		fh_lock(h);
		if (h->dirty && !h->written)
			fh_commit(h);
		fh_unlock(h);
		fh_free(h);
	}
}

/*
 * The attributes of a file unlinked or replaced while open, which no name
 * leads to any more: those of what an open handle on it reads, with no
 * link. fstat(2) asks for them (without naming its handle), and Python's
 * read() asks fstat first. The handles share one inode, so when they hold
 * different versions it shows the one `h` holds, else the newest handle's,
 * as it showed before the unlink. PITR_NOTFOUND if no handle is open.
 */
int file_stat_unlinked(const struct node_ref *r, struct fh *h, struct stat *st)
{
	pthread_mutex_lock(&handles_mtx);
	for (struct link *l = open_files.next; !h && l != &open_files;
	     l = l->next)
		if (((struct fh *)(void *)l)->ref.node == r->node)
			h = (struct fh *)(void *)l;
	if (h) {
		fh_lock(h);
		memset(st, 0, sizeof(*st));
		fill_file(r, st, h->len, h->ts);
		st->st_nlink = 0;
		fh_unlock(h);
	}
	pthread_mutex_unlock(&handles_mtx);
	return h ? 0 : PITR_NOTFOUND;
}
