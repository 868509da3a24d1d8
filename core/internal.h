/*
 * internal.h - private to core/: the store's LMDB layout and record codecs.
 *
 * Named databases (all keys compare as raw bytes; integers in keys are
 * big-endian so byte order is numeric order; integers in values are
 * little-endian):
 *
 *   meta      "format" "name" "created" "policy" "maxdoc" "last_ts" "next_inc"
 *   log       (ts u64, idx u32) -> log record: every mutation in commit
 *             order, with the document body. Written in key order (append),
 *             so pages fill densely. The redo log that restore, diff and
 *             shipping read.
 *   versions  (ct u64, id, 0x00, ~ts u64) -> version value. Newest first per
 *             document, so the version visible at T is one seek to
 *             (ct, id, 0, ~T). From format 5 the table keeps items
 *             (MDB_DUPSORT | MDB_DUPFIXED): (ct, id, 0x00) -> items of
 *             (ts u64, version value), oldest first, read and written
 *             as if plain by table.c.
 *   live      (ct u64, type u8, name) -> live value: the documents (type 0)
 *             and scratch files (type 1) of live containers; and, from
 *             format 2, (ct, 2, "") -> u64 ts, when a document last left
 *             the container (delete, rename): a listing at an instant
 *             after it walks this table, not every version.
 *   names     (parent u64, name, 0x00, ~ts u64, ~idx u32) -> name value:
 *             every create and delete of a database (parent 0) or container
 *             (parent: its database's incarnation). idx, the event's log
 *             index, keeps apart two events of one name in one commit (a
 *             directory renamed over an empty one).
 *   incs      (inc u64) -> incarnation record: kind, parent, created,
 *             deleted, name.
 *
 * Document ids and names never contain NUL, so (id, 0x00) sorts every
 * version of one document together and before any longer id.
 */
#ifndef PITR_INTERNAL_H
#define PITR_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <string.h>

#include "pitr.h"

/* Kinds of mutation, as recorded in the log: the public codes. */
#define OP_DOC_PUT   PITR_OP_DOC_PUT
#define OP_DOC_DEL   PITR_OP_DOC_DELETE
#define OP_DB_CREATE PITR_OP_DB_CREATE
#define OP_DB_DELETE PITR_OP_DB_DELETE
#define OP_CT_CREATE PITR_OP_CT_CREATE
#define OP_CT_DELETE PITR_OP_CT_DELETE

/* Log record flags: the stored form of the body (body.c). */
#define LOG_LZ4	  0x1 /* a keyframe: the body as one lz4 block */
#define LOG_DELTA 0x2 /* format 3: a delta against a keyframe of its document */
#define LOG_DICT  0x4 /* format 3: a keyframe on its container's dictionary */

/* A log record of a container's dictionary (format 3; dict.c): parent the
 * container, inc the dictionary's id, no name, the dictionary as its body.
 * Not a mutation: pitr_log_walk() and pruning pass it by. */
#define OP_DICT 8

/* A delta's base: the keyframe it is made on (body.c). */
struct body_base {
	uint64_t ts; /* its log key */
	uint32_t idx;
	uint16_t nth;  /* this delta is the nth on its base */
	uint64_t dict; /* BODY_DICT: the dictionary's id */
};

/*
 * A log record, in one of three forms (log.c has their one codec). Fixed,
 * as formats 1 to 3 write it:
 *   u8 op, u8 flags, u16 namelen, u64 parent, u64 inc, u32 size,
 *   u32 stored, u64 etag, name[namelen], body[stored], u64 sum
 * Compact, as formats 4 and 5 write it (36 header bytes become 14 for a
 * small document), and format 6 for all but deltas:
 *   u8 0x80 | flags << 4 | op, u8 namelen, uvar parent, uvar inc,
 *   uvar size, u64 etag, name[namelen], body[stored], u64 sum
 * Short, as format 6 writes a delta (REC_SHORT_BYTE, a compact first byte
 * with op 0, which no compact record has):
 *   u8 0xa0, uvar size, uvar back, uvar base_idx, uvar nth,
 *   lz4[stored], u32 sum
 * where the base is the record at (ts - back, base_idx), ts the record's
 * own (its key): a keyframe of the same document, whose record names it
 * (log_resolve). A short record carries no name, parent or etag: a reader
 * that knows which version it reads gives them (log_claim), and the etag
 * is checked after decoding as always; one that walks the log reads them
 * from the base and the decoded body (log_resolve). Its body is the
 * delta's LZ4 block without DELTA_HDR: the base is in `base`.
 * uvar is LEB128 (7 bits a byte, low first; at most 10 bytes, no byte of
 * zeros ending it) and stored is what the record's length leaves. The
 * first byte tells the form: a fixed record's op is below 0x80. Every
 * form is read in an account of any format.
 * parent: the container (documents), the database (containers) or 0.
 * inc: the incarnation created or deleted (catalog ops), else 0.
 * sum: XXH3-64 of every byte before it, checked at every decode, so a
 * record is proven whole without decompressing its body; in a short
 * record, the low 32 bits of it seeded with its key (log_short_sum), so a
 * record moved to another key, which would name another base, fails it.
 */
#define LOG_HDR	       36 /* the fixed form's header */
#define LOG_SUM	       8
#define LOG_SHORT_SUM  4
#define LOG_COMPACT    0x80
#define REC_SHORT_BYTE (LOG_COMPACT | LOG_DELTA << 4)
#define LOG_HDR_MAX    (2 + 3 * 10 + 8) /* the compact form's, at most */
enum { REC_FIXED, REC_COMPACT, REC_SHORT };
struct log_rec {
	int op;
	int flags;
	int form;    /* REC_FIXED, REC_COMPACT or REC_SHORT */
	uint64_t ts; /* its key, when decoded with it (log_decode) */
	uint32_t idx;
	uint64_t parent;
	uint64_t inc;
	uint32_t size;	 /* body bytes, uncompressed */
	uint32_t stored; /* body bytes as stored */
	uint64_t etag;
	const char *name;
	size_t namelen;
	const void *body; /* stored bytes */
	struct body_base base; /* REC_SHORT: the delta's base */
};

/*
 * Version value (ts is in the key), in the account's form (ver_form):
 *   VER_FIXED (formats 1 to 3): u32 idx, u8 op, u32 size, u64 etag
 *   VER_COMPACT (format 4): uvar idx for a delete; uvar idx, uvar size,
 *   u64 etag for a put (a put is the longer, 10 bytes at least)
 *   VER_ITEM (format 5, whose versions table keeps items: table.c,
 *   after the item's ts): u32 idx, u32 size (VER_GONE for a delete),
 *   u64 etag (0 for a delete)
 */
enum { VER_FIXED, VER_COMPACT, VER_ITEM };
#define VER_VAL	     17
#define VER_VAL_MAX  18
#define VER_ITEM_VAL 16
#define VER_GONE     UINT32_MAX
/* Live document value: u64 ts, then u32 idx, u32 size (LIVE_DOC_VAL
 * bytes) or, compact, uvar idx, uvar size; then u64 etag. */
#define LIVE_DOC_VAL	 24
#define LIVE_DOC_VAL_MAX 26
/* Live scratch value: u64 mtime, data... */
#define LIVE_SCRATCH_HDR 8
/* Name value: u8 op (create/delete), u64 inc. */
#define NAME_VAL 9
/* Incarnation value: u8 kind, u64 parent, u64 created, u64 deleted, name. */
#define INC_HDR 25
#define INC_MAX (INC_HDR + PITR_NAME_MAX)
struct inc_rec {
	int kind; /* INC_DB or INC_CT */
	uint64_t parent;
	uint64_t created;
	uint64_t deleted; /* 0 while alive */
	const char *name; /* 1..PITR_NAME_MAX bytes, not NUL-terminated */
	size_t namelen;
};

enum { LIVE_DOC = 0, LIVE_SCRATCH = 1, LIVE_LEFT = 2 };
enum { INC_DB = 1, INC_CT = 2 };

/* The versions table's flags from format 5 (table.c). */
#define VERSIONS_ITEMS (MDB_DUPSORT | MDB_DUPFIXED)

/* The daemon's lock file in the store's directory: flock() of the whole file
 * by the daemon serving the account; a write lock on its first byte
 * (fcntl, open file description) by whoever prunes. */
#define DAEMON_LOCK "daemon.lock"

/* What follows (parent, name, 0x00) in the two named tables. */
#define VER_SUFFIX  8  /* ~ts */
#define NAME_SUFFIX 12 /* ~ts, ~idx */
#define KEY_MAX	    (8 + 1 + PITR_NAME_MAX + 1 + NAME_SUFFIX)

#define DICT_HC_MAX	16 /* HC states kept (256 KB each), at most */
#define DICT_HC_MISSES	256 /* dictionaries whose misses are remembered */
#define DICT_HC_IDLE	4   /* work states kept between uses (256 KB each) */
#define DICT_HC_BODY	(16u << 10) /* larger bodies: LZ4's fast mode, as LZ4
				     * HC takes some 4x its time, inside the
				     * write transaction */

struct pitr_store {
	MDB_env *env;
	MDB_dbi meta, log, versions, live, names, incs;
	MDB_dbi dicts; /* from format 3: has_dicts */
	int has_dicts;
	int ver_items; /* versions keeps items (format 5; table.c) */
	/* Dictionaries read so far (immutable: their id is their hash); an
	 * entry lives until the store is closed. */
	pthread_mutex_t dict_mtx;
	struct dict_cached {
		uint64_t id;
		void *bytes;
		size_t len;
		void *stream; /* an LZ4_stream_t with it loaded, or NULL */
	} * dict_cache;
	size_t dict_n, dict_cap;
	/* dict.c's LZ4 HC states for the dictionaries keyframes were last put
	 * on, the ids that lately found none, and idle work states: shared
	 * by the threads that compress keyframes (a write transaction, and
	 * writers preparing theirs before it), under hc_mtx */
	pthread_mutex_t hc_mtx;
	struct dict_hc {
		uint64_t id;
		void *state; /* NULL: a free slot */
		uint64_t used;
		unsigned refs; /* threads compressing with it: not evicted */
	} hc[DICT_HC_MAX];
	void *hc_idle[DICT_HC_IDLE];
	unsigned hc_idle_n;
	uint64_t hc_clock; /* ticks at each keyframe put on a dictionary */
	struct dict_hc_miss {
		uint64_t id, at; /* a dictionary without a state, its last miss */
	} hc_missed[DICT_HC_MISSES];
	unsigned hc_miss_next;
	uint64_t hc_made; /* states made so far */
	uint64_t pre_stored; /* puts that stored their prepared encoding (doc.c,
				inside the write transaction; for tests) */
	unsigned flags;
	int lockfd; /* held by the daemon: one per account */
	uint32_t max_doc;
	uint32_t format;
	uint64_t created;
	pitr_policy policy;
	/* The timestamp of this process's write transaction in flight, 0 if
	 * none: readers of an instant at or after it wait for its end. */
	pthread_mutex_t clock_mtx;
	pthread_cond_t clock_cond;
	uint64_t pending_ts;
	/* The latest instant a view of this process has resolved: later
	 * commits get later timestamps, so a view never changes. */
	uint64_t read_floor;
	uint64_t pruned;	  /* instants before it are pruned (meta) */
	uint64_t readers_checked; /* when (clock_mtx) */
	/* Group commit (group.c): changes waiting for a transaction, and
	 * whether a thread is committing a batch. */
	pthread_mutex_t group_mtx;
	pthread_cond_t group_cond;
	struct group_req *group_head, **group_tail;
	int group_leading;
};

/* Changes waiting for a group commit, for tests (group.c). */
int group_queued(pitr_store *s);

struct pitr_txn {
	pitr_store *s;
	MDB_txn *txn;
	uint64_t ts;	/* write transactions */
	uint32_t idx;	/* next log index under ts */
	int dirty_meta; /* last_ts/next_inc to write back */
	uint64_t next_inc;
	uint64_t pruned; /* the prune floor this transaction sees, +1; 0:
			    not read yet */
	char err[160];
};

/* Byte codecs. */
static inline void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void put_be32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* LEB128 (uvar): 7 bits a byte, low first. uvar_get reads one from at
 * most `end - *p` bytes, moving *p past it: PITR_CORRUPT when cut short,
 * past 64 bits, or ended by a zero byte, which uvar_put never writes. */
static inline size_t uvar_len(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

static inline unsigned char *uvar_put(unsigned char *p, uint64_t v)
{
	for (; v >= 0x80; v >>= 7)
		*p++ = (unsigned char)(v | 0x80);
	*p++ = (unsigned char)v;
	return p;
}

static inline int uvar_get(const unsigned char **p, const unsigned char *end,
			   uint64_t *v)
{
	const unsigned char *q = *p;
	uint64_t x = 0;

	for (unsigned shift = 0; q < end && shift < 70; shift += 7) {
		unsigned char b = *q++;
		if (shift == 63 && b > 1)
			return PITR_CORRUPT;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (!b && shift)
				return PITR_CORRUPT;
			*v = x;
			*p = q;
			return 0;
		}
	}
	return PITR_CORRUPT;
}

/* Whether the account writes its records in the compact forms: log
 * records, version and live document values (format 4). */
static inline int store_compact(const pitr_store *s)
{
	return s->format >= 4;
}

/* The form of the account's version values. */
static inline int ver_form(const pitr_store *s)
{
	return s->ver_items	? VER_ITEM
	       : s->format >= 4 ? VER_COMPACT
				: VER_FIXED;
}

/* Name value ops. */
enum { NAME_CREATE = 1, NAME_DELETE = 2 };

struct ver_rec {
	uint32_t idx; /* of the log record under the key's ts */
	int op;	      /* OP_DOC_PUT or OP_DOC_DEL */
	uint32_t size;
	uint64_t etag;
};

/*
 * Record codecs (codec.c): the one encoder and decoder of each key and
 * value of the index and meta tables. Decoders check every length and
 * field and return 0 or PITR_CORRUPT; names they return point into the
 * bytes decoded.
 */

/* Key builders: return the key length written to `k` (KEY_MAX bytes). */
size_t key_named(unsigned char *k, uint64_t parent, const char *name,
		 size_t len, uint64_t ts);
size_t key_event(unsigned char *k, uint64_t parent, const char *name,
		 size_t len, uint64_t ts, uint32_t idx);
size_t key_live(unsigned char *k, uint64_t ct, int type, const char *name,
		size_t len);
void key_log(unsigned char *k, uint64_t ts, uint32_t idx);

/* A log key: (ts, idx). */
int log_key_decode(const MDB_val *k, uint64_t *ts, uint32_t *idx);

/* versions: the value (at most VER_VAL_MAX bytes; the length returned),
 * in the form `compact` says, and a whole entry. */
size_t ver_encode(unsigned char *v, const struct ver_rec *r, int compact);
int ver_decode(const MDB_val *v, struct ver_rec *r, int compact);
struct ver_entry {
	uint64_t ct;
	const char *id;
	size_t idlen;
	uint64_t ts;
	struct ver_rec v;
};
/* `val` NULL: the key only. */
int ver_entry_decode(const MDB_val *key, const MDB_val *val,
		     struct ver_entry *e, int compact);

/* names: the value (NAME_VAL bytes), and a whole entry. */
void name_encode(unsigned char *v, int op, uint64_t inc);
int name_decode(const MDB_val *v, int *op, uint64_t *inc);
struct name_entry {
	uint64_t parent;
	const char *name;
	size_t namelen;
	uint64_t ts;
	uint32_t idx;
	int op; /* NAME_CREATE, NAME_DELETE */
	uint64_t inc;
};
/* `val` NULL: the key only. */
int name_entry_decode(const MDB_val *key, const MDB_val *val,
		      struct name_entry *e);

/* live: keys, document values (at most LIVE_DOC_VAL_MAX bytes, in the form
 * `compact` says; the length returned), the LIVE_LEFT value, scratch
 * values. */
struct live_key {
	uint64_t ct;
	int type; /* LIVE_DOC, LIVE_SCRATCH, LIVE_LEFT (no name) */
	const char *name;
	size_t namelen;
};
int live_key_decode(const MDB_val *k, struct live_key *lk);
struct live_doc {
	uint64_t ts;
	uint32_t idx, size;
	uint64_t etag;
};
size_t live_doc_encode(unsigned char *v, const struct live_doc *d,
		       int compact);
int live_doc_decode(const MDB_val *v, struct live_doc *d, int compact);
int live_left_decode(const MDB_val *v, uint64_t *ts);
int scratch_decode(const MDB_val *v, uint64_t *mtime, const void **data,
		   size_t *len);

/* incs: the value (at most INC_MAX bytes) and the key. inc_encode returns
 * the length, or 0 when the record cannot be encoded (a name of 0 or over
 * PITR_NAME_MAX bytes, an unknown kind). */
size_t inc_encode(unsigned char *v, const struct inc_rec *r);
int inc_decode(const MDB_val *v, struct inc_rec *r);
int inc_key_decode(const MDB_val *k, uint64_t *inc);

/* The incarnation record of `inc` (catalog.c); `r->name` points into the
 * map. 0, PITR_NOTFOUND or PITR_CORRUPT. */
int inc_get(pitr_txn *t, uint64_t inc, struct inc_rec *r);

/* meta values: integers (u64 little-endian: created, last_ts, next_inc,
 * read_floor, pruned_until, periodic_until, periodic_interval, the
 * live_floor of prune, media_writer, media_retain_next; u32: format,
 * maxdoc), the policy (POLICY_VAL bytes), prune_next (ts, idx: 12 bytes),
 * and shipped_ts, decimal text (written by ship.c). name and backup_dir
 * are bytes, backup_error text. */
#define POLICY_VAL 17
int u64_decode(const MDB_val *v, uint64_t *x);
int u32_decode(const MDB_val *v, uint32_t *x);
void policy_encode(unsigned char *b, const pitr_policy *p);
int policy_decode(const MDB_val *v, pitr_policy *p);
void prune_next_encode(unsigned char *v, uint64_t ts, uint32_t idx);
int prune_next_decode(const MDB_val *v, uint64_t *ts, uint32_t *idx);
int shipped_ts_decode(const MDB_val *v, uint64_t *x);

/* Decode a log record of any form, at log key `k` (r->ts, r->idx); `k`
 * NULL (a record away from its key): the short form is refused. 0 or
 * PITR_CORRUPT. A short record is decoded without name, parent and etag
 * (NULL, 0, 0): see log_claim and log_resolve. */
int log_decode(const MDB_val *k, const MDB_val *v, struct log_rec *r);
/* The bytes `r` takes in `form` (REC_SHORT: a delta only, of a document's
 * put, r->ts its key's), and its encoding into exactly that many at `p`
 * (body and name copied, the sum computed). Either converts between the
 * short form's body and the others' (DELTA_HDR first). */
size_t log_rec_size(const struct log_rec *r, int form);
void log_rec_encode(unsigned char *p, size_t n, const struct log_rec *r,
		    int form);

/* Append record `rec`, decoded as `r` (a short one resolved), at log key
 * (ts, idx) as a replay does: as it is, but a delta of another form
 * written short when the account writes deltas so. */
int log_put_replayed(pitr_txn *t, uint64_t ts, uint32_t idx, const MDB_val *rec,
		     const struct log_rec *r);

/* The checksum of a short record's `n` bytes at log key (ts, idx). */
uint32_t log_short_sum(const void *p, size_t n, uint64_t ts, uint32_t idx);

/* The record at log key (ts, idx): 0, PITR_NOTFOUND, PITR_CORRUPT. */
int log_read(pitr_txn *t, uint64_t ts, uint32_t idx, struct log_rec *r);

/* A short record read as the version of document (parent, name) whose
 * etag is `etag` (as the versions or live entry that led to it says):
 * filled in, to be checked when its body is decoded (the base must be a
 * keyframe of that document, the body hash to that etag). Other forms are
 * left as they are, for the caller to compare. */
void log_claim(struct log_rec *r, uint64_t parent, const char *name,
	       size_t namelen, uint64_t etag);

/* A short record's name and parent read from its base (`r->name` then
 * points into the map): what a walk of the log, which knows nothing of
 * it, needs. 0 (other forms: nothing to do), PITR_CORRUPT when the base
 * is missing, damaged or no keyframe. */
int log_name(pitr_txn *t, struct log_rec *r);
/* The same, and its etag as its versions entry says (not checked until
 * its body is decoded, as a compact record's own), or where it has none,
 * as log_hash. */
int log_resolve(pitr_txn *t, struct log_rec *r);
/* The same, its etag that of its body decoded: what repair, verify,
 * shipping and pruning's rewrites take, the log being the truth (its
 * checksums prove the record and its base; nothing proves an index). */
int log_hash(pitr_txn *t, struct log_rec *r);

/* Append a log record under the transaction's timestamp; `*idx` receives
 * its index. The body is compressed here. */
int log_append(pitr_txn *t, int op, uint64_t parent, uint64_t inc,
	       const char *name, size_t namelen, const void *body, size_t size,
	       uint64_t etag, uint32_t *idx);

/* Append a record whose body is already stored (copied from `src`). */
int log_append_stored(pitr_txn *t, int op, uint64_t parent, const char *name,
		      size_t namelen, const struct log_rec *src, uint32_t *idx);

/* Decode and verify a record's body into a malloc'd buffer: a delta's
 * base record is read and checked too (same document, a keyframe, its own
 * checksum; its body is proven by the delta's etag, checked after the
 * delta is decoded on it). PITR_CORRUPT, with the error text set, when
 * either fails: never a wrong body. */
int log_body(pitr_txn *t, const struct log_rec *r, void **body, size_t *len);

/* How a body may be encoded: as a delta on `base` (whose decoded body is
 * base_body; NULL: no base) while that pays, else as a keyframe on the
 * dictionary of container `dict_ct` (0: none) while that beats the plain
 * keyframe, else as the plain keyframe `key` already packed by log_pack()
 * (NULL: encoded here). */
struct dict_ref;
struct body_enc {
	struct body_base base;
	const void *base_body;
	size_t base_len;
	/* the container whose dictionary a keyframe is tried on, looked up
	 * (or made) only when no delta pays; 0: none */
	uint64_t dict_ct;
	const struct log_rec *key;
	/* the body as log_encode_body() encoded it before the transaction,
	 * still valid: its flags, body and stored bytes are stored as they
	 * are, and nothing above is looked at; NULL: none */
	const struct log_rec *done;
};

/* Encode `body` as `enc` says into r's size, flags, body and stored: the
 * bytes in `buf` (body_bound(size) of them) or enc->key's. In a write
 * transaction, or a read one (then no dictionary is made). 0 or an
 * error. */
int log_encode_body(pitr_txn *t, struct log_rec *r, const void *body,
		    size_t size, const struct body_enc *enc, char *buf);

/* Append a record like `tmpl` (its op, parent, inc, name, etag) with
 * `body` encoded as `enc` says (NULL: a plain keyframe). */
int log_append_body(pitr_txn *t, const struct log_rec *tmpl, const void *body,
		    size_t size, const struct body_enc *enc, uint32_t *idx);

/* The record at log key `k` as backup media carry it, in `*out`: a short
 * one resolved and written in the compact form, in a malloc'd `*buf` (the
 * caller frees it, its etag that of its decoded body), which a reader
 * decodes without its key and without another record; any other as it
 * is (*buf NULL). 0 or PITR_CORRUPT (the
 * record or a short one's base damaged), ENOMEM. */
int log_portable(pitr_txn *t, const MDB_val *k, const MDB_val *v, MDB_val *out,
		 void **buf);

/* Replace the delta at log key (ts, idx) by a keyframe of the same body
 * (pruning, before its base goes). 0 when it is no delta on (bts, bidx). */
int log_rekey(pitr_txn *t, uint64_t ts, uint32_t idx, uint64_t bts,
	      uint32_t bidx);

/* A record in the form that stands alone: a delta, or a keyframe on
 * another dictionary than `d`, decoded and stored as a keyframe on `d`
 * when that is smaller, else alone, in a malloc'd `*buf` (the caller
 * frees it; NULL when `r` was left as it is). `d` NULL: keyframes on a
 * dictionary are decoded too. What restore, rename and copies store:
 * nothing they write refers to another record but `d`, which the caller
 * gives the destination (dict_adopt). */
int log_standalone(pitr_txn *t, struct log_rec *r, const struct dict_ref *d,
		   void **buf);

/*
 * The body codec (body.c): pure functions over a record's stored bytes.
 */
#define DELTA_HDR 14
/* A delta is kept when it is at most 1/DELTA_FRACTION of the body, and
 * after DELTA_MAX deltas on one base the next version is a keyframe. */
#define DELTA_FRACTION 4
#define DELTA_MAX      64
#define DICT_HDR 8
enum { BODY_KEY = 0, BODY_DELTA = 1, BODY_DICT = 2 };
/* A block whose dictionary (or base) and body together are at most this
 * is worked on in a buffer of the thread's (body.c); larger ones are not. */
#define BODY_PREFIX_MAX (2 * DICT_MAX + (64u << 10))

/* The form of r's stored body: BODY_KEY, BODY_DELTA or BODY_DICT (keyframe
 * on a dictionary), with `base` filled in, or PITR_CORRUPT for a form no
 * encoder writes. */
int body_form(const struct log_rec *r, struct body_base *base);

/* Decode a keyframe into `out` (r->size bytes): 0 or PITR_CORRUPT. */
int body_key_decode(const struct log_rec *r, void *out);

/* Decode a delta given its base's body: 0 or PITR_CORRUPT. */
int body_delta_decode(const struct log_rec *r, const void *base,
		      size_t baselen, void *out);

/* Decode a keyframe on a dictionary given the dictionary. */
int body_dict_decode(const struct log_rec *r, const void *dict, size_t dlen,
		     void *out);

/* Encode a keyframe on dictionary `id` (whose bytes are `dict`; `stream`,
 * if not NULL, an LZ4_stream_t it is loaded into, which is copied rather
 * than the dictionary loaded again): its stored length, or PITR_TOOBIG. */
int body_dict_encode(uint64_t id, const void *dict, size_t dlen,
		     const void *stream, const void *body, size_t len,
		     void *buf, size_t cap);

/* A malloc'd LZ4_stream_t with `dict` loaded (NULL when out of memory),
 * for body_dict_encode; `dict` must outlive it. */
void *body_stream_new(const void *dict, size_t dlen);

/* The same keyframe form searched harder, with LZ4 HC at BODY_HC_LEVEL:
 * about a fifth smaller on small JSON documents, for several times the
 * fast mode's time. `loaded` is a state from body_hc_new(dict), which
 * `work` (one from body_hc_new(NULL, 0), used by one thread at a time)
 * compresses against without changing it. */
int body_dict_encode_hc(uint64_t id, const void *loaded, void *work,
			const void *body, size_t len, void *buf, size_t cap);

/* A malloc'd LZ4 HC state with `dict` loaded (dlen 0: none), NULL when
 * out of memory; `dict` must outlive it. 256 KB; loading 32 KB takes about
 * 30 us. Freed with body_hc_free(). */
void *body_hc_new(const void *dict, size_t dlen);
void body_hc_free(void *st);
#define BODY_HC_LEVEL 2

/* Bytes that always suffice for an encoding of a `len`-byte body. */
size_t body_bound(size_t len);

/* Encode a keyframe into buf (body_bound(len) bytes): its stored length,
 * *flags set; or PITR_TOOBIG. */
int body_key_encode(const void *body, size_t len, void *buf, size_t cap,
		    int *flags);

/* Encode a delta of `body` on a base whose body is `base`: its stored
 * length, or PITR_TOOBIG. */
int body_delta_encode(const struct body_base *b, const void *base,
		      size_t baselen, const void *body, size_t len, void *buf,
		      size_t cap);

/* The DELTA_HDR bytes of a delta's header, at `p`. */
void body_delta_header(const struct body_base *b, unsigned char *p);

/* The room a delta of a `len`-byte body may take: given as `cap`, LZ4
 * stops as soon as the delta would not pay. */
size_t body_delta_cap(size_t len);

/* Does a delta of `stored` bytes of a `len`-byte body pay? */
int body_delta_pays(size_t stored, size_t len);

/*
 * Container dictionaries (dict.c), from format 3. The dicts table:
 *   (0x01, ct u64) -> the container's dictionary
 *   (0x02, id u64) -> a dictionary
 * both valued u64 id, u64 ts, u32 idx (its log record's key): DICT_VAL.
 * A dictionary is the concatenated bodies of its container's documents,
 * made once they are DICT_MAX bytes, or DICT_SCAN documents of at least
 * DICT_MIN_BYTES (and never fewer than DICT_MIN_DOCS); its id is its
 * XXH3-64, so it never changes once referenced (another gets another id).
 */
#define DICT_VAL	20
#ifndef DICT_MAX
#define DICT_MAX	(32u << 10)
#endif
#define DICT_MIN_BYTES	(8u << 10)
#define DICT_MIN_DOCS	16
#define DICT_SCAN	64 /* live documents a put looks at, at most */
struct dict_ref {
	uint64_t id;
	const void *bytes;
	size_t len;
	const void *stream; /* an LZ4_stream_t with it loaded, or NULL */
	void *owned;	    /* to free, when not in the store's cache */
};

/* Encode `body` as a keyframe on `d`, in transaction `t` (a write one, or
 * a read one of a writer preparing its version; any thread): with LZ4 HC
 * where the dictionary is cached and in use (see dict.c) and the body at
 * most DICT_HC_BODY bytes, else with LZ4's fast mode. The stored length,
 * or PITR_TOOBIG. */
int dict_encode(pitr_txn *t, const struct dict_ref *d, const void *body,
		size_t len, void *buf, size_t cap);

/* Dictionary `id`, checked against its id (cached in the store once
 * read). PITR_CORRUPT when it is missing or damaged. */
int dict_get(pitr_txn *t, uint64_t id, struct dict_ref *d);

/* Container `ct`'s dictionary id and its record's instant: PITR_NOTFOUND
 * when it has none, or the account keeps none. */
int ct_dict(pitr_txn *t, uint64_t ct, uint64_t *id, uint64_t *ts);

/* The dictionary of container `ct` for a keyframe written now, built when
 * the container has enough documents; PITR_NOTFOUND when there is none. */
int dict_of_ct(pitr_txn *t, uint64_t ct, struct dict_ref *d);

/* The dictionary of container `ct` if its record was written at or before
 * `at` (looked up only, never made; a dictionary of the same bytes made
 * earlier for another container is that one's record): PITR_NOTFOUND
 * otherwise. Its bytes are those of documents of the account at or before
 * that record's instant. */
int dict_at(pitr_txn *t, uint64_t ct, uint64_t at, struct dict_ref *d);

/* Make `d` (another account's, whose bytes are checked against its id)
 * the dictionary of container `ct` of this one: its own record, logged
 * here, so keyframes on it can be copied as they are stored. 0; or
 * PITR_NOTFOUND where the account keeps no dictionaries or `ct` has
 * another one. */
int dict_adopt(pitr_txn *t, uint64_t ct, const struct dict_ref *d);

/* 0 if `d` is, or may become, `ct`'s dictionary (dict_adopt may still
 * fail as any write may); PITR_NOTFOUND if not; or an error. Writes
 * nothing. */
int dict_adoptable(pitr_txn *t, uint64_t ct, const struct dict_ref *d);

/* Set, pitr_ct_copy makes no reader thread and walks as it does when
 * none can be made (for the tests). */
extern int copy_alone;

/* Release what dict_get or dict_of_ct gave. */
void dict_put(struct dict_ref *d);

/* Call fn with the log key of every dictionary record, in id order, until
 * it returns nonzero (which is returned). A dictionary may serve several
 * containers (one of the same bytes is reused), its record naming only
 * the first. */
int dict_each(pitr_txn *t, int (*fn)(uint64_t ts, uint32_t idx, void *arg),
	      void *arg);

/* Index a dictionary record being replayed at (t->ts, idx). */
int dict_replay(pitr_txn *t, const struct log_rec *r, uint32_t idx);

/* Decode a dicts value: 0 or PITR_CORRUPT. */
int dict_val_decode(const MDB_val *v, uint64_t *id, uint64_t *ts,
		    uint32_t *idx);

/* Free the store's cache of dictionaries. */
void dict_cache_free(pitr_store *s);

/* Translate an LMDB return code into a pitr one. */
int mdb_rc(int rc);

/* A bulk copy or replay commits every this many bytes of records at the
 * latest: without a write map, LMDB holds a transaction's pages in memory
 * until its commit. */
#define BULK_BYTES (64u << 20)

/* May this transaction read the state at `at`? 0, or PITR_OUTOFRANGE when
 * pruning has removed it. */
int at_readable(pitr_txn *t, uint64_t at);

/* Is `ct` a live container incarnation? 0 or PITR_NOTFOUND. */
int ct_alive(pitr_txn *t, uint64_t ct);

/* JSON acceptance (json.c). */
int json_check(const void *body, size_t len, uint32_t max, char *err,
	       size_t errlen);

/* 1 when a scan proves `body` one JSON object json_check() accepts; 0 when
 * it cannot tell. */
int json_proven(const void *body, size_t len);

/* Insert a document version whose body is already stored (restore). */
int doc_put_stored(pitr_txn *t, uint64_t ct, const char *id, size_t idlen,
		   const struct log_rec *r);

/* Set r's size, flags, body and stored for `size` bytes of `body`: lz4
 * into `buf` (`bound` = LZ4_compressBound(size) bytes) when that pays,
 * else the bytes themselves (r->body then borrows `body`). */
void log_pack(struct log_rec *r, const void *body, size_t size, char *buf,
	      int bound);

/* The log index of what a listing returned last: a document's version,
 * or the create event of a database's or container's name. */
uint32_t iter_log_idx(const pitr_iter *it);

/* Describe a damaged record in the transaction's error text. */
void log_damage(pitr_txn *t, const struct log_rec *r);

/* Apply a log record being replayed from backup media, under t->ts and
 * t->idx set to the record's own key. */
int doc_replay(pitr_txn *t, const struct log_rec *r, uint32_t idx);
int catalog_replay(pitr_txn *t, const struct log_rec *r);

/*
 * Replay of log records into a new account (repair.c): each record is
 * appended under its own (ts, idx) and its index entries made, as its
 * commit made them; a transaction is committed every REPLAY_BATCH records
 * or BULK_BYTES bytes. Repair replays a store's log with it; the replay of
 * backup media applies the same step to the records of its segments.
 */
#define REPLAY_BATCH 10000
struct replayer {
	pitr_store *s;	   /* the account being built */
	pitr_txn *t;	   /* the open transaction, or NULL */
	uint64_t n;	   /* records replayed */
	uint64_t last_ts;  /* the last one's */
	uint64_t next_inc; /* the highest next incarnation committed */
	size_t bytes;	   /* of records since the last commit */
};
int replayer_apply(struct replayer *rp, uint64_t ts, uint32_t idx,
		   const MDB_val *rec, const struct log_rec *lr);

/* The configuration the media's ACCOUNT file describes, `name` its
 * account's name. PITR_CORRUPT if it is not one. */
int backup_account_read(const char *dir, pitr_config *cfg, char *name,
			size_t size);

/* What is on the backup media: every mutation at or before the result;
 * `*configured` says whether a backup directory is set. */
uint64_t backup_shipped(pitr_store *s, int *configured);

/* Wait for writes in flight and make `t` a floor that every later commit
 * lands above (see pitr_store_resolve). */
int floor_barrier(pitr_store *s, uint64_t t);

/* The meta table: get (PITR_NOTFOUND if absent), put (NULL data: delete). */
int meta_get(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *v);
int meta_put(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *data,
	     size_t len);

/* 64-bit little-endian meta values (meta.c); get: PITR_NOTSTORE if absent. */
int meta_put64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value);
int meta_get64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *value);

/* The account's policy as last refreshed (policy.c). */
pitr_policy policy_of(pitr_store *s);

/* The earliest instant a view at `now` may show (clock.c). */
uint64_t earliest(pitr_store *s, uint64_t now);

/* LMDB's code of a write as a pitr one, ENOSPC when the filesystem of
 * `dir` is full (store.c); the directory of the store's environment. */
int write_rc(const char *dir, int rc);
const char *dir_of(pitr_store *s);

/*
 * Whole files (file.c). Each returns 0 or an errno (file_read also
 * PITR_CORRUPT for a file that is not regular or is over `max` bytes).
 */
struct file_part {
	const void *data;
	size_t len;
};

/* Write all `n` bytes, through short writes and EINTR. */
int file_write_all(int fd, const void *buf, size_t n);

/* Read a whole file of at most `max` bytes into a malloc'd `*buf` (the
 * caller frees it). */
int file_read(const char *path, size_t max, unsigned char **buf, size_t *len);

/* fsync a directory, so that a rename in it survives a power loss. */
int dir_sync(const char *dir);

/* Replace dir/name with the concatenated parts, durably: written to
 * dir/.name.tmp, fsync'd, renamed over dir/name, and the directory
 * fsync'd. On failure dir/name is unchanged and the temporary removed. */
int file_replace(const char *dir, const char *name, const struct file_part *part,
		 int nparts);

/* Lock a staging directory (stage.c) against its removal as a dead
 * process's: the fd holding the lock, or -1 when another holds it. */
int stage_lock(const char *dir);

/* Call fn on each version entry of container `ct` in key order, decoded,
 * until it returns nonzero; that, PITR_CORRUPT for an entry that does not
 * decode, an LMDB error, or 0 at the end. */
int ct_versions_each(pitr_txn *t, uint64_t ct,
		     int (*fn)(const struct ver_entry *e, void *arg),
		     void *arg);

/*
 * The named tables' entries in either layout (table.c): plain, or with a
 * key's last DUP_KEY bytes beginning a data item of DUP_ITEM bytes (the
 * versions table from format 5). Callers see plain keys and values; the
 * key a cursor returns lives in it until its next call. LMDB's codes.
 */
#define DUP_KEY	 VER_SUFFIX
#define DUP_ITEM (DUP_KEY + VER_ITEM_VAL)
#define TCUR_KEY (511 + DUP_KEY) /* LMDB's longest key, and a ~ts */
struct tcur {
	MDB_cursor *c;
	int dup;
	int at; /* items: TCUR_FRESH, TCUR_ON an item, TCUR_LOST by a seek */
	unsigned char k[TCUR_KEY];
};
enum { TCUR_FRESH, TCUR_ON, TCUR_LOST };
int tcur_open(MDB_txn *txn, MDB_dbi dbi, struct tcur *tc);
void tcur_close(struct tcur *tc);
/* MDB_FIRST, LAST, NEXT, PREV, GET_CURRENT, SET, SET_KEY, SET_RANGE. On
 * a table of items, a step after a seek that found nothing is
 * MDB_NOTFOUND (a plain cursor's would step from where it was left), and
 * no entry is deleted under an open cursor (LMDB would leave it on the
 * item before, in the plain order, not the one after). */
int tcur_get(struct tcur *tc, MDB_val *key, MDB_val *val, MDB_cursor_op op);
int tbl_get(MDB_txn *txn, MDB_dbi dbi, const MDB_val *key, MDB_val *val);
/* flags: 0 (an entry of the key is replaced) or MDB_APPEND (the key is
 * past every entry's) */
int tbl_put(MDB_txn *txn, MDB_dbi dbi, const MDB_val *key, const MDB_val *val,
	    unsigned flags);
int tbl_del(MDB_txn *txn, MDB_dbi dbi, const MDB_val *key);

/* Make `s`, an account just created and still empty, one of `format`
 * (1 to PITR_FORMAT): its meta, its versions table in that format's
 * layout, no dicts table before format 3. For what keeps a source's
 * format (repair, compact) and tests that make older accounts. EINVAL
 * when the layout would change under versions already there. */
int store_set_format(pitr_store *s, uint32_t format);

/* Seek the newest entry of (parent, name) in a names-like table at or
 * before `at`; used by catalog and documents alike. */
int seek_at(struct tcur *tc, uint64_t parent, const char *name, size_t len,
	    size_t suffix, uint64_t at, MDB_val *key, MDB_val *val);

#endif
