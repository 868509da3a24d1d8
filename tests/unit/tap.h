/*
 * tap.h - a minimal TAP producer for the unit tests.
 *
 * ok(cond, fmt, ...) prints one "ok N - ..." or "not ok N - ..." line;
 * is_int(got, want, name) also prints both values on failure. tap_done()
 * prints the plan and a final "N passed, N failed" line, and returns the
 * exit status for main().
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_run, tap_failed;

__attribute__((format(printf, 2, 3))) static int ok(int cond, const char *fmt,
						    ...)
{
	va_list ap;

	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

#define is_int(got, want, name)                                                \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (!ok(g_ == w_, "%s", name))                                 \
			printf("#   got %lld, want %lld (%s:%d)\n", g_, w_,    \
			       __FILE__, __LINE__);                            \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_run);
	printf("%d passed, %d failed\n", tap_run - tap_failed, tap_failed);
	return tap_failed ? 1 : 0;
}

#endif
