/*
 * media.h - backup media: where an account's segments and manifests are
 * kept, behind one interface with two implementations: a directory
 * (media_dir.c) and an S3 bucket prefix (media_s3.c). media.c opens one
 * by its location and reads the layout; media_meta.c holds the codecs of
 * the media's small text objects.
 *
 * Layout, the same on both:
 *   ACCOUNT                the account the media belongs to (created once)
 *   seg-...pseg            immutable segments, in commit order (segment.h)
 *   manifest-NNNNNNNNNN    the commit points, numbered, created once each;
 *                          the highest number is the media's state
 * Every object is created once and never changed: put() fails with
 * PITR_EXISTS when the name is taken, so two writers cannot overwrite
 * each other, and a retry finds its own object there.
 */
#ifndef PITR_MEDIA_H
#define PITR_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define MEDIA_DEL_MAX 1000 /* names per del() call */

struct media;

/* Called with each listed name, in byte order; nonzero stops the walk. */
typedef int (*media_name_fn)(const char *name, void *arg);

struct media_ops {
	/* Create `name` with the concatenated parts; PITR_EXISTS if it
	 * exists (then it is unchanged). */
	int (*put)(struct media *m, const char *name,
		   const struct file_part *parts, int nparts);
	/* The whole object into a malloc'd `*buf`: ENOENT if missing,
	 * PITR_CORRUPT if over `max` bytes. */
	int (*get)(struct media *m, const char *name, size_t max,
		   unsigned char **buf, size_t *len);
	/* Names starting with `prefix` and sorting after `after` (may be
	 * NULL), in byte order. */
	int (*list)(struct media *m, const char *prefix, const char *after,
		    media_name_fn fn, void *arg);
	/* Remove up to MEDIA_DEL_MAX names; a missing one is no error. */
	int (*del)(struct media *m, const char *const *names, size_t n);
	/* Hold the media for one shipper of this machine (may be NULL). */
	int (*lock)(struct media *m);
	void (*close)(struct media *m);
};

struct media {
	const struct media_ops *ops;
	char where[4096]; /* the location, as given */
	char error[256];  /* what the last failed request said; "" if none */
};

/* Open the media at `location`: "s3://BUCKET/PREFIX" or a directory.
 * On failure `*m` may still be set (close it): its error says why. */
int media_open(const char *location, struct media **m);
void media_close(struct media *m);

int media_dir_open(const char *dir, struct media **m);
int media_s3_open(const char *url, struct media **m);

/* Record what went wrong for pitr backup status (printf-like). */
void media_seterror(struct media *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The layout (media.c)
 */
#include "segment.h"

/* Every segment, sorted by number (`*refs` malloc'd). With `after`, only
 * those after segment number `after` (by name: listing only the tail). */
int media_segments(struct media *m, uint64_t after, struct seg_ref **refs,
		   size_t *n);

/* Read and check one segment object; see seg_unpack. */
int media_seg_read(struct media *m, const struct seg_ref *ref,
		   struct seg_hdr *h, unsigned char **raw, const char **why);

/*
 * MANIFEST: text, one line each, in this order:
 *   pitr-manifest 1
 *   writer: 16 hex digits      the store that wrote it
 *   written: NS                when (the writer's clock)
 *   seq: N                     the last segment it commits (0: none)
 *   sum: 16 hex digits         that segment's header_sum
 *   complete: NS               every mutation up to it is in segments 1..seq
 *   first: N                   the first segment kept (older ones retired)
 *   from: NS                   history is complete from this instant on
 * and, with "pitr-manifest 2" on the first line, when older segments left
 * the media (media_base.c):
 *   base: K                    base-FIRST-000001 .. K (K >= 1), replayed
 *                              before segment `first`
 *   base-sum: 16 hex digits    the header_sum of part K
 * A manifest without a base is written as version 1, as older builds did.
 */
#define BASE_PARTS_MAX 999999
struct manifest {
	uint64_t number; /* from its name */
	uint64_t writer, written, seq, sum, complete, first, from;
	uint64_t base, base_sum; /* parts of the base, 0: none */
};

#define MANIFEST_MAX 512

size_t manifest_encode(char buf[MANIFEST_MAX], const struct manifest *mf);
int manifest_decode(const unsigned char *text, size_t len,
		    struct manifest *mf);

/* The manifest with the highest number: ENOENT when there is none,
 * PITR_CORRUPT when it cannot be read as one. `*numbers` (may be NULL)
 * receives how many manifests are listed. */
int media_manifest_latest(struct media *m, struct manifest *mf,
			  uint64_t *numbers);

/* Create an object once: finding it there with the same bytes is a retry
 * of one's own upload (0), with other bytes a second writer
 * (PITR_CONFLICT, the media's error says so). */
int media_put_once(struct media *m, const char *name, const void *data,
		   size_t len);

/* Create manifest number mf->number (media_put_once). */
int media_manifest_put(struct media *m, const struct manifest *mf);

/* Read and check part `part` of the base before segment `first`. */
int media_base_read(struct media *m, uint64_t first, uint64_t part,
		    struct seg_hdr *h, unsigned char **raw, const char **why);

/* Retention (media_base.c): when segments from mf->first on end at or
 * before `horizon` with a committed one after them, write the state at
 * the last such end as a base, commit it in manifest mf->number + 1
 * (then `*mf`), and delete what the manifest before it does not need. 0
 * also when there is nothing to do. */
int media_rebase(pitr_store *s, struct media *m, uint64_t horizon,
		 struct manifest *mf);

/* The names of all manifests below number `below` (`*names` malloc'd,
 * MANIFEST_NAME each), to retire. */
#define MANIFEST_NAME 24
int media_manifests_below(struct media *m, uint64_t below, char **names,
			  size_t *n);

/*
 * ACCOUNT (media_meta.c): see the format there. Its version says which
 * forms of log record the segments hold: 1 the fixed form alone (accounts
 * of formats 1 to 3), 2 the compact one too (format 4 on). A version above
 * ACCOUNT_VERSION is PITR_NEWFORMAT.
 */
#define ACCOUNT_MAX	2048
#define ACCOUNT_VERSION 2
size_t account_encode(char buf[ACCOUNT_MAX], int version, const char *name,
		      size_t namelen, const pitr_config *cfg);
int account_decode(const unsigned char *text, size_t len, pitr_config *cfg,
		   char *name, size_t size);

/* The media's ACCOUNT as a configuration to create a replay with. */
int media_account_read(struct media *m, pitr_config *cfg, char *name,
		       size_t size);

/* Decimal number at *p of at most `max` (media_meta.c). */
int dec_u64(const char **p, const char *end, uint64_t max, uint64_t *v);

#endif
