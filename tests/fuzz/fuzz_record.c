/*
 * fuzz_record.c - the log record decoder, which reads bytes from the store
 * and from backup media: any bytes are decoded or refused, never read past,
 * a compact record is encoded again to the same bytes, and a decoded body
 * is either proven by its etag or refused. A short record (a delta that
 * names its document through its base, decoded at its log key) is encoded
 * again to the same bytes, and through the compact form and back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A short record at log key (KEY_TS, KEY_IDX); a valid checksum when the
 * input's last byte is odd. */
#define KEY_TS	(UINT64_MAX / 2)
#define KEY_IDX 7
static void short_record(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size + LOG_SHORT_SUM), k[12];
	MDB_val key = { sizeof(k), k };
	struct log_rec r, c;
	struct body_base b, cb;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	size_t n = size;
	if (data[size - 1] & 1) {
		put_le32(copy + size,
			 log_short_sum(copy, size, KEY_TS, KEY_IDX));
		n = size + LOG_SHORT_SUM;
	}
	key_log(k, KEY_TS, KEY_IDX);
	MDB_val v = { n, copy };
	if (log_decode(&key, &v, &r) == 0) {
		if (r.form != REC_SHORT || body_form(&r, &b) != BODY_DELTA ||
		    r.namelen || log_rec_size(&r, REC_SHORT) != n ||
		    (b.ts == KEY_TS && b.idx >= KEY_IDX))
			abort();
		unsigned char *again = malloc(n);
		if (!again)
			abort();
		log_rec_encode(again, n, &r, REC_SHORT);
		if (memcmp(again, copy, n))
			abort();
		/* the form the media carry, which stands alone, and back */
		size_t cn = log_rec_size(&r, REC_COMPACT);
		unsigned char *cp = malloc(cn);
		if (!cp)
			abort();
		log_rec_encode(cp, cn, &r, REC_COMPACT);
		MDB_val cv = { cn, cp };
		if (log_decode(NULL, &cv, &c) || c.form != REC_COMPACT ||
		    body_form(&c, &cb) != BODY_DELTA ||
		    memcmp(&cb, &b, sizeof(b)) || c.size != r.size ||
		    c.stored != r.stored + DELTA_HDR)
			abort();
		c.ts = KEY_TS;
		c.idx = KEY_IDX;
		log_rec_encode(again, n, &c, REC_SHORT);
		if (memcmp(again, copy, n))
			abort();
		free(cp);
		free(again);
	}
	/* away from its key, a short record is refused */
	if (log_decode(NULL, &v, &r) == 0)
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy;
	struct pitr_txn t = { 0 };
	struct log_rec r;
	void *body;
	size_t len;

	if (size && data[0] == REC_SHORT_BYTE) {
		short_record(data, size);
		return 0;
	}
	if (!(copy = malloc(size + LOG_SUM)))
		return 0;
	/* half the time, give the input a valid record checksum, so the
	 * fuzzer gets past it to the fields and the body */
	memcpy(copy, data, size);
	size_t n = size;
	if (size && data[0] & 1) {
		put_le64(copy + size, XXH3_64bits(copy, size));
		n = size + LOG_SUM;
	}
	MDB_val v = { n, copy };
	if (log_decode(NULL, &v, &r) == 0) {
		if (log_rec_size(&r, r.form) != n)
			abort();
		/* one compact encoding of each record: the encoder makes
		 * these very bytes again (the fixed form maps the ops of
		 * old builds to today's, so it does not round-trip) */
		if (r.form == REC_COMPACT) {
			unsigned char *again = malloc(n);
			if (!again)
				abort();
			log_rec_encode(again, n, &r, REC_COMPACT);
			if (memcmp(again, copy, n))
				abort();
			free(again);
		}
		/* a delta's base is another record: fuzz_body decodes
		 * deltas, on bases of its own */
		struct body_base b;
		if (r.size <= (1u << 20) && body_form(&r, &b) == BODY_KEY &&
		    log_body(&t, &r, &body, &len) == 0) {
			if (len != r.size || XXH3_64bits(body, len) != r.etag)
				abort();
			free(body);
		}
	}
	free(copy);
	return 0;
}
