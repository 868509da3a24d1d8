/*
 * prune_bench.c - pruning a window of N expired versions: versions/s, and
 * the longest a writer waited meanwhile (a thread commits one document at
 * a time and times each commit).
 *
 *   prune_bench STORE DOCS VERSIONS
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pitr.h"

static pitr_store *s;
static uint64_t ct;
static atomic_int stop;
static double worst, writes;

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *writer(void *arg)
{
	char body[64];
	pitr_txn *t;

	(void)arg;
	for (int i = 0; !atomic_load(&stop); i++) {
		int n = snprintf(body, sizeof(body), "{\"w\":%d}", i);
		double t0 = mono();
		if (pitr_txn_begin(s, PITR_TXN_WRITE, &t))
			break;
		pitr_doc_put(t, ct, "writer", 6, body, (size_t)n);
		pitr_txn_commit(t, NULL);
		double dt = mono() - t0;
		if (dt > worst)
			worst = dt;
		writes++;
	}
	return NULL;
}

int main(int argc, char *argv[])
{
	pitr_config cfg = { 0 };
	pitr_prune_stats st;
	pthread_t th;
	char id[32], body[1100];
	uint64_t db;
	pitr_txn *t;

	if (argc != 4)
		return 2;
	long docs = atol(argv[2]), versions = atol(argv[3]);
	pitr_policy_default(&cfg.policy);
	cfg.policy.retention = 3600 * PITR_NS_PER_SEC;
	if (pitr_store_create(argv[1], &cfg) ||
	    pitr_store_open(argv[1], PITR_OPEN_NOSYNC, &s))
		return 1;
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	for (long v = 0, n = 0; v < versions; v++)
		for (long i = 0; i < docs; i++, n++) {
			int len = snprintf(id, sizeof(id), "doc-%08ld", i);
			int blen = snprintf(body, sizeof(body),
					    "{\"v\":%ld,\"pad\":\"%0900ld\"}",
					    v, i * 7919 + v);
			pitr_doc_put(t, ct, id, (size_t)len, body, (size_t)blen);
			if (n % 1000 == 999) {
				pitr_txn_commit(t, NULL);
				pitr_txn_begin(s, PITR_TXN_WRITE, &t);
			}
		}
	pitr_txn_commit(t, NULL);
	pitr_store_sync(s);

	uint64_t now = pitr_store_now(s) + cfg.policy.retention + 1;
	pthread_create(&th, NULL, writer, NULL);
	double t0 = mono();
	int rc = pitr_prune(s, now, 0, &st);
	double dt = mono() - t0;
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	if (rc) {
		fprintf(stderr, "prune: %s\n", pitr_strerror(rc));
		return 1;
	}
	printf("  pruned %llu versions (%.0f MB) in %.2f s: %.0f versions/s\n",
	       (unsigned long long)st.versions, st.bytes / 1e6, dt,
	       st.versions / dt);
	printf("  a writer meanwhile: %.0f commits, longest wait %.1f ms\n",
	       writes, worst * 1e3);
	pitr_store_close(s);
	return 0;
}
