/*
 * dir.c - listings: opendir, readdir and readdirplus of the store's
 * databases, containers and documents, merged with files created and not
 * committed yet, resumable where the kernel asks again; releasedir.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

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

static struct link open_dirs = { &open_dirs, &open_dirs };

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

void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dh *d = calloc(1, sizeof(*d));

	if (!d)
		return reply_err(req, ENOMEM);
	node_get(node_of(ino), &d->ref);
	if (d->ref.kind == N_DOC || d->ref.kind == N_SCRATCH) {
		free(d);
		reply_err(req, ENOTDIR);
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

void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	dh_free((struct dh *)(uintptr_t)fi->fh);
	reply_err(req, 0);
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
	if (!buf)
		return reply_err(req, ENOMEM);
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
		reply_err(req, rc);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, off, fi, 0);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	attrs_coming();
	do_readdir(req, size, off, fi, 1);
}

void dirs_release_all(void)
{
	while (open_dirs.next != &open_dirs)
		dh_free((struct dh *)(void *)open_dirs.next);
}
