/*
 * verify.c - check a store: every log record's checksum, every body
 * decoded to its etag (a delta with its base), and every index entry
 * against the log and the log against the indexes.
 *
 * The log is the source of truth; versions, live, names and incs are
 * derived from it and carry no checksums of their own. One pass over each
 * table, each entry checked with a few B-tree seeks: linear in the store.
 * A log record that fails its checksum is reported once, by the log pass;
 * the index entries pointing at it are not reported again.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

struct check {
	pitr_txn *t;
	pitr_problem_fn fn;
	void *arg;
	uint64_t problems;
	MDB_cursor *seek; /* a second cursor for the table's own seeks */
};

/* Copy at most 64 bytes of a name, control bytes shown as '?'. */
static const char *shown(char *buf, const char *name, size_t len)
{
	size_t i, n = len > 64 ? 64 : len;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	buf[n] = 0;
	return buf;
}

__attribute__((format(printf, 3, 4))) static void
problem(struct check *ck, const char *where, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ck->problems++;
	ck->fn(where, what, ck->arg);
}

/* "TABLE PARENT 'NAME' at TIME" */
static void where_named(char *w, size_t size, const char *table,
			uint64_t parent, const char *name, size_t len,
			uint64_t ts)
{
	char n[65], tm[PITR_TIME_LEN];

	snprintf(w, size, "%s %" PRIu64 " '%s' at %s", table, parent,
		 shown(n, name, len), pitr_time_format(ts, tm));
}

/* The log record (ts, idx): 0, PITR_NOTFOUND, or PITR_CORRUPT (already
 * reported by the log pass). */
static int record_at(struct check *ck, uint64_t ts, uint32_t idx,
		     struct log_rec *r)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	key_log(k, ts, idx);
	rc = mdb_rc(mdb_get(ck->t->txn, ck->t->s->log, &key, &val));
	return rc ? rc : log_decode(&val, r);
}

/* How a walk ended: LMDB's code translated, or core's own kept. */
static int end_rc(int rc)
{
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE ? mdb_rc(rc) : rc;
}

static int same_name(const struct log_rec *r, const char *name, size_t len)
{
	return r->namelen == len && !memcmp(r->name, name, len);
}

/*
 * The log: each record's checksum; each document mutation has its versions
 * entry, each catalog event its names entry.
 */
static int check_log(struct check *ck, uint64_t *records)
{
	pitr_txn *t = ck->t;
	unsigned char k[KEY_MAX];
	MDB_val key, val, ik, iv;
	MDB_cursor *c;
	struct log_rec r;
	char where[64], n[65], tm[PITR_TIME_LEN];
	int rc;

	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->log, &c));
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		++*records;
		snprintf(where, sizeof(where), "log record %" PRIu64, *records);
		uint64_t ts;
		uint32_t idx;
		if (log_key_decode(&key, &ts, &idx) || log_decode(&val, &r)) {
			problem(ck, where, "fails its checksum");
			continue;
		}
		int doc = r.op == OP_DOC_PUT || r.op == OP_DOC_DEL;
		if (r.op == OP_DICT) {
			struct dict_ref d;
			rc = dict_get(t, r.inc, &d);
			if (rc == 0)
				dict_put(&d);
			else if (rc == PITR_CORRUPT)
				problem(ck, where,
					"dictionary %016" PRIx64 " of container "
					"%" PRIu64 " is damaged or not indexed",
					r.inc, r.parent);
			else
				break;
			continue;
		}
		if (r.op == OP_DOC_PUT) {
			void *body;
			size_t len;
			rc = log_body(t, &r, &body, &len);
			if (rc == 0)
				free(body);
			else if (rc == PITR_CORRUPT)
				problem(ck, where,
					"put of %" PRIu64 " '%s' at %s #%" PRIu32
					" does not decode to its etag%s",
					r.parent, shown(n, r.name, r.namelen),
					pitr_time_format(ts, tm), idx,
					r.flags == LOG_DELTA
					    ? " (a delta: or its base is damaged"
					      " or missing)"
					: r.flags == LOG_DICT
					    ? " (or its dictionary is damaged or"
					      " missing)"
					    : "");
			else
				break;
		}
		if (doc)
			ik.mv_size = key_named(k, r.parent, r.name, r.namelen, ts);
		else
			ik.mv_size = key_event(k, r.parent, r.name, r.namelen,
					       ts, idx);
		ik.mv_data = k;
		rc = mdb_get(t->txn, doc ? t->s->versions : t->s->names, &ik,
			     &iv);
		if (rc && rc != MDB_NOTFOUND)
			break;
		struct ver_rec vr;
		if (rc || (doc && (ver_decode(&iv, &vr) || vr.idx != idx)))
			problem(ck, where,
				"%s of %" PRIu64 " '%s' at %s #%" PRIu32
				" has no %s entry",
				r.op == OP_DOC_PUT   ? "put"
				: r.op == OP_DOC_DEL ? "delete"
						     : "catalog event",
				r.parent, shown(n, r.name, r.namelen),
				pitr_time_format(ts, tm), idx,
				doc ? "versions" : "names");
	}
	mdb_cursor_close(c);
	return end_rc(rc);
}

/* The live entry of the newest version of a document: present iff that
 * version is a put, and saying the same. */
static int check_latest(struct check *ck, const char *where, uint64_t ct,
			const char *id, size_t len, uint64_t ts,
			const struct ver_rec *v)
{
	unsigned char k[KEY_MAX];
	MDB_val key = { key_live(k, ct, LIVE_DOC, id, len), k }, val;
	int rc;

	rc = mdb_get(ck->t->txn, ck->t->s->live, &key, &val);
	if (rc && rc != MDB_NOTFOUND)
		return mdb_rc(rc);
	if (v->op == OP_DOC_DEL) {
		if (!rc)
			problem(ck, where,
				"is a delete, but the document has a live "
				"entry");
		return 0;
	}
	if (rc) {
		problem(ck, where,
			"is the latest put, but the document has no live "
			"entry");
		return 0;
	}
	struct live_doc ld;
	if (live_doc_decode(&val, &ld) || ld.ts != ts || ld.idx != v->idx ||
	    ld.size != v->size || ld.etag != v->etag)
		problem(ck, where,
			"is the latest put, but the document's live entry "
			"disagrees with it");
	return 0;
}

/*
 * versions: each entry's log record exists and agrees; the newest entry
 * of each document agrees with live.
 */
static int check_versions(struct check *ck)
{
	pitr_txn *t = ck->t;
	unsigned char last[KEY_MAX];
	size_t lastlen = 0;
	MDB_val key, val;
	MDB_cursor *c;
	struct log_rec r;
	struct ver_rec v;
	char where[128 + PITR_TIME_LEN];
	int rc;

	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->versions, &c));
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		const unsigned char *p = key.mv_data;
		struct ver_entry e;

		if (ver_entry_decode(&key, NULL, &e)) {
			problem(ck, "versions", "a key of %zu bytes is malformed",
				key.mv_size);
			continue;
		}
		const char *id = e.id;
		size_t len = e.idlen;
		uint64_t ct = e.ct, ts = e.ts;
		/* newest first: the first entry of a document is its latest */
		int first = lastlen != 9 + len || memcmp(last, p, 9 + len);
		memcpy(last, p, 9 + len);
		lastlen = 9 + len;
		where_named(where, sizeof(where), "versions", ct, id, len, ts);
		if (ver_decode(&val, &v)) {
			problem(ck, where, "value is malformed");
			continue;
		}
		rc = record_at(ck, ts, v.idx, &r);
		if (rc == PITR_NOTFOUND)
			problem(ck, where,
				"points at log record #%" PRIu32
				", which does not exist",
				v.idx);
		else if (rc && rc != PITR_CORRUPT)
			break;
		else if (!rc &&
			 (r.op != v.op || r.parent != ct ||
			  !same_name(&r, id, len) ||
			  (v.op == OP_DOC_PUT
				   ? r.size != v.size || r.etag != v.etag
				   : v.size || v.etag)))
			problem(ck, where,
				"disagrees with its log record #%" PRIu32,
				v.idx);
		if (first && (rc = check_latest(ck, where, ct, id, len, ts, &v)))
			break;
		rc = 0;
	}
	mdb_cursor_close(c);
	return end_rc(rc);
}

/* Is `inc` a live container? 1, 0, or a negative code. */
static int ct_is_alive(struct check *ck, uint64_t ct)
{
	int rc = ct_alive(ck->t, ct);

	return rc == 0 ? 1 : rc == PITR_NOTFOUND || rc == PITR_CORRUPT ? 0 : rc;
}

/*
 * live: documents and scratch files are in live containers; a document's
 * entry has its versions (whether it agrees is the versions pass's).
 */
static int check_live(struct check *ck)
{
	pitr_txn *t = ck->t;
	MDB_val key, val, vk, vv;
	MDB_cursor *c;
	char where[128 + PITR_TIME_LEN], n[65];
	uint64_t last_ct = 0;
	int rc, alive = -1;

	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->live, &c));
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		const unsigned char *p = key.mv_data;
		struct live_key lk;
		struct live_doc ld;
		uint64_t left;
		const void *data;
		size_t dlen;
		int type;

		if (key.mv_size < 9 || key.mv_size > 9 + PITR_NAME_MAX) {
			problem(ck, "live", "a key of %zu bytes is malformed",
				key.mv_size);
			continue;
		}
		int bad = live_key_decode(&key, &lk);
		const char *name = (const char *)p + 9;
		size_t len = key.mv_size - 9;
		uint64_t ct = get_be64(p);
		type = p[8];
		snprintf(where, sizeof(where), "live %" PRIu64 " %s '%s'", ct,
			 type == LIVE_DOC	? "document"
			 : type == LIVE_SCRATCH ? "scratch file"
			 : type == LIVE_LEFT	? "last-left"
						: "unknown",
			 shown(n, name, len));
		if (type == LIVE_LEFT) {
			if (bad || live_left_decode(&val, &left))
				problem(ck, where, "is malformed");
			continue;
		}
		if (bad) {
			problem(ck, where, "key is malformed");
			continue;
		}
		/* live keys come in container order: one lookup each */
		if (ct != last_ct || alive < 0) {
			if ((alive = ct_is_alive(ck, ct)) < 0) {
				rc = alive;
				break;
			}
			last_ct = ct;
		}
		if (!alive)
			problem(ck, where, "is in no live container");
		if (type == LIVE_SCRATCH) {
			if (scratch_decode(&val, &left, &data, &dlen))
				problem(ck, where, "value is malformed");
			continue;
		}
		if (live_doc_decode(&val, &ld)) {
			problem(ck, where, "value is malformed");
			continue;
		}
		rc = seek_at(ck->seek, ct, name, len, VER_SUFFIX, PITR_NOW, &vk,
			     &vv);
		if (rc == PITR_NOTFOUND) {
			problem(ck, where, "has no versions entry");
			rc = 0;
		} else if (rc) {
			break;
		}
	}
	mdb_cursor_close(c);
	return end_rc(rc);
}

/* The kind of incarnation a parent implies. */
static int kind_of(uint64_t parent)
{
	return parent ? INC_CT : INC_DB;
}

/*
 * names: each entry's log record exists and agrees; the newest entry of
 * each name agrees with incs (an older entry's incarnation may be pruned).
 */
static int check_names(struct check *ck)
{
	pitr_txn *t = ck->t;
	unsigned char last[KEY_MAX];
	size_t lastlen = 0;
	MDB_val key, val;
	MDB_cursor *c;
	struct log_rec r;
	struct inc_rec ir;
	char where[128 + PITR_TIME_LEN];
	int rc;

	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->names, &c));
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		const unsigned char *p = key.mv_data;
		struct name_entry ne;
		int op, create;
		uint64_t inc;

		if (name_entry_decode(&key, NULL, &ne)) {
			problem(ck, "names", "a key of %zu bytes is malformed",
				key.mv_size);
			continue;
		}
		const char *name = ne.name;
		size_t len = ne.namelen;
		uint64_t parent = ne.parent, ts = ne.ts;
		uint32_t idx = ne.idx;
		int first = lastlen != 9 + len || memcmp(last, p, 9 + len);
		memcpy(last, p, 9 + len);
		lastlen = 9 + len;
		where_named(where, sizeof(where), "names", parent, name, len,
			    ts);
		if (name_decode(&val, &op, &inc)) {
			problem(ck, where, "value is malformed");
			continue;
		}
		create = op == NAME_CREATE;
		rc = record_at(ck, ts, idx, &r);
		if (rc == PITR_NOTFOUND)
			problem(ck, where,
				"points at log record #%" PRIu32
				", which does not exist",
				idx);
		else if (rc && rc != PITR_CORRUPT)
			break;
		else if (!rc && (r.parent != parent || r.inc != inc ||
				 !same_name(&r, name, len) ||
				 (create ? r.op != OP_DB_CREATE &&
					       r.op != OP_CT_CREATE
					 : r.op != OP_DB_DELETE &&
					       r.op != OP_CT_DELETE)))
			problem(ck, where,
				"disagrees with its log record #%" PRIu32, idx);
		rc = 0;
		if (!first)
			continue;
		rc = inc_get(t, inc, &ir);
		if (rc && rc != PITR_NOTFOUND && rc != PITR_CORRUPT)
			break;
		int found = !rc;
		int here = found && ir.deleted == 0 && ir.parent == parent &&
			   ir.namelen == len && !memcmp(ir.name, name, len);
		if (create && (!here || ir.kind != kind_of(parent)))
			problem(ck, where,
				"names incarnation %" PRIu64
				" alive, but incs %s",
				inc,
				!found ? "has no such record"
				       : "says otherwise");
		else if (!create && here)
			problem(ck, where,
				"deletes incarnation %" PRIu64
				", but incs has it alive under this name",
				inc);
		rc = 0;
	}
	mdb_cursor_close(c);
	return end_rc(rc);
}

/*
 * incs: each live incarnation is the newest entry of its name in names,
 * and a live container's database is alive.
 */
static int check_incs(struct check *ck)
{
	pitr_txn *t = ck->t;
	MDB_val key, val, nk, nv;
	MDB_cursor *c;
	struct inc_rec ir, pr;
	char where[64];
	int rc;

	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->incs, &c));
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		uint64_t inc;
		if (inc_key_decode(&key, &inc)) {
			problem(ck, "incs", "a key of %zu bytes is malformed",
				key.mv_size);
			continue;
		}
		snprintf(where, sizeof(where), "incs %" PRIu64, inc);
		if (inc_decode(&val, &ir)) {
			problem(ck, where, "value is malformed");
			continue;
		}
		if (ir.deleted)
			continue;
		if (ir.kind != kind_of(ir.parent)) {
			problem(ck, where, "kind does not match its parent");
			continue;
		}
		rc = seek_at(ck->seek, ir.parent, ir.name, ir.namelen,
			     NAME_SUFFIX, PITR_NOW, &nk, &nv);
		if (rc && rc != PITR_NOTFOUND)
			break;
		int op = 0;
		uint64_t named = 0;
		if (rc || name_decode(&nv, &op, &named) || op != NAME_CREATE ||
		    named != inc)
			problem(ck, where,
				"is alive, but names does not give it its "
				"name");
		rc = 0;
		if (ir.kind != INC_CT)
			continue;
		rc = inc_get(t, ir.parent, &pr);
		if (rc && rc != PITR_NOTFOUND && rc != PITR_CORRUPT)
			break;
		if (rc || pr.kind != INC_DB || pr.deleted)
			problem(ck, where,
				"is a live container of database %" PRIu64
				", which is not alive",
				ir.parent);
		rc = 0;
	}
	mdb_cursor_close(c);
	return end_rc(rc);
}

int pitr_store_verify(pitr_store *s, pitr_problem_fn fn, void *arg,
		      uint64_t *records)
{
	struct check ck = { .fn = fn, .arg = arg };
	int rc;

	*records = 0;
	rc = pitr_txn_begin(s, PITR_TXN_READ, &ck.t);
	if (rc)
		return rc;
	if (!(rc = check_log(&ck, records)) && !(rc = check_versions(&ck)) &&
	    !(rc = check_names(&ck)) &&
	    !(rc = mdb_rc(mdb_cursor_open(ck.t->txn, s->versions, &ck.seek)))) {
		rc = check_live(&ck);
		mdb_cursor_close(ck.seek);
	}
	if (!rc && !(rc = mdb_rc(mdb_cursor_open(ck.t->txn, s->names, &ck.seek)))) {
		rc = check_incs(&ck);
		mdb_cursor_close(ck.seek);
	}
	pitr_txn_abort(ck.t);
	if (rc)
		return rc;
	return ck.problems ? PITR_CORRUPT : 0;
}
