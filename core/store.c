/*
 * store.c - the account: create, open, close, sync, info and destroy;
 * the LMDB environment, its tables and the daemon lock.
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

/* path = dir/file; ENAMETOOLONG if it does not fit PATH_MAX. */
static int join(char path[PATH_MAX], const char *dir, const char *file)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, file);

	return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

/* LMDB reports a write cut short as EIO: on a full filesystem, say so. */
int write_rc(const char *dir, int rc)
{
	struct statvfs vfs;

	rc = mdb_rc(rc);
	if (rc == EIO && dir && statvfs(dir, &vfs) == 0 && vfs.f_bavail == 0)
		return ENOSPC;
	return rc;
}

const char *dir_of(pitr_store *s)
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
	    (rc = mdb_dbi_open(txn, "versions", dbflags | VERSIONS_ITEMS,
			       &s->versions)) ||
	    (rc = mdb_dbi_open(txn, "live", dbflags, &s->live)) ||
	    (rc = mdb_dbi_open(txn, "names", dbflags, &s->names)) ||
	    (rc = mdb_dbi_open(txn, "incs", dbflags, &s->incs))) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE)
			rc = PITR_NOTSTORE;
		goto out_env;
	}
	unsigned vflags = 0;
	mdb_dbi_flags(txn, s->versions, &vflags);
	s->ver_items = (vflags & MDB_DUPSORT) != 0;
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
	pthread_mutex_init(&s->hc_mtx, NULL);
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
	pthread_mutex_destroy(&s->hc_mtx);
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

int store_set_format(pitr_store *s, uint32_t format)
{
	unsigned char fmt[4];
	int items = format >= 5;
	MDB_txn *txn;
	int rc;

	if (!format || format > PITR_FORMAT)
		return EINVAL;
	rc = mdb_rc(mdb_txn_begin(s->env, NULL, 0, &txn));
	if (rc)
		return rc;
	put_le32(fmt, format);
	rc = meta_put(txn, s->meta, "format", fmt, 4);
	MDB_stat st;
	if (!rc && items != s->ver_items) {
		/* the other layout, for an empty table only */
		if (!(rc = mdb_rc(mdb_stat(txn, s->versions, &st))) &&
		    st.ms_entries)
			rc = EINVAL;
		if (!rc)
			rc = mdb_rc(mdb_drop(txn, s->versions, 1));
		if (!rc)
			rc = mdb_rc(mdb_dbi_open(
			    txn, "versions",
			    MDB_CREATE | (items ? VERSIONS_ITEMS : 0),
			    &s->versions));
	}
	if (!rc && format < 3 && s->has_dicts)
		rc = mdb_rc(mdb_drop(txn, s->dicts, 1));
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_rc(mdb_txn_commit(txn));
	if (rc)
		return rc;
	s->format = format;
	s->ver_items = items;
	if (format < 3)
		s->has_dicts = 0;
	return 0;
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
			    k.type == LIVE_DOC &&
			    live_doc_decode(&lv, &d, store_compact(s)) == 0) {
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
