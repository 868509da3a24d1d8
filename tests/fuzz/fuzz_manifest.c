/*
 * fuzz_manifest.c - the backup media's small text objects: ACCOUNT, which
 * a restore from the media reads to recreate the account, and a numbered
 * manifest, the media's commit point: any bytes give a valid value or
 * PITR_CORRUPT (or, for an ACCOUNT of a greater version, PITR_NEWFORMAT),
 * never a crash or a read past them; a manifest decoded encodes back to
 * the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[96], name[PITR_NAME_MAX + 1];
	pitr_config cfg = { 0 };
	FILE *f;
	int rc;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/pitr-fuzz-manifest-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(path, sizeof(path), "%s/ACCOUNT", dir);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	rc = backup_account_read(dir, &cfg, name, sizeof(name));
	if (rc != 0 && rc != PITR_CORRUPT && rc != PITR_NEWFORMAT)
		abort();
	if (rc == 0 && (pitr_policy_check(&cfg.policy) ||
			strlen(name) > PITR_NAME_MAX || cfg.name != name))
		abort();

	struct manifest mf = { .number = 7 };
	char text[MANIFEST_MAX];
	rc = manifest_decode(data, size, &mf);
	if (rc != 0 && rc != PITR_CORRUPT)
		abort();
	if (rc == 0 && (mf.number != 7 || manifest_encode(text, &mf) != size ||
			memcmp(text, data, size)))
		abort();
	return 0;
}
