/*
 * media.c - opening backup media by location, and reading their layout
 * (segments in order, the latest manifest) through the media interface,
 * the same for every implementation (see media.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

/* The last reason a media gave in this thread, for the tools. */
static __thread char last_error[256];

int media_open(const char *location, struct media **m)
{
	*m = NULL;
	last_error[0] = 0;
	if (!strncmp(location, "s3://", 5))
		return media_s3_open(location, m);
	return media_dir_open(location, m);
}

void media_close(struct media *m)
{
	if (m)
		m->ops->close(m);
}

void media_seterror(struct media *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
	snprintf(last_error, sizeof(last_error), "%s", m->error);
}

const char *pitr_backup_media_error(void)
{
	return last_error;
}

struct seg_list {
	struct seg_ref *v;
	size_t n, cap;
	int rc;
};

static int add_seg(const char *name, void *arg)
{
	struct seg_list *l = arg;
	struct seg_ref ref;

	if (seg_name_parse(name, &ref))
		return 0; /* not a segment: someone else's object */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct seg_ref *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return l->rc = ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ref;
	return 0;
}

static int by_seq(const void *a, const void *b)
{
	const struct seg_ref *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int media_segments(struct media *m, uint64_t after, struct seg_ref **refs,
		   size_t *n)
{
	struct seg_list l = { 0 };
	char from[32];
	int rc;

	/* names of both forms start "seg-" and ten digits: every segment
	 * after number `after` sorts after "seg-AFTER." */
	snprintf(from, sizeof(from), "seg-%010" PRIu64 ".", after);
	rc = m->ops->list(m, "seg-", after ? from : NULL, add_seg, &l);
	if (!rc)
		rc = l.rc;
	if (rc) {
		free(l.v);
		*refs = NULL;
		*n = 0;
		return rc;
	}
	/* the two name forms sort apart: order by number */
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_seq);
	*refs = l.v;
	*n = l.n;
	return 0;
}

int media_seg_read(struct media *m, const struct seg_ref *ref,
		   struct seg_hdr *h, unsigned char **raw, const char **why)
{
	unsigned char *obj;
	size_t len;
	int rc;

	*raw = NULL;
	rc = m->ops->get(m, ref->name, SEG_OBJ_MAX, &obj, &len);
	if (rc) {
		*why = rc == ENOENT ? "missing" : "cannot be read";
		return rc;
	}
	rc = seg_unpack(obj, len, h, raw, why);
	free(obj);
	if (!rc && (h->seq != ref->seq ||
		    (ref->have_range && (h->first_ts != ref->first_ts ||
					 h->last_ts != ref->last_ts)))) {
		*why = "header does not match its name";
		free(*raw);
		*raw = NULL;
		rc = PITR_CORRUPT;
	}
	return rc;
}

/* "manifest-" and ten digits. */
static int manifest_number(const char *name, uint64_t *n)
{
	const char *p = name + 9;

	if (strncmp(name, "manifest-", 9) || strlen(p) != 10)
		return -1;
	*n = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		*n = *n * 10 + (uint64_t)(*p - '0');
	}
	return 0;
}

struct latest {
	uint64_t number, count;
	char name[MANIFEST_NAME];
};

static int take_latest(const char *name, void *arg)
{
	struct latest *l = arg;
	uint64_t n;

	if (manifest_number(name, &n) == 0) {
		l->count++;
		if (n >= l->number) {
			l->number = n;
			snprintf(l->name, sizeof(l->name), "%s", name);
		}
	}
	return 0;
}

int media_manifest_latest(struct media *m, struct manifest *mf,
			  uint64_t *numbers)
{
	struct latest l = { 0 };
	unsigned char *buf;
	size_t len;
	int rc;

	memset(mf, 0, sizeof(*mf));
	if (numbers)
		*numbers = 0;
	if ((rc = m->ops->list(m, "manifest-", NULL, take_latest, &l)))
		return rc;
	if (numbers)
		*numbers = l.count;
	if (!l.count)
		return ENOENT;
	if ((rc = m->ops->get(m, l.name, MANIFEST_MAX, &buf, &len)))
		return rc;
	mf->number = l.number;
	rc = manifest_decode(buf, len, mf);
	free(buf);
	return rc;
}

int media_put_once(struct media *m, const char *name, const void *data,
		    size_t len)
{
	unsigned char *have;
	size_t hlen;
	int rc = m->ops->put(m, name, &(struct file_part){ data, len }, 1);

	if (rc != PITR_EXISTS)
		return rc;
	if ((rc = m->ops->get(m, name, len, &have, &hlen)) &&
	    rc != PITR_CORRUPT)
		return rc;
	int same = !rc && hlen == len && !memcmp(have, data, len);
	if (!rc)
		free(have);
	if (same)
		return 0;
	media_seterror(m, "%s exists with other content: a second writer "
		       "ships to this media; shipping stopped", name);
	return PITR_CONFLICT;
}


int media_manifest_put(struct media *m, const struct manifest *mf)
{
	char name[MANIFEST_NAME], text[MANIFEST_MAX];
	size_t len = manifest_encode(text, mf);

	snprintf(name, sizeof(name), "manifest-%010" PRIu64, mf->number);
	return media_put_once(m, name, text, len);
}

int media_base_read(struct media *m, uint64_t first, uint64_t part,
		    struct seg_hdr *h, unsigned char **raw, const char **why)
{
	struct seg_ref ref = { .seq = part };

	base_name(ref.name, first, part);
	return media_seg_read(m, &ref, h, raw, why);
}

struct below {
	uint64_t below;
	char *names;
	size_t n, cap;
	int rc;
};

static int take_below(const char *name, void *arg)
{
	struct below *b = arg;
	uint64_t n;

	if (manifest_number(name, &n) || n >= b->below)
		return 0;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		char *v = realloc(b->names, cap * MANIFEST_NAME);
		if (!v)
			return b->rc = ENOMEM;
		b->names = v;
		b->cap = cap;
	}
	snprintf(b->names + b->n++ * MANIFEST_NAME, MANIFEST_NAME, "%s", name);
	return 0;
}

int media_manifests_below(struct media *m, uint64_t below, char **names,
			  size_t *n)
{
	struct below b = { .below = below };
	int rc = m->ops->list(m, "manifest-", NULL, take_below, &b);

	if (!rc)
		rc = b.rc;
	if (rc) {
		free(b.names);
		b.names = NULL;
		b.n = 0;
	}
	*names = b.names;
	*n = b.n;
	return rc;
}
