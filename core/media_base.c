/*
 * media_base.c - retention on the backup media. Segments are immutable and
 * a replay starts from the first one kept, so older segments can leave
 * the media only once something stands in for them: a base, the records
 * the account's state at an instant B needs (every live database's and
 * container's naming event, every dictionary, each live document's
 * version at B and the keyframe it is a delta on), taken from a replay of
 * the media themselves up to B (the store may have pruned or rewritten
 * them since they were shipped). The base is written as parts
 * "base-F-P.pbase" (segment.h) before segment F, the first one after B;
 * then a manifest names F, the base and `from` B, the commit point; only
 * after it is what the manifest before it no longer needs deleted: the
 * segments before the previous first one and the bases before neither,
 * a batch of at most MEDIA_DEL_MAX names at a time. What the previous
 * manifest names stays until the next base, a window later, so that a
 * restore that read it can finish. A crash before the manifest leaves
 * parts no manifest names: a retry writes the same bytes, and the next
 * base's retirement deletes them.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

struct keys {
	unsigned char *v; /* 12-byte log keys */
	size_t n, cap;
};

static int keys_add(struct keys *k, uint64_t ts, uint32_t idx)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 1024;
		unsigned char *v = realloc(k->v, cap * 12);
		if (!v)
			return ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	key_log(k->v + k->n++ * 12, ts, idx);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 12);
}

/* The documents of container `ct`: each one's version, and its keyframe
 * when it is a delta. */
static int docs_keys(pitr_txn *t, uint64_t ct, struct keys *k)
{
	unsigned char lk[12];
	MDB_val key = { sizeof(lk), lk }, val;
	struct body_base b;
	struct log_rec r;
	pitr_entry e;
	pitr_iter *it;
	int rc;

	if ((rc = pitr_iter_begin(t, PITR_LIST_DOCUMENTS, ct, PITR_NOW, NULL,
				  0, 0, &it)))
		return rc;
	while (!(rc = pitr_iter_next(it, &e))) {
		if (e.scratch)
			continue;
		uint32_t idx = iter_log_idx(it);
		if ((rc = keys_add(k, e.ver.ts, idx)))
			break;
		key_log(lk, e.ver.ts, idx);
		if ((rc = mdb_rc(mdb_get(t->txn, t->s->log, &key, &val))) ||
		    (rc = log_decode(&key, &val, &r)))
			break;
		if (body_form(&r, &b) == BODY_DELTA &&
		    (rc = keys_add(k, b.ts, b.idx)))
			break;
	}
	pitr_iter_end(it);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

static int dict_key_add(uint64_t ts, uint32_t idx, void *arg)
{
	return keys_add(arg, ts, idx);
}

/* Every record the state of `t`'s account at its last instant needs:
 * every dictionary too (one may serve a container its record does not
 * name, and later keyframes may use one no document at B did). */
static int state_keys(pitr_txn *t, struct keys *k)
{
	pitr_iter *dbs, *cts;
	pitr_entry e;
	int rc;

	if ((rc = dict_each(t, dict_key_add, k)) ||
	    (rc = pitr_iter_begin(t, PITR_LIST_DATABASES, 0, PITR_NOW, NULL, 0,
				  0, &dbs)))
		return rc;
	while (!(rc = pitr_iter_next(dbs, &e))) {
		if ((rc = keys_add(k, e.ver.ts, iter_log_idx(dbs))) ||
		    (rc = pitr_iter_begin(t, PITR_LIST_CONTAINERS, e.inc,
					  PITR_NOW, NULL, 0, 0, &cts)))
			break;
		while (!(rc = pitr_iter_next(cts, &e))) {
			if ((rc = keys_add(k, e.ver.ts, iter_log_idx(cts))) ||
			    (rc = docs_keys(t, e.inc, k)))
				break;
		}
		pitr_iter_end(cts);
		if (rc != PITR_NOTFOUND)
			break;
	}
	pitr_iter_end(dbs);
	return rc == PITR_NOTFOUND ? 0 : rc;
}

/* Write part `part` of the base before segment `first`. */
static int put_part(struct media *m, uint64_t first, uint64_t part,
		    struct seg_payload *pl)
{
	char name[SEG_NAME_MAX];
	unsigned char *obj;
	size_t len;
	int rc;

	pl->h.seq = part;
	if ((rc = seg_pack(&pl->h, pl->p, pl->len, &obj, &len)))
		return rc;
	base_name(name, first, part);
	rc = media_put_once(m, name, obj, len);
	free(obj);
	return rc;
}

/* The records of `keys` (sorted) from account `bs`, as parts before
 * segment `first`: `*parts` and the last one's header_sum. */
static int write_parts(struct media *m, pitr_store *bs, struct keys *k,
		       uint64_t first, uint64_t *parts, uint64_t *sum)
{
	struct seg_payload pl = { 0 };
	MDB_val key, val;
	pitr_txn *t;
	int rc;

	*parts = 0;
	if ((rc = pitr_txn_begin(bs, PITR_TXN_READ, &t)))
		return rc;
	for (size_t i = 0; !rc && i < k->n; i++) {
		unsigned char *kp = k->v + i * 12;
		if (i && !memcmp(kp, kp - 12, 12))
			continue; /* needed twice */
		key.mv_size = 12;
		key.mv_data = kp;
		if ((rc = mdb_rc(mdb_get(t->txn, bs->log, &key, &val))))
			break;
		void *buf;
		MDB_val rec;
		if ((rc = log_portable(t, &key, &val, &rec, &buf)))
			break;
		if (pl.len >= SEG_RAW_MAX) {
			if (*parts == BASE_PARTS_MAX - 1) {
				free(buf);
				rc = PITR_TOOBIG;
				break;
			}
			if ((rc = put_part(m, first, ++*parts, &pl))) {
				free(buf);
				break;
			}
			pl.h = (struct seg_hdr){ .prev_sum = pl.h.header_sum };
			pl.len = 0;
		}
		rc = seg_payload_add(&pl, get_be64(kp), get_be32(kp + 8), &rec);
		free(buf);
	}
	/* an account with nothing in it still has a base: one empty part */
	if (!rc)
		rc = put_part(m, first, ++*parts, &pl);
	*sum = pl.h.header_sum;
	pitr_txn_abort(t);
	free(pl.p);
	return rc;
}

struct names {
	char (*v)[SEG_NAME_MAX];
	size_t n, cap;
	uint64_t keep[2]; /* bases before other segments go */
	int rc;
};

static int names_add(struct names *l, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char(*v)[SEG_NAME_MAX] = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return l->rc = ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], SEG_NAME_MAX, "%s", name);
	return 0;
}

static int other_base(const char *name, void *arg)
{
	struct names *l = arg;
	uint64_t first, part;

	if (base_name_parse(name, &first, &part) || first == l->keep[0] ||
	    first == l->keep[1])
		return 0;
	return names_add(l, name);
}

/* Delete the segments before `prev` and every base but those before
 * `prev` and `first`. */
static int retire(struct media *m, uint64_t prev, uint64_t first)
{
	struct names l = { .keep = { prev, first } };
	struct seg_ref *refs;
	const char *v[MEDIA_DEL_MAX];
	size_t n;
	int rc;

	if ((rc = media_segments(m, 0, &refs, &n)))
		return rc;
	for (size_t i = 0; !l.rc && i < n && refs[i].seq < prev; i++)
		names_add(&l, refs[i].name);
	free(refs);
	if (!(rc = l.rc) && !(rc = m->ops->list(m, "base-", NULL, other_base,
						 &l)))
		rc = l.rc;
	for (size_t i = 0; !rc && i < l.n; i += MEDIA_DEL_MAX) {
		size_t k = l.n - i < MEDIA_DEL_MAX ? l.n - i : MEDIA_DEL_MAX;
		for (size_t j = 0; j < k; j++)
			v[j] = l.v[i + j];
		rc = m->ops->del(m, v, k);
	}
	free(l.v);
	return rc;
}

/* The last segment from mf->first on, in an unbroken run, that ends at
 * or before `horizon` and has a committed one after it: 0 when none. */
static int pick(struct media *m, const struct manifest *mf, uint64_t horizon,
		struct seg_ref *last)
{
	struct seg_ref *refs;
	uint64_t expect = mf->first;
	size_t n;
	int rc, found = 0;

	if ((rc = media_segments(m, mf->first - 1, &refs, &n)))
		return rc;
	for (size_t i = 0; i < n && refs[i].seq == expect; i++, expect++) {
		if (!refs[i].have_range || refs[i].last_ts > horizon ||
		    refs[i].seq >= mf->seq)
			break;
		*last = refs[i];
		found = 1;
	}
	free(refs);
	return found ? 0 : PITR_NOTFOUND;
}

int media_rebase(pitr_store *s, struct media *m, uint64_t horizon,
		 struct manifest *mf)
{
	char scratch[PATH_MAX];
	const char *path = NULL;
	struct keys k = { 0 };
	struct seg_ref last;
	struct manifest next = *mf;
	pitr_store *bs = NULL;
	pitr_txn *t;
	int rc;

	if (!mf->seq || !mf->first)
		return 0;
	rc = pick(m, mf, horizon, &last);
	if (rc)
		return rc == PITR_NOTFOUND ? 0 : rc;
	if (mdb_env_get_path(s->env, &path) || !path ||
	    snprintf(scratch, sizeof(scratch), "%s/media-base", path) >=
		(int)sizeof(scratch))
		return ENAMETOOLONG;
	/* the state at `last`'s end, from the media alone */
	pitr_store_destroy(scratch);
	if ((rc = pitr_backup_replay(m->where, scratch, last.last_ts, NULL)))
		return rc;
	if (!(rc = pitr_store_open(scratch, PITR_OPEN_RDONLY, &bs)) &&
	    !(rc = pitr_txn_begin(bs, PITR_TXN_READ, &t))) {
		rc = state_keys(t, &k);
		pitr_txn_abort(t);
	}
	if (!rc && k.n)
		qsort(k.v, k.n, 12, key_cmp);
	next.number = mf->number + 1;
	next.written = pitr_clock();
	next.first = last.seq + 1;
	next.from = last.last_ts;
	if (!rc)
		rc = write_parts(m, bs, &k, next.first, &next.base,
				 &next.base_sum);
	pitr_store_close(bs);
	pitr_store_destroy(scratch);
	free(k.v);
	if (!rc)
		rc = media_manifest_put(m, &next);
	if (rc)
		return rc;
	/* what the previous manifest needs stays a window more: a restore
	 * that read it before this one was written can finish */
	uint64_t prev = mf->first;
	*mf = next;
	return retire(m, prev, next.first);
}
