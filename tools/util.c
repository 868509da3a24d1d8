/*
 * util.c - what the commands share: options, opening stores, instants,
 * paths and JSON output.
 */
#include <err.h>
#include <string.h>

#include "tool.h"

int usage_exit(const char *usage, int help)
{
	fputs(usage, help ? stdout : stderr);
	return help ? 0 : 2;
}

int wants_help(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

pitr_store *open_store(const char *path, unsigned flags)
{
	pitr_store *s;
	int rc = pitr_store_open(path, flags, &s);

	if (rc) {
		warnx("cannot open store '%s': %s", path, pitr_strerror(rc));
		return NULL;
	}
	return s;
}

int parse_duration_opt(const char *opt, const char *text, uint64_t *ns)
{
	if (pitr_duration_parse(text, strlen(text), ns)) {
		warnx("invalid %s '%s': use a number and a unit s, m, h or d, "
		      "e.g. 30d, 8h, 90m, 45s",
		      opt, text);
		return -1;
	}
	return 0;
}

int parse_instant(pitr_store *s, const char *text, uint64_t *at)
{
	char a[PITR_TIME_LEN], b[PITR_TIME_LEN];
	pitr_info info;
	int rc = pitr_store_resolve(s, text, strlen(text), at);

	if (rc == PITR_BADTIME) {
		warnx("invalid time '%s': use RFC 3339, e.g. "
		      "2021-01-15T10:00:00Z or 2021-01-15T12:00:00+02:00, "
		      "or a relative time such as -5m",
		      text);
		return -1;
	}
	if (rc == PITR_OUTOFRANGE && pitr_store_info(s, &info) == 0) {
		warnx("time '%s' is outside the restorable window [%s, %s]",
		      text, pitr_time_format(info.earliest, a),
		      pitr_time_format(info.latest, b));
		return -1;
	}
	if (rc) {
		warnx("cannot use time '%s': %s", text, pitr_strerror(rc));
		return -1;
	}
	return 0;
}

int parse_any_instant(pitr_store *s, const char *text, uint64_t *at)
{
	if (pitr_time_parse(text, strlen(text), pitr_store_now(s), at)) {
		warnx("invalid time '%s': use RFC 3339, e.g. "
		      "2021-01-15T10:00:00Z, or a relative time such as -5m",
		      text);
		return -1;
	}
	return 0;
}

void json_string(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

int split_path(const char *path, struct split *sp)
{
	const char *p = path, *slash;
	size_t *lens[3] = { &sp->dblen, &sp->ctlen, &sp->idlen };
	const char **parts[3] = { &sp->db, &sp->ct, &sp->id };

	memset(sp, 0, sizeof(*sp));
	for (int i = 0; i < 3 && *p; i++) {
		slash = strchr(p, '/');
		*parts[i] = p;
		*lens[i] = slash ? (size_t)(slash - p) : strlen(p);
		sp->depth = i + 1;
		if (!slash)
			break;
		p = slash + 1;
		if (i == 2 || !*p)
			return -1;
	}
	for (int i = 0; i < sp->depth; i++)
		if (pitr_name_check(*parts[i], *lens[i]))
			return -1;
	return sp->depth ? 0 : -1;
}
