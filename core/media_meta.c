/*
 * media_meta.c - codecs of the backup media's text objects: ACCOUNT and
 * the numbered manifests (formats in media.h and below). One encode and
 * one decode each; a decoder checks every field and where every number
 * ends, and returns PITR_CORRUPT on anything else.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

/*
 * ACCOUNT: text, one line each, in this order and nothing else:
 *   pitr-backup VERSION   1 or 2 (media.h); a greater number is a newer
 *                         format, anything else damage
 *   account: NAME         bytes below 0x20 and 0x7f as \xHH (a name never
 *                         holds a backslash, so older files read the same)
 *   created: NS
 *   mode: 0|1             continuous, periodic
 *   retention: NS
 *   interval: NS
 *   max-doc-size: BYTES
 * Numbers are decimal digits only.
 */
size_t account_encode(char buf[ACCOUNT_MAX], int version, const char *name,
		      size_t namelen, const pitr_config *cfg)
{
	size_t n = 0;

	n += (size_t)snprintf(buf, ACCOUNT_MAX, "pitr-backup %d\naccount: ",
			      version);
	for (size_t i = 0; i < namelen && i < PITR_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(buf + n, ACCOUNT_MAX - n,
					      "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	n += (size_t)snprintf(
	    buf + n, ACCOUNT_MAX - n,
	    "\ncreated: %" PRIu64 "\nmode: %d\nretention: %" PRIu64
	    "\ninterval: %" PRIu64 "\nmax-doc-size: %" PRIu32 "\n",
	    cfg->created, cfg->policy.mode == PITR_PERIODIC,
	    cfg->policy.retention, cfg->policy.interval, cfg->max_doc_size);
	return n;
}

/* Consume `key` at *p; 0 or PITR_CORRUPT. */
static int expect(const char **p, const char *end, const char *key)
{
	size_t n = strlen(key);

	if ((size_t)(end - *p) < n || memcmp(*p, key, n))
		return PITR_CORRUPT;
	*p += n;
	return 0;
}

int dec_u64(const char **p, const char *end, uint64_t max, uint64_t *v)
{
	const char *q = *p;

	*v = 0;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		unsigned d = (unsigned)(*q - '0');
		if (*v > (max - d) / 10)
			return PITR_CORRUPT;
		*v = *v * 10 + d;
	}
	if (q == *p)
		return PITR_CORRUPT;
	*p = q;
	return 0;
}

/* A decimal number that ends its line. */
static int line_u64(const char **p, const char *end, uint64_t max,
		    uint64_t *v)
{
	return dec_u64(p, end, max, v) || expect(p, end, "\n") ? PITR_CORRUPT
								 : 0;
}

/* The same, written the one way manifest_encode writes it: no leading
 * zero, so that a manifest decoded encodes back to the same bytes. */
static int line_canon(const char **p, const char *end, uint64_t *v)
{
	const char *start = *p;

	if (line_u64(p, end, UINT64_MAX, v) || (*start == '0' && *v))
		return PITR_CORRUPT;
	return *start == '0' && *p - start != 2 ? PITR_CORRUPT : 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
				      : -1;
}

/* Exactly 16 lowercase hex digits that end their line. */
static int line_hex64(const char **p, const char *end, uint64_t *v)
{
	*v = 0;
	if (end - *p < 17)
		return PITR_CORRUPT;
	for (int i = 0; i < 16; i++) {
		int d = hexval((*p)[i]);
		if (d < 0)
			return PITR_CORRUPT;
		*v = *v << 4 | (unsigned)d;
	}
	*p += 16;
	return expect(p, end, "\n");
}

/* The account name, up to its newline, into `name` (NUL-terminated). */
static int line_name(const char **p, const char *end, char *name,
		     size_t size)
{
	const char *q = *p;
	size_t n = 0;

	while (q < end && *q != '\n') {
		int c = (unsigned char)*q++;
		if (c == '\\') {
			int hi, lo;
			if (end - q < 3 || q[0] != 'x' ||
			    (hi = hexval(q[1])) < 0 || (lo = hexval(q[2])) < 0)
				return PITR_CORRUPT;
			c = hi << 4 | lo;
			q += 3;
		} else if (c < 0x20 || c == 0x7f) {
			return PITR_CORRUPT;
		}
		if (n + 1 >= size || n >= PITR_NAME_MAX)
			return PITR_CORRUPT;
		name[n++] = (char)c;
	}
	if (q == end || pitr_name_check(name, n))
		return PITR_CORRUPT;
	name[n] = 0;
	*p = q + 1;
	return 0;
}

int account_decode(const unsigned char *text, size_t len, pitr_config *cfg,
		   char *name, size_t size)
{
	const char *p = (const char *)text, *end = p + len;
	uint64_t version, mode, maxdoc;

	memset(cfg, 0, sizeof(*cfg));
	if (expect(&p, end, "pitr-backup ") ||
	    line_canon(&p, end, &version) || !version)
		return PITR_CORRUPT;
	if (version > ACCOUNT_VERSION)
		return PITR_NEWFORMAT;
	if (expect(&p, end, "account: ") || line_name(&p, end, name, size) ||
	    expect(&p, end, "created: ") ||
	    line_u64(&p, end, UINT64_MAX, &cfg->created) ||
	    expect(&p, end, "mode: ") || line_u64(&p, end, 1, &mode) ||
	    expect(&p, end, "retention: ") ||
	    line_u64(&p, end, UINT64_MAX, &cfg->policy.retention) ||
	    expect(&p, end, "interval: ") ||
	    line_u64(&p, end, UINT64_MAX, &cfg->policy.interval) ||
	    expect(&p, end, "max-doc-size: ") ||
	    line_u64(&p, end, UINT32_MAX, &maxdoc) || p != end)
		return PITR_CORRUPT;
	cfg->name = name;
	cfg->policy.mode = mode ? PITR_PERIODIC : PITR_CONTINUOUS;
	cfg->max_doc_size = (uint32_t)maxdoc;
	return pitr_policy_check(&cfg->policy) || !cfg->created
		   ? PITR_CORRUPT
		   : 0;
}

size_t manifest_encode(char buf[MANIFEST_MAX], const struct manifest *mf)
{
	int n = snprintf(buf, MANIFEST_MAX,
			 "pitr-manifest %d\nwriter: %016" PRIx64
			 "\nwritten: %" PRIu64 "\nseq: %" PRIu64
			 "\nsum: %016" PRIx64 "\ncomplete: %" PRIu64
			 "\nfirst: %" PRIu64 "\nfrom: %" PRIu64 "\n",
			 mf->base ? 2 : 1, mf->writer, mf->written, mf->seq,
			 mf->sum, mf->complete, mf->first, mf->from);
	if (mf->base)
		n += snprintf(buf + n, MANIFEST_MAX - (size_t)n,
			      "base: %" PRIu64 "\nbase-sum: %016" PRIx64 "\n",
			      mf->base, mf->base_sum);
	return (size_t)n;
}

int manifest_decode(const unsigned char *text, size_t len,
		    struct manifest *mf)
{
	const char *p = (const char *)text, *end = p + len;
	uint64_t number = mf->number;
	int v2;

	memset(mf, 0, sizeof(*mf));
	mf->number = number;
	if (expect(&p, end, "pitr-manifest "))
		return PITR_CORRUPT;
	v2 = expect(&p, end, "1") == 0 ? 0 : expect(&p, end, "2") == 0 ? 1 : -1;
	if (v2 < 0 || expect(&p, end, "\nwriter: ") ||
	    line_hex64(&p, end, &mf->writer) ||
	    expect(&p, end, "written: ") ||
	    line_canon(&p, end, &mf->written) ||
	    expect(&p, end, "seq: ") ||
	    line_canon(&p, end, &mf->seq) ||
	    expect(&p, end, "sum: ") || line_hex64(&p, end, &mf->sum) ||
	    expect(&p, end, "complete: ") ||
	    line_canon(&p, end, &mf->complete) ||
	    expect(&p, end, "first: ") ||
	    line_canon(&p, end, &mf->first) ||
	    expect(&p, end, "from: ") ||
	    line_canon(&p, end, &mf->from))
		return PITR_CORRUPT;
	/* version 2: the base segment `first` is replayed on */
	if (v2 && (expect(&p, end, "base: ") ||
		   line_canon(&p, end, &mf->base) || !mf->base ||
		   mf->base > BASE_PARTS_MAX || expect(&p, end, "base-sum: ") ||
		   line_hex64(&p, end, &mf->base_sum)))
		return PITR_CORRUPT;
	if (p != end)
		return PITR_CORRUPT;
	/* a manifest commits segments first..seq, or none; a base stands
	 * before a committed segment */
	if (mf->seq ? !mf->first || mf->first > mf->seq : mf->first > 1)
		return PITR_CORRUPT;
	if (mf->base && (!mf->seq || mf->first < 2))
		return PITR_CORRUPT;
	return 0;
}

int media_account_read(struct media *m, pitr_config *cfg, char *name,
		       size_t size)
{
	unsigned char *buf;
	size_t len;
	int rc = m->ops->get(m, "ACCOUNT", ACCOUNT_MAX, &buf, &len);

	if (rc)
		return rc;
	rc = account_decode(buf, len, cfg, name, size);
	free(buf);
	return rc;
}
