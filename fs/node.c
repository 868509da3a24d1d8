/*
 * node.c - the daemon's inode table: a hash of (parent, name) -> node under
 * one mutex. Nodes are freed when no lookup, child or handle refers to them,
 * and all at exit, hashed or not (the kernel need not forget every node
 * before an unmount).
 */
#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

struct node {
	struct node *hnext;  /* hash chain; unhashed nodes are off it */
	struct node *anext, **aprev; /* every node but the root */
	struct node *parent; /* holds a child reference on it */
	uint64_t nlookup;    /* kernel lookups */
	uint32_t children;   /* nodes whose parent this is */
	uint32_t opens;	     /* open handles */
	int hashed;
	int attrs_dropped; /* by the kernel since a reply carried them */
	int filled;	   /* content pushed into the kernel's cache */
	enum node_kind kind;
	uint64_t at, inc, db;
	uint32_t writers;     /* handles holding uncommitted data */
	int64_t pending_size; /* the size their last change gave it */
	/* On the parent's list of children with writers, while hashed. */
	int listed;
	struct node *pnext, **pprev;
	struct node *pending; /* head of this node's list */
	struct body *body;    /* the latest shared body; not a reference */
	size_t namelen;
	char *name; /* own allocation: a rename may lengthen it, and the node
		       itself must stay where the kernel's node id points */
};

static struct node root = { .kind = N_ROOT,
			    .at = PITR_NOW,
			    .nlookup = 1,
			    .hashed = 0,
			    .name = (char[1]){ 0 } };
static pthread_mutex_t table_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct node **buckets, *all;
static size_t nbuckets, nnodes;

void node_table_init(void)
{
	nbuckets = 1024;
	buckets = calloc(nbuckets, sizeof(*buckets));
	if (!buckets)
		abort();
}

void node_table_free(void)
{
	struct node *n, *next;

	for (n = all; n; n = next) {
		next = n->anext;
		free(n->name);
		free(n);
	}
	all = NULL;
	free(buckets);
	buckets = NULL;
}

static size_t hash(const struct node *parent, const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ (uintptr_t)parent;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	h ^= h >> 29;
	return (size_t)h & (nbuckets - 1);
}

static void grow(void)
{
	size_t old = nbuckets;
	struct node **ob = buckets, **nb = calloc(old * 2, sizeof(*nb));

	if (!nb)
		return; /* longer chains, still correct */
	nbuckets = old * 2;
	buckets = nb;
	for (size_t i = 0; i < old; i++) {
		struct node *n = ob[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			size_t b = hash(n->parent, n->name, n->namelen);
			n->hnext = buckets[b];
			buckets[b] = n;
		}
	}
	free(ob);
}

struct node *node_of(uint64_t ino)
{
	return ino == FUSE_ROOT_ID ? &root : (struct node *)(uintptr_t)ino;
}

uint64_t node_id(struct node *n)
{
	return n == &root ? FUSE_ROOT_ID : (uint64_t)(uintptr_t)n;
}

void node_get(struct node *n, struct node_ref *r)
{
	pthread_mutex_lock(&table_mtx);
	r->node = n;
	r->kind = n->kind;
	r->at = n->at;
	r->inc = n->inc;
	r->db = n->db;
	r->namelen = n->namelen;
	memcpy(r->name, n->name, n->namelen);
	r->name[n->namelen] = 0;
	pthread_mutex_unlock(&table_mtx);
}

static struct node **find(struct node *parent, const char *name, size_t len)
{
	struct node **p = &buckets[hash(parent, name, len)];

	for (; *p; p = &(*p)->hnext)
		if ((*p)->parent == parent && (*p)->namelen == len &&
		    !memcmp((*p)->name, name, len))
			return p;
	return p;
}

/* Put `n` on its parent's list of children with writers, or take it off,
 * as its state now asks. */
static void list_pending_locked(struct node *n)
{
	int want = n->hashed && n->writers;

	if (want == n->listed)
		return;
	if (want) {
		n->pnext = n->parent->pending;
		if (n->pnext)
			n->pnext->pprev = &n->pnext;
		n->pprev = &n->parent->pending;
		n->parent->pending = n;
	} else {
		*n->pprev = n->pnext;
		if (n->pnext)
			n->pnext->pprev = n->pprev;
	}
	n->listed = want;
}

static void unhash_locked(struct node *n)
{
	struct node **p;

	if (!n->hashed)
		return;
	p = find(n->parent, n->name, n->namelen);
	if (*p == n)
		*p = n->hnext;
	n->hashed = 0;
	n->hnext = NULL;
	list_pending_locked(n);
}

/* Free `n` and then any parent left unreferenced. */
static void maybe_free_locked(struct node *n)
{
	while (n != &root && !n->nlookup && !n->children && !n->opens) {
		struct node *parent = n->parent;
		unhash_locked(n);
		*n->aprev = n->anext;
		if (n->anext)
			n->anext->aprev = n->aprev;
		free(n->name);
		free(n);
		nnodes--;
		parent->children--;
		n = parent;
	}
}

struct node *node_lookup(struct node *parent, enum node_kind kind, uint64_t at,
			 uint64_t inc, uint64_t db, const char *name,
			 size_t len)
{
	struct node **p, *n;

	pthread_mutex_lock(&table_mtx);
	p = find(parent, name, len);
	n = *p;
	if (n && (n->kind != kind || n->inc != inc || n->at != at)) {
		/* The name now means something else (a new incarnation):
		 * the old node lives on for whoever holds it. */
		unhash_locked(n);
		n = NULL;
		p = find(parent, name, len);
	}
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (n && !(n->name = malloc(len + 1))) {
			free(n);
			n = NULL;
		}
		if (!n) {
			pthread_mutex_unlock(&table_mtx);
			return NULL;
		}
		n->parent = parent;
		parent->children++;
		n->kind = kind;
		n->at = at;
		n->inc = inc;
		n->db = db;
		n->namelen = len;
		memcpy(n->name, name, len);
		n->hashed = 1;
		n->hnext = *p;
		*p = n;
		n->anext = all;
		if (all)
			all->aprev = &n->anext;
		n->aprev = &all;
		all = n;
		if (++nnodes > nbuckets)
			grow();
	}
	n->nlookup++;
	n->attrs_dropped = 0;
	pthread_mutex_unlock(&table_mtx);
	return n;
}

int node_attrs_held(struct node *parent, enum node_kind kind, uint64_t at,
		    uint64_t inc, const char *name, size_t len)
{
	struct node *n;
	int held;

	pthread_mutex_lock(&table_mtx);
	n = *find(parent, name, len);
	held = n && n->nlookup && !n->attrs_dropped && n->kind == kind &&
	       n->inc == inc && n->at == at;
	pthread_mutex_unlock(&table_mtx);
	return held;
}

static void set_attrs_dropped(struct node *n, int dropped)
{
	pthread_mutex_lock(&table_mtx);
	n->attrs_dropped = dropped;
	pthread_mutex_unlock(&table_mtx);
}

void node_attrs_dropped(struct node *n)
{
	set_attrs_dropped(n, 1);
}

void node_attrs_refreshed(struct node *n)
{
	set_attrs_dropped(n, 0);
}

int node_claim_fill(struct node *n)
{
	int claimed;

	pthread_mutex_lock(&table_mtx);
	claimed = !n->filled && n->opens == 1;
	if (claimed)
		n->filled = 1;
	pthread_mutex_unlock(&table_mtx);
	return claimed;
}

void node_forget(struct node *n, uint64_t nlookup)
{
	pthread_mutex_lock(&table_mtx);
	n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
	maybe_free_locked(n);
	pthread_mutex_unlock(&table_mtx);
}

void node_open(struct node *n)
{
	pthread_mutex_lock(&table_mtx);
	n->opens++;
	pthread_mutex_unlock(&table_mtx);
}

void node_close(struct node *n)
{
	pthread_mutex_lock(&table_mtx);
	n->opens--;
	maybe_free_locked(n);
	pthread_mutex_unlock(&table_mtx);
}

void node_unhash(struct node *parent, const char *name, size_t len)
{
	struct node *n;

	pthread_mutex_lock(&table_mtx);
	n = *find(parent, name, len);
	if (n)
		unhash_locked(n);
	pthread_mutex_unlock(&table_mtx);
}

void node_move(struct node *parent, const char *name, size_t len,
	       struct node *newparent, const char *newname, size_t newlen,
	       enum node_kind kind, uint64_t inc, uint64_t db)
{
	struct node *n, *target, **p;

	pthread_mutex_lock(&table_mtx);
	target = *find(newparent, newname, newlen);
	if (target)
		unhash_locked(target);
	n = *find(parent, name, len);
	if (n) {
		unhash_locked(n);
		char *nm = newlen > n->namelen ? malloc(newlen + 1) : n->name;
		if (!nm) {
			pthread_mutex_unlock(&table_mtx);
			return; /* stays unhashed: looked up anew */
		}
		if (nm != n->name) {
			free(n->name);
			n->name = nm;
		}
		struct node *oldparent = n->parent;
		n->parent = newparent;
		newparent->children++;
		oldparent->children--;
		maybe_free_locked(oldparent);
		n->kind = kind;
		n->inc = inc;
		n->db = db;
		n->namelen = newlen;
		memcpy(n->name, newname, newlen);
		p = find(newparent, newname, newlen);
		n->hnext = *p;
		*p = n;
		n->hashed = 1;
		list_pending_locked(n);
	}
	pthread_mutex_unlock(&table_mtx);
}

int64_t node_pending_size(struct node *n)
{
	int64_t size;

	pthread_mutex_lock(&table_mtx);
	size = n->writers ? n->pending_size : -1;
	pthread_mutex_unlock(&table_mtx);
	return size;
}

void node_pending(struct node *n, int delta, int64_t size)
{
	pthread_mutex_lock(&table_mtx);
	n->writers += delta;
	if (size >= 0)
		n->pending_size = size;
	list_pending_locked(n);
	pthread_mutex_unlock(&table_mtx);
}

int64_t node_child_pending(struct node *parent, const char *name, size_t len)
{
	struct node *n;
	int64_t size;

	pthread_mutex_lock(&table_mtx);
	n = *find(parent, name, len);
	size = n && n->writers ? n->pending_size : -1;
	pthread_mutex_unlock(&table_mtx);
	return size;
}

int node_child_has_pending(struct node *parent, const char *name, size_t len)
{
	struct node *n;
	int has;

	pthread_mutex_lock(&table_mtx);
	n = *find(parent, name, len);
	has = n && n->pending;
	pthread_mutex_unlock(&table_mtx);
	return has;
}

int node_pending_children(struct node *parent, struct node_child **out,
			  size_t *count)
{
	size_t n = 0, bytes = 0;
	struct node_child *v;
	struct node *c;
	char *p;

	*out = NULL;
	*count = 0;
	pthread_mutex_lock(&table_mtx);
	for (c = parent->pending; c; c = c->pnext, n++)
		bytes += c->namelen + 1;
	if (n) {
		v = malloc(n * sizeof(*v) + bytes);
		if (!v) {
			pthread_mutex_unlock(&table_mtx);
			return ENOMEM;
		}
		p = (char *)(v + n);
		n = 0;
		for (c = parent->pending; c; c = c->pnext, n++) {
			memcpy(p, c->name, c->namelen);
			p[c->namelen] = 0;
			v[n].name = p;
			v[n].len = c->namelen;
			v[n].size = c->pending_size;
			p += c->namelen + 1;
		}
		*out = v;
		*count = n;
	}
	pthread_mutex_unlock(&table_mtx);
	return 0;
}

void node_path(struct node *n, char *buf, size_t size)
{
	const struct node *chain[8];
	size_t depth = 0, off = 0;

	pthread_mutex_lock(&table_mtx);
	for (; n && n != &root && depth < 8; n = n->parent)
		chain[depth++] = n;
	buf[0] = 0;
	while (depth-- > 0 && off < size) {
		int w =
		    snprintf(buf + off, size - off, "%s%.*s", off ? "/" : "",
			     (int)chain[depth]->namelen, chain[depth]->name);
		off += w > 0 ? (size_t)w : 0;
	}
	pthread_mutex_unlock(&table_mtx);
}

int node_hashed(struct node *n)
{
	int hashed;

	pthread_mutex_lock(&table_mtx);
	hashed = n->hashed;
	pthread_mutex_unlock(&table_mtx);
	return hashed;
}

struct body *node_body_get(struct node *n, uint64_t ts)
{
	struct body *b;

	pthread_mutex_lock(&table_mtx);
	b = n->body;
	if (b && b->ts == ts)
		b->refs++;
	else
		b = NULL;
	pthread_mutex_unlock(&table_mtx);
	return b;
}

struct body *node_body_share(struct node *n, uint64_t ts, void *data,
			     size_t len)
{
	struct body *b = malloc(sizeof(*b));

	pthread_mutex_lock(&table_mtx);
	if (n->body && n->body->ts == ts && n->body->len == len) {
		/* another handle loaded the same version meanwhile */
		n->body->refs++;
		pthread_mutex_unlock(&table_mtx);
		free(b);
		free(data);
		return n->body;
	}
	if (b) {
		b->node = n;
		b->refs = 1;
		b->ts = ts;
		b->len = len;
		b->data = data;
		n->body = b;
	}
	pthread_mutex_unlock(&table_mtx);
	if (!b)
		free(data);
	return b;
}

void body_put(struct body *b)
{
	int last;

	pthread_mutex_lock(&table_mtx);
	last = --b->refs == 0;
	/* a handle holds its node open, so b->node outlives b */
	if (last && b->node->body == b)
		b->node->body = NULL;
	pthread_mutex_unlock(&table_mtx);
	if (last) {
		free(b->data);
		free(b);
	}
}
