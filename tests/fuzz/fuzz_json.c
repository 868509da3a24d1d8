/*
 * fuzz_json.c - document acceptance: any bytes give 0, PITR_BADJSON or
 * PITR_TOOBIG, never a crash; an error always says where.
 */
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
	free(copy);
	return 0;
}
