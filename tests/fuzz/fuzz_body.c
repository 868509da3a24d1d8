/*
 * fuzz_body.c - the version body codec (core/body.c): any stored bytes,
 * under any flags and sizes, with any base, are decoded within bounds or
 * refused; and any body encoded as a keyframe, as a delta on any base, or
 * as a keyframe on any dictionary (LZ4's fast mode and HC), decodes back to
 * itself. The base serves
 * as the dictionary too, named by its hash as the store names one (a
 * dictionary's id is the XXH3 of its bytes, which body.c relies on).
 *
 * Input: u8 flags, u16 size, u16 base length, the base, the stored bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *base, size_t blen, const uint8_t *body,
		       size_t len)
{
	struct body_base b = { 1, 2, 1, 0 }, got;
	struct log_rec r = { .op = OP_DOC_PUT, .size = (uint32_t)len };
	size_t cap = body_bound(len);
	unsigned char *buf = malloc(cap), *out = malloc(len ? len : 1);
	int n, flags;

	if (!buf || !out)
		goto out;
	n = body_key_encode(body, len, buf, cap, &flags);
	if (n < 0)
		abort();
	r.flags = flags;
	r.body = buf;
	r.stored = (uint32_t)n;
	if ((len && body_form(&r, &got) != BODY_KEY) ||
	    (len && (body_key_decode(&r, out) || memcmp(out, body, len))))
		abort();
	if (!len)
		goto out;
	n = body_delta_encode(&b, base, blen, body, len, buf, cap);
	if (n <= DELTA_HDR)
		abort();
	r.flags = LOG_DELTA;
	r.stored = (uint32_t)n;
	if (body_form(&r, &got) != BODY_DELTA || got.ts != 1 || got.idx != 2 ||
	    got.nth != 1 || body_delta_decode(&r, base, blen, out) ||
	    memcmp(out, body, len))
		abort();
	if (!blen)
		goto out;
	uint64_t id = XXH3_64bits(base, blen);
	n = body_dict_encode(id, base, blen, NULL, body, len, buf, cap);
	if (n <= DICT_HDR)
		abort();
	r.flags = LOG_DICT;
	r.stored = (uint32_t)n;
	if (body_form(&r, &got) != BODY_DICT || got.dict != id ||
	    body_dict_decode(&r, base, blen, out) || memcmp(out, body, len))
		abort();
	/* the same form searched harder (LZ4 HC), from a copied state */
	void *hc = body_hc_new(base, blen), *work = body_hc_new(NULL, 0);
	if (!hc || !work)
		abort();
	n = body_dict_encode_hc(id, hc, work, body, len, buf, cap);
	body_hc_free(hc);
	body_hc_free(work);
	if (n <= DICT_HDR)
		abort();
	r.stored = (uint32_t)n;
	memset(out, 0, len);
	if (body_form(&r, &got) != BODY_DICT || got.dict != id ||
	    body_dict_decode(&r, base, blen, out) || memcmp(out, body, len))
		abort();
out:
	free(buf);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct body_base b;
	struct log_rec r = { .op = OP_DOC_PUT };
	unsigned char *out, *stored;

	if (size < 5)
		return 0;
	size_t want = (size_t)data[1] | (size_t)data[2] << 8;
	size_t blen = (size_t)data[3] | (size_t)data[4] << 8;
	if (blen > size - 5)
		blen = size - 5;
	const uint8_t *base = data + 5;
	size_t slen = size - 5 - blen;
	/* the stored bytes in their own allocation: a read past them is
	 * caught */
	stored = malloc(slen ? slen : 1);
	out = malloc(want ? want : 1);
	if (!stored || !out)
		goto out;
	memcpy(stored, base + blen, slen);
	r.flags = data[0] & 0x87;
	if (slen >= DICT_HDR) /* on the base as its dictionary */
		put_le64(stored, XXH3_64bits(base, blen));
	r.size = (uint32_t)want;
	r.stored = (uint32_t)slen;
	r.body = stored;
	switch (body_form(&r, &b)) {
	case BODY_KEY:
		(void)body_key_decode(&r, out);
		break;
	case BODY_DELTA:
		(void)body_delta_decode(&r, base, blen, out);
		break;
	case BODY_DICT:
		(void)body_dict_decode(&r, base, blen, out);
		break;
	}
	round_trip(base, blen, stored, slen);
out:
	free(stored);
	free(out);
	return 0;
}
