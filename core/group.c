/*
 * group.c - group commit: the changes of threads that commit at the same
 * time share one write transaction, so one fdatasync makes them all
 * durable.
 *
 * A caller queues its change and waits. If no thread is committing, it
 * becomes the leader: it takes every change queued (at most one per key,
 * so that no version replaces another of the same file within one
 * transaction), applies them in one transaction and commits it; the
 * others wait on a condition until the leader marks theirs done. Changes
 * queued while a leader commits form the next batch, led by one of their
 * callers. Should any change of a batch fail, or its commit, the batch is
 * undone and each change runs again in a transaction of its own, so that a
 * change fails only for its own reasons.
 *
 * Nothing here knows what a change does: it is a function over a write
 * transaction, as the caller would have run it between pitr_txn_begin()
 * and pitr_txn_commit().
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

struct group_req {
	struct group_req *next;
	pitr_apply_fn fn;
	void *arg;
	const void *key;
	size_t keylen;
	int rc;
	int done;
	uint64_t ts;
};

static int same_key(const struct group_req *a, const struct group_req *b)
{
	return a->keylen == b->keylen &&
	       (!a->keylen || !memcmp(a->key, b->key, a->keylen));
}

/* One change alone: its own transaction. */
static void run_alone(pitr_store *s, struct group_req *r)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (!rc) {
		rc = r->fn(t, r->arg);
		if (rc)
			pitr_txn_abort(t);
		else
			rc = pitr_txn_commit(t, &r->ts);
	}
	r->rc = rc;
}

/* A batch: one transaction for all, else each alone. */
static void run_batch(pitr_store *s, struct group_req *batch)
{
	pitr_txn *t;
	uint64_t ts = 0;
	int rc;

	if (!batch->next) {
		run_alone(s, batch);
		return;
	}
	rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	if (!rc) {
		for (struct group_req *r = batch; r && !rc; r = r->next)
			rc = r->fn(t, r->arg);
		if (rc)
			pitr_txn_abort(t);
		else
			rc = pitr_txn_commit(t, &ts);
	}
	for (struct group_req *r = batch; r; r = r->next) {
		if (rc) {
			run_alone(s, r);
		} else {
			r->rc = 0;
			r->ts = ts;
		}
	}
}

/* Take the queue's first change of each key as a batch; group_mtx held. */
static struct group_req *take_batch(pitr_store *s)
{
	struct group_req **pp, *batch = NULL, **tail = &batch;

	for (pp = &s->group_head; *pp;) {
		struct group_req *r = *pp, *b;
		for (b = batch; b && !same_key(b, r); b = b->next)
			;
		if (b) { /* its key's earlier change first: next batch */
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		r->next = NULL;
		*tail = r;
		tail = &r->next;
	}
	s->group_tail = pp;
	return batch;
}

int pitr_group_commit(pitr_store *s, pitr_apply_fn fn, void *arg,
		      const void *key, size_t keylen, uint64_t *ts)
{
	struct group_req me = {
		.fn = fn, .arg = arg, .key = key, .keylen = keylen
	};

	pthread_mutex_lock(&s->group_mtx);
	*s->group_tail = &me;
	s->group_tail = &me.next;
	while (!me.done) {
		if (s->group_leading) {
			pthread_cond_wait(&s->group_cond, &s->group_mtx);
			continue;
		}
		s->group_leading = 1;
		struct group_req *batch = take_batch(s);
		pthread_mutex_unlock(&s->group_mtx);
		run_batch(s, batch);
		pthread_mutex_lock(&s->group_mtx);
		/* Once done, a change's caller may return: read on first. */
		for (struct group_req *r = batch, *next; r; r = next) {
			next = r->next;
			r->done = 1;
		}
		s->group_leading = 0;
		pthread_cond_broadcast(&s->group_cond);
	}
	pthread_mutex_unlock(&s->group_mtx);
	if (ts)
		*ts = me.ts;
	return me.rc;
}

int group_queued(pitr_store *s)
{
	int n = 0;

	pthread_mutex_lock(&s->group_mtx);
	for (struct group_req *r = s->group_head; r; r = r->next)
		n++;
	pthread_mutex_unlock(&s->group_mtx);
	return n;
}
