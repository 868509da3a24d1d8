/*
 * segment.c - the backup segment codec: header, LZ4 frame, name, record
 * walk (format in segment.h). Nothing read is trusted: every length is
 * checked against what holds it, and damage is PITR_CORRUPT.
 */
#include <errno.h>
#include <inttypes.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "segment.h"

static void hdr_encode(unsigned char *p, struct seg_hdr *h)
{
	memcpy(p, "PITRSEG1", 8);
	put_le64(p + 8, h->seq);
	put_le64(p + 16, h->first_ts);
	put_le32(p + 24, h->first_idx);
	put_le64(p + 28, h->last_ts);
	put_le32(p + 36, h->last_idx);
	put_le32(p + 40, h->count);
	put_le32(p + 44, h->raw_len);
	put_le32(p + 48, h->packed_len);
	put_le64(p + 52, h->prev_sum);
	put_le64(p + 60, h->payload_sum);
	h->header_sum = XXH3_64bits(p, 68);
	put_le64(p + 68, h->header_sum);
}

int seg_hdr_decode(const unsigned char *p, size_t len, struct seg_hdr *h)
{
	if (len < SEG_HDR || memcmp(p, "PITRSEG1", 8) ||
	    XXH3_64bits(p, 68) != get_le64(p + 68))
		return PITR_CORRUPT;
	h->seq = get_le64(p + 8);
	h->first_ts = get_le64(p + 16);
	h->first_idx = get_le32(p + 24);
	h->last_ts = get_le64(p + 28);
	h->last_idx = get_le32(p + 36);
	h->count = get_le32(p + 40);
	h->raw_len = get_le32(p + 44);
	h->packed_len = get_le32(p + 48);
	h->prev_sum = get_le64(p + 52);
	h->payload_sum = get_le64(p + 60);
	h->header_sum = get_le64(p + 68);
	return 0;
}

void seg_name(char name[SEG_NAME_MAX], const struct seg_hdr *h)
{
	snprintf(name, SEG_NAME_MAX,
		 "seg-%010" PRIu64 "-%019" PRIu64 "-%019" PRIu64 ".pseg",
		 h->seq, h->first_ts, h->last_ts);
}

/* Exactly `n` decimal digits at *p into *v. */
static int digits(const char **p, int n, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		unsigned d = (unsigned)((*p)[i] - '0');
		if (d > 9 || *v > (UINT64_MAX - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	*p += n;
	return 0;
}

int seg_name_parse(const char *name, struct seg_ref *ref)
{
	const char *p = name;
	size_t len = strlen(name);

	memset(ref, 0, sizeof(*ref));
	if (len >= SEG_NAME_MAX || strncmp(p, "seg-", 4))
		return -1;
	p += 4;
	if (len == 4 + 10 + 5) { /* the older "seg-SEQ.pseg" */
		if (digits(&p, 10, &ref->seq) || strcmp(p, ".pseg"))
			return -1;
	} else if (len == 4 + 10 + 1 + 19 + 1 + 19 + 5) {
		if (digits(&p, 10, &ref->seq) || *p++ != '-' ||
		    digits(&p, 19, &ref->first_ts) || *p++ != '-' ||
		    digits(&p, 19, &ref->last_ts) || strcmp(p, ".pseg") ||
		    ref->first_ts > ref->last_ts)
			return -1;
		ref->have_range = 1;
	} else {
		return -1;
	}
	if (!ref->seq)
		return -1;
	memcpy(ref->name, name, len + 1);
	return 0;
}

void base_name(char name[SEG_NAME_MAX], uint64_t first, uint64_t part)
{
	snprintf(name, SEG_NAME_MAX, "base-%010" PRIu64 "-%06" PRIu64 ".pbase",
		 first, part);
}

int base_name_parse(const char *name, uint64_t *first, uint64_t *part)
{
	const char *p = name + 5;

	if (strlen(name) != 5 + 10 + 1 + 6 + 6 || strncmp(name, "base-", 5) ||
	    digits(&p, 10, first) || *p++ != '-' || digits(&p, 6, part) ||
	    strcmp(p, ".pbase") || !*first || !*part)
		return -1;
	return 0;
}

int seg_payload_add(struct seg_payload *pl, uint64_t ts, uint32_t idx,
		    const MDB_val *rec)
{
	if (pl->len + 16 + rec->mv_size > pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 1 << 16;
		while (cap < pl->len + 16 + rec->mv_size)
			cap *= 2;
		unsigned char *p = realloc(pl->p, cap);
		if (!p)
			return ENOMEM;
		pl->p = p;
		pl->cap = cap;
	}
	if (!pl->h.count) {
		pl->h.first_ts = ts;
		pl->h.first_idx = idx;
	}
	put_le64(pl->p + pl->len, ts);
	put_le32(pl->p + pl->len + 8, idx);
	put_le32(pl->p + pl->len + 12, (uint32_t)rec->mv_size);
	memcpy(pl->p + pl->len + 16, rec->mv_data, rec->mv_size);
	pl->len += 16 + rec->mv_size;
	pl->h.last_ts = ts;
	pl->h.last_idx = idx;
	pl->h.count++;
	return 0;
}

int seg_pack(struct seg_hdr *h, const unsigned char *raw, size_t len,
	     unsigned char **obj, size_t *objlen)
{
	LZ4F_preferences_t prefs = { 0 };
	size_t bound, n;
	unsigned char *p;

	if (len > UINT32_MAX)
		return EFBIG;
	prefs.frameInfo.contentSize = len;
	bound = LZ4F_compressFrameBound(len, &prefs);
	p = malloc(SEG_HDR + bound);
	if (!p)
		return ENOMEM;
	n = LZ4F_compressFrame(p + SEG_HDR, bound, raw, len, &prefs);
	if (LZ4F_isError(n) || n > UINT32_MAX) {
		free(p);
		return EIO;
	}
	h->raw_len = (uint32_t)len;
	h->packed_len = (uint32_t)n;
	h->payload_sum = XXH3_64bits(p + SEG_HDR, n);
	hdr_encode(p, h);
	*obj = p;
	*objlen = SEG_HDR + n;
	return 0;
}

int seg_unpack(const unsigned char *obj, size_t len, struct seg_hdr *h,
	       unsigned char **raw, const char **why)
{
	LZ4F_dctx *dctx = NULL;
	size_t out_len, in_len, r;
	int rc = PITR_CORRUPT;

	*raw = NULL;
	if (seg_hdr_decode(obj, len, h)) {
		*why = "header damaged";
		return PITR_CORRUPT;
	}
	if (h->packed_len != len - SEG_HDR ||
	    XXH3_64bits(obj + SEG_HDR, h->packed_len) != h->payload_sum) {
		*why = "payload checksum mismatch";
		return PITR_CORRUPT;
	}
	*raw = malloc(h->raw_len ? h->raw_len : 1);
	if (!*raw || LZ4F_isError(LZ4F_createDecompressionContext(
			 &dctx, LZ4F_VERSION))) {
		*why = "out of memory";
		rc = ENOMEM;
		goto out;
	}
	out_len = h->raw_len;
	in_len = h->packed_len;
	r = LZ4F_decompress(dctx, *raw, &out_len, obj + SEG_HDR, &in_len,
			    NULL);
	if (LZ4F_isError(r) || r != 0 || out_len != h->raw_len) {
		*why = "payload does not decompress";
		goto out;
	}
	rc = 0;
out:
	LZ4F_freeDecompressionContext(dctx);
	if (rc) {
		free(*raw);
		*raw = NULL;
	}
	return rc;
}

int seg_walk(const unsigned char *p, const struct seg_hdr *h,
	     seg_record_fn fn, void *arg)
{
	size_t off = 0;
	uint32_t n = 0, idx = 0;
	uint64_t ts = 0;
	struct log_rec r;

	while (off < h->raw_len) {
		if (h->raw_len - off < 16)
			return PITR_CORRUPT;
		ts = get_le64(p + off);
		idx = get_le32(p + off + 8);
		uint32_t len = get_le32(p + off + 12);
		if (len > h->raw_len - off - 16)
			return PITR_CORRUPT;
		MDB_val rec = { len, (void *)(p + off + 16) };
		/* a record on the media stands alone: no short form */
		if (log_decode(NULL, &rec, &r))
			return PITR_CORRUPT;
		if (n == 0 && (ts != h->first_ts || idx != h->first_idx))
			return PITR_CORRUPT;
		int rc = fn ? fn(ts, idx, &rec, &r, arg) : 0;
		if (rc)
			return rc;
		off += 16 + len;
		n++;
	}
	if (n != h->count || (n && (ts != h->last_ts || idx != h->last_idx)))
		return PITR_CORRUPT;
	return 0;
}
