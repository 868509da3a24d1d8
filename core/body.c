/*
 * body.c - the version body codec: how a document body is stored in its log
 * record, and back. Functions over bytes (no LMDB): what reads the base
 * record of a delta is log.c. Each thread has a scratch buffer (freed when
 * it exits) that LZ4 works in, see PREFIX_MAX.
 *
 * A log record's flags say which form its stored bytes take:
 *   0          the body as it is (stored == size)
 *   LOG_LZ4    a keyframe: the body as one LZ4 block
 *   LOG_DELTA  (format 3) a delta: DELTA_HDR bytes, then the body as one LZ4
 *              block compressed with its base's body as the dictionary:
 *                u64 base_ts, u32 base_idx   the base's log key
 *                u16 nth                     1 for the first delta on that
 *                                            base, 2 for the next ...
 *              The base is always a keyframe (any of the three keyframe
 *              forms) of the same document: a read is at most two records
 *              and two decompressions, however deep the history.
 *   LOG_DICT   (format 3) a keyframe compressed with its container's
 *              dictionary (dict.c): u64 dictionary id (the XXH3-64 of
 *              the dictionary's bytes), then the body as one LZ4 block
 *              compressed with the dictionary.
 * A short log record (format 6) keeps a delta's header in its own, its
 * stored bytes being the LZ4 block alone.
 * Any other flags, a delta without its header or with nth 0, or a block
 * that does not decompress to exactly `size` bytes is PITR_CORRUPT; the
 * caller checks the etag (XXH3-64 of the whole body) after decoding.
 */
#include <lz4.h>
/* LZ4_attach_HC_dictionary: in liblz4.a, not exported by liblz4.so */
#define LZ4_HC_STATIC_LINKING_ONLY
#include <lz4hc.h>
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

/*
 * LZ4 copies a match that reaches into a separate dictionary with a call
 * to memmove, one per match; when the dictionary lies just before the
 * output, it decodes the block as one stream. Our blocks are mostly such
 * matches, so a block is decoded behind a copy of its dictionary, in a
 * buffer of the thread's that keeps a container dictionary from one block
 * to the next (by its id, which is the hash of its bytes), and copied out.
 */
#define PREFIX_MAX BODY_PREFIX_MAX

static pthread_key_t prefix_key;
static pthread_once_t prefix_once = PTHREAD_ONCE_INIT;
static int prefix_keyed;
static __thread char *prefix;		/* 2 x PREFIX_MAX bytes, or NULL:
					 * the decoder's, then the encoder's */
static __thread uintptr_t prefix_dict;	/* what its start is a copy of */
static __thread uint64_t prefix_id;	/* 0: nothing kept */
static __thread size_t prefix_len;

/* When its thread exits: a destructor that runs after this one and
 * decodes gets a new buffer, not this one freed. */
static void prefix_free(void *p)
{
	free(p);
	prefix = NULL;
	prefix_id = 0;
}

static void prefix_key_make(void)
{
	prefix_keyed = pthread_key_create(&prefix_key, prefix_free) == 0;
}

/* The thread's buffer, or NULL (then the slower way is taken). */
static char *prefix_buf(void)
{
	if (!prefix) {
		pthread_once(&prefix_once, prefix_key_make);
		if (prefix_keyed && (prefix = malloc(2 * PREFIX_MAX)) &&
		    pthread_setspecific(prefix_key, prefix)) {
			free(prefix);
			prefix = NULL;
		}
	}
	return prefix;
}

void *body_stream_new(const void *dict, size_t dlen)
{
	LZ4_stream_t *st = malloc(sizeof(*st));

	if (st && dlen <= (size_t)LZ4_MAX_INPUT_SIZE) {
		LZ4_initStream(st, sizeof(*st));
		LZ4_loadDict(st, dict, (int)dlen);
	}
	return st;
}

int body_form(const struct log_rec *r, struct body_base *base)
{
	const unsigned char *p = r->body;

	memset(base, 0, sizeof(*base));
	if (r->form == REC_SHORT) {
		/* its header is the record's (log.c) */
		if (r->flags != LOG_DELTA || !r->stored || !r->size ||
		    !r->base.nth)
			return PITR_CORRUPT;
		*base = r->base;
		return BODY_DELTA;
	}
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
	case LOG_DICT:
		if (r->stored <= DICT_HDR || !r->size)
			return PITR_CORRUPT;
		base->dict = get_le64(p);
		return BODY_DICT;
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

/* The LZ4 block after `hdr` bytes of r's stored body, decoded with `dict`
 * before it; `id` names the dictionary (0: a base, not kept). */
static int block_decode(const struct log_rec *r, size_t hdr, const void *dict,
			size_t dlen, uint64_t id, void *out)
{
	const char *src;
	char *p;
	int n;

	if (r->stored <= hdr || r->size > (uint32_t)LZ4_MAX_INPUT_SIZE ||
	    r->stored > (uint32_t)LZ4_MAX_INPUT_SIZE ||
	    dlen > (size_t)LZ4_MAX_INPUT_SIZE)
		return PITR_CORRUPT;
	src = (const char *)r->body + hdr;
	if (dlen && dlen + r->size <= PREFIX_MAX && (p = prefix_buf())) {
		if (!id || id != prefix_id || (uintptr_t)dict != prefix_dict ||
		    dlen != prefix_len) {
			memcpy(p, dict, dlen);
			prefix_id = id;
			prefix_dict = (uintptr_t)dict;
			prefix_len = dlen;
		}
		n = LZ4_decompress_safe_usingDict(src, p + dlen,
						  (int)(r->stored - hdr),
						  (int)r->size, p, (int)dlen);
		if (n >= 0 && (uint32_t)n == r->size) {
			memcpy(out, p + dlen, r->size);
			return 0;
		}
		return PITR_CORRUPT;
	}
	n = LZ4_decompress_safe_usingDict(src, out, (int)(r->stored - hdr),
					  (int)r->size, dict, (int)dlen);
	return n >= 0 && (uint32_t)n == r->size ? 0 : PITR_CORRUPT;
}

int body_delta_decode(const struct log_rec *r, const void *base,
		      size_t baselen, void *out)
{
	if (r->flags != LOG_DELTA)
		return PITR_CORRUPT;
	return block_decode(r, r->form == REC_SHORT ? 0 : DELTA_HDR, base,
			    baselen, 0, out);
}

int body_dict_decode(const struct log_rec *r, const void *dict, size_t dlen,
		     void *out)
{
	if (r->flags != LOG_DICT)
		return PITR_CORRUPT;
	if (r->stored <= DICT_HDR)
		return PITR_CORRUPT;
	return block_decode(r, DICT_HDR, dict, dlen, get_le64(r->body), out);
}

/* Compress `body` with `dict` before it into buf + hdr: the block's
 * length, or PITR_TOOBIG. */
static int block_encode(const void *dict, size_t dlen, const void *loaded,
			const void *body, size_t len, unsigned char *buf,
			size_t cap, size_t hdr)
{
	LZ4_stream_t st;
	char *p;
	int n;

	if (!len || len > (size_t)LZ4_MAX_INPUT_SIZE ||
	    dlen > (size_t)LZ4_MAX_INPUT_SIZE || cap <= hdr)
		return PITR_TOOBIG;
	/* A stream state is plain data that points at its dictionary: a copy
	 * of one with the dictionary loaded is that state again, for the
	 * price of a copy instead of hashing the dictionary. */
	if (loaded) {
		memcpy(&st, loaded, sizeof(st));
	} else if (dlen + len <= PREFIX_MAX && (p = prefix_buf())) {
		/* a base and the body after it: LZ4 compresses the body as
		 * the continuation of its base, without an external
		 * dictionary (the block is the same format) */
		p += PREFIX_MAX;
		memcpy(p, dict, dlen);
		memcpy(p + dlen, body, len);
		LZ4_loadDict(&st, p, (int)dlen);
		body = p + dlen;
	} else { /* resets the whole state first; LZ4 reaches back 64 KB
		    at most: the dictionary's end is used */
		LZ4_loadDict(&st, dict, (int)dlen);
	}
	n = LZ4_compress_fast_continue(&st, body, (char *)buf + hdr, (int)len,
				       (int)(cap - hdr), 1);
	return n > 0 ? n : PITR_TOOBIG;
}

void *body_hc_new(const void *dict, size_t dlen)
{
	LZ4_streamHC_t *st;

	if (dlen > (size_t)LZ4_MAX_INPUT_SIZE || !(st = LZ4_createStreamHC()))
		return NULL;
	LZ4_resetStreamHC_fast(st, BODY_HC_LEVEL);
	if (dlen)
		LZ4_loadDictHC(st, dict, (int)dlen);
	return st;
}

void body_hc_free(void *st)
{
	LZ4_freeStreamHC(st);
}

int body_dict_encode_hc(uint64_t id, const void *loaded, void *work,
			const void *body, size_t len, void *buf, size_t cap)
{
	int n;

	if (!len || len > (size_t)LZ4_MAX_INPUT_SIZE || cap <= DICT_HDR)
		return PITR_TOOBIG;
	/* The work state searches the loaded one's tables in place, as LZ4's
	 * frame format does with a dictionary: nothing is copied for a body
	 * up to 4 KB, and LZ4 copies the loaded state for a longer one. The
	 * reset keeps the work state's tables (their entries lie out of
	 * reach) unless a failed compression marked it for a full one. */
	LZ4_resetStreamHC_fast(work, BODY_HC_LEVEL);
	LZ4_attach_HC_dictionary(work, loaded);
	n = LZ4_compress_HC_continue(work, body, (char *)buf + DICT_HDR,
				     (int)len, (int)(cap - DICT_HDR));
	if (n <= 0)
		return PITR_TOOBIG;
	put_le64(buf, id);
	return DICT_HDR + n;
}

int body_dict_encode(uint64_t id, const void *dict, size_t dlen,
		     const void *stream, const void *body, size_t len,
		     void *buf, size_t cap)
{
	int n = block_encode(dict, dlen, stream, body, len, buf, cap, DICT_HDR);

	if (n < 0)
		return n;
	put_le64(buf, id);
	return DICT_HDR + n;
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
	unsigned char *p = buf;
	int n;

	if (!b->nth)
		return PITR_TOOBIG;
	n = block_encode(base, baselen, NULL, body, len, buf, cap, DELTA_HDR);
	if (n < 0)
		return n;
	body_delta_header(b, p);
	return DELTA_HDR + n;
}

void body_delta_header(const struct body_base *b, unsigned char *p)
{
	put_le64(p, b->ts);
	put_le32(p + 8, b->idx);
	p[12] = (unsigned char)b->nth;
	p[13] = (unsigned char)(b->nth >> 8);
}

size_t body_delta_cap(size_t len)
{
	return DELTA_HDR + len / DELTA_FRACTION;
}

int body_delta_pays(size_t stored, size_t len)
{
	return stored * DELTA_FRACTION <= len;
}
