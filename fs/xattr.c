/*
 * xattr.c - the extended attributes a document shows with -o xattr:
 * user.pitr.ts (its version's time, RFC 3339) and user.pitr.etag. None can
 * be set.
 *
 * Without -o xattr, the first GETXATTR or LISTXATTR is answered ENOSYS, and
 * the kernel asks no more for the life of the mount: getxattr(2) and
 * listxattr(2) fail with EOPNOTSUPP there without a request. Serving any
 * xattr costs a request wherever the kernel or a tool looks for one: GNU
 * ls -l asks for the ACL and the security label of every file (two
 * requests each), cp -a and rsync -X for every file's list, and the
 * kernel for security.capability before every truncating open (libfuse
 * 3.14 cannot accept FUSE_HANDLE_KILLPRIV_V2, the one flag that lets the
 * kernel skip it). What these two attributes tell is also in stat(2): the
 * version's time is the mtime, to the nanosecond, and `pitr` shows the
 * etag.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ops.h"

#define XATTR_TS   "user.pitr.ts"
#define XATTR_ETAG "user.pitr.etag"

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char val[PITR_TIME_LEN + 8];
	struct node_ref r;
	pitr_version v;
	size_t idlen, len;
	pitr_txn *t;
	int rc;

	if (!fs.xattr)
		return reply_err(req, ENOSYS);

	node_get(node_of(ino), &r);
	if (r.kind != N_DOC ||
	    (strcmp(name, XATTR_TS) && strcmp(name, XATTR_ETAG)))
		return reply_err(req, ENODATA);
	rc = read_txn(&t);
	if (rc)
		return reply_err(req, rc);
	doc_id_len(r.name, r.namelen, &idlen);
	rc = pitr_doc_stat(t, r.inc, r.name, idlen, r.at, &v);
	pitr_txn_abort(t);
	if (rc) {
		reply_err(req, rc == PITR_NOTFOUND ? ENODATA : rc);
		return;
	}
	if (!strcmp(name, XATTR_TS))
		pitr_time_format(v.ts, val);
	else
		snprintf(val, sizeof(val), "%016" PRIx64, v.etag);
	len = strlen(val);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, val, len);
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	static const char names[] = XATTR_TS "\0" XATTR_ETAG;
	struct node_ref r;

	if (!fs.xattr)
		return reply_err(req, ENOSYS);
	node_get(node_of(ino), &r);
	size_t len = r.kind == N_DOC ? sizeof(names) : 0;
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, names, len);
}

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		 const char *value, size_t size, int flags)
{
	struct node_ref r;

	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	node_get(node_of(ino), &r);
	reply_err(req, is_live(&r) ? ENOTSUP : EROFS);
}

void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	op_setxattr(req, ino, name, NULL, 0, 0);
}
