/*
 * test_prepared.c - prepared documents: checked, hashed and compressed
 * before the transaction; stored as pitr_doc_put() would store the body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "pitr.h"
#include "tap.h"

static pitr_store *st;
static uint64_t ct;

/* Put `p` as `id` in its own transaction. */
static int put(const char *id, const pitr_prepared *p)
{
	pitr_txn *t;
	int rc = pitr_txn_begin(st, PITR_TXN_WRITE, &t);

	if (rc)
		return rc;
	rc = pitr_doc_put_prepared(t, ct, id, strlen(id), p);
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, NULL);
}

/* Is `id` now exactly `want` (etag included)? */
static int stored_as(const char *id, const char *want, size_t len)
{
	pitr_txn *t;
	pitr_version v;
	void *b;
	size_t blen;
	int same;

	if (pitr_txn_begin(st, PITR_TXN_READ, &t))
		return 0;
	if (pitr_doc_get(t, ct, id, strlen(id), PITR_NOW, &v, &b, &blen)) {
		pitr_txn_abort(t);
		return 0;
	}
	pitr_txn_abort(t);
	same = blen == len && !memcmp(b, want, len) && v.size == len &&
	       v.etag == XXH3_64bits(want, len);
	free(b);
	return same;
}

int main(void)
{
	char dir[] = "/tmp/pitr-prepared.XXXXXX", path[64], err[160];
	pitr_config cfg = { 0 };
	pitr_prepared *p;
	pitr_txn *t;
	uint64_t db;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/s", dir);
	pitr_policy_default(&cfg.policy);
	cfg.max_doc_size = 4096;
	if (pitr_store_create(path, &cfg) || pitr_store_open(path, 0, &st))
		return 1;
	if (pitr_txn_begin(st, PITR_TXN_WRITE, &t) ||
	    pitr_db_create(t, "db", 2, &db) ||
	    pitr_ct_create(t, db, "ct", 2, &ct) || pitr_txn_commit(t, NULL))
		return 1;

	/* small: stored raw; the caller's buffer may change afterwards */
	char small[] = "{\"a\":1}";
	is_int(pitr_doc_prepare(st, 0, NULL, 0, small, strlen(small), err,
				sizeof(err), &p),
	       0, "a small object is prepared");
	small[5] = '2';
	is_int(put("s", p), 0, "and put");
	ok(stored_as("s", "{\"a\":1}", 7),
	   "stored as given at preparation, with its etag");
	is_int(put("s2", p), 0, "a prepared body may be put twice");
	ok(stored_as("s2", "{\"a\":1}", 7), "the second put stores it too");
	pitr_prepared_free(p);

	/* compressible: stored lz4, read back whole */
	char big[3000];
	int n = snprintf(big, sizeof(big), "{\"pad\":\"");
	memset(big + n, 'x', 2900);
	n += 2900;
	n += snprintf(big + n, sizeof(big) - (size_t)n, "\"}");
	is_int(pitr_doc_prepare(st, 0, NULL, 0, big, (size_t)n, err,
				sizeof(err), &p),
	       0, "a compressible object is prepared");
	memset(big + 8, 'y', 10);
	is_int(put("big", p), 0, "and put");
	memset(big + 8, 'x', 10);
	ok(stored_as("big", big, (size_t)n), "read back whole");
	pitr_prepared_free(p);

	/* refusals */
	p = (pitr_prepared *)1;
	is_int(pitr_doc_prepare(st, 0, NULL, 0, "[1]", 3, err, sizeof(err), &p),
	       PITR_BADJSON, "an array is refused");
	ok(p == NULL && *err, "with no document and a detail: %s", err);
	char huge[5000];
	memset(huge, ' ', sizeof(huge));
	huge[0] = '{';
	huge[sizeof(huge) - 1] = '}';
	is_int(pitr_doc_prepare(st, 0, NULL, 0, huge, sizeof(huge), err,
				sizeof(err), &p),
	       PITR_TOOBIG, "over the size limit: refused");
	is_int(pitr_doc_prepare(st, 0, NULL, 0, "{}", 2, err, sizeof(err), &p),
	       0, "an empty object is prepared");
	if (pitr_txn_begin(st, PITR_TXN_WRITE, &t))
		return 1;
	is_int(pitr_doc_put_prepared(t, ct + 1000, "x", 1, p), PITR_NOTFOUND,
	       "into no container: PITR_NOTFOUND");
	is_int(pitr_doc_put_prepared(t, ct, "a/b", 3, p), PITR_BADNAME,
	       "under a bad name: PITR_BADNAME");
	pitr_txn_abort(t);
	pitr_prepared_free(p);
	pitr_prepared_free(NULL);

	pitr_store_close(st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path))
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
