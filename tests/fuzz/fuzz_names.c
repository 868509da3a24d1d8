/*
 * fuzz_names.c - the names table's codec: any key and value bytes are
 * decoded or refused, never read past; what decodes encodes back to the
 * same bytes. Input: one byte, the key's length; the key; the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char k[KEY_MAX], v[NAME_VAL];
	struct name_entry e;

	if (!size || data[0] > size - 1)
		return 0;
	unsigned char *kb = malloc(data[0] ? data[0] : 1);
	unsigned char *vb = malloc(size - 1 - data[0] ? size - 1 - data[0] : 1);
	if (!kb || !vb)
		abort();
	memcpy(kb, data + 1, data[0]);
	memcpy(vb, data + 1 + data[0], size - 1 - data[0]);
	MDB_val key = { data[0], kb }, val = { size - 1 - data[0], vb };
	int rc = name_entry_decode(&key, &val, &e);
	if (rc != 0 && rc != PITR_CORRUPT)
		abort();
	if (rc == 0) {
		if (e.namelen == 0 || e.namelen > PITR_NAME_MAX ||
		    pitr_name_check(e.name, e.namelen) ||
		    (e.op != NAME_CREATE && e.op != NAME_DELETE))
			abort();
		if (key_event(k, e.parent, e.name, e.namelen, e.ts, e.idx) !=
			key.mv_size ||
		    memcmp(k, kb, key.mv_size))
			abort();
		name_encode(v, e.op, e.inc);
		if (val.mv_size != NAME_VAL || memcmp(v, vb, NAME_VAL))
			abort();
	}
	free(kb);
	free(vb);
	return 0;
}
