/*
 * error.c - the meaning of a return code: pitr_strerror() gives the text
 * of an errno or PITR_* code (LMDB's for an LMDB one), pitr_errno() the
 * errno a FUSE reply or exit status reports, and mdb_rc() maps an LMDB
 * code onto the pitr ones. Pure functions of the code; no state.
 */
#include <errno.h>

#include "internal.h"

static const char *const errors[] = {
	[-PITR_NOTFOUND - 32000] = "no such database, container or document",
	[-PITR_EXISTS - 32000] = "already exists",
	[-PITR_BADNAME - 32000] = "invalid name",
	[-PITR_BADJSON - 32000] = "not a JSON object",
	[-PITR_TOOBIG - 32000] = "document too large",
	[-PITR_NOTEMPTY - 32000] = "not empty",
	[-PITR_CORRUPT - 32000] = "stored data is damaged (checksum mismatch)",
	[-PITR_NOTSTORE - 32000] = "not a pitrfs account",
	[-PITR_NEWFORMAT - 32000] = "account has a newer on-disk format",
	[-PITR_BADTIME - 32000] = "invalid time",
	[-PITR_OUTOFRANGE - 32000] = "time outside the retention window",
	[-PITR_RDONLY - 32000] = "read-only",
	[-PITR_BUSY - 32000] = "account is mounted by another daemon",
	[-PITR_BADPOLICY - 32000] = "invalid backup policy",
	[-PITR_FOREIGN - 32000] = "backup directory belongs to another account",
	[-PITR_NOBACKUP - 32000] = "no backup directory is set",
	[-PITR_NOTMEDIA - 32000] = "not a backup directory",
	[-PITR_CONFLICT - 32000] = "another writer ships to the backup media",
};

const char *pitr_strerror(int rc)
{
	if (rc >= 0)
		return strerror(rc);
	if (rc <= PITR_NOTFOUND && rc >= PITR_FIRST_CODE)
		return errors[-rc - 32000];
	return mdb_strerror(rc);
}

int pitr_errno(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case PITR_NOTFOUND:
	case PITR_BADTIME:
	case PITR_OUTOFRANGE:
		return ENOENT;
	case PITR_EXISTS:
		return EEXIST;
	case PITR_BADNAME:
	case PITR_BADJSON:
	case PITR_NOTSTORE:
	case PITR_BADPOLICY:
	case PITR_FOREIGN:
	case PITR_NOBACKUP:
	case PITR_NOTMEDIA:
	case PITR_CONFLICT:
		return EINVAL;
	case PITR_TOOBIG:
		return EFBIG;
	case PITR_NOTEMPTY:
		return ENOTEMPTY;
	case PITR_CORRUPT:
		return EIO;
	case PITR_NEWFORMAT:
		return EPROTO;
	case PITR_RDONLY:
		return EROFS;
	case PITR_BUSY:
		return EBUSY;
	}
	return rc > 0 ? rc : EIO;
}

int mdb_rc(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return PITR_NOTFOUND;
	case MDB_MAP_FULL:
		return ENOSPC;
	case MDB_READERS_FULL:
		return EAGAIN;
	case MDB_TXN_FULL:
		return ENOMEM;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return PITR_CORRUPT;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return PITR_NOTSTORE;
	}
	return rc > 0 ? rc : EIO;
}
