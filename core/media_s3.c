/*
 * media_s3.c - backup media under a prefix of an S3 bucket (see media.h),
 * spoken through libcurl, which signs each request (AWS Signature V4).
 *
 * Location "s3://BUCKET/PREFIX"; the endpoint, region and credentials
 * come from the environment, never from the location or the account:
 *   PITR_S3_ENDPOINT, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL,
 *     else https://s3.REGION.amazonaws.com (path-style requests)
 *   PITR_S3_REGION, else AWS_REGION, else AWS_DEFAULT_REGION, else
 *     us-east-1
 *   AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else the file
 *     AWS_SHARED_CREDENTIALS_FILE (section AWS_PROFILE, else "default":
 *     aws_access_key_id, aws_secret_access_key)
 * Secrets go to libcurl alone: never into an error text or a log.
 *
 * What libcurl 7.88 leaves to its caller, done here: the
 * x-amz-content-sha256 header (the body's SHA-256, which curl then
 * signs), query parameters sorted and fully percent-encoded, a value on
 * every parameter ("delete="), and Content-MD5 on every PUT and POST.
 * An empty "Expect:" (to drop 100-continue) must not be set: curl signs
 * it without sending it, and the signature no longer matches.
 * Objects are created with "If-None-Match: *": 412 means the name exists.
 * Responses are read up to a bound and parsed with bounds; a listing's
 * keys outside the prefix or with characters this media never writes
 * are skipped.
 */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

#define LIST_MAX  (8u << 20) /* bytes of one listing page */
#define ERROR_MAX (64u << 10)

struct media_s3 {
	struct media m;
	CURL *curl;
	char endpoint[1024], region[64], bucket[64], prefix[1024];
	char userpwd[512]; /* "KEY:SECRET", for libcurl only */
	char sigv4[128];
};

struct body {
	unsigned char *p;
	size_t len, cap, max;
	int over;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;

static void curl_start(void)
{
	curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static size_t take(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;

	if (len > b->max - b->len) {
		b->over = 1;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = 0;
	return len;
}

static int unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

/* Percent-encode `s` into `out` (size bytes); '/' kept when `path`. */
static int encode(char *out, size_t size, const char *s, int path)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (unreserved(c) || (path && c == '/')) {
			if (n + 1 >= size)
				return ENAMETOOLONG;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= size)
				return ENAMETOOLONG;
			n += (size_t)snprintf(out + n, size - n, "%%%02X", c);
		}
	}
	out[n] = 0;
	return 0;
}

static void hex(char *out, const unsigned char *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* The text between <tag> and </tag> from *from on, into out; the end of
 * it returned through *from. 0 if found. */
static int xml_text(const char **from, const char *tag, char *out,
		    size_t size)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (!(a = strstr(*from, open)))
		return -1;
	a += strlen(open);
	if (!(b = strstr(a, close)))
		return -1;
	snprintf(out, size, "%.*s", (int)(b - a), a);
	*from = b + strlen(close);
	return 0;
}

/* What an HTTP status means, with the server's own code in m->error. */
static int http_rc(struct media_s3 *s, long status, const struct body *b)
{
	char code[128] = "";
	const char *p = b->p ? (const char *)b->p : "";

	if (status >= 200 && status < 300)
		return 0;
	xml_text(&p, "Code", code, sizeof(code));
	if (status == 404) {
		if (!strcmp(code, "NoSuchBucket")) {
			media_seterror(&s->m, "no bucket '%s' at %s",
				       s->bucket, s->endpoint);
			return ENOENT;
		}
		return ENOENT;
	}
	if (status == 412)
		return PITR_EXISTS;
	/* before 403: a full bucket is refused with 403 QuotaExceeded,
	 * and the credentials are not what is wrong */
	if (status == 507 || !strcmp(code, "QuotaExceeded")) {
		media_seterror(&s->m, "bucket '%s' is full: HTTP %ld %s from %s",
			       s->bucket, status, code, s->endpoint);
		return ENOSPC;
	}
	if (status == 403 || status == 401) {
		media_seterror(&s->m,
			       "access denied by %s (HTTP %ld %s): check the "
			       "credentials and the bucket's policy",
			       s->endpoint, status, code);
		return EACCES;
	}
	/* retried with backoff, as the S3 API asks of both */
	if (status == 503 || status == 500 || status == 429) {
		media_seterror(&s->m, "%s: HTTP %ld %s from %s",
			       status == 500 ? "server error" : "server busy",
			       status, code, s->endpoint);
		return EAGAIN;
	}
	media_seterror(&s->m, "HTTP %ld %s from %s", status, code,
		       s->endpoint);
	return EIO;
}

/*
 * One request. `key` NULL: the bucket itself. `query` sorted and
 * encoded ("" for none). `body` for PUT and POST. The response goes to
 * `out` (bounded by out->max).
 */
static int request(struct media_s3 *s, const char *method, const char *key,
		   const char *query, const void *body, size_t blen,
		   int create_only, struct body *out)
{
	char url[4096], ekey[2048], h_sha[128], h_md5[64];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;
	struct curl_slist *hdr = NULL;
	long status = 0;
	CURLcode cc;
	int rc, n;

	if ((rc = encode(ekey, sizeof(ekey), key ? key : "", 1)))
		return rc;
	n = snprintf(url, sizeof(url), "%s/%s%s%s%s%s", s->endpoint,
		     s->bucket, key ? "/" : "", ekey, *query ? "?" : "",
		     query);
	if (n < 0 || n >= (int)sizeof(url))
		return ENAMETOOLONG;
	/* libcurl 7.88 signs this header but does not make it */
	if (!EVP_Digest(body ? body : "", blen, md, &mdlen, EVP_sha256(),
			NULL))
		return ENOMEM;
	strcpy(h_sha, "x-amz-content-sha256: ");
	hex(h_sha + strlen(h_sha), md, mdlen);
	hdr = curl_slist_append(hdr, h_sha);
	if (body) {
		unsigned char b64[32];
		if (!EVP_Digest(body, blen, md, &mdlen, EVP_md5(), NULL)) {
			curl_slist_free_all(hdr);
			return ENOMEM;
		}
		EVP_EncodeBlock(b64, md, (int)mdlen);
		snprintf(h_md5, sizeof(h_md5), "Content-MD5: %s", b64);
		hdr = curl_slist_append(hdr, h_md5);
		hdr = curl_slist_append(hdr,
					"Content-Type: application/octet-stream");
	}
	if (create_only)
		hdr = curl_slist_append(hdr, "If-None-Match: *");
	if (!hdr)
		return ENOMEM;

	CURL *c = s->curl;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(c, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 20L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (!strcmp(method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)blen);
		}
	}
	cc = curl_easy_perform(c);
	curl_slist_free_all(hdr);
	if (cc == CURLE_WRITE_ERROR && out->over)
		return PITR_CORRUPT; /* larger than anything written here */
	if (cc != CURLE_OK) {
		media_seterror(&s->m, "cannot reach %s: %s", s->endpoint,
			       curl_easy_strerror(cc));
		switch (cc) {
		case CURLE_COULDNT_CONNECT:
			return ECONNREFUSED;
		case CURLE_OPERATION_TIMEDOUT:
			return ETIMEDOUT;
		case CURLE_COULDNT_RESOLVE_HOST:
			return EHOSTUNREACH;
		case CURLE_OUT_OF_MEMORY:
			return ENOMEM;
		default:
			return EIO;
		}
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return http_rc(s, status, out);
}

static int full_key(struct media_s3 *s, const char *name, char *key,
		    size_t size)
{
	int n = snprintf(key, size, "%s%s%s", s->prefix, *s->prefix ? "/" : "",
			 name);

	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

static int s3_put(struct media *m, const char *name,
		  const struct file_part *parts, int nparts)
{
	struct media_s3 *s = (struct media_s3 *)m;
	struct body out = { .max = ERROR_MAX };
	char key[2048];
	unsigned char *all;
	size_t len = 0;
	int rc;

	if ((rc = full_key(s, name, key, sizeof(key))))
		return rc;
	for (int i = 0; i < nparts; i++)
		len += parts[i].len;
	if (!(all = malloc(len ? len : 1)))
		return ENOMEM;
	len = 0;
	for (int i = 0; i < nparts; i++) {
		memcpy(all + len, parts[i].data, parts[i].len);
		len += parts[i].len;
	}
	rc = request(s, "PUT", key, "", all, len, 1, &out);
	free(all);
	free(out.p);
	return rc;
}

static int s3_get(struct media *m, const char *name, size_t max,
		  unsigned char **buf, size_t *len)
{
	struct media_s3 *s = (struct media_s3 *)m;
	struct body out = { .max = max > ERROR_MAX ? max : ERROR_MAX };
	char key[2048];
	int rc;

	*buf = NULL;
	*len = 0;
	if ((rc = full_key(s, name, key, sizeof(key))))
		return rc;
	rc = request(s, "GET", key, "", NULL, 0, 0, &out);
	if (!rc && out.len > max)
		rc = PITR_CORRUPT;
	if (rc) {
		free(out.p);
		return rc;
	}
	*buf = out.p ? out.p : malloc(1);
	*len = out.len;
	return *buf ? 0 : ENOMEM;
}

/* A name this media writes: what the listing gives back is checked. */
static int plain_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!unreserved((unsigned char)*s))
			return 0;
	return 1;
}

static int s3_list(struct media *m, const char *prefix, const char *after,
		   media_name_fn fn, void *arg)
{
	struct media_s3 *s = (struct media_s3 *)m;
	char full[2048], efull[4096], eafter[4096], token[1024],
	    etoken[2048], query[12288], key[2048], trunc[16];
	size_t plen = *s->prefix ? strlen(s->prefix) + 1 : 0;
	int rc;

	*token = 0;
	if ((rc = full_key(s, prefix, full, sizeof(full))) ||
	    (rc = encode(efull, sizeof(efull), full, 0)))
		return rc;
	*eafter = 0;
	if (after) {
		char fa[2048];
		if ((rc = full_key(s, after, fa, sizeof(fa))) ||
		    (rc = encode(eafter, sizeof(eafter), fa, 0)))
			return rc;
	}
	do {
		struct body out = { .max = LIST_MAX };
		/* sorted by name, every value encoded */
		if ((rc = encode(etoken, sizeof(etoken), token, 0)))
			return rc;
		snprintf(query, sizeof(query),
			 "%s%s%slist-type=2&prefix=%s%s%s",
			 *token ? "continuation-token=" : "", etoken,
			 *token ? "&" : "", efull, *eafter ? "&start-after=" : "",
			 eafter);
		if ((rc = request(s, "GET", NULL, query, NULL, 0, 0, &out))) {
			free(out.p);
			return rc;
		}
		const char *p = out.p ? (const char *)out.p : "";
		const char *q = p;
		if (xml_text(&q, "IsTruncated", trunc, sizeof(trunc)))
			*trunc = 0;
		q = p;
		if (!strcmp(trunc, "true")) {
			if (xml_text(&q, "NextContinuationToken", token,
				     sizeof(token)) ||
			    !*token) {
				media_seterror(m, "a listing of %s is cut "
					       "short with no continuation",
					       s->endpoint);
				free(out.p);
				return EIO;
			}
		} else {
			*token = 0;
		}
		q = p;
		while (!rc && xml_text(&q, "Key", key, sizeof(key)) == 0) {
			if (strlen(key) <= plen ||
			    strncmp(key, full, strlen(full)) ||
			    !plain_name(key + plen))
				continue;
			rc = fn(key + plen, arg);
		}
		free(out.p);
	} while (!rc && *token);
	return rc;
}

static int s3_del(struct media *m, const char *const *names, size_t n)
{
	struct media_s3 *s = (struct media_s3 *)m;
	struct body out = { .max = ERROR_MAX };
	char key[2048], *xml;
	size_t cap = 128, len = 0;
	int rc = 0;

	if (!n)
		return 0;
	if (n > MEDIA_DEL_MAX)
		return EINVAL;
	for (size_t i = 0; i < n; i++)
		cap += strlen(names[i]) + strlen(s->prefix) + 40;
	if (!(xml = malloc(cap)))
		return ENOMEM;
	len += (size_t)snprintf(xml, cap,
				"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
				"<Delete><Quiet>true</Quiet>");
	for (size_t i = 0; !rc && i < n; i++) {
		if (!plain_name(names[i]))
			rc = EINVAL;
		else if (!(rc = full_key(s, names[i], key, sizeof(key))))
			len += (size_t)snprintf(
			    xml + len, cap - len,
			    "<Object><Key>%s</Key></Object>", key);
	}
	len += (size_t)snprintf(xml + len, cap - len, "</Delete>");
	if (!rc)
		rc = request(s, "POST", NULL, "delete=", xml, len, 0, &out);
	if (!rc && out.p && strstr((char *)out.p, "<Error>")) {
		const char *p = (const char *)out.p;
		char code[128] = "";
		xml_text(&p, "Code", code, sizeof(code));
		media_seterror(m, "a batch delete failed: %s", code);
		rc = EIO;
	}
	free(xml);
	free(out.p);
	return rc;
}

static void s3_close(struct media *m)
{
	struct media_s3 *s = (struct media_s3 *)m;

	if (s->curl)
		curl_easy_cleanup(s->curl);
	memset(s->userpwd, 0, sizeof(s->userpwd));
	free(s);
}

static const struct media_ops s3_ops = {
	.put = s3_put,
	.get = s3_get,
	.list = s3_list,
	.del = s3_del,
	.lock = NULL,
	.close = s3_close,
};

static const char *env_first(const char *a, const char *b, const char *c)
{
	const char *v = getenv(a);

	if ((!v || !*v) && b)
		v = getenv(b);
	if ((!v || !*v) && c)
		v = getenv(c);
	return v && *v ? v : NULL;
}

/* Trim spaces around [p, end). */
static void trim(char **p, char **end)
{
	while (*p < *end && (**p == ' ' || **p == '\t'))
		(*p)++;
	while (*end > *p && ((*end)[-1] == ' ' || (*end)[-1] == '\t' ||
			     (*end)[-1] == '\r'))
		(*end)--;
}

/* Keys from an AWS-style credentials file. */
static int creds_file(struct media_s3 *s, const char *path, char *id,
		      char *secret, size_t size)
{
	const char *profile = env_first("AWS_PROFILE", NULL, NULL);
	unsigned char *buf;
	size_t len;
	int rc, in = 0;

	if (!profile)
		profile = "default";
	if ((rc = file_read(path, 1 << 16, &buf, &len))) {
		media_seterror(&s->m, "cannot read the credentials file "
			       "'%.200s': %s", path, pitr_strerror(rc));
		return rc;
	}
	*id = *secret = 0;
	for (char *line = (char *)buf, *next; line < (char *)buf + len;
	     line = next) {
		char *end = memchr(line, '\n', (size_t)((char *)buf + len - line));
		next = end ? end + 1 : (char *)buf + len;
		if (!end)
			end = (char *)buf + len;
		trim(&line, &end);
		if (line < end && *line == '[') {
			in = end - line == (long)strlen(profile) + 2 &&
			     !memcmp(line + 1, profile, strlen(profile));
			continue;
		}
		char *eq = memchr(line, '=', (size_t)(end - line));
		if (!in || !eq)
			continue;
		char *k = line, *kend = eq, *v = eq + 1, *vend = end;
		trim(&k, &kend);
		trim(&v, &vend);
		if ((size_t)(vend - v) >= size)
			continue;
		if (kend - k == 17 && !memcmp(k, "aws_access_key_id", 17))
			snprintf(id, size, "%.*s", (int)(vend - v), v);
		else if (kend - k == 21 &&
			 !memcmp(k, "aws_secret_access_key", 21))
			snprintf(secret, size, "%.*s", (int)(vend - v), v);
	}
	memset(buf, 0, len);
	free(buf);
	return 0;
}

static int parse_url(struct media_s3 *s, const char *url)
{
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t)(slash - b) : strlen(b);
	const char *p = slash ? slash + 1 : "";
	size_t plen = strlen(p);

	if (blen < 3 || blen >= sizeof(s->bucket))
		return EINVAL;
	for (size_t i = 0; i < blen; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') ||
		      (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
		      b[i] == '.'))
			return EINVAL;
	memcpy(s->bucket, b, blen);
	s->bucket[blen] = 0;
	while (plen && p[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(s->prefix))
		return ENAMETOOLONG;
	for (size_t i = 0; i < plen; i++)
		if (!unreserved((unsigned char)p[i]) && p[i] != '/')
			return EINVAL;
	memcpy(s->prefix, p, plen);
	s->prefix[plen] = 0;
	return 0;
}

int media_s3_open(const char *url, struct media **m)
{
	struct media_s3 *s;
	char id[256], secret[256];
	const char *v;
	int rc;

	*m = NULL;
	if (strlen(url) >= sizeof(s->m.where))
		return ENAMETOOLONG;
	pthread_once(&curl_once, curl_start);
	if (!curl_ready)
		return ENOMEM;
	if (!(s = calloc(1, sizeof(*s))))
		return ENOMEM;
	s->m.ops = &s3_ops;
	snprintf(s->m.where, sizeof(s->m.where), "%s", url);
	if ((rc = parse_url(s, url))) {
		media_seterror(&s->m, "'%.200s' is not s3://BUCKET/PREFIX "
			       "(bucket: a-z 0-9 . -; prefix: A-Z a-z 0-9 "
			       "- _ . ~ /)", url);
		goto fail;
	}
	v = env_first("PITR_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION");
	snprintf(s->region, sizeof(s->region), "%s", v ? v : "us-east-1");
	v = env_first("PITR_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3",
		      "AWS_ENDPOINT_URL");
	if (v)
		snprintf(s->endpoint, sizeof(s->endpoint), "%s", v);
	else
		snprintf(s->endpoint, sizeof(s->endpoint),
			 "https://s3.%s.amazonaws.com", s->region);
	for (size_t n = strlen(s->endpoint); n && s->endpoint[n - 1] == '/';)
		s->endpoint[--n] = 0;
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->region);
	*id = *secret = 0;
	if ((v = env_first("AWS_ACCESS_KEY_ID", NULL, NULL)))
		snprintf(id, sizeof(id), "%s", v);
	if ((v = env_first("AWS_SECRET_ACCESS_KEY", NULL, NULL)))
		snprintf(secret, sizeof(secret), "%s", v);
	if ((!*id || !*secret) &&
	    (v = env_first("AWS_SHARED_CREDENTIALS_FILE", NULL, NULL)) &&
	    (rc = creds_file(s, v, id, secret, sizeof(id))))
		goto fail;
	if (!*id || !*secret || strchr(id, ':')) {
		media_seterror(&s->m,
			       "no credentials for %s: set AWS_ACCESS_KEY_ID "
			       "and AWS_SECRET_ACCESS_KEY, or "
			       "AWS_SHARED_CREDENTIALS_FILE",
			       url);
		rc = EACCES;
		goto fail;
	}
	snprintf(s->userpwd, sizeof(s->userpwd), "%s:%s", id, secret);
	memset(secret, 0, sizeof(secret));
	if (!(s->curl = curl_easy_init())) {
		rc = ENOMEM;
		goto fail;
	}
	*m = &s->m;
	return 0;
fail:
	memset(secret, 0, sizeof(secret));
	/* the reason stays readable through the half-made media */
	*m = &s->m;
	return rc;
}
