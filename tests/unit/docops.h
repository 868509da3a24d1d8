/*
 * docops.h - one-write transactions the unit tests share: put or delete a
 * document and commit, returning the commit time in *ts.
 */
#ifndef DOCOPS_H
#define DOCOPS_H

#include <stdint.h>
#include <string.h>

#include "pitr.h"

static inline int put(pitr_store *s, uint64_t ct, const char *id,
		      const char *body, uint64_t *ts)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (rc)
		return rc;
	rc = pitr_doc_put(t, ct, id, strlen(id), body, strlen(body));
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, ts);
}

static inline int del(pitr_store *s, uint64_t ct, const char *id, uint64_t *ts)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (rc)
		return rc;
	rc = pitr_doc_delete(t, ct, id, strlen(id));
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, ts);
}

#endif
