/*
 * time.c - the clock, instants, durations and the naming rules of pitrfs.
 *
 * Everything but pitr_clock() is pure arithmetic on byte strings: no locale,
 * no TZ, no timegm(), so a time or a name means the same thing in every
 * process that opens an account, whatever its environment. Inputs are never
 * NUL-terminated: every scan is bounded by the length the caller gives.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "pitr.h"

#define SECS_PER_DAY 86400
#define NS_MAX_SECS  (UINT64_MAX / PITR_NS_PER_SEC)

/*
 * Duration units, largest first. A duration names each unit at most once and
 * in this order, so every duration has a single spelling and
 * pitr_duration_format() can print exactly what pitr_duration_parse() reads.
 */
static const struct {
	char c;
	uint64_t secs;
} units[] = {
	{ 'd', SECS_PER_DAY },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};

#define NUNITS (sizeof(units) / sizeof(units[0]))

/* Wall clock in ns since the Unix epoch; 0 if the clock is before it. */
uint64_t pitr_clock(void)
{
	struct timespec ts;

	/* CLOCK_REALTIME cannot fail with a valid pointer; be safe anyway. */
	if (clock_gettime(CLOCK_REALTIME, &ts) || ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec * PITR_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* isdigit() depends on the locale; times and names must not. */
static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Read exactly `n` ASCII digits at `s` into `*out`. The caller has checked
 * that `n` bytes are there. Returns 1 on success, 0 on a non-digit.
 */
static int fixed_digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 1;
}

static int is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month `m` (1-12) of year `y`. */
static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30,
						31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/*
 * Days from 1970-01-01 to the proleptic Gregorian date y-m-d (Howard
 * Hinnant's days_from_civil): exact for every year RFC 3339 can write,
 * including years before the epoch, which come out negative.
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	/* Count years from March, so that Feb 29 is the last day of a year. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil(), for days >= 0 only. */
static void civil_from_days(uint64_t z, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t era, doe, yoe, doy, mp, year;

	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	year = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(year + (*m <= 2));
}

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)" occupying exactly
 * `len` bytes. Returns 0 with `*ns` set, or PITR_BADTIME for bad syntax, an
 * impossible date or an instant outside [epoch, UINT64_MAX ns].
 */
static int parse_rfc3339(const char *s, size_t len, uint64_t *ns)
{
	unsigned year, mon, day, hour, min, sec, oh = 0, om = 0;
	uint64_t frac = 0, total;
	int64_t secs, off = 0;
	size_t i, start, ndig;

	/* The date-time is 19 bytes and a zone designator must follow. */
	if (len < 20)
		return PITR_BADTIME;
	if (!fixed_digits(s, 4, &year) || s[4] != '-' ||
	    !fixed_digits(s + 5, 2, &mon) || s[7] != '-' ||
	    !fixed_digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
	    !fixed_digits(s + 11, 2, &hour) || s[13] != ':' ||
	    !fixed_digits(s + 14, 2, &min) || s[16] != ':' ||
	    !fixed_digits(s + 17, 2, &sec))
		return PITR_BADTIME;
	/* Second 60 is refused: a leap second has no distinct ns value. */
	if (mon < 1 || mon > 12 || day < 1 || day > month_days(year, mon) ||
	    hour > 23 || min > 59 || sec > 59)
		return PITR_BADTIME;

	i = 19;
	if (s[i] == '.') {
		start = ++i;
		/* Stop at 10: one digit too many is enough to refuse. */
		while (i < len && is_digit(s[i]) && i - start < 10)
			frac = frac * 10 + (uint64_t)(s[i++] - '0');
		/* Digits past the ns would be silently lost: refuse them. */
		ndig = i - start;
		if (ndig < 1 || ndig > 9)
			return PITR_BADTIME;
		for (; ndig < 9; ndig++)
			frac *= 10;
	}

	if (i >= len)
		return PITR_BADTIME;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		if (len - i < 6 || !fixed_digits(s + i + 1, 2, &oh) ||
		    s[i + 3] != ':' || !fixed_digits(s + i + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return PITR_BADTIME;
		/* Local time is UTC plus the offset: subtract it to get UTC. */
		off = (int64_t)oh * 3600 + (int64_t)om * 60;
		if (s[i] == '-')
			off = -off;
		i += 6;
	} else {
		return PITR_BADTIME;
	}
	if (i != len)
		return PITR_BADTIME;

	/* Years <= 9999 keep this far inside int64_t. */
	secs = days_from_civil(year, mon, day) * SECS_PER_DAY +
	       (int64_t)hour * 3600 + (int64_t)min * 60 + sec - off;
	if (secs < 0 || (uint64_t)secs > NS_MAX_SECS)
		return PITR_BADTIME;
	total = (uint64_t)secs * PITR_NS_PER_SEC;
	if (frac > UINT64_MAX - total)
		return PITR_BADTIME;
	*ns = total + frac;
	return 0;
}

static size_t unit_index(char c);

/*
 * Parse an instant: RFC 3339, or "-<duration>" meaning that long before
 * `now`. Exactly `len` bytes of `text` are read. Returns 0 with `*ns` set, or
 * PITR_BADTIME (also when a relative time would fall before the epoch).
 */
int pitr_time_parse(const char *text, size_t len, uint64_t now, uint64_t *ns)
{
	uint64_t d;

	if (!text || !len)
		return PITR_BADTIME;
	if (text[0] == '-') {
		/* "-0s" is now: a relative instant may be zero ago */
		size_t z = 1;
		while (z < len - 1 && text[z] == '0')
			z++;
		int zero = len >= 3 && z == len - 1 &&
			   unit_index(text[len - 1]) != NUNITS;
		if (zero)
			d = 0;
		else if (pitr_duration_parse(text + 1, len - 1, &d))
			return PITR_BADTIME;
		if (d > now)
			return PITR_BADTIME;
		*ns = now - d;
		return 0;
	}
	return parse_rfc3339(text, len, ns);
}

/*
 * Write `v` in decimal at `p`, zero-padded to at least `width` digits.
 * Returns the position after the last digit; no NUL is written.
 */
static char *put_dec(char *p, uint64_t v, unsigned width)
{
	char tmp[20];
	unsigned n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width && n < sizeof(tmp))
		tmp[n++] = '0';
	while (n)
		*p++ = tmp[--n];
	return p;
}

/*
 * Format `ns` as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (30 bytes and a NUL) in
 * `buf` of at least PITR_TIME_LEN bytes. UINT64_MAX ns is in 2554, so the
 * year always has four digits. Returns buf.
 */
char *pitr_time_format(uint64_t ns, char *buf)
{
	uint64_t secs = ns / PITR_NS_PER_SEC, sod = secs % SECS_PER_DAY;
	unsigned y, m, d;
	char *p = buf;

	civil_from_days(secs / SECS_PER_DAY, &y, &m, &d);
	p = put_dec(p, y, 4);
	*p++ = '-';
	p = put_dec(p, m, 2);
	*p++ = '-';
	p = put_dec(p, d, 2);
	*p++ = 'T';
	p = put_dec(p, sod / 3600, 2);
	*p++ = ':';
	p = put_dec(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_dec(p, sod % 60, 2);
	*p++ = '.';
	p = put_dec(p, ns % PITR_NS_PER_SEC, 9);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

/* Index of duration unit `c` in units[], or NUNITS if it is none. */
static size_t unit_index(char c)
{
	size_t u;

	for (u = 0; u < NUNITS; u++)
		if (units[u].c == c)
			break;
	return u;
}

/*
 * Parse a duration: one or more "<digits><unit>" groups, units d, h, m, s,
 * each at most once and largest first ("1h30m", not "30m1h"). A group may be
 * zero but the total may not. Returns 0 with `*ns` set, or PITR_BADTIME.
 */
int pitr_duration_parse(const char *text, size_t len, uint64_t *ns)
{
	uint64_t total = 0, n;
	size_t i = 0, start, u, next = 0;

	if (!text || !len)
		return PITR_BADTIME;
	while (i < len) {
		n = 0;
		start = i;
		for (; i < len && is_digit(text[i]); i++) {
			if (n > (UINT64_MAX - 9) / 10)
				return PITR_BADTIME;
			n = n * 10 + (uint64_t)(text[i] - '0');
		}
		if (i == start || i == len)
			return PITR_BADTIME;
		u = unit_index(text[i++]);
		if (u == NUNITS || u < next)
			return PITR_BADTIME;
		next = u + 1;
		/* Overflow is checked in seconds first, then in ns. */
		if (n > NS_MAX_SECS / units[u].secs)
			return PITR_BADTIME;
		n *= units[u].secs * PITR_NS_PER_SEC;
		if (n > UINT64_MAX - total)
			return PITR_BADTIME;
		total += n;
	}
	if (!total)
		return PITR_BADTIME;
	*ns = total;
	return 0;
}

/*
 * Format a duration in the largest exact units ("30d", "1h30m", "45s"). A
 * part of a second is printed as a decimal fraction of the seconds group
 * ("1.5s", "0.000000001s"), which pitr_duration_parse() does not read back:
 * parsed durations are always whole seconds. Zero is "0s". The text is cut
 * to fit `size` bytes, NUL included. Returns buf.
 */
char *pitr_duration_format(uint64_t ns, char *buf, size_t size)
{
	/* "213503d23h34m33.709551615s" is the longest: 26 bytes. */
	char tmp[48], *p = tmp;
	uint64_t secs = ns / PITR_NS_PER_SEC, frac = ns % PITR_NS_PER_SEC;
	size_t u, n;
	unsigned digits = 9;

	if (!size)
		return buf;
	for (u = 0; u + 1 < NUNITS; u++) {
		if (secs >= units[u].secs) {
			p = put_dec(p, secs / units[u].secs, 0);
			*p++ = units[u].c;
			secs %= units[u].secs;
		}
	}
	if (secs || frac || p == tmp) {
		p = put_dec(p, secs, 0);
		if (frac) {
			while (frac % 10 == 0) {
				frac /= 10;
				digits--;
			}
			*p++ = '.';
			p = put_dec(p, frac, digits);
		}
		*p++ = 's';
	}
	n = (size_t)(p - tmp);
	if (n > size - 1)
		n = size - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

/* Is p[0..n) well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF)? */
static int utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len;
		unsigned char lo = 0x80, hi = 0xBF; /* bounds of byte 2 */

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4;
		else
			return 0;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		else if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		if (n - i < len || p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (size_t k = 2; k < len; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

/*
 * Check a name: 1-255 bytes of UTF-8 (names are strings, in JSON output
 * too); no '/', '\\' or NUL, which a path cannot carry;
 * no '#' or '?', which would cut a URL; no trailing space, which many tools
 * strip silently; no leading '@', kept free for names the filesystem itself
 * shows; not "." or "..", which every directory already has.
 * Returns 0 or PITR_BADNAME.
 */
int pitr_name_check(const char *name, size_t len)
{
	size_t i;

	if (!name || !len || len > PITR_NAME_MAX)
		return PITR_BADNAME;
	if (name[0] == '@' || name[len - 1] == ' ')
		return PITR_BADNAME;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return PITR_BADNAME;
	for (i = 0; i < len; i++) {
		switch (name[i]) {
		case '\0':
		case '/':
		case '\\':
		case '#':
		case '?':
			return PITR_BADNAME;
		}
	}
	return utf8_ok((const unsigned char *)name, len) ? 0 : PITR_BADNAME;
}
