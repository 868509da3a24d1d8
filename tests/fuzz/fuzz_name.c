/*
 * fuzz_name.c - libFuzzer target for pitr_name_check().
 *
 * The verdict is compared with a second, deliberately plain reading of the
 * rules in pitr.h, written without looking at core/time.c: a byte-class
 * table and a few comparisons on the whole string.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Icore \
 *	tests/fuzz/fuzz_name.c core/time.c -o fuzz_name
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pitr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 if the naming rules allow byte `c` anywhere in a name. */
static int byte_allowed(uint8_t c)
{
	static const uint8_t banned[] = {0, '/', '\\', '#', '?'};

	return memchr(banned, c, sizeof(banned)) == NULL;
}

static int reference_valid(const uint8_t *p, size_t n)
{
	size_t i;

	if (n < 1 || n > 255)
		return 0;
	if (p[0] == '@' || p[n - 1] == ' ')
		return 0;
	if ((n == 1 && !memcmp(p, ".", 1)) || (n == 2 && !memcmp(p, "..", 2)))
		return 0;
	for (i = 0; i < n; i++)
		if (!byte_allowed(p[i]))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = pitr_name_check((const char *)data, size);

	if (rc != 0 && rc != PITR_BADNAME)
		abort();
	if ((rc == 0) != reference_valid(data, size))
		abort();
	return 0;
}
