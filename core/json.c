/*
 * json.c - what a document may be: one JSON object in UTF-8 within the size
 * limit. jansson parses it: it checks UTF-8 strictly, bounds nesting depth,
 * and reports line and column, which users need to fix a rejected file.
 */
#include <jansson.h>
#include <stdio.h>

#include "internal.h"

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
	json_error_t e;
	json_t *j;
	int rc = 0;

	if (len > max) {
		snprintf(err, errlen, "%zu bytes, over the limit of %u", len,
			 max);
		return PITR_TOOBIG;
	}
	j = json_loadb(len ? body : "", len, 0, &e);
	if (!j) {
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
	return rc;
}
