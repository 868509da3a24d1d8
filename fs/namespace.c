/*
 * namespace.c - names created, removed and moved in the live tree: create
 * (a document or scratch file, held by its writer until it commits),
 * mkdir, rmdir, unlink, rename; mknod, symlink and link are refused. The
 * tree in a view (@T) is read-only: EROFS.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ops.h"

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

/*
 * The parent of a name about to be created, removed or renamed, into `p`:
 * live, and the name not too long. Returns 0 or the errno to reply.
 */
static int changeable(fuse_ino_t parent, const char *name, struct node_ref *p)
{
	if (too_long(name))
		return ENAMETOOLONG;
	node_get(node_of(parent), p);
	return is_live(p) ? 0 : EROFS;
}

/* Does `name` under `p` name a view (a read-only tree, not a name)? */
static int is_view(const struct node_ref *p, const char *name)
{
	uint64_t at;

	return p->kind == N_ROOT && name[0] == '@' &&
	       pitr_store_resolve(fs.store, name + 1, strlen(name) - 1, &at) ==
		   0;
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi)
{
	struct fuse_entry_param e = { 0 };
	size_t len = strlen(name), idlen;
	enum node_kind kind;
	struct node_ref p, r;
	struct node *n;
	struct fh *h;
	int rc;

	(void)mode;
	attrs_coming();
	if ((rc = changeable(parent, name, &p)))
		return reply_err(req, rc);
	if (p.kind != N_CT)
		return reply_err(req, EPERM);
	kind = doc_id_len(name, len, &idlen) ? N_DOC : N_SCRATCH;
	if (pitr_name_check(name, kind == N_DOC ? idlen : len))
		return reply_err(req, EINVAL);
	n = node_lookup(p.node, kind, PITR_NOW, p.inc, 0, name, len);
	if (!n)
		return reply_err(req, ENOMEM);
	node_get(n, &r);
	h = fh_new(&r, 1);
	if (!h) {
		node_forget(n, 1);
		return reply_err(req, ENOMEM);
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

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fuse_entry_param e = { 0 };
	size_t len = strlen(name);
	struct node_ref p;
	uint64_t inc;
	pitr_txn *t;
	int rc;

	(void)mode;
	if ((rc = changeable(parent, name, &p)))
		return reply_err(req, rc);
	if (p.kind != N_ROOT && p.kind != N_DB)
		return reply_err(req, EPERM);
	rc = pitr_txn_begin(fs.store, PITR_TXN_WRITE, &t);
	if (rc)
		return reply_err(req, rc);
	rc = p.kind == N_ROOT ? pitr_db_create(t, name, len, &inc)
			      : pitr_ct_create(t, p.inc, name, len, &inc);
	rc = finish(t, rc);
	if (rc)
		return reply_err(req, rc);
	rc = read_txn(&t);
	if (!rc) {
		rc = make_entry(t, p.node, p.kind == N_ROOT ? N_DB : N_CT,
				PITR_NOW, inc, p.inc, name, len, &e);
		pitr_txn_abort(t);
	}
	if (rc)
		return reply_err(req, rc);
	fuse_reply_entry(req, &e);
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	size_t len = strlen(name);
	struct node_ref p;
	pitr_txn *t;
	int rc;

	if ((rc = changeable(parent, name, &p)))
		return reply_err(req, rc);
	if (p.kind == N_CT)
		return reply_err(req, ENOTDIR);
	if (is_view(&p, name))
		return reply_err(req, EROFS);
	if (p.kind == N_DB && node_child_has_pending(p.node, name, len)) {
		/* files created in it and not committed yet */
		reply_err(req, ENOTEMPTY);
		return;
	}
	rc = pitr_txn_begin(fs.store, PITR_TXN_WRITE, &t);
	if (rc)
		return reply_err(req, rc);
	rc = p.kind == N_ROOT ? pitr_db_delete(t, name, len)
			      : pitr_ct_delete(t, p.inc, name, len);
	rc = finish(t, rc);
	if (!rc)
		node_unhash(p.node, name, len);
	reply_err(req, rc);
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

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	size_t len = strlen(name);
	struct node_ref p;
	pitr_txn *t;
	int rc;

	if ((rc = changeable(parent, name, &p)))
		return reply_err(req, rc);
	if (p.kind != N_CT)
		return reply_err(req, EISDIR);
	names_write_lock();
	rc = pitr_txn_begin(fs.store, PITR_TXN_WRITE, &t);
	if (!rc) {
		rc = remove_file(t, p.inc, name, len);
		if (rc == PITR_NOTFOUND && uncommitted(&p, name, len))
			rc = 0; /* its data goes nowhere */
		rc = finish(t, rc);
		if (!rc)
			node_unhash(p.node, name, len);
	}
	names_write_unlock();
	reply_err(req, rc);
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

void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	size_t len = strlen(name), newlen = strlen(newname), idlen;
	struct node_ref p, np;
	enum node_kind kind;
	uint64_t inc = 0, db = 0;
	pitr_txn *t;
	int rc;

	if (too_long(newname))
		return reply_err(req, ENAMETOOLONG);
	node_get(node_of(parent), &p);
	node_get(node_of(newparent), &np);
	if (!is_live(&p) || !is_live(&np))
		return reply_err(req, EROFS);
	if (is_view(&p, name) || is_view(&np, newname))
		return reply_err(req, EROFS);
	if (flags & RENAME_EXCHANGE)
		return reply_err(req, EINVAL);
	if (p.kind != np.kind) {
		/* a container among databases, a file outside a container */
		reply_err(req, EPERM);
		return;
	}
	names_write_lock();
	rc = pitr_txn_begin(fs.store, PITR_TXN_WRITE, &t);
	if (rc) {
		names_write_unlock();
		return reply_err(req, rc);
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
	names_write_unlock();
	reply_err(req, rc);
}
/* Why a special file or link under `parent` is refused. */
static int refusal(fuse_ino_t parent)
{
	struct node_ref p;

	node_get(node_of(parent), &p);
	return is_live(&p) ? EPERM : EROFS;
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	      dev_t rdev)
{
	(void)name;
	(void)mode;
	(void)rdev;
	reply_err(req, refusal(parent));
}

void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		const char *name)
{
	(void)link;
	(void)name;
	reply_err(req, refusal(parent));
}

void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname)
{
	(void)ino;
	(void)newname;
	reply_err(req, refusal(newparent));
}
