/*
 * test_media.c - the media layer without a server: segment names (both
 * forms, and what is refused), the manifest codec (round trip, every
 * malformed field refused), and the directory media's contract (a name
 * is created once, listings are in byte order and by prefix, batch
 * deletes, the latest manifest).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/media.h"
#include "tap.h"

static void names(void)
{
	struct seg_hdr h = { .seq = 42, .first_ts = 1000, .last_ts = 2000 };
	struct seg_ref r;
	char name[SEG_NAME_MAX];

	seg_name(name, &h);
	is_int(strcmp(name, "seg-0000000042-0000000000000001000-"
			    "0000000000000002000.pseg"),
	       0, "a segment's name tells its number and time range");
	is_int(seg_name_parse(name, &r), 0, "and parses back");
	ok(r.seq == 42 && r.first_ts == 1000 && r.last_ts == 2000 &&
	       r.have_range,
	   "to the same number and range");
	is_int(seg_name_parse("seg-0000000007.pseg", &r), 0,
	       "the older form parses");
	ok(r.seq == 7 && !r.have_range, "with its number and no range");
	const char *bad[] = {
		"seg-0000000000.pseg", /* no segment 0 */
		"seg-000000007.pseg",
		"seg-00000000x7.pseg",
		"seg-0000000007.pseg.tmp",
		"seg-0000000042-0000000000000002000-0000000000000001000.pseg",
		"seg-0000000042-0000000000000001000-000000000000000200.pseg",
		"seg-0000000042-99999999999999999999-0000000000000002000.pseg",
		"manifest-0000000001",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ok(seg_name_parse(bad[i], &r) == -1, "refused: '%s'", bad[i]);
}

static void manifests(void)
{
	struct manifest mf = { .number = 3,
			       .writer = 0x0123456789abcdefull,
			       .written = 17,
			       .seq = 9,
			       .sum = 0xfedcba9876543210ull,
			       .complete = 16,
			       .first = 2,
			       .from = 0 },
			back = { .number = 3 };
	char text[MANIFEST_MAX];
	size_t len = manifest_encode(text, &mf);

	is_int(manifest_decode((unsigned char *)text, len, &back), 0,
	       "a manifest decodes");
	ok(!memcmp(&mf, &back, sizeof(mf)), "to what was encoded");
	ok(!strncmp(text, "pitr-manifest 1\n", 16),
	   "without a base, as version 1 (what older builds read)");
	mf.base = 2;
	mf.base_sum = 0x1122334455667788ull;
	len = manifest_encode(text, &mf);
	is_int(manifest_decode((unsigned char *)text, len, &back), 0,
	       "a manifest with a base decodes");
	ok(!memcmp(&mf, &back, sizeof(mf)) &&
	       !strncmp(text, "pitr-manifest 2\n", 16),
	   "to what was encoded, as version 2");
	const char *bad[] = {
		"pitr-manifest 2\n",
		"pitr-manifest 3\nwriter: 0123456789abcdef\nwritten: 1\nseq: 1\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 1\nfrom: 0\n",
		/* version 2 without its base, with base 0, with a base before
		 * the first segment, with a version-1 head */
		"pitr-manifest 2\nwriter: 0123456789abcdef\nwritten: 1\nseq: 3\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 2\nfrom: 0\n",
		"pitr-manifest 2\nwriter: 0123456789abcdef\nwritten: 1\nseq: 3\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 2\nfrom: 0\n"
		"base: 0\nbase-sum: 0000000000000000\n",
		"pitr-manifest 2\nwriter: 0123456789abcdef\nwritten: 1\nseq: 3\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 1\nfrom: 0\n"
		"base: 1\nbase-sum: 0000000000000000\n",
		"pitr-manifest 1\nwriter: 0123456789abcdef\nwritten: 1\nseq: 3\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 2\nfrom: 0\n"
		"base: 1\nbase-sum: 0000000000000000\n",
		"pitr-manifest 2\nwriter: 0123456789abcdef\nwritten: 1\nseq: 3\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 2\nfrom: 0\n"
		"base: 1000000\nbase-sum: 0000000000000000\n",
		"pitr-manifest 1\nwriter: 0123456789ABCDEF\nwritten: 1\nseq: 1\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 1\nfrom: 0\n",
		"pitr-manifest 1\nwriter: 0123456789abcdef\nwritten: 01\nseq: 1\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 1\nfrom: 0\n",
		"pitr-manifest 1\nwriter: 0123456789abcdef\nwritten: 1\nseq: 1\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 2\nfrom: 0\n",
		"pitr-manifest 1\nwriter: 0123456789abcdef\nwritten: 1\nseq: 1\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 1\nfrom: 0\nx",
		"pitr-manifest 1\nwriter: 0123456789abcdef\nwritten: "
		"18446744073709551616\nseq: 1\nsum: 0000000000000000\n"
		"complete: 1\nfirst: 1\nfrom: 0\n",
		"pitr-manifest 1\nwriter: 0123456789abcdef\nwritten: 1\nseq: 1\n"
		"sum: 0000000000000000\ncomplete: 1\nfirst: 1\nfrom: 0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ok(manifest_decode((const unsigned char *)bad[i],
				   strlen(bad[i]), &back) == PITR_CORRUPT,
		   "malformed manifest %zu refused", i);
}

struct seen {
	char all[1024];
};

static int add(const char *name, void *arg)
{
	struct seen *s = arg;
	size_t n = strlen(s->all);

	snprintf(s->all + n, sizeof(s->all) - n, "%s ", name);
	return 0;
}

static void directory(void)
{
	char dir[] = "/tmp/pitr-test-media-XXXXXX";
	struct media *m;
	struct seen s = { "" };
	struct manifest mf = { .number = 0 };
	unsigned char *buf;
	size_t len;
	struct stat st;
	char path[128];

	if (!mkdtemp(dir))
		abort();
	is_int(media_open(dir, &m), 0, "a directory opens as media");
	struct file_part a = { "one", 3 }, b = { "two", 3 };
	is_int(m->ops->put(m, "seg-b", &a, 1), 0, "put creates an object");
	is_int(m->ops->put(m, "seg-b", &b, 1), PITR_EXISTS,
	       "a second put of the name is refused");
	is_int(m->ops->get(m, "seg-b", 16, &buf, &len), 0, "get reads it");
	ok(len == 3 && !memcmp(buf, "one", 3), "the first content stays");
	free(buf);
	is_int(m->ops->get(m, "seg-b", 2, &buf, &len), PITR_CORRUPT,
	       "an object over the bound is refused");
	is_int(m->ops->get(m, "nothing", 16, &buf, &len), ENOENT,
	       "a missing object is ENOENT");
	snprintf(path, sizeof(path), "%s/seg-b", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "objects are created 0600");
	m->ops->put(m, "seg-a", &a, 1);
	m->ops->put(m, "seg-c", &a, 1);
	m->ops->put(m, "other", &a, 1);
	is_int(m->ops->list(m, "seg-", NULL, add, &s), 0, "list");
	ok(!strcmp(s.all, "seg-a seg-b seg-c "),
	   "lists by prefix in byte order (%s)", s.all);
	s.all[0] = 0;
	m->ops->list(m, "seg-", "seg-a", add, &s);
	ok(!strcmp(s.all, "seg-b seg-c "), "and after a name (%s)", s.all);
	const char *del[] = { "seg-a", "seg-c", "never-was" };
	is_int(m->ops->del(m, del, 3), 0, "a batch delete, a missing name "
					   "no error");
	s.all[0] = 0;
	m->ops->list(m, "", NULL, add, &s);
	ok(!strcmp(s.all, "other seg-b "), "what is left (%s)", s.all);

	is_int(media_manifest_latest(m, &mf, NULL), ENOENT, "no manifest yet");
	for (uint64_t i = 1; i <= 3; i++) {
		struct manifest w = { .number = i, .writer = 5, .seq = 0,
				      .complete = 100 + i };
		ok(media_manifest_put(m, &w) == 0, "manifest %d", (int)i);
	}
	is_int(media_manifest_latest(m, &mf, NULL), 0, "the latest manifest");
	ok(mf.number == 3 && mf.complete == 103, "is the highest number");
	char *old;
	size_t n;
	is_int(media_manifests_below(m, 3, &old, &n), 0, "those below it");
	is_int((int)n, 2, "are two");
	free(old);
	media_close(m);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		abort();
	is_int(media_open("s3://A/b", &m), EINVAL,
	       "an S3 bucket name out of its alphabet is refused");
	ok(m && strstr(m->error, "s3://BUCKET/PREFIX"), "and says why");
	media_close(m);
}

int main(void)
{
	names();
	manifests();
	directory();
	return tap_done();
}
