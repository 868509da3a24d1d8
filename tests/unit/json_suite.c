/*
 * json_suite.c - core's document acceptance over files, for the
 * JSONTestSuite test (tests/integration/t0130-json-suite.sh): for each FILE,
 * one line
 *
 *   NAME RAW WRAPPED RFC-RAW RFC-WRAPPED
 *
 * RAW and WRAPPED are core's verdict (`accept` or `refuse`) on the file and
 * on the file wrapped as {"k": FILE}; the RFC- columns are the strict
 * reading of RFC 8259 (rfc8259.h) on the same bytes: object, value, invalid
 * or impl (left to the implementation). Exit 0 unless a file is unreadable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"
#include "rfc8259.h"

#define MAX_DOC (16u << 20)

static const char *const rfc_names[] = { "object", "value", "invalid",
					 "impl" };

static const char *verdict(const void *b, size_t n)
{
	char err[200];

	return json_check(b, n, MAX_DOC, err, sizeof(err)) ? "refuse"
							    : "accept";
}

int main(int argc, char **argv)
{
	static const char head[] = "{\"k\": ", tail[] = "}";

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		char *b, *w;
		long n;

		if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET)) {
			perror(argv[i]);
			return 1;
		}
		b = malloc((size_t)n + 1);
		w = malloc((size_t)n + sizeof(head) + sizeof(tail));
		if (!b || !w || fread(b, 1, (size_t)n, f) != (size_t)n) {
			perror(argv[i]);
			return 1;
		}
		fclose(f);
		size_t wn = 0;
		memcpy(w, head, sizeof(head) - 1);
		wn += sizeof(head) - 1;
		memcpy(w + wn, b, (size_t)n);
		wn += (size_t)n;
		memcpy(w + wn, tail, sizeof(tail) - 1);
		wn += sizeof(tail) - 1;
		const char *name = strrchr(argv[i], '/');
		printf("%s %s %s %s %s\n", name ? name + 1 : argv[i],
		       verdict(b, (size_t)n), verdict(w, wn),
		       rfc_names[rfc8259_verdict(b, (size_t)n)],
		       rfc_names[rfc8259_verdict(w, wn)]);
		free(b);
		free(w);
	}
	return 0;
}
