/*
 * fuzz_dictval.c - the dicts table's value codec (dict.c): any value bytes
 * are decoded or refused with PITR_CORRUPT, never read past; what decodes
 * is the fixed layout (u64 id, u64 ts, u32 idx, little-endian) the table
 * is written with, so it encodes back to the same bytes.
 * Input: the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char v[DICT_VAL];
	uint64_t id, ts;
	uint32_t idx;

	unsigned char *vb = malloc(size ? size : 1);
	if (!vb)
		abort();
	memcpy(vb, data, size);
	MDB_val val = { size, vb };
	int rc = dict_val_decode(&val, &id, &ts, &idx);
	if (rc != 0 && rc != PITR_CORRUPT)
		abort();
	if ((rc == 0) != (size == DICT_VAL))
		abort();
	if (rc == 0) {
		put_le64(v, id);
		put_le64(v + 8, ts);
		put_le32(v + 16, idx);
		if (memcmp(v, vb, DICT_VAL))
			abort();
	}
	free(vb);
	return 0;
}
