/*
 * fuzz_manifest.c - the backup media's ACCOUNT file, which a restore from
 * the media reads to recreate the account: any bytes give a valid
 * configuration or PITR_CORRUPT, never a crash or a read past them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/internal.h"

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
	if (rc != 0 && rc != PITR_CORRUPT)
		abort();
	if (rc == 0 && (pitr_policy_check(&cfg.policy) ||
			strlen(name) > PITR_NAME_MAX || cfg.name != name))
		abort();
	return 0;
}
