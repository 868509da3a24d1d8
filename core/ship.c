/*
 * ship.c - shipping the log to backup media (media.h): one segment after
 * another, each chained onto the last one the media holds (read back and
 * checked, never taken on trust), then a numbered manifest as the commit
 * point; the store's record of what is shipped, and status.
 *
 * One writer per media: a manifest names the store that wrote it, and a
 * shipper refuses media whose latest manifest another store wrote less
 * than MEDIA_LEASE ago. Two writers racing past that meet at a name both
 * want to create: the loser finds an object with other content, and
 * stops with PITR_CONFLICT. A retry of one's own upload finds equal
 * content and goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "media.h"

#define MEDIA_LEASE (60 * PITR_NS_PER_SEC)
#define MANIFESTS_KEPT 2 /* the latest and the one before it */

static int meta_str(pitr_store *s, const char *key, char *buf, size_t size)
{
	MDB_txn *txn;
	MDB_val v;
	int rc = mdb_rc(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn));

	if (rc)
		return rc;
	rc = meta_get(txn, s->meta, key, &v);
	if (!rc)
		snprintf(buf, size, "%.*s", (int)v.mv_size, (char *)v.mv_data);
	mdb_txn_abort(txn);
	return rc;
}

static uint64_t meta_le64(pitr_store *s, const char *key)
{
	MDB_txn *txn;
	MDB_val v;
	uint64_t x = 0;

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn))
		return 0;
	if (meta_get(txn, s->meta, key, &v) == 0 && v.mv_size == 8)
		x = get_le64(v.mv_data);
	mdb_txn_abort(txn);
	return x;
}

/* Store (or with NULL remove) a meta value, in its own transaction, only
 * if it changes: shipping and status call this often. */
static int meta_store(pitr_store *s, const char *key, const void *data,
		      size_t len)
{
	MDB_txn *txn;
	MDB_val v;
	int rc = mdb_rc(mdb_txn_begin(s->env, NULL, 0, &txn));

	if (rc)
		return rc;
	int have = meta_get(txn, s->meta, key, &v) == 0;
	if (have == !!data &&
	    (!data || (v.mv_size == len && !memcmp(v.mv_data, data, len)))) {
		mdb_txn_abort(txn);
		return 0;
	}
	rc = meta_put(txn, s->meta, key, data, len);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_rc(mdb_txn_commit(txn));
}

int pitr_backup_set_dir(pitr_store *s, const char *dir)
{
	return meta_store(s, "backup_dir", dir, dir ? strlen(dir) : 0);
}

uint64_t backup_shipped(pitr_store *s, int *configured)
{
	char dir[8], buf[32];

	*configured = meta_str(s, "backup_dir", dir, sizeof(dir)) == 0;
	if (meta_str(s, "shipped_ts", buf, sizeof(buf)))
		return 0;
	return strtoull(buf, NULL, 10);
}

/* Record what is on the media; it only ever grows. */
static int store_shipped(pitr_store *s, uint64_t ts)
{
	char buf[32];
	int configured, len;

	if (ts <= backup_shipped(s, &configured))
		return 0;
	len = snprintf(buf, sizeof(buf), "%" PRIu64, ts);
	return meta_store(s, "shipped_ts", buf, (size_t)len);
}

/* This store's writer id in manifests: a random number made once and
 * kept in meta, with the host and the store's data file (device and
 * inode), so that a copy of the store (which would copy the number) is
 * another writer, and every process opening this store the same one. */
static int writer_id(pitr_store *s, uint64_t *id)
{
	char where[512], host[256] = "";
	unsigned char b[8];
	struct stat st = { 0 };
	mdb_filehandle_t fd;
	uint64_t r;
	int rc;

	if (!(r = meta_le64(s, "media_writer"))) {
		do {
			if (getrandom(b, sizeof(b), 0) != sizeof(b))
				return errno ? errno : EIO;
		} while (!(r = get_le64(b)));
		if ((rc = meta_store(s, "media_writer", b, sizeof(b))))
			return rc;
	}
	if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &st))
		return EIO;
	gethostname(host, sizeof(host) - 1);
	int n = snprintf(where, sizeof(where),
			 "%016" PRIx64 " %s %ju %ju", r, host,
			 (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	*id = XXH3_64bits(where, (size_t)n < sizeof(where) ? (size_t)n
							   : sizeof(where) - 1);
	return 0;
}

/* Create ACCOUNT if it is missing; PITR_FOREIGN if it names another
 * account (another creation instant). One unreadable, oversized or
 * damaged is never replaced. */
static int account_check(pitr_store *s, struct media *m)
{
	char text[ACCOUNT_MAX], name[PITR_NAME_MAX + 1],
	    have_name[PITR_NAME_MAX + 1];
	pitr_config cfg = { .created = s->created, .max_doc_size = s->max_doc },
		    have;
	int rc;

	for (int tries = 0; tries < 2; tries++) {
		rc = media_account_read(m, &have, have_name, sizeof(have_name));
		if (rc != ENOENT)
			return !rc && have.created != s->created ? PITR_FOREIGN
								 : rc;
		if ((rc = meta_str(s, "name", name, sizeof(name))) ||
		    (rc = pitr_store_policy(s, &cfg.policy)))
			return rc;
		/* version 2 where the segments may hold compact records, so
		 * that a build that reads only the fixed ones refuses them */
		size_t len = account_encode(text, store_compact(s) ? 2 : 1,
					    name, strlen(name), &cfg);
		rc = m->ops->put(m, "ACCOUNT", &(struct file_part){ text, len },
				 1);
		if (rc != PITR_EXISTS)
			return rc; /* else: made meanwhile, read it */
	}
	return rc;
}

/* Where a shipper stands on the media. */
struct tail {
	struct manifest mf; /* the latest; number 0 when none */
	struct seg_hdr last; /* the last segment; seq 0 when none */
	uint64_t first;	     /* the first segment kept */
	uint64_t writer;
};

/* Read the latest manifest and the segments after it, checking the last
 * one whole: a shipper builds only on what the media proves. */
static int tail_read(struct media *m, struct tail *tl)
{
	struct seg_ref *refs;
	unsigned char *raw;
	const char *why;
	size_t n;
	int rc;

	memset(&tl->last, 0, sizeof(tl->last));
	rc = media_manifest_latest(m, &tl->mf, NULL);
	if (rc == ENOENT)
		memset(&tl->mf, 0, sizeof(tl->mf));
	else if (rc == PITR_CORRUPT)
		media_seterror(m, "manifest-%010" PRIu64 " is damaged",
			       tl->mf.number);
	if (rc && rc != ENOENT)
		return rc;
	if (tl->mf.number && tl->mf.writer != tl->writer &&
	    tl->mf.written + MEDIA_LEASE > pitr_clock()) {
		media_seterror(m,
			       "another writer (%016" PRIx64
			       ") ships to this media: manifest-%010" PRIu64,
			       tl->mf.writer, tl->mf.number);
		return PITR_CONFLICT;
	}
	tl->first = tl->mf.first ? tl->mf.first : 1;
	/* only the tail: the manifest's last segment and what follows */
	rc = media_segments(m, tl->mf.seq ? tl->mf.seq - 1 : 0, &refs, &n);
	if (rc)
		return rc;
	if (!n && tl->mf.seq) {
		media_seterror(m, "segment %" PRIu64
			       " which manifest-%010" PRIu64 " commits is missing",
			       tl->mf.seq, tl->mf.number);
		free(refs);
		return PITR_CORRUPT;
	}
	for (size_t i = 1; i < n; i++)
		if (refs[i].seq == refs[i - 1].seq) {
			media_seterror(m, "two segments numbered %" PRIu64
				       ": a second writer", refs[i].seq);
			free(refs);
			return PITR_CONFLICT;
		}
	if (n) {
		rc = media_seg_read(m, &refs[n - 1], &tl->last, &raw, &why);
		if (!rc && (rc = seg_walk(raw, &tl->last, NULL, NULL)))
			why = "a record fails its checksum";
		free(raw);
		if (!rc && tl->mf.seq == tl->last.seq &&
		    tl->mf.sum != tl->last.header_sum) {
			why = "is not the segment the manifest commits";
			rc = PITR_CORRUPT;
		}
		if (rc)
			media_seterror(m, "%s: %s", refs[n - 1].name, why);
	}
	free(refs);
	return rc;
}

/* Gather the records after (ts, idx) into one segment's payload. The
 * media must never hold what the log cannot prove: a damaged record ends
 * the payload before its commit, and is PITR_CORRUPT when it would be
 * the first. */
static int gather(pitr_store *s, uint64_t ts, uint32_t idx, struct seg_payload *pl)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	MDB_cursor *c;
	pitr_txn *t;
	struct seg_hdr whole; /* the payload as its last whole commit left it */
	size_t whole_len = 0;
	int rc, damaged = 0;

	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (rc)
		return rc;
	rc = mdb_rc(mdb_cursor_open(t->txn, s->log, &c));
	if (rc) {
		pitr_txn_abort(t);
		return rc;
	}
	key_log(k, ts, idx);
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	/* (ts, idx) itself is on the media already */
	if (!rc && key.mv_size == 12 && !memcmp(key.mv_data, k, 12) &&
	    (ts || idx))
		rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
	for (; rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		uint64_t kts = get_be64(key.mv_data);
		uint32_t kidx = get_be32((unsigned char *)key.mv_data + 8);
		/* cut between commits only */
		if (pl->len >= SEG_RAW_MAX && kts != pl->h.last_ts)
			break;
		if (!pl->h.count || kts != pl->h.last_ts) {
			whole = pl->h;
			whole_len = pl->len;
		}
		/* a short record goes as one that stands alone */
		void *buf;
		MDB_val rec;
		int prc = log_portable(t, &key, &val, &rec, &buf);
		if (prc == PITR_CORRUPT) {
			pl->h = whole;
			pl->len = whole_len;
			damaged = !pl->h.count;
			break;
		}
		if (prc) {
			rc = prc;
			break;
		}
		rc = seg_payload_add(pl, kts, kidx, &rec);
		free(buf);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	return damaged ? PITR_CORRUPT : rc == MDB_NOTFOUND ? 0 : mdb_rc(rc);
}

/* The media must not hold what this log never had: they would belong to
 * another history (an older copy of the account, say). */
static int tail_ours(pitr_store *s, struct media *m, const struct tail *tl)
{
	unsigned char lk[12];
	MDB_val key = { sizeof(lk), lk }, val;
	pitr_txn *t;
	int rc, configured;

	if (!tl->last.seq)
		return 0;
	key_log(lk, tl->last.last_ts, tl->last.last_idx);
	if ((rc = pitr_txn_begin(s, PITR_TXN_READ, &t)))
		return rc;
	int have = mdb_get(t->txn, s->log, &key, &val) == 0;
	pitr_txn_abort(t);
	if (tl->last.last_ts > meta_le64(s, "last_ts") ||
	    (!have && tl->last.last_ts > backup_shipped(s, &configured))) {
		media_seterror(m, "the media holds mutations this account "
			       "never had (up to seg %" PRIu64 ")",
			       tl->last.seq);
		return PITR_FOREIGN;
	}
	return 0;
}

/* Ship one segment; *done when nothing was left. */
static int ship_one(pitr_store *s, struct media *m, struct tail *tl,
		    uint64_t *count, int *done)
{
	struct seg_payload pl = { 0 };
	char name[SEG_NAME_MAX];
	unsigned char *obj = NULL;
	size_t len;
	int rc;

	*done = 0;
	pl.h.seq = tl->last.seq + 1;
	pl.h.prev_sum = tl->last.header_sum;
	rc = gather(s, tl->last.last_ts, tl->last.last_idx, &pl);
	if (!rc && !pl.h.count)
		*done = 1;
	if (!rc && pl.h.count &&
	    !(rc = seg_pack(&pl.h, pl.p, pl.len, &obj, &len))) {
		seg_name(name, &pl.h);
		rc = media_put_once(m, name, obj, len);
	}
	if (!rc && pl.h.count) {
		tl->last = pl.h;
		rc = store_shipped(s, pl.h.last_ts);
		*count += pl.h.count;
	}
	free(obj);
	free(pl.p);
	return rc;
}

/* Retire manifests older than the one before `mf`, a batch at a time;
 * only ever after `mf` is committed. */
static int retire_manifests(struct media *m, const struct manifest *mf)
{
	char *names;
	const char *v[MEDIA_DEL_MAX];
	size_t n;
	int rc;

	if (mf->number <= MANIFESTS_KEPT)
		return 0;
	rc = media_manifests_below(m, mf->number + 1 - MANIFESTS_KEPT, &names,
				   &n);
	for (size_t i = 0; !rc && i < n; i += MEDIA_DEL_MAX) {
		size_t k = n - i < MEDIA_DEL_MAX ? n - i : MEDIA_DEL_MAX;
		for (size_t j = 0; j < k; j++)
			v[j] = names + (i + j) * MANIFEST_NAME;
		rc = m->ops->del(m, v, k);
	}
	free(names);
	return rc;
}

/*
 * Caught up: every mutation committed so far is on the media. Make the
 * present instant a floor for later commits, ship what landed before the
 * floor was set, and commit the instant in a new manifest, then in the
 * store.
 */
static int mark_complete(pitr_store *s, struct media *m, struct tail *tl)
{
	uint64_t now = pitr_store_now(s), n = 0;
	struct manifest mf = { 0 };
	int rc, done = 0;

	if ((rc = floor_barrier(s, now)))
		return rc;
	while (!rc && !done)
		rc = ship_one(s, m, tl, &n, &done);
	if (rc)
		return rc;
	mf.number = tl->mf.number + 1;
	mf.writer = tl->writer;
	mf.written = pitr_clock();
	mf.seq = tl->last.seq;
	mf.sum = tl->last.header_sum;
	mf.complete = now;
	mf.first = tl->last.seq ? tl->first : 0;
	/* the media holds history from where the store did when shipping
	 * to it began: never more than the store still had */
	mf.from = tl->mf.number ? tl->mf.from : meta_le64(s, "pruned_until");
	mf.base = tl->mf.base;
	mf.base_sum = tl->mf.base_sum;
	if ((rc = media_manifest_put(m, &mf)))
		return rc;
	tl->mf = mf;
	if ((rc = store_shipped(s, now)))
		return rc;
	return retire_manifests(m, &mf);
}

/*
 * Retention on the media: they keep at least the account's window. When
 * they hold more than two windows, the state a window ago becomes their
 * base and what came before leaves them (media_base.c): a full state is
 * written at most once a window. Looked at no more than once a 16th of a
 * window (the look lists the segments), whatever its outcome.
 */
static int retain(pitr_store *s, struct media *m, struct tail *tl)
{
	uint64_t now = pitr_clock(), start, w;
	unsigned char b[8];
	pitr_policy p;
	int rc;

	if (pitr_store_policy(s, &p) || !(w = p.retention) || w > now / 3 ||
	    now < meta_le64(s, "media_retain_next"))
		return 0;
	start = tl->mf.from > s->created ? tl->mf.from : s->created;
	if (start > now - 2 * w || tl->last.last_ts <= now - w)
		return 0; /* not two windows yet, or nothing after one */
	/* the next look, even if this one fails (a damaged old segment
	 * would fail it again) */
	put_le64(b, now + w / 16);
	if ((rc = meta_store(s, "media_retain_next", b, sizeof(b))) ||
	    (rc = media_rebase(s, m, now - w, &tl->mf)))
		return rc;
	tl->first = tl->mf.first;
	return 0;
}

/* One shipper per store at a time (the daemon, pitr backup flush): both
 * would build the same next segment and manifest, cut differently. Held
 * on STORE/ship.lock until the descriptor is closed. */
static int ship_lock(pitr_store *s, int *fd)
{
	char lock[PATH_MAX];
	const char *path = NULL;
	int n;

	*fd = -1;
	if (mdb_env_get_path(s->env, &path) || !path)
		return EINVAL;
	n = snprintf(lock, sizeof(lock), "%s/ship.lock", path);
	if (n < 0 || n >= (int)sizeof(lock))
		return ENAMETOOLONG;
	*fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return errno;
	if (flock(*fd, LOCK_EX)) {
		int rc = errno;
		close(*fd);
		*fd = -1;
		return rc;
	}
	return 0;
}

int pitr_backup_ship(pitr_store *s, int all, uint64_t *count)
{
	char where[4096], err[512];
	struct media *m = NULL;
	struct tail tl = { 0 };
	uint64_t shipped = 0;
	int rc, done = 0, lockfd = -1;

	if (meta_str(s, "backup_dir", where, sizeof(where)))
		return PITR_NOBACKUP;
	if (!(rc = ship_lock(s, &lockfd)) &&
	    !(rc = writer_id(s, &tl.writer)) &&
	    !(rc = media_open(where, &m)) &&
	    !(rc = m->ops->lock ? m->ops->lock(m) : 0) &&
	    !(rc = account_check(s, m)) && !(rc = tail_read(m, &tl)))
		rc = tail_ours(s, m, &tl);
	while (!rc && !done) {
		rc = ship_one(s, m, &tl, &shipped, &done);
		if (!all)
			break;
	}
	if (!rc && done)
		rc = mark_complete(s, m, &tl);
	if (!rc && done)
		rc = retain(s, m, &tl);
	if (count)
		*count = shipped;
	/* the outcome, for pitr backup status: written when it changes */
	if (rc)
		snprintf(err, sizeof(err), "%.100s: %.255s", where,
			 m && *m->error ? m->error : pitr_strerror(rc));
	meta_store(s, "backup_error", rc ? err : NULL, rc ? strlen(err) : 0);
	media_close(m);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

/* Count the mutations after `shipped`: a walk over the log's keys, no
 * record read. */
static int count_pending(pitr_txn *t, uint64_t shipped, pitr_backup_info *st)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	MDB_cursor *c;
	int rc;

	if (shipped == UINT64_MAX)
		return 0;
	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->log, &c));
	if (rc)
		return rc;
	key_log(k, shipped + 1, 0);
	for (rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		if (key.mv_size != 12) {
			rc = PITR_CORRUPT;
			break;
		}
		if (!st->pending++)
			st->oldest_pending = get_be64(key.mv_data);
	}
	mdb_cursor_close(c);
	if (rc == PITR_CORRUPT)
		return rc;
	return rc == MDB_NOTFOUND ? 0 : mdb_rc(rc);
}

int pitr_backup_status(pitr_store *s, pitr_backup_info *st)
{
	int configured;
	pitr_txn *t;
	int rc;

	memset(st, 0, sizeof(*st));
	if (meta_str(s, "backup_dir", st->dir, sizeof(st->dir)))
		st->dir[0] = 0;
	meta_str(s, "backup_error", st->error, sizeof(st->error));
	st->shipped = backup_shipped(s, &configured);
	if (!*st->dir)
		return 0; /* nothing is bound for media */
	rc = pitr_txn_begin(s, PITR_TXN_READ, &t);
	if (rc)
		return rc;
	rc = count_pending(t, st->shipped, st);
	pitr_txn_abort(t);
	return rc;
}
