/*
 * util.c - what the commands share: options, opening stores, instants,
 * paths and JSON output.
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wchar.h>

#include "tool.h"

int usage_exit(const char *usage, int help)
{
	fputs(usage, help ? stdout : stderr);
	return help ? 0 : 2;
}

int take_flag(int *argc, char *argv[], const char *flag)
{
	int found = 0, w = 1;

	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], flag))
			found = 1;
		else
			argv[w++] = argv[i];
	}
	*argc = w;
	argv[w] = NULL;
	return found;
}

int take_option(int *argc, char *argv[], const char *opt, const char **value)
{
	int found = 0, w = 1;

	*value = NULL;
	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], opt)) {
			found = i + 1 < *argc ? 1 : -1;
			if (found > 0)
				*value = argv[++i];
		} else {
			argv[w++] = argv[i];
		}
	}
	*argc = w;
	argv[w] = NULL;
	return found;
}

int wants_help(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

/* Undo the \ooo escapes of a /proc/self/mountinfo field, in place;
 * the field ends at a space or the end of the line. Returns the field. */
static char *mountinfo_field(char *p, char **next)
{
	char *w = p, *r = p;

	while (*r && *r != ' ' && *r != '\n') {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				      (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*next = *r ? r + 1 : r;
	*w = 0;
	return p;
}

/*
 * Scan /proc/self/mountinfo for pitrfs mounts: the one whose mount point
 * is `point` (its source, the store, copied to `out`), or else the one
 * whose source is `source` (its mount point copied). The last match wins:
 * it is the mount on top. Returns 1 when found.
 */
static int find_mount(const char *point, const char *source, char *out,
		      size_t size)
{
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	if (!f)
		return 0;
	/* ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - TYPE SOURCE ... */
	while (getline(&line, &cap, f) > 0) {
		char *p = line, *pt, *type, *src, *sep;
		for (int i = 0; i < 4 && p; i++)
			if ((p = strchr(p, ' ')))
				p++;
		if (!p || !(sep = strstr(p, " - ")))
			continue;
		*sep = 0;
		pt = mountinfo_field(p, &p);
		p = sep + 3;
		type = mountinfo_field(p, &p);
		src = mountinfo_field(p, &p);
		if (strcmp(type, "fuse.pitrfs") || src[0] != '/')
			continue;
		if (point && !strcmp(pt, point) && strlen(src) < size) {
			strcpy(out, src);
			found = 1;
		} else if (source && !strcmp(src, source) &&
			   strlen(pt) < size) {
			strcpy(out, pt);
			found = 1;
		}
	}
	free(line);
	fclose(f);
	return found;
}

const char *store_path(const char *path, char *buf, size_t size)
{
	char real[PATH_MAX];
	struct stat st;

	if (stat(path, &st) || !S_ISDIR(st.st_mode) || !realpath(path, real))
		return path;
	return find_mount(real, NULL, buf, size) ? buf : path;
}

int mount_point(const char *store, char *buf, size_t size)
{
	char real[PATH_MAX];

	if (!realpath(store, real))
		return 0;
	return find_mount(NULL, real, buf, size);
}

pitr_store *open_store(const char *path, unsigned flags)
{
	char buf[PATH_MAX];
	pitr_store *s;
	int rc = pitr_store_open(store_path(path, buf, sizeof(buf)), flags, &s);

	if (rc) {
		warnx("cannot open store '%s': %s", path, pitr_strerror(rc));
		return NULL;
	}
	return s;
}

pitr_store *open_reader(const char *path)
{
	char buf[PATH_MAX];
	const char *store = store_path(path, buf, sizeof(buf));
	pitr_store *s;
	int rc = pitr_store_open(store, 0, &s);

	/* An account this user cannot write (a read-only copy or medium):
	 * read-only, which is all a reader needs of it. */
	if (rc == EACCES || rc == EROFS || rc == EPERM)
		rc = pitr_store_open(store, PITR_OPEN_RDONLY, &s);
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
		return 2;
	}
	if (rc == PITR_OUTOFRANGE && pitr_store_info(s, &info) == 0) {
		warnx("time '%s' is outside the restorable window [%s, %s]",
		      text, pitr_time_format(info.earliest, a),
		      pitr_time_format(info.latest, b));
		return 1;
	}
	if (rc) {
		warnx("cannot use time '%s': %s", text, pitr_strerror(rc));
		return 1;
	}
	return 0;
}

int parse_any_instant(pitr_store *s, const char *text, uint64_t *at)
{
	if (pitr_time_parse(text, strlen(text), pitr_store_now(s), at)) {
		warnx("invalid time '%s': use RFC 3339, e.g. "
		      "2021-01-15T10:00:00Z, or a relative time such as -5m",
		      text);
		return 2;
	}
	return 0;
}

char *human_size(uint64_t bytes, char buf[16])
{
	static const char *const units[] = { "KiB", "MiB", "GiB",
					     "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, 16, "%u B", (unsigned)bytes);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 16, "%.1f %s", v, units[u]);
	return buf;
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

/* Length of the valid UTF-8 sequence at s[0..len), or 0. Overlongs,
 * surrogates and code points past U+10FFFF are not valid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Columns a terminal gives the valid UTF-8 character s[0..n): 2 for wide
 * (East Asian) characters, 0 for combining ones, else 1. */
static size_t char_width(const unsigned char *s, size_t n)
{
	static int utf8 = -1;
	uint32_t cp = n == 1 ? s[0] : s[0] & (0xff >> (n + 1));
	int w;

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	if (utf8 < 0) /* wcwidth() needs a UTF-8 locale for its tables */
		utf8 = setlocale(LC_CTYPE, "C.UTF-8") != NULL ||
		       setlocale(LC_CTYPE, "en_US.UTF-8") != NULL;
	if (!utf8 || cp < 0x80)
		return 1;
	w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : (size_t)w;
}

size_t safe_name(const char *name, size_t len, char *buf, size_t *cols)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t o = 0, w = 0, n;

	for (size_t i = 0; i < len; i += n) {
		n = utf8_seq(s + i, len - i);
		/* C0 and C1 controls, DEL, and bytes that are no UTF-8 */
		if (n == 0 || s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\' ||
		    (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			if (n == 0)
				n = 1;
			for (size_t j = 0; j < n; j++) {
				sprintf(buf + o, "\\x%02x", s[i + j]);
				o += 4;
				w += 4;
			}
			continue;
		}
		memcpy(buf + o, s + i, n);
		o += n;
		w += char_width(s + i, n);
	}
	buf[o] = 0;
	if (cols)
		*cols = w;
	return o;
}

void print_cell(FILE *out, const char *name, size_t len, int width)
{
	char buf[SAFE_NAME_MAX];
	size_t cols;

	if (len > PITR_NAME_MAX)
		len = PITR_NAME_MAX;
	safe_name(name, len, buf, &cols);
	fputs(buf, out);
	for (; (int)cols < width; cols++)
		fputc(' ', out);
}

struct item *list_push(struct list *l, const pitr_mutation *m)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct item *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	struct item *it = &l->v[l->n++];
	it->m = *m;
	memcpy(it->name, m->name, m->namelen);
	it->name[m->namelen] = 0;
	it->m.name = it->name;
	it->db[0] = 0;
	return it;
}

int collect(const pitr_mutation *m, void *arg)
{
	return list_push(arg, m) ? 0 : ENOMEM;
}

const char *catalog_event(enum pitr_op_kind op)
{
	switch (op) {
	case PITR_OP_DB_CREATE:
		return "create-database";
	case PITR_OP_DB_DELETE:
		return "delete-database";
	case PITR_OP_CT_CREATE:
		return "create-container";
	case PITR_OP_CT_DELETE:
		return "delete-container";
	default:
		return "?";
	}
}
