/*
 * fuzz_record.c - the log record decoder, which reads bytes from the store
 * and from backup media: any bytes are decoded or refused, never read past,
 * a compact record is encoded again to the same bytes, and a decoded body
 * is either proven by its etag or refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size + LOG_SUM);
	struct pitr_txn t = { 0 };
	struct log_rec r;
	void *body;
	size_t len;

	if (!copy)
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
	if (log_decode(&v, &r) == 0) {
		if (log_rec_size(&r, r.compact) != n)
			abort();
		/* one compact encoding of each record: the encoder makes
		 * these very bytes again (the fixed form maps the ops of
		 * old builds to today's, so it does not round-trip) */
		if (r.compact) {
			unsigned char *again = malloc(n);
			if (!again)
				abort();
			log_rec_encode(again, n, &r, 1);
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
