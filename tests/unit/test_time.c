/*
 * test_time.c - unit tests of core/time.c: instants, durations, names.
 *
 * Every input is handed over in a heap buffer of exactly its length, so a
 * read past `len` is caught by AddressSanitizer when the test is built with
 * it.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pitr.h"
#include "tap.h"

#define NS   PITR_NS_PER_SEC
#define MIN  (60 * NS)
#define HOUR (3600 * NS)
#define DAY  (86400 * NS)

/* 2021-01-15T10:00:00Z: the fixed `now` of the relative-time tests. */
static const uint64_t now_ns = 1610704800ull * NS;

/* A copy of `len` bytes of `s` in a heap block of exactly that size. */
static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	memcpy(p, s, len);
	return p;
}

/*
 * `len` bytes of `s` as printable ASCII, with C escapes, so that a test name
 * stays on its one TAP line. The buffer is reused at the next call.
 */
static const char *esc(const char *s, size_t len)
{
	static char buf[256];
	size_t i, n = 0;
	unsigned char c;

	for (i = 0; i < len && n + 5 < sizeof(buf); i++) {
		c = (unsigned char)s[i];
		if (c == '\\' || c == '"') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			buf[n++] = (char)c;
		} else {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      "\\x%02x", c);
		}
	}
	buf[n] = '\0';
	return buf;
}

static int parse_n(const char *s, size_t len, uint64_t now, uint64_t *ns)
{
	char *p = exact(s, len);
	int rc = pitr_time_parse(p, len, now, ns);

	free(p);
	return rc;
}

static int dur_n(const char *s, size_t len, uint64_t *ns)
{
	char *p = exact(s, len);
	int rc = pitr_duration_parse(p, len, ns);

	free(p);
	return rc;
}

static int name_n(const char *s, size_t len)
{
	char *p = exact(s, len);
	int rc = pitr_name_check(p, len);

	free(p);
	return rc;
}

/* `text` parses, against `now`, to `want`. */
static void time_at(const char *text, uint64_t now, uint64_t want,
		    const char *what)
{
	uint64_t got = 0;
	int rc = parse_n(text, strlen(text), now, &got);

	if (!ok(rc == 0 && got == want, "time %s: \"%s\" = %" PRIu64, what,
		text, want))
		printf("#   rc %d, got %" PRIu64 "\n", rc, got);
}

static void time_is(const char *text, uint64_t want, const char *what)
{
	time_at(text, now_ns, want, what);
}

/* `len` bytes of `text` are refused, and `*ns` is left alone. */
static void time_bad_n(const char *text, size_t len, uint64_t now,
		       const char *what)
{
	uint64_t got = 42;
	int rc = parse_n(text, len, now, &got);

	if (!ok(rc == PITR_BADTIME && got == 42, "time rejects %s: \"%s\"",
		what, esc(text, len)))
		printf("#   rc %d, got %" PRIu64 "\n", rc, got);
}

static void time_bad(const char *text, const char *what)
{
	time_bad_n(text, strlen(text), now_ns, what);
}

static void dur_is(const char *text, uint64_t want)
{
	uint64_t got = 0;
	int rc = dur_n(text, strlen(text), &got);

	if (!ok(rc == 0 && got == want, "duration \"%s\" = %" PRIu64, text,
		want))
		printf("#   rc %d, got %" PRIu64 "\n", rc, got);
}

static void dur_bad_n(const char *text, size_t len, const char *what)
{
	uint64_t got = 42;
	int rc = dur_n(text, len, &got);

	if (!ok(rc == PITR_BADTIME && got == 42, "duration rejects %s: \"%s\"",
		what, esc(text, len)))
		printf("#   rc %d, got %" PRIu64 "\n", rc, got);
}

static void dur_bad(const char *text, const char *what)
{
	dur_bad_n(text, strlen(text), what);
}

static void dur_fmt_is(uint64_t ns, const char *want)
{
	char buf[64];

	pitr_duration_format(ns, buf, sizeof(buf));
	if (!ok(strcmp(buf, want) == 0, "duration_format(%" PRIu64 ") = \"%s\"",
		ns, want))
		printf("#   got \"%s\"\n", buf);
}

static void fmt_is(uint64_t ns, const char *want)
{
	char buf[PITR_TIME_LEN];

	pitr_time_format(ns, buf);
	if (!ok(strcmp(buf, want) == 0, "time_format(%" PRIu64 ") = \"%s\"", ns,
		want))
		printf("#   got \"%s\"\n", buf);
}

static void name_ok_n(const char *name, size_t len, const char *what)
{
	is_int(name_n(name, len), 0, what);
}

static void name_bad_n(const char *name, size_t len, const char *what)
{
	is_int(name_n(name, len), PITR_BADNAME, what);
}

static void test_known_values(void)
{
	time_is("1970-01-01T00:00:00Z", 0, "epoch");
	time_is("1970-01-01T00:00:00.000000001Z", 1, "epoch + 1ns");
	time_is("1970-01-01T00:00:01Z", NS, "epoch + 1s");
	time_is("1970-01-02T00:00:00Z", DAY, "epoch + 1d");
	time_is("2021-01-15T10:00:00Z", 1610704800ull * NS, "2021 example");
	time_is("2038-01-19T03:14:08Z", 2147483648ull * NS,
		"past int32 time_t");
	time_is("1999-12-31T23:59:59Z", 946684799ull * NS, "end of 1999");
	time_is("2000-01-01T00:00:00Z", 946684800ull * NS, "start of 2000");
	time_is("2262-04-11T23:47:16.854775807Z", (uint64_t)INT64_MAX,
		"INT64_MAX ns");
	time_is("2262-04-11T23:47:16.854775808Z", (uint64_t)INT64_MAX + 1,
		"INT64_MAX + 1 ns");
	time_is("2554-07-21T23:34:33.709551615Z", UINT64_MAX, "UINT64_MAX ns");
	time_is("2021-01-15t10:00:00Z", 1610704800ull * NS, "lowercase t");
	time_is("2021-01-15T10:00:00z", 1610704800ull * NS, "lowercase z");
	time_is("2021-01-15t10:00:00z", 1610704800ull * NS,
		"lowercase t and z");
}

static void test_fractions(void)
{
	static const struct {
		const char *text;
		uint64_t frac;
	} cases[] = {
		{ "2021-01-15T10:00:00.1Z", 100000000 },
		{ "2021-01-15T10:00:00.12Z", 120000000 },
		{ "2021-01-15T10:00:00.123Z", 123000000 },
		{ "2021-01-15T10:00:00.1234Z", 123400000 },
		{ "2021-01-15T10:00:00.12345Z", 123450000 },
		{ "2021-01-15T10:00:00.123456Z", 123456000 },
		{ "2021-01-15T10:00:00.1234567Z", 123456700 },
		{ "2021-01-15T10:00:00.12345678Z", 123456780 },
		{ "2021-01-15T10:00:00.123456789Z", 123456789 },
		{ "2021-01-15T10:00:00.000000000Z", 0 },
		{ "2021-01-15T10:00:00.0Z", 0 },
		{ "2021-01-15T10:00:00.999999999Z", 999999999 },
		{ "2021-01-15T10:00:00.000000001Z", 1 },
	};
	char what[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "fraction %zu", i + 1);
		time_is(cases[i].text, now_ns + cases[i].frac, what);
	}
	time_bad("2021-01-15T10:00:00.1234567890Z", "10 fraction digits");
	time_bad("2021-01-15T10:00:00.0000000000Z", "10 zero fraction digits");
	time_bad("2021-01-15T10:00:00.12345678901234567890Z",
		 "20 fraction digits");
	time_bad("2021-01-15T10:00:00.Z", "empty fraction");
	time_bad("2021-01-15T10:00:00.", "dot at the end");
	time_bad("2021-01-15T10:00:00.5", "fraction without zone");
	time_bad("2021-01-15T10:00:00,5Z", "comma as decimal mark");
	time_bad("2021-01-15T10:00:00.5.5Z", "two fractions");
	time_bad("2021-01-15T10:00:00.-5Z", "signed fraction");
}

static void test_offsets(void)
{
	const uint64_t t = 1610704800ull * NS;

	time_is("2021-01-15T12:00:00+02:00", t, "offset +02:00");
	time_is("2021-01-15T04:30:00-05:30", t, "offset -05:30");
	time_is("2021-01-15T15:30:00+05:30", t, "offset +05:30");
	time_is("2021-01-15T10:00:00+00:00", t, "offset +00:00");
	time_is("2021-01-15T10:00:00-00:00", t, "offset -00:00");
	time_is("2021-01-16T09:59:00+23:59", t, "offset +23:59");
	time_is("2021-01-14T10:01:00-23:59", t, "offset -23:59");
	time_is("2021-01-15T10:00:00.25+02:00", t - 2 * HOUR + NS / 4,
		"fraction with offset");
	time_is("2021-01-01T01:00:00+02:00", 1609459200ull * NS - HOUR,
		"offset crosses the year back");
	time_is("2020-12-31T23:00:00-02:00", 1609459200ull * NS + HOUR,
		"offset crosses the year forward");
	time_is("1969-12-31T19:00:00-05:00", 0,
		"local date before 1970, instant at the epoch");
	time_is("1970-01-01T02:00:00+02:00", 0, "epoch at +02:00");
	time_is("2554-07-22T00:34:33.709551615+01:00", UINT64_MAX,
		"UINT64_MAX ns at +01:00");

	time_bad("2021-01-15T10:00:00", "missing zone");
	time_bad("2021-01-15T10:00:00+0200", "offset without colon");
	time_bad("2021-01-15T10:00:00+02", "offset without minutes");
	time_bad("2021-01-15T10:00:00+2:00", "one-digit offset hour");
	time_bad("2021-01-15T10:00:00+02:0", "one-digit offset minute");
	time_bad("2021-01-15T10:00:00+24:00", "offset hour 24");
	time_bad("2021-01-15T10:00:00+02:60", "offset minute 60");
	time_bad("2021-01-15T10:00:00+02:00Z", "offset then Z");
	time_bad("2021-01-15T10:00:00Z+02:00", "Z then offset");
	time_bad("2021-01-15T10:00:00 +02:00", "space before offset");
	time_bad("2021-01-15T10:00:00UTC", "zone name");
	time_bad("2021-01-15T10:00:00GMT", "zone name GMT");
	time_bad("2021-01-15T10:00:00+02:00:00", "offset with seconds");
	time_bad("2021-01-15T10:00:00*02:00", "bad offset sign");
	time_bad("1970-01-01T00:00:00+00:01", "epoch at +00:01 is before 1970");
	time_bad("2554-07-21T23:34:34-00:01", "past UINT64_MAX by offset");
}

static void test_calendar(void)
{
	static const unsigned mdays[2][12] = {
		{ 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 },
		{ 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 },
	};
	char text[64], what[64];
	unsigned m, leap;
	uint64_t got;
	int bad_last = 0, bad_next = 0;

	time_is("2024-02-29T00:00:00Z", 1709164800ull * NS,
		"leap day 2024-02-29");
	time_is("2000-02-29T00:00:00Z", 951782400ull * NS,
		"leap day 2000-02-29 (div by 400)");
	time_is("2024-03-01T00:00:00Z", 1709164800ull * NS + DAY,
		"day after the leap day");
	time_bad("2023-02-29T00:00:00Z", "Feb 29 of 2023");
	time_bad("2100-02-29T00:00:00Z", "Feb 29 of 2100 (div by 100)");
	time_bad("2024-02-30T00:00:00Z", "Feb 30 of 2024");
	time_bad("2021-13-01T00:00:00Z", "month 13");
	time_bad("2021-00-01T00:00:00Z", "month 0");
	time_bad("2021-01-32T00:00:00Z", "day 32");
	time_bad("2021-01-00T00:00:00Z", "day 0");
	time_bad("2021-04-31T00:00:00Z", "April 31");
	time_bad("2021-01-15T24:00:00Z", "hour 24");
	time_bad("2021-01-15T10:60:00Z", "minute 60");
	time_bad("2021-01-15T10:00:60Z", "second 60 (leap second)");
	time_bad("2016-12-31T23:59:60Z", "real leap second");
	time_bad("2021-01-15T10:00:99Z", "second 99");

	/* Last day of every month of a common and a leap year, and the next. */
	for (leap = 0; leap < 2; leap++) {
		for (m = 1; m <= 12; m++) {
			snprintf(text, sizeof(text), "%u-%02u-%02uT00:00:00Z",
				 leap ? 2024u : 2023u, m, mdays[leap][m - 1]);
			if (parse_n(text, strlen(text), 0, &got)) {
				bad_last++;
				printf("# refused %s\n", text);
			}
			snprintf(text, sizeof(text), "%u-%02u-%02uT00:00:00Z",
				 leap ? 2024u : 2023u, m,
				 mdays[leap][m - 1] + 1);
			if (parse_n(text, strlen(text), 0, &got) !=
			    PITR_BADTIME) {
				bad_next++;
				printf("# accepted %s\n", text);
			}
		}
	}
	ok(!bad_last, "last day of each month of 2023 and 2024 is accepted");
	ok(!bad_next, "day after the last of each month of 2023/2024 refused");

	/* Each month starts where the previous one ended. */
	for (m = 1; m <= 12; m++) {
		uint64_t a, b;

		snprintf(text, sizeof(text), "2024-%02u-01T00:00:00Z", m);
		parse_n(text, strlen(text), 0, &a);
		if (m < 12)
			snprintf(text, sizeof(text), "2024-%02u-01T00:00:00Z",
				 m + 1);
		else
			snprintf(text, sizeof(text), "2025-01-01T00:00:00Z");
		parse_n(text, strlen(text), 0, &b);
		snprintf(what, sizeof(what), "2024 month %u has %u days", m,
			 mdays[1][m - 1]);
		is_int((b - a) / DAY, mdays[1][m - 1], what);
	}
}

static void test_range(void)
{
	time_bad("1969-12-31T23:59:59Z", "one second before the epoch");
	time_bad("1969-12-31T23:59:59.999999999Z", "1ns before the epoch");
	time_bad("1900-01-01T00:00:00Z", "1900");
	time_bad("0000-01-01T00:00:00Z", "year 0");
	time_bad("2554-07-21T23:34:33.709551616Z", "UINT64_MAX + 1 ns");
	time_bad("2554-07-21T23:34:34Z", "one second past UINT64_MAX ns");
	time_bad("2554-07-22T00:00:00Z", "next day past UINT64_MAX ns");
	time_bad("3000-01-01T00:00:00Z", "year 3000");
	time_bad("9999-12-31T23:59:59.999999999Z", "year 9999");
}

static void test_syntax(void)
{
	static const char *const valid[] = {
		"2021-01-15T10:00:00Z",
		"2021-01-15T10:00:00.123456789Z",
		"2021-01-15T12:00:00+02:00",
		"2021-01-15T10:00:00.5-05:30",
	};
	size_t i, n, len;
	uint64_t got;
	int bad;

	time_bad("", "empty string");
	time_bad_n("2021-01-15T10:00:00Z", 0, now_ns, "zero length");
	time_bad(" 2021-01-15T10:00:00Z", "leading space");
	time_bad("2021-01-15T10:00:00Z ", "trailing space");
	time_bad("2021-01-15T10:00:00Z\n", "trailing newline");
	time_bad("2021-01-15T10:00:00Zjunk", "trailing garbage");
	time_bad("2021-01-15T10:00:00+02:00x", "garbage after offset");
	time_bad("2021-01-15 10:00:00Z", "space separator");
	time_bad("2021-01-15X10:00:00Z", "X separator");
	time_bad("2021/01/15T10:00:00Z", "slashes in the date");
	time_bad("2021-01-15T10.00.00Z", "dots in the time");
	time_bad("21-01-15T10:00:00Z", "two-digit year");
	time_bad("02021-01-15T10:00:00Z", "five-digit year");
	time_bad("2021-1-15T10:00:00Z", "one-digit month");
	time_bad("2021-01-5T10:00:00Z", "one-digit day");
	time_bad("2021-01-15T1:00:00Z", "one-digit hour");
	time_bad("2021-01-15T10:00Z", "no seconds");
	time_bad("2021-01-15", "date only");
	time_bad("2021-01-15Z", "date and zone only");
	time_bad("+2021-01-15T10:00:00Z", "signed year");
	time_bad("2021-01-15T10:00:0aZ", "letter in seconds");
	time_bad("2021-01-15T10:00:00\xef\xbc\xba", "fullwidth Z");
	time_bad("1610704800", "bare number");
	time_bad("now", "word");
	time_bad_n("2021-01-15T10:00:00Z\0", 21, now_ns, "trailing NUL byte");
	time_bad_n("2021-01-15T10:00\0:00Z", 21, now_ns, "embedded NUL byte");

	/* Every proper prefix of a valid time is refused. */
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		n = strlen(valid[i]);
		bad = 0;
		for (len = 0; len < n; len++) {
			if (parse_n(valid[i], len, now_ns, &got) !=
			    PITR_BADTIME) {
				bad++;
				printf("# accepted prefix of length %zu\n",
				       len);
			}
		}
		ok(!bad, "all %zu proper prefixes of \"%s\" are refused", n,
		   valid[i]);
		ok(parse_n(valid[i], n, now_ns, &got) == 0,
		   "the full \"%s\" is accepted", valid[i]);
	}
}

/* format -> parse gives back the same ns, and the text has its fixed form. */
static int round_trip(uint64_t ns)
{
	char buf[PITR_TIME_LEN + 8];
	uint64_t got = ~ns;
	size_t len;

	memset(buf, 'x', sizeof(buf));
	pitr_time_format(ns, buf);
	len = strlen(buf);
	if (len != 30 || buf[4] != '-' || buf[10] != 'T' || buf[19] != '.' ||
	    buf[29] != 'Z' || buf[PITR_TIME_LEN] != 'x' ||
	    parse_n(buf, len, 0, &got) != 0 || got != ns) {
		printf("# %" PRIu64 " -> \"%s\" -> %" PRIu64 "\n", ns, buf,
		       got);
		return 0;
	}
	return 1;
}

static void test_round_trip(void)
{
	static const uint64_t values[] = {
		0,
		1,
		999999999,
		NS,
		NS + 1,
		DAY - 1,
		DAY,
		1610704800ull * NS,
		1709164800ull * NS, /* 2024-02-29 */
		951782400ull * NS,  /* 2000-02-29 */
		4107542400ull * NS, /* 2100-03-01 */
		(uint64_t)INT64_MAX,
		(uint64_t)INT64_MAX + 1,
		9214646400ull * NS + 123456789, /* 2262-01-01 */
		UINT64_MAX - 1,
		UINT64_MAX,
	};
	uint64_t x = 0x9e3779b97f4a7c15ull, ns;
	size_t i;
	int bad = 0;

	fmt_is(0, "1970-01-01T00:00:00.000000000Z");
	fmt_is(1, "1970-01-01T00:00:00.000000001Z");
	fmt_is(999999999, "1970-01-01T00:00:00.999999999Z");
	fmt_is(1610704800ull * NS, "2021-01-15T10:00:00.000000000Z");
	fmt_is(1709164800ull * NS + 123456789,
	       "2024-02-29T00:00:00.123456789Z");
	fmt_is(951782400ull * NS - 1, "2000-02-28T23:59:59.999999999Z");
	fmt_is((uint64_t)INT64_MAX, "2262-04-11T23:47:16.854775807Z");
	fmt_is(UINT64_MAX, "2554-07-21T23:34:33.709551615Z");

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		ok(round_trip(values[i]), "round trip of %" PRIu64, values[i]);

	/* Pseudo-random instants over the whole range (xorshift64). */
	for (i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bad += !round_trip(x);
	}
	ok(!bad, "round trip of 200000 pseudo-random instants");

	/* Every day boundary (and the ns before it) from 1970 to 2554. */
	bad = 0;
	for (ns = DAY; ns <= UINT64_MAX - DAY; ns += DAY)
		bad += !round_trip(ns) + !round_trip(ns - 1);
	ok(!bad, "round trip of every day boundary up to 2554");
}

static void test_relative(void)
{
	time_is("-90s", now_ns - 90 * NS, "relative -90s");
	time_is("-5m", now_ns - 5 * MIN, "relative -5m");
	time_is("-2h", now_ns - 2 * HOUR, "relative -2h");
	time_is("-7d", now_ns - 7 * DAY, "relative -7d");
	time_is("-1h30m", now_ns - 90 * MIN, "relative compound -1h30m");
	time_is("-1d2h3m4s", now_ns - DAY - 2 * HOUR - 3 * MIN - 4 * NS,
		"relative compound -1d2h3m4s");
	time_at("-10s", 10 * NS, 0, "relative down to exactly the epoch");
	time_at("-1s", UINT64_MAX, UINT64_MAX - NS, "relative from UINT64_MAX");

	time_bad_n("-11s", 4, 10 * NS, "relative below the epoch");
	time_bad_n("-1s", 3, 0, "relative from now = 0");
	time_bad_n("-7d", 3, 7 * DAY - 1, "relative 1ns below the epoch");
	time_bad("-", "lone minus");
	time_is("-0s", now_ns, "relative zero is now");
	time_is("-00m", now_ns, "relative zero in minutes is now");
	time_bad("-0x", "relative zero with unknown unit");
	time_bad("-5", "relative without unit");
	time_bad("-s", "relative without number");
	time_bad("-5x", "relative with unknown unit");
	time_bad("-5S", "relative with uppercase unit");
	time_bad("--5s", "double minus");
	time_bad("+5s", "plus sign");
	time_bad("5s", "no sign");
	time_bad("- 5s", "space after minus");
	time_bad("-5s ", "relative with trailing space");
	time_bad(" -5s", "relative with leading space");
	time_bad("-5ms", "relative with trailing garbage");
	time_bad("-1.5h", "relative with fraction");
	time_bad("-30m1h", "relative units out of order");
	time_bad("-99999999999999999999s", "relative overflow");
}

static void test_duration_parse(void)
{
	dur_is("30d", 30 * DAY);
	dur_is("8h", 8 * HOUR);
	dur_is("90m", 90 * MIN);
	dur_is("45s", 45 * NS);
	dur_is("1s", NS);
	dur_is("1h30m", 90 * MIN);
	dur_is("1d2h3m4s", DAY + 2 * HOUR + 3 * MIN + 4 * NS);
	dur_is("1d4s", DAY + 4 * NS);
	dur_is("0h5m", 5 * MIN);
	dur_is("007s", 7 * NS);
	dur_is("1000d", 1000 * DAY);
	dur_is("18446744073s", 18446744073ull * NS);
	dur_is("213503d", 213503ull * DAY);
	dur_is("213503d23h34m33s", 18446744073ull * NS);
	dur_is("00000000000000000000000000000000000001s", NS);

	dur_bad("", "empty");
	dur_bad_n("30d", 0, "zero length");
	dur_bad("0s", "zero");
	dur_bad("0d0h0m0s", "zero in every unit");
	dur_bad("5", "missing unit");
	dur_bad("1h30", "missing last unit");
	dur_bad("s", "missing number");
	dur_bad("h5m", "unit first");
	dur_bad("5x", "unknown unit");
	dur_bad("5ms", "millisecond unit");
	dur_bad("5w", "week unit");
	dur_bad("5S", "uppercase unit");
	dur_bad("5D", "uppercase day");
	dur_bad(" 5s", "leading space");
	dur_bad("5s ", "trailing space");
	dur_bad("5 s", "inner space");
	dur_bad("1h 30m", "space between groups");
	dur_bad("1.5s", "fraction");
	dur_bad("-5s", "negative");
	dur_bad("+5s", "plus sign");
	dur_bad("30m1h", "units out of order");
	dur_bad("1h1h", "repeated unit");
	dur_bad("1s1d", "seconds before days");
	dur_bad("5s\n", "trailing newline");
	dur_bad_n("5s\0", 3, "trailing NUL byte");
	dur_bad("18446744074s", "overflow in seconds");
	dur_bad("213504d", "overflow in days");
	dur_bad("213503d23h34m34s", "overflow in the sum");
	dur_bad("99999999999999999999s", "overflow of the number");
	dur_bad("99999999999999999999999999999999999999d", "huge number");
}

static void test_duration_format(void)
{
	static const uint64_t whole[] = {
		NS,
		59 * NS,
		MIN,
		HOUR,
		DAY,
		30 * DAY,
		90 * MIN,
		DAY + NS,
		DAY + HOUR + MIN + NS,
		18446744073ull * NS,
		213503ull * DAY,
	};
	char buf[64], small[8];
	uint64_t got;
	size_t i;
	int bad = 0;

	dur_fmt_is(30 * DAY, "30d");
	dur_fmt_is(8 * HOUR, "8h");
	dur_fmt_is(90 * MIN, "1h30m");
	dur_fmt_is(45 * NS, "45s");
	dur_fmt_is(0, "0s");
	dur_fmt_is(25 * HOUR, "1d1h");
	dur_fmt_is(DAY + NS, "1d1s");
	dur_fmt_is(DAY + 2 * HOUR + 3 * MIN + 4 * NS, "1d2h3m4s");
	dur_fmt_is(3 * NS / 2, "1.5s");
	dur_fmt_is(1, "0.000000001s");
	dur_fmt_is(NS / 4, "0.25s");
	dur_fmt_is(HOUR + NS / 2, "1h0.5s");
	dur_fmt_is(UINT64_MAX, "213503d23h34m33.709551615s");

	for (i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		pitr_duration_format(whole[i], buf, sizeof(buf));
		got = 0;
		if (dur_n(buf, strlen(buf), &got) || got != whole[i]) {
			bad++;
			printf("# %" PRIu64 " -> \"%s\" -> %" PRIu64 "\n",
			       whole[i], buf, got);
		}
	}
	ok(!bad, "whole-second durations round-trip through format and parse");

	memset(small, 'x', sizeof(small));
	pitr_duration_format(90 * MIN, small, 4);
	ok(strcmp(small, "1h3") == 0 && small[4] == 'x',
	   "duration_format cuts to the buffer size");
	memset(small, 'x', sizeof(small));
	pitr_duration_format(90 * MIN, small, 1);
	ok(small[0] == '\0' && small[1] == 'x',
	   "duration_format with size 1 gives \"\"");
	memset(small, 'x', sizeof(small));
	ok(pitr_duration_format(90 * MIN, small, 0) == small && small[0] == 'x',
	   "duration_format with size 0 writes nothing");
	memset(small, 'x', sizeof(small));
	pitr_duration_format(90 * MIN, small, 6);
	ok(strcmp(small, "1h30m") == 0, "duration_format in an exact fit");
}

static void test_names(void)
{
	char name[PITR_NAME_MAX + 2];

	name_ok_n("caf\xc3\xa9", 5, "name in UTF-8 (two-byte)");
	name_ok_n("\xe6\x97\xa5\xe6\x9c\xac", 6, "name in UTF-8 (three-byte)");
	name_ok_n("\xf0\x9f\x93\xa6", 4, "name in UTF-8 (four-byte)");
	name_bad_n("caf\xe9", 4, "name in Latin-1, not UTF-8");
	name_bad_n("\xc0\xaf", 2, "overlong UTF-8");
	name_bad_n("\xed\xa0\x80", 3, "UTF-8 surrogate");
	name_bad_n("\xf4\x90\x80\x80", 4, "past U+10FFFF");
	name_bad_n("ab\xe6\x97", 4, "truncated UTF-8 sequence");
	name_ok_n("a", 1, "name \"a\"");
	name_ok_n("mydb", 4, "name \"mydb\"");
	name_ok_n("orders-2021_v1.json", 19, "name with - _ .");
	name_ok_n(" a", 2, "leading space is allowed");
	name_ok_n("a b", 3, "inner space is allowed");
	name_ok_n("a@b", 3, "'@' not in front is allowed");
	name_ok_n("...", 3, "name \"...\"");
	name_ok_n(".a", 2, "name \".a\"");
	name_ok_n("a.", 2, "name \"a.\"");
	name_ok_n("caf\xc3\xa9", 5, "UTF-8 name");
	name_ok_n("ab/", 2, "bad byte past len is not looked at");

	memset(name, 'a', sizeof(name));
	name_ok_n(name, PITR_NAME_MAX, "name of exactly 255 bytes");
	name_bad_n(name, PITR_NAME_MAX + 1, "name of 256 bytes");
	name[PITR_NAME_MAX - 1] = ' ';
	name_bad_n(name, PITR_NAME_MAX, "255 bytes ending in a space");

	name_bad_n("", 0, "empty name");
	is_int(pitr_name_check(NULL, 0), PITR_BADNAME, "NULL name");
	name_bad_n("a\0b", 3, "embedded NUL byte");
	name_bad_n("ab\0", 3, "trailing NUL byte");
	name_bad_n("\0", 1, "lone NUL byte");
	name_bad_n("ab ", 3, "trailing space");
	name_bad_n(" ", 1, "lone space");
	name_bad_n("@ab", 3, "leading '@'");
	name_bad_n("@", 1, "lone '@'");
	name_bad_n("a/b", 3, "'/'");
	name_bad_n("/", 1, "lone '/'");
	name_bad_n("a\\b", 3, "'\\'");
	name_bad_n("a#b", 3, "'#'");
	name_bad_n("a?b", 3, "'?'");
	name_bad_n(".", 1, "\".\"");
	name_bad_n("..", 2, "\"..\"");
}

static void test_clock(void)
{
	uint64_t a = pitr_clock(), b = pitr_clock();

	/* 2020-01-01: any machine running this test is past it. */
	ok(a > 1577836800ull * NS, "pitr_clock is after 2020");
	ok(b >= a - NS, "pitr_clock does not run back by a second");
}

int main(void)
{
	test_known_values();
	test_fractions();
	test_offsets();
	test_calendar();
	test_range();
	test_syntax();
	test_round_trip();
	test_relative();
	test_duration_parse();
	test_duration_format();
	test_names();
	test_clock();
	return tap_done();
}
