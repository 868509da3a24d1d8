/*
 * media_verify.c - checking backup media, and rebuilding an account from
 * them alone (replay). Both walk the segments in order from the first one
 * kept (after its base, when older ones left the media: media_base.c),
 * checking each object whole and its link to the one before, and
 * prove an instant complete only through an unbroken chain (and the
 * latest manifest, the media's commit point).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "media.h"

#define REPLAY_BATCH 10000

/* Segments `from` to `to` are missing: one report, however many. */
static void report_missing(pitr_problem_fn fn, void *arg, uint64_t from,
			   uint64_t to)
{
	char where[80];

	if (from == to)
		snprintf(where, sizeof(where), "seg-%010" PRIu64 "-*", from);
	else
		snprintf(where, sizeof(where),
			 "seg-%010" PRIu64 "-*..seg-%010" PRIu64 "-*", from,
			 to);
	fn(where, "missing", arg);
}

/* Pick `sample` of `n` (the last one always), by a random start and a
 * stride: marks in `pick`. */
static void choose(unsigned char *pick, size_t n, unsigned sample)
{
	uint64_t r = 0;

	if (!n)
		return;
	if (!sample || sample >= n) {
		memset(pick, 1, n);
		return;
	}
	memset(pick, 0, n);
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint64_t)pitr_clock();
	pick[n - 1] = 1;
	for (unsigned i = 1; i < sample; i++)
		pick[(r + (uint64_t)i * n / sample) % n] = 1;
}

struct part_count {
	char prefix[24];
	uint64_t n;
};

static int count_part(const char *name, void *arg)
{
	struct part_count *c = arg;

	c->n += !strncmp(name, c->prefix, strlen(c->prefix));
	return 0;
}

/* The base the manifest names: its parts in order, each whole (in a
 * sample, only the last one read, the others listed), chained, and the
 * last one the manifest's. 0, or PITR_CORRUPT once reported. */
static int check_base(struct media *m, const struct manifest *mf,
		      unsigned sample, pitr_problem_fn fn, void *arg)
{
	char name[SEG_NAME_MAX];
	struct seg_hdr h, prev = { 0 };
	unsigned char *raw;
	const char *why;
	int rc;

	if (sample) {
		struct part_count c = { .n = 0 };
		snprintf(c.prefix, sizeof(c.prefix), "base-%010" PRIu64 "-",
			 mf->first);
		if ((rc = m->ops->list(m, c.prefix, NULL, count_part, &c)))
			return rc;
		if (c.n < mf->base) {
			base_name(name, mf->first, 1);
			fn(name, "parts of the base are missing", arg);
			return PITR_CORRUPT;
		}
	}
	for (uint64_t p = sample ? mf->base : 1; p <= mf->base; p++) {
		base_name(name, mf->first, p);
		why = NULL;
		rc = media_base_read(m, mf->first, p, &h, &raw, &why);
		if (!rc && seg_walk(raw, &h, NULL, NULL)) {
			why = "a record fails its checksum";
			rc = PITR_CORRUPT;
		}
		free(raw);
		if (rc && rc != PITR_CORRUPT && rc != ENOENT)
			return rc; /* the media cannot be read: no verdict */
		if (!rc && p > 1 && !sample && h.prev_sum != prev.header_sum)
			why = "does not follow the part before it";
		if (!rc && p == mf->base && h.header_sum != mf->base_sum)
			why = "is not the base the manifest commits";
		if (why) {
			fn(name, why, arg);
			return PITR_CORRUPT;
		}
		prev = h;
	}
	return 0;
}

int pitr_backup_verify_sample(const char *location, unsigned sample,
			      pitr_problem_fn fn, void *arg,
			      uint64_t *segments, uint64_t *complete)
{
	char why[200], aname[PITR_NAME_MAX + 1];
	struct seg_hdr h, prev = { 0 };
	struct manifest mf = { 0 };
	struct seg_ref *refs = NULL;
	struct media *m;
	pitr_config cfg;
	unsigned char *raw, *pick = NULL;
	const char *what;
	uint64_t expect, upto = 0;
	int rc, bad = 0, prefix = 1;
	size_t n = 0;

	if (segments)
		*segments = 0;
	if (complete)
		*complete = 0;
	if ((rc = media_open(location, &m))) {
		media_close(m);
		return rc;
	}
	/* the manifest first: it names only segments written before it,
	 * so a shipper at work meanwhile adds segments, never takes them */
	rc = media_manifest_latest(m, &mf, NULL);
	if (rc == PITR_CORRUPT) {
		snprintf(why, sizeof(why), "manifest-%010" PRIu64, mf.number);
		fn(why, "damaged", arg);
		bad = 1;
		memset(&mf, 0, sizeof(mf));
	} else if (rc && rc != ENOENT) {
		goto out;
	}
	if ((rc = media_segments(m, 0, &refs, &n)))
		goto out;
	rc = media_account_read(m, &cfg, aname, sizeof(aname));
	if (rc == ENOENT && !n && !mf.number) {
		rc = PITR_NOTMEDIA;
		goto out;
	}
	if (rc == ENOENT || rc == PITR_CORRUPT) {
		fn("ACCOUNT", rc == ENOENT ? "missing" : "damaged", arg);
		bad = 1;
	} else if (rc) {
		goto out;
	}
	rc = 0;
	if (n && !(pick = malloc(n))) {
		rc = ENOMEM;
		goto out;
	}
	choose(pick, n, sample);
	expect = mf.first ? mf.first : 1;
	if (mf.base) {
		rc = check_base(m, &mf, sample, fn, arg);
		if (rc && rc != PITR_CORRUPT)
			goto out;
		if (rc) {
			bad = 1;
			prefix = 0;
		} else {
			upto = mf.from;
		}
		rc = 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct seg_ref *r = &refs[i];
		if (r->seq < expect) {
			if (i && r->seq == refs[i - 1].seq) {
				fn(r->name, "a second segment with this "
				   "number: a second writer", arg);
				bad = 1;
				prefix = 0;
			}
			continue; /* retired, or left to retire */
		}
		if (expect < r->seq) {
			report_missing(fn, arg, expect, r->seq - 1);
			bad = 1;
			prefix = 0;
			prev.header_sum = 0;
		}
		expect = r->seq + 1;
		if (!pick[i]) {
			/* not in this sample: its name alone */
			prev.header_sum = 0;
			if (prefix && r->have_range)
				upto = r->last_ts;
			continue;
		}
		what = NULL;
		rc = media_seg_read(m, r, &h, &raw, &what);
		if (!rc && seg_walk(raw, &h, NULL, NULL)) {
			what = "a record fails its checksum";
			rc = PITR_CORRUPT;
		}
		free(raw);
		if (rc && rc != PITR_CORRUPT && rc != ENOENT)
			goto out; /* the media cannot be read: no verdict */
		rc = 0;
		if (what) {
			fn(r->name, what, arg);
			bad = 1;
			prefix = 0;
			prev.header_sum = 0;
			continue;
		}
		if (prev.header_sum && h.prev_sum != prev.header_sum) {
			fn(r->name, "does not follow the segment before it",
			   arg);
			bad = 1;
			prefix = 0;
		}
		if (r->seq == mf.seq && h.header_sum != mf.sum) {
			fn(r->name, "is not the segment the manifest commits",
			   arg);
			bad = 1;
			prefix = 0;
		}
		if (prefix)
			upto = h.last_ts;
		prev = h;
	}
	/* the last segments lost: the manifest counted them */
	if (expect <= mf.seq) {
		report_missing(fn, arg, expect, mf.seq);
		bad = 1;
	}
	/* every segment whole: the media is complete up to the manifest */
	if (!bad && mf.complete > upto)
		upto = mf.complete;
	if (segments)
		*segments = n;
	if (complete)
		*complete = upto;
	rc = bad ? PITR_CORRUPT : 0;
out:
	free(pick);
	free(refs);
	media_close(m);
	return rc;
}

int pitr_backup_verify(const char *location, pitr_problem_fn fn, void *arg,
		       uint64_t *segments, uint64_t *complete)
{
	return pitr_backup_verify_sample(location, 0, fn, arg, segments,
					 complete);
}

/*
 * Replay
 */

struct replay {
	struct replayer rp; /* the step repair uses too */
	uint64_t until;
};

static int replay_record(uint64_t ts, uint32_t idx, const MDB_val *rec,
			 const struct log_rec *r, void *arg)
{
	struct replay *rp = arg;

	if (ts > rp->until)
		return 0;
	return replayer_apply(&rp->rp, ts, idx, rec, r);
}

int backup_account_read(const char *dir, pitr_config *cfg, char *name,
			size_t size)
{
	struct media *m;
	int rc = media_open(dir, &m);

	if (rc)
		return rc;
	rc = media_account_read(m, cfg, name, size);
	media_close(m);
	return rc;
}

/* Replay the base the manifest names: every part whole and chained, the
 * last one the manifest's; PITR_CORRUPT otherwise. */
static int replay_base(struct media *m, const struct manifest *mf,
		       struct replay *rp)
{
	struct seg_hdr h, prev = { 0 };
	unsigned char *raw;
	const char *why;
	int rc;

	for (uint64_t p = 1; p <= mf->base; p++) {
		rc = media_base_read(m, mf->first, p, &h, &raw, &why);
		if (rc)
			return rc == ENOENT ? PITR_CORRUPT : rc;
		if (h.prev_sum != prev.header_sum ||
		    (p == mf->base && h.header_sum != mf->base_sum))
			rc = PITR_CORRUPT;
		if (!rc)
			rc = seg_walk(raw, &h, replay_record, rp);
		free(raw);
		if (rc)
			return rc;
		prev = h;
	}
	return 0;
}

/* Replay segments in order up to `until`, each checked whole and chained
 * to the one before; `*upto` receives the instant the chain read proves
 * complete. PITR_OUTOFRANGE when it does not reach `until`. */
static int replay_segments(struct media *m, const struct manifest *mf,
			   struct replay *rp, uint64_t *upto)
{
	struct seg_ref *refs;
	struct seg_hdr h, prev = { 0 };
	unsigned char *raw;
	const char *why;
	uint64_t expect = mf->first ? mf->first : 1;
	size_t n;
	int rc;

	*upto = 0;
	if (mf->base) {
		rc = replay_base(m, mf, rp);
		if (rc)
			return rc == PITR_CORRUPT ? PITR_OUTOFRANGE : rc;
		*upto = mf->from;
	}
	if ((rc = media_segments(m, expect - 1, &refs, &n)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (refs[i].seq != expect)
			break; /* a gap, or a second segment numbered alike */
		if (i + 1 < n && refs[i + 1].seq == refs[i].seq)
			break;
		rc = media_seg_read(m, &refs[i], &h, &raw, &why);
		if (rc == PITR_CORRUPT || rc == ENOENT) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		if (prev.header_sum && h.prev_sum != prev.header_sum) {
			free(raw);
			break;
		}
		if (h.first_ts <= rp->until)
			rc = seg_walk(raw, &h, replay_record, rp);
		else
			rc = seg_walk(raw, &h, NULL, NULL);
		free(raw);
		if (rc == PITR_CORRUPT) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		*upto = h.last_ts;
		if (h.seq == mf->seq && h.header_sum == mf->sum &&
		    mf->complete > *upto)
			*upto = mf->complete;
		prev = h;
		expect++;
		if (h.last_ts >= rp->until)
			break;
	}
	free(refs);
	if (!rc && rp->until > *upto)
		rc = PITR_OUTOFRANGE;
	return rc;
}

int pitr_backup_replay(const char *location, const char *path,
		       uint64_t until, uint64_t *complete)
{
	struct replay rp = { .until = until };
	char name[PITR_NAME_MAX + 1];
	pitr_config cfg = { 0 };
	struct manifest mf;
	struct media *m;
	uint64_t upto = 0;
	int rc;

	if (complete)
		*complete = 0;
	if ((rc = media_open(location, &m))) {
		media_close(m);
		return rc;
	}
	rc = media_manifest_latest(m, &mf, NULL);
	if (rc == ENOENT || rc == PITR_CORRUPT)
		memset(&mf, 0, sizeof(mf)); /* the chain alone proves */
	else if (rc)
		goto out_media;
	if ((rc = media_account_read(m, &cfg, name, sizeof(name)))) {
		if (rc == ENOENT)
			rc = PITR_NOTMEDIA;
		goto out_media;
	}
	/* the media hold no history before `from` */
	if (until < mf.from) {
		if (complete)
			*complete = mf.complete;
		rc = PITR_OUTOFRANGE;
		goto out_media;
	}
	if ((rc = pitr_store_create(path, &cfg)))
		goto out_media;
	if ((rc = pitr_store_open(path, PITR_OPEN_BULK | PITR_OPEN_DAEMON,
				  &rp.rp.s)))
		goto out_destroy;
	rc = replay_segments(m, &mf, &rp, &upto);
	if (complete)
		*complete = upto;
	if (!rc && rp.rp.t) {
		rc = pitr_txn_commit(rp.rp.t, NULL);
		rp.rp.t = NULL;
	}
	if (!rc)
		rc = pitr_store_sync(rp.rp.s);
	pitr_txn_abort(rp.rp.t);
	pitr_store_close(rp.rp.s);
	if (!rc)
		goto out_media;
out_destroy:
	pitr_store_destroy(path);
out_media:
	media_close(m);
	return rc;
}

int pitr_backup_start(const char *location, uint64_t *from)
{
	struct manifest mf;
	struct media *m;
	int rc = media_open(location, &m);

	*from = 0;
	if (!rc) {
		rc = media_manifest_latest(m, &mf, NULL);
		if (!rc)
			*from = mf.from;
		else if (rc == ENOENT)
			rc = 0;
	}
	media_close(m);
	return rc;
}
