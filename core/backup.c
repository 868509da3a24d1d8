/*
 * backup.c - backup media: shipping the log to a directory of segment
 * files, verifying them, and rebuilding an account from them alone.
 *
 * A segment "seg-NNNNNNNNNN.pseg" is a 76-byte header and an LZ4 frame
 * (so `tail -c +77 seg | lz4 -d` shows its payload). The header, integers
 * little-endian:
 *    0  "PITRSEG1"
 *    8  u64 seq          1, 2, 3 ... with no gap
 *   16  u64 first_ts     u32 first_idx at 24
 *   28  u64 last_ts      u32 last_idx at 36
 *   40  u32 count        records in the payload
 *   44  u32 raw_len      payload bytes
 *   48  u32 packed_len   bytes of the LZ4 frame after the header
 *   52  u64 prev_sum     header_sum of segment seq - 1 (0 for the first)
 *   60  u64 payload_sum  XXH3-64 of the LZ4 frame
 *   68  u64 header_sum   XXH3-64 of bytes 0..67
 * The payload is, per record: u64 ts, u32 idx, u32 len, and the log record
 * exactly as the store keeps it (see internal.h; it ends with its own
 * XXH3-64). A segment never splits a commit. ACCOUNT names the account;
 * COMPLETE holds an instant up to which the media holds every mutation,
 * written after a shipper caught up (behind a clock floor, so no commit
 * can still land at or before it), and the number of the last segment
 * then: "<instant> <seq>\n" (earlier builds wrote the instant alone).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "internal.h"

#define SEG_HDR	     76
#define SEG_RAW_MAX  (4u << 20) /* payload bytes before a segment is cut */
#define REPLAY_BATCH 10000

struct seg_hdr {
	uint64_t seq, first_ts, last_ts, prev_sum, payload_sum, header_sum;
	uint32_t first_idx, last_idx, count, raw_len, packed_len;
};

static void hdr_encode(unsigned char *p, struct seg_hdr *h)
{
	memcpy(p, "PITRSEG1", 8);
	put_le64(p + 8, h->seq);
	put_le64(p + 16, h->first_ts);
	put_le32(p + 24, h->first_idx);
	put_le64(p + 28, h->last_ts);
	put_le32(p + 36, h->last_idx);
	put_le32(p + 40, h->count);
	put_le32(p + 44, h->raw_len);
	put_le32(p + 48, h->packed_len);
	put_le64(p + 52, h->prev_sum);
	put_le64(p + 60, h->payload_sum);
	h->header_sum = XXH3_64bits(p, 68);
	put_le64(p + 68, h->header_sum);
}

static int hdr_decode(const unsigned char *p, struct seg_hdr *h)
{
	if (memcmp(p, "PITRSEG1", 8) || XXH3_64bits(p, 68) != get_le64(p + 68))
		return PITR_CORRUPT;
	h->seq = get_le64(p + 8);
	h->first_ts = get_le64(p + 16);
	h->first_idx = get_le32(p + 24);
	h->last_ts = get_le64(p + 28);
	h->last_idx = get_le32(p + 36);
	h->count = get_le32(p + 40);
	h->raw_len = get_le32(p + 44);
	h->packed_len = get_le32(p + 48);
	h->prev_sum = get_le64(p + 52);
	h->payload_sum = get_le64(p + 60);
	h->header_sum = get_le64(p + 68);
	return 0;
}

/* path = dir/name; ENAMETOOLONG when it does not fit. */
static int dir_file(char path[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

static int seg_path(char path[PATH_MAX], const char *dir, uint64_t seq)
{
	int n =
	    snprintf(path, PATH_MAX, "%s/seg-%010" PRIu64 ".pseg", dir, seq);

	return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

/* The sequence numbers of a directory's segments, sorted. */
static int list_segments(const char *dir, uint64_t **seqs, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;
	uint64_t seq;
	char tail[8];

	*seqs = NULL;
	*n = 0;
	if (!d)
		return errno;
	while ((e = readdir(d))) {
		if (sscanf(e->d_name, "seg-%20" SCNu64 ".%5s", &seq, tail) !=
			2 ||
		    strcmp(tail, "pseg"))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			uint64_t *v = realloc(*seqs, cap * sizeof(*v));
			if (!v) {
				closedir(d);
				return ENOMEM;
			}
			*seqs = v;
		}
		(*seqs)[(*n)++] = seq;
	}
	closedir(d);
	for (size_t i = 1; i < *n; i++) /* few: insertion sort */
		for (size_t j = i; j && (*seqs)[j - 1] > (*seqs)[j]; j--) {
			uint64_t x = (*seqs)[j];
			(*seqs)[j] = (*seqs)[j - 1];
			(*seqs)[j - 1] = x;
		}
	return 0;
}

/* Read and check a segment; `*raw` receives its payload (malloc'd). */
static int seg_read(const char *dir, uint64_t seq, struct seg_hdr *h,
		    unsigned char **raw, char *why, size_t whylen)
{
	char path[PATH_MAX];
	unsigned char *buf = NULL;
	size_t len, out_len, in_len;
	LZ4F_dctx *dctx = NULL;
	int rc;

	*raw = NULL;
	if ((rc = seg_path(path, dir, seq)) ||
	    (rc = file_read(path, SEG_HDR + (size_t)UINT32_MAX, &buf, &len))) {
		snprintf(why, whylen, "cannot read: %s", pitr_strerror(rc));
		return rc;
	}
	rc = PITR_CORRUPT;
	if (len < SEG_HDR || hdr_decode(buf, h) || h->seq != seq) {
		snprintf(why, whylen, "header damaged");
		goto out;
	}
	if (h->packed_len != len - SEG_HDR ||
	    XXH3_64bits(buf + SEG_HDR, h->packed_len) != h->payload_sum) {
		snprintf(why, whylen, "payload checksum mismatch");
		goto out;
	}
	*raw = malloc(h->raw_len ? h->raw_len : 1);
	if (!*raw || LZ4F_isError(LZ4F_createDecompressionContext(
			 &dctx, LZ4F_VERSION))) {
		rc = ENOMEM;
		goto out;
	}
	out_len = h->raw_len;
	in_len = h->packed_len;
	size_t r =
	    LZ4F_decompress(dctx, *raw, &out_len, buf + SEG_HDR, &in_len, NULL);
	if (LZ4F_isError(r) || r != 0 || out_len != h->raw_len) {
		snprintf(why, whylen, "payload does not decompress");
		goto out;
	}
	rc = 0;
out:
	LZ4F_freeDecompressionContext(dctx);
	free(buf);
	if (rc) {
		free(*raw);
		*raw = NULL;
	}
	return rc;
}

/* Walk a payload's records, checking each one's own checksum. */
typedef int (*record_fn)(uint64_t ts, uint32_t idx, const MDB_val *rec,
			 const struct log_rec *r, void *arg);

static int payload_walk(const unsigned char *p, const struct seg_hdr *h,
			record_fn fn, void *arg)
{
	size_t off = 0;
	uint32_t n = 0;
	uint64_t ts = 0;
	uint32_t idx = 0;
	struct log_rec r;

	while (off < h->raw_len) {
		if (h->raw_len - off < 16)
			return PITR_CORRUPT;
		ts = get_le64(p + off);
		idx = get_le32(p + off + 8);
		uint32_t len = get_le32(p + off + 12);
		if (len > h->raw_len - off - 16)
			return PITR_CORRUPT;
		MDB_val rec = { len, (void *)(p + off + 16) };
		if (log_decode(&rec, &r))
			return PITR_CORRUPT;
		if (n == 0 && (ts != h->first_ts || idx != h->first_idx))
			return PITR_CORRUPT;
		int rc = fn ? fn(ts, idx, &rec, &r, arg) : 0;
		if (rc)
			return rc;
		off += 16 + len;
		n++;
	}
	if (n != h->count || (n && (ts != h->last_ts || idx != h->last_idx)))
		return PITR_CORRUPT;
	return 0;
}

/*
 * The account a directory belongs to
 */

static int meta_str(pitr_store *s, const char *key, char *buf, size_t size);

/*
 * ACCOUNT: text, one line each, in this order and nothing else:
 *   pitr-backup 1
 *   account: NAME         bytes below 0x20 and 0x7f as \xHH (a name never
 *                         holds a backslash, so older files read the same)
 *   created: NS
 *   mode: 0|1             continuous, periodic
 *   retention: NS
 *   interval: NS
 *   max-doc-size: BYTES
 * Numbers are decimal digits only.
 */
#define ACCOUNT_MAX 2048

/* Encode into `buf` (ACCOUNT_MAX bytes); returns the length. */
static size_t account_encode(char *buf, const char *name, size_t namelen,
			     const pitr_config *cfg)
{
	size_t n = 0;

	n += (size_t)snprintf(buf, ACCOUNT_MAX, "pitr-backup 1\naccount: ");
	for (size_t i = 0; i < namelen && i < PITR_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(buf + n, ACCOUNT_MAX - n,
					      "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	n += (size_t)snprintf(
	    buf + n, ACCOUNT_MAX - n,
	    "\ncreated: %" PRIu64 "\nmode: %d\nretention: %" PRIu64
	    "\ninterval: %" PRIu64 "\nmax-doc-size: %" PRIu32 "\n",
	    cfg->created, cfg->policy.mode == PITR_PERIODIC,
	    cfg->policy.retention, cfg->policy.interval, cfg->max_doc_size);
	return n;
}

/* Consume `key` at *p; 0 or PITR_CORRUPT. */
static int expect(const char **p, const char *end, const char *key)
{
	size_t n = strlen(key);

	if ((size_t)(end - *p) < n || memcmp(*p, key, n))
		return PITR_CORRUPT;
	*p += n;
	return 0;
}

/* A decimal number of at most `max` at *p: digits only, at least one. */
static int dec_u64(const char **p, const char *end, uint64_t max,
		   uint64_t *v)
{
	const char *q = *p;

	*v = 0;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		unsigned d = (unsigned)(*q - '0');
		if (*v > (max - d) / 10)
			return PITR_CORRUPT;
		*v = *v * 10 + d;
	}
	if (q == *p)
		return PITR_CORRUPT;
	*p = q;
	return 0;
}

/* A decimal number that ends its line. */
static int line_u64(const char **p, const char *end, uint64_t max,
		    uint64_t *v)
{
	return dec_u64(p, end, max, v) || expect(p, end, "\n") ? PITR_CORRUPT
								 : 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
				      : -1;
}

/* The account name, up to its newline, into `name` (NUL-terminated). */
static int line_name(const char **p, const char *end, char *name,
		     size_t size)
{
	const char *q = *p;
	size_t n = 0;

	while (q < end && *q != '\n') {
		int c = (unsigned char)*q++;
		if (c == '\\') {
			int hi, lo;
			if (end - q < 3 || q[0] != 'x' ||
			    (hi = hexval(q[1])) < 0 || (lo = hexval(q[2])) < 0)
				return PITR_CORRUPT;
			c = hi << 4 | lo;
			q += 3;
		} else if (c < 0x20 || c == 0x7f) {
			return PITR_CORRUPT;
		}
		if (n + 1 >= size || n >= PITR_NAME_MAX)
			return PITR_CORRUPT;
		name[n++] = (char)c;
	}
	if (q == end || pitr_name_check(name, n))
		return PITR_CORRUPT;
	name[n] = 0;
	*p = q + 1;
	return 0;
}

/* Decode ACCOUNT: `cfg->name` points to `name`. 0 or PITR_CORRUPT. */
static int account_decode(const unsigned char *text, size_t len,
			  pitr_config *cfg, char *name, size_t size)
{
	const char *p = (const char *)text, *end = p + len;
	uint64_t mode, maxdoc;

	memset(cfg, 0, sizeof(*cfg));
	if (expect(&p, end, "pitr-backup 1\naccount: ") ||
	    line_name(&p, end, name, size) ||
	    expect(&p, end, "created: ") ||
	    line_u64(&p, end, UINT64_MAX, &cfg->created) ||
	    expect(&p, end, "mode: ") || line_u64(&p, end, 1, &mode) ||
	    expect(&p, end, "retention: ") ||
	    line_u64(&p, end, UINT64_MAX, &cfg->policy.retention) ||
	    expect(&p, end, "interval: ") ||
	    line_u64(&p, end, UINT64_MAX, &cfg->policy.interval) ||
	    expect(&p, end, "max-doc-size: ") ||
	    line_u64(&p, end, UINT32_MAX, &maxdoc) || p != end)
		return PITR_CORRUPT;
	cfg->name = name;
	cfg->policy.mode = mode ? PITR_PERIODIC : PITR_CONTINUOUS;
	cfg->max_doc_size = (uint32_t)maxdoc;
	return pitr_policy_check(&cfg->policy) || !cfg->created
		   ? PITR_CORRUPT
		   : 0;
}

/* Write ACCOUNT if it is missing; PITR_FOREIGN if it names another
 * account (another creation instant). */
static int account_check(pitr_store *s, const char *dir)
{
	char path[PATH_MAX], text[ACCOUNT_MAX], name[PITR_NAME_MAX + 1],
	    have_name[PITR_NAME_MAX + 1];
	pitr_config cfg = { .created = s->created, .max_doc_size = s->max_doc },
		    have;
	unsigned char *buf;
	size_t len;
	int rc;

	if ((rc = dir_file(path, dir, "ACCOUNT")))
		return rc;
	/* only a missing file is written: one unreadable, oversized or
	 * damaged is never replaced */
	rc = file_read(path, ACCOUNT_MAX, &buf, &len);
	if (rc != ENOENT) {
		if (rc)
			return rc;
		rc = account_decode(buf, len, &have, have_name,
				    sizeof(have_name));
		free(buf);
		if (!rc && have.created != s->created)
			rc = PITR_FOREIGN;
		return rc;
	}
	if ((rc = meta_str(s, "name", name, sizeof(name))) ||
	    (rc = pitr_store_policy(s, &cfg.policy)))
		return rc;
	len = account_encode(text, name, strlen(name), &cfg);
	return file_replace(dir, "ACCOUNT",
			    &(struct file_part){ text, len }, 1);
}

/*
 * Shipping
 */

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

struct payload {
	unsigned char *p;
	size_t len, cap;
	struct seg_hdr h;
};

/* Gather the records after (ts, idx) into one segment's payload. The
 * media must never hold what the log cannot prove: a damaged record ends
 * the payload before its commit, and is PITR_CORRUPT when it would be
 * the first. */
static int gather(pitr_store *s, uint64_t ts, uint32_t idx, struct payload *pl)
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
		struct log_rec r;
		/* cut between commits only */
		if (pl->len >= SEG_RAW_MAX && kts != pl->h.last_ts)
			break;
		if (!pl->h.count || kts != pl->h.last_ts) {
			whole = pl->h;
			whole_len = pl->len;
		}
		if (log_decode(&val, &r)) {
			pl->h = whole;
			pl->len = whole_len;
			damaged = !pl->h.count;
			break;
		}
		if (pl->len + 16 + val.mv_size > pl->cap) {
			size_t cap = pl->cap ? pl->cap * 2 : 1 << 16;
			while (cap < pl->len + 16 + val.mv_size)
				cap *= 2;
			unsigned char *p = realloc(pl->p, cap);
			if (!p) {
				rc = ENOMEM;
				break;
			}
			pl->p = p;
			pl->cap = cap;
		}
		if (!pl->h.count) {
			pl->h.first_ts = kts;
			pl->h.first_idx = kidx;
		}
		put_le64(pl->p + pl->len, kts);
		put_le32(pl->p + pl->len + 8, kidx);
		put_le32(pl->p + pl->len + 12, (uint32_t)val.mv_size);
		memcpy(pl->p + pl->len + 16, val.mv_data, val.mv_size);
		pl->len += 16 + val.mv_size;
		pl->h.last_ts = kts;
		pl->h.last_idx = kidx;
		pl->h.count++;
	}
	mdb_cursor_close(c);
	pitr_txn_abort(t);
	return damaged ? PITR_CORRUPT : rc == MDB_NOTFOUND ? 0 : mdb_rc(rc);
}

/* Write one segment durably (see file_replace). */
static int seg_write(const char *dir, struct payload *pl)
{
	unsigned char hdr[SEG_HDR], *packed;
	LZ4F_preferences_t prefs = { 0 };
	char name[32];
	size_t bound, n;
	int rc;

	prefs.frameInfo.contentSize = pl->len;
	bound = LZ4F_compressFrameBound(pl->len, &prefs);
	packed = malloc(bound);
	if (!packed)
		return ENOMEM;
	n = LZ4F_compressFrame(packed, bound, pl->p, pl->len, &prefs);
	if (LZ4F_isError(n)) {
		free(packed);
		return EIO;
	}
	pl->h.raw_len = (uint32_t)pl->len;
	pl->h.packed_len = (uint32_t)n;
	pl->h.payload_sum = XXH3_64bits(packed, n);
	hdr_encode(hdr, &pl->h);
	snprintf(name, sizeof(name), "seg-%010" PRIu64 ".pseg", pl->h.seq);
	struct file_part parts[2] = { { hdr, SEG_HDR }, { packed, n } };
	rc = file_replace(dir, name, parts, 2);
	free(packed);
	return rc;
}

/* Ship one segment; *done when nothing was left. */
static int ship_one(pitr_store *s, const char *dir, uint64_t *count, int *done)
{
	struct payload pl = { 0 };
	struct seg_hdr last = { 0 };
	unsigned char hdr[SEG_HDR];
	char path[PATH_MAX];
	uint64_t *seqs;
	size_t n;
	int rc, fd;

	*done = 0;
	if ((rc = list_segments(dir, &seqs, &n)))
		return rc;
	if (n) {
		/* what is on the media is read from the media */
		if ((rc = seg_path(path, dir, seqs[n - 1])))
			goto out;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = errno;
			goto out;
		}
		ssize_t r = read(fd, hdr, SEG_HDR);
		close(fd);
		if (r != SEG_HDR || hdr_decode(hdr, &last)) {
			rc = PITR_CORRUPT;
			goto out;
		}
	}
	if (n) {
		/* media holding what this log never had belong to another
		 * history (an older copy of the account, say) */
		unsigned char lk[12];
		MDB_val key = { sizeof(lk), lk }, val;
		pitr_txn *t;
		key_log(lk, last.last_ts, last.last_idx);
		if ((rc = pitr_txn_begin(s, PITR_TXN_READ, &t)))
			goto out;
		uint64_t mine = 0;
		MDB_val mv;
		if (meta_get(t->txn, s->meta, "last_ts", &mv) == 0 &&
		    mv.mv_size == 8)
			mine = get_le64(mv.mv_data);
		int have = mdb_get(t->txn, s->log, &key, &val) == 0;
		pitr_txn_abort(t);
		int configured;
		if (last.last_ts > mine ||
		    (!have && last.last_ts > backup_shipped(s, &configured))) {
			rc = PITR_FOREIGN;
			goto out;
		}
	}
	pl.h.seq = last.seq + 1;
	pl.h.prev_sum = last.header_sum;
	rc = gather(s, last.last_ts, last.last_idx, &pl);
	if (!rc && !pl.h.count)
		*done = 1;
	if (!rc && pl.h.count)
		rc = seg_write(dir, &pl);
	if (!rc) {
		uint64_t shipped = pl.h.count ? pl.h.last_ts : last.last_ts;
		rc = store_shipped(s, shipped);
		*count += pl.h.count;
	}
out:
	free(seqs);
	free(pl.p);
	return rc;
}

/*
 * COMPLETE: "<instant> <seq>\n", decimal (earlier builds: "<instant>\n").
 */
#define COMPLETE_MAX 48

static size_t complete_encode(char *buf, uint64_t ts, uint64_t seq)
{
	return (size_t)snprintf(buf, COMPLETE_MAX, "%" PRIu64 " %" PRIu64 "\n",
				ts, seq);
}

/* 0 or PITR_CORRUPT. */
static int complete_decode(const unsigned char *text, size_t len,
			   uint64_t *ts, uint64_t *seq)
{
	const char *p = (const char *)text, *end = p + len;

	*seq = 0;
	if (dec_u64(&p, end, UINT64_MAX, ts))
		return PITR_CORRUPT;
	if (p < end && *p == ' ' && (++p, dec_u64(&p, end, UINT64_MAX, seq)))
		return PITR_CORRUPT;
	if (p < end && *p == '\n')
		p++;
	return p == end ? 0 : PITR_CORRUPT;
}

/*
 * Caught up: every mutation committed so far is on the media. Make the
 * present instant a floor for later commits, ship what landed before the
 * floor was set, and record the instant, on the media and in the store.
 */
static int mark_complete(pitr_store *s, const char *dir)
{
	char buf[COMPLETE_MAX];
	uint64_t now = pitr_store_now(s), n = 0, *seqs;
	size_t nseg, len;
	int rc, done = 0;

	if ((rc = floor_barrier(s, now)))
		return rc;
	while (!rc && !done)
		rc = ship_one(s, dir, &n, &done);
	if (rc || (rc = list_segments(dir, &seqs, &nseg)))
		return rc;
	len = complete_encode(buf, now, nseg ? seqs[nseg - 1] : 0);
	free(seqs);
	rc = file_replace(dir, "COMPLETE", &(struct file_part){ buf, len }, 1);
	return rc ? rc : store_shipped(s, now);
}

int pitr_backup_ship(pitr_store *s, int all, uint64_t *count)
{
	char dir[4096], lock[PATH_MAX], err[256];
	uint64_t shipped = 0;
	int rc, fd, done = 0;

	if (meta_str(s, "backup_dir", dir, sizeof(dir)))
		return PITR_NOBACKUP;
	fd = -1;
	if ((rc = dir_file(lock, dir, ".lock")))
		;
	else if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		rc = errno;
	else if (flock(fd, LOCK_EX))
		rc = errno;
	else
		rc = account_check(s, dir);
	while (!rc && !done) {
		rc = ship_one(s, dir, &shipped, &done);
		if (!all)
			break;
	}
	if (!rc && done)
		rc = mark_complete(s, dir);
	if (fd >= 0)
		close(fd);
	if (count)
		*count = shipped;
	/* the outcome, for pitr backup status: written when it changes */
	if (rc)
		snprintf(err, sizeof(err), "%.200s: %s", dir,
			 pitr_strerror(rc));
	meta_store(s, "backup_error", rc ? err : NULL, rc ? strlen(err) : 0);
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

/*
 * Verification
 */

static int seg_check(const char *dir, uint64_t seq, struct seg_hdr *h,
		     char *why, size_t whylen)
{
	unsigned char *raw;
	int rc = seg_read(dir, seq, h, &raw, why, whylen);

	if (rc)
		return rc;
	rc = payload_walk(raw, h, NULL, NULL);
	if (rc)
		snprintf(why, whylen, "a record fails its checksum");
	free(raw);
	return rc;
}

/* Segments `from` to `to` are missing: one report, however many. */
static void report_missing(pitr_problem_fn fn, void *arg, uint64_t from,
			   uint64_t to)
{
	char where[64];

	if (from == to)
		snprintf(where, sizeof(where), "seg-%010" PRIu64 ".pseg", from);
	else
		snprintf(where, sizeof(where),
			 "seg-%010" PRIu64 ".pseg..seg-%010" PRIu64 ".pseg",
			 from, to);
	fn(where, "missing", arg);
}

int pitr_backup_verify(const char *dir, pitr_problem_fn fn, void *arg,
		       uint64_t *segments, uint64_t *complete)
{
	char where[64], why[160];
	struct seg_hdr h, prev = { 0 };
	uint64_t *seqs, expect = 1, upto = 0;
	int rc, bad = 0, prefix = 1;
	size_t n;

	char path[PATH_MAX];
	struct stat st;
	unsigned char *text;
	size_t len;
	uint64_t complete_ts = 0, complete_seq = 0;

	/* COMPLETE first: it names only segments written before it, so a
	 * shipper at work meanwhile adds segments, never takes them. */
	if (dir_file(path, dir, "COMPLETE") == 0 &&
	    (rc = file_read(path, COMPLETE_MAX, &text, &len)) != ENOENT) {
		if (rc || complete_decode(text, len, &complete_ts,
					  &complete_seq)) {
			fn("COMPLETE", "damaged", arg);
			bad = 1;
			complete_ts = complete_seq = 0;
		}
		if (!rc)
			free(text);
	}
	if ((rc = list_segments(dir, &seqs, &n)))
		return rc;
	if ((rc = dir_file(path, dir, "ACCOUNT"))) {
		free(seqs);
		return rc;
	}
	if (stat(path, &st)) {
		if (!n) {
			free(seqs);
			return PITR_NOTMEDIA;
		}
		fn("ACCOUNT", "missing", arg);
		bad = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (expect < seqs[i]) {
			report_missing(fn, arg, expect, seqs[i] - 1);
			bad = 1;
			prefix = 0;
		}
		expect = seqs[i] + 1;
		snprintf(where, sizeof(where), "seg-%010" PRIu64 ".pseg",
			 seqs[i]);
		if (seg_check(dir, seqs[i], &h, why, sizeof(why))) {
			fn(where, why, arg);
			bad = 1;
			prefix = 0;
			prev.header_sum = 0;
			continue;
		}
		if (prev.header_sum && h.prev_sum != prev.header_sum) {
			fn(where, "does not follow the segment before it", arg);
			bad = 1;
			prefix = 0;
		}
		if (prefix)
			upto = h.last_ts;
		prev = h;
	}
	free(seqs);
	/* the last segments lost: COMPLETE counted them */
	if (expect <= complete_seq) {
		report_missing(fn, arg, expect, complete_seq);
		bad = 1;
	}
	/* every segment whole: the media is complete up to COMPLETE */
	if (!bad && complete_ts > upto)
		upto = complete_ts;
	if (segments)
		*segments = n;
	if (complete)
		*complete = upto;
	return bad ? PITR_CORRUPT : 0;
}

/*
 * Replay
 */

struct replay {
	pitr_store *s;
	pitr_txn *t;
	uint64_t until;
	uint64_t n;
	size_t bytes; /* of records since the last commit */
};

static int replay_record(uint64_t ts, uint32_t idx, const MDB_val *rec,
			 const struct log_rec *r, void *arg)
{
	struct replay *rp = arg;
	unsigned char k[12];
	MDB_val key = { sizeof(k), k };
	int rc;

	if (ts > rp->until)
		return 0;
	if (rp->t &&
	    ((rp->n % REPLAY_BATCH == 0 && rp->n) || rp->bytes >= BULK_BYTES)) {
		rc = pitr_txn_commit(rp->t, NULL);
		rp->t = NULL;
		rp->bytes = 0;
		if (rc)
			return rc;
	}
	if (!rp->t && (rc = pitr_txn_begin(rp->s, PITR_TXN_WRITE, &rp->t)))
		return rc;
	/* each record keeps its own timestamp and index */
	rp->t->ts = ts;
	rp->t->idx = idx;
	rp->t->dirty_meta = 1;
	rp->bytes += rec->mv_size;
	key_log(k, ts, idx);
	rc = mdb_rc(
	    mdb_put(rp->t->txn, rp->s->log, &key, (MDB_val *)rec, MDB_APPEND));
	if (rc)
		return rc;
	rc = r->op == OP_DOC_PUT || r->op == OP_DOC_DEL ? doc_replay(rp->t, r, idx)
	     : r->op == OP_DICT			       ? dict_replay(rp->t, r, idx)
						       : catalog_replay(rp->t, r);
	rp->n++;
	return rc;
}

/* The ACCOUNT file, as a configuration to create the replay with. */
int backup_account_read(const char *dir, pitr_config *cfg, char *name,
			size_t size)
{
	char path[PATH_MAX];
	unsigned char *buf;
	size_t len;
	int rc;

	if ((rc = dir_file(path, dir, "ACCOUNT")) ||
	    (rc = file_read(path, ACCOUNT_MAX, &buf, &len)))
		return rc;
	rc = account_decode(buf, len, cfg, name, size);
	free(buf);
	return rc;
}

static void ignore(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	(void)arg;
}

int pitr_backup_replay(const char *dir, const char *path, uint64_t until,
		       uint64_t *complete)
{
	struct replay rp = { .until = until };
	char name[PITR_NAME_MAX + 1], why[160];
	pitr_config cfg = { 0 };
	struct seg_hdr h;
	uint64_t *seqs, upto = 0;
	unsigned char *raw;
	size_t n;
	int rc;

	rc = pitr_backup_verify(dir, ignore, NULL, NULL, &upto);
	if (rc && rc != PITR_CORRUPT)
		return rc;
	if (complete)
		*complete = upto;
	if (until > upto)
		return PITR_OUTOFRANGE;
	if ((rc = backup_account_read(dir, &cfg, name, sizeof(name))))
		return rc;
	if ((rc = pitr_store_create(path, &cfg)))
		return rc;
	if ((rc = pitr_store_open(path, PITR_OPEN_BULK | PITR_OPEN_DAEMON,
				  &rp.s)))
		goto out_destroy;
	if ((rc = list_segments(dir, &seqs, &n)))
		goto out_close;
	for (size_t i = 0; !rc && i < n; i++) {
		if ((rc = seg_read(dir, seqs[i], &h, &raw, why, sizeof(why))))
			break;
		if (h.first_ts <= until)
			rc = payload_walk(raw, &h, replay_record, &rp);
		free(raw);
		if (h.last_ts >= until)
			break;
	}
	free(seqs);
	if (!rc && rp.t) {
		rc = pitr_txn_commit(rp.t, NULL);
		rp.t = NULL;
	}
	if (!rc)
		rc = pitr_store_sync(rp.s);
out_close:
	pitr_txn_abort(rp.t);
	pitr_store_close(rp.s);
	if (!rc)
		return 0;
out_destroy:
	pitr_store_destroy(path);
	return rc;
}
