/*
 * compact.c - an account copied whole into a new account, its pages full.
 *
 * LMDB splits a full page in two halves when a key lands inside it. A
 * table written in any order but its keys' (versions and live, when
 * documents of several containers are written in turns; any table edited
 * all over) keeps its pages half to two-thirds full, and a compacting copy
 * of the file (mdb_copy -c) leaves out the free pages but keeps those
 * pages as they are. Here every table is copied entry by entry in key
 * order with MDB_APPEND (MDB_APPENDDUP for the items after a key's first,
 * table.c), so that each page is filled before the next one is begun:
 * the same entries, byte for byte (the meta table too: name, policy,
 * clock, prune floor, backup settings), in fewer pages.
 *
 * The source is read in one read transaction, a consistent snapshot while
 * its daemon goes on writing. The copy is committed every COPY_CHUNK bytes
 * (a write transaction holds its dirty pages in memory), built aside
 * (stage.c), verified (pitr_store_verify), synced and renamed into place.
 * Nothing is decoded but by that verification: a damaged source makes a
 * damaged copy, which is refused, and no target is left.
 */
#include <errno.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define COPY_CHUNK (4u << 20)

/* The tables of `s`, in the order of its struct; the number of them. */
static int tables_of(pitr_store *s, MDB_dbi *dbi[7])
{
	int n = 0;

	dbi[n++] = &s->meta;
	dbi[n++] = &s->log;
	dbi[n++] = &s->versions;
	dbi[n++] = &s->live;
	dbi[n++] = &s->names;
	dbi[n++] = &s->incs;
	if (s->has_dicts)
		dbi[n++] = &s->dicts;
	return n;
}

/* The free pages `txn` sees, and the pages of the free list itself. */
static uint64_t free_pages(MDB_txn *txn, uint64_t *list)
{
	MDB_cursor *c;
	MDB_val k, v;
	MDB_stat st;
	uint64_t n = 0;

	*list = mdb_stat(txn, 0, &st) == 0 ? st.ms_branch_pages +
						 st.ms_leaf_pages +
						 st.ms_overflow_pages
					   : 0;
	if (mdb_cursor_open(txn, 0, &c))
		return 0;
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0)
		if (v.mv_size >= sizeof(size_t))
			n += *(const size_t *)v.mv_data; /* an IDL: its count */
	mdb_cursor_close(c);
	return n;
}

/*
 * Bytes of the pages the tables of `s` use, in `txn`: their branch, leaf
 * and overflow pages, and the pages of the sub-databases in which LMDB
 * keeps the items of a document with many versions (table.c), which no
 * table's MDB_stat counts. Those are found as the file's pages up to its
 * last one less the free pages, the free list's own, the two meta pages
 * and the tables' (the last page is the environment's latest, so a source
 * written meanwhile may count a little more).
 */
static uint64_t pages_bytes(pitr_store *s, MDB_txn *txn)
{
	MDB_dbi *dbi[7];
	uint64_t pages = 0, list;
	MDB_envinfo info;
	MDB_stat st;

	for (int i = 0, n = tables_of(s, dbi); i < n; i++)
		if (mdb_stat(txn, *dbi[i], &st) == 0)
			pages += st.ms_branch_pages + st.ms_leaf_pages +
				 st.ms_overflow_pages;
	MDB_dbi main;
	if (mdb_dbi_open(txn, NULL, 0, &main) || mdb_stat(txn, main, &st) ||
	    mdb_env_info(s->env, &info))
		return 0;
	uint64_t named = pages + st.ms_branch_pages + st.ms_leaf_pages +
			 st.ms_overflow_pages + 2;
	uint64_t used = info.me_last_pgno + 1 - free_pages(txn, &list);
	if (used > named + list) /* the sub-databases' */
		pages += used - named - list;
	return pages * st.ms_psize;
}

struct copy {
	MDB_env *env;
	const char *dir; /* the copy's, whose disk a failed write may fill */
	MDB_txn *txn;	 /* the open write transaction of the copy */
	size_t pending;	 /* bytes put since it began */
	uint64_t entries;
};

/* Every entry of table `from` of read transaction `rt` into `to`, of
 * the same layout; in a table of items (table.c), each item after the
 * last of its key. */
static int copy_table(struct copy *cp, MDB_txn *rt, MDB_dbi from, MDB_dbi to)
{
	MDB_cursor *c;
	MDB_val k, v, prev = { 0, NULL };
	unsigned flags = 0;
	int rc = mdb_cursor_open(rt, from, &c);

	if (rc)
		return mdb_rc(rc);
	mdb_dbi_flags(rt, from, &flags);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		int same = (flags & MDB_DUPSORT) && k.mv_size == prev.mv_size &&
			   !memcmp(k.mv_data, prev.mv_data, k.mv_size);
		prev = k; /* in the source's map, for the read's life */
		if ((rc = mdb_put(cp->txn, to, &k, &v,
				  same ? MDB_APPENDDUP : MDB_APPEND)))
			break;
		cp->entries++;
		cp->pending += k.mv_size + v.mv_size;
		if (cp->pending < COPY_CHUNK)
			continue;
		rc = mdb_txn_commit(cp->txn);
		cp->txn = NULL;
		if (rc || (rc = mdb_txn_begin(cp->env, NULL, 0, &cp->txn)))
			break;
		cp->pending = 0;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : write_rc(cp->dir, rc);
}

/* A map for the copy as big as the source's pages and a quarter: the
 * copy's file was empty when it was opened, and where address space is
 * limited (ulimit -v) its map was made no bigger than needed for that.
 * LMDB unmaps before it maps again, and an environment whose new map
 * failed is unusable: the address space is tried first. */
static int map_for(pitr_store *src, pitr_store *dst)
{
	MDB_envinfo si, di;
	MDB_stat st;
	int rc;

	if ((rc = mdb_env_info(src->env, &si)) ||
	    (rc = mdb_env_stat(src->env, &st)) ||
	    (rc = mdb_env_info(dst->env, &di)))
		return mdb_rc(rc);
	size_t used = (si.me_last_pgno + 1) * (size_t)st.ms_psize;
	size_t want = used + used / 4 + (1u << 20);
	if (di.me_mapsize >= want)
		return 0;
	void *p = mmap(NULL, want, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return errno;
	munmap(p, want);
	return mdb_rc(mdb_env_set_mapsize(dst->env, want));
}

/* Every table of `src` into `dst`, emptied first; a table the source has
 * not (dicts, before format 3) is removed. */
static int copy_tables(pitr_store *src, pitr_store *dst, pitr_compacted *out)
{
	struct copy cp = { .env = dst->env, .dir = dir_of(dst) };
	MDB_dbi *from[7], *to[7];
	MDB_txn *rt;
	int n = tables_of(src, from), rc;

	tables_of(dst, to);
	if ((rc = map_for(src, dst)) ||
	    (rc = mdb_rc(mdb_txn_begin(src->env, NULL, MDB_RDONLY, &rt))))
		return rc;
	out->before = pages_bytes(src, rt);
	/* the copy's versions table in the layout of the source's format */
	rc = store_set_format(dst, src->format);
	if (!rc)
		rc = mdb_rc(mdb_txn_begin(dst->env, NULL, 0, &cp.txn));
	for (int i = 0; !rc && i < n; i++)
		rc = mdb_rc(mdb_drop(cp.txn, *to[i], 0));
	if (!rc && !src->has_dicts && dst->has_dicts) {
		rc = mdb_rc(mdb_drop(cp.txn, dst->dicts, 1));
		dst->has_dicts = 0;
	}
	for (int i = 0; !rc && i < n; i++)
		rc = copy_table(&cp, rt, *from[i], *to[i]);
	if (!rc) {
		rc = write_rc(cp.dir, mdb_txn_commit(cp.txn));
		cp.txn = NULL;
	}
	if (cp.txn)
		mdb_txn_abort(cp.txn);
	mdb_txn_abort(rt);
	out->entries = cp.entries;
	return rc;
}

int pitr_store_compact(const char *path, const char *target, pitr_problem_fn fn,
		       void *arg, pitr_compacted *out)
{
	char tmp[PATH_MAX];
	pitr_config cfg = { .name = "compacting" };
	pitr_store *src = NULL, *dst = NULL;
	struct stat sb;
	uint64_t n;
	int rc, lock;

	memset(out, 0, sizeof(*out));
	if (!*target)
		return ENOENT;
	if (lstat(target, &sb) == 0)
		return PITR_EXISTS;
	if ((rc = pitr_stage_path(target, "compacting", tmp, sizeof(tmp))) ||
	    (rc = pitr_store_open(path, PITR_OPEN_RDONLY, &src)))
		return rc;
	/* created with defaults: its meta table is the source's copy */
	pitr_policy_default(&cfg.policy);
	pitr_stage_clean(target);
	if ((rc = pitr_store_create(tmp, &cfg)))
		goto out;
	/* held until it is renamed or removed, so that another process's
	 * pitr_stage_clean() leaves it be whatever its PID tells */
	lock = stage_lock(tmp);
	rc = pitr_store_open(tmp, PITR_OPEN_DAEMON | PITR_OPEN_BULK, &dst);
	if (!rc)
		rc = copy_tables(src, dst, out);
	if (!rc)
		rc = pitr_store_sync(dst);
	pitr_store_close(dst);
	dst = NULL;
	/* What was built must verify before it takes the target's name:
	 * reopened, so that it is read as its own meta table says. */
	if (!rc)
		rc = pitr_store_open(tmp, PITR_OPEN_DAEMON, &dst);
	if (!rc)
		rc = pitr_store_verify(dst, fn, arg, &n);
	MDB_txn *txn;
	if (!rc &&
	    !(rc = mdb_rc(mdb_txn_begin(dst->env, NULL, MDB_RDONLY, &txn)))) {
		out->after = pages_bytes(dst, txn);
		mdb_txn_abort(txn);
	}
	pitr_store_close(dst);
	if (!rc)
		rc = pitr_stage_commit(tmp, target);
	if (rc && access(tmp, F_OK) == 0)
		pitr_store_destroy(tmp);
	if (lock >= 0)
		close(lock);
out:
	pitr_store_close(src);
	return rc;
}
