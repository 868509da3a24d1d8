/*
 * fuzz_segname.c - the names of segments listed on backup media
 * (segment.c), which a listing of a directory or an S3 bucket returns
 * untrusted: any bytes are parsed or refused with -1, never read past; a
 * name parsed is kept whole, and one that carries its range is the name
 * seg_name() gives that segment. The same for the names of a base's
 * parts (base_name_parse, base_name).
 * Input: the name (cut at its first NUL).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"
#include "../../core/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char again[SEG_NAME_MAX];
	struct seg_ref ref;

	char *name = malloc(size + 1);
	if (!name)
		abort();
	memcpy(name, data, size);
	name[size] = 0;
	int rc = seg_name_parse(name, &ref);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == 0) {
		if (!ref.seq || strcmp(ref.name, name))
			abort();
		if (ref.have_range) {
			struct seg_hdr h = { .seq = ref.seq,
					     .first_ts = ref.first_ts,
					     .last_ts = ref.last_ts };
			seg_name(again, &h);
			if (strcmp(again, name) || ref.first_ts > ref.last_ts)
				abort();
		}
	}
	uint64_t first, part;
	rc = base_name_parse(name, &first, &part);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == 0) {
		base_name(again, first, part);
		if (!first || !part || strcmp(again, name))
			abort();
	}
	free(name);
	return 0;
}
