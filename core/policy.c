/*
 * policy.c - the backup policy: its default, its validity check, and the
 * account's policy read (as last refreshed by the clock) and changed in
 * one write transaction. A change from continuous to periodic is
 * refused; from periodic to continuous records the boundaries kept.
 */

#include "internal.h"

void pitr_policy_default(pitr_policy *p)
{
	p->mode = PITR_CONTINUOUS;
	p->retention = 30ull * 86400 * PITR_NS_PER_SEC;
	p->interval = 0;
}

int pitr_policy_check(const pitr_policy *p)
{
	if (p->retention == 0)
		return PITR_BADPOLICY;
	if (p->mode == PITR_CONTINUOUS)
		return p->interval == 0 ? 0 : PITR_BADPOLICY;
	if (p->mode != PITR_PERIODIC || p->interval == 0)
		return PITR_BADPOLICY;
	return p->retention / 2 >= p->interval ? 0 : PITR_BADPOLICY;
}

pitr_policy policy_of(pitr_store *s)
{
	pitr_policy p;

	pthread_mutex_lock(&s->clock_mtx);
	p = s->policy;
	pthread_mutex_unlock(&s->clock_mtx);
	return p;
}

int pitr_store_policy(pitr_store *s, pitr_policy *p)
{
	pitr_store_now(s);
	*p = policy_of(s);
	return 0;
}

int pitr_store_set_policy(pitr_store *s, const pitr_policy *p)
{
	unsigned char b[POLICY_VAL];
	pitr_policy old;
	MDB_txn *txn;
	MDB_val v;
	int rc;

	if ((rc = pitr_policy_check(p)))
		return rc;
	rc = mdb_rc(mdb_txn_begin(s->env, NULL, 0, &txn));
	if (rc)
		return rc;
	rc = meta_get(txn, s->meta, "policy", &v);
	if (!rc)
		rc = policy_decode(&v, &old);
	/* Periodic history has gaps that continuous mode would not have. */
	if (!rc && old.mode == PITR_CONTINUOUS && p->mode == PITR_PERIODIC)
		rc = PITR_BADPOLICY;
	/* The history kept so far has only its boundaries: instants up to
	 * now keep resolving to them. */
	if (!rc && old.mode == PITR_PERIODIC && p->mode == PITR_CONTINUOUS) {
		rc = meta_put64(txn, s->meta, "periodic_until", pitr_clock());
		if (!rc)
			rc = meta_put64(txn, s->meta, "periodic_interval",
					old.interval);
	}
	policy_encode(b, p);
	if (!rc)
		rc = meta_put(txn, s->meta, "policy", b, sizeof(b));
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_rc(mdb_txn_commit(txn));
	if (!rc) {
		pthread_mutex_lock(&s->clock_mtx);
		s->policy = *p;
		pthread_mutex_unlock(&s->clock_mtx);
	}
	return rc;
}
