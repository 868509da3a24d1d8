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
	static const uint8_t banned[] = { 0, '/', '\\', '#', '?' };

	return memchr(banned, c, sizeof(banned)) == NULL;
}

/* UTF-8 by decoding: the code point of each sequence must need exactly
 * that many bytes and be a scalar value. */
static int reference_utf8(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len;
		if (p[i] < 0x80) {
			i++;
			continue;
		} else if ((p[i] & 0xE0) == 0xC0) {
			len = 2;
			cp = p[i] & 0x1F;
		} else if ((p[i] & 0xF0) == 0xE0) {
			len = 3;
			cp = p[i] & 0x0F;
		} else if ((p[i] & 0xF8) == 0xF0) {
			len = 4;
			cp = p[i] & 0x07;
		} else {
			return 0;
		}
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
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
	return reference_utf8(p, n);
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
