/*
 * store.c - the account: create, open, metadata, the clock, transactions.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "internal.h"

/* The map only reserves address space; it is grown at open to twice the
 * file, so no fixed size is reachable before the disk fills. */
#define MAP_MIN	    (1ull << 40)
#define MAP_FLOOR   (64ull << 20)
#define MAX_READERS 510

static const char *const errors[] = {
	[-PITR_NOTFOUND - 32000] = "no such database, container or document",
	[-PITR_EXISTS - 32000] = "already exists",
	[-PITR_BADNAME - 32000] = "invalid name",
	[-PITR_BADJSON - 32000] = "not a JSON object",
	[-PITR_TOOBIG - 32000] = "document too large",
	[-PITR_NOTEMPTY - 32000] = "not empty",
	[-PITR_CORRUPT - 32000] = "stored data is damaged (checksum mismatch)",
	[-PITR_NOTSTORE - 32000] = "not a pitrfs account",
	[-PITR_NEWFORMAT - 32000] = "account has a newer on-disk format",
	[-PITR_BADTIME - 32000] = "invalid time",
	[-PITR_OUTOFRANGE - 32000] = "time outside the retention window",
	[-PITR_RDONLY - 32000] = "read-only",
	[-PITR_BUSY - 32000] = "account is mounted by another daemon",
	[-PITR_BADPOLICY - 32000] = "invalid backup policy",
	[-PITR_FOREIGN - 32000] = "backup directory belongs to another account",
	[-PITR_NOBACKUP - 32000] = "no backup directory is set",
	[-PITR_NOTMEDIA - 32000] = "not a backup directory",
	[-PITR_CONFLICT - 32000] = "another writer ships to the backup media",
};

const char *pitr_strerror(int rc)
{
	if (rc >= 0)
		return strerror(rc);
	if (rc <= PITR_NOTFOUND && rc >= PITR_FIRST_CODE)
		return errors[-rc - 32000];
	return mdb_strerror(rc);
}

int pitr_errno(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case PITR_NOTFOUND:
	case PITR_BADTIME:
	case PITR_OUTOFRANGE:
		return ENOENT;
	case PITR_EXISTS:
		return EEXIST;
	case PITR_BADNAME:
	case PITR_BADJSON:
	case PITR_NOTSTORE:
	case PITR_BADPOLICY:
	case PITR_FOREIGN:
	case PITR_NOBACKUP:
	case PITR_NOTMEDIA:
	case PITR_CONFLICT:
		return EINVAL;
	case PITR_TOOBIG:
		return EFBIG;
	case PITR_NOTEMPTY:
		return ENOTEMPTY;
	case PITR_CORRUPT:
		return EIO;
	case PITR_NEWFORMAT:
		return EPROTO;
	case PITR_RDONLY:
		return EROFS;
	case PITR_BUSY:
		return EBUSY;
	}
	return rc > 0 ? rc : EIO;
}

int mdb_rc(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return PITR_NOTFOUND;
	case MDB_MAP_FULL:
		return ENOSPC;
	case MDB_READERS_FULL:
		return EAGAIN;
	case MDB_TXN_FULL:
		return ENOMEM;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return PITR_CORRUPT;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return PITR_NOTSTORE;
	}
	return rc > 0 ? rc : EIO;
}

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

int meta_put(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *data,
	     size_t len)
{
	MDB_val k = { strlen(key), (void *)key }, v = { len, (void *)data };

	if (!data) {
		int rc = mdb_del(txn, dbi, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : mdb_rc(rc);
	}
	return mdb_rc(mdb_put(txn, dbi, &k, &v, 0));
}

static int meta_put64(MDB_txn *txn, MDB_dbi dbi, const char *key,
		      uint64_t value)
{
	unsigned char b[8];

	put_le64(b, value);
	return meta_put(txn, dbi, key, b, 8);
}

int meta_get(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *v)
{
	MDB_val k = { strlen(key), (void *)key };

	return mdb_rc(mdb_get(txn, dbi, &k, v));
}

static int meta_get64(MDB_txn *txn, MDB_dbi dbi, const char *key,
		      uint64_t *value)
{
	MDB_val v;
	int rc = meta_get(txn, dbi, key, &v);

	if (rc)
		return rc == PITR_NOTFOUND ? PITR_NOTSTORE : rc;
	return u64_decode(&v, value);
}

/* path = dir/file; ENAMETOOLONG if it does not fit PATH_MAX. */
static int join(char path[PATH_MAX], const char *dir, const char *file)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, file);

	return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

/* LMDB reports a write cut short as EIO: on a full filesystem, say so. */
static int write_rc(const char *dir, int rc)
{
	struct statvfs vfs;

	rc = mdb_rc(rc);
	if (rc == EIO && dir && statvfs(dir, &vfs) == 0 && vfs.f_bavail == 0)
		return ENOSPC;
	return rc;
}

static const char *dir_of(pitr_store *s)
{
	const char *dir;

	return mdb_env_get_path(s->env, &dir) == 0 ? dir : NULL;
}

/*
 * May a reader of `dir`, which cannot open LMDB's lock file for writing
 * (a read-only copy or medium), go without it (MDB_NOLOCK)? Only when
 * nothing can be writing the store meanwhile: its filesystem is mounted
 * read-only, or its data file grants no one write permission (`chmod -R
 * a-w`; root's override of permissions is not guarded against) and no
 * daemon holds the account.
 */
static int nothing_writes(const char *dir, mode_t data_mode)
{
	char lock[PATH_MAX];
	struct statvfs vfs;
	int fd, free_of_daemon;

	if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		return 1;
	if (data_mode & 0222)
		return 0;
	if (join(lock, dir, DAEMON_LOCK))
		return 0;
	fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	free_of_daemon = flock(fd, LOCK_SH | LOCK_NB) == 0;
	close(fd);
	return free_of_daemon;
}

/* Open the environment and its tables; `create` makes the tables. */
static int env_open(const char *dir, unsigned flags, int create, pitr_store *s)
{
	char path[PATH_MAX];
	struct stat st;
	unsigned envflags = MDB_NOTLS | MDB_NOMETASYNC;
	uint64_t map = MAP_MIN, fsize = 0;
	mode_t data_mode = 0;
	MDB_txn *txn;
	int rc;

	if (join(path, dir, "data.mdb"))
		return ENAMETOOLONG;
	if (stat(path, &st) == 0) {
		fsize = (uint64_t)st.st_size;
		data_mode = st.st_mode;
		if (fsize * 2 > map)
			map = fsize * 2;
	} else if (!create) {
		/* only a missing data file means "not an account" */
		if (errno != ENOENT || stat(dir, &st) != 0)
			return errno;
		return PITR_NOTSTORE;
	}
	/* No write map, even for bulk loads: a page written in a map on a
	 * full disk is a SIGBUS, where a write is ENOSPC. */
	if (flags & (PITR_OPEN_NOSYNC | PITR_OPEN_BULK))
		envflags |= MDB_NOSYNC;
	if (flags & PITR_OPEN_RDONLY)
		envflags |= MDB_RDONLY;
	/* Where address space is limited (ulimit -v, valgrind), reserve
	 * less, but never less than twice the file. */
	uint64_t floor = fsize * 2 > MAP_FLOOR ? fsize * 2 : MAP_FLOOR;
	for (;;) {
		rc = mdb_env_create(&s->env);
		if (rc)
			return mdb_rc(rc);
		mdb_env_set_maxdbs(s->env, 8);
		mdb_env_set_maxreaders(s->env, MAX_READERS);
		mdb_env_set_mapsize(s->env, map);
		rc = mdb_env_open(s->env, dir, envflags, 0600);
		if (!rc)
			break;
		if ((rc == EACCES || rc == EROFS) && !create &&
		    (flags & PITR_OPEN_RDONLY) && !(envflags & MDB_NOLOCK) &&
		    nothing_writes(dir, data_mode)) {
			mdb_env_close(s->env);
			s->env = NULL;
			envflags |= MDB_NOLOCK;
			continue;
		}
		if ((rc != EINVAL && rc != ENOMEM) || map / 4 < floor)
			goto out_env;
		mdb_env_close(s->env);
		s->env = NULL;
		map /= 4;
	}
	rc = mdb_txn_begin(s->env, NULL,
			   flags & PITR_OPEN_RDONLY ? MDB_RDONLY : 0, &txn);
	if (rc)
		goto out_env;
	unsigned dbflags = create ? MDB_CREATE : 0;
	if ((rc = mdb_dbi_open(txn, "meta", dbflags, &s->meta)) ||
	    (rc = mdb_dbi_open(txn, "log", dbflags, &s->log)) ||
	    (rc = mdb_dbi_open(txn, "versions", dbflags, &s->versions)) ||
	    (rc = mdb_dbi_open(txn, "live", dbflags, &s->live)) ||
	    (rc = mdb_dbi_open(txn, "names", dbflags, &s->names)) ||
	    (rc = mdb_dbi_open(txn, "incs", dbflags, &s->incs))) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE)
			rc = PITR_NOTSTORE;
		goto out_env;
	}
	/* from format 3; an account of an earlier one has none */
	rc = mdb_dbi_open(txn, "dicts", dbflags, &s->dicts);
	s->has_dicts = rc == 0;
	if (rc && rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		goto out_env;
	}
	rc = mdb_txn_commit(txn);
	if (rc)
		goto out_env;
	int dead;
	mdb_reader_check(s->env, &dead);
	return 0;
out_env:
	if (rc != PITR_NOTSTORE)
		rc = write_rc(dir, rc);
	mdb_env_close(s->env);
	s->env = NULL;
	return rc;
}

static pitr_store *store_alloc(void)
{
	pitr_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->lockfd = -1;
	pthread_mutex_init(&s->clock_mtx, NULL);
	pthread_cond_init(&s->clock_cond, NULL);
	pthread_mutex_init(&s->dict_mtx, NULL);
	pthread_mutex_init(&s->group_mtx, NULL);
	pthread_cond_init(&s->group_cond, NULL);
	s->group_tail = &s->group_head;
	return s;
}

static void store_free(pitr_store *s)
{
	if (s->env)
		mdb_env_close(s->env);
	if (s->lockfd >= 0)
		close(s->lockfd);
	pthread_mutex_destroy(&s->clock_mtx);
	pthread_cond_destroy(&s->clock_cond);
	dict_cache_free(s);
	pthread_mutex_destroy(&s->dict_mtx);
	pthread_mutex_destroy(&s->group_mtx);
	pthread_cond_destroy(&s->group_cond);
	free(s);
}

static int write_meta(pitr_store *s, const char *name, const pitr_config *cfg)
{
	unsigned char pol[POLICY_VAL], fmt[4], maxdoc[4];
	uint64_t now = cfg->created ? cfg->created : pitr_clock();
	MDB_txn *txn;
	int rc;

	rc = mdb_rc(mdb_txn_begin(s->env, NULL, 0, &txn));
	if (rc)
		return rc;
	put_le32(fmt, PITR_FORMAT);
	put_le32(maxdoc,
		 cfg->max_doc_size ? cfg->max_doc_size : PITR_DEFAULT_MAX_DOC);
	policy_encode(pol, &cfg->policy);
	if ((rc = meta_put(txn, s->meta, "format", fmt, 4)) ||
	    (rc = meta_put(txn, s->meta, "name", name, strlen(name))) ||
	    (rc = meta_put64(txn, s->meta, "created", now)) ||
	    (rc = meta_put(txn, s->meta, "policy", pol, sizeof(pol))) ||
	    (rc = meta_put(txn, s->meta, "maxdoc", maxdoc, 4)) ||
	    (rc = meta_put64(txn, s->meta, "last_ts", now)) ||
	    (rc = meta_put64(txn, s->meta, "next_inc", 1))) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_rc(mdb_txn_commit(txn));
}

/* Remove a directory holding a store being created (no subdirectories). */
static void remove_store_dir(const char *dir)
{
	char path[PATH_MAX];
	static const char *const files[] = { "data.mdb", "lock.mdb",
					     DAEMON_LOCK };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (join(path, dir, files[i]) == 0)
			unlink(path);
	rmdir(dir);
}

int pitr_store_create(const char *path, const pitr_config *cfg)
{
	char tmp[PATH_MAX], base[PATH_MAX];
	const char *name;
	pitr_store *s;
	int rc, lockfd;

	rc = pitr_policy_check(&cfg->policy);
	if (rc)
		return rc;
	if (snprintf(base, sizeof(base), "%s", path) >= (int)sizeof(base) ||
	    snprintf(tmp, sizeof(tmp), "%s.creating-%ld.XXXXXX", path,
		     (long)getpid()) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	name = cfg->name ? cfg->name : basename(base);
	if (pitr_name_check(name, strlen(name)))
		return PITR_BADNAME;
	if (access(path, F_OK) == 0)
		return PITR_EXISTS;
	/* Built aside and renamed into place (stage.c): no half-made
	 * account is ever seen at `path`. */
	pitr_stage_clean(path);
	if (!mkdtemp(tmp))
		return errno;
	lockfd = stage_lock(tmp);
	s = store_alloc();
	if (!s) {
		rc = ENOMEM;
		goto out_rmdir;
	}
	rc = env_open(tmp, 0, 1, s);
	if (!rc)
		rc = write_meta(s, name, cfg);
	if (!rc)
		rc = mdb_rc(mdb_env_sync(s->env, 1));
	store_free(s);
	if (rc)
		goto out_rmdir;
	rc = pitr_stage_commit(tmp, path);
	if (rc == PITR_EXISTS || (rc && access(tmp, F_OK) == 0))
		goto out_rmdir;
	if (lockfd >= 0)
		close(lockfd);
	return rc;
out_rmdir:
	remove_store_dir(tmp);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

static int load_meta(pitr_store *s)
{
	MDB_txn *txn;
	MDB_val v;
	int rc;

	rc = mdb_rc(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn));
	if (rc)
		return rc;
	rc = meta_get(txn, s->meta, "format", &v);
	if (rc == PITR_NOTFOUND || (!rc && u32_decode(&v, &s->format)))
		rc = PITR_NOTSTORE;
	if (rc)
		goto out;
	if (s->format > PITR_FORMAT) {
		rc = PITR_NEWFORMAT;
		goto out;
	}
	rc = meta_get64(txn, s->meta, "created", &s->created);
	if (!rc)
		rc = meta_get(txn, s->meta, "maxdoc", &v);
	if (!rc && (u32_decode(&v, &s->max_doc) || !s->max_doc))
		rc = PITR_CORRUPT;
	if (!rc)
		rc = meta_get(txn, s->meta, "policy", &v);
	if (!rc)
		rc = policy_decode(&v, &s->policy);
out:
	mdb_txn_abort(txn);
	return rc;
}

int pitr_store_open(const char *path, unsigned flags, pitr_store **out)
{
	char lock[PATH_MAX];
	struct stat st;
	pitr_store *s;
	int rc;

	if (stat(path, &st))
		return errno;
	if (!S_ISDIR(st.st_mode))
		return PITR_NOTSTORE;
	s = store_alloc();
	if (!s)
		return ENOMEM;
	s->flags = flags;
	rc = env_open(path, flags, 0, s);
	if (!rc)
		rc = load_meta(s);
	/* Only an account gets a lock file. */
	if (!rc && (flags & PITR_OPEN_DAEMON)) {
		if ((rc = join(lock, path, DAEMON_LOCK)))
			goto out_free;
		s->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (s->lockfd < 0)
			rc = errno;
		else if (flock(s->lockfd, LOCK_EX | LOCK_NB))
			rc = errno == EWOULDBLOCK ? PITR_BUSY : errno;
	}
	if (rc)
		goto out_free;
	*out = s;
	return 0;
out_free:
	store_free(s);
	return rc;
}

void pitr_store_close(pitr_store *s)
{
	if (s)
		store_free(s);
}

int pitr_store_forked(pitr_store *s)
{
	char dir[PATH_MAX];
	const char *d = dir_of(s);

	if (!d || snprintf(dir, sizeof(dir), "%s", d) >= (int)sizeof(dir))
		return ENAMETOOLONG;
	/* what the parent mapped and opened, not its locks: this process
	 * holds none on the environment yet */
	mdb_env_close(s->env);
	s->env = NULL;
	return env_open(dir, s->flags, 0, s);
}

int pitr_store_sync(pitr_store *s)
{
	return write_rc(dir_of(s), mdb_env_sync(s->env, 1));
}

uint32_t pitr_store_max_doc(pitr_store *s)
{
	return s->max_doc;
}

/* The last commit's timestamp; refreshes the policy, which `pitr policy`
 * may change while a daemon serves the account. */
static uint64_t last_ts(pitr_store *s)
{
	pitr_policy p;
	MDB_txn *txn;
	uint64_t ts = 0;
	MDB_val v;

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0) {
		meta_get64(txn, s->meta, "last_ts", &ts);
		uint64_t pruned = 0;
		if (meta_get64(txn, s->meta, "pruned_until", &pruned) == 0) {
			pthread_mutex_lock(&s->clock_mtx);
			s->pruned = pruned;
			pthread_mutex_unlock(&s->clock_mtx);
		}
		if (meta_get(txn, s->meta, "policy", &v) == 0 &&
		    policy_decode(&v, &p) == 0) {
			pthread_mutex_lock(&s->clock_mtx);
			s->policy = p;
			pthread_mutex_unlock(&s->clock_mtx);
		}
		mdb_txn_abort(txn);
	}
	return ts;
}

uint64_t pitr_store_now(pitr_store *s)
{
	uint64_t now = pitr_clock(), last;

	pthread_mutex_lock(&s->clock_mtx);
	last = s->pending_ts;
	pthread_mutex_unlock(&s->clock_mtx);
	if (now > last)
		last = now;
	uint64_t stored = last_ts(s);
	return stored > last ? stored : last;
}

void pitr_store_wait_visible(pitr_store *s, uint64_t at)
{
	pthread_mutex_lock(&s->clock_mtx);
	while (s->pending_ts && s->pending_ts <= at)
		pthread_cond_wait(&s->clock_cond, &s->clock_mtx);
	pthread_mutex_unlock(&s->clock_mtx);
}

/* The earliest instant a view may show. */
static pitr_policy policy_of(pitr_store *s)
{
	pitr_policy p;

	pthread_mutex_lock(&s->clock_mtx);
	p = s->policy;
	pthread_mutex_unlock(&s->clock_mtx);
	return p;
}

static uint64_t earliest(pitr_store *s, uint64_t now)
{
	pitr_policy p = policy_of(s);
	uint64_t e = now > p.retention ? now - p.retention : 0, pruned;

	if (e < s->created)
		e = s->created;
	if (p.mode == PITR_PERIODIC) {
		uint64_t k = (e - s->created + p.interval - 1) / p.interval;
		e = s->created + k * p.interval;
	}
	pthread_mutex_lock(&s->clock_mtx);
	pruned = s->pruned;
	pthread_mutex_unlock(&s->clock_mtx);
	return e > pruned ? e : pruned;
}

uint64_t pitr_store_window_start(pitr_store *s, uint64_t now)
{
	pitr_store_now(s); /* refreshes policy and prune floor */
	return earliest(s, now);
}

int at_readable(pitr_txn *t, uint64_t at)
{
	uint64_t floor = 0;

	if (at == PITR_NOW)
		return 0;
	if (!t->pruned) {
		meta_get64(t->txn, t->s->meta, "pruned_until", &floor);
		t->pruned = floor + 1;
	}
	return at + 1 < t->pruned ? PITR_OUTOFRANGE : 0;
}

/*
 * Another process (the daemon) may be committing a write whose timestamp
 * is <= t: take the writer lock, which waits for it, and store t as a floor
 * below which no later write may land.
 */
int floor_barrier(pitr_store *s, uint64_t t)
{
	uint64_t floor = 0;
	MDB_txn *txn;
	int rc;

	if (s->flags & PITR_OPEN_RDONLY)
		return 0; /* cannot write: a reader of a quiet store */
	rc = mdb_rc(mdb_txn_begin(s->env, NULL, 0, &txn));
	if (rc)
		return rc;
	meta_get64(txn, s->meta, "read_floor", &floor);
	rc = floor < t ? meta_put64(txn, s->meta, "read_floor", t) : 0;
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_rc(mdb_txn_commit(txn));
}

int pitr_store_resolve_ns(pitr_store *s, uint64_t t, uint64_t *at)
{
	uint64_t now = pitr_store_now(s);
	pitr_policy p = policy_of(s);

	if (t > now || t < earliest(s, now))
		return PITR_OUTOFRANGE;
	uint64_t until = 0, step = 0;
	if (p.mode == PITR_CONTINUOUS) {
		/* a formerly periodic account: its old history is boundaries */
		MDB_txn *txn;
		if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0) {
			if (meta_get64(txn, s->meta, "periodic_until",
				       &until) ||
			    meta_get64(txn, s->meta, "periodic_interval",
				       &step))
				until = 0;
			mdb_txn_abort(txn);
		}
	}
	if (until && step && t <= until) {
		t = s->created + (t - s->created) / step * step;
		if (t < earliest(s, now))
			return PITR_OUTOFRANGE;
	}
	if (p.mode == PITR_PERIODIC) {
		t = s->created + (t - s->created) / p.interval * p.interval;
		if (t < earliest(s, now))
			return PITR_OUTOFRANGE;
	}
	/* one critical section: no writer may take a timestamp <= t between
	 * the wait and the floor */
	pthread_mutex_lock(&s->clock_mtx);
	while (s->pending_ts && s->pending_ts <= t)
		pthread_cond_wait(&s->clock_cond, &s->clock_mtx);
	if (s->read_floor < t)
		s->read_floor = t;
	pthread_mutex_unlock(&s->clock_mtx);
	if (!(s->flags & PITR_OPEN_DAEMON) && t >= last_ts(s)) {
		int rc = floor_barrier(s, t);
		if (rc)
			return rc;
	}
	*at = t;
	return 0;
}

int pitr_store_resolve(pitr_store *s, const char *text, size_t len,
		       uint64_t *at)
{
	uint64_t t;
	int rc = pitr_time_parse(text, len, pitr_store_now(s), &t);

	return rc ? rc : pitr_store_resolve_ns(s, t, at);
}

static uint64_t file_blocks(const char *dir, const char *file)
{
	char path[PATH_MAX];
	struct stat st;

	return join(path, dir, file) == 0 && stat(path, &st) == 0
		   ? (uint64_t)st.st_blocks * 512
		   : 0;
}

int pitr_store_info(pitr_store *s, pitr_info *info)
{
	MDB_envinfo ei;
	MDB_stat st;
	const char *dir;
	MDB_txn *txn;
	MDB_val v;
	int rc;

	memset(info, 0, sizeof(*info));
	memset(&st, 0, sizeof(st));
	rc = mdb_rc(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn));
	if (rc)
		return rc;
	rc = meta_get(txn, s->meta, "name", &v);
	if (!rc) {
		size_t n =
		    v.mv_size < PITR_NAME_MAX ? v.mv_size : PITR_NAME_MAX;
		memcpy(info->name, v.mv_data, n);
	}
	if (!rc)
		rc = meta_get64(txn, s->meta, "last_ts", &info->last_write);
	if (!rc)
		rc = mdb_rc(mdb_stat(txn, s->log, &st));
	info->mutations = st.ms_entries;
	info->log_bytes = (uint64_t)(st.ms_branch_pages + st.ms_leaf_pages +
				     st.ms_overflow_pages) *
			  st.ms_psize;
	if (!rc)
		rc = mdb_rc(mdb_stat(txn, s->versions, &st));
	info->versions = st.ms_entries;
	/* one sequential pass over the live table: O(documents) */
	MDB_cursor *c;
	MDB_val lk, lv;
	if (!rc && !(rc = mdb_rc(mdb_cursor_open(txn, s->live, &c)))) {
		for (int r = mdb_cursor_get(c, &lk, &lv, MDB_FIRST); r == 0;
		     r = mdb_cursor_get(c, &lk, &lv, MDB_NEXT)) {
			struct live_key k;
			struct live_doc d;
			if (live_key_decode(&lk, &k) == 0 &&
			    k.type == LIVE_DOC && live_doc_decode(&lv, &d) == 0) {
				info->live_docs++;
				info->live_bytes += d.size;
			}
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	if (rc)
		return rc;
	info->format = s->format;
	info->max_doc_size = s->max_doc;
	info->created = s->created;
	info->latest = pitr_store_now(s);
	info->policy = policy_of(s);
	info->earliest = earliest(s, info->latest);
	mdb_env_info(s->env, &ei);
	mdb_env_stat(s->env, &st);
	info->used_bytes = (uint64_t)(ei.me_last_pgno + 1) * st.ms_psize;
	mdb_env_get_path(s->env, &dir);
	info->disk_bytes =
	    file_blocks(dir, "data.mdb") + file_blocks(dir, "lock.mdb");
	return 0;
}

/*
 * Transactions
 */

int pitr_txn_begin(pitr_store *s, int write, pitr_txn **out)
{
	pitr_txn *t;
	int rc;

	if (write && (s->flags & PITR_OPEN_RDONLY))
		return PITR_RDONLY;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->s = s;
	rc = mdb_rc(
	    mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn));
	if (rc)
		goto out_free;
	if (write) {
		uint64_t last, now = pitr_clock();
		rc = meta_get64(t->txn, s->meta, "last_ts", &last);
		if (!rc)
			rc = meta_get64(t->txn, s->meta, "next_inc",
					&t->next_inc);
		if (rc) {
			mdb_txn_abort(t->txn);
			goto out_free;
		}
		/* Strictly increasing even when the wall clock steps back,
		 * and after every instant a view has already shown, here or
		 * in another process (the stored floor). */
		t->ts = now > last ? now : last + 1;
		uint64_t floor;
		if (meta_get64(t->txn, s->meta, "read_floor", &floor) == 0 &&
		    t->ts <= floor)
			t->ts = floor + 1;
		pthread_mutex_lock(&s->clock_mtx);
		if (t->ts <= s->read_floor)
			t->ts = s->read_floor + 1;
		s->pending_ts = t->ts;
		int check = now - s->readers_checked >= PITR_NS_PER_SEC;
		if (check)
			s->readers_checked = now;
		pthread_mutex_unlock(&s->clock_mtx);
		/* Free the reader slots of processes that died inside a read
		 * (a pitr restore killed): while one holds its snapshot, LMDB
		 * reuses no page freed since, and the file grows with every
		 * write. At most once a second. */
		int dead;
		if (check)
			mdb_reader_check(s->env, &dead);
	}
	*out = t;
	return 0;
out_free:
	free(t);
	return rc;
}

static void txn_done(pitr_txn *t)
{
	if (t->ts) {
		/* The writer lock is already released: the next writer may have
		 * set its own mark, which is not ours to clear. */
		pthread_mutex_lock(&t->s->clock_mtx);
		if (t->s->pending_ts == t->ts)
			t->s->pending_ts = 0;
		pthread_cond_broadcast(&t->s->clock_cond);
		pthread_mutex_unlock(&t->s->clock_mtx);
	}
	free(t);
}

int pitr_txn_commit(pitr_txn *t, uint64_t *ts)
{
	int rc = 0;

	if (t->ts && (t->idx || t->dirty_meta)) {
		rc = meta_put64(t->txn, t->s->meta, "last_ts", t->ts);
		if (!rc && t->dirty_meta)
			rc = meta_put64(t->txn, t->s->meta, "next_inc",
					t->next_inc);
	}
	if (rc)
		mdb_txn_abort(t->txn);
	else
		rc = write_rc(dir_of(t->s), mdb_txn_commit(t->txn));
	if (ts)
		*ts = t->ts;
	txn_done(t);
	return rc;
}

void pitr_txn_abort(pitr_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	txn_done(t);
}

uint64_t pitr_txn_ts(const pitr_txn *t)
{
	return t->ts;
}

const char *pitr_txn_error(const pitr_txn *t)
{
	return t->err;
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

int pitr_store_destroy(const char *path)
{
	char lock[PATH_MAX];
	int fd, rc = 0;

	if ((rc = join(lock, path, DAEMON_LOCK)))
		return rc;
	fd = open(lock, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB))
		rc = PITR_BUSY;
	if (!rc)
		remove_store_dir(path);
	if (fd >= 0)
		close(fd);
	return rc;
}
