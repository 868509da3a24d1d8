/*
 * format1.c - write an account in on-disk format 1, as releases before
 * format 2 wrote it: the same tables, but the live table without the
 * LIVE_LEFT marks (when a document last left a container), and "format"
 * 1 in meta. The code still reads and writes such accounts; this makes
 * one to test that it does. Given FORMAT (1 to 5), the account is of
 * that format instead: format 4's is as the builds before format 5 made
 * it, its versions table plain; format 5's as the builds before format 6,
 * its deltas in compact records.
 *
 *   format1 STORE [FORMAT]
 *
 * STORE must not exist. Writes, each in its own commit:
 *   T1: database shop, containers orders and users; orders/o1..o3,
 *       users/u1
 *   T2: o1 replaced, o2 deleted, users/u1 renamed to users/u9
 *   T3: container users renamed to people; database crm with container
 *       leads, leads/l1
 *   T4: leads/l1 deleted, container leads and database crm deleted
 * and prints "T1 T2 T3 T4" (RFC 3339) on one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

static int put(pitr_txn *t, uint64_t ct, const char *id, const char *body)
{
	return pitr_doc_put(t, ct, id, strlen(id), body, strlen(body));
}

int main(int argc, char **argv)
{
	char tb[4][PITR_TIME_LEN];
	uint64_t ts[4], shop, orders, users, crm, leads;
	pitr_config cfg = { 0 };
	pitr_store *s;
	pitr_txn *t;
	int rc;

	unsigned format = argc == 3 ? (unsigned)atoi(argv[2]) : 1;
	if (argc < 2 || argc > 3 || format < 1 || format > 5) {
		fprintf(stderr, "usage: format1 STORE [FORMAT]\n");
		return 2;
	}
	pitr_policy_default(&cfg.policy);
	if ((rc = pitr_store_create(argv[1], &cfg)) ||
	    (rc = pitr_store_open(argv[1], 0, &s))) {
		fprintf(stderr, "format1: %s\n", pitr_strerror(rc));
		return 1;
	}
	/* Format 1 (or FORMAT) from the first commit on. */
	if ((rc = store_set_format(s, format)) ||
	    (rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t)) ||
	    (rc = pitr_db_create(t, "shop", 4, &shop)) ||
	    (rc = pitr_ct_create(t, shop, "orders", 6, &orders)) ||
	    (rc = pitr_ct_create(t, shop, "users", 5, &users)) ||
	    (rc = put(t, orders, "o1", "{\"n\": 1}")) ||
	    (rc = put(t, orders, "o2", "{\"n\": 2}")) ||
	    (rc = put(t, orders, "o3", "{\"n\": 3}")) ||
	    (rc = put(t, users, "u1", "{\"u\": 1}")) ||
	    (rc = pitr_txn_commit(t, &ts[0])))
		goto fail;
	if ((rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t)) ||
	    (rc = put(t, orders, "o1", "{\"n\": 1, \"v\": 2}")) ||
	    (rc = pitr_doc_delete(t, orders, "o2", 2)) ||
	    (rc = pitr_doc_rename(t, users, "u1", 2, users, "u9", 2)) ||
	    (rc = pitr_txn_commit(t, &ts[1])))
		goto fail;
	if ((rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t)) ||
	    (rc = pitr_ct_rename(t, shop, "users", 5, shop, "people", 6)) ||
	    (rc = pitr_db_create(t, "crm", 3, &crm)) ||
	    (rc = pitr_ct_create(t, crm, "leads", 5, &leads)) ||
	    (rc = put(t, leads, "l1", "{\"l\": 1}")) ||
	    (rc = pitr_txn_commit(t, &ts[2])))
		goto fail;
	if ((rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t)) ||
	    (rc = pitr_doc_delete(t, leads, "l1", 2)) ||
	    (rc = pitr_ct_delete(t, crm, "leads", 5)) ||
	    (rc = pitr_db_delete(t, "crm", 3)) ||
	    (rc = pitr_txn_commit(t, &ts[3])))
		goto fail;
	if ((rc = pitr_store_sync(s)))
		goto out;
	pitr_store_close(s);
	for (int i = 0; i < 4; i++)
		pitr_time_format(ts[i], tb[i]);
	printf("%s %s %s %s\n", tb[0], tb[1], tb[2], tb[3]);
	return 0;
fail: /* the transaction ended or not, the process does */
out:
	fprintf(stderr, "format1: %s\n", pitr_strerror(rc));
	return 1;
}
