/*
 * table.c - the named tables' entries in either layout, and the seek to a
 * name's entry at an instant.
 *
 * A table is plain (every table but versions; versions before format 5),
 * or, as format 5 keeps versions, MDB_DUPSORT | MDB_DUPFIXED: there the
 * last DUP_KEY bytes of an entry's key (~ts) become the first of its data
 * item of DUP_ITEM bytes, inverted (ts), and the rest is the value. One
 * document's key is then stored once, and its versions are items of a
 * fixed size without a node header each, oldest first, so that a new
 * version is appended (MDB_APPENDDUP: LMDB fills a page before it begins
 * the next one, where an insert at the front would leave pages half
 * full). No key is a prefix of another (each ends with the 0x00 after a
 * name that has none), so the plain table's order is: keys in order, and
 * each key's items from the last to the first. Callers see one layout,
 * the plain one. A cursor's key then lives in the cursor (struct tcur),
 * valid until its next call.
 *
 * The functions return LMDB's codes, as the calls they stand for do.
 */
#include <errno.h>

#include "internal.h"

static int is_dup(MDB_txn *txn, MDB_dbi dbi)
{
	unsigned flags = 0;

	return mdb_dbi_flags(txn, dbi, &flags) == 0 && (flags & MDB_DUPSORT);
}

int tcur_open(MDB_txn *txn, MDB_dbi dbi, struct tcur *tc)
{
	tc->dup = is_dup(txn, dbi);
	tc->at = TCUR_FRESH;
	return mdb_cursor_open(txn, dbi, &tc->c);
}

void tcur_close(struct tcur *tc)
{
	if (tc->c)
		mdb_cursor_close(tc->c);
	tc->c = NULL;
}

/* The plain key and value of the item the cursor is on. */
static int compose(struct tcur *tc, MDB_val *key, MDB_val *val)
{
	if (val->mv_size != DUP_ITEM || key->mv_size + DUP_KEY > TCUR_KEY)
		return MDB_CORRUPTED;
	memcpy(tc->k, key->mv_data, key->mv_size);
	put_be64(tc->k + key->mv_size, ~get_be64(val->mv_data));
	key->mv_size += DUP_KEY;
	key->mv_data = tc->k;
	val->mv_size = DUP_ITEM - DUP_KEY;
	val->mv_data = (unsigned char *)val->mv_data + DUP_KEY;
	return 0;
}

/* The item of the plain key `k` (at least DUP_KEY + 1 bytes) and its
 * value `v` (NULL: zeros) into `item`; the table's key into `dk`. */
static int split(const MDB_val *k, const MDB_val *v, MDB_val *dk,
		 unsigned char item[DUP_ITEM])
{
	if (k->mv_size <= DUP_KEY || (v && v->mv_size != DUP_ITEM - DUP_KEY))
		return EINVAL;
	dk->mv_size = k->mv_size - DUP_KEY;
	dk->mv_data = k->mv_data;
	put_be64(item, ~get_be64((unsigned char *)k->mv_data + dk->mv_size));
	if (v)
		memcpy(item + DUP_KEY, v->mv_data, DUP_ITEM - DUP_KEY);
	else
		memset(item + DUP_KEY, 0, DUP_ITEM - DUP_KEY);
	return 0;
}

/* Put the cursor on the item of plain key `k` exactly. */
static int dup_exact(MDB_cursor *c, const MDB_val *k, MDB_val *key,
		     MDB_val *val)
{
	unsigned char item[DUP_ITEM];

	if (split(k, NULL, key, item)) /* too short to be an entry's */
		return MDB_NOTFOUND;
	val->mv_size = DUP_ITEM;
	val->mv_data = item;
	int rc = mdb_cursor_get(c, key, val, MDB_GET_BOTH_RANGE);
	if (!rc &&
	    (val->mv_size != DUP_ITEM || memcmp(val->mv_data, item, DUP_KEY)))
		rc = MDB_NOTFOUND;
	return rc;
}

/* From a key's first item (as LMDB's seeks leave it), to its last: the
 * first in the plain order. */
static int newest(MDB_cursor *c, MDB_val *key, MDB_val *val, int rc)
{
	return rc ? rc : mdb_cursor_get(c, key, val, MDB_LAST_DUP);
}

/* Put the cursor on the newest item of key `dk` at or before `ts` (every
 * one: UINT64_MAX); MDB_NOTFOUND when it has none. */
static int dup_at(MDB_cursor *c, const MDB_val *dk, uint64_t ts, MDB_val *key,
		  MDB_val *val)
{
	unsigned char item[DUP_ITEM] = { 0 };
	int rc;

	*key = *dk;
	if (ts != UINT64_MAX) {
		/* the first item after ts, then the one before it */
		put_be64(item, ts + 1);
		val->mv_size = DUP_ITEM;
		val->mv_data = item;
		rc = mdb_cursor_get(c, key, val, MDB_GET_BOTH_RANGE);
		if (rc != MDB_NOTFOUND)
			return rc ? rc
				  : mdb_cursor_get(c, key, val, MDB_PREV_DUP);
		*key = *dk; /* none after ts: the key's newest, if any */
	}
	return newest(c, key, val, mdb_cursor_get(c, key, val, MDB_SET));
}

/* Put the cursor on the first item, in the plain order, whose plain key
 * is at least `k`. */
static int dup_range(MDB_cursor *c, const MDB_val *k, MDB_val *key,
		     MDB_val *val)
{
	const unsigned char *p = k->mv_data, *nul = NULL;
	unsigned char rest[DUP_KEY] = { 0 }, next[KEY_MAX + 1];
	int rc;

	if (k->mv_size > 8)
		nul = memchr(p + 8, 0, k->mv_size - 8);
	*key = *k;
	if (!nul) /* no table key is a prefix of k: a key's newest item */
		return newest(c, key, val,
			      mdb_cursor_get(c, key, val, MDB_SET_RANGE));
	size_t klen = (size_t)(nul - p) + 1, n = k->mv_size - klen;
	if (n > DUP_KEY || klen > KEY_MAX)
		return EINVAL;
	/* ~ts at least the given bytes: ts at most their inverse */
	memcpy(rest, p + klen, n);
	MDB_val dk = { klen, (void *)p };
	rc = dup_at(c, &dk, ~get_be64(rest), key, val);
	if (rc != MDB_NOTFOUND)
		return rc;
	/* none of key k[0..klen) so old: the newest of the key after it */
	memcpy(next, p, klen);
	next[klen] = 0;
	key->mv_size = klen + 1;
	key->mv_data = next;
	return newest(c, key, val, mdb_cursor_get(c, key, val, MDB_SET_RANGE));
}

/* One step in the plain order: to the next item back in a key (`in`,
 * MDB_PREV_DUP or MDB_NEXT_DUP), else to the neighbour key (`over`,
 * MDB_NEXT_NODUP or MDB_PREV_NODUP) and its item at `end`. */
static int dup_step(MDB_cursor *c, MDB_val *key, MDB_val *val, MDB_cursor_op in,
		    MDB_cursor_op over, MDB_cursor_op end)
{
	int rc = mdb_cursor_get(c, key, val, in);

	if (rc != MDB_NOTFOUND)
		return rc;
	rc = mdb_cursor_get(c, key, val, over);
	return rc ? rc : mdb_cursor_get(c, key, val, end);
}

int tcur_get(struct tcur *tc, MDB_val *key, MDB_val *val, MDB_cursor_op op)
{
	MDB_val k;
	int rc;

	if (!tc->dup)
		return mdb_cursor_get(tc->c, key, val, op);
	/* a step from nowhere: from the start or the end, as LMDB's; after
	 * a seek that failed, none */
	if ((op == MDB_NEXT || op == MDB_PREV) && tc->at == TCUR_FRESH)
		op = op == MDB_NEXT ? MDB_FIRST : MDB_LAST;
	if (tc->at != TCUR_ON &&
	    (op == MDB_NEXT || op == MDB_PREV || op == MDB_GET_CURRENT))
		return tc->at == TCUR_LOST ? MDB_NOTFOUND : EINVAL;
	switch (op) {
	case MDB_SET:
	case MDB_SET_KEY:
		k = *key;
		rc = dup_exact(tc->c, &k, key, val);
		break;
	case MDB_SET_RANGE:
		k = *key;
		rc = dup_range(tc->c, &k, key, val);
		break;
	case MDB_FIRST:
		rc = newest(tc->c, key, val,
			    mdb_cursor_get(tc->c, key, val, MDB_FIRST));
		break;
	case MDB_LAST:
		/* its key sought again: after MDB_LAST, LMDB's cursor is at
		 * its end and would not step among that key's items */
		rc = mdb_cursor_get(tc->c, key, val, MDB_LAST);
		if (!rc)
			rc = mdb_cursor_get(tc->c, key, val, MDB_SET_KEY);
		break;
	case MDB_NEXT:
		rc = dup_step(tc->c, key, val, MDB_PREV_DUP, MDB_NEXT_NODUP,
			      MDB_LAST_DUP);
		/* past the end, LMDB's cursor would not step back among the
		 * last key's items: on its first item again, by a seek */
		MDB_val v;
		if (rc == MDB_NOTFOUND &&
		    !mdb_cursor_get(tc->c, &k, &v, MDB_GET_CURRENT) &&
		    mdb_cursor_get(tc->c, &k, &v, MDB_SET_KEY))
			tc->at = TCUR_LOST;
		return rc ? rc : compose(tc, key, val);
	case MDB_PREV:
		rc = dup_step(tc->c, key, val, MDB_NEXT_DUP, MDB_PREV_NODUP,
			      MDB_FIRST_DUP);
		break;
	case MDB_GET_CURRENT:
		rc = mdb_cursor_get(tc->c, key, val, op);
		break;
	default:
		return EINVAL;
	}
	if (op != MDB_PREV && op != MDB_GET_CURRENT)
		tc->at = rc ? TCUR_LOST : TCUR_ON;
	return rc ? rc : compose(tc, key, val);
}

int tbl_get(MDB_txn *txn, MDB_dbi dbi, const MDB_val *key, MDB_val *val)
{
	struct tcur tc;
	MDB_val k = *key;
	int rc;

	if (!is_dup(txn, dbi))
		return mdb_get(txn, dbi, &k, val);
	if ((rc = tcur_open(txn, dbi, &tc)))
		return rc;
	rc = tcur_get(&tc, &k, val, MDB_SET_KEY);
	tcur_close(&tc);
	return rc;
}

int tbl_put(MDB_txn *txn, MDB_dbi dbi, const MDB_val *key, const MDB_val *val,
	    unsigned flags)
{
	unsigned char item[DUP_ITEM];
	MDB_val k = *key, v = *val, dk, iv;
	MDB_cursor *c;
	int rc;

	if (!is_dup(txn, dbi))
		return mdb_put(txn, dbi, &k, &v, flags);
	if ((rc = split(key, val, &dk, item)))
		return rc;
	iv.mv_size = DUP_ITEM;
	iv.mv_data = item;
	/* an append of a new key, as a restore makes them: no cursor */
	if ((flags & MDB_APPEND) &&
	    (rc = mdb_put(txn, dbi, &dk, &iv, MDB_APPEND)) != MDB_KEYEXIST)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &c)))
		return rc;
	/* The entry of a key replaces the one there: an item of the same
	 * ts goes first. A version newer than every one of its key (as a
	 * write makes them) is appended to its items. An append that is not
	 * a new key's adds an older version to the table's last key: an
	 * insert among its items. */
	unsigned put = 0;
	if (!(flags & MDB_APPEND)) {
		unsigned char probe[DUP_ITEM] = { 0 };
		memcpy(probe, item, DUP_KEY);
		k = dk;
		iv.mv_size = DUP_ITEM;
		iv.mv_data = probe;
		rc = mdb_cursor_get(c, &k, &iv, MDB_GET_BOTH_RANGE);
		if (rc == MDB_NOTFOUND) /* none at ts or after: it goes last */
			rc = 0, put = MDB_APPENDDUP;
		else if (!rc && iv.mv_size == DUP_ITEM &&
			 !memcmp(iv.mv_data, item, DUP_KEY))
			rc = mdb_cursor_del(c, 0);
	} else {
		/* past the last key's entries: older than its oldest item */
		rc = mdb_cursor_get(c, &k, &iv, MDB_LAST);
		if (!rc && (k.mv_size != dk.mv_size ||
			    memcmp(k.mv_data, dk.mv_data, dk.mv_size)))
			rc = MDB_KEYEXIST;
		if (!rc && !(rc = mdb_cursor_get(c, &k, &iv, MDB_SET_KEY)) &&
		    memcmp(iv.mv_data, item, DUP_KEY) <= 0)
			rc = MDB_KEYEXIST;
	}
	iv.mv_size = DUP_ITEM;
	iv.mv_data = item;
	if (!rc)
		rc = mdb_cursor_put(c, &dk, &iv, put);
	mdb_cursor_close(c);
	return rc;
}

int tbl_del(MDB_txn *txn, MDB_dbi dbi, const MDB_val *key)
{
	MDB_val k = *key, v;
	MDB_cursor *c;
	int rc;

	if (!is_dup(txn, dbi))
		return mdb_del(txn, dbi, &k, NULL);
	if ((rc = mdb_cursor_open(txn, dbi, &c)))
		return rc;
	rc = dup_exact(c, key, &k, &v);
	if (!rc)
		rc = mdb_cursor_del(c, 0);
	mdb_cursor_close(c);
	return rc;
}

int seek_at(struct tcur *tc, uint64_t parent, const char *name, size_t len,
	    size_t suffix, uint64_t at, MDB_val *key, MDB_val *val)
{
	unsigned char k[KEY_MAX];
	size_t prefix = 9 + len;
	int rc;

	key->mv_size = key_named(k, parent, name, len, at);
	key->mv_data = k;
	if (tc->dup && suffix == DUP_KEY) {
		/* among the name's own items only: none at or before `at`
		 * is an answer, without a step to the next key */
		MDB_val dk = { prefix, k };
		rc = dup_at(tc->c, &dk, at, key, val);
		tc->at = rc ? TCUR_LOST : TCUR_ON;
		if (!rc)
			rc = compose(tc, key, val);
		return rc == MDB_NOTFOUND ? PITR_NOTFOUND : mdb_rc(rc);
	}
	rc = tcur_get(tc, key, val, MDB_SET_RANGE);
	if (rc)
		return mdb_rc(rc);
	if (key->mv_size != prefix + suffix || memcmp(key->mv_data, k, prefix))
		return PITR_NOTFOUND;
	return 0;
}
