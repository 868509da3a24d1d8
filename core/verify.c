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
	uint64_t records;     /* log records seen */
	struct tcur seek;     /* a second cursor for the pass's own seeks */
	unsigned char last[KEY_MAX]; /* the entry before, in versions/names */
	size_t lastlen;
	uint64_t last_ct;     /* live: the container looked up last, */
	int alive;	      /* and whether it is alive (-1: none yet) */
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
	return rc ? rc : log_decode(&key, &val, r);
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

/* One pass: fn on each entry of a table, in key order, until fn returns
 * non-zero (a code that ends the pass). */
static int each_entry(struct check *ck, MDB_dbi dbi,
		      int (*fn)(struct check *, MDB_val *, MDB_val *))
{
	MDB_val key, val;
	struct tcur c;
	int rc;

	rc = mdb_rc(tcur_open(ck->t->txn, dbi, &c));
	if (rc)
		return rc;
	for (rc = tcur_get(&c, &key, &val, MDB_FIRST); rc == 0;
	     rc = tcur_get(&c, &key, &val, MDB_NEXT))
		if ((rc = fn(ck, &key, &val)))
			break;
	tcur_close(&c);
	return end_rc(rc);
}

/* versions and names keep a name's entries together, newest first: is
 * this entry, whose key names it in its first n bytes, its latest? */
static int latest_of(struct check *ck, const void *key, size_t n)
{
	int first = ck->lastlen != n || memcmp(ck->last, key, n);

	memcpy(ck->last, key, n);
	ck->lastlen = n;
	return first;
}

/* The log record an index entry points at: 0 with *r; 1 when it is
 * missing (reported here) or fails its checksum (the log pass's to
 * report); or a negative code. */
static int pointed(struct check *ck, const char *where, uint64_t ts,
		   uint32_t idx, struct log_rec *r)
{
	int rc = record_at(ck, ts, idx, r);

	if (rc == PITR_NOTFOUND) {
		problem(ck, where,
			"points at log record #%" PRIu32
			", which does not exist",
			idx);
		return 1;
	}
	return rc == PITR_CORRUPT ? 1 : rc;
}

/* A put of the log whose body is wrong: `what` is said of it. */
static void bad_put(struct check *ck, const char *where,
		    const struct log_rec *r, uint64_t ts, uint32_t idx,
		    const char *what)
{
	char n[65], tm[PITR_TIME_LEN];

	problem(ck, where, "put of %" PRIu64 " '%s' at %s #%" PRIu32 " %s",
		r->parent, shown(n, r->name, r->namelen),
		pitr_time_format(ts, tm), idx, what);
}

/*
 * The log: each record's checksum; each document mutation has its versions
 * entry, each catalog event its names entry.
 */
static int log_entry(struct check *ck, MDB_val *key, MDB_val *val)
{
	pitr_txn *t = ck->t;
	unsigned char k[KEY_MAX];
	MDB_val ik, iv;
	struct log_rec r;
	struct ver_rec vr;
	char where[64], n[65], tm[PITR_TIME_LEN];
	uint64_t ts;
	uint32_t idx;
	int rc;

	snprintf(where, sizeof(where), "log record %" PRIu64, ++ck->records);
	if (log_key_decode(key, &ts, &idx) || log_decode(key, val, &r)) {
		problem(ck, where, "fails its checksum");
		return 0;
	}
	/* a delta in the short form: its document from its base, its etag
	 * from its body (compared with its versions entry below) */
	rc = log_name(t, &r);
	if (rc == PITR_CORRUPT) {
		problem(ck, where,
			"is a delta at %s #%" PRIu32 " whose base is damaged "
			"or missing",
			pitr_time_format(ts, tm), idx);
		return 0;
	}
	if (!rc && (rc = log_hash(t, &r)) == PITR_CORRUPT) {
		bad_put(ck, where, &r, ts, idx,
			"does not decode (a delta: or its base is damaged)");
		return 0;
	}
	if (rc)
		return rc;
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
			return rc;
		return 0;
	}
	if (r.op == OP_DOC_PUT && r.form != REC_SHORT) {
		void *body;
		size_t len;
		rc = log_body(t, &r, &body, &len);
		if (rc == 0)
			free(body);
		else if (rc == PITR_CORRUPT)
			bad_put(ck, where, &r, ts, idx,
				r.flags == LOG_DELTA
				    ? "does not decode to its etag (a delta: "
				      "or its base is damaged or missing)"
				: r.flags == LOG_DICT
				    ? "does not decode to its etag (or its "
				      "dictionary is damaged or missing)"
				    : "does not decode to its etag");
		else
			return rc;
	}
	if (doc)
		ik.mv_size = key_named(k, r.parent, r.name, r.namelen, ts);
	else
		ik.mv_size = key_event(k, r.parent, r.name, r.namelen, ts, idx);
	ik.mv_data = k;
	rc = tbl_get(t->txn, doc ? t->s->versions : t->s->names, &ik, &iv);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (!rc && doc && r.form == REC_SHORT &&
	    !ver_decode(&iv, &vr, ver_form(ck->t->s)) && vr.idx == idx &&
	    (vr.etag != r.etag || vr.size != r.size)) {
		bad_put(ck, where, &r, ts, idx,
			"decodes to another body than its versions entry says");
		return 0;
	}
	if (rc || (doc &&
		   (ver_decode(&iv, &vr, ver_form(ck->t->s)) || vr.idx != idx)))
		problem(ck, where,
			"%s of %" PRIu64 " '%s' at %s #%" PRIu32
			" has no %s entry",
			r.op == OP_DOC_PUT   ? "put"
			: r.op == OP_DOC_DEL ? "delete"
					     : "catalog event",
			r.parent, shown(n, r.name, r.namelen),
			pitr_time_format(ts, tm), idx,
			doc ? "versions" : "names");
	return 0;
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
	if (live_doc_decode(&val, &ld, store_compact(ck->t->s)) ||
	    ld.ts != ts || ld.idx != v->idx ||
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
static int versions_entry(struct check *ck, MDB_val *key, MDB_val *val)
{
	struct log_rec r;
	struct ver_rec v;
	struct ver_entry e;
	char where[128 + PITR_TIME_LEN];
	int rc;

	if (ver_entry_decode(key, NULL, &e, 0)) {
		problem(ck, "versions", "a key of %zu bytes is malformed",
			key->mv_size);
		return 0;
	}
	int latest = latest_of(ck, key->mv_data, 9 + e.idlen);
	where_named(where, sizeof(where), "versions", e.ct, e.id, e.idlen,
		    e.ts);
	if (ver_decode(val, &v, ver_form(ck->t->s))) {
		problem(ck, where, "value is malformed");
		return 0;
	}
	rc = pointed(ck, where, e.ts, v.idx, &r);
	/* a short record's document is its base's; its etag is the log
	 * pass's to check, by decoding it */
	if (!rc && r.form == REC_SHORT) {
		rc = log_name(ck->t, &r);
		r.etag = v.etag;
		if (rc == PITR_CORRUPT)
			rc = 1; /* the log pass's to report */
	}
	if (rc < 0)
		return rc;
	if (!rc && (r.op != v.op || r.parent != e.ct ||
		    !same_name(&r, e.id, e.idlen) ||
		    (v.op == OP_DOC_PUT ? r.size != v.size || r.etag != v.etag
					: v.size || v.etag)))
		problem(ck, where, "disagrees with its log record #%" PRIu32,
			v.idx);
	if (latest)
		return check_latest(ck, where, e.ct, e.id, e.idlen, e.ts, &v);
	return 0;
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
static int live_entry(struct check *ck, MDB_val *key, MDB_val *val)
{
	const unsigned char *p = key->mv_data;
	char where[128 + PITR_TIME_LEN], n[65];
	MDB_val vk, vv;
	struct live_key lk;
	struct live_doc ld;
	uint64_t left;
	const void *data;
	size_t dlen;
	int rc;

	if (key->mv_size < 9 || key->mv_size > 9 + PITR_NAME_MAX) {
		problem(ck, "live", "a key of %zu bytes is malformed",
			key->mv_size);
		return 0;
	}
	int bad = live_key_decode(key, &lk);
	const char *name = (const char *)p + 9;
	size_t len = key->mv_size - 9;
	uint64_t ct = get_be64(p);
	int type = p[8];
	snprintf(where, sizeof(where), "live %" PRIu64 " %s '%s'", ct,
		 type == LIVE_DOC	? "document"
		 : type == LIVE_SCRATCH ? "scratch file"
		 : type == LIVE_LEFT	? "last-left"
					: "unknown",
		 shown(n, name, len));
	if (type == LIVE_LEFT) {
		if (bad || live_left_decode(val, &left))
			problem(ck, where, "is malformed");
		return 0;
	}
	if (bad) {
		problem(ck, where, "key is malformed");
		return 0;
	}
	/* live keys come in container order: one lookup each */
	if (ct != ck->last_ct || ck->alive < 0) {
		if ((ck->alive = ct_is_alive(ck, ct)) < 0)
			return ck->alive;
		ck->last_ct = ct;
	}
	if (!ck->alive)
		problem(ck, where, "is in no live container");
	if (type == LIVE_SCRATCH) {
		if (scratch_decode(val, &left, &data, &dlen))
			problem(ck, where, "value is malformed");
		return 0;
	}
	if (live_doc_decode(val, &ld, store_compact(ck->t->s))) {
		problem(ck, where, "value is malformed");
		return 0;
	}
	rc = seek_at(&ck->seek, ct, name, len, VER_SUFFIX, PITR_NOW, &vk, &vv);
	if (rc == PITR_NOTFOUND)
		problem(ck, where, "has no versions entry");
	return rc == PITR_NOTFOUND ? 0 : rc;
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
static int names_entry(struct check *ck, MDB_val *key, MDB_val *val)
{
	struct log_rec r;
	struct inc_rec ir;
	struct name_entry e;
	char where[128 + PITR_TIME_LEN];
	int rc, op;
	uint64_t inc;

	if (name_entry_decode(key, NULL, &e)) {
		problem(ck, "names", "a key of %zu bytes is malformed",
			key->mv_size);
		return 0;
	}
	int latest = latest_of(ck, key->mv_data, 9 + e.namelen);
	where_named(where, sizeof(where), "names", e.parent, e.name, e.namelen,
		    e.ts);
	if (name_decode(val, &op, &inc)) {
		problem(ck, where, "value is malformed");
		return 0;
	}
	int create = op == NAME_CREATE;
	rc = pointed(ck, where, e.ts, e.idx, &r);
	if (rc < 0)
		return rc;
	if (!rc && (r.parent != e.parent || r.inc != inc ||
		    !same_name(&r, e.name, e.namelen) ||
		    (create ? r.op != OP_DB_CREATE && r.op != OP_CT_CREATE
			    : r.op != OP_DB_DELETE && r.op != OP_CT_DELETE)))
		problem(ck, where, "disagrees with its log record #%" PRIu32,
			e.idx);
	if (!latest)
		return 0;
	rc = inc_get(ck->t, inc, &ir);
	if (rc && rc != PITR_NOTFOUND && rc != PITR_CORRUPT)
		return rc;
	int found = !rc;
	int here = found && ir.deleted == 0 && ir.parent == e.parent &&
		   ir.namelen == e.namelen &&
		   !memcmp(ir.name, e.name, e.namelen);
	if (create && (!here || ir.kind != kind_of(e.parent)))
		problem(ck, where,
			"names incarnation %" PRIu64 " alive, but incs %s", inc,
			!found ? "has no such record" : "says otherwise");
	else if (!create && here)
		problem(ck, where,
			"deletes incarnation %" PRIu64
			", but incs has it alive under this name",
			inc);
	return 0;
}

/*
 * incs: each live incarnation is the newest entry of its name in names,
 * and a live container's database is alive.
 */
static int incs_entry(struct check *ck, MDB_val *key, MDB_val *val)
{
	MDB_val nk, nv;
	struct inc_rec ir, pr;
	char where[64];
	uint64_t inc, named = 0;
	int rc, op = 0;

	if (inc_key_decode(key, &inc)) {
		problem(ck, "incs", "a key of %zu bytes is malformed",
			key->mv_size);
		return 0;
	}
	snprintf(where, sizeof(where), "incs %" PRIu64, inc);
	if (inc_decode(val, &ir)) {
		problem(ck, where, "value is malformed");
		return 0;
	}
	if (ir.deleted)
		return 0;
	if (ir.kind != kind_of(ir.parent)) {
		problem(ck, where, "kind does not match its parent");
		return 0;
	}
	rc = seek_at(&ck->seek, ir.parent, ir.name, ir.namelen, NAME_SUFFIX,
		     PITR_NOW, &nk, &nv);
	if (rc && rc != PITR_NOTFOUND)
		return rc;
	if (rc || name_decode(&nv, &op, &named) || op != NAME_CREATE ||
	    named != inc)
		problem(ck, where,
			"is alive, but names does not give it its name");
	if (ir.kind != INC_CT)
		return 0;
	rc = inc_get(ck->t, ir.parent, &pr);
	if (rc && rc != PITR_NOTFOUND && rc != PITR_CORRUPT)
		return rc;
	if (rc || pr.kind != INC_DB || pr.deleted)
		problem(ck, where,
			"is a live container of database %" PRIu64
			", which is not alive",
			ir.parent);
	return 0;
}

/* A pass that seeks in a second table as it goes (live in versions, incs
 * in names). */
static int each_entry_seeking(struct check *ck, MDB_dbi dbi, MDB_dbi seek,
			      int (*fn)(struct check *, MDB_val *, MDB_val *))
{
	int rc = mdb_rc(tcur_open(ck->t->txn, seek, &ck->seek));

	if (rc)
		return rc;
	rc = each_entry(ck, dbi, fn);
	tcur_close(&ck->seek);
	return rc;
}

int pitr_store_verify(pitr_store *s, pitr_problem_fn fn, void *arg,
		      uint64_t *records)
{
	struct check ck = { .fn = fn, .arg = arg, .alive = -1 };
	int rc;

	*records = 0;
	rc = pitr_txn_begin(s, PITR_TXN_READ, &ck.t);
	if (rc)
		return rc;
	/* the table's layout is what it is read by; meta should agree */
	if (s->ver_items != (s->format >= 5))
		problem(&ck, "meta",
			"says format %u, but the versions table %s items",
			s->format, s->ver_items ? "keeps" : "keeps no");
	if (!(rc = each_entry(&ck, s->log, log_entry)) &&
	    !(rc = each_entry(&ck, s->versions, versions_entry))) {
		ck.lastlen = 0;
		rc = each_entry(&ck, s->names, names_entry);
	}
	if (!rc)
		rc = each_entry_seeking(&ck, s->live, s->versions, live_entry);
	if (!rc)
		rc = each_entry_seeking(&ck, s->incs, s->names, incs_entry);
	pitr_txn_abort(ck.t);
	*records = ck.records;
	if (rc)
		return rc;
	return ck.problems ? PITR_CORRUPT : 0;
}
