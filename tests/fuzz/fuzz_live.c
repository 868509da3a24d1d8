/*
 * fuzz_live.c - the live table's codec: any key and value bytes are
 * decoded or refused, never read past; a key and a document value that
 * decode encode back to the same bytes. Input: one byte, the key's
 * length; the key; the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char k[KEY_MAX], v[LIVE_DOC_VAL_MAX];
	struct live_key lk;
	struct live_doc d;
	uint64_t ts;
	const void *body;
	size_t len;

	if (!size || data[0] > size - 1)
		return 0;
	unsigned char *kb = malloc(data[0] ? data[0] : 1);
	unsigned char *vb = malloc(size - 1 - data[0] ? size - 1 - data[0] : 1);
	if (!kb || !vb)
		abort();
	memcpy(kb, data + 1, data[0]);
	memcpy(vb, data + 1 + data[0], size - 1 - data[0]);
	MDB_val key = { data[0], kb }, val = { size - 1 - data[0], vb };
	int rc = live_key_decode(&key, &lk);
	if (rc != 0 && rc != PITR_CORRUPT)
		abort();
	if (rc == 0) {
		if (lk.type == LIVE_LEFT ? lk.namelen != 0
					 : pitr_name_check(lk.name, lk.namelen))
			abort();
		if (key_live(k, lk.ct, lk.type, lk.name, lk.namelen) !=
			key.mv_size ||
		    memcmp(k, kb, key.mv_size))
			abort();
	}
	for (int compact = 0; compact < 2; compact++)
		if (live_doc_decode(&val, &d, compact) == 0) {
			size_t n = live_doc_encode(v, &d, compact);
			if (n > LIVE_DOC_VAL_MAX || val.mv_size != n ||
			    memcmp(v, vb, n))
				abort();
		}
	if (live_left_decode(&val, &ts) == 0 && val.mv_size != 8)
		abort();
	if (scratch_decode(&val, &ts, &body, &len) == 0 &&
	    (len + LIVE_SCRATCH_HDR != val.mv_size ||
	     (len && memcmp(body, vb + LIVE_SCRATCH_HDR, len))))
		abort();
	free(kb);
	free(vb);
	return 0;
}
