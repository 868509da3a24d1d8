/*
 * docgen.h - deterministic pseudo-random JSON documents of about 1 KB for the
 * benchmarks: ids, names, numbers, a nested object and arrays, built from a
 * small vocabulary so that lz4 compresses them as it would real documents
 * (neither one repeated string nor random bytes).
 *
 * doc_gen(buf, cap, id, seed) writes one JSON object of 896..1152 bytes
 * (1 KiB on average) into buf and returns its length. The same (id, seed)
 * always gives the same bytes.
 */
#ifndef BENCH_DOCGEN_H
#define BENCH_DOCGEN_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DOC_MAX 2048 /* buffer size that always suffices */

static const char *const doc_words[] = {
	"alpha",   "amber",   "anchor",  "apple",   "arrow",   "autumn",
	"badge",   "basket",  "beacon",  "berry",   "birch",   "blossom",
	"bridge",  "bronze",  "cabin",   "candle",  "canyon",  "carbon",
	"cedar",   "chalk",   "cherry",  "cinder",  "cloud",   "clover",
	"comet",   "copper",  "coral",   "cotton",  "crane",   "crystal",
	"dawn",    "delta",   "desert",  "dune",    "eagle",   "echo",
	"ember",   "falcon",  "feather", "fern",    "field",   "flint",
	"forest",  "fossil",  "garden",  "garnet",  "glacier", "granite",
	"harbor",  "hazel",   "heron",   "hollow",  "horizon", "island",
	"ivory",   "jade",    "jasper",  "juniper", "kettle",  "lagoon",
	"lantern", "lemon",   "linen",   "lotus",   "maple",   "marble",
	"meadow",  "meteor",  "mint",    "mist",    "moss",    "nectar",
	"north",   "oak",     "ocean",   "olive",   "onyx",    "orchid",
	"pebble",  "pepper",  "pine",    "planet",  "prairie", "quartz",
	"quill",   "rain",    "raven",   "reef",    "ridge",   "river",
	"saffron", "sage",    "salt",    "shadow",  "silver",  "slate",
	"spruce",  "stone",   "storm",   "summit",  "thistle", "thunder",
	"tide",    "timber",  "topaz",   "tulip",   "valley",  "velvet",
	"violet",  "willow",  "winter",  "yarrow",  "zenith",  "zephyr",
};
#define DOC_NWORDS (sizeof(doc_words) / sizeof(doc_words[0]))

static const char *const doc_countries[] = { "DE", "FR", "US", "GB", "JP",
					     "BR", "IN", "NL", "SE", "CA" };
static const char *const doc_status[] = { "active", "pending", "suspended",
					  "closed" };

static inline uint64_t doc_rand(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline unsigned doc_below(uint64_t *s, unsigned n)
{
	return (unsigned)(doc_rand(s) % n);
}

/* Words are drawn with a skew, as in text: a few are common, most rare. */
static inline const char *doc_word(uint64_t *s)
{
	double u = (double)(doc_rand(s) >> 11) / 9007199254740992.0;

	return doc_words[(unsigned)(u * u * u * DOC_NWORDS)];
}

struct doc_buf {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static inline void
doc_add(struct doc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
	if (b->len > b->cap)
		b->len = b->cap;
}

/* Capitalised word, e.g. for names. */
static inline void doc_add_cap(struct doc_buf *b, uint64_t *s)
{
	const char *w = doc_word(s);

	doc_add(b, "%c%s", w[0] - 'a' + 'A', w + 1);
}

static inline size_t doc_gen(char *buf, size_t cap, const char *id,
			     uint64_t seed)
{
	static const char *const langs[] = { "de", "en", "fr", "ja", "pt" };
	static const char *const ostatus[] = { "placed", "paid", "shipped",
					       "delivered", "returned" };
	struct doc_buf b = { buf, 0, cap };
	uint64_t s = seed * 0x2545f4914f6cdd1dull + 0x1234567ull;
	size_t target = 896 + doc_below(&s, 257); /* 896..1152, mean 1024 */
	unsigned n;

	doc_add(&b, "{\"id\":\"%s\",\"type\":\"customer\",\"name\":\"", id);
	doc_add_cap(&b, &s);
	doc_add(&b, " ");
	doc_add_cap(&b, &s);
	doc_add(&b, "\",\"email\":\"%s.%s%u@%s.example\",\"phone\":\"+%u %03u "
		    "%07u\"",
		doc_word(&s), doc_word(&s), doc_below(&s, 1000), doc_word(&s),
		1 + doc_below(&s, 98), doc_below(&s, 1000),
		doc_below(&s, 10000000));
	doc_add(&b, ",\"age\":%u,\"score\":%u.%02u,\"balance\":%u.%02u,"
		    "\"currency\":\"EUR\"",
		18 + doc_below(&s, 70), doc_below(&s, 100), doc_below(&s, 100),
		doc_below(&s, 1000000), doc_below(&s, 100));
	doc_add(&b, ",\"status\":\"%s\",\"verified\":%s,\"version\":%u",
		doc_status[doc_below(&s, 4)],
		doc_below(&s, 2) ? "true" : "false", doc_below(&s, 50));
	doc_add(&b, ",\"created\":\"20%02u-%02u-%02uT%02u:%02u:%02uZ\"",
		15 + doc_below(&s, 10), 1 + doc_below(&s, 12),
		1 + doc_below(&s, 28), doc_below(&s, 24), doc_below(&s, 60),
		doc_below(&s, 60));
	doc_add(&b, ",\"address\":{\"street\":\"%u ", 1 + doc_below(&s, 9999));
	doc_add_cap(&b, &s);
	doc_add(&b, " Street\",\"city\":\"");
	doc_add_cap(&b, &s);
	doc_add(&b, "\",\"zip\":\"%05u\",\"country\":\"%s\",\"geo\":{\"lat\":%s%u."
		    "%06u,\"lon\":%s%u.%06u}}",
		doc_below(&s, 100000), doc_countries[doc_below(&s, 10)],
		doc_below(&s, 2) ? "-" : "", doc_below(&s, 90),
		doc_below(&s, 1000000), doc_below(&s, 2) ? "-" : "",
		doc_below(&s, 180), doc_below(&s, 1000000));
	doc_add(&b, ",\"preferences\":{\"newsletter\":%s,\"language\":\"%s\","
		    "\"theme\":\"%s\"}",
		doc_below(&s, 2) ? "true" : "false", langs[doc_below(&s, 5)],
		doc_below(&s, 2) ? "dark" : "light");
	doc_add(&b, ",\"tags\":[");
	n = 2 + doc_below(&s, 4);
	for (unsigned i = 0; i < n; i++)
		doc_add(&b, "%s\"%s\"", i ? "," : "", doc_word(&s));
	doc_add(&b, "],\"orders\":[");
	/* 1 to 5 orders of about 125 bytes, leaving room for some notes */
	n = 1 + doc_below(&s, 5);
	for (unsigned i = 0; i < n && (i == 0 || b.len + 200 < target); i++) {
		doc_add(&b, "%s{\"order_id\":\"ORD-%06u\",\"sku\":\"%c%c-%04u\","
			    "\"item\":\"",
			i ? "," : "", doc_below(&s, 1000000),
			'A' + doc_below(&s, 26), 'A' + doc_below(&s, 26),
			doc_below(&s, 10000));
		doc_add_cap(&b, &s);
		doc_add(&b, " %s\",\"qty\":%u,\"price\":%u.%02u,\"status\":\"%s\"}",
			doc_word(&s), 1 + doc_below(&s, 9), doc_below(&s, 500),
			doc_below(&s, 100), ostatus[doc_below(&s, 5)]);
	}
	doc_add(&b, "],\"notes\":\"");
	/* Free text up to the target size, leaving room for the end. */
	for (int first = 1; b.len + 12 < target && b.len + 16 < cap;
	     first = 0)
		doc_add(&b, "%s%s", first ? "" : " ", doc_word(&s));
	doc_add(&b, "\"}");
	return b.len < cap ? b.len : cap;
}

#endif
