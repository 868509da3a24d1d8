/*
 * damage.c - damage one record of a store's table through LMDB itself,
 * as a bad disk, a bad copy or a hand edit would leave it.
 *
 *   damage STORE TABLE KIND SEED
 *
 * TABLE: meta log versions live names incs. KIND:
 *   trunc    the value cut short        extend   the value grown
 *   flip     one bit of the value       empty    a zero-length value
 *   keyflip  one bit of the key         keytrunc the key cut short
 *   bigname  a key (or incs value) with a 300-byte name
 *   hugelen  the value's length fields set to their maximum
 * SEED picks the record and the bytes. Exit 0 when damaged, 2 when the
 * table has nothing to damage. In a table of fixed-size items (versions,
 * from format 5) a record is a key and one item: its value cannot change
 * size (LMDB refuses it), the rest damages the item or moves it.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rnd;

static unsigned next(void)
{
	rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rnd >> 33);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "damage: %s: %s\n", what, mdb_strerror(rc));
	exit(1);
}

/* The offset of a name in a key of `table`, or -1 if its keys hold none. */
static int name_off(const char *table)
{
	if (!strcmp(table, "versions") || !strcmp(table, "names"))
		return 8;
	if (!strcmp(table, "live"))
		return 9;
	return -1;
}

int main(int argc, char **argv)
{
	static unsigned char kb[4096], vb[1 << 20];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val key, val, nk, nv;
	MDB_stat st;
	unsigned flags = 0;
	const char *table, *kind;
	size_t pick;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: damage STORE TABLE KIND SEED\n");
		return 1;
	}
	table = argv[2];
	kind = argv[3];
	rnd = strtoull(argv[4], NULL, 10) * 2654435761u + 1;
	if ((rc = mdb_env_create(&env)))
		die("env", rc);
	mdb_env_set_maxdbs(env, 8);
	mdb_env_set_mapsize(env, 1ull << 30);
	if ((rc = mdb_env_open(env, argv[1], 0, 0600)))
		die(argv[1], rc);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, table, 0, &dbi)) ||
	    (rc = mdb_stat(txn, dbi, &st)))
		die(table, rc);
	if (!st.ms_entries)
		return 2;
	mdb_dbi_flags(txn, dbi, &flags);
	int items = (flags & MDB_DUPFIXED) != 0;
	if (items && (!strcmp(argv[3], "trunc") || !strcmp(argv[3], "extend") ||
		      !strcmp(argv[3], "empty")))
		return 2;
	pick = next() % st.ms_entries;
	if ((rc = mdb_cursor_open(txn, dbi, &c)) ||
	    (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST)))
		die("cursor", rc);
	while (pick-- && (rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) == 0)
		;
	if (key.mv_size > sizeof(kb) || val.mv_size > sizeof(vb) - 4096)
		return 2;
	memcpy(kb, key.mv_data, key.mv_size);
	memcpy(vb, val.mv_data, val.mv_size);
	nk = (MDB_val){ key.mv_size, kb };
	nv = (MDB_val){ val.mv_size, vb };
	mdb_cursor_close(c);

	if (!strcmp(kind, "trunc")) {
		if (!nv.mv_size)
			return 2;
		nv.mv_size = next() % nv.mv_size;
	} else if (!strcmp(kind, "extend")) {
		size_t n = 1 + next() % 300;
		for (size_t i = 0; i < n; i++)
			vb[nv.mv_size + i] = (unsigned char)next();
		nv.mv_size += n;
	} else if (!strcmp(kind, "flip")) {
		if (!nv.mv_size)
			return 2;
		unsigned b = next() % (unsigned)(nv.mv_size * 8);
		vb[b / 8] ^= (unsigned char)(1u << b % 8);
	} else if (!strcmp(kind, "empty")) {
		nv.mv_size = 0;
	} else if (!strcmp(kind, "keyflip")) {
		unsigned b = next() % (unsigned)(nk.mv_size * 8);
		kb[b / 8] ^= (unsigned char)(1u << b % 8);
	} else if (!strcmp(kind, "keytrunc")) {
		if (nk.mv_size < 2)
			return 2;
		nk.mv_size = 1 + next() % (nk.mv_size - 1);
	} else if (!strcmp(kind, "bigname")) {
		int off = name_off(table);
		if (!strcmp(table, "incs") && nv.mv_size >= 25) {
			memset(vb + 25, 'n', 300);
			nv.mv_size = 25 + 300;
		} else if (off >= 0 && nk.mv_size > (size_t)off + 1) {
			/* a 300-byte name, keeping what follows it */
			size_t tail = !strcmp(table, "live")	? 0
				      : !strcmp(table, "names") ? 13
				      : items			? 1
								: 9;
			if (nk.mv_size < off + tail)
				return 2;
			memmove(kb + off + 300, kb + nk.mv_size - tail, tail);
			memset(kb + off, 'n', 300);
			nk.mv_size = off + 300 + tail;
		} else {
			return 2;
		}
	} else if (!strcmp(kind, "hugelen")) {
		/* every length a record holds: the log's namelen and sizes,
		 * the size fields of versions and live, or all ones */
		if (!strcmp(table, "log") && nv.mv_size >= 12 &&
		    (vb[0] & 0x80)) {
			/* the compact form: namelen, and the varints after
			 * it made as long as they go */
			vb[1] = 0xff;
			memset(vb + 2, 0xff, 10);
		} else if (!strcmp(table, "log") && nv.mv_size >= 28) {
			vb[2] = vb[3] = 0xff;
			memset(vb + 20 + (next() % 2) * 4, 0xff, 4);
		} else if (!strcmp(table, "versions") && items) {
			/* the size, after ts and idx: the largest that is no
			 * delete's mark (all ones) */
			memset(vb + 12, 0xff, 4);
			vb[12] = 0xfe;
		} else if (!strcmp(table, "versions") && nv.mv_size == 17) {
			memset(vb + 5, 0xff, 4);
		} else if (!strcmp(table, "versions") && nv.mv_size >= 10) {
			/* compact: the varints idx and size, long as they go */
			memset(vb, 0xff, 5);
		} else if (!strcmp(table, "live") && nv.mv_size == 24) {
			memset(vb + 12, 0xff, 4);
		} else if (!strcmp(table, "live") && nv.mv_size >= 18) {
			memset(vb + 8, 0xff, 5);
		} else {
			memset(vb, 0xff, nv.mv_size);
		}
	} else {
		fprintf(stderr, "damage: unknown kind '%s'\n", kind);
		return 1;
	}
	if (nk.mv_size == key.mv_size && nv.mv_size == val.mv_size &&
	    !memcmp(kb, key.mv_data, key.mv_size) &&
	    !memcmp(vb, val.mv_data, val.mv_size))
		return 2; /* the record already was so (a delete's size) */
	if (items) {
		/* the item goes, the damaged one comes (a copy: `key` and
		 * `val` point into the map) */
		MDB_val ok = { key.mv_size, malloc(key.mv_size) };
		MDB_val ov = { val.mv_size, malloc(val.mv_size) };
		memcpy(ok.mv_data, key.mv_data, key.mv_size);
		memcpy(ov.mv_data, val.mv_data, val.mv_size);
		if ((rc = mdb_del(txn, dbi, &ok, &ov)))
			die("del", rc);
		free(ok.mv_data);
		free(ov.mv_data);
	} else if (nk.mv_size != key.mv_size ||
		   memcmp(kb, key.mv_data, key.mv_size)) {
		/* `key` points into the map: delete by our copy */
		MDB_val old = { key.mv_size, malloc(key.mv_size) };
		memcpy(old.mv_data, key.mv_data, key.mv_size);
		if ((rc = mdb_del(txn, dbi, &old, NULL)))
			die("del", rc);
		free(old.mv_data);
	}
	if ((rc = mdb_put(txn, dbi, &nk, &nv, 0)) ||
	    (rc = mdb_txn_commit(txn)))
		die("put", rc);
	mdb_env_close(env);
	return 0;
}
