/*
 * restore_source.c - build the source account of the restore benchmark:
 * N documents of about 1 KB in 10 containers of 2 databases, 10% of them
 * with 10 versions. Prints the instant after the last write.
 *
 *   restore_source STORE N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pitr.h"

static const char *const words[] = {
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
	"hotel", "india", "juliet", "kilo", "lima", "mike", "november",
	"oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform",
	"victor", "whiskey", "xray", "yankee", "zulu", "order", "customer",
	"shipped", "pending", "invoice", "warehouse",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A realistic document of about 1 KB. */
static size_t make_doc(char *buf, size_t size, long id, int version)
{
	size_t n = (size_t)snprintf(buf, size,
		"{\"id\":\"doc-%ld\",\"version\":%d,\"customer\":{\"name\":\"%s %s\","
		"\"city\":\"%s\",\"score\":%llu},\"total\":%llu.%02llu,\"lines\":[",
		id, version, words[next() % NWORDS], words[next() % NWORDS],
		words[next() % NWORDS], (unsigned long long)(next() % 1000),
		(unsigned long long)(next() % 10000),
		(unsigned long long)(next() % 100));
	for (int i = 0; n < 900; i++)
		n += (size_t)snprintf(buf + n, size - n,
			"%s{\"sku\":\"%s-%llu\",\"qty\":%llu,\"note\":\"%s %s %s\"}",
			i ? "," : "", words[next() % NWORDS],
			(unsigned long long)(next() % 100000),
			(unsigned long long)(next() % 20), words[next() % NWORDS],
			words[next() % NWORDS], words[next() % NWORDS]);
	n += (size_t)snprintf(buf + n, size - n, "]}");
	return n;
}

int main(int argc, char *argv[])
{
	pitr_config cfg = { 0 };
	uint64_t db[2], ct[10];
	char body[2048], id[32], when[PITR_TIME_LEN];
	pitr_store *s;
	pitr_txn *t;
	long n;
	int rc;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: restore_source STORE N\n");
		return 2;
	}
	pitr_policy_default(&cfg.policy);
	if ((rc = pitr_store_create(argv[1], &cfg)) ||
	    (rc = pitr_store_open(argv[1], PITR_OPEN_NOSYNC, &s)) ||
	    (rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t))) {
		fprintf(stderr, "restore_source: %s\n", pitr_strerror(rc));
		return 1;
	}
	pitr_db_create(t, "shop", 4, &db[0]);
	pitr_db_create(t, "crm", 3, &db[1]);
	for (int i = 0; i < 10; i++) {
		char name[16];
		int len = snprintf(name, sizeof(name), "c%d", i);
		pitr_ct_create(t, db[i % 2], name, (size_t)len, &ct[i]);
	}
	/* Versions 2..10 of every tenth document come in later rounds, so
	 * history interleaves as it would in a real account. */
	for (int round = 0; round < 10 && !rc; round++) {
		for (long i = 0; i < n && !rc; i++) {
			if (round && i % 10)
				continue;
			int len = snprintf(id, sizeof(id), "doc-%08ld", i);
			size_t blen = make_doc(body, sizeof(body), i, round);
			rc = pitr_doc_put(t, ct[i % 10], id, (size_t)len, body,
					  blen);
			if (!rc && i % 1000 == 999) {
				rc = pitr_txn_commit(t, NULL);
				if (!rc)
					rc = pitr_txn_begin(s, PITR_TXN_WRITE,
							    &t);
			}
		}
	}
	if (!rc)
		rc = pitr_txn_commit(t, NULL);
	if (!rc)
		rc = pitr_store_sync(s);
	if (rc) {
		fprintf(stderr, "restore_source: %s\n", pitr_strerror(rc));
		return 1;
	}
	printf("%s\n", pitr_time_format(pitr_store_now(s), when));
	pitr_store_close(s);
	return 0;
}
