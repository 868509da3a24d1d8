/*
 * node.h - the daemon's inode table.
 *
 * A node is one name the kernel has looked up: the root, a view root
 * (@instant), a database, a container, a document or a scratch file, live
 * (at == PITR_NOW) or in a view. The kernel's node id is the node's address
 * (the root is FUSE_ROOT_ID). A node lives while the kernel holds lookups on
 * it, children refer to it, or handles are open on it.
 *
 * Handlers never read a node's fields directly: node_get() copies them under
 * the table lock into a struct node_ref, because rename may move a node while
 * another thread serves it.
 */
#ifndef PITRFS_NODE_H
#define PITRFS_NODE_H

#include <stdint.h>

#include "pitr.h"

enum node_kind { N_ROOT, N_VIEW, N_DB, N_CT, N_DOC, N_SCRATCH };

struct node;

/* A consistent copy of what a handler needs of a node. */
struct node_ref {
	struct node *node;
	enum node_kind kind;
	uint64_t at;  /* PITR_NOW for the live tree */
	uint64_t inc; /* database or container incarnation; for documents
			 and scratch files, their container's */
	uint64_t db;  /* containers: their database's incarnation */
	size_t namelen;
	char name[PITR_NAME_MAX + 1]; /* NUL-terminated */
};

void node_table_init(void);
void node_table_free(void);

/* The node for a kernel node id; NULL for an id we never gave out. */
struct node *node_of(uint64_t ino);
uint64_t node_id(struct node *n);

/* Copy `n` into `r`. */
void node_get(struct node *n, struct node_ref *r);

/*
 * Find or make the child `name` of `parent` with these properties, and count
 * one kernel lookup on it (lookup and readdirplus replies, which carry its
 * attributes). For view roots, `name` is a canonical key of the instant, not
 * what the user typed.
 */
struct node *node_lookup(struct node *parent, enum node_kind kind, uint64_t at,
			 uint64_t inc, uint64_t db, const char *name,
			 size_t len);

/*
 * What the kernel holds of a node in a view, where nothing changes, so that
 * a reply need not send it again. Each is a hint: if the kernel holds less,
 * it asks, and gets the answer.
 *
 * node_attrs_held(): the kernel holds a lookup on the child (parent, name)
 * of this kind, instant and incarnation, with all the attributes last sent.
 * Counts nothing. node_attrs_dropped(): the kernel dropped some (it forgets
 * the access time after each READ and readdir reply); node_attrs_refreshed():
 * a reply sent them all again (node_lookup() counts as one).
 *
 * node_claim_fill(): 1 at most once in the node's life, to the caller that
 * may push the content into the kernel's cache now: the only handle open on
 * it. With another open, a reader could hold a page locked while it waits
 * for a READ, and the push would wait for that page.
 */
int node_attrs_held(struct node *parent, enum node_kind kind, uint64_t at,
		    uint64_t inc, const char *name, size_t len);
void node_attrs_dropped(struct node *n);
void node_attrs_refreshed(struct node *n);
int node_claim_fill(struct node *n);

/* Drop `n` kernel lookups (forget). */
void node_forget(struct node *n, uint64_t nlookup);

/* Count an open handle on the node, or release one. */
void node_open(struct node *n);
void node_close(struct node *n);

/*
 * After a rename: the node at (parent, name), if any, now answers to
 * (newparent, newname) with `kind` and container `inc`; one at the target
 * name is unlinked from the table first.
 */
void node_move(struct node *parent, const char *name, size_t len,
	       struct node *newparent, const char *newname, size_t newlen,
	       enum node_kind kind, uint64_t inc, uint64_t db);

/* Take the child (parent, name) out of the table (unlink, rmdir). */
void node_unhash(struct node *parent, const char *name, size_t len);

/* Is the node still reachable by its name (not unlinked or replaced)? */
int node_hashed(struct node *n);

/* The node's path below the mount, "db/ct/x.json", for messages. */
void node_path(struct node *n, char *buf, size_t size);

/*
 * Uncommitted data of open handles. A handle starts (delta 1) or stops
 * (delta -1) holding some; `size`, if >= 0, is the size a handle's last
 * change gave the file. While any handle holds some, the node shows that
 * size: node_pending_size() returns it, or -1.
 */
void node_pending(struct node *n, int delta, int64_t size);
int64_t node_pending_size(struct node *n);

/* The same of the child (parent, name); -1 if the kernel has no such node. */
int64_t node_child_pending(struct node *parent, const char *name, size_t len);

/*
 * The children of `parent` that hold uncommitted data, in no order, with
 * their pending sizes: `*count` of them in one allocation, `*out`, for
 * free(). Returns 0 or ENOMEM. Costs the number of such children, however
 * many nodes there are.
 */
struct node_child {
	const char *name; /* NUL-terminated */
	size_t len;
	int64_t size;
};
int node_pending_children(struct node *parent, struct node_child **out,
			  size_t *count);

/*
 * Committed bodies, shared by the handles that read them: one copy per
 * version in memory however many descriptors are open on it. A node
 * remembers its latest body only while some handle holds it (weakly), so
 * closed files keep nothing.
 *
 * node_body_get(): the node's body of the version committed at `ts`, with
 * a reference for the caller, or NULL. node_body_share(): make `data`
 * (malloc'd, `len` bytes, of the version at `ts`) a shared body; it takes
 * `data` (freed if the node already holds that version, whose body is
 * returned instead), and returns NULL only when out of memory (`data`
 * freed). body_put(): drop a reference; the last one frees the body.
 */
struct body {
	struct node *node;
	uint32_t refs;
	uint64_t ts;
	size_t len;
	char *data;
};
struct body *node_body_get(struct node *n, uint64_t ts);
struct body *node_body_share(struct node *n, uint64_t ts, void *data,
			     size_t len);
void body_put(struct body *b);

/* Has the child (parent, name) children with uncommitted data? */
int node_child_has_pending(struct node *parent, const char *name, size_t len);

#endif
