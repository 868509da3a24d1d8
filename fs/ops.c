/*
 * ops.c - the FUSE low-level ops table, the session's init, the one
 * translation of core's codes into an error reply, and the handles the
 * kernel never released. The handlers live in one file per job (ops.h).
 */
#include <errno.h>
#include <pthread.h>

#include "ops.h"

pthread_mutex_t handles_mtx = PTHREAD_MUTEX_INITIALIZER;

void link_add(struct link *head, struct link *l)
{
	pthread_mutex_lock(&handles_mtx);
	l->prev = head;
	l->next = head->next;
	head->next->prev = l;
	head->next = l;
	pthread_mutex_unlock(&handles_mtx);
}

void link_del(struct link *l)
{
	pthread_mutex_lock(&handles_mtx);
	l->prev->next = l->next;
	l->next->prev = l->prev;
	pthread_mutex_unlock(&handles_mtx);
}

void reply_err(fuse_req_t req, int rc)
{
	fuse_reply_err(req, pitr_errno(rc));
}

void ops_release_all(void)
{
	files_release_all();
	dirs_release_all();
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

const struct fuse_lowlevel_ops pitrfs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.access = op_access,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.fsync = op_fsync,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
};
