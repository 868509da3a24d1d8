/*
 * meta.c - accessors of the meta table: keyed values of the account
 * (format, name, created, policy, last_ts, ...). get returns PITR_NOTFOUND
 * for an absent key; the 64-bit getter PITR_NOTSTORE, and PITR_CORRUPT
 * for a value that is not 8 bytes; put with NULL data deletes.
 */

#include "internal.h"

int meta_put(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *data,
	     size_t len)
{
	MDB_val k = { strlen(key), (void *)key }, v = { len, (void *)data };

	if (!data) {
		int rc = mdb_del(txn, dbi, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : mdb_rc(rc);
	}
	return mdb_rc(mdb_put(txn, dbi, &k, &v, 0));
}

int meta_put64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value)
{
	unsigned char b[8];

	put_le64(b, value);
	return meta_put(txn, dbi, key, b, 8);
}

int meta_get(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *v)
{
	MDB_val k = { strlen(key), (void *)key };

	return mdb_rc(mdb_get(txn, dbi, &k, v));
}

int meta_get64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *value)
{
	MDB_val v;
	int rc = meta_get(txn, dbi, key, &v);

	if (rc)
		return rc == PITR_NOTFOUND ? PITR_NOTSTORE : rc;
	return u64_decode(&v, value);
}
