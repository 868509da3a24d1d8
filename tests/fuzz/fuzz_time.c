/*
 * fuzz_time.c - libFuzzer target for pitr_time_parse() and
 * pitr_duration_parse().
 *
 * The input is used as it is, `size` bytes with no NUL after them, so
 * AddressSanitizer catches any read past the length. Whatever parses must
 * format back to text that parses to the same value.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Icore \
 *	tests/fuzz/fuzz_time.c core/time.c -o fuzz_time
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pitr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2021-01-15T10:00:00Z, and the extremes, as `now` for relative times. */
static const uint64_t nows[] = { 1610704800ull * PITR_NS_PER_SEC, 0,
				 UINT64_MAX };

/*
 * One more zero at the end of the fraction, or ".0" where there was none,
 * names the same instant: this catches a fraction scaled wrongly, which a
 * format -> parse round trip (always 9 digits) cannot see.
 */
static void check_padding(const char *s, size_t size, uint64_t now, uint64_t ns)
{
	char tmp[64];
	const char *ins = ".0";
	size_t p = 19, n = 2;
	uint64_t again;

	if (s[0] == '-' || size < 20 || size + n > sizeof(tmp))
		return;
	if (s[19] == '.') {
		for (p = 20; p < size && s[p] >= '0' && s[p] <= '9'; p++)
			;
		if (p - 20 >= 9)
			return;
		ins = "0";
		n = 1;
	}
	memcpy(tmp, s, p);
	memcpy(tmp + p, ins, n);
	memcpy(tmp + p + n, s + p, size - p);
	if (pitr_time_parse(tmp, size + n, now, &again) || again != ns)
		abort();
}

static void check_time(const char *s, size_t size, uint64_t now)
{
	char buf[PITR_TIME_LEN], again_buf[PITR_TIME_LEN];
	uint64_t ns, again, d;
	size_t len;

	if (pitr_time_parse(s, size, now, &ns))
		return;

	/* A relative time is exactly `now` minus the duration after '-';
	 * a zero duration (which durations refuse) means `now`. */
	if (s[0] == '-') {
		if (pitr_duration_parse(s + 1, size - 1, &d))
			d = 0;
		if (d > now || ns != now - d)
			abort();
	}

	check_padding(s, size, now, ns);
	pitr_time_format(ns, buf);
	len = strlen(buf);
	if (len != 30 || len >= PITR_TIME_LEN)
		abort();
	/* The formatted text is absolute: `now` must not matter. */
	if (pitr_time_parse(buf, len, now ^ 1, &again) || again != ns)
		abort();
	if (strcmp(pitr_time_format(again, again_buf), buf))
		abort();
	/* Canonical input ('T', 9 digits, 'Z') formats back byte for byte. */
	if (size == 30 && s[10] == 'T' && s[19] == '.' && s[29] == 'Z' &&
	    memcmp(buf, s, 30))
		abort();
}

static void check_duration(const char *s, size_t size)
{
	char buf[64], cut[64];
	uint64_t d, again;
	size_t len, n;

	if (pitr_duration_parse(s, size, &d))
		return;
	if (!d)
		abort();
	pitr_duration_format(d, buf, sizeof(buf));
	len = strlen(buf);
	if (!len || len >= sizeof(buf) - 1)
		abort();
	/* Parsed durations are whole seconds, so the format is exact. */
	if (d % PITR_NS_PER_SEC)
		abort();
	if (pitr_duration_parse(buf, len, &again) || again != d)
		abort();
	/* A short buffer gets a NUL-terminated prefix, never more. */
	n = size % (len + 2);
	memset(cut, 'x', sizeof(cut));
	pitr_duration_format(d, cut, n);
	if (n && (strlen(cut) != (n - 1 < len ? n - 1 : len) ||
		  memcmp(cut, buf, strlen(cut))))
		abort();
	if (cut[n] != 'x')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t i;

	for (i = 0; i < sizeof(nows) / sizeof(nows[0]); i++)
		check_time(s, size, nows[i]);
	check_duration(s, size);
	return 0;
}
