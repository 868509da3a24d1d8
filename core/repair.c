/*
 * repair.c - an account's indexes rebuilt from its log, into a new
 * account.
 *
 * The log is the source of truth: every record carries its checksum. The
 * indexes (versions, live, names, incs) are derived from it, and LMDB
 * keeps no checksum of their pages, so damage there is found by
 * pitr_store_verify() and mended here: every log record is checked and
 * replayed in commit order under its own key, as a replay of backup media
 * replays it; the meta table is copied as it is (the account's name,
 * policy, clock, prune floor, backup settings), and the scratch files of
 * live containers are copied. The new account is built aside (stage.c),
 * verified, synced and renamed into place; the damaged one is never
 * written.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct repair {
	struct replayer rp;
	pitr_problem_fn fn;
	void *arg;
};

static void report(struct repair *r, const char *where, const char *what)
{
	if (r->fn)
		r->fn(where, what, r->arg);
}

/*
 * A delta whose base is itself a delta here: the source's pruning rewrote
 * that base as a keyframe (log_rekey) after the media got it as a delta,
 * and the source's next edits were made on it. Rewrite it here the same
 * way, before the record that needs it: its body is unchanged, and what
 * it was a delta on is still here (a replay prunes nothing).
 */
static int rekey_base(pitr_txn *t, const struct log_rec *lr)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	struct body_base b, bb;
	struct log_rec br;
	int rc;

	if (lr->op != OP_DOC_PUT || body_form(lr, &b) != BODY_DELTA)
		return 0;
	key_log(k, b.ts, b.idx);
	rc = mdb_rc(mdb_get(t->txn, t->s->log, &key, &val));
	if (rc)
		return rc == PITR_NOTFOUND ? 0 : rc; /* read as missing */
	if (log_decode(&key, &val, &br) || body_form(&br, &bb) != BODY_DELTA)
		return 0; /* a keyframe, or damage the read will name */
	return log_rekey(t, b.ts, b.idx, bb.ts, bb.idx);
}

int replayer_apply(struct replayer *rp, uint64_t ts, uint32_t idx,
		   const MDB_val *rec, const struct log_rec *lr)
{
	int rc;

	if (rp->t && ((rp->n && rp->n % REPLAY_BATCH == 0) ||
		      rp->bytes >= BULK_BYTES)) {
		if (rp->t->next_inc > rp->next_inc)
			rp->next_inc = rp->t->next_inc;
		rc = pitr_txn_commit(rp->t, NULL);
		rp->t = NULL;
		rp->bytes = 0;
		if (rc)
			return rc;
	}
	if (!rp->t && (rc = pitr_txn_begin(rp->s, PITR_TXN_WRITE, &rp->t)))
		return rc;
	/* each record keeps its own timestamp and index */
	rp->t->ts = ts;
	rp->t->idx = idx;
	rp->t->dirty_meta = 1;
	rp->bytes += rec->mv_size;
	if ((rc = rekey_base(rp->t, lr)))
		return rc;
	rc = log_put_replayed(rp->t, ts, idx, rec, lr);
	if (!rc)
		rc = lr->op == OP_DOC_PUT || lr->op == OP_DOC_DEL
			 ? doc_replay(rp->t, lr, idx)
		     : lr->op == OP_DICT ? dict_replay(rp->t, lr, idx)
					 : catalog_replay(rp->t, lr);
	rp->n++;
	rp->last_ts = ts;
	return rc;
}

/* Every record of the source's log, checked, in key order. */
static int replay_log(struct repair *r, pitr_txn *src)
{
	char where[64], tbuf[PITR_TIME_LEN];
	MDB_cursor *c;
	MDB_val key, val;
	struct log_rec lr;
	int rc, bad = 0;

	rc = mdb_rc(mdb_cursor_open(src->txn, src->s->log, &c));
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		uint64_t ts;
		uint32_t idx;
		if (log_key_decode(&key, &ts, &idx)) {
			report(r, "log", "a key of the wrong size");
			bad = 1;
			continue;
		}
		snprintf(where, sizeof(where), "log %s #%u",
			 pitr_time_format(ts, tbuf), idx);
		if (log_decode(&key, &val, &lr)) {
			report(r, where, "fails its checksum: the log cannot "
					 "be repaired, only restored from "
					 "backup media");
			bad = 1;
			continue;
		}
		if (bad)
			continue; /* keep reporting, build nothing */
		/* a delta that names its document through its base; its etag
		 * is its body's (the indexes are what a repair rebuilds) */
		int nrc = log_hash(src, &lr);
		if (nrc == PITR_CORRUPT) {
			report(r, where,
			       "is a delta whose base is damaged or "
			       "missing: the log cannot be repaired, "
			       "only restored from backup media");
			bad = 1;
			continue;
		}
		if (nrc) {
			mdb_cursor_close(c);
			return nrc;
		}
		int arc = replayer_apply(&r->rp, ts, idx, &val, &lr);
		if (arc) {
			mdb_cursor_close(c);
			return arc;
		}
	}
	mdb_cursor_close(c);
	rc = mdb_rc(rc);
	if (rc == PITR_NOTFOUND)
		rc = 0;
	return rc ? rc : bad ? PITR_CORRUPT : 0;
}

/* The scratch files of containers alive in the rebuilt account. */
static int copy_scratch(struct repair *r, pitr_txn *src)
{
	MDB_cursor *c;
	MDB_val key, val;
	int rc;

	if (!r->rp.t && (rc = pitr_txn_begin(r->rp.s, PITR_TXN_WRITE, &r->rp.t)))
		return rc;
	rc = mdb_rc(mdb_cursor_open(src->txn, src->s->live, &c));
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		struct live_key lk;
		uint64_t mtime;
		const void *data;
		size_t len;
		if (live_key_decode(&key, &lk) || lk.type != LIVE_SCRATCH ||
		    scratch_decode(&val, &mtime, &data, &len) ||
		    ct_alive(r->rp.t, lk.ct))
			continue;
		rc = mdb_put(r->rp.t->txn, r->rp.s->live, &key, &val, 0);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	rc = mdb_rc(rc);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

/* The source's meta table, as it is; the clock and the next incarnation
 * never below what the log holds. */
static int copy_meta(struct repair *r, pitr_txn *src)
{
	MDB_cursor *c;
	MDB_val key, val;
	uint64_t v;
	int rc;

	rc = mdb_rc(mdb_cursor_open(src->txn, src->s->meta, &c));
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))
		if ((rc = mdb_put(r->rp.t->txn, r->rp.s->meta, &key, &val, 0)))
			break;
	mdb_cursor_close(c);
	rc = mdb_rc(rc);
	if (rc != PITR_NOTFOUND)
		return rc;
	r->rp.t->dirty_meta = 0;
	r->rp.t->idx = 0;
	unsigned char b[8];
	static const char *const keys[] = { "last_ts", "next_inc" };
	uint64_t floor[] = { r->rp.last_ts, r->rp.next_inc };
	for (int i = 0; i < 2; i++) {
		MDB_val mv;
		if (meta_get(r->rp.t->txn, r->rp.s->meta, keys[i], &mv) == 0 &&
		    u64_decode(&mv, &v) == 0 && v >= floor[i])
			continue;
		put_le64(b, floor[i]);
		if ((rc = meta_put(r->rp.t->txn, r->rp.s->meta, keys[i], b, 8)))
			return rc;
	}
	return 0;
}

int pitr_store_repair(const char *path, const char *target,
		      pitr_problem_fn fn, void *arg, uint64_t *records)
{
	struct repair r = { .fn = fn, .arg = arg, .rp.next_inc = 1 };
	char tmp[PATH_MAX], name[PITR_NAME_MAX + 1];
	pitr_config cfg = { 0 };
	pitr_store *src = NULL;
	pitr_txn *st = NULL;
	struct stat sb;
	int rc;

	if (records)
		*records = 0;
	if (!*target)
		return ENOENT;
	if (lstat(target, &sb) == 0)
		return PITR_EXISTS;
	if ((rc = pitr_stage_path(target, "repairing", tmp, sizeof(tmp))))
		return rc;
	if ((rc = pitr_store_open(path, PITR_OPEN_RDONLY, &src)))
		return rc;
	if ((rc = pitr_txn_begin(src, PITR_TXN_READ, &st)))
		goto out;
	MDB_val nv;
	rc = meta_get(st->txn, src->meta, "name", &nv);
	if (!rc && (nv.mv_size > PITR_NAME_MAX ||
		    pitr_name_check(nv.mv_data, nv.mv_size)))
		rc = PITR_CORRUPT;
	if (!rc) {
		memcpy(name, nv.mv_data, nv.mv_size);
		name[nv.mv_size] = 0;
	}
	pitr_txn_abort(st);
	st = NULL;
	if (rc)
		goto out;
	cfg.name = name;
	cfg.policy = src->policy;
	cfg.max_doc_size = src->max_doc;
	cfg.created = src->created;
	pitr_stage_clean(target);
	if ((rc = pitr_store_create(tmp, &cfg)))
		goto out;
	rc = pitr_store_open(tmp, PITR_OPEN_DAEMON | PITR_OPEN_BULK, &r.rp.s);
	if (rc)
		goto out_destroy;
	/* Its records and tables as the source's format keeps them. */
	rc = store_set_format(r.rp.s, src->format);
	if (!rc)
		rc = pitr_txn_begin(src, PITR_TXN_READ, &st);
	if (!rc)
		rc = replay_log(&r, st);
	if (!rc)
		rc = copy_scratch(&r, st);
	if (!rc && r.rp.t->next_inc > r.rp.next_inc)
		r.rp.next_inc = r.rp.t->next_inc;
	if (!rc)
		rc = copy_meta(&r, st);
	if (!rc) {
		rc = pitr_txn_commit(r.rp.t, NULL);
		r.rp.t = NULL;
	}
	if (!rc)
		rc = pitr_store_sync(r.rp.s);
	pitr_txn_abort(r.rp.t);
	r.rp.t = NULL;
	pitr_txn_abort(st);
	st = NULL;
	if (records)
		*records = r.rp.n;
	/* What was built must verify before it takes the target's name. */
	if (!rc) {
		uint64_t n;
		pitr_store_close(r.rp.s);
		r.rp.s = NULL;
		rc = pitr_store_open(tmp, PITR_OPEN_DAEMON, &r.rp.s);
		if (!rc)
			rc = pitr_store_verify(r.rp.s, fn, arg, &n);
	}
	pitr_store_close(r.rp.s);
	r.rp.s = NULL;
	if (!rc)
		rc = pitr_stage_commit(tmp, target);
out_destroy:
	if (rc && access(tmp, F_OK) == 0)
		pitr_store_destroy(tmp);
out:
	pitr_store_close(src);
	return rc;
}
