/*
 * copy.c - a container's documents at an instant, copied into a new
 * container of another store: pitr_ct_copy(), what a restore is made of.
 *
 * Two threads share the work. A reader walks the source snapshot (the
 * documents at the instant, each one's log record, its checksum, a delta
 * decoded and stored again as a keyframe) and hands each record over
 * through a bounded ring; the caller's thread, which owns the target's
 * write transaction, appends them and commits in batches. A container of
 * fewer documents than the ring holds is walked by the caller's thread
 * alone, which spares small containers a thread; so is any container when
 * no thread can be made, the caller walking on whenever the ring is
 * empty. The records handed over point into the source's map, which
 * stays valid while the source transaction lives, but for their names
 * (copied: the iterator's last only until its next step) and a keyframe
 * made of a delta, a buffer of its own that the writer frees. The reader
 * alone uses the source transaction (a read transaction of a store opened
 * MDB_NOTLS, so any thread may), and the writer alone the target's. The
 * reader stops at its first error; what it handed over before is
 * appended, then the error is returned; the writer's first error stops
 * the reader.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int copy_alone; /* internal.h */

/* Documents per target transaction (LMDB bounds a transaction's size). */
#define COPY_BATCH 10000
/* Records in flight; how many the reader hands over at once; and how
 * many a side waits for before it is woken (each wake-up is a system
 * call and a switch of threads, dearer than a record). */
#define RING	1024
#define HANDFUL 64
#define WAKE	256

struct item {
	struct log_rec r;
	void *buf;		  /* a keyframe made of a delta, or NULL */
	size_t bytes;		  /* of the source record */
	int dict;		  /* stored on the source's dictionary */
	char name[PITR_NAME_MAX]; /* r.name: a short delta names none */
};

struct copy {
	pitr_txn *src;
	pitr_iter *iter;
	uint64_t ct, when;
	const struct dict_ref *d; /* the source's, if the copy may take it */
	pthread_mutex_t mtx;
	pthread_cond_t more, room;
	size_t head, tail; /* items taken by the writer, given by the reader */
	int done, stop, rc;
	int reader_waits, writer_waits;
	char err[sizeof(((pitr_txn *)0)->err)];
	struct item ring[RING];
};

/* Append one version, copied as stored, to the newest container. */
static int copy_append(pitr_txn *t, uint64_t ct, const struct log_rec *r)
{
	unsigned char k[KEY_MAX], v[LIVE_DOC_VAL_MAX];
	MDB_val key, val;
	uint32_t idx;
	int rc;

	rc = log_append_stored(t, OP_DOC_PUT, ct, r->name, r->namelen, r, &idx);
	if (rc)
		return rc;
	key.mv_size = key_named(k, ct, r->name, r->namelen, t->ts);
	key.mv_data = k;
	val.mv_data = v;
	struct ver_rec vr = { idx, OP_DOC_PUT, r->size, r->etag };
	val.mv_size = ver_encode(v, &vr, ver_form(t->s));
	rc = tbl_put(t->txn, t->s->versions, &key, &val, MDB_APPEND);
	if (rc)
		return mdb_rc(rc);
	key.mv_size = key_live(k, ct, LIVE_DOC, r->name, r->namelen);
	val.mv_size = live_doc_encode(
	    v, &(struct live_doc){ t->ts, idx, r->size, r->etag },
	    store_compact(t->s));
	return mdb_rc(mdb_put(t->txn, t->s->live, &key, &val, MDB_APPEND));
}

/* The record of the document `e` lists, checked, into `it`. */
static int copy_read(struct copy *c, const pitr_entry *e, struct item *it)
{
	pitr_txn *src = c->src;
	unsigned char k[12];
	MDB_val key = { sizeof(k), k }, val;
	struct log_rec *r = &it->r;
	struct body_base b;
	int rc;

	it->buf = NULL;
	key_log(k, e->ver.ts, iter_log_idx(c->iter));
	rc = mdb_rc(mdb_get(src->txn, src->s->log, &key, &val));
	if (rc == PITR_NOTFOUND)
		rc = PITR_CORRUPT;
	/* The record's checksum proves the stored bytes whole: a keyframe
	 * is copied as it is, never decompressed. */
	if (!rc && (rc = log_decode(&key, &val, r)))
		snprintf(c->err, sizeof(c->err),
			 "record of '%.*s' fails its checksum", (int)e->namelen,
			 e->name);
	if (rc)
		return rc;
	it->bytes = val.mv_size;
	log_claim(r, c->ct, e->name, e->namelen, e->ver.etag);
	if (r->op != OP_DOC_PUT || r->parent != c->ct ||
	    r->etag != e->ver.etag || r->namelen != e->namelen ||
	    e->namelen > sizeof(it->name) ||
	    memcmp(r->name, e->name, e->namelen))
		return PITR_CORRUPT;
	/* The name the iterator gives lasts until its next step. */
	r->name = memcpy(it->name, e->name, e->namelen);
	it->dict = c->d && body_form(r, &b) > BODY_KEY;
	/* A delta is decoded (its etag checked) and stored as a keyframe,
	 * on the dictionary when there is one: the copy refers to nothing
	 * of the source. */
	if ((rc = log_standalone(src, r, c->d, &it->buf)))
		snprintf(c->err, sizeof(c->err), "%s", src->err);
	return rc;
}

/* Walk the source into the ring: alone until the ring is full (0: the
 * walk goes on), or beside the writer to the end (`threaded`); 1 when
 * the walk ended. */
static int copy_walk(struct copy *c, int threaded)
{
	/* Beside the writer, head is read under the lock only. */
	size_t tail = c->tail, given = tail;
	size_t room = threaded ? 0 : RING - (tail - c->head);
	pitr_entry e;
	int rc = 0;

	for (;;) {
		if (threaded && (tail - given == HANDFUL || !room)) {
			pthread_mutex_lock(&c->mtx);
			c->tail = given = tail;
			if (c->writer_waits && tail - c->head >= WAKE)
				pthread_cond_signal(&c->more);
			if (!room) {
				c->reader_waits = 1;
				while (tail - c->head > RING - WAKE && !c->stop)
					pthread_cond_wait(&c->room, &c->mtx);
				c->reader_waits = 0;
			}
			room = RING - (tail - c->head);
			int stop = c->stop;
			pthread_mutex_unlock(&c->mtx);
			if (stop)
				break;
		} else if (!room) {
			c->tail = tail;
			return 0;
		}
		if ((rc = pitr_iter_next(c->iter, &e)) ||
		    (rc = copy_read(c, &e, &c->ring[tail % RING])))
			break;
		tail++;
		room--;
	}
	pthread_mutex_lock(&c->mtx);
	c->tail = tail;
	c->done = 1;
	c->rc = rc == PITR_NOTFOUND ? 0 : rc;
	pthread_cond_signal(&c->more);
	pthread_mutex_unlock(&c->mtx);
	return 1;
}

static void *copy_reader(void *arg)
{
	copy_walk(arg, 1);
	return NULL;
}

/* Give back what the writer took (`head`), or stop the reader; take what
 * the reader gave, or wait for more, or learn it is done: whether
 * anything is left. */
static int copy_take(struct copy *c, size_t head, int stop, size_t *tail)
{
	pthread_mutex_lock(&c->mtx);
	c->head = head;
	c->stop |= stop;
	if (c->reader_waits && (c->stop || RING - (c->tail - head) >= WAKE))
		pthread_cond_signal(&c->room);
	while (c->tail - head < WAKE && !c->done) {
		c->writer_waits = 1;
		pthread_cond_wait(&c->more, &c->mtx);
		c->writer_waits = 0;
	}
	*tail = c->tail;
	pthread_mutex_unlock(&c->mtx);
	return *tail != head;
}

int pitr_ct_copy(pitr_txn **dst, uint64_t ct, pitr_txn *src, uint64_t srcct,
		 uint64_t at, pitr_progress_fn fn, void *arg, uint64_t *done)
{
	pitr_store *ds = (*dst)->s;
	struct dict_ref dict;
	struct copy *c;
	pthread_t reader;
	uint64_t n = 0;
	size_t head = 0, tail, bytes = 0;
	int rc, adopt = 0, threaded = 0;

	if (done)
		*done = 0;
	if ((rc = ct_alive(*dst, ct)))
		return rc;
	/* The ring's pages are touched only as far as it fills. */
	if (!(c = malloc(sizeof(*c))))
		return ENOMEM;
	memset(c, 0, offsetof(struct copy, ring));
	c->src = src;
	c->ct = srcct;
	c->when = at == PITR_NOW ? pitr_store_now(src->s) : at;
	/* The source container's dictionary if it was written at `when` or
	 * before (so of documents of then or before), checked against its
	 * id, becomes the new container's own once a document is to be
	 * stored on it: keyframes on it are copied as they are, deltas
	 * stored on it. Without one (or with a damaged one, which the
	 * documents on it then report), or where the target keeps none,
	 * keyframes alone. */
	rc = dict_at(src, srcct, c->when, &dict);
	if (rc == PITR_NOTFOUND || rc == PITR_CORRUPT) {
		src->err[0] = 0;
		rc = 0;
	} else if (rc == 0) {
		rc = dict_adoptable(*dst, ct, &dict);
		if (rc == 0) {
			c->d = &dict;
			adopt = 1;
		} else if (rc == PITR_NOTFOUND) {
			rc = 0; /* the target keeps none */
		}
	}
	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->more, NULL);
	pthread_cond_init(&c->room, NULL);
	if (!rc)
		rc = pitr_iter_begin(src, PITR_LIST_DOCUMENTS, srcct, c->when,
				     NULL, 0, 0, &c->iter);
	/* A container that fills the ring gets a reader of its own (without
	 * one, the caller's thread walks on whenever the ring is empty). */
	if (!rc && !copy_walk(c, 0))
		threaded = !copy_alone &&
			   !pthread_create(&reader, NULL, copy_reader, c);
	if (rc)
		c->done = 1;
	while (copy_take(c, head, rc != 0, &tail)) {
		/* At most WAKE at a time, so the reader learns of room soon. */
		size_t end = tail - head > WAKE ? head + WAKE : tail;
		for (; head != end; head++) {
			struct item *it = &c->ring[head % RING];
			if (!rc && it->dict && adopt) {
				adopt = 0;
				/* adoptable when the copy began */
				if ((rc = dict_adopt(*dst, ct, &dict)) ==
				    PITR_NOTFOUND)
					rc = PITR_CORRUPT;
			}
			if (!rc)
				rc = copy_append(*dst, ct, &it->r);
			free(it->buf);
			bytes += it->bytes;
			if (!rc &&
			    (++n % COPY_BATCH == 0 || bytes >= BULK_BYTES)) {
				bytes = 0;
				rc = pitr_txn_commit(*dst, NULL);
				*dst = NULL;
				if (!rc)
					rc = pitr_txn_begin(ds, PITR_TXN_WRITE,
							    dst);
				if (!rc && fn)
					rc = fn(n, arg);
			}
		}
		if (!threaded && !c->done) {
			c->head = head;
			if (rc)
				c->done = 1;
			else
				copy_walk(c, 0);
		}
	}
	if (threaded)
		pthread_join(reader, NULL);
	if (!rc && c->rc) {
		rc = c->rc;
		if (*c->err)
			snprintf((*dst)->err, sizeof((*dst)->err), "%s",
				 c->err);
	}
	if (!rc && fn)
		rc = fn(n, arg);
	pitr_iter_end(c->iter);
	pthread_cond_destroy(&c->room);
	pthread_cond_destroy(&c->more);
	pthread_mutex_destroy(&c->mtx);
	free(c);
	dict_put(&dict);
	if (done)
		*done = n;
	return rc;
}
