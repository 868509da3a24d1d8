/*
 * fuzz_incs.c - the incs table's codec: any value bytes are decoded or
 * refused, never read past; what decodes encodes back to the same bytes.
 * Input: the value (its first 8 bytes are also tried as a key).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char v[INC_MAX], k[8];
	struct inc_rec r;
	uint64_t inc;

	unsigned char *vb = malloc(size ? size : 1);
	if (!vb)
		abort();
	memcpy(vb, data, size);
	MDB_val val = { size, vb };
	int rc = inc_decode(&val, &r);
	if (rc != 0 && rc != PITR_CORRUPT)
		abort();
	if (rc == 0) {
		size_t n = inc_encode(v, &r);
		if (!n || n != size || memcmp(v, vb, n) ||
		    pitr_name_check(r.name, r.namelen))
			abort();
	}
	MDB_val key = { size < 8 ? size : 8, vb };
	if (inc_key_decode(&key, &inc) == 0) {
		put_be64(k, inc);
		if (key.mv_size != 8 || memcmp(k, vb, 8))
			abort();
	}
	free(vb);
	return 0;
}
