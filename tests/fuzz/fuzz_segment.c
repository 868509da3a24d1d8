/*
 * fuzz_segment.c - the backup segment decoder, through pitr_backup_verify:
 * any file in a backup directory is verified or reported damaged, never
 * read past or crashed on. Odd first byte: the input is the whole segment
 * file. Even: the input is a payload, framed here with a valid header and
 * LZ4 frame, so the fuzzer reaches the records inside.
 */
#include <lz4frame.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../core/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void count(const char *where, const char *what, void *arg)
{
	(void)where;
	(void)what;
	(*(int *)arg)++;
}

/* A header around `payload`, as the shipper writes it. */
static size_t frame(const uint8_t *payload, size_t len, unsigned char *out,
		    size_t cap)
{
	LZ4F_preferences_t prefs = { 0 };
	size_t n = LZ4F_compressFrame(out + 76, cap - 76, payload, len, &prefs);
	uint64_t ts = 1;
	uint32_t idx = 0, recs = 0;

	if (LZ4F_isError(n))
		return 0;
	/* first and last keys and the count as the payload says, if it can */
	if (len >= 16) {
		ts = get_le64(payload);
		idx = get_le32(payload + 8);
		recs = 1;
	}
	memcpy(out, "PITRSEG1", 8);
	put_le64(out + 8, 1);
	put_le64(out + 16, ts);
	put_le32(out + 24, idx);
	put_le64(out + 28, ts);
	put_le32(out + 36, idx);
	put_le32(out + 40, recs);
	put_le32(out + 44, (uint32_t)len);
	put_le32(out + 48, (uint32_t)n);
	put_le64(out + 52, 0);
	put_le64(out + 60, XXH3_64bits(out + 76, n));
	put_le64(out + 68, XXH3_64bits(out, 68));
	return 76 + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	unsigned char *buf;
	size_t len = size, cap = LZ4F_compressFrameBound(size, NULL) + 256;
	uint64_t segments, complete;
	int problems = 0;

	if (!*dir) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz-segment-%d",
			 (int)getpid());
		mkdir(dir, 0700);
		/* a backup directory names its account */
		snprintf(path, sizeof(path), "%s/ACCOUNT", dir);
		FILE *a = fopen(path, "w");
		if (a) {
			fputs("name fuzz\n", a);
			fclose(a);
		}
	}
	buf = malloc(cap);
	if (!buf)
		return 0;
	if (size && !(data[0] & 1))
		len = frame(data + 1, size - 1, buf, cap);
	else
		memcpy(buf, data, size);
	snprintf(path, sizeof(path), "%s/seg-0000000001.pseg", dir);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(buf, 1, len, f);
		fclose(f);
		int rc = pitr_backup_verify(dir, count, &problems, &segments,
					    &complete);
		if ((rc == 0) != (problems == 0))
			abort();
		unlink(path);
	}
	free(buf);
	return 0;
}
