/*
 * rfc8259.h - an oracle for the tests: a strict, slow, obvious reading of
 * the grammar of RFC 8259 (section 2 to 8.1), written from the RFC and
 * not from any library, so that a parser's gaps show as disagreements.
 *
 *   rfc8259_verdict(p, n) is one of
 *     RFC_OBJECT     a JSON text whose top value is an object
 *     RFC_VALUE      a JSON text, another top value
 *     RFC_INVALID    not a JSON text (RFC 8259 refuses it)
 *     RFC_IMPL       a JSON text where the RFC leaves the verdict to the
 *                    implementation (section 9 limits, section 6 ranges,
 *                    section 8.2 unpaired surrogates): a number a double
 *                    cannot hold, a \u escape of a lone surrogate, nesting
 *                    deeper than RFC_MAX_DEPTH. Compare nothing there.
 *
 * The text is `n` bytes, no terminator needed; UTF-8 is checked strictly
 * (no overlong form, no encoded surrogate, nothing past U+10FFFF).
 */
#ifndef RFC8259_H
#define RFC8259_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RFC_OBJECT, RFC_VALUE, RFC_INVALID, RFC_IMPL };

#define RFC_MAX_DEPTH 2048

struct rfc {
	const unsigned char *p, *end;
	int impl; /* something implementation-defined was seen */
	int deep; /* the nesting limit stopped the reading */
};

static void rfc_ws(struct rfc *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int rfc_hex4(const unsigned char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 0;
		*v = *v << 4 | d;
	}
	return 1;
}

/* One UTF-8 encoded character of 2 to 4 bytes at r->p: 1 if well formed. */
static int rfc_utf8(struct rfc *r)
{
	const unsigned char *p = r->p;
	unsigned c = *p, v, n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if ((size_t)(r->end - p) < n)
		return 0;
	for (unsigned i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
	    (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	r->p += n;
	return 1;
}

/* A string, from its opening quote. */
static int rfc_string(struct rfc *r)
{
	r->p++;
	for (;;) {
		if (r->p == r->end)
			return 0;
		unsigned c = *r->p;
		if (c == '"') {
			r->p++;
			return 1;
		}
		if (c < 0x20)
			return 0; /* unescaped control character, NUL too */
		if (c >= 0x80) {
			if (!rfc_utf8(r))
				return 0;
			continue;
		}
		if (c != '\\') {
			r->p++;
			continue;
		}
		if (r->end - r->p < 2)
			return 0;
		c = r->p[1];
		if (strchr("\"\\/bfnrt", (int)c) && c) {
			r->p += 2;
			continue;
		}
		if (c != 'u')
			return 0;
		unsigned v, w;
		if (r->end - r->p < 6 || !rfc_hex4(r->p + 2, &v))
			return 0;
		r->p += 6;
		if (v >= 0xd800 && v <= 0xdbff && r->end - r->p >= 6 &&
		    r->p[0] == '\\' && r->p[1] == 'u' &&
		    rfc_hex4(r->p + 2, &w) && w >= 0xdc00 && w <= 0xdfff) {
			r->p += 6; /* a pair: one character */
			continue;
		}
		if (v >= 0xd800 && v <= 0xdfff)
			r->impl = 1; /* grammatical; section 8.2 */
	}
}

static int rfc_isdigit(struct rfc *r)
{
	return r->p < r->end && *r->p >= '0' && *r->p <= '9';
}

static int rfc_number(struct rfc *r)
{
	const unsigned char *start = r->p;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (!rfc_isdigit(r))
		return 0;
	if (*r->p == '0')
		r->p++;
	else
		while (rfc_isdigit(r))
			r->p++;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!rfc_isdigit(r))
			return 0;
		while (rfc_isdigit(r))
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!rfc_isdigit(r))
			return 0;
		while (rfc_isdigit(r))
			r->p++;
	}
	/* section 6: a range is the implementation's; ours is a double's */
	size_t n = (size_t)(r->p - start);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, start, n);
	s[n] = 0;
	if (isinf(strtod(s, NULL)))
		r->impl = 1;
	free(s);
	return 1;
}

static int rfc_value(struct rfc *r, int depth)
{
	static const char *const lit[] = { "true", "false", "null" };

	rfc_ws(r);
	if (r->p == r->end)
		return 0;
	switch (*r->p) {
	case '{':
	case '[': {
		unsigned char close = *r->p == '{' ? '}' : ']';
		if (depth >= RFC_MAX_DEPTH) {
			r->deep = 1; /* section 9: a nesting limit */
			return 0;
		}
		r->p++;
		rfc_ws(r);
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 1;
		}
		for (;;) {
			if (close == '}') {
				rfc_ws(r);
				if (r->p == r->end || *r->p != '"' ||
				    !rfc_string(r))
					return 0;
				rfc_ws(r);
				if (r->p == r->end || *r->p != ':')
					return 0;
				r->p++;
			}
			if (!rfc_value(r, depth + 1))
				return 0;
			rfc_ws(r);
			if (r->p == r->end)
				return 0;
			if (*r->p == close) {
				r->p++;
				return 1;
			}
			if (*r->p != ',')
				return 0;
			r->p++;
		}
	}
	case '"':
		return rfc_string(r);
	case 't':
	case 'f':
	case 'n':
		for (int i = 0; i < 3; i++) {
			size_t n = strlen(lit[i]);
			if ((size_t)(r->end - r->p) >= n &&
			    !memcmp(r->p, lit[i], n)) {
				r->p += n;
				return 1;
			}
		}
		return 0;
	default:
		return rfc_number(r);
	}
}

static int rfc8259_verdict(const void *text, size_t n)
{
	struct rfc r = { text, (const unsigned char *)text + n, 0, 0 };
	int obj, ok;

	rfc_ws(&r);
	obj = r.p < r.end && *r.p == '{';
	ok = rfc_value(&r, 0);
	rfc_ws(&r);
	if (r.deep)
		return RFC_IMPL;
	if (!ok || r.p != r.end)
		return RFC_INVALID;
	if (r.impl)
		return RFC_IMPL;
	return obj ? RFC_OBJECT : RFC_VALUE;
}

#endif
