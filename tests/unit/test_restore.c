/*
 * test_restore.c - pitr_restore and the names of databases at instants:
 * selections by database and container, instants before and after
 * renames and drops, a target that exists, a restore stopped part-way,
 * and the staging that dead builders left (removed) or live ones hold
 * (kept).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docops.h"
#include "pitr.h"
#include "tap.h"

static char dir[256];

/* The body of db/ct/id in the live state of the store at `path`, into
 * `buf`; "" when absent, "!" when the account cannot be read. */
static const char *body_of(const char *path, const char *db, const char *ct,
			   const char *id, char *buf, size_t size)
{
	pitr_store *s;
	pitr_txn *t;
	uint64_t d, c;
	void *b;
	size_t len;

	snprintf(buf, size, "!");
	if (pitr_store_open(path, PITR_OPEN_RDONLY, &s))
		return buf;
	if (pitr_txn_begin(s, PITR_TXN_READ, &t) == 0) {
		buf[0] = 0;
		if (!pitr_db_lookup(t, PITR_NOW, db, strlen(db), &d) &&
		    !pitr_ct_lookup(t, PITR_NOW, d, ct, strlen(ct), &c) &&
		    !pitr_doc_get(t, c, id, strlen(id), PITR_NOW, NULL, &b,
				  &len)) {
			snprintf(buf, size, "%.*s", (int)len, (char *)b);
			free(b);
		}
		pitr_txn_abort(t);
	}
	pitr_store_close(s);
	return buf;
}

/* Databases (depth 0) or containers of `db` (depth 1) live in the store at
 * `path`, as "a,b,". */
static const char *names_of(const char *path, const char *db, char *buf,
			    size_t size)
{
	pitr_store *s;
	pitr_txn *t;
	pitr_iter *it;
	pitr_entry e;
	uint64_t d = 0;
	size_t n = 0;

	buf[0] = 0;
	if (pitr_store_open(path, PITR_OPEN_RDONLY, &s))
		return "!";
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	if ((!db || !pitr_db_lookup(t, PITR_NOW, db, strlen(db), &d)) &&
	    !pitr_iter_begin(t, db ? PITR_LIST_CONTAINERS : PITR_LIST_DATABASES,
			     d, PITR_NOW, NULL, 0, 0, &it)) {
		while (pitr_iter_next(it, &e) == 0 && n + e.namelen + 2 < size)
			n += (size_t)snprintf(buf + n, size - n, "%.*s,",
					      (int)e.namelen, e.name);
		pitr_iter_end(it);
	}
	pitr_txn_abort(t);
	pitr_store_close(s);
	return buf;
}

static int count_entries(const char *sub)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strstr(e->d_name, sub) != NULL;
	if (d)
		closedir(d);
	return n;
}

static int stop_at_once(uint64_t done, void *arg)
{
	(void)done;
	(void)arg;
	return EINTR;
}

static int progress_seen(uint64_t done, void *arg)
{
	*(uint64_t *)arg = done;
	return 0;
}

/* A child that builds staging for `target` as a restore does (daemon lock
 * held), then waits for a byte on `fd` (or exits at once, fd < 0). */
static pid_t stage_child(const char *target, int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		char tmp[512];
		pitr_config cfg = { 0 };
		pitr_store *s;
		char c;
		pitr_policy_default(&cfg.policy);
		cfg.name = "x";
		if (pitr_stage_path(target, "restoring", tmp, sizeof(tmp)) ||
		    pitr_store_create(tmp, &cfg) ||
		    pitr_store_open(tmp, PITR_OPEN_DAEMON, &s))
			_exit(1);
		if (fd >= 0) {
			if (write(fd, "r", 1) != 1)
				_exit(1);
			if (read(fd, &c, 1) < 0)
				_exit(1);
		}
		_exit(0); /* killed: the staging stays */
	}
	return pid;
}

int main(void)
{
	pitr_config cfg = { 0 };
	pitr_restore_stats st;
	pitr_store *s = NULL;
	pitr_txn *t;
	char path[300], tgt[300], buf[320];
	uint64_t shop, other, a, b, c, ts, t_full, t_renamed, t_dropped;
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/pitr-unit-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/src", dir);
	pitr_policy_default(&cfg.policy);
	rc = pitr_store_create(path, &cfg);
	if (!rc)
		rc = pitr_store_open(path, 0, &s);
	is_int(rc, 0, "a source account");
	if (rc)
		return tap_done();

	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_db_create(t, "shop", 4, &shop);
	pitr_ct_create(t, shop, "a", 1, &a);
	pitr_ct_create(t, shop, "b", 1, &b);
	pitr_db_create(t, "other", 5, &other);
	pitr_ct_create(t, other, "c", 1, &c);
	pitr_doc_put(t, a, "x", 1, "{\"x\":1}", 7);
	pitr_doc_put(t, a, "y", 1, "{\"y\":1}", 7);
	pitr_doc_put(t, b, "z", 1, "{\"z\":1}", 7);
	pitr_doc_put(t, c, "w", 1, "{\"w\":1}", 7);
	is_int(pitr_txn_commit(t, &t_full), 0, "two databases, three "
					       "containers");
	is_int(put(s, a, "x", "{\"x\":2}", &ts), 0, "x replaced");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	is_int(pitr_db_rename(t, "shop", 4, "shop2", 5), 0, "shop renamed");
	is_int(pitr_txn_commit(t, &t_renamed), 0, "committed");
	pitr_txn_begin(s, PITR_TXN_WRITE, &t);
	pitr_doc_delete(t, c, "w", 1);
	pitr_ct_delete(t, other, "c", 1);
	is_int(pitr_db_delete(t, "other", 5), 0, "other dropped");
	is_int(pitr_txn_commit(t, &t_dropped), 0, "committed");

	/* Everything, at an instant before the rename and the drop. */
	snprintf(tgt, sizeof(tgt), "%s/all", dir);
	uint64_t seen = 0;
	rc = pitr_restore(s, t_full, NULL, 0, tgt, &cfg, progress_seen, &seen,
			  &st);
	is_int(rc, 0, "restore of everything before the rename");
	is_int(st.docs, 4, "four documents restored");
	is_int(seen, st.docs, "the progress saw them all");
	ok(!strcmp(names_of(tgt, NULL, buf, sizeof(buf)), "other,shop,"),
	   "both databases, by their names then (%s)", buf);
	ok(!strcmp(body_of(tgt, "shop", "a", "x", buf, sizeof(buf)),
		   "{\"x\":1}"),
	   "x as it was then (%s)", buf);
	ok(!strcmp(body_of(tgt, "other", "c", "w", buf, sizeof(buf)),
		   "{\"w\":1}"),
	   "the dropped database's document (%s)", buf);
	is_int(count_entries(".restoring-"), 0, "no staging left");

	/* The target exists now. */
	is_int(pitr_restore(s, t_full, NULL, 0, tgt, &cfg, NULL, NULL, &st),
	       PITR_EXISTS, "a target that exists: PITR_EXISTS");
	snprintf(tgt, sizeof(tgt), "%s/nodir/x", dir);
	is_int(pitr_restore(s, t_full, NULL, 0, tgt, &cfg, NULL, NULL, &st),
	       ENOENT, "a target without its parent: ENOENT");
	is_int(count_entries(".restoring-"), 0, "no staging left");

	/* Now: the rename and the drop are seen. */
	snprintf(tgt, sizeof(tgt), "%s/now", dir);
	is_int(pitr_restore(s, pitr_store_now(s), NULL, 0, tgt, &cfg, NULL,
			    NULL, &st),
	       0, "restore of now");
	ok(!strcmp(names_of(tgt, NULL, buf, sizeof(buf)), "shop2,"),
	   "only the renamed database (%s)", buf);
	ok(!strcmp(body_of(tgt, "shop2", "a", "x", buf, sizeof(buf)),
		   "{\"x\":2}"),
	   "x's latest version (%s)", buf);

	/* Selections. */
	pitr_selection one_ct[] = { { "shop", "b" } };
	snprintf(tgt, sizeof(tgt), "%s/ct", dir);
	is_int(pitr_restore(s, t_full, one_ct, 1, tgt, &cfg, NULL, NULL, &st),
	       0, "one container");
	ok(!strcmp(names_of(tgt, "shop", buf, sizeof(buf)), "b,"),
	   "only it (%s)", buf);
	is_int(st.docs, 1, "with its one document");
	pitr_selection db_ct[] = { { "other", NULL }, { "shop2", "a" } };
	snprintf(tgt, sizeof(tgt), "%s/mix", dir);
	is_int(pitr_restore(s, t_renamed, db_ct, 2, tgt, &cfg, NULL, NULL,
			    &st),
	       0, "a database and a container after the rename");
	ok(!strcmp(names_of(tgt, NULL, buf, sizeof(buf)), "other,shop2,"),
	   "both databases (%s)", buf);
	ok(!strcmp(names_of(tgt, "shop2", buf, sizeof(buf)), "a,"),
	   "one container of the renamed one (%s)", buf);
	pitr_selection old_name[] = { { "shop2", "a" }, { "shop", NULL } };
	snprintf(tgt, sizeof(tgt), "%s/bad", dir);
	is_int(pitr_restore(s, t_renamed, old_name, 2, tgt, &cfg, NULL, NULL,
			    &st),
	       PITR_NOTFOUND, "the old name after the rename: PITR_NOTFOUND");
	is_int(st.bad, 1, "naming the second selection");
	pitr_selection gone[] = { { "other", "c" } };
	is_int(pitr_restore(s, t_dropped, gone, 1, tgt, &cfg, NULL, NULL, &st),
	       PITR_NOTFOUND, "a dropped container at the drop: PITR_NOTFOUND");
	is_int(pitr_restore(s, t_dropped - 1, gone, 1, tgt, &cfg, NULL, NULL,
			    &st),
	       0, "just before the drop: restored");
	ok(!strcmp(body_of(tgt, "other", "c", "w", buf, sizeof(buf)),
		   "{\"w\":1}"),
	   "with its document (%s)", buf);

	/* Stopped by its progress callback: nothing left. */
	snprintf(tgt, sizeof(tgt), "%s/stopped", dir);
	is_int(pitr_restore(s, t_full, NULL, 0, tgt, &cfg, stop_at_once, NULL,
			    &st),
	       EINTR, "a restore stopped returns the callback's code");
	ok(access(tgt, F_OK) != 0 && count_entries(".restoring-") == 0,
	   "and leaves no target nor staging");

	/* Names at instants. */
	pitr_namer *nm;
	const char *name;
	size_t len;
	pitr_txn_begin(s, PITR_TXN_READ, &t);
	is_int(pitr_namer_new(t, &nm), 0, "a namer");
	ok(pitr_namer_name(nm, shop, t_full, &name, &len) == 0 &&
	       len == 4 && !memcmp(name, "shop", 4),
	   "shop before its rename");
	ok(pitr_namer_name(nm, shop, t_renamed, &name, &len) == 0 &&
	       len == 5 && !memcmp(name, "shop2", 5),
	   "shop2 from its rename");
	ok(pitr_namer_name(nm, other, t_dropped, &name, &len) == 0 &&
	       len == 5 && !memcmp(name, "other", 5),
	   "a dropped database keeps its name");
	ok(pitr_namer_name(nm, b, t_dropped, &name, &len) == 0 && len == 1 &&
	       name[0] == 'b',
	   "a container by its name");
	is_int(pitr_namer_name(nm, 999, t_full, &name, &len), PITR_NOTFOUND,
	       "an unknown incarnation: PITR_NOTFOUND");
	pitr_namer_free(nm);
	pitr_txn_abort(t);

	/* Staging: a dead builder's is removed by the next restore, a live
	 * one's is kept. */
	int sv[2];
	char byte;
	snprintf(tgt, sizeof(tgt), "%s/killed", dir);
	pid_t dead = stage_child(tgt, -1);
	waitpid(dead, NULL, 0);
	is_int(count_entries("killed.restoring-"), 1,
	       "a dead restore's staging");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	snprintf(tgt, sizeof(tgt), "%s/alive", dir);
	pid_t alive = stage_child(tgt, sv[1]);
	ok(read(sv[0], &byte, 1) == 1, "a live restore's staging");
	snprintf(tgt, sizeof(tgt), "%s/later", dir);
	is_int(pitr_restore(s, t_full, one_ct, 1, tgt, &cfg, NULL, NULL, &st),
	       0, "another restore in the directory");
	is_int(count_entries("killed.restoring-"), 0,
	       "removed the dead one's staging");
	is_int(count_entries("alive.restoring-"), 1, "kept the live one's");
	kill(alive, SIGKILL);
	waitpid(alive, NULL, 0);
	close(sv[0]);
	close(sv[1]);
	/* A create made by a process that died before its rename. */
	snprintf(buf, sizeof(buf), "%s/made.creating-%ld.abcdef", dir,
		 (long)dead);
	mkdir(buf, 0700);
	snprintf(tgt, sizeof(tgt), "%s/created", dir);
	is_int(pitr_store_create(tgt, &cfg), 0, "a create in the directory");
	is_int(count_entries(".restoring-") + count_entries(".creating-"), 0,
	       "removed what the dead restore and create left");

	pitr_store_close(s);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		perror("rm");
	return tap_done();
}
