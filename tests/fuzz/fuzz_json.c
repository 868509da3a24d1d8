/*
 * fuzz_json.c - document acceptance: any bytes give 0, PITR_BADJSON or
 * PITR_TOOBIG, never a crash; an error always says where; and the verdict
 * is RFC 8259's, read by the strict oracle of tests/unit/rfc8259.h, not
 * jansson's: whatever the RFC refuses is refused, whatever it accepts as an
 * object is accepted, but where the RFC leaves the verdict to us (numbers
 * past a double, escaped lone surrogates, nesting past 2048), and the quick
 * scan never proves what the RFC refuses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"
#include "../unit/rfc8259.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160] = "";
	/* exactly `size` bytes: nothing past them may be read */
	unsigned char *copy = malloc(size ? size : 1);
	int rc, rfc;

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
	rfc = rfc8259_verdict(copy, size);
	if (rc == 0 && rfc != RFC_OBJECT && rfc != RFC_IMPL)
		abort(); /* accepted what RFC 8259 refuses */
	if (rc == PITR_BADJSON && rfc == RFC_OBJECT)
		abort(); /* refused a JSON object */
	if (json_proven(copy, size) && rfc != RFC_OBJECT)
		abort(); /* the scan proved what the RFC refuses or limits */
	free(copy);
	return 0;
}
