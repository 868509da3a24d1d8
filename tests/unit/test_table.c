/*
 * test_table.c - table.c's two layouts against each other: the same
 * random puts (new entries and replacements), deletes and appends go to a
 * plain LMDB table, the oracle, and to a table of items (MDB_DUPSORT |
 * MDB_DUPFIXED, as format 5 keeps versions); then every kind of cursor
 * move and seek, from random keys of every shape a caller gives (whole
 * keys present or not, a name's prefix, a name's end mark, a container
 * alone, cut in the ~ts), must give the same key and value on both, and
 * tbl_get the same answer. Keys are as versions has them: (ct u64 with
 * zero bytes, id, 0x00, ~ts u64).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../core/internal.h"
#include "tap.h"

static uint64_t rnd = 88172645463325252ull;

static unsigned next(unsigned n)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return (unsigned)(rnd % n);
}

static const char *const ids[] = { "a", "ab", "b", "ba", "c", "zz", "a-1" };
#define NIDS (sizeof(ids) / sizeof(ids[0]))
static const uint64_t cts[] = { 0, 1, 0x100, 0x0100000000000002ull };
#define NCTS (sizeof(cts) / sizeof(cts[0]))

/* A whole key: (ct, id, 0, ~ts) with few distinct ts, so that replaces
 * and neighbours are common. */
static size_t whole_key(unsigned char *k)
{
	const char *id = ids[next(NIDS)];

	return key_named(k, cts[next(NCTS)], id, strlen(id), 1 + next(40));
}

/* A name of the random puts, or the deep one's (DEEP versions). */
#define DEEP 3000
static const char *any_id(uint64_t *ct, uint64_t *ts)
{
	if (next(4) == 0) {
		*ct = 1;
		*ts = 1 + next(DEEP + 2);
		return "deep";
	}
	*ct = cts[next(NCTS)];
	*ts = 1 + next(42);
	return ids[next(NIDS)];
}

/* A key of any shape seek_at, the listings and the walks give. */
static size_t seek_key(unsigned char *k)
{
	uint64_t ct, ts;
	const char *id = any_id(&ct, &ts);
	size_t n = key_named(k, ct, id, strlen(id), ts);

	switch (next(5)) {
	case 0:
		return n; /* whole */
	case 1:
		return 8; /* the container alone */
	case 2:
		k[8 + strlen(id)] = 1; /* past every entry of the name */
		return 9 + strlen(id);
	case 3:
		return 9 + strlen(id) + next(8); /* cut in ~ts */
	default:
		return 8 + next((unsigned)strlen(id) + 1); /* cut in the id */
	}
}

static int same_val(int rp, int ri, const MDB_val *kp, const MDB_val *vp,
		    const MDB_val *ki, const MDB_val *vi)
{
	if (rp != ri)
		return 0;
	if (rp)
		return 1;
	return kp->mv_size == ki->mv_size &&
	       !memcmp(kp->mv_data, ki->mv_data, kp->mv_size) &&
	       vp->mv_size == vi->mv_size &&
	       !memcmp(vp->mv_data, vi->mv_data, vp->mv_size);
}

int main(void)
{
	char dir[] = "/tmp/pitr-table-XXXXXX";
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi plain, items;
	unsigned char k[KEY_MAX], v[VER_ITEM_VAL];
	int rc, bad = 0;

	if (!mkdtemp(dir))
		return 1;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
	    mdb_env_set_mapsize(env, 64u << 20) ||
	    mdb_env_open(env, dir, 0, 0600))
		return 1;
	mdb_txn_begin(env, NULL, 0, &txn);
	is_int(mdb_dbi_open(txn, "plain", MDB_CREATE, &plain), 0,
	       "plain table");
	is_int(mdb_dbi_open(txn, "items", MDB_CREATE | VERSIONS_ITEMS, &items),
	       0, "table of items");

	/* the same changes to both */
	unsigned puts = 0, dels = 0, appends = 0;
	for (int i = 0; i < 20000; i++) {
		MDB_val key = { whole_key(k), k }, val = { sizeof(v), v };
		for (size_t j = 0; j < sizeof(v); j++)
			v[j] = (unsigned char)next(256);
		if (next(4) == 0) {
			int a = tbl_del(txn, plain, &key);
			int b = tbl_del(txn, items, &key);
			bad += a != b;
			dels += a == 0;
		} else {
			int a = tbl_put(txn, plain, &key, &val, 0);
			int b = tbl_put(txn, items, &key, &val, 0);
			bad += a != 0 || b != 0;
			puts++;
		}
	}
	is_int(bad, 0, "puts and deletes: the same results on both");
	/* appends past the last entry: a new container's entries */
	for (int i = 0; i < 200; i++) {
		char id[16];
		snprintf(id, sizeof(id), "n%03d", i);
		MDB_val key = { key_named(k, UINT64_MAX, id, strlen(id), 7),
				k };
		MDB_val val = { sizeof(v), v };
		v[0] = (unsigned char)i;
		bad += tbl_put(txn, plain, &key, &val, MDB_APPEND) != 0;
		bad += tbl_put(txn, items, &key, &val, MDB_APPEND) != 0;
		appends++;
	}
	/* older versions of the last key: past its items too */
	for (uint64_t ts = 6; ts > 2; ts--) {
		MDB_val key = { key_named(k, UINT64_MAX, "n199", 4, ts), k };
		MDB_val val = { sizeof(v), v };
		bad += tbl_put(txn, plain, &key, &val, MDB_APPEND) != 0;
		bad += tbl_put(txn, items, &key, &val, MDB_APPEND) != 0;
		appends++;
	}
	is_int(bad, 0, "appends");
	/* one document with DEEP versions, put in a random order: LMDB
	 * keeps its items in a sub-database of their own */
	unsigned order[DEEP];
	for (unsigned i = 0; i < DEEP; i++)
		order[i] = i + 1;
	for (unsigned i = DEEP - 1; i > 0; i--) {
		unsigned j = next(i + 1), x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	for (unsigned i = 0; i < DEEP; i++) {
		MDB_val key = { key_named(k, 1, "deep", 4, order[i]), k };
		MDB_val val = { sizeof(v), v };
		v[1] = (unsigned char)i;
		bad += tbl_put(txn, plain, &key, &val, 0) != 0;
		bad += tbl_put(txn, items, &key, &val, 0) != 0;
	}
	is_int(bad, 0, "a document of 3,000 versions");
	MDB_stat sp, si;
	mdb_stat(txn, plain, &sp);
	mdb_stat(txn, items, &si);
	is_int(si.ms_entries, sp.ms_entries, "as many entries in both");
	ok(puts > 10000 && dels > 1000 && sp.ms_entries > 500,
	   "%u puts, %u deletes, %u appends: %zu entries", puts, dels, appends,
	   sp.ms_entries);

	/* a full walk each way */
	struct tcur cp, ci;
	MDB_val kp, vp, ki, vi;
	int rp, ri, steps = 0;
	tcur_open(txn, plain, &cp);
	tcur_open(txn, items, &ci);
	ok(!cp.dup && ci.dup, "the layouts are told apart");
	bad = 0;
	for (rp = tcur_get(&cp, &kp, &vp, MDB_FIRST),
	    ri = tcur_get(&ci, &ki, &vi, MDB_FIRST);
	     !rp || !ri; rp = tcur_get(&cp, &kp, &vp, MDB_NEXT),
	    ri = tcur_get(&ci, &ki, &vi, MDB_NEXT), steps++)
		if (!same_val(rp, ri, &kp, &vp, &ki, &vi) && ++bad)
			break;
	ok(!bad && rp == MDB_NOTFOUND && ri == MDB_NOTFOUND &&
	       steps == (int)sp.ms_entries,
	   "forwards: the same %d entries", steps);
	bad = steps = 0;
	for (rp = tcur_get(&cp, &kp, &vp, MDB_LAST),
	    ri = tcur_get(&ci, &ki, &vi, MDB_LAST);
	     !rp || !ri; rp = tcur_get(&cp, &kp, &vp, MDB_PREV),
	    ri = tcur_get(&ci, &ki, &vi, MDB_PREV), steps++)
		if (!same_val(rp, ri, &kp, &vp, &ki, &vi) && ++bad)
			break;
	ok(!bad && steps == (int)sp.ms_entries, "backwards: the same %d",
	   steps);

	/* seeks of every shape, then a few steps either way */
	int seeks = 0, found = 0, gets = 0, hits = 0;
	bad = 0;
	for (int i = 0; i < 20000 && !bad; i++) {
		unsigned char sk[KEY_MAX];
		size_t n = seek_key(sk);
		MDB_cursor_op op = next(3) ? MDB_SET_RANGE : MDB_SET_KEY;
		kp = ki = (MDB_val){ n, sk };
		rp = tcur_get(&cp, &kp, &vp, op);
		ri = tcur_get(&ci, &ki, &vi, op);
		/* a seek that misses leaves the cursor nowhere in particular */
		if (!same_val(rp, ri, &kp, &vp, &ki, &vi)) {
			bad++;
			printf("# seek of %zu bytes (op %d): %d and %d\n", n,
			       (int)op, rp, ri);
			break;
		}
		seeks++;
		found += rp == 0;
		for (int s = 0; !rp && s < 3; s++) {
			MDB_cursor_op mv = next(2) ? MDB_NEXT : MDB_PREV;
			rp = tcur_get(&cp, &kp, &vp, mv);
			ri = tcur_get(&ci, &ki, &vi, mv);
			if (!same_val(rp, ri, &kp, &vp, &ki, &vi) && ++bad)
				break;
		}
		MDB_val gk = { n, sk };
		rp = tbl_get(txn, plain, &gk, &vp);
		ri = tbl_get(txn, items, &gk, &vi);
		gets++;
		hits += rp == 0;
		if (rp != ri ||
		    (!rp && (vp.mv_size != vi.mv_size ||
			     memcmp(vp.mv_data, vi.mv_data, vp.mv_size))))
			bad++;
	}
	ok(!bad && found > 1000 && hits > 100,
	   "%d seeks (%d found), %d gets (%d found): the same on both", seeks,
	   found, gets, hits);

	/* seek_at: the version of a name at an instant, or none */
	int at_found = 0;
	bad = 0;
	for (int i = 0; i < 20000 && !bad; i++) {
		uint64_t ct, at;
		const char *id = any_id(&ct, &at);
		rp = seek_at(&cp, ct, id, strlen(id), VER_SUFFIX, at, &kp, &vp);
		ri = seek_at(&ci, ct, id, strlen(id), VER_SUFFIX, at, &ki, &vi);
		if (!same_val(rp, ri, &kp, &vp, &ki, &vi))
			bad++;
		at_found += rp == 0;
	}
	ok(!bad && at_found > 5000,
	   "20000 seeks at an instant (%d found): "
	   "the same on both",
	   at_found);
	tcur_close(&cp);
	tcur_close(&ci);

	/* random walks: steps past either end and back, seeks, from a fresh
	 * cursor too; after a seek that found nothing, the next move is a
	 * seek (a step from there is MDB_NOTFOUND on items, by contract) */
	int moves = 0, lost = 1;
	bad = 0;
	for (int w = 0; w < 200 && !bad; w++) {
		tcur_open(txn, plain, &cp);
		tcur_open(txn, items, &ci);
		lost = 0;
		for (int i = 0; i < 100 && !bad; i++, moves++) {
			static const MDB_cursor_op ops[] = {
				MDB_NEXT,  MDB_NEXT, MDB_PREV,	    MDB_PREV,
				MDB_FIRST, MDB_LAST, MDB_SET_RANGE, MDB_SET_KEY
			};
			MDB_cursor_op op =
			    ops[next(lost ? 4 : 8) + (lost ? 4 : 0)];
			unsigned char sk[KEY_MAX];
			if (op == MDB_SET_RANGE || op == MDB_SET_KEY) {
				kp = ki = (MDB_val){ seek_key(sk), sk };
				if (op == MDB_SET_KEY &&
				    next(2)) /* a whole key */
					kp = ki =
					    (MDB_val){ whole_key(sk), sk };
			}
			rp = tcur_get(&cp, &kp, &vp, op);
			ri = tcur_get(&ci, &ki, &vi, op);
			if (!same_val(rp, ri, &kp, &vp, &ki, &vi)) {
				printf("# walk %d move %d (op %d): %d and %d\n",
				       w, i, (int)op, rp, ri);
				bad++;
			}
			lost = rp && op != MDB_NEXT && op != MDB_PREV;
		}
		tcur_close(&cp);
		tcur_close(&ci);
	}
	ok(!bad, "%d moves in random walks: the same on both", moves);
	MDB_val ak = { key_named(k, UINT64_MAX, "n199", 4, 9), k };
	MDB_val av = { sizeof(v), v };
	rp = tbl_put(txn, plain, &ak, &av, MDB_APPEND);
	ri = tbl_put(txn, items, &ak, &av, MDB_APPEND);
	ok(rp == MDB_KEYEXIST && ri == MDB_KEYEXIST,
	   "an append of a newer version of the last key: refused by both");
	ak.mv_size = key_named(k, UINT64_MAX, "n199", 4, 3);
	rp = tbl_put(txn, plain, &ak, &av, MDB_APPEND);
	ri = tbl_put(txn, items, &ak, &av, MDB_APPEND);
	ok(rp == MDB_KEYEXIST && ri == MDB_KEYEXIST,
	   "... of its oldest version again: refused by both");

	/* a key longer than any the code makes (a damaged name) comes back
	 * whole, as the plain table gives it */
	unsigned char lkey[400];
	memset(lkey, 'n', sizeof(lkey));
	put_be64(lkey, 7);
	lkey[sizeof(lkey) - 9] = 0;
	MDB_val bk = { sizeof(lkey), lkey }, bv = { sizeof(v), v };
	bad = tbl_put(txn, plain, &bk, &bv, 0) ||
	      tbl_put(txn, items, &bk, &bv, 0);
	tcur_open(txn, plain, &cp);
	tcur_open(txn, items, &ci);
	kp = ki = bk;
	rp = tcur_get(&cp, &kp, &vp, MDB_SET_KEY);
	ri = tcur_get(&ci, &ki, &vi, MDB_SET_KEY);
	ok(!bad && !rp && same_val(rp, ri, &kp, &vp, &ki, &vi),
	   "a key of 400 bytes: the same on both");
	tcur_close(&cp);
	tcur_close(&ci);

	/* a key too short to hold a ~ts is refused, not split */
	MDB_val sk = { 4, k }, sv = { sizeof(v), v };
	ok(tbl_put(txn, items, &sk, &sv, 0) != 0, "a key of 4 bytes: refused");
	MDB_val lv = { 3, v };
	MDB_val lk = { whole_key(k), k };
	ok(tbl_put(txn, items, &lk, &lv, 0) != 0,
	   "a value of another size: refused");
	mdb_txn_abort(txn);
	mdb_env_close(env);
	rc = tap_done();
	char path[64];
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
	return rc;
}
