/*
 * test_prune.c - retention: what pruning removes, what it keeps, and that
 * pruned instants are refused rather than shown wrong. Time is simulated
 * by the `now` given to pitr_prune().
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pitr.h"
#include "tap.h"

#define SEC	  PITR_NS_PER_SEC
#define RETENTION (3600 * SEC)

static char dir[64];

struct count {
	int n, puts, dels;
	uint64_t last;
};

static int counter(const pitr_mutation *m, void *arg)
{
	struct count *c = arg;

	c->n++;
	c->puts += m->op == PITR_OP_DOC_PUT || m->op == PITR_OP_CT_CREATE ||
		   m->op == PITR_OP_DB_CREATE;
	c->dels += m->op == PITR_OP_DOC_DELETE || m->op == PITR_OP_CT_DELETE ||
		   m->op == PITR_OP_DB_DELETE;
	c->last = m->ts;
	return 0;
}

static struct count versions(pitr_store *s, uint64_t ct, const char *id)
{
	struct count c = { 0 };
	pitr_txn *t;

	pitr_txn_begin(s, PITR_TXN_READ, &t);
	pitr_doc_walk(t, ct, id, strlen(id), counter, &c);
	pitr_txn_abort(t);
	return c;
}

static struct count names(pitr_store *s, uint64_t db, const char *name)
{
	struct count c = { 0 };
	pitr_txn *t;

	pitr_txn_begin(s, PITR_TXN_READ, &t);
	pitr_name_walk(t, db, name, strlen(name), counter, &c);
	pitr_txn_abort(t);
	return c;
}

static uint64_t put(pitr_store *s, uint64_t ct, const char *id,
		    const char *body)
{
	pitr_txn *t;
	uint64_t ts = 0;

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	if (pitr_doc_put(t, ct, id, strlen(id), body, strlen(body)))
		pitr_txn_abort(t);
	else
		pitr_txn_commit(t, &ts);
	return ts;
}

static int get(pitr_store *s, uint64_t ct, const char *id, uint64_t at,
	       char *buf, size_t size)
{
	pitr_txn *t;
	void *body;
	size_t len;
	int rc;

	buf[0] = 0;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	rc = pitr_doc_get(t, ct, id, strlen(id), at, NULL, &body, &len);
	pitr_txn_abort(t);
	if (!rc) {
		snprintf(buf, size, "%.*s", (int)len, (char *)body);
		free(body);
	}
	return rc;
}

/* Periodic mode: only what an interval boundary shows is kept. */
static void test_periodic(void)
{
	pitr_config cfg = { 0 };
	pitr_prune_stats st;
	pitr_info info;
	uint64_t db, ct, c2, at;
	char path[128], buf[64];
	pitr_store *s;
	pitr_txn *t;

	snprintf(path, sizeof(path), "%s/p", dir);
	cfg.policy.mode = PITR_PERIODIC;
	cfg.policy.interval = 10 * SEC;
	cfg.policy.retention = 100 * SEC;
	if (pitr_store_create(path, &cfg) || pitr_store_open(path, 0, &s))
		return;
	pitr_store_info(s, &info);
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	pitr_ct_create(t, db, "brief", 5, &c2);
	pitr_txn_commit(t, NULL);
	/* all within the first interval: only the last is seen at c+10s */
	put(s, ct, "x", "{\"x\":1}");
	put(s, ct, "x", "{\"x\":2}");
	put(s, ct, "x", "{\"x\":3}");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_ct_delete(t, db, "brief", 5);
	pitr_txn_commit(t, NULL);

	is_int(pitr_prune(s, info.created + 25 * SEC, 0, &st), 0,
	       "periodic: prune at the third interval");
	is_int(st.versions, 2, "periodic: two versions no boundary shows");
	is_int(versions(s, ct, "x").n, 1, "periodic: x keeps one version");
	is_int(names(s, db, "brief").n, 1,
	       "periodic: a container born and gone between boundaries "
	       "keeps only its delete");
	at = info.created + 10 * SEC;
	is_int(get(s, ct, "x", at, buf, sizeof(buf)), 0,
	       "periodic: x at the first boundary");
	ok(!strcmp(buf, "{\"x\":3}"), "periodic: it is the last version (%s)",
	   buf);
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	is_int(pitr_ct_lookup(t, at, db, "brief", 5, NULL), PITR_NOTFOUND,
	       "periodic: the brief container is absent at the boundary");
	pitr_txn_abort(t);
	is_int(pitr_prune(s, info.created + 25 * SEC, 0, &st), 0,
	       "periodic: prune again");
	is_int(st.versions + st.events, 0, "periodic: nothing more");

	/* media begun after that prune still replay: the brief container's
	 * delete arrives without its create */
	char media[128], replay[128];
	uint64_t n, complete;
	snprintf(media, sizeof(media), "%s/media", dir);
	snprintf(replay, sizeof(replay), "%s/replay", dir);
	mkdir(media, 0700);
	is_int(pitr_backup_set_dir(s, media), 0, "periodic: set media");
	is_int(pitr_backup_ship(s, 1, &n), 0, "periodic: ship");
	pitr_store_info(s, &info);
	is_int(pitr_backup_replay(media, replay, info.last_write, &complete), 0,
	       "periodic: the media replay");
	ok(complete >= info.last_write,
	   "periodic: complete up to the last write");
	pitr_store *r;
	if (pitr_store_open(replay, 0, &r) == 0) {
		is_int(get(r, ct, "x", PITR_NOW, buf, sizeof(buf)), 0,
		       "periodic: replayed x");
		ok(!strcmp(buf, "{\"x\":3}"), "periodic: as it is live");
		pitr_store_close(r);
	}
	pitr_store_destroy(replay);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", media);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", media);
	pitr_store_close(s);
	pitr_store_destroy(path);
}

static void nothing(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	(*(int *)arg)++;
}

/*
 * A prune killed at a random moment: the store stays whole, every read is
 * either refused or right, and the next prune finishes the job.
 */
static void test_killed_prune(int round)
{
	enum { DOCS = 50, VERSIONS = 300 };
	pitr_config cfg = { 0 };
	pitr_prune_stats st;
	uint64_t db, ct, mid = 0, records;
	char path[128], id[16], body[64], buf[64];
	pitr_store *s;
	pitr_txn *t;
	int problems = 0, status;

	snprintf(path, sizeof(path), "%s/k%d", dir, round);
	pitr_policy_default(&cfg.policy);
	cfg.policy.retention = RETENTION;
	if (pitr_store_create(path, &cfg) ||
	    pitr_store_open(path, PITR_OPEN_NOSYNC, &s))
		return;
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	for (int v = 0; v < VERSIONS; v++) {
		for (int i = 0; i < DOCS; i++) {
			snprintf(id, sizeof(id), "d%d", i);
			int n = snprintf(body, sizeof(body), "{\"v\":%d}", v);
			pitr_doc_put(t, ct, id, strlen(id), body, (size_t)n);
		}
		pitr_txn_commit(t, v == VERSIONS / 2 ? &mid : NULL);
		pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	}
	pitr_txn_abort(t);
	uint64_t until = pitr_store_now(s);
	pitr_store_sync(s);
	pitr_store_close(s);

	pid_t pid = fork();
	if (pid == 0) {
		if (pitr_store_open(path, 0, &s) == 0)
			pitr_prune(s, until + RETENTION, 0, &st);
		_exit(0);
	}
	/* kill it somewhere between its first and its last batch */
	struct timespec d = { 0, (long)(1 + round * 7) * 1000000L };
	nanosleep(&d, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	if (pitr_store_open(path, 0, &s))
		return;
	is_int(pitr_store_verify(s, nothing, &problems, &records), 0,
	       "killed prune: every record still whole");
	/* the middle instant: refused, or exactly version VERSIONS/2 */
	int rc = get(s, ct, "d7", mid, buf, sizeof(buf));
	snprintf(body, sizeof(body), "{\"v\":%d}", VERSIONS / 2);
	ok(rc == PITR_OUTOFRANGE || (rc == 0 && !strcmp(buf, body)),
	   "killed prune: the middle instant is refused or right (%d %s)", rc,
	   buf);
	is_int(pitr_prune(s, until + RETENTION, 0, &st), 0,
	       "killed prune: the next prune finishes");
	struct count c = versions(s, ct, "d7");
	is_int(c.n, 1, "killed prune: one version left per document");
	get(s, ct, "d7", PITR_NOW, buf, sizeof(buf));
	snprintf(body, sizeof(body), "{\"v\":%d}", VERSIONS - 1);
	ok(!strcmp(buf, body), "killed prune: the last version kept (%s)", buf);
	is_int(pitr_prune(s, until + RETENTION, 0, &st), 0,
	       "killed prune: and again");
	is_int(st.versions, 0, "killed prune: nothing left to do");
	pitr_store_close(s);
	pitr_store_destroy(path);
}

static int go_fd;

/* After 200 ms, tell the lock holder to let go. */
static void *release_later(void *arg)
{
	(void)arg;
	nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
	if (write(go_fd, "g", 1) != 1)
		return NULL;
	return NULL;
}

/*
 * One pruner at a time across processes: while another process holds the
 * prune lock (a write lock on the first byte of daemon.lock, held by its
 * open file description), pitr_prune() waits. The holder writes 'R' to a
 * pipe just before it lets go, so a prune that waited finds the 'R'; one
 * that did not wait returns long before the holder is told to let go.
 */
static void test_prune_lock(void)
{
	int lk[2], go[2], rel[2];
	char path[128], lock[160], c = 0;
	pitr_config cfg = { 0 };
	pitr_prune_stats st;
	pitr_store *s;
	pthread_t th;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/l", dir);
	snprintf(lock, sizeof(lock), "%s/daemon.lock", path);
	pitr_policy_default(&cfg.policy);
	if (pitr_store_create(path, &cfg) || pitr_store_open(path, 0, &s) ||
	    pipe(lk) || pipe(go) || pipe(rel)) {
		ok(0, "prune lock: set up");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK,
				    .l_whence = SEEK_SET,
				    .l_len = 1 };
		int fd = open(lock, O_RDWR | O_CREAT, 0600);
		if (fd < 0 || fcntl(fd, F_OFD_SETLK, &fl))
			_exit(1);
		if (write(lk[1], "L", 1) != 1 || read(go[0], &c, 1) != 1 ||
		    write(rel[1], "R", 1) != 1)
			_exit(1);
		_exit(0); /* the lock goes with the process */
	}
	ok(read(lk[0], &c, 1) == 1 && c == 'L',
	   "prune lock: held by another process");
	go_fd = go[1];
	pthread_create(&th, NULL, release_later, NULL);
	is_int(pitr_prune(s, pitr_store_now(s), 0, &st), 0,
	       "prune lock: the prune ends once it is released");
	fcntl(rel[0], F_SETFL, O_NONBLOCK);
	c = 0;
	ok(read(rel[0], &c, 1) == 1 && c == 'R',
	   "prune lock: the prune waited for the other pruner");
	pthread_join(th, NULL);
	int status = 1;
	waitpid(pid, &status, 0);
	is_int(status, 0, "prune lock: the holder ended well");
	close(lk[0]), close(lk[1]), close(go[0]), close(go[1]);
	close(rel[0]), close(rel[1]);
	pitr_store_close(s);
	pitr_store_destroy(path);
}

int main(void)
{
	pitr_config cfg = { 0 };
	pitr_prune_stats st, dry;
	uint64_t db, ct, ct2, t1, t2, t3, inc;
	char path[128], buf[64];
	pitr_store *s;
	pitr_txn *t;

	snprintf(dir, sizeof(dir), "/tmp/pitr-prune-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/s", dir);
	pitr_policy_default(&cfg.policy);
	cfg.policy.retention = RETENTION;
	if (pitr_store_create(path, &cfg) || pitr_store_open(path, 0, &s))
		return 1;

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "d", 1, &db);
	pitr_ct_create(t, db, "c", 1, &ct);
	pitr_ct_create(t, db, "gone", 4, &ct2);
	pitr_txn_commit(t, NULL);
	t1 = put(s, ct, "x", "{\"x\":1}");
	put(s, ct, "y", "{\"y\":1}");
	put(s, ct, "z", "{\"z\":1}");
	put(s, ct2, "g", "{\"g\":1}");
	/* t2: x changes, z and the container "gone" are deleted */
	put(s, ct, "x", "{\"x\":2}");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_doc_delete(t, ct, "z", 1);
	pitr_doc_delete(t, ct2, "g", 1);
	pitr_ct_delete(t, db, "gone", 4);
	pitr_txn_commit(t, &t2);
	t3 = put(s, ct, "x", "{\"x\":3}");

	is_int(pitr_prune(s, t2 + RETENTION, 1, &dry), 0, "dry run");
	ok(dry.until == t2, "dry run: the window starts at t2");
	ok(versions(s, ct, "x").n == 3, "dry run removes nothing");
	is_int(pitr_prune(s, t2 + RETENTION, 0, &st), 0, "prune up to t2");
	is_int(st.versions, dry.versions, "dry run counted what went");
	is_int(st.events, dry.events, "dry run counted the events too");
	ok(st.bytes > 0, "bytes freed are counted (%llu)",
	   (unsigned long long)st.bytes);

	struct count x = versions(s, ct, "x");
	is_int(x.n, 2, "x: the version superseded before t2 is gone");
	is_int(versions(s, ct, "y").n, 1, "y: its only version is kept");
	is_int(versions(s, ct, "z").n, 0, "z: deleted before t2, all gone");
	is_int(versions(s, ct2, "g").n, 0, "g of a deleted container: gone");
	is_int(names(s, db, "gone").n, 0,
	       "a container deleted before t2 leaves history");
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	pitr_inc_info info;
	is_int(pitr_inc_get(t, ct2, &info), PITR_NOTFOUND,
	       "and so does its incarnation");
	is_int(pitr_ct_lookup(t, t2, db, "c", 1, &inc), 0,
	       "the live container is still there at t2");
	is_int(pitr_ct_lookup(t, t1, db, "c", 1, &inc), PITR_OUTOFRANGE,
	       "an instant before t2 is refused, not shown wrong");
	pitr_iter *it;
	is_int(pitr_iter_begin(t, PITR_LIST_DOCUMENTS, ct, t1, NULL, 0, 0, &it),
	       PITR_OUTOFRANGE, "listing before t2 is refused");
	pitr_txn_abort(t);

	is_int(get(s, ct, "x", t2, buf, sizeof(buf)), 0, "x at t2");
	ok(!strcmp(buf, "{\"x\":2}"), "x at t2 is version 2 (%s)", buf);
	is_int(get(s, ct, "y", t2, buf, sizeof(buf)), 0, "y at t2");
	ok(!strcmp(buf, "{\"y\":1}"), "the state at the window start is kept");
	is_int(get(s, ct, "z", t2, buf, sizeof(buf)), PITR_NOTFOUND,
	       "z is absent at t2");
	is_int(get(s, ct, "x", t1, buf, sizeof(buf)), PITR_OUTOFRANGE,
	       "x before t2: refused");
	get(s, ct, "x", PITR_NOW, buf, sizeof(buf));
	ok(!strcmp(buf, "{\"x\":3}"), "the live state is untouched");

	pitr_info pi;
	pitr_store_info(s, &pi);
	ok(pitr_store_window_start(s, pitr_clock()) == t2,
	   "the window now starts at the prune floor");

	/* Again, further: incremental from t2 up to t3. */
	is_int(pitr_prune(s, t3 + RETENTION, 0, &st), 0, "prune up to t3");
	is_int(st.versions, 1, "only x's version at t2 goes");
	is_int(versions(s, ct, "x").n, 1, "x: one version left, at t3");
	ok(versions(s, ct, "x").last == t3, "and it is version 3");
	is_int(versions(s, ct, "y").n, 1, "y still kept");
	is_int(names(s, db, "c").n, 1, "the live container's create is kept");
	is_int(pitr_prune(s, t3 + RETENTION, 0, &st), 0, "prune again");
	is_int(st.versions + st.events, 0, "nothing more to prune");

	/* Writes go on after pruning. */
	ok(put(s, ct, "x", "{\"x\":4}") > t3, "writes after pruning");
	pitr_store_close(s);
	pitr_store_destroy(path);
	test_periodic();
	test_prune_lock();
	for (int r = 0; r < 4; r++)
		test_killed_prune(r);
	rmdir(dir);
	return tap_done();
}
