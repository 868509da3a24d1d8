/*
 * body.c - the version body codec: how a document body is stored in its log
 * record, and back. Pure functions over bytes (no LMDB): what reads the
 * base record of a delta is log.c.
 *
 * A log record's flags say which form its stored bytes take:
 *   0          the body as it is (stored == size)
 *   LOG_LZ4    a keyframe: the body as one LZ4 block
 *   LOG_DELTA  (format 3) a delta: DELTA_HDR bytes, then the body as one LZ4
 *              block compressed with its base's body as the dictionary:
 *                u64 base_ts, u32 base_idx   the base's log key
 *                u16 nth                     1 for the first delta on that
 *                                            base, 2 for the next ...
 *              The base is always a keyframe (or a body kept as it is) of
 *              the same document: a read is at most two records and two
 *              decompressions, however deep the history.
 * Any other flags, a delta without its header or with nth 0, or a block
 * that does not decompress to exactly `size` bytes is PITR_CORRUPT; the
 * caller checks the etag (XXH3-64 of the whole body) after decoding.
 */
#include <lz4.h>

#include "internal.h"

int body_form(const struct log_rec *r, struct body_base *base)
{
	const unsigned char *p = r->body;

	memset(base, 0, sizeof(*base));
	switch (r->flags) {
	case 0:
		return r->stored == r->size ? BODY_KEY : PITR_CORRUPT;
	case LOG_LZ4:
		return r->size && r->stored ? BODY_KEY : PITR_CORRUPT;
	case LOG_DELTA:
		if (r->stored <= DELTA_HDR || !r->size)
			return PITR_CORRUPT;
		base->ts = get_le64(p);
		base->idx = get_le32(p + 8);
		base->nth = (uint16_t)(p[12] | p[13] << 8);
		return base->nth ? BODY_DELTA : PITR_CORRUPT;
	default:
		return PITR_CORRUPT;
	}
}

int body_key_decode(const struct log_rec *r, void *out)
{
	int n;

	if (r->flags == 0 && r->stored == r->size) {
		memcpy(out, r->body, r->size);
		return 0;
	}
	if (r->flags != LOG_LZ4 || r->size > (uint32_t)LZ4_MAX_INPUT_SIZE ||
	    r->stored > (uint32_t)LZ4_MAX_INPUT_SIZE)
		return PITR_CORRUPT;
	n = LZ4_decompress_safe(r->body, out, (int)r->stored, (int)r->size);
	return n >= 0 && (uint32_t)n == r->size ? 0 : PITR_CORRUPT;
}

int body_delta_decode(const struct log_rec *r, const void *base,
		      size_t baselen, void *out)
{
	int n;

	if (r->flags != LOG_DELTA || r->stored <= DELTA_HDR ||
	    r->size > (uint32_t)LZ4_MAX_INPUT_SIZE ||
	    r->stored > (uint32_t)LZ4_MAX_INPUT_SIZE ||
	    baselen > (size_t)LZ4_MAX_INPUT_SIZE)
		return PITR_CORRUPT;
	n = LZ4_decompress_safe_usingDict(
	    (const char *)r->body + DELTA_HDR, out, (int)(r->stored - DELTA_HDR),
	    (int)r->size, base, (int)baselen);
	return n >= 0 && (uint32_t)n == r->size ? 0 : PITR_CORRUPT;
}

size_t body_bound(size_t len)
{
	return DELTA_HDR + (size_t)LZ4_compressBound((int)len);
}

int body_key_encode(const void *body, size_t len, void *buf, size_t cap,
		    int *flags)
{
	int n = 0;

	if (len > (size_t)LZ4_MAX_INPUT_SIZE || cap < len)
		return PITR_TOOBIG;
	if (len)
		n = LZ4_compress_default(body, buf, (int)len, (int)cap);
	/* Kept as it is when compression does not pay. */
	if (n <= 0 || (size_t)n >= len) {
		memcpy(buf, body, len);
		*flags = 0;
		return (int)len;
	}
	*flags = LOG_LZ4;
	return n;
}

int body_delta_encode(const struct body_base *b, const void *base,
		      size_t baselen, const void *body, size_t len, void *buf,
		      size_t cap)
{
	LZ4_stream_t st;
	unsigned char *p = buf;
	int n;

	if (!len || len > (size_t)LZ4_MAX_INPUT_SIZE ||
	    baselen > (size_t)LZ4_MAX_INPUT_SIZE || cap <= DELTA_HDR || !b->nth)
		return PITR_TOOBIG;
	LZ4_initStream(&st, sizeof(st));
	/* LZ4 reaches back 64 KB at most: the dictionary is the base's end. */
	LZ4_loadDict(&st, base, (int)baselen);
	n = LZ4_compress_fast_continue(&st, body, (char *)p + DELTA_HDR,
				       (int)len, (int)(cap - DELTA_HDR), 1);
	if (n <= 0)
		return PITR_TOOBIG;
	put_le64(p, b->ts);
	put_le32(p + 8, b->idx);
	p[12] = (unsigned char)b->nth;
	p[13] = (unsigned char)(b->nth >> 8);
	return DELTA_HDR + n;
}

int body_delta_pays(size_t stored, size_t len)
{
	return stored * DELTA_FRACTION <= len;
}
