/*
 * pitr.h - the versioned account store of pitrfs.
 *
 * An account is a directory holding one LMDB environment. It contains
 * databases, which contain containers, which contain JSON documents. Every
 * committed mutation gets a nanosecond timestamp, strictly increasing within
 * the account, and is kept in a mutation log; the state at any instant T is
 * every mutation with timestamp <= T. Reads take an instant `at`: PITR_NOW for
 * the live state, or a timestamp for the state as it was then.
 *
 * Everything is done inside a transaction (pitr_txn): a read transaction is a
 * consistent snapshot; a write transaction gets one timestamp, and all its
 * mutations become visible together at commit, under that timestamp.
 *
 * Return codes: 0 on success, a positive errno value for system errors
 * (ENOMEM, ENOSPC, EIO, ...), or a negative PITR_* code below. pitr_strerror()
 * explains both; pitr_errno() maps both onto the errno a filesystem returns.
 *
 * Caveats:
 *  - A transaction, and every pointer and iterator obtained through it, is
 *    used by one thread at a time and is invalid after commit or abort.
 *  - Only one write transaction runs at a time per account (LMDB's writer
 *    lock); keep them short. Read transactions never block writers, but a read
 *    transaction held open for long keeps old pages from being reused.
 *  - Strictly increasing timestamps hold across processes, and so does the
 *    guarantee that the state at T never changes once T is resolved: a
 *    process other than the daemon that resolves an instant at or after the
 *    last commit takes the writer lock once, to wait for writes in flight
 *    and to record T as a floor for later timestamps.
 *  - The library installs jansson's allocation functions for the process
 *    (json_set_alloc_funcs): a program that installs its own breaks it.
 *  - Names (databases, containers, document ids) are byte strings, not
 *    NUL-terminated; they are checked with pitr_name_check().
 *
 * This header is longer than any source file because it is core's whole
 * API, each call documented where it is declared. Its sections: the
 * store, transactions, databases and containers, documents, listings,
 * history, retention, the backup media, verification and repair,
 * restore, and names, times and errors.
 */
#ifndef PITR_H
#define PITR_H

#include <stddef.h>
#include <stdint.h>

#define PITR_VERSION_STRING "0.1.0"

/* The on-disk format this library writes; newer stores are refused.
 * 2: the live table keeps when a document last left each container.
 * 3: a version's body may be a delta on a keyframe of its document.
 * 4: log records, version and live values in compact forms.
 * 5: the versions table keeps each document's key once, its versions as
 *    items of a fixed size.
 * 6: a delta's log record is short: its document named by its base, its
 *    etag by its versions entry. */
#define PITR_FORMAT 6

/** @defgroup errors Return codes (a reserved negative band) */
#define PITR_NOTFOUND	(-32000) /* no such database, container, document */
#define PITR_EXISTS	(-32001) /* the name is already in use */
#define PITR_BADNAME	(-32002) /* the name breaks the naming rules */
#define PITR_BADJSON	(-32003) /* not a JSON object; see pitr_txn_error() */
#define PITR_TOOBIG	(-32004) /* document over the account's size limit */
#define PITR_NOTEMPTY	(-32005) /* database or container not empty */
#define PITR_CORRUPT	(-32006) /* stored data fails its checksum */
#define PITR_NOTSTORE	(-32007) /* the directory is not a pitrfs account */
#define PITR_NEWFORMAT	(-32008) /* the account has a newer on-disk format */
#define PITR_BADTIME	(-32009) /* malformed time or duration */
#define PITR_OUTOFRANGE (-32010) /* time outside the retention window */
#define PITR_RDONLY	(-32011) /* mutation in a read transaction */
#define PITR_BUSY	(-32012) /* the account is mounted by another daemon */
#define PITR_BADPOLICY	(-32013) /* invalid or refused backup policy */
#define PITR_FOREIGN	(-32014) /* backup directory of another account */
#define PITR_NOBACKUP	(-32015) /* no backup directory is set */
#define PITR_NOTMEDIA	(-32016) /* the directory holds no backup */
#define PITR_CONFLICT	(-32017) /* another writer ships to the media */
#define PITR_FIRST_CODE PITR_CONFLICT

/* The `at` argument that means "the live state". */
#define PITR_NOW UINT64_MAX

/* Buffer size for pitr_time_format(): "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ". */
#define PITR_TIME_LEN 32
/* Longest name of a database, container or document id, in bytes. */
#define PITR_NAME_MAX 255
/* Default document size limit. */
#define PITR_DEFAULT_MAX_DOC (2u << 20)

#define PITR_NS_PER_SEC 1000000000ull

typedef struct pitr_store pitr_store;
typedef struct pitr_txn pitr_txn;
typedef struct pitr_iter pitr_iter;

enum pitr_backup_mode { PITR_CONTINUOUS = 0, PITR_PERIODIC = 1 };

typedef struct pitr_policy {
	enum pitr_backup_mode mode;
	uint64_t retention; /* ns */
	uint64_t interval;  /* ns; periodic mode only, else 0 */
} pitr_policy;

/* What pitr_store_create() fixes for the life of the account. */
typedef struct pitr_config {
	const char *name;   /* account name; NULL: the directory's basename */
	pitr_policy policy; /* see pitr_policy_default() */
	uint32_t max_doc_size; /* bytes; 0: PITR_DEFAULT_MAX_DOC */
	uint64_t created;      /* creation instant; 0: now (replays keep the
				  original's) */
} pitr_config;

typedef struct pitr_info {
	char name[PITR_NAME_MAX + 1];
	uint32_t format;
	pitr_policy policy;
	uint32_t max_doc_size;
	uint64_t created;    /* creation time */
	uint64_t earliest;   /* earliest restorable instant */
	uint64_t latest;     /* latest restorable instant: now */
	uint64_t last_write; /* timestamp of the last committed mutation */
	uint64_t mutations;  /* entries in the mutation log */
	uint64_t disk_bytes; /* size of the store's files on disk */
	uint64_t used_bytes; /* bytes of pages in use inside the store */
	uint64_t live_docs;  /* documents now */
	uint64_t live_bytes; /* their bytes (JSON, uncompressed) */
	uint64_t versions;   /* document versions kept, live ones included */
	uint64_t log_bytes;  /* pages of the log (bodies of every version) */
} pitr_info;

/* One version of a document. */
typedef struct pitr_version {
	uint64_t ts;   /* commit timestamp: the document's mtime */
	uint64_t etag; /* XXH3-64 of the body */
	uint32_t size; /* body bytes */
	int deleted;   /* a delete (then size and etag are 0) */
} pitr_version;

/* One entry of a listing; `name` is valid until the next pitr_iter_next(). */
typedef struct pitr_entry {
	const char *name;
	size_t namelen;
	int scratch;	  /* a scratch file (live container listings only) */
	uint64_t inc;	  /* incarnation id of a database or container */
	pitr_version ver; /* documents: the version visible at `at` */
} pitr_entry;

/*
 * Store
 */

/* Fill `p` with the default continuous policy (retention 30 days). */
void pitr_policy_default(pitr_policy *p);

/*
 * Check a policy: continuous needs retention > 0; periodic needs interval > 0
 * and retention >= 2 intervals. Returns 0 or PITR_BADPOLICY.
 */
int pitr_policy_check(const pitr_policy *p);

/*
 * Create a new account at `path`, which must not exist; its parent must.
 * Returns 0, PITR_EXISTS (path exists), ENOENT (no parent), PITR_BADPOLICY,
 * PITR_BADNAME (account name), or a system errno. On error nothing is left at
 * `path`.
 */
int pitr_store_create(const char *path, const pitr_config *cfg);

/* Flags for pitr_store_open(). */
#define PITR_OPEN_DAEMON                                                       \
	0x1		     /* exclusive: the one daemon serving the account  \
			      */
#define PITR_OPEN_NOSYNC 0x2 /* no fsync at commit (bulk loads; see sync()) */
#define PITR_OPEN_RDONLY 0x4 /* read-only; no write transactions */
#define PITR_OPEN_BULK                                                         \
	0x8 /* a new account being filled alone: unsynced                      \
	       until pitr_store_sync(); for restore */

/*
 * Open the account at `path`. With PITR_OPEN_DAEMON the call fails with
 * PITR_BUSY if another daemon holds the account. Without PITR_OPEN_NOSYNC
 * every commit writes its data pages durably (fdatasync) and the metadata
 * lazily: a power loss may undo the last commits (up to the next
 * pitr_store_sync()) but never corrupts the store.
 * Returns 0, PITR_NOTSTORE, PITR_NEWFORMAT, or a system errno.
 * The handle is shared by all threads; close it with pitr_store_close().
 */
int pitr_store_open(const char *path, unsigned flags, pitr_store **out);

/*
 * In the child of a fork() (a daemon going to the background after
 * opening its store): open the store's environment anew, keeping the
 * handle and its daemon lock. LMDB's locks are POSIX record locks, which
 * a child does not inherit: without them, the next process to open the
 * account finds it unused and resets its lock file, the write lock
 * included, under this one's feet. No transaction may be open, and no
 * other thread may use the handle meanwhile. Returns 0 or an errno.
 */
int pitr_store_forked(pitr_store *s);

/* Close the store. Every transaction must have ended. */
void pitr_store_close(pitr_store *s);

/* Flush everything committed to disk (fsync). Returns 0 or an errno. */
int pitr_store_sync(pitr_store *s);

/* Fill `info`. Returns 0 or an error code. */
int pitr_store_info(pitr_store *s, pitr_info *info);

/* The account's document size limit, in bytes. */
uint32_t pitr_store_max_doc(pitr_store *s);

/* The scratch file size limit, in bytes: a multiple of the document limit
 * (an editor's backup of a document it is about to rewrite). */
size_t pitr_store_max_scratch(pitr_store *s);

/* The store's clock: max(wall clock, last committed timestamp), in ns. */
uint64_t pitr_store_now(pitr_store *s);

/*
 * Resolve the text of an instant (RFC 3339 or relative, see pitr_time_parse)
 * against the account: `*at` receives the instant whose state a view shows
 * (in periodic mode, the latest interval boundary <= T). Returns 0,
 * PITR_BADTIME, or PITR_OUTOFRANGE when T is outside the window
 * [earliest, now].
 */
int pitr_store_resolve(pitr_store *s, const char *text, size_t len,
		       uint64_t *at);

/* Same, for an instant already in ns. */
int pitr_store_resolve_ns(pitr_store *s, uint64_t t, uint64_t *at);

/* Same, with the window as it stood at `asof` (<= now): [earliest then,
 * asof]. For an account replayed from backup media, whose window ends
 * where the media end, however long the replay took. */
int pitr_store_resolve_asof(pitr_store *s, uint64_t t, uint64_t asof,
			    uint64_t *at);

/*
 * Wait until no write transaction of this process could still commit a
 * mutation with timestamp <= at; afterwards the state at `at` never changes.
 * Called by pitr_store_resolve*().
 */
void pitr_store_wait_visible(pitr_store *s, uint64_t at);

/*
 * Transactions
 */

#define PITR_TXN_READ  0
#define PITR_TXN_WRITE 1

/*
 * Begin a transaction. A write transaction waits for the account's writer
 * lock and receives its timestamp: max(wall clock, last timestamp + 1).
 * Returns 0, PITR_RDONLY (write on a read-only store), or an errno.
 */
int pitr_txn_begin(pitr_store *s, int write, pitr_txn **out);

/*
 * Commit; `ts` (may be NULL) receives the transaction's timestamp. The
 * transaction is freed whatever the result. Returns 0, ENOSPC (disk full:
 * nothing of the transaction is kept), or another errno.
 */
int pitr_txn_commit(pitr_txn *t, uint64_t *ts);

/* Abort and free the transaction. Accepts NULL. */
void pitr_txn_abort(pitr_txn *t);

/* The timestamp a write transaction commits under; 0 for a read one. */
uint64_t pitr_txn_ts(const pitr_txn *t);

/*
 * Group commit. `fn(t, arg)` makes one change in write transaction `t`
 * (what a caller would do between pitr_txn_begin() and pitr_txn_commit())
 * and returns 0 or a code. Changes that threads commit at the same time
 * share one transaction, so one fdatasync makes them all durable, and so
 * share its timestamp; at most one change per `key` (`keylen` bytes, e.g.
 * a document's container and id; 0 bytes: its own key) goes into one
 * transaction, so that no version replaces another of the same file.
 *
 * Returns when the change is committed as pitr_txn_commit() commits (as
 * durable as one commit of its own), or failed: 0, fn's code, or the
 * commit's. `ts` (may be NULL) receives the timestamp it committed under.
 *
 * `fn` runs on any of the committing threads, once or twice: if a change
 * of a batch, or the batch's commit, fails, the batch is undone and each
 * change runs again alone. So `fn` must change nothing but `t` (it may
 * write into `arg`, e.g. pitr_txn_error(t) to report), and `arg`, `key`
 * must stay valid until the call returns. fn must not begin transactions
 * of its own.
 */
typedef int (*pitr_apply_fn)(pitr_txn *t, void *arg);
int pitr_group_commit(pitr_store *s, pitr_apply_fn fn, void *arg,
		      const void *key, size_t keylen, uint64_t *ts);

/*
 * Detail of the last PITR_BADJSON, PITR_TOOBIG or PITR_CORRUPT of this
 * transaction, e.g. "line 3, column 7: unexpected token near '}'". Valid
 * until the next call on the transaction; "" when there is none.
 */
const char *pitr_txn_error(const pitr_txn *t);

/*
 * Databases and containers
 *
 * Each create makes a new incarnation with its own id; a name deleted and
 * created again is a different incarnation, and the old one stays in
 * history. Containers are addressed by the incarnation of their database;
 * documents by the incarnation of their container.
 */

/* Create database `name`; `inc` (may be NULL) receives its incarnation. */
int pitr_db_create(pitr_txn *t, const char *name, size_t len, uint64_t *inc);

/* Delete an empty database. PITR_NOTFOUND, PITR_NOTEMPTY. */
int pitr_db_delete(pitr_txn *t, const char *name, size_t len);

/* Incarnation of database `name` at `at`. PITR_NOTFOUND if none then. */
int pitr_db_lookup(pitr_txn *t, uint64_t at, const char *name, size_t len,
		   uint64_t *inc);

int pitr_ct_create(pitr_txn *t, uint64_t db, const char *name, size_t len,
		   uint64_t *inc);

/* Delete a container holding no documents and no scratch files. */
int pitr_ct_delete(pitr_txn *t, uint64_t db, const char *name, size_t len);

int pitr_ct_lookup(pitr_txn *t, uint64_t at, uint64_t db, const char *name,
		   size_t len, uint64_t *inc);

/*
 * Rename a database or container atomically, keeping its incarnation and
 * documents; history records a delete of the old name and a create of the
 * new one at the same instant. PITR_EXISTS if `to` is in use.
 */
int pitr_db_rename(pitr_txn *t, const char *from, size_t flen, const char *to,
		   size_t tlen);
int pitr_ct_rename(pitr_txn *t, uint64_t db, const char *from, size_t flen,
		   uint64_t todb, const char *to, size_t tlen);

/*
 * Documents
 */

/*
 * Create or replace document `id` in container `ct` with `body`, which must
 * be one JSON object in UTF-8 of at most the size limit. The bytes are kept
 * exactly. PITR_BADJSON (detail in pitr_txn_error), PITR_TOOBIG,
 * PITR_NOTFOUND (no such container).
 */
int pitr_doc_put(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		 const void *body, size_t len);

/* Delete a document. PITR_NOTFOUND if it does not exist now. */
int pitr_doc_delete(pitr_txn *t, uint64_t ct, const char *id, size_t idlen);

/*
 * Move document `id` of `ct` to `toid` of `toct`, replacing any document
 * there: a delete and a create under the transaction's timestamp.
 */
int pitr_doc_rename(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		    uint64_t toct, const char *toid, size_t tolen);

/*
 * The version of document `id` visible at `at` (a B-tree seek, whatever the
 * number of versions). PITR_NOTFOUND if the document did not exist then.
 */
int pitr_doc_stat(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		  uint64_t at, pitr_version *v);

/*
 * The body visible at `at`: `*body` receives a malloc'd buffer of `*len`
 * bytes, owned by the caller; `v` (may be NULL) its version. The body is
 * checked against its etag: PITR_CORRUPT if damaged, never returned as data.
 */
int pitr_doc_get(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		 uint64_t at, pitr_version *v, void **body, size_t *len);

/* What pitr_doc_check() found of one body: a proof that it was accepted. */
typedef struct pitr_checked {
	uint64_t len, hash_lo, hash_hi; /* all 0: not accepted */
} pitr_checked;

/*
 * Check that `body` is a document this account accepts, without storing it.
 * Returns 0, PITR_BADJSON (detail written to `err`, `errlen` bytes), or
 * PITR_TOOBIG. `ok` (may be NULL) receives the proof of acceptance, which
 * lets a writer parse before it takes the write lock.
 */
int pitr_doc_check(pitr_store *s, const void *body, size_t len, char *err,
		   size_t errlen, pitr_checked *ok);

/*
 * pitr_doc_put() of a body pitr_doc_check() accepted with proof `ok`: the
 * body is hashed and compared with the proof instead of parsed again. A body
 * that does not match its proof is checked in full; the size limit is
 * always checked. A proof is an unkeyed hash: it spares work within a
 * process, and is no defence against a caller that forges one.
 */
int pitr_doc_put_checked(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
			 const void *body, size_t len, const pitr_checked *ok);

/*
 * A prepared document: a body checked (as pitr_doc_check()), hashed and
 * compressed once, before any transaction, so that a writer does that
 * work in parallel with others. Prepared for document `id` of container
 * `ct` (ct 0: for none), it is also encoded as that document's next
 * version would be now (a delta on its live version, or a keyframe on its
 * container's dictionary); its put, inside the write transaction, stores
 * that encoding if the version it is a delta on (the same keyframe, the
 * same count of deltas on it, or none) and the container's dictionary are
 * still those it was made against, and otherwise encodes the body there. It
 * copies what it needs of `body` and `id` (the caller may free or change them
 * after the call) and lives until pitr_prepared_free(), independent of any
 * transaction.
 *
 * pitr_doc_prepare(): 0 and `*out`, PITR_BADJSON (detail written to `err`,
 * `errlen` bytes), PITR_TOOBIG, or ENOMEM; `*out` is NULL on error. What
 * the document's encoding cannot read (a damaged store, memory) is left
 * to the put.
 * pitr_doc_put_prepared(): pitr_doc_put() of the prepared body, as the
 * next version of `id` (0, PITR_BADNAME, PITR_NOTFOUND, PITR_RDONLY, or an
 * errno), whether or not it was prepared for that document; it may be put
 * more than once, in several transactions.
 * pitr_prepared_free() accepts NULL.
 */
typedef struct pitr_prepared pitr_prepared;
int pitr_doc_prepare(pitr_store *s, uint64_t ct, const char *id, size_t idlen,
		     const void *body, size_t len, char *err, size_t errlen,
		     pitr_prepared **out);
int pitr_doc_put_prepared(pitr_txn *t, uint64_t ct, const char *id,
			  size_t idlen, const pitr_prepared *p);
void pitr_prepared_free(pitr_prepared *p);

/*
 * Scratch files: named bytes in a live container, kept durably but never
 * versioned, never in history (they exist for the write-then-rename idiom).
 * They share the container's namespace with nothing: the caller maps names.
 */
int pitr_scratch_put(pitr_txn *t, uint64_t ct, const char *name, size_t len,
		     const void *data, size_t dlen);
/* `*data` is malloc'd and owned by the caller; `mtime` may be NULL. */
int pitr_scratch_get(pitr_txn *t, uint64_t ct, const char *name, size_t len,
		     void **data, size_t *dlen, uint64_t *mtime);
int pitr_scratch_stat(pitr_txn *t, uint64_t ct, const char *name, size_t len,
		      size_t *dlen, uint64_t *mtime);
int pitr_scratch_delete(pitr_txn *t, uint64_t ct, const char *name, size_t len);

/*
 * Commit scratch file `name` of `ct` as document `id` of `toct`: validates
 * it, puts it, and removes the scratch file, in this transaction.
 */
int pitr_scratch_promote(pitr_txn *t, uint64_t ct, const char *name, size_t len,
			 uint64_t toct, const char *id, size_t idlen);

/*
 * Listings, streamed in name order.
 */

enum pitr_list_kind {
	PITR_LIST_DATABASES,  /* parent ignored */
	PITR_LIST_CONTAINERS, /* parent: database incarnation */
	PITR_LIST_DOCUMENTS,  /* parent: container incarnation; live listings
				 also return the scratch files, after the
				 documents */
};

/*
 * Begin a listing of what existed at `at`, starting after name `after`
 * (NULL: from the start), so a listing can resume in a later transaction.
 * Costs one B-tree seek per entry returned, whatever the depth of history.
 * The iterator lives inside `t`: end it before the transaction ends.
 */
int pitr_iter_begin(pitr_txn *t, enum pitr_list_kind kind, uint64_t parent,
		    uint64_t at, const char *after, size_t afterlen,
		    int after_scratch, pitr_iter **out);

/* Next entry. Returns 0, PITR_NOTFOUND at the end, or an error. */
int pitr_iter_next(pitr_iter *it, pitr_entry *e);

/* End a listing. Accepts NULL. */
void pitr_iter_end(pitr_iter *it);

/*
 * History: what the tools read to find a restore point, and restore.
 */

enum pitr_op_kind {
	PITR_OP_DOC_PUT = 1, /* create or replace */
	PITR_OP_DOC_DELETE = 2,
	PITR_OP_DB_CREATE = 3,
	PITR_OP_DB_DELETE = 4,
	PITR_OP_CT_CREATE = 5,
	PITR_OP_CT_DELETE = 6,
};

/* One mutation of the log. Pointers are valid during the callback only. */
typedef struct pitr_mutation {
	uint64_t ts;
	uint32_t idx; /* order within the commit */
	enum pitr_op_kind op;
	uint64_t parent;  /* documents: container; containers: database */
	uint64_t inc;	  /* catalog ops: the incarnation created/deleted */
	const char *name; /* document id, or database/container name */
	size_t namelen;
	uint32_t size; /* documents: body bytes */
	uint64_t etag;
} pitr_mutation;

/* Called for each item; a non-zero return stops the walk and is returned. */
typedef int (*pitr_mutation_fn)(const pitr_mutation *m, void *arg);

/*
 * Walk the mutations with after < ts <= until in commit order. Costs
 * O(log n + mutations walked): the log is keyed by timestamp.
 */
int pitr_log_walk(pitr_txn *t, uint64_t after, uint64_t until,
		  pitr_mutation_fn fn, void *arg);

/*
 * Walk every create and delete of databases and containers (one entry per
 * event, op PITR_OP_DB_* or PITR_OP_CT_*), without reading documents. A
 * rename shows as a delete of the old name and a create of the new one at
 * the same instant, for the same incarnation.
 */
int pitr_catalog_walk(pitr_txn *t, pitr_mutation_fn fn, void *arg);

/* What is known of an incarnation. */
typedef struct pitr_inc_info {
	int is_container;
	uint64_t parent;  /* containers: their database's incarnation */
	uint64_t created; /* instant of the first create */
	uint64_t deleted; /* instant of the delete; 0 while alive */
	size_t namelen;
	char name[PITR_NAME_MAX + 1]; /* latest name, NUL-terminated */
} pitr_inc_info;

int pitr_inc_get(pitr_txn *t, uint64_t inc, pitr_inc_info *info);

/*
 * Walk the incarnations that were ever named `name` under `parent` (0 for
 * databases), oldest first; `m->inc` is the incarnation, `m->ts` when it
 * took the name.
 */
int pitr_name_walk(pitr_txn *t, uint64_t parent, const char *name, size_t len,
		   pitr_mutation_fn fn, void *arg);

/*
 * Walk every version of document `id` of container `ct`, oldest first
 * (deletes included, op PITR_OP_DOC_DELETE).
 */
int pitr_doc_walk(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		  pitr_mutation_fn fn, void *arg);

/* Progress of a bulk copy: documents copied so far; non-zero stops it. */
typedef int (*pitr_progress_fn)(uint64_t done, void *arg);

/*
 * Copy every document of container `srcct` visible at `at` in `src` into
 * container `ct` of the write transaction `*dst`: the restore of one
 * container. Keyframes are copied as stored, each checked against its
 * etag (PITR_CORRUPT: nothing of the damaged document is written); deltas
 * are decoded, checked, and stored as keyframes. The dictionary the
 * source container had at `at`, if any, is copied into `*dst` as `ct`'s
 * own when a document is stored on it: keyframes on it are copied as
 * stored, deltas become keyframes on it. The copy refers to nothing of
 * the source. `ct` must be
 * empty and the newest container of its store, so that every key is
 * appended. Commits `*dst` and begins a new one every 10000 documents
 * (LMDB bounds a transaction's size), so `*dst` changes; `fn` (may be NULL)
 * is called after each commit and at the end. `*done` (may be NULL) counts
 * the documents copied. A container of more than about a thousand
 * documents is read by a thread of the copy's own while the caller's
 * thread writes: `src`, a read transaction, is that thread's until the
 * call returns.
 */
int pitr_ct_copy(pitr_txn **dst, uint64_t ct, pitr_txn *src, uint64_t srcct,
		 uint64_t at, pitr_progress_fn fn, void *arg, uint64_t *done);

/*
 * The last instant at which container `ct` still held the documents that
 * its final run of deletes removed (as `rm -r` deletes every document
 * before the container): just before the first delete after its last
 * write. PITR_NOTFOUND if no document was deleted after its last write.
 * Costs one scan of the container's versions.
 */
int pitr_ct_before_emptied(pitr_txn *t, uint64_t ct, uint64_t *at);

/* A bulk change: a run of deletes or replaces in one container, or a
 * dropped database. */
typedef struct pitr_bulk {
	enum pitr_op_kind op; /* PITR_OP_DOC_DELETE, PITR_OP_DOC_PUT (a run of
				 replaces) or PITR_OP_DB_DELETE */
	uint64_t ct;	      /* container incarnation; 0 for a database */
	uint64_t db;	      /* database incarnation */
	uint64_t first, last; /* its first and last mutation: restore at
				 first - 1 */
	uint64_t docs;	      /* documents touched (distinct ids) */
	uint64_t mutations;   /* mutations of the run */
	uint64_t ct_deleted;  /* the container's delete that ended it; 0 */
	uint64_t db_deleted;  /* PITR_OP_DB_DELETE: the database's delete */
} pitr_bulk;

/* Called for each bulk change; non-zero stops the walk and is returned. */
typedef int (*pitr_bulk_fn)(const pitr_bulk *b, void *arg);

/*
 * Find the bulk changes among the mutations with after < ts <= until, in
 * one walk over them (O(log n + mutations), plus a B-tree seek per put to
 * tell a replace from a create; memory per container touched and per
 * document of an open run).
 *
 * A run of deletes (or of replaces) in a container is a sequence of them
 * each at most `gap` ns after the one before; mutations of other kinds
 * in the container meanwhile (a concurrent writer's creates) and writes
 * elsewhere neither extend nor end it. It is reported when it touched at
 * least `min_docs` documents, or when the container's delete ended it (at
 * most `gap` after its last delete: an rm -r). A database's delete is
 * always reported, with `first` the start of the chain of its containers'
 * deletes and delete runs before it, each within `gap` of the one before
 * (an rm -r of the database), and `docs` what they touched.
 * Reports come as runs end, not in order of `first`; a run still open at
 * `until` is reported at the end.
 */
int pitr_bulk_walk(pitr_txn *t, uint64_t after, uint64_t until, uint64_t gap,
		   uint64_t min_docs, pitr_bulk_fn fn, void *arg);

/*
 * The run of deletes of container `ct` that ends at most `gap` ns before
 * `end` (its delete, as rm -r deletes every document before the
 * container): from the last delete at or before `end` back, each delete
 * at most `gap` after the one before, whatever else was written meanwhile.
 * `*first` receives its first delete (restore at *first - 1), `*count`
 * (may be NULL) its deletes. PITR_NOTFOUND if no delete is that close to
 * `end`. Costs one scan of the container's versions, and memory for its
 * deletes.
 */
int pitr_ct_delete_run(pitr_txn *t, uint64_t ct, uint64_t end, uint64_t gap,
		       uint64_t *first, uint64_t *count);

/*
 * Copy the version of `id` visible at `at` in `src` (a read transaction of
 * another store) into container `ct` of `dst` as its current version. The
 * stored bytes are checked against their etag and copied as they are, not
 * parsed or compressed again. PITR_NOTFOUND, PITR_CORRUPT.
 */
int pitr_doc_copy(pitr_txn *dst, uint64_t ct, pitr_txn *src, uint64_t srcct,
		  const char *id, size_t idlen, uint64_t at);

/*
 * Change an account's policy: retention may change, periodic may become
 * continuous; continuous never becomes periodic (PITR_BADPOLICY). A daemon
 * serving the account sees the change at its next lookup.
 */
int pitr_store_set_policy(pitr_store *s, const pitr_policy *p);

/* The account's policy as stored now. */
int pitr_store_policy(pitr_store *s, pitr_policy *p);

/*
 * Retention
 */

/*
 * The start of the window at instant `now`: max(now - retention, creation),
 * in periodic mode the first interval boundary at or after it, and never
 * before what pruning has removed. Views and restores accept
 * [window start, now].
 */
uint64_t pitr_store_window_start(pitr_store *s, uint64_t now);

typedef struct pitr_prune_stats {
	uint64_t until;	   /* the window's start: its state is kept */
	uint64_t versions; /* document versions removed */
	uint64_t events;   /* database and container events removed */
	uint64_t bytes;	   /* bytes of log records removed */
} pitr_prune_stats;

/*
 * Remove the history that no instant in the window at `now` can see: every
 * version superseded at or before the window's start, deletes visible
 * there, and deleted databases and containers. The state at the window's
 * start is kept. Works in transactions of at most 1000 mutations; costs
 * O(mutations since the last prune). The instants before the window's start
 * become unreadable (PITR_OUTOFRANGE) at the first commit, before anything
 * is removed; a prune that dies resumes at the next call. With `dry_run`
 * nothing changes and `st` counts what would go.
 * One prune runs at a time per account, whatever the process (the daemon's
 * and `pitr prune` on a mounted account): a second waits for the first.
 */
int pitr_prune(pitr_store *s, uint64_t now, int dry_run, pitr_prune_stats *st);

/*
 * Backup media: a directory of append-only segment files holding every
 * mutation of the log in commit order, each segment lz4-compressed,
 * checksummed with XXH3 and chained to the one before by checksum (the
 * format is in README.md). A segment never splits a commit. What is on the
 * media is read from the directory itself, so a copy cut short is simply
 * made again, never twice.
 */

/* Set the account's backup directory (kept in the account; NULL: none). */
int pitr_backup_set_dir(pitr_store *s, const char *dir);

typedef struct pitr_backup_info {
	char dir[4096];		 /* "" when none is set */
	uint64_t shipped;	 /* every mutation at or before it is on the
				    media; 0: none yet */
	uint64_t pending;	 /* mutations not yet on the media; 0 when
				    no directory is set */
	uint64_t oldest_pending; /* the oldest of them; 0 if none */
	char error[256];	 /* the last shipping error; "" if none */
} pitr_backup_info;

/* Where shipping stands (reads the store only). Costs a step per pending
 * mutation, none when no directory is set. */
int pitr_backup_status(pitr_store *s, pitr_backup_info *st);

/*
 * Copy the mutations not yet on the media to the backup directory: one
 * segment, or with `all` until none is pending. `*count` (may be NULL)
 * receives the mutations copied. Takes the directory's lock (waits for
 * another shipper). Returns 0, PITR_NOBACKUP, PITR_FOREIGN, PITR_CORRUPT
 * (the last segment is damaged) or the errno of the directory (ENOENT,
 * EROFS, ENOSPC, ...); on error nothing partial is left in the directory.
 * The outcome is recorded for pitr_backup_status() (error text).
 */
int pitr_backup_ship(pitr_store *s, int all, uint64_t *count);

/* Called for each problem a verification finds. */
typedef void (*pitr_problem_fn)(const char *where, const char *what, void *arg);

/*
 * Check every segment of a backup directory: header and payload checksums,
 * every record's checksum, the chain, no segment missing. `*complete`
 * (may be NULL) receives the instant up to which the media is proven
 * complete. Returns 0, or PITR_CORRUPT after reporting each problem.
 */
int pitr_backup_verify(const char *dir, pitr_problem_fn fn, void *arg,
		       uint64_t *segments, uint64_t *complete);

/* What the media said when the last backup call of this thread failed
 * ("" if nothing more than the return code): no secret is ever in it. */
const char *pitr_backup_media_error(void);

/* The same, reading only `sample` segments whole (the last one and others
 * spread at random over the media; 0: all), the names of the rest. */
int pitr_backup_verify_sample(const char *dir, unsigned sample,
			      pitr_problem_fn fn, void *arg,
			      uint64_t *segments, uint64_t *complete);

/*
 * Check a store (verify.c): every log record's checksum, and every index
 * against the log: each versions and names entry has its log record and
 * agrees with it, each document mutation and catalog event of the log has
 * its entry, live agrees with each document's latest version, and live
 * incarnations with names. `fn` is called for each problem; `*records`
 * receives the log records walked. One pass over each table, with seeks.
 * 0, PITR_CORRUPT after reporting, or an error that stopped the walk.
 */
int pitr_store_verify(pitr_store *s, pitr_problem_fn fn, void *arg,
		      uint64_t *records);

/*
 * Rebuild the indexes of the account at `path` from its log, into a new
 * account at `target` (which must not exist: PITR_EXISTS): every log
 * record checked and replayed under its own timestamp, the meta table and
 * the scratch files of live containers copied. Built aside, verified
 * (pitr_store_verify), synced and renamed into place; `path` is only
 * read. A log record that fails its checksum is reported through `fn` and
 * nothing is built (PITR_CORRUPT): the log is the source of truth, and
 * only backup media can give it back. `*records` receives the records
 * replayed.
 */
int pitr_store_repair(const char *path, const char *target,
		      pitr_problem_fn fn, void *arg, uint64_t *records);

/*
 * Copy the account at `path` whole into a new account at `target` (which
 * must not exist: PITR_EXISTS), every table in key order, so that its
 * pages are full (compact.c): every entry byte for byte, the meta table
 * too, so every instant, setting and backup position is the source's.
 * `path` is only read, in one read transaction (its daemon may go on
 * writing; the copy is the instant the transaction began). Built aside,
 * verified (pitr_store_verify; a problem goes to `fn`, and a damaged
 * source is refused: PITR_CORRUPT, nothing built), synced and renamed
 * into place.
 */
typedef struct pitr_compacted {
	uint64_t entries; /* copied, of every table */
	uint64_t before;  /* bytes of the pages the source's tables use */
	uint64_t after;	  /* and the copy's */
} pitr_compacted;
int pitr_store_compact(const char *path, const char *target,
		       pitr_problem_fn fn, void *arg, pitr_compacted *out);

/*
 * Rebuild an account at `path` (which must not exist) from a backup
 * directory alone: every mutation up to `until` replayed with its own
 * timestamp, so the state at any instant up to `until` is the original's.
 * PITR_OUTOFRANGE (with `*complete` set) when the media cannot prove
 * `until` complete, or when `until` is before their start (then
 * `*complete` is at or after `until`; see pitr_backup_start()).
 */
int pitr_backup_replay(const char *dir, const char *path, uint64_t until,
		       uint64_t *complete);

/* The instant from which backup media hold complete history (0: since the
 * account's creation): older segments left the media, or the store had
 * pruned that history before shipping to them began. */
int pitr_backup_start(const char *location, uint64_t *from);

/*
 * Accounts built aside (stage.c). A new account is built under a staging
 * name beside its final path and renamed into place whole; create, restore
 * and repair do it themselves, and a replay of backup media is built at a
 * path named here.
 */

/* The staging name of `target` for a builder of kind `tag` ("restoring",
 * "replay", "repairing"): TARGET.TAG-PID, into `buf`. 0 or ENAMETOOLONG. */
int pitr_stage_path(const char *target, const char *tag, char *buf,
		    size_t size);

/* Rename the staging account `tmp` to `target`, which must not exist
 * (PITR_EXISTS), and fsync their directory so that the rename survives a
 * power loss. 0 or an errno; an error of the fsync (rare: EIO) comes with
 * the rename done, `tmp` gone. */
int pitr_stage_commit(const char *tmp, const char *target);

/* Remove the staging accounts that dead processes left in the directory
 * of `target` (any target's); never one whose builder is alive. Called by
 * pitr_store_create() and pitr_restore(). */
void pitr_stage_clean(const char *target);

/* What pitr_restore() restores: a database, or one of its containers. */
typedef struct pitr_selection {
	const char *db; /* NUL-terminated */
	const char *ct; /* NULL: every container of the database */
} pitr_selection;

typedef struct pitr_restore_stats {
	uint64_t docs; /* documents restored */
	int bad;       /* PITR_NOTFOUND: the selection that did not exist at
			  `at`, else -1 */
	char error[160]; /* detail of the document that failed, or "" */
} pitr_restore_stats;

/*
 * Restore the state of `src` at `at` (resolved: see pitr_store_resolve)
 * into a new account at `target`, which must not exist (PITR_EXISTS); its
 * parent must (ENOENT). `sel` lists what to restore (nsel 0: every
 * database). `cfg` gives the new account's policy; its name NULL: the
 * basename of `target`; max_doc_size 0: the source's. Deleted databases
 * and containers are restored as they were at `at`. The account is built
 * at pitr_stage_path(target, "restoring"), held with the daemon lock,
 * synced and renamed into place: on any error, nothing is left at
 * `target` nor beside it. `fn` (may be NULL) is called with the documents
 * copied so far; a non-zero return stops the restore and is returned.
 * `st` (may be NULL) receives the counts and what failed.
 */
int pitr_restore(pitr_store *src, uint64_t at, const pitr_selection *sel,
		 size_t nsel, const char *target, const pitr_config *cfg,
		 pitr_progress_fn fn, void *arg, pitr_restore_stats *st);

/* The documents a restore of everything at `at` copies (for a progress
 * bar); 0 when the walk fails. */
uint64_t pitr_count_documents(pitr_txn *t, uint64_t at);

/*
 * Names at instants: what a database or container was called at an
 * instant, from one walk of the catalog (the names a restore at that
 * instant gives it).
 */
typedef struct pitr_namer pitr_namer;

/* Walk the catalog of `t` once. 0, ENOMEM or an error of the walk. */
int pitr_namer_new(pitr_txn *t, pitr_namer **out);

/*
 * The name of incarnation `inc` (a database or container) at instant
 * `at`: its last create
 * (a rename's included) at or before `at`; if pruning took that, the name
 * its first delete after `at` removed; else its latest name. `*name` stays
 * valid until the next call. PITR_NOTFOUND for an unknown incarnation.
 * The namer reads `t` again: free it before `t` ends.
 */
int pitr_namer_name(pitr_namer *n, uint64_t inc, uint64_t at,
		    const char **name, size_t *len);

void pitr_namer_free(pitr_namer *n);

/*
 * Remove an account directory made by pitr_store_create (its own files
 * only): for a restore that did not finish. Fails with PITR_BUSY while a
 * process holds it with PITR_OPEN_DAEMON.
 */
int pitr_store_destroy(const char *path);

/*
 * Names, times, errors
 */

/*
 * Check a name of a database, container or document id: 1-255 bytes, none
 * of '/', '\\', '#', '?' or NUL, no trailing space, not starting with '@'.
 * Returns 0 or PITR_BADNAME.
 */
int pitr_name_check(const char *name, size_t len);

/* Wall clock in ns since the Unix epoch. */
uint64_t pitr_clock(void);

/*
 * Parse an instant: RFC 3339 ("2021-01-15T10:00:00Z", up to 9 fractional
 * digits, 'Z' or an offset such as "+02:00"), or relative to `now`:
 * "-90s", "-5m", "-2h", "-7d". Returns 0 or PITR_BADTIME. No other text is
 * accepted, not even white space.
 */
int pitr_time_parse(const char *text, size_t len, uint64_t now, uint64_t *ns);

/*
 * Format `ns` as RFC 3339 UTC with nanoseconds into `buf`, which holds at
 * least PITR_TIME_LEN bytes; pitr_time_parse() reads it back exactly.
 * Returns buf.
 */
char *pitr_time_format(uint64_t ns, char *buf);

/*
 * Parse a duration: a number and a unit s, m, h or d ("30d", "90m", "45s"),
 * or several ("1h30m"). Returns 0 or PITR_BADTIME (also for zero and on
 * overflow).
 */
int pitr_duration_parse(const char *text, size_t len, uint64_t *ns);

/* Format a duration in the largest exact units ("30d", "1h30m"). */
char *pitr_duration_format(uint64_t ns, char *buf, size_t size);

/* Explain a return code. The string is static. */
const char *pitr_strerror(int rc);

/* The positive errno for a return code, for filesystem callers. */
int pitr_errno(int rc);

#endif /* PITR_H */
