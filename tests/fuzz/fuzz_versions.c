/*
 * fuzz_versions.c - the versions table's codec: any key and value bytes
 * are decoded or refused, never read past; what decodes encodes back to
 * the same bytes. Input: one byte, the key's length; the key; the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char k[KEY_MAX], v[VER_VAL_MAX];
	struct ver_entry e;

	if (!size || data[0] > size - 1)
		return 0;
	/* copies of exactly their size, so a read past them is caught */
	unsigned char *kb = malloc(data[0] ? data[0] : 1);
	unsigned char *vb = malloc(size - 1 - data[0] ? size - 1 - data[0] : 1);
	if (!kb || !vb)
		abort();
	memcpy(kb, data + 1, data[0]);
	memcpy(vb, data + 1 + data[0], size - 1 - data[0]);
	MDB_val key = { data[0], kb }, val = { size - 1 - data[0], vb };
	/* each form: what decodes encodes again to the same bytes */
	for (int form = VER_FIXED; form <= VER_ITEM; form++) {
		int rc = ver_entry_decode(&key, &val, &e, form);
		if (rc != 0 && rc != PITR_CORRUPT)
			abort();
		if (rc)
			continue;
		if (e.idlen == 0 || e.idlen > PITR_NAME_MAX ||
		    pitr_name_check(e.id, e.idlen))
			abort();
		if (key_named(k, e.ct, e.id, e.idlen, e.ts) != key.mv_size ||
		    memcmp(k, kb, key.mv_size))
			abort();
		if ((e.v.op != OP_DOC_PUT && e.v.op != OP_DOC_DEL) ||
		    (e.v.op == OP_DOC_DEL && form != VER_FIXED &&
		     (e.v.size || e.v.etag)))
			abort();
		size_t n = ver_encode(v, &e.v, form);
		if (n > VER_VAL_MAX || val.mv_size != n || memcmp(v, vb, n))
			abort();
	}
	free(kb);
	free(vb);
	return 0;
}
