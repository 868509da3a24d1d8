/*
 * prune.c - retention: remove the history that no instant inside the
 * window can see, keeping the state at the window's start.
 *
 * After a prune up to P, every document and name has at most one entry at
 * or before P: the one visible at P, never a delete. A prune up to W > P
 * walks only the mutations in (P, W] (the log is keyed by time): each is
 * removed if a newer entry of its document or name is at or before W, or
 * if it is a delete visible at W; and the first mutation after P of a
 * document or name also removes the entry left at P. Each decision is a
 * B-tree seek, so a prune costs O(mutations since the last one). A
 * version that goes while deltas on it stay has them stored as keyframes
 * first (at most DELTA_MAX of them).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define PRUNE_BATCH 1000 /* mutations per write transaction */

/* Entries to remove, gathered while the log cursor walks. */
struct doomed {
	struct gone {
		MDB_dbi dbi;
		size_t len;
		unsigned char key[KEY_MAX];
	} * v;
	size_t n, cap;
};

static int doom(struct doomed *d, MDB_dbi dbi, const void *key, size_t len)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct gone *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n].dbi = dbi;
	d->v[d->n].len = len;
	memcpy(d->v[d->n].key, key, len);
	d->n++;
	return 0;
}

/* Deltas to store as keyframes before their base goes: (ts, idx) on
 * (bts, bidx). */
struct rekeys {
	struct rekey {
		uint64_t ts, bts;
		uint32_t idx, bidx;
	} * v;
	size_t n, cap;
};

struct walk {
	pitr_txn *t;
	uint64_t floor, until; /* P and W */
	int dry_run;
	int between; /* periodic: prune between boundaries instead */
	uint64_t created, interval;
	struct doomed d;
	struct rekeys rk;
	pitr_prune_stats *st;
};

/* Doom the log record (ts, idx), counting its bytes. */
static int doom_record(struct walk *w, uint64_t ts, uint32_t idx)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;

	key_log(k, ts, idx);
	if (mdb_get(w->t->txn, w->t->s->log, &key, &val) == 0)
		w->st->bytes += val.mv_size;
	return doom(&w->d, w->t->s->log, k, sizeof(k));
}

/*
 * One entry of a named table: where it is, and what it says.
 */
struct entry {
	uint64_t ts;
	uint32_t idx; /* log index */
	int gone;     /* a delete */
	uint64_t inc; /* names: the incarnation */
	size_t klen;
	unsigned char key[KEY_MAX];
};

/* The newest entry of (parent, name) at or before `at`. */
static int entry_at(struct walk *w, MDB_dbi dbi, int names, uint64_t parent,
		    const char *name, size_t len, uint64_t at, struct entry *e)
{
	size_t suffix = names ? NAME_SUFFIX : VER_SUFFIX;
	struct tcur c;
	MDB_val key, val;
	int rc;

	rc = mdb_rc(tcur_open(w->t->txn, dbi, &c));
	if (rc)
		return rc;
	rc = seek_at(&c, parent, name, len, suffix, at, &key, &val);
	if (!rc) {
		struct name_entry ne;
		struct ver_entry ve;
		if (names) {
			rc = name_entry_decode(&key, &val, &ne);
			e->ts = ne.ts;
			e->idx = ne.idx;
			e->inc = ne.inc;
			e->gone = ne.op == NAME_DELETE;
		} else {
			rc = ver_entry_decode(&key, &val, &ve,
					      ver_form(w->t->s));
			e->ts = ve.ts;
			e->idx = ve.v.idx;
			e->gone = ve.v.op == OP_DOC_DEL;
			e->inc = 0;
		}
		e->klen = key.mv_size;
		memcpy(e->key, key.mv_data, key.mv_size);
	}
	tcur_close(&c);
	return rc;
}

/*
 * A version that goes may be the keyframe of deltas that stay: they are
 * the versions after it up to the next keyframe (at most DELTA_MAX). Each
 * delta on it is stored as a keyframe before it goes (apply), so a version
 * inside the window never loses its base.
 */
static int keep_dependents(struct walk *w, const struct entry *e)
{
	size_t prefix = e->klen - VER_SUFFIX;
	MDB_val key = { e->klen, (void *)e->key }, val, lv;
	unsigned char k[12];
	struct tcur c;
	int rc, n = 0;

	rc = mdb_rc(tcur_open(w->t->txn, w->t->s->versions, &c));
	if (rc)
		return rc;
	rc = tcur_get(&c, &key, &val, MDB_SET_KEY);
	/* newest first: the versions after e are the keys before it */
	while (rc == 0 && n++ <= DELTA_MAX &&
	       (rc = tcur_get(&c, &key, &val, MDB_PREV)) == 0) {
		struct ver_rec vr;
		struct body_base b;
		struct log_rec r;
		if (key.mv_size != e->klen || memcmp(key.mv_data, e->key, prefix))
			break;
		if (ver_decode(&val, &vr, ver_form(w->t->s))) {
			rc = PITR_CORRUPT;
			break;
		}
		if (vr.op != OP_DOC_PUT)
			continue;
		uint64_t ts = ~get_be64((unsigned char *)key.mv_data + prefix);
		key_log(k, ts, vr.idx);
		MDB_val lk = { sizeof(k), k };
		/* a record that does not read is no delta on e that stays
		 * readable, but a later one may be */
		if (mdb_get(w->t->txn, w->t->s->log, &lk, &lv) ||
		    log_decode(&lk, &lv, &r))
			continue;
		if (body_form(&r, &b) != BODY_DELTA)
			break; /* a keyframe: the next ones are on it */
		if (b.ts != e->ts || b.idx != e->idx)
			break;
		if (w->rk.n == w->rk.cap) {
			size_t cap = w->rk.cap ? w->rk.cap * 2 : 64;
			struct rekey *v = realloc(w->rk.v, cap * sizeof(*v));
			if (!v) {
				rc = ENOMEM;
				break;
			}
			w->rk.v = v;
			w->rk.cap = cap;
		}
		w->rk.v[w->rk.n++] =
		    (struct rekey){ ts, e->ts, vr.idx, e->idx };
	}
	tcur_close(&c);
	return rc == MDB_NOTFOUND ? 0 : mdb_rc(rc);
}

/* Doom entry `e` of a named table with its log record. */
static int doom_entry(struct walk *w, MDB_dbi dbi, int names,
		      const struct entry *e)
{
	int rc = doom(&w->d, dbi, e->key, e->klen);

	if (!rc && !names && !e->gone)
		rc = keep_dependents(w, e);
	if (!rc)
		rc = doom_record(w, e->ts, e->idx);
	if (!rc && names)
		w->st->events++;
	else if (!rc)
		w->st->versions++;
	/* A deleted incarnation leaves history with its delete. */
	if (!rc && names && e->gone) {
		pitr_inc_info info;
		unsigned char k[8];
		if (pitr_inc_get(w->t, e->inc, &info) == 0 && info.deleted &&
		    info.deleted <= w->until) {
			put_be64(k, e->inc);
			rc = doom(&w->d, w->t->s->incs, k, 8);
		}
	}
	return rc;
}

/* The entry of (parent, name) written by mutation (ts, idx) itself. */
static int entry_exact(struct walk *w, MDB_dbi dbi, int names, uint64_t parent,
		       const char *name, size_t len, uint64_t ts, uint32_t idx,
		       struct entry *e)
{
	unsigned char k[KEY_MAX];
	MDB_val key, val;
	int rc;

	key.mv_size = names ? key_event(k, parent, name, len, ts, idx)
			    : key_named(k, parent, name, len, ts);
	key.mv_data = k;
	rc = mdb_rc(tbl_get(w->t->txn, dbi, &key, &val));
	if (rc)
		return rc;
	struct ver_rec vr = { 0 };
	int op = 0;
	if (names ? name_decode(&val, &op, &e->inc)
		  : ver_decode(&val, &vr, ver_form(w->t->s)))
		return PITR_CORRUPT;
	e->ts = ts;
	e->idx = names ? idx : vr.idx;
	e->gone = names ? op == NAME_DELETE : vr.op == OP_DOC_DEL;
	if (!names)
		e->inc = 0;
	e->klen = key.mv_size;
	memcpy(e->key, k, key.mv_size);
	/* a document's entry at ts belongs to this mutation only if its
	 * index says so (a later one in the commit replaced it) */
	return e->idx == idx ? 0 : PITR_NOTFOUND;
}

/* Decide for mutation (ts, idx) of (parent, name) in a named table. */
static int decide(struct walk *w, MDB_dbi dbi, int names, uint64_t parent,
		  const char *name, size_t len, uint64_t ts, uint32_t idx)
{
	struct entry at_w, self, before;
	int rc;

	rc = entry_at(w, dbi, names, parent, name, len, w->until, &at_w);
	if (rc)
		return rc == PITR_NOTFOUND ? 0 : rc;
	/* this mutation's own entry (already gone: decided before) */
	rc = entry_exact(w, dbi, names, parent, name, len, ts, idx, &self);
	if (rc == PITR_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (ts < at_w.ts || (self.idx < at_w.idx && ts == at_w.ts) ||
	    (ts == at_w.ts && self.idx == at_w.idx && at_w.gone))
		if ((rc = doom_entry(w, dbi, names, &self)))
			return rc;
	/* The first mutation after the floor retires the entry left there. */
	if (w->floor && ts > 0) {
		rc =
		    entry_at(w, dbi, names, parent, name, len, ts - 1, &before);
		if (rc == PITR_NOTFOUND)
			return 0;
		if (rc)
			return rc;
		if (before.ts <= w->floor)
			return doom_entry(w, dbi, names, &before);
	}
	return 0;
}

/*
 * Periodic mode keeps history only at interval boundaries: a mutation
 * whose next version comes before the next boundary is seen by none.
 * Tombstones stay (they hide the older version at a boundary).
 */
static int decide_between(struct walk *w, MDB_dbi dbi, int names,
			  uint64_t parent, const char *name, size_t len,
			  uint64_t ts, uint32_t idx)
{
	size_t suffix = names ? NAME_SUFFIX : VER_SUFFIX;
	struct entry self;
	struct tcur c;
	MDB_val key, val;
	int rc;

	rc = entry_exact(w, dbi, names, parent, name, len, ts, idx, &self);
	if (rc == PITR_NOTFOUND)
		return 0;
	if (rc || self.gone)
		return rc;
	rc = mdb_rc(tcur_open(w->t->txn, dbi, &c));
	if (rc)
		return rc;
	key.mv_size = self.klen;
	key.mv_data = self.key;
	rc = tcur_get(&c, &key, &val, MDB_SET_KEY);
	if (!rc) /* newest first: the next version is the previous key */
		rc = tcur_get(&c, &key, &val, MDB_PREV);
	int newer = !rc && key.mv_size == 9 + len + suffix &&
		    !memcmp(key.mv_data, self.key, 9 + len);
	uint64_t next =
	    newer ? ~get_be64((unsigned char *)key.mv_data + 9 + len) : 0;
	tcur_close(&c);
	if (!newer || next > w->until)
		return 0;
	uint64_t boundary =
	    w->created + (next - 1 - w->created) / w->interval * w->interval;
	if (boundary < ts)
		return doom_entry(w, dbi, names, &self);
	return 0;
}

static int apply(struct walk *w)
{
	/* first the deltas whose base goes, while it is there */
	for (size_t i = 0; i < w->rk.n; i++) {
		struct rekey *r = &w->rk.v[i];
		int rc = log_rekey(w->t, r->ts, r->idx, r->bts, r->bidx);
		if (rc)
			return rc;
	}
	w->rk.n = 0;
	for (size_t i = 0; i < w->d.n; i++) {
		MDB_val key = { w->d.v[i].len, w->d.v[i].key };
		int rc = tbl_del(w->t->txn, w->d.v[i].dbi, &key);
		if (rc && rc != MDB_NOTFOUND)
			return mdb_rc(rc);
	}
	w->d.n = 0;
	return 0;
}

static uint64_t meta_u64(pitr_txn *t, const char *name)
{
	MDB_val v;

	uint64_t x;

	if (meta_get(t->txn, t->s->meta, name, &v) || u64_decode(&v, &x))
		return 0;
	return x;
}

static int meta_set(pitr_txn *t, const char *name, const void *data, size_t len)
{
	return meta_put(t->txn, t->s->meta, name, data, len);
}

/* Walk one batch from (*ts, *idx); *end once the walk passed W. */
static int walk_batch(struct walk *w, uint64_t *ts, uint32_t *idx, int *end)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	struct log_rec r;
	MDB_cursor *c;
	int rc, n = 0;

	rc = mdb_rc(mdb_cursor_open(w->t->txn, w->t->s->log, &c));
	if (rc)
		return rc;
	key_log(k, *ts, *idx);
	*end = 1;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		uint64_t mts;
		uint32_t midx;
		if ((rc = log_key_decode(&key, &mts, &midx)))
			break;
		if (mts > w->until)
			break;
		if (n++ == PRUNE_BATCH) {
			*ts = mts;
			*idx = midx;
			*end = 0;
			break;
		}
		if ((rc = log_decode(&key, &val, &r)))
			break;
		if (r.op == OP_DICT) /* kept for the account's life */
			continue;
		/* a short record's document: its base's, which is here (a
		 * base goes after its deltas are made keyframes); one whose
		 * base is lost to damage names none, and is left */
		rc = log_name(w->t, &r);
		if (rc == PITR_CORRUPT) {
			rc = 0;
			continue;
		}
		if (rc)
			break;
		/* copied: the decisions below may move the cursor's page */
		char name[PITR_NAME_MAX];
		size_t len = r.namelen;
		uint64_t parent = r.parent;
		int doc = r.op == OP_DOC_PUT || r.op == OP_DOC_DEL;
		memcpy(name, r.name, len);
		rc = (w->between ? decide_between : decide)(
		    w, doc ? w->t->s->versions : w->t->s->names, !doc, parent,
		    name, len, mts, midx);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Walk (floor, until] from (ts, idx) in committed batches. The new floor is
 * stored by the first batch, before anything is removed, so no reader ever
 * sees an instant half pruned; progress is stored by every batch, so a
 * prune that dies resumes where it stopped.
 */
static int prune_walk(pitr_store *s, struct walk *w, uint64_t ts, uint32_t idx)
{
	unsigned char b[12];
	int end = 0, rc = 0;

	while (!rc && !end) {
		rc = pitr_txn_begin(
		    s, w->dry_run ? PITR_TXN_READ : PITR_TXN_WRITE, &w->t);
		if (rc)
			break;
		rc = walk_batch(w, &ts, &idx, &end);
		if (!rc && !w->dry_run && w->between) {
			/* nothing a view can see goes: no floor to move, and
			 * a walk redone after a crash decides the same */
			put_le64(b, w->until);
			if (end)
				rc = meta_set(w->t, "between_until", b, 8);
			if (!rc)
				rc = apply(w);
		} else if (!rc && !w->dry_run) {
			put_le64(b, w->until);
			rc = meta_set(w->t, "pruned_until", b, 8);
			put_le64(b, w->floor);
			if (!rc)
				rc = meta_set(w->t, "prune_base", b, 8);
			prune_next_encode(b, ts, idx);
			if (!rc)
				rc = meta_set(w->t, "prune_next",
					      end ? NULL : b, 12);
			if (!rc)
				rc = apply(w);
		}
		w->d.n = 0;
		w->rk.n = 0;
		if (w->dry_run || rc) {
			pitr_txn_abort(w->t);
		} else {
			rc = pitr_txn_commit(w->t, NULL);
		}
		w->t = NULL;
		/* LMDB's writer lock is not fair: let a waiting writer in
		 * before the next batch takes it again */
		if (!end)
			nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	}
	return rc;
}

/*
 * One pruner at a time per account, across processes: the daemon's
 * background pruner and `pitr prune` on a mounted account. Two walks over
 * the same span would each read a floor the other is moving, and store
 * progress over each other's. The lock is a write lock on the first byte
 * of the daemon's lock file, held by an open file description (so it is
 * released when the descriptor is closed, or the process dies); the
 * daemon's own flock() of that file is a different kind of lock and does
 * not conflict with it. Waits for a pruner in progress. Returns the
 * descriptor, or -1 with `*rc` set.
 */
static int prune_lock(pitr_store *s, int *rc)
{
	struct flock fl = { .l_type = F_WRLCK,
			    .l_whence = SEEK_SET,
			    .l_start = 0,
			    .l_len = 1 };
	char path[PATH_MAX];
	const char *dir;
	int fd, n;

	if ((*rc = mdb_rc(mdb_env_get_path(s->env, &dir))))
		return -1;
	n = snprintf(path, sizeof(path), "%s/%s", dir, DAEMON_LOCK);
	if (n < 0 || n >= (int)sizeof(path)) {
		*rc = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		*rc = errno;
		return -1;
	}
	while (fcntl(fd, F_OFD_SETLKW, &fl) == -1) {
		if (errno != EINTR) {
			*rc = errno;
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int prune_locked(pitr_store *s, uint64_t now, int dry_run,
			pitr_prune_stats *st);

int pitr_prune(pitr_store *s, uint64_t now, int dry_run, pitr_prune_stats *st)
{
	int fd = -1, rc = 0;

	if (!dry_run && (fd = prune_lock(s, &rc)) < 0) {
		memset(st, 0, sizeof(*st));
		return rc;
	}
	rc = prune_locked(s, now, dry_run, st);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int prune_locked(pitr_store *s, uint64_t now, int dry_run,
			pitr_prune_stats *st)
{
	struct walk w = { .dry_run = dry_run, .st = st };
	uint64_t floor, base, next_ts = 0, target;
	uint32_t next_idx = 0;
	int resume, rc;
	pitr_txn *t;
	MDB_val v;

	memset(st, 0, sizeof(*st));
	target = pitr_store_window_start(s, now);
	/* nothing that is not on the backup media yet */
	int backup;
	uint64_t shipped = backup_shipped(s, &backup);
	if (backup && target > shipped)
		target = shipped;
	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (rc)
		return rc;
	floor = meta_u64(t, "pruned_until");
	base = meta_u64(t, "prune_base");
	resume = meta_get(t->txn, s->meta, "prune_next", &v) == 0 &&
		 prune_next_decode(&v, &next_ts, &next_idx) == 0;
	pitr_txn_abort(t);
	/* first finish a walk that died */
	if (resume && !dry_run) {
		w.floor = base;
		w.until = floor;
		rc = prune_walk(s, &w, next_ts, next_idx);
	}
	if (!rc && target > floor) {
		w.floor = floor;
		w.until = target;
		rc = prune_walk(s, &w, floor + 1, 0);
	}
	st->until = target > floor ? target : floor;
	pitr_policy p;
	pitr_store_policy(s, &p);
	if (!rc && p.mode == PITR_PERIODIC && now > s->created) {
		uint64_t latest =
		    s->created + (now - s->created) / p.interval * p.interval;
		if (backup && latest > shipped)
			latest = shipped;
		uint64_t done = 0;
		if (!pitr_txn_begin(s, PITR_TXN_READ, &t)) {
			done = meta_u64(t, "between_until");
			pitr_txn_abort(t);
		}
		if (done < st->until)
			done = st->until;
		if (latest > done) {
			w.between = 1;
			w.created = s->created;
			w.interval = p.interval;
			w.floor = done;
			w.until = latest;
			rc = prune_walk(s, &w, done + 1, 0);
		}
	}
	free(w.d.v);
	free(w.rk.v);
	return rc;
}
