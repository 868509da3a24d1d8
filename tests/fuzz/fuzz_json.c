/*
 * fuzz_json.c - document acceptance: any bytes give 0, PITR_BADJSON or
 * PITR_TOOBIG, never a crash; an error always says where; and whatever the
 * quick scan proves valid, jansson accepts as an object too.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160] = "";
	/* exactly `size` bytes: nothing past them may be read */
	unsigned char *copy = malloc(size ? size : 1);
	int rc;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rc = json_check(copy, size, 4096, err, sizeof(err));
	if (rc != 0 && rc != PITR_BADJSON && rc != PITR_TOOBIG)
		abort();
	if (rc == PITR_BADJSON && strncmp(err, "line ", 5))
		abort();
	if (rc == 0 && (size == 0 || size > 4096))
		abort();
	if (json_proven(copy, size)) {
		json_error_t e;
		json_t *j = json_loadb((const char *)copy, size,
				       JSON_DECODE_INT_AS_REAL, &e);
		if (!j || !json_is_object(j))
			abort(); /* the scan proved what jansson refuses */
		json_decref(j);
	}
	free(copy);
	return 0;
}
