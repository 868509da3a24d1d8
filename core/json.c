/*
 * json.c - what a document may be: one JSON object in UTF-8 within the size
 * limit. jansson parses it: it checks UTF-8 strictly, bounds nesting depth,
 * and reports line and column, which users need to fix a rejected file.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

int json_check(const void *body, size_t len, uint32_t max, char *err,
	       size_t errlen)
{
	_Alignas(16) char buf[ARENA_SIZE];
	json_error_t e;
	json_t *j;
	int rc = 0;

	if (len > max) {
		snprintf(err, errlen, "%zu bytes, over the limit of %u", len,
			 max);
		return PITR_TOOBIG;
	}
	pthread_once(&arena_once, arena_install);
	arena.base = buf;
	arena.used = 0;
	/* Numbers as doubles: integers past 64 bits are JSON too. */
	j = json_loadb(len ? body : "", len, JSON_DECODE_INT_AS_REAL, &e);
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
