/*
 * clock.c - the account's clock: the latest instant (never behind a
 * commit, in this process or another), the retention window's start, and
 * the resolution of a requested instant to a readable one, which no later
 * write may land at or below (the read floor).
 */

#include "internal.h"

/* The last commit's timestamp; refreshes the policy, which `pitr policy`
 * may change while a daemon serves the account. */
static uint64_t last_ts(pitr_store *s)
{
	pitr_policy p;
	MDB_txn *txn;
	uint64_t ts = 0;
	MDB_val v;

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0) {
		meta_get64(txn, s->meta, "last_ts", &ts);
		uint64_t pruned = 0;
		if (meta_get64(txn, s->meta, "pruned_until", &pruned) == 0) {
			pthread_mutex_lock(&s->clock_mtx);
			s->pruned = pruned;
			pthread_mutex_unlock(&s->clock_mtx);
		}
		if (meta_get(txn, s->meta, "policy", &v) == 0 &&
		    policy_decode(&v, &p) == 0) {
			pthread_mutex_lock(&s->clock_mtx);
			s->policy = p;
			pthread_mutex_unlock(&s->clock_mtx);
		}
		mdb_txn_abort(txn);
	}
	return ts;
}

uint64_t pitr_store_now(pitr_store *s)
{
	uint64_t now = pitr_clock(), last;

	pthread_mutex_lock(&s->clock_mtx);
	last = s->pending_ts;
	pthread_mutex_unlock(&s->clock_mtx);
	if (now > last)
		last = now;
	uint64_t stored = last_ts(s);
	return stored > last ? stored : last;
}

void pitr_store_wait_visible(pitr_store *s, uint64_t at)
{
	pthread_mutex_lock(&s->clock_mtx);
	while (s->pending_ts && s->pending_ts <= at)
		pthread_cond_wait(&s->clock_cond, &s->clock_mtx);
	pthread_mutex_unlock(&s->clock_mtx);
}
/* The earliest instant a view may show. */
uint64_t earliest(pitr_store *s, uint64_t now)
{
	pitr_policy p = policy_of(s);
	uint64_t e = now > p.retention ? now - p.retention : 0, pruned;

	if (e < s->created)
		e = s->created;
	if (p.mode == PITR_PERIODIC) {
		uint64_t k = (e - s->created + p.interval - 1) / p.interval;
		e = s->created + k * p.interval;
	}
	pthread_mutex_lock(&s->clock_mtx);
	pruned = s->pruned;
	pthread_mutex_unlock(&s->clock_mtx);
	return e > pruned ? e : pruned;
}

uint64_t pitr_store_window_start(pitr_store *s, uint64_t now)
{
	pitr_store_now(s); /* refreshes policy and prune floor */
	return earliest(s, now);
}

int at_readable(pitr_txn *t, uint64_t at)
{
	uint64_t floor = 0;

	if (at == PITR_NOW)
		return 0;
	if (!t->pruned) {
		meta_get64(t->txn, t->s->meta, "pruned_until", &floor);
		t->pruned = floor + 1;
	}
	return at + 1 < t->pruned ? PITR_OUTOFRANGE : 0;
}

/*
 * Another process (the daemon) may be committing a write whose timestamp
 * is <= t: take the writer lock, which waits for it, and store t as a floor
 * below which no later write may land.
 */
int floor_barrier(pitr_store *s, uint64_t t)
{
	uint64_t floor = 0;
	MDB_txn *txn;
	int rc;

	if (s->flags & PITR_OPEN_RDONLY)
		return 0; /* cannot write: a reader of a quiet store */
	rc = mdb_rc(mdb_txn_begin(s->env, NULL, 0, &txn));
	if (rc)
		return rc;
	meta_get64(txn, s->meta, "read_floor", &floor);
	rc = floor < t ? meta_put64(txn, s->meta, "read_floor", t) : 0;
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_rc(mdb_txn_commit(txn));
}

int pitr_store_resolve_ns(pitr_store *s, uint64_t t, uint64_t *at)
{
	return pitr_store_resolve_asof(s, t, UINT64_MAX, at);
}

int pitr_store_resolve_asof(pitr_store *s, uint64_t t, uint64_t asof,
			    uint64_t *at)
{
	uint64_t now = pitr_store_now(s);
	pitr_policy p = policy_of(s);

	if (asof < now)
		now = asof;
	if (t > now || t < earliest(s, now))
		return PITR_OUTOFRANGE;
	uint64_t until = 0, step = 0;
	if (p.mode == PITR_CONTINUOUS) {
		/* a formerly periodic account: its old history is boundaries */
		MDB_txn *txn;
		if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0) {
			if (meta_get64(txn, s->meta, "periodic_until",
				       &until) ||
			    meta_get64(txn, s->meta, "periodic_interval",
				       &step))
				until = 0;
			mdb_txn_abort(txn);
		}
	}
	if (until && step && t <= until) {
		t = s->created + (t - s->created) / step * step;
		if (t < earliest(s, now))
			return PITR_OUTOFRANGE;
	}
	if (p.mode == PITR_PERIODIC) {
		t = s->created + (t - s->created) / p.interval * p.interval;
		if (t < earliest(s, now))
			return PITR_OUTOFRANGE;
	}
	/* one critical section: no writer may take a timestamp <= t between
	 * the wait and the floor */
	pthread_mutex_lock(&s->clock_mtx);
	while (s->pending_ts && s->pending_ts <= t)
		pthread_cond_wait(&s->clock_cond, &s->clock_mtx);
	if (s->read_floor < t)
		s->read_floor = t;
	pthread_mutex_unlock(&s->clock_mtx);
	if (!(s->flags & PITR_OPEN_DAEMON) && t >= last_ts(s)) {
		int rc = floor_barrier(s, t);
		if (rc)
			return rc;
	}
	*at = t;
	return 0;
}

int pitr_store_resolve(pitr_store *s, const char *text, size_t len,
		       uint64_t *at)
{
	uint64_t t;
	int rc = pitr_time_parse(text, len, pitr_store_now(s), &t);

	return rc ? rc : pitr_store_resolve_ns(s, t, at);
}
