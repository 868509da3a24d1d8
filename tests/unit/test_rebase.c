/*
 * test_rebase.c - retention on the backup media (core/media_base.c),
 * against the store as the oracle. An account with a 1 s window writes
 * documents (keyframes on a container dictionary, deltas, deletes), renames
 * and recreates containers, and ships after each round; once the media
 * hold two windows, the state a window ago becomes their base and older
 * segments go. At every instant the media still claim, a replay of the
 * media must list and read exactly what the store does; earlier instants
 * are refused; a damaged or missing base is reported, never replayed.
 * The waits are lower bounds only (a slower machine waits longer and
 * changes nothing).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../core/media.h"
#include "../bench/docgen.h"
#include "tap.h"

#define SEC PITR_NS_PER_SEC

static char dir[64], media[128];
static unsigned gen = 1; /* bodies differ round to round */

static void wait_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / SEC), (long)(ns % SEC) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Everything an instant shows, one line per database, container and
 * document (with its body's hash, read and checked), into a malloc'd
 * string. */
static char *state(pitr_store *s, uint64_t at)
{
	char *out = NULL;
	size_t olen = 0;
	FILE *f = open_memstream(&out, &olen);
	pitr_iter *di, *ci, *xi;
	pitr_entry e;
	pitr_txn *t;

	if (!f || pitr_txn_begin(s, PITR_TXN_READ, &t)) {
		if (f)
			fclose(f);
		free(out);
		return NULL;
	}
	pitr_iter_begin(t, PITR_LIST_DATABASES, 0, at, NULL, 0, 0, &di);
	while (di && pitr_iter_next(di, &e) == 0) {
		uint64_t db = e.inc;
		fprintf(f, "%.*s\n", (int)e.namelen, e.name);
		pitr_iter_begin(t, PITR_LIST_CONTAINERS, db, at, NULL, 0, 0,
				&ci);
		while (ci && pitr_iter_next(ci, &e) == 0) {
			uint64_t ct = e.inc;
			fprintf(f, " %.*s\n", (int)e.namelen, e.name);
			pitr_iter_begin(t, PITR_LIST_DOCUMENTS, ct, at, NULL, 0,
					0, &xi);
			while (xi && pitr_iter_next(xi, &e) == 0) {
				void *body = NULL;
				size_t len = 0;
				char id[PITR_NAME_MAX + 1];
				snprintf(id, sizeof(id), "%.*s", (int)e.namelen,
					 e.name);
				int rc = pitr_doc_get(t, ct, id, e.namelen, at,
						      NULL, &body, &len);
				fprintf(f, "  %s %d %zu %016llx\n", id, rc, len,
					(unsigned long long)XXH3_64bits(body,
									len));
				free(body);
			}
			pitr_iter_end(xi);
		}
		pitr_iter_end(ci);
	}
	pitr_iter_end(di);
	pitr_txn_abort(t);
	fclose(f);
	return out;
}

static uint64_t lookup(pitr_txn *t, const char *db, const char *ct)
{
	uint64_t d = 0, c = 0;

	if (pitr_db_lookup(t, PITR_NOW, db, strlen(db), &d) == 0)
		pitr_ct_lookup(t, PITR_NOW, d, ct, strlen(ct), &c);
	return c;
}

/* Put documents first..last-1 of (db, ct) in one transaction. */
static int put_docs(pitr_store *s, const char *db, const char *ct, unsigned first,
		unsigned last)
{
	char body[DOC_MAX + 64], id[32];
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	uint64_t c = rc ? 0 : lookup(t, db, ct);
	for (unsigned i = first; !rc && i < last; i++) {
		char rest[DOC_MAX];
		size_t n = doc_gen(rest, sizeof(rest), "r", i);
		int h = snprintf(body, sizeof(body),
				 "{\"round\":%u,\"doc\":%.*s}", gen, (int)n,
				 rest);
		snprintf(id, sizeof(id), "d%03u", i);
		rc = pitr_doc_put(t, c, id, strlen(id), body, (size_t)h);
	}
	gen++;
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, NULL);
}

static int dels(pitr_store *s, const char *db, const char *ct, unsigned first,
		unsigned last)
{
	char id[32];
	pitr_txn *t;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	uint64_t c = rc ? 0 : lookup(t, db, ct);
	for (unsigned i = first; !rc && i < last; i++) {
		snprintf(id, sizeof(id), "d%03u", i);
		rc = pitr_doc_delete(t, c, id, strlen(id));
	}
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, NULL);
}

/* Create, delete or rename containers: `op` 'c', 'd' or 'r'. */
static int catalog(pitr_store *s, int op, const char *db, const char *ct,
		   const char *to)
{
	pitr_txn *t;
	uint64_t d = 0, c;
	int rc = pitr_txn_begin(s, PITR_TXN_WRITE, &t);

	if (!rc && pitr_db_lookup(t, PITR_NOW, db, strlen(db), &d))
		rc = pitr_db_create(t, db, strlen(db), &d);
	if (!rc)
		rc = op == 'c' ? pitr_ct_create(t, d, ct, strlen(ct), &c)
		     : op == 'd'
			 ? pitr_ct_delete(t, d, ct, strlen(ct))
			 : pitr_ct_rename(t, d, ct, strlen(ct), d, to,
					  strlen(to));
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	return pitr_txn_commit(t, NULL);
}


static void no_problem(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	++*(int *)arg;
}

struct seen {
	char what[8][64];
	int n;
};

static void problem(const char *where, const char *what, void *arg)
{
	struct seen *p = arg;

	if (p->n < 8)
		snprintf(p->what[p->n], sizeof(p->what[0]), "%.30s: %.30s",
			 where, what);
	p->n++;
}

static int count(const char *prefix)
{
	DIR *d = opendir(media);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	return n;
}

static int latest(struct manifest *mf)
{
	struct media *m;
	int rc = media_open(media, &m);

	if (!rc)
		rc = media_manifest_latest(m, mf, NULL);
	media_close(m);
	return rc;
}

/* Ship everything: `*at` the instant the media are complete up to. */
static int ship(pitr_store *s, uint64_t *at)
{
	struct manifest mf;
	int rc = pitr_backup_ship(s, 1, NULL);

	if (!rc)
		rc = latest(&mf);
	*at = rc ? 0 : mf.complete;
	return rc;
}

/* The replay of the media at each instant of `at` (n of them) shows what
 * the store shows; the number that differ. */
static int replay_diff(pitr_store *s, const uint64_t *at, int n)
{
	char path[160];
	int bad = 0;

	for (int i = 0; i < n; i++) {
		pitr_store *r;
		snprintf(path, sizeof(path), "%s/replay-%d", dir, i);
		int rc = pitr_backup_replay(media, path, at[i], NULL);
		if (rc || pitr_store_open(path, PITR_OPEN_RDONLY, &r)) {
			fprintf(stderr, "# replay at instant %d: %s\n", i, pitr_strerror(rc));
			bad++;
			continue;
		}
		char *want = state(s, at[i]), *got = state(r, at[i]);
		if (!want || !got || strcmp(want, got)) {
			fprintf(stderr, "# instant %d differs:\n%s---\n%s", i,
			     want ? want : "?", got ? got : "?");
			bad++;
		}
		free(want);
		free(got);
		pitr_store_close(r);
		pitr_store_destroy(path);
	}
	return bad;
}

int main(void)
{
	pitr_config cfg = { 0 };
	pitr_store *s;
	struct manifest mf;
	uint64_t at[16], from;
	char path[160], cmd[200];
	int n = 0, problems = 0, rc;

	snprintf(dir, sizeof(dir), "/tmp/pitr-rebase.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(media, sizeof(media), "%s/media", dir);
	snprintf(path, sizeof(path), "%s/acct", dir);
	mkdir(media, 0700);
	pitr_policy_default(&cfg.policy);
	cfg.policy.retention = SEC;
	if (pitr_store_create(path, &cfg) || pitr_store_open(path, 0, &s))
		return 1;
	is_int(pitr_backup_set_dir(s, media), 0, "an account with a 1 s window "
						 "ships to a directory");

	/* two windows of history: keyframes on a dictionary, deltas, a
	 * container renamed, one emptied and dropped */
	rc = catalog(s, 'c', "shop", "orders", NULL) ||
	     catalog(s, 'c', "shop", "users", NULL) ||
	     catalog(s, 'c', "logs", "events", NULL) ||
	     put_docs(s, "shop", "orders", 0, 80) || put_docs(s, "shop", "users", 0, 5) ||
	     put_docs(s, "logs", "events", 0, 3);
	/* two containers filled alike share one dictionary, whose record
	 * names the first; the first then goes */
	rc = rc || catalog(s, 'c', "logs", "a", NULL) ||
	     catalog(s, 'c', "logs", "b", NULL);
	gen = 1000;
	rc = rc || put_docs(s, "logs", "a", 0, 80);
	gen = 1000;
	rc = rc || put_docs(s, "logs", "b", 0, 80);
	rc = rc || ship(s, &at[n++]);
	rc = rc || put_docs(s, "shop", "orders", 0, 40) ||
	     dels(s, "shop", "orders", 70, 80) ||
	     catalog(s, 'r', "shop", "users", "people") ||
	     dels(s, "logs", "events", 0, 3) ||
	     catalog(s, 'd', "logs", "events", NULL) ||
	     dels(s, "logs", "a", 0, 80) || catalog(s, 'd', "logs", "a", NULL);
	rc = rc || ship(s, &at[n++]);
	is_int(rc, 0, "two rounds written and shipped");
	wait_ns(2 * SEC + SEC / 10);

	/* a third round: the state after the second is a window old */
	rc = put_docs(s, "shop", "orders", 0, 10) ||
	     catalog(s, 'c', "logs", "events", NULL) ||
	     put_docs(s, "logs", "events", 5, 8) || ship(s, &at[n++]);
	is_int(rc, 0, "a third round shipped");
	is_int(latest(&mf), 0, "the latest manifest reads");
	ok(mf.base >= 1 && mf.first == 3, "it names a base before segment 3 "
					   "(base %llu, first %llu)",
	   (unsigned long long)mf.base, (unsigned long long)mf.first);
	ok(mf.from > at[0] && mf.from <= at[1],
	   "history is complete from the end of the second round");
	from = mf.from;
	is_int(count("seg-"), 3, "segments 1 and 2 stay a window more (a "
				 "restore may have read the manifest before)");
	is_int(count("base-"), (int)mf.base, "the base is there");
	is_int(pitr_backup_verify(media, no_problem, &problems, NULL, NULL),
	       0, "the media verify");
	is_int(problems, 0, "no problem reported");

	/* edits after the base: deltas on keyframes only the base holds */
	rc = put_docs(s, "shop", "orders", 20, 50) ||
	     put_docs(s, "shop", "people", 0, 2) ||
	     put_docs(s, "logs", "b", 75, 90) || ship(s, &at[n++]);
	is_int(rc, 0, "a fourth round shipped");
	uint64_t check[8] = { from, at[2], at[3] };
	is_int(replay_diff(s, check, 3), 0,
	       "the replay equals the store at `from` and after");
	snprintf(cmd, sizeof(cmd), "%s/early", dir);
	is_int(pitr_backup_replay(media, cmd, from - 1, NULL), PITR_OUTOFRANGE,
	       "an instant before `from` is refused");

	/* a second base, once `from` is two windows old */
	wait_ns(2 * SEC + SEC / 10);
	rc = put_docs(s, "shop", "orders", 60, 65) || ship(s, &at[n++]);
	rc = rc || put_docs(s, "shop", "orders", 0, 3) || ship(s, &at[n++]);
	is_int(rc, 0, "two more rounds shipped");
	struct manifest mf2;
	is_int(latest(&mf2), 0, "the latest manifest reads");
	ok(mf2.first > mf.first && mf2.from > from,
	   "a second base moved the start on (first %llu)",
	   (unsigned long long)mf2.first);
	char first_base[SEG_NAME_MAX];
	base_name(first_base, mf.first, 1);
	snprintf(cmd, sizeof(cmd), "%s/%s", media, first_base);
	ok(access(cmd, F_OK) == 0 && count("base-") == (int)(mf.base + mf2.base),
	   "the first base stays a window more, beside the second");
	char seg1[32];
	snprintf(seg1, sizeof(seg1), "seg-%010llu-",
		 (unsigned long long)mf.first - 1);
	is_int(count(seg1), 0, "the segments the first base stands for left");
	uint64_t check2[4] = { mf2.from, at[n - 1] };
	is_int(replay_diff(s, check2, 2), 0, "the replay equals the store");

	/* a third base: the first one goes */
	wait_ns(2 * SEC + SEC / 10);
	rc = put_docs(s, "shop", "orders", 0, 5) || ship(s, &at[n++]);
	rc = rc || put_docs(s, "shop", "orders", 5, 9) || ship(s, &at[n++]);
	is_int(rc, 0, "two more rounds shipped");
	struct manifest mf3;
	is_int(latest(&mf3), 0, "the latest manifest reads");
	ok(mf3.first > mf2.first, "a third base (first %llu)",
	   (unsigned long long)mf3.first);
	ok(access(cmd, F_OK) != 0, "the first base left the media");
	snprintf(seg1, sizeof(seg1), "seg-%010llu-",
		 (unsigned long long)mf2.first - 1);
	is_int(count(seg1), 0, "and the segments the second one stands for");
	uint64_t check3[4] = { mf3.from, at[n - 1] };
	is_int(replay_diff(s, check3, 2), 0, "the replay equals the store");
	mf2 = mf3;

	/* damage: a flipped byte in the base, then the base gone */
	char part[SEG_NAME_MAX];
	base_name(part, mf2.first, 1);
	snprintf(cmd, sizeof(cmd), "%s/%s", media, part);
	int fd = open(cmd, O_RDWR);
	unsigned char b = 0;
	rc = fd < 0 || pread(fd, &b, 1, 100) != 1;
	b ^= 0x40;
	rc = rc || pwrite(fd, &b, 1, 100) != 1;
	if (fd >= 0)
		close(fd);
	is_int(rc, 0, "a byte of the base flipped");
	struct seen seen = { .n = 0 };
	is_int(pitr_backup_verify(media, problem, &seen, NULL, NULL),
	       PITR_CORRUPT, "verify finds the damage");
	ok(seen.n >= 1 && strstr(seen.what[0], "base-"),
	   "and names the base (%s)", seen.n ? seen.what[0] : "nothing");
	snprintf(path, sizeof(path), "%s/from-damaged", dir);
	is_int(pitr_backup_replay(media, path, at[n - 1], NULL),
	       PITR_OUTOFRANGE, "a replay on it is refused");
	ok(access(path, F_OK) != 0, "and leaves nothing");
	unlink(cmd);
	seen.n = 0;
	is_int(pitr_backup_verify(media, problem, &seen, NULL, NULL),
	       PITR_CORRUPT, "a missing base is found too");
	ok(seen.n >= 1 && strstr(seen.what[0], "base-"),
	   "and named (%s)", seen.n ? seen.what[0] : "nothing");

	pitr_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
