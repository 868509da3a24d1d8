/*
 * dict.c - container dictionaries (format 3): what a keyframe of a small
 * document is compressed against. A container's dictionary is made, once,
 * from the bodies of its documents when it has enough of them, and stored
 * as a log record (op OP_DICT, so shipping carries it to the media before
 * the keyframes that use it, and a replay rebuilds it) indexed by the dicts
 * table (see internal.h for its one value codec). Its id is the XXH3-64 of
 * its bytes: a dictionary never changes once referenced, and one read is
 * checked against the id that refers to it. Dictionaries are kept for the
 * life of the account (pruning passes them by): at most one per container.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "internal.h"

#define DICT_CACHE_MAX 1024 /* dictionaries kept in memory, at most */

enum { DICT_OF_CT = 1, DICT_BY_ID = 2 };

static void dict_key(unsigned char *k, int kind, uint64_t v)
{
	k[0] = (unsigned char)kind;
	put_be64(k + 1, v);
}

int dict_val_decode(const MDB_val *v, uint64_t *id, uint64_t *ts,
		    uint32_t *idx)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size != DICT_VAL)
		return PITR_CORRUPT;
	*id = get_le64(p);
	*ts = get_le64(p + 8);
	*idx = get_le32(p + 16);
	return 0;
}

static int dict_val_put(pitr_txn *t, int kind, uint64_t kv, uint64_t id,
			uint64_t ts, uint32_t idx)
{
	unsigned char k[9], v[DICT_VAL];
	MDB_val key = { sizeof(k), k }, val = { sizeof(v), v };

	dict_key(k, kind, kv);
	put_le64(v, id);
	put_le64(v + 8, ts);
	put_le32(v + 16, idx);
	return mdb_rc(mdb_put(t->txn, t->s->dicts, &key, &val, 0));
}

static int dict_val_get(pitr_txn *t, int kind, uint64_t kv, uint64_t *id,
			uint64_t *ts, uint32_t *idx)
{
	unsigned char k[9];
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	if (!t->s->has_dicts)
		return PITR_NOTFOUND;
	dict_key(k, kind, kv);
	rc = mdb_rc(mdb_get(t->txn, t->s->dicts, &key, &val));
	return rc ? rc : dict_val_decode(&val, id, ts, idx);
}

static const struct dict_cached *cache_find(pitr_store *s, uint64_t id)
{
	for (size_t i = 0; i < s->dict_n; i++)
		if (s->dict_cache[i].id == id)
			return &s->dict_cache[i];
	return NULL;
}

void dict_put(struct dict_ref *d)
{
	free(d->owned);
	d->owned = NULL;
}

void dict_cache_free(pitr_store *s)
{
	for (size_t i = 0; i < DICT_HC_MAX; i++)
		body_hc_free(s->hc[i].state);
	for (size_t i = 0; i < s->hc_idle_n; i++)
		body_hc_free(s->hc_idle[i]);
	memset(s->hc, 0, sizeof(s->hc));
	s->hc_idle_n = 0;
	for (size_t i = 0; i < s->dict_n; i++) {
		free(s->dict_cache[i].stream);
		free(s->dict_cache[i].bytes);
	}
	free(s->dict_cache);
	s->dict_cache = NULL;
	s->dict_n = s->dict_cap = 0;
}

/* Keep `bytes` (malloc'd) in the cache, or give it to the caller to free. */
static void cache_add(pitr_store *s, struct dict_ref *d, void *bytes)
{
	const struct dict_cached *c;

	pthread_mutex_lock(&s->dict_mtx);
	if ((c = cache_find(s, d->id))) {
		free(bytes);
	} else if (s->dict_n < DICT_CACHE_MAX) {
		if (s->dict_n == s->dict_cap) {
			size_t cap = s->dict_cap ? s->dict_cap * 2 : 8;
			struct dict_cached *v =
			    realloc(s->dict_cache, cap * sizeof(*v));
			if (v) {
				s->dict_cache = v;
				s->dict_cap = cap;
			}
		}
		if (s->dict_n < s->dict_cap) {
			s->dict_cache[s->dict_n] = (struct dict_cached){
				d->id, bytes, d->len,
				body_stream_new(bytes, d->len)
			};
			c = &s->dict_cache[s->dict_n++];
		}
	}
	if (c) {
		d->bytes = c->bytes;
		d->stream = c->stream;
		d->owned = NULL;
	} else {
		d->bytes = bytes;
		d->owned = bytes;
	}
	pthread_mutex_unlock(&s->dict_mtx);
}

/*
 * Keyframes put on a dictionary are compressed with LZ4 HC: on 1 KB JSON
 * documents a fifth smaller than LZ4's fast mode. Its state with a
 * dictionary loaded takes 256 KB and 30 us to make; a work state
 * compresses against it without changing it, so threads share it: states
 * are kept for DICT_HC_MAX dictionaries. A dictionary without one that
 * misses a second time takes a free slot, or the least recently used one
 * if that went unused for longer than the newcomer went between its two
 * misses and no thread is compressing with it; else it waits (LZ4's fast
 * mode meanwhile). So with more containers written in turns than there
 * are slots, the states stay with the first ones instead of each pushing
 * the next out unused, and a container written now and then costs none.
 * The misses are remembered for the last DICT_HC_MISSES dictionaries that
 * missed. A dictionary not in the store's cache (whose bytes a state
 * could outlive) has no state. Bodies over DICT_HC_BODY, restores and
 * pruning (log_standalone) use the fast mode. The states, the misses and
 * the idle work states are hc_mtx's; a compression runs outside it.
 */
static struct dict_hc *hc_slot(pitr_store *s, const struct dict_ref *d)
{
	struct dict_hc *e, *slot = NULL;
	struct dict_hc_miss *m, *seen = NULL;
	uint64_t now = ++s->hc_clock, prev;

	for (e = s->hc; e < s->hc + DICT_HC_MAX; e++) {
		if (e->state && e->id == d->id) {
			e->used = now;
			return e;
		}
		if (!e->refs && (!slot || !e->state ||
				 (slot->state && e->used < slot->used)))
			slot = e;
	}
	for (m = s->hc_missed; m < s->hc_missed + DICT_HC_MISSES && !seen; m++)
		if (m->id == d->id)
			seen = m;
	if (!seen) {
		m = &s->hc_missed[s->hc_miss_next++ % DICT_HC_MISSES];
		*m = (struct dict_hc_miss){ d->id, now };
		return NULL;
	}
	prev = seen->at;
	seen->at = now;
	if (!slot || (slot->state && slot->used > prev))
		return NULL;
	void *st = body_hc_new(d->bytes, d->len);
	if (!st)
		return NULL;
	body_hc_free(slot->state);
	*slot = (struct dict_hc){ d->id, st, now, 0 };
	seen->id = 0;
	s->hc_made++;
	return slot;
}

/* The state for `d` and a work state, held (hc_give() them back), or NULL
 * for the fast mode. */
static struct dict_hc *hc_take(pitr_store *s, const struct dict_ref *d,
			       void **work)
{
	struct dict_hc *e;

	if (d->owned || !d->stream || !d->id)
		return NULL;
	pthread_mutex_lock(&s->hc_mtx);
	e = hc_slot(s, d);
	if (e) {
		*work = s->hc_idle_n ? s->hc_idle[--s->hc_idle_n] : NULL;
		e->refs++;
	}
	pthread_mutex_unlock(&s->hc_mtx);
	if (e && !*work && !(*work = body_hc_new(NULL, 0))) {
		pthread_mutex_lock(&s->hc_mtx);
		e->refs--;
		pthread_mutex_unlock(&s->hc_mtx);
		return NULL;
	}
	return e;
}

static void hc_give(pitr_store *s, struct dict_hc *e, void *work)
{
	pthread_mutex_lock(&s->hc_mtx);
	e->refs--;
	if (s->hc_idle_n < DICT_HC_IDLE) {
		s->hc_idle[s->hc_idle_n++] = work;
		work = NULL;
	}
	pthread_mutex_unlock(&s->hc_mtx);
	body_hc_free(work);
}

int dict_encode(pitr_txn *t, const struct dict_ref *d, const void *body,
		size_t len, void *buf, size_t cap)
{
	void *work = NULL;
	struct dict_hc *e =
	    len <= DICT_HC_BODY ? hc_take(t->s, d, &work) : NULL;
	int n;

	if (!e)
		return body_dict_encode(d->id, d->bytes, d->len, d->stream,
					body, len, buf, cap);
	n = body_dict_encode_hc(d->id, e->state, work, body, len, buf, cap);
	hc_give(t->s, e, work);
	return n;
}

int dict_get(pitr_txn *t, uint64_t id, struct dict_ref *d)
{
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	const struct dict_cached *c;
	struct log_rec r;
	uint64_t vid, ts;
	uint32_t idx;
	void *bytes;
	size_t len;
	int rc;

	memset(d, 0, sizeof(*d));
	d->id = id;
	pthread_mutex_lock(&t->s->dict_mtx);
	c = cache_find(t->s, id);
	if (c) {
		d->bytes = c->bytes;
		d->len = c->len;
		d->stream = c->stream;
	}
	pthread_mutex_unlock(&t->s->dict_mtx);
	if (c)
		return 0;
	rc = dict_val_get(t, DICT_BY_ID, id, &vid, &ts, &idx);
	if (rc)
		return rc == PITR_NOTFOUND ? PITR_CORRUPT : rc;
	key_log(k, ts, idx);
	rc = mdb_rc(mdb_get(t->txn, t->s->log, &key, &val));
	if (rc)
		return rc == PITR_NOTFOUND ? PITR_CORRUPT : rc;
	struct body_base b;
	if (vid != id || log_decode(&key, &val, &r) || r.op != OP_DICT ||
	    r.inc != id || body_form(&r, &b) != BODY_KEY || r.size > DICT_MAX)
		return PITR_CORRUPT;
	if ((rc = log_body(t, &r, &bytes, &len)))
		return rc;
	if (XXH3_64bits(bytes, len) != id) {
		free(bytes);
		return PITR_CORRUPT;
	}
	d->len = len;
	cache_add(t->s, d, bytes);
	return 0;
}

/* Make `bytes`, whose XXH3-64 is `id`, the dictionary of `ct`: logged
 * (so shipping carries it before what uses it), unless a dictionary of
 * these very bytes is there already, which is reused. */
static int dict_install(pitr_txn *t, uint64_t ct, uint64_t id,
			const void *bytes, size_t len)
{
	uint64_t vid, ts;
	uint32_t idx;
	int rc = dict_val_get(t, DICT_BY_ID, id, &vid, &ts, &idx);

	if (rc == PITR_NOTFOUND) {
		struct log_rec r = { .op = OP_DICT, .parent = ct, .inc = id,
				     .etag = id, .name = "" };
		ts = t->ts;
		rc = log_append_body(t, &r, bytes, len, NULL, &idx);
		if (!rc)
			rc = dict_val_put(t, DICT_BY_ID, id, id, ts, idx);
	}
	return rc ? rc : dict_val_put(t, DICT_OF_CT, ct, id, ts, idx);
}

/* Make a dictionary of the documents of `ct`, if it has enough. */
static int dict_build(pitr_txn *t, uint64_t ct, struct dict_ref *d)
{
	struct {
		uint64_t ts;
		uint32_t idx;
	} pick[DICT_SCAN];
	unsigned char k[KEY_MAX];
	MDB_val key = { key_live(k, ct, LIVE_DOC, "", 0), k }, val;
	MDB_cursor *c;
	size_t bytes = 0, n = 0;
	int rc;

	rc = mdb_rc(mdb_cursor_open(t->txn, t->s->live, &c));
	if (rc)
		return rc;
	/* the sizes alone decide whether there is enough */
	for (rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	     rc == 0 && n < DICT_SCAN && bytes < DICT_MAX;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		const unsigned char *p = key.mv_data;
		if (key.mv_size < 9 || get_be64(p) != ct || p[8] != LIVE_DOC)
			break;
		struct live_doc ld;
		if (live_doc_decode(&val, &ld, store_compact(t->s)))
			continue;
		pick[n].ts = ld.ts;
		pick[n].idx = ld.idx;
		bytes += ld.size;
		n++;
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return mdb_rc(rc);
	/* made once the container holds a dictionary's worth (or DICT_SCAN
	 * documents of DICT_MIN_BYTES at least) */
	if (n < DICT_MIN_DOCS || bytes < DICT_MIN_BYTES ||
	    (bytes < DICT_MAX && n < DICT_SCAN))
		return PITR_NOTFOUND;

	char *dict = malloc(DICT_MAX);
	size_t len = 0;
	if (!dict)
		return ENOMEM;
	for (size_t i = 0; i < n && len < DICT_MAX; i++) {
		unsigned char lk[12];
		MDB_val lkey = { sizeof(lk), lk }, lval;
		struct log_rec r;
		void *body;
		size_t blen;
		key_log(lk, pick[i].ts, pick[i].idx);
		/* a document that does not read is left out */
		if (mdb_get(t->txn, t->s->log, &lkey, &lval) ||
		    log_decode(&lkey, &lval, &r) || r.op != OP_DOC_PUT ||
		    log_resolve(t, &r) || log_body(t, &r, &body, &blen))
			continue;
		if (blen > DICT_MAX - len)
			blen = DICT_MAX - len;
		memcpy(dict + len, body, blen);
		len += blen;
		free(body);
	}
	t->err[0] = 0;
	if (len < DICT_MIN_BYTES) {
		free(dict);
		return PITR_NOTFOUND;
	}
	uint64_t id = XXH3_64bits(dict, len);
	if ((rc = dict_install(t, ct, id, dict, len))) {
		free(dict);
		return rc;
	}
	d->id = id;
	d->len = len;
	cache_add(t->s, d, dict);
	return 0;
}

static int dicts_kept(const pitr_store *s)
{
	return s->format >= 3 && s->has_dicts;
}

int ct_dict(pitr_txn *t, uint64_t ct, uint64_t *id, uint64_t *ts)
{
	uint32_t idx;

	if (!dicts_kept(t->s))
		return PITR_NOTFOUND;
	return dict_val_get(t, DICT_OF_CT, ct, id, ts, &idx);
}

int dict_of_ct(pitr_txn *t, uint64_t ct, struct dict_ref *d)
{
	uint64_t id, ts;
	int rc = ct_dict(t, ct, &id, &ts);

	memset(d, 0, sizeof(*d));
	if (rc == 0)
		return dict_get(t, id, d);
	if (rc != PITR_NOTFOUND || !t->ts || !dicts_kept(t->s))
		return rc;
	return dict_build(t, ct, d);
}

int dict_at(pitr_txn *t, uint64_t ct, uint64_t at, struct dict_ref *d)
{
	uint64_t id, ts;
	int rc = ct_dict(t, ct, &id, &ts);

	memset(d, 0, sizeof(*d));
	if (rc)
		return rc;
	return ts > at ? PITR_NOTFOUND : dict_get(t, id, d);
}

/* Whether `d` may be `ct`'s dictionary: 0 (*have: it is already),
 * PITR_NOTFOUND, or an error. */
static int adoption(pitr_txn *t, uint64_t ct, const struct dict_ref *d,
		    int *have)
{
	uint64_t id, ts;
	int rc = ct_dict(t, ct, &id, &ts);

	*have = rc == 0;
	if (rc == 0)
		return id == d->id ? 0 : PITR_NOTFOUND;
	if (rc == PITR_NOTFOUND && dicts_kept(t->s))
		return 0;
	return rc;
}

int dict_adoptable(pitr_txn *t, uint64_t ct, const struct dict_ref *d)
{
	int have;

	return adoption(t, ct, d, &have);
}

int dict_adopt(pitr_txn *t, uint64_t ct, const struct dict_ref *d)
{
	int have, rc = adoption(t, ct, d, &have);

	return rc || have ? rc : dict_install(t, ct, d->id, d->bytes, d->len);
}

int dict_each(pitr_txn *t, int (*fn)(uint64_t ts, uint32_t idx, void *arg),
	      void *arg)
{
	unsigned char k[9];
	MDB_val key = { sizeof(k), k }, val;
	MDB_cursor *c;
	uint64_t id, ts;
	uint32_t idx;
	int rc;

	if (!dicts_kept(t->s))
		return 0;
	if ((rc = mdb_rc(mdb_cursor_open(t->txn, t->s->dicts, &c))))
		return rc;
	dict_key(k, DICT_BY_ID, 0);
	for (rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		if (key.mv_size != 9 ||
		    ((unsigned char *)key.mv_data)[0] != DICT_BY_ID)
			break;
		if (dict_val_decode(&val, &id, &ts, &idx)) {
			rc = PITR_CORRUPT;
			break;
		}
		if ((rc = fn(ts, idx, arg)))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : mdb_rc(rc);
}

int dict_replay(pitr_txn *t, const struct log_rec *r, uint32_t idx)
{
	int rc;

	if (!t->s->has_dicts)
		return PITR_CORRUPT;
	rc = dict_val_put(t, DICT_BY_ID, r->inc, r->inc, t->ts, idx);
	return rc ? rc : dict_val_put(t, DICT_OF_CT, r->parent, r->inc, t->ts, idx);
}
