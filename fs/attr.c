/*
 * attr.c - the attributes of a node: inode numbers, modes and times for
 * getattr, setattr (a size change is a truncation, done by file.c; modes,
 * owners and times are accepted and not kept), access and statfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "ops.h"

#define VIEW_BIT (1ull << 63)

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
uint64_t ino_of(const struct node_ref *r, uint64_t version)
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
mode_t mode_of(const struct node_ref *r)
{
	int dir = r->kind != N_DOC && r->kind != N_SCRATCH;
	int group = fs.history_gid != (gid_t)-1;

	if (is_live(r))
		return dir ? S_IFDIR | 0755 : S_IFREG | 0644;
	return dir ? S_IFDIR | (group ? 0550 : 0500)
		   : S_IFREG | (group ? 0440 : 0400);
}

void fill_dir(const struct node_ref *r, struct stat *st, uint64_t ts)
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

void fill_file(const struct node_ref *r, struct stat *st, uint64_t size,
	       uint64_t ts)
{
	fill_dir(r, st, ts);
	st->st_ino = ino_of(r, ts);
	st->st_nlink = 1;
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

int stat_ref(pitr_txn *t, const struct node_ref *r, struct stat *st)
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

/* stat_ref() in a read transaction of its own */
static int stat_fresh(const struct node_ref *r, struct stat *st)
{
	pitr_txn *t;
	int rc = read_txn(&t);

	if (rc)
		return rc;
	rc = stat_ref(t, r, st);
	pitr_txn_abort(t);
	return rc;
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node_ref r;
	struct stat st;
	int rc;

	node_get(node_of(ino), &r);
	if (is_live(&r) && (r.kind == N_DOC || r.kind == N_SCRATCH) &&
	    !node_hashed(r.node)) {
		/* its name, if taken again, is another file's */
		rc = file_stat_unlinked(
		    &r, fi ? (struct fh *)(uintptr_t)fi->fh : NULL, &st);
		if (rc)
			return reply_err(req, rc);
		fuse_reply_attr(req, &st, 0);
		return;
	}
	attrs_coming();
	if ((rc = stat_fresh(&r, &st)))
		return reply_err(req, rc);
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
void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct node_ref r;
	mode_t mode;

	node_get(node_of(ino), &r);
	mode = mode_of(&r);
	if ((mask & W_OK) && !is_live(&r))
		return reply_err(req, EROFS);
	if (ctx->uid == 0) /* root may run what anyone may */
		return reply_err(req, (mask & X_OK) && !S_ISDIR(mode) &&
					      !(mode & 0111)
					  ? EACCES
					  : 0);
	reply_err(req, (unsigned)mask & ~((mode >> 6) & 7) ? EACCES : 0);
}
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *fi)
{
	struct node_ref r;
	struct stat st;
	int rc = 0;

	attrs_coming();
	node_get(node_of(ino), &r);
	if (!is_live(&r))
		return reply_err(req, EROFS);
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (r.kind != N_DOC && r.kind != N_SCRATCH)
			return reply_err(req, EISDIR);
		if (fi) {
			struct fh *h = (struct fh *)(uintptr_t)fi->fh;
			fh_lock(h);
			rc = fh_truncate(h, (size_t)attr->st_size);
			fh_unlock(h);
		} else {
			rc = file_truncate(&r, (size_t)attr->st_size);
		}
		if (rc)
			return reply_err(req, rc);
	}
	/* Modes, owners and times are accepted and not kept: a document's
	 * mtime is its version's timestamp. */
	if ((rc = stat_fresh(&r, &st)))
		return reply_err(req, rc);
	fuse_reply_attr(req, &st, timeout_of(&r));
}

void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	if (statvfs(fs.store_path, &sv))
		return reply_err(req, errno);
	sv.f_namemax = PITR_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}
