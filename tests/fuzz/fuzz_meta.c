/*
 * fuzz_meta.c - the meta table's value codecs and the log's key: any bytes
 * are decoded or refused, never read past; what decodes encodes back to
 * the same bytes (shipped_ts, decimal text, to the same number).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char b[POLICY_VAL];
	pitr_policy p;
	uint64_t x, ts;
	uint32_t y, idx;

	unsigned char *vb = malloc(size ? size : 1);
	if (!vb)
		abort();
	memcpy(vb, data, size);
	MDB_val v = { size, vb };
	if (u64_decode(&v, &x) == 0) {
		put_le64(b, x);
		if (size != 8 || memcmp(b, vb, 8))
			abort();
	}
	if (u32_decode(&v, &y) == 0) {
		put_le32(b, y);
		if (size != 4 || memcmp(b, vb, 4))
			abort();
	}
	if (policy_decode(&v, &p) == 0) {
		policy_encode(b, &p);
		if (size != POLICY_VAL || memcmp(b, vb, POLICY_VAL) ||
		    pitr_policy_check(&p))
			abort();
	}
	if (prune_next_decode(&v, &ts, &idx) == 0) {
		prune_next_encode(b, ts, idx);
		if (size != 12 || memcmp(b, vb, 12))
			abort();
	}
	if (log_key_decode(&v, &ts, &idx) == 0) {
		key_log(b, ts, idx);
		if (size != 12 || memcmp(b, vb, 12))
			abort();
	}
	if (shipped_ts_decode(&v, &x) == 0) {
		char text[24];
		size_t z = 0;
		while (z + 1 < size && vb[z] == '0')
			z++; /* leading zeros */
		int n = snprintf(text, sizeof(text), "%" PRIu64, x);
		if (n != (int)(size - z) || memcmp(text, vb + z, size - z))
			abort();
	}
	free(vb);
	return 0;
}
