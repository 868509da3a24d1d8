/*
 * test_group.c - group commit: changes committed at the same time share one
 * transaction (one timestamp); one per key; a failing change fails alone.
 * White-box only to see how many changes wait in the queue.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../core/internal.h"
#include "tap.h"

#define WAITERS 6

static char dir[256];
static pitr_store *st;
static uint64_t ct;

/* A change: put `body` as document `id`; optionally wait at a gate first. */
struct change {
	const char *id;
	const char *body;
	const char *key; /* NULL: the id */
	int gated;
	int rc;
	uint64_t ts;
	pthread_t th;
};

static pthread_mutex_t gate_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open, gate_reached;

static int apply(pitr_txn *t, void *arg)
{
	struct change *c = arg;

	if (c->gated) {
		pthread_mutex_lock(&gate_mtx);
		gate_reached = 1;
		pthread_cond_broadcast(&gate_cond);
		while (!gate_open)
			pthread_cond_wait(&gate_cond, &gate_mtx);
		pthread_mutex_unlock(&gate_mtx);
	}
	return pitr_doc_put(t, ct, c->id, strlen(c->id), c->body,
			    strlen(c->body));
}

static void *commit(void *arg)
{
	struct change *c = arg;
	const char *key = c->key ? c->key : c->id;

	c->rc = pitr_group_commit(st, apply, c, key, strlen(key), &c->ts);
	return NULL;
}

/* Wait, 10 s at most, until `n` changes wait in the queue. */
static int wait_queued(int n)
{
	for (int i = 0; i < 10000; i++) {
		if (group_queued(st) >= n)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void wait_gate_reached(void)
{
	pthread_mutex_lock(&gate_mtx);
	while (!gate_reached)
		pthread_cond_wait(&gate_cond, &gate_mtx);
	pthread_mutex_unlock(&gate_mtx);
}

static void open_gate(int open)
{
	pthread_mutex_lock(&gate_mtx);
	gate_open = open;
	gate_reached = 0;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_mtx);
}

/* The body of `id` at `at`, "" if none. */
static const char *body_at(const char *id, uint64_t at)
{
	static char buf[256];
	pitr_txn *t;
	void *b;
	size_t len;

	buf[0] = 0;
	if (pitr_txn_begin(st, PITR_TXN_READ, &t))
		return buf;
	if (!pitr_doc_get(t, ct, id, strlen(id), at, NULL, &b, &len)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)len, (char *)b);
		free(b);
	}
	pitr_txn_abort(t);
	return buf;
}

/*
 * The leader is held inside its change until the others have queued
 * behind it; then they commit as one batch.
 */
static void run_held(struct change *lead, struct change *rest, int n)
{
	open_gate(0);
	lead->gated = 1;
	pthread_create(&lead->th, NULL, commit, lead);
	wait_gate_reached();
	for (int i = 0; i < n; i++)
		pthread_create(&rest[i].th, NULL, commit, &rest[i]);
	ok(wait_queued(n), "%d changes queued behind the leader", n);
	open_gate(1);
	pthread_join(lead->th, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(rest[i].th, NULL);
}

int main(void)
{
	char path[300];
	pitr_config cfg = { 0 };
	pitr_txn *t;
	uint64_t db;

	snprintf(dir, sizeof(dir), "/tmp/pitr-group.XXXXXX");
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

	/* alone */
	struct change one = { .id = "one", .body = "{\"v\":1}" };
	commit(&one);
	is_int(one.rc, 0, "a change alone commits");
	ok(one.ts > 0 && !strcmp(body_at("one", one.ts), "{\"v\":1}"),
	   "visible at the timestamp it returned");
	ok(!strcmp(body_at("one", one.ts - 1), ""), "and not before");

	/* a batch */
	static const char *ids[WAITERS] = { "a", "b", "c", "d", "e", "f" };
	struct change lead = { .id = "lead", .body = "{\"l\":1}" };
	struct change rest[WAITERS];
	for (int i = 0; i < WAITERS; i++)
		rest[i] = (struct change){ .id = ids[i], .body = "{\"w\":1}" };
	run_held(&lead, rest, WAITERS);
	int all = lead.rc == 0, same = 1;
	for (int i = 0; i < WAITERS; i++) {
		all &= rest[i].rc == 0 &&
		       !strcmp(body_at(ids[i], rest[i].ts), "{\"w\":1}");
		same &= rest[i].ts == rest[0].ts;
	}
	ok(all, "every change of the batch committed, visible at its ts");
	ok(same && rest[0].ts > lead.ts,
	   "the %d queued changes share one transaction, after the leader's",
	   WAITERS);

	/* one per key: two versions of one document are two transactions */
	struct change v1 = { .id = "lead", .body = "{\"l\":2}" };
	struct change same_key[2] = {
		{ .id = "k", .body = "{\"k\":1}" },
		{ .id = "k", .body = "{\"k\":2}" },
	};
	/* queue the two in order: the second once the first waits */
	open_gate(0);
	v1.gated = 1;
	pthread_create(&v1.th, NULL, commit, &v1);
	wait_gate_reached();
	pthread_create(&same_key[0].th, NULL, commit, &same_key[0]);
	ok(wait_queued(1), "first version queued");
	pthread_create(&same_key[1].th, NULL, commit, &same_key[1]);
	ok(wait_queued(2), "second version queued");
	open_gate(1);
	pthread_join(v1.th, NULL);
	pthread_join(same_key[0].th, NULL);
	pthread_join(same_key[1].th, NULL);
	ok(same_key[0].rc == 0 && same_key[1].rc == 0 &&
	       same_key[0].ts < same_key[1].ts,
	   "two versions of one key: two transactions, in queue order");
	ok(!strcmp(body_at("k", same_key[0].ts), "{\"k\":1}") &&
	       !strcmp(body_at("k", same_key[1].ts), "{\"k\":2}"),
	   "both versions are in history");

	/* a failing change fails alone */
	struct change lead2 = { .id = "lead", .body = "{\"l\":3}" };
	struct change mixed[3] = {
		{ .id = "good1", .body = "{\"g\":1}" },
		{ .id = "bad", .body = "[1, 2]" },
		{ .id = "good2", .body = "{\"g\":2}" },
	};
	run_held(&lead2, mixed, 3);
	is_int(mixed[1].rc, PITR_BADJSON, "the bad change gets its own error");
	ok(mixed[0].rc == 0 && mixed[2].rc == 0 &&
	       !strcmp(body_at("good1", PITR_NOW), "{\"g\":1}") &&
	       !strcmp(body_at("good2", PITR_NOW), "{\"g\":2}"),
	   "the others of its batch commit");
	ok(!strcmp(body_at("bad", PITR_NOW), ""), "the bad one is not stored");

	pitr_store_close(st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path))
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
