/*
 * lookup.c - names to nodes: resolve a name under a node into a database,
 * container, document, scratch file or view (@T), give the kernel its node
 * and attributes, and drop the lookups the kernel forgets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "ops.h"

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
		fs_log(LOG_NOTICE,
		       "no view %.*s: not a time (RFC 3339, or "
		       "relative as -5m)",
		       (int)len, name);
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
int make_entry(pitr_txn *t, struct node *parent, enum node_kind kind,
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

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = { 0 };
	struct node_ref p;
	enum node_kind kind;
	uint64_t at, inc, db;
	size_t len = strlen(name);
	pitr_txn *t;
	int rc;

	if (too_long(name))
		return reply_err(req, ENAMETOOLONG);
	node_get(node_of(parent), &p);
	attrs_coming();
	rc = read_txn(&t);
	if (rc)
		return reply_err(req, rc);
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
		return reply_err(req, rc);
	fuse_reply_entry(req, &e);
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(node_of(ino), nlookup);
	fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count,
		     struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		node_forget(node_of(forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}
