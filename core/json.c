/*
 * json.c - what a document may be: one JSON object in UTF-8 within the size
 * limit, exactly as RFC 8259 defines it, with three limits of our own that
 * RFC 8259 leaves to an implementation: numbers a double holds, no escaped
 * lone surrogate, at most 2048 levels of nesting.
 *
 * jansson checks UTF-8 strictly, bounds nesting depth, and reports line and
 * column, which users need to fix a rejected file. jansson builds a tree to
 * say so, 12 µs for 1 KB: a scan first proves the common document valid in
 * a fraction of that, and whatever it cannot prove goes to jansson, whose
 * verdict and message stand, but for two gaps closed here:
 *
 *  - jansson reads a raw NUL byte after a number or a literal as the end of
 *    its lookahead and skips it, so `{"a":1<NUL>}` parses. A raw NUL is
 *    nowhere valid JSON: it is refused before jansson is asked.
 *  - jansson refuses an escaped NUL (\u0000), in keys even with
 *    JSON_ALLOW_NUL. It is valid JSON, and the body is kept as bytes, never
 *    as a tree: jansson reads a copy with \u0001 in its place, which is
 *    valid exactly where \u0000 is.
 *
 * tests/unit/rfc8259.h is the strict reading of the RFC that the unit tests
 * and the fuzz target hold all of this to.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * jansson builds a tree, one allocation per node, that a check drops at
 * once: during a check, allocations come from a buffer on the checking
 * thread's stack, and freeing them is a no-op. Past the buffer, and outside
 * a check, it is malloc and free.
 */
#define ARENA_SIZE (32 * 1024)

static __thread struct {
	char *base;
	size_t used;
} arena;

static void *arena_malloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (arena.base && n <= ARENA_SIZE - arena.used) {
		void *p = arena.base + arena.used;
		arena.used += n;
		return p;
	}
	return malloc(n);
}

static void arena_free(void *p)
{
	uintptr_t a = (uintptr_t)arena.base;

	if (a && (uintptr_t)p - a < ARENA_SIZE)
		return;
	free(p);
}

static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static void arena_install(void)
{
#ifndef __SANITIZE_ADDRESS__ /* let AddressSanitizer see every block */
	json_set_alloc_funcs(arena_malloc, arena_free);
#endif
}

/*
 * The scan accepts a subset of what json_check() accepts (fuzzed against
 * it and against RFC 8259): no raw NUL or control character, no lone
 * surrogate, even escaped (an escaped NUL is fine); numbers whose
 * magnitude stays below 1e300, so no double overflows; at most PLAIN_DEPTH
 * levels of nesting.
 */
#define PLAIN_DEPTH 256

static const unsigned char *plain_ws(const unsigned char *p,
				     const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static int hex(unsigned c)
{
	return c - '0' < 10u	       ? (int)(c - '0')
	       : (c | 0x20) - 'a' < 6u ? (int)((c | 0x20) - 'a' + 10)
				       : -1;
}

/* The length of the strict UTF-8 sequence at p (lead byte >= 0x80), or 0:
 * no overlong form, surrogate or code point past U+10FFFF. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned v = p[0];
	size_t n;

	if (v >= 0xc2 && v <= 0xdf)
		n = 2, v &= 0x1f;
	else if (v >= 0xe0 && v <= 0xef)
		n = 3, v &= 0x0f;
	else if (v >= 0xf0 && v <= 0xf4)
		n = 4, v &= 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (n == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff)))
		return 0;
	if (n == 4 && (v < 0x10000 || v > 0x10ffff))
		return 0;
	return n;
}

/* A string from after its opening quote: past its closing quote, or NULL. */
static const unsigned char *plain_string(const unsigned char *p,
					 const unsigned char *end)
{
	while (p < end) {
		unsigned c = *p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c >= 0x80) {
			size_t n = utf8_len(p, end);
			if (!n)
				return NULL;
			p += n;
			continue;
		}
		if (c != '\\') {
			p++;
			continue;
		}
		if (end - p < 2)
			return NULL;
		c = p[1];
		if (c == 'u') {
			unsigned v = 0;
			if (end - p < 6)
				return NULL;
			for (int i = 2; i < 6; i++) {
				int h = hex(p[i]);
				if (h < 0)
					return NULL;
				v = v << 4 | (unsigned)h;
			}
			if (v >= 0xd800 && v <= 0xdfff)
				return NULL;
			p += 6;
		} else if (c == '"' || c == '\\' || c == '/' || c == 'b' ||
			   c == 'f' || c == 'n' || c == 'r' || c == 't') {
			p += 2;
		} else {
			return NULL;
		}
	}
	return NULL;
}

static int digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && (unsigned)(*p - '0') < 10u;
}

/* A number: past it, or NULL. Its magnitude is below 10^(integer digits +
 * exponent): up to 10^300 a double holds it. */
static const unsigned char *plain_number(const unsigned char *p,
					 const unsigned char *end)
{
	long digits = 0, exp = 0;

	if (p < end && *p == '-')
		p++;
	if (!digit(p, end))
		return NULL;
	if (*p == '0') {
		p++;
	} else {
		for (; digit(p, end); p++)
			digits++;
	}
	if (p < end && *p == '.') {
		if (!digit(++p, end))
			return NULL;
		while (digit(p, end))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		int neg = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			neg = *p++ == '-';
		if (!digit(p, end))
			return NULL;
		for (; digit(p, end); p++)
			if (exp < 100000)
				exp = exp * 10 + (*p - '0');
		if (neg)
			exp = -exp;
	}
	return digits + exp <= 300 ? p : NULL;
}

/* A key and its colon, from the opening quote: past the colon, or NULL. */
static const unsigned char *plain_key(const unsigned char *p,
				      const unsigned char *end)
{
	p = plain_ws(p, end);
	if (p == end || *p != '"' || !(p = plain_string(p + 1, end)))
		return NULL;
	p = plain_ws(p, end);
	return p < end && *p == ':' ? p + 1 : NULL;
}

int json_proven(const void *body, size_t len)
{
	const unsigned char *p = body, *end = p + len;
	unsigned char object[PLAIN_DEPTH / 8]; /* per level: object or array */
	int depth = 0;

	p = plain_ws(p, end);
	if (p == end || *p != '{')
		return 0;
	for (;;) {
		/* a value */
		p = plain_ws(p, end);
		if (p == end)
			return 0;
		switch (*p) {
		case '{':
		case '[': {
			int obj = *p == '{';
			if (depth == PLAIN_DEPTH)
				return 0;
			if (obj)
				object[depth / 8] |=
				    (unsigned char)(1 << depth % 8);
			else
				object[depth / 8] &=
				    (unsigned char)~(1 << depth % 8);
			depth++;
			p = plain_ws(p + 1, end);
			if (p < end && *p == (obj ? '}' : ']')) {
				p++;
				depth--;
				break; /* empty: a whole value */
			}
			if (obj && !(p = plain_key(p, end)))
				return 0;
			continue; /* its first value */
		}
		case '"':
			p = plain_string(p + 1, end);
			break;
		case 't':
			p = end - p >= 4 && !memcmp(p, "true", 4) ? p + 4
								  : NULL;
			break;
		case 'f':
			p = end - p >= 5 && !memcmp(p, "false", 5) ? p + 5
								   : NULL;
			break;
		case 'n':
			p = end - p >= 4 && !memcmp(p, "null", 4) ? p + 4
								  : NULL;
			break;
		default:
			p = plain_number(p, end);
		}
		if (!p)
			return 0;
		/* after a whole value: close what ends, or go on to the next */
		for (;;) {
			p = plain_ws(p, end);
			if (!depth)
				return p == end;
			if (p == end)
				return 0;
			int obj =
			    object[(depth - 1) / 8] >> (depth - 1) % 8 & 1;
			if (*p == ',') {
				p++;
				if (obj && !(p = plain_key(p, end)))
					return 0;
				break;
			}
			if (*p != (obj ? '}' : ']'))
				return 0;
			p++;
			depth--;
		}
	}
}

static const char *type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	default:
		return "not an object";
	}
}

/* The line and column (1-based, in bytes) of offset `off` in `body`. */
static void position(const char *body, size_t off, int *line, int *col)
{
	size_t bol = 0;

	*line = 1;
	for (size_t i = 0; i < off; i++)
		if (body[i] == '\n')
			(*line)++, bol = i + 1;
	*col = (int)(off - bol) + 1;
}

int json_check(const void *body, size_t len, uint32_t max, char *err,
	       size_t errlen)
{
	_Alignas(16) char buf[ARENA_SIZE];
	const char *nul, *text = len ? body : "";
	char *copy = NULL;
	json_error_t e;
	json_t *j;
	int rc = 0;

	if (len > max) {
		snprintf(err, errlen, "%zu bytes, over the limit of %u", len,
			 max);
		return PITR_TOOBIG;
	}
	if (len && json_proven(body, len))
		return 0;
	if ((nul = memchr(text, 0, len))) {
		int line, col;
		position(text, (size_t)(nul - text), &line, &col);
		snprintf(err, errlen, "line %d, column %d: NUL byte", line,
			 col);
		return PITR_BADJSON;
	}
	if (memmem(text, len, "\\u0000", 6)) {
		if (!(copy = malloc(len)))
			return ENOMEM;
		memcpy(copy, text, len);
		for (char *p = copy; (p = memmem(p, len - (size_t)(p - copy),
					      "\\u0000", 6));
		     p += 6)
			p[5] = '1';
		text = copy;
	}
	pthread_once(&arena_once, arena_install);
	arena.base = buf;
	arena.used = 0;
	/* Numbers as doubles: integers past 64 bits are JSON too. */
	j = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &e);
	free(copy);
	if (!j) {
		arena.base = NULL;
		snprintf(err, errlen, "line %d, column %d: %s", e.line,
			 e.column, e.text);
		return PITR_BADJSON;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen,
			 "line 1, column 1: top level is %s, "
			 "not an object",
			 type_name(j));
		rc = PITR_BADJSON;
	}
	json_decref(j);
	arena.base = NULL;
	return rc;
}
