/*
 * txn.c - transactions over the account: a write transaction takes a
 * timestamp strictly above every commit and every instant already shown,
 * and marks it pending until its commit or abort, so readers of that
 * instant wait for it; commit stores last_ts and next_inc when changed.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

int pitr_txn_begin(pitr_store *s, int write, pitr_txn **out)
{
	pitr_txn *t;
	int rc;

	if (write && (s->flags & PITR_OPEN_RDONLY))
		return PITR_RDONLY;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->s = s;
	rc = mdb_rc(
	    mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn));
	if (rc)
		goto out_free;
	if (write) {
		uint64_t last, now = pitr_clock();
		rc = meta_get64(t->txn, s->meta, "last_ts", &last);
		if (!rc)
			rc = meta_get64(t->txn, s->meta, "next_inc",
					&t->next_inc);
		if (rc) {
			mdb_txn_abort(t->txn);
			goto out_free;
		}
		/* Strictly increasing even when the wall clock steps back,
		 * and after every instant a view has already shown, here or
		 * in another process (the stored floor). */
		t->ts = now > last ? now : last + 1;
		uint64_t floor;
		if (meta_get64(t->txn, s->meta, "read_floor", &floor) == 0 &&
		    t->ts <= floor)
			t->ts = floor + 1;
		pthread_mutex_lock(&s->clock_mtx);
		if (t->ts <= s->read_floor)
			t->ts = s->read_floor + 1;
		s->pending_ts = t->ts;
		int check = now - s->readers_checked >= PITR_NS_PER_SEC;
		if (check)
			s->readers_checked = now;
		pthread_mutex_unlock(&s->clock_mtx);
		/* Free the reader slots of processes that died inside a read
		 * (a pitr restore killed): while one holds its snapshot, LMDB
		 * reuses no page freed since, and the file grows with every
		 * write. At most once a second. */
		int dead;
		if (check)
			mdb_reader_check(s->env, &dead);
	}
	*out = t;
	return 0;
out_free:
	free(t);
	return rc;
}

static void txn_done(pitr_txn *t)
{
	if (t->ts) {
		/* The writer lock is already released: the next writer may have
		 * set its own mark, which is not ours to clear. */
		pthread_mutex_lock(&t->s->clock_mtx);
		if (t->s->pending_ts == t->ts)
			t->s->pending_ts = 0;
		pthread_cond_broadcast(&t->s->clock_cond);
		pthread_mutex_unlock(&t->s->clock_mtx);
	}
	free(t);
}

int pitr_txn_commit(pitr_txn *t, uint64_t *ts)
{
	int rc = 0;

	if (t->ts && (t->idx || t->dirty_meta)) {
		rc = meta_put64(t->txn, t->s->meta, "last_ts", t->ts);
		if (!rc && t->dirty_meta)
			rc = meta_put64(t->txn, t->s->meta, "next_inc",
					t->next_inc);
	}
	if (rc)
		mdb_txn_abort(t->txn);
	else
		rc = write_rc(dir_of(t->s), mdb_txn_commit(t->txn));
	if (ts)
		*ts = t->ts;
	txn_done(t);
	return rc;
}

void pitr_txn_abort(pitr_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	txn_done(t);
}

uint64_t pitr_txn_ts(const pitr_txn *t)
{
	return t->ts;
}

const char *pitr_txn_error(const pitr_txn *t)
{
	return t->err;
}
