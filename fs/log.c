/*
 * log.c - the daemon's messages: to a file (--log-file), to stderr in the
 * foreground, else to syslog. Each line of a file or of stderr begins
 * with an RFC 3339 UTC time. A message repeated word for word is written
 * once, then counted; a call site that fails more than LOG_BURST times in
 * a second (one line per file on a full disk) is counted past that.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"

#define LOG_BURST 10 /* lines a second from one call site */
#define LOG_SITES 16

static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1; /* --log-file; -1: stderr or syslog */
static int log_syslog;

static char last[1024]; /* the last line written, to count repeats */
static int last_prio;
static unsigned long repeats;
static time_t repeats_since;

static struct site {
	const char *fmt; /* the call site: its format string */
	time_t sec;
	unsigned n;
	unsigned long dropped;
	int prio;
	char example[256]; /* the last line not written */
} sites[LOG_SITES];

int fs_log_open(const char *path)
{
	log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	return log_fd < 0 ? errno : 0;
}

void fs_log_daemon(void)
{
	if (log_fd < 0) {
		openlog("pitrfs", LOG_PID, LOG_DAEMON);
		log_syslog = 1;
	}
}

/* One line out, whole, with its time; log_mtx held. */
static void emit(int prio, const char *msg)
{
	char line[sizeof(last) + 96];
	struct timespec now;
	struct tm tm;
	int n;

	if (log_syslog) {
		syslog(prio, "%s", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ pitrfs[%ld]: %s\n",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000L,
		     (long)getpid(), msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* one write(2): lines of concurrent writers never interleave */
	if (write(log_fd >= 0 ? log_fd : STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

/* Say how often the last line came again; log_mtx held. */
static void flush_repeats(void)
{
	char msg[64];

	if (!repeats)
		return;
	snprintf(msg, sizeof(msg), "last message repeated %lu times", repeats);
	emit(last_prio, msg);
	repeats = 0;
}

/* Say how many lines of a call site were not written; log_mtx held. */
static void report_dropped(struct site *s)
{
	char msg[sizeof(last)];

	if (!s->dropped)
		return;
	flush_repeats();
	snprintf(msg, sizeof(msg), "%lu more messages like this one: %s",
		 s->dropped, s->example);
	emit(s->prio, msg);
	s->dropped = 0;
}

/* Whether a call site is over its burst this second; log_mtx held. */
static int over_burst(int prio, const char *fmt, const char *msg, time_t now)
{
	struct site *s = NULL, *oldest = &sites[0];

	for (int i = 0; i < LOG_SITES && !s; i++) {
		if (sites[i].fmt == fmt)
			s = &sites[i];
		else if (sites[i].sec < oldest->sec)
			oldest = &sites[i];
	}
	if (!s) {
		s = oldest;
		report_dropped(s);
		*s = (struct site){ .fmt = fmt, .prio = prio };
	}
	if (s->sec != now) {
		report_dropped(s);
		s->sec = now;
		s->n = 0;
	}
	if (++s->n <= LOG_BURST)
		return 0;
	s->dropped++;
	snprintf(s->example, sizeof(s->example), "%.250s", msg);
	return 1;
}

__attribute__((format(printf, 2, 0))) static void
fs_vlog(int prio, const char *fmt, va_list ap)
{
	char msg[sizeof(last)];
	time_t now = time(NULL);

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* one message, one line: names may hold newlines and escapes */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	pthread_mutex_lock(&log_mtx);
	if (strcmp(msg, last) == 0) {
		if (!repeats++)
			repeats_since = now;
		/* a steady stream is counted every ten seconds */
		if (now - repeats_since >= 10)
			flush_repeats();
		goto out_unlock;
	}
	if (over_burst(prio, fmt, msg, now))
		goto out_unlock;
	flush_repeats();
	emit(prio, msg);
	memcpy(last, msg, sizeof(last));
	last_prio = prio;
out_unlock:
	pthread_mutex_unlock(&log_mtx);
}

void fs_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fs_vlog(prio, fmt, ap);
	va_end(ap);
}

/* libfuse's own messages, as they come (its debug output too). */
__attribute__((format(printf, 2, 0))) static void
log_fuse(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char msg[sizeof(last)];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	pthread_mutex_lock(&log_mtx);
	flush_repeats();
	emit(level <= FUSE_LOG_ERR ? LOG_ERR : LOG_INFO, msg);
	pthread_mutex_unlock(&log_mtx);
}

void fs_log_fuse(void)
{
	if (log_fd >= 0 || log_syslog)
		fuse_set_log_func(log_fuse);
}

void fs_log_close(void)
{
	pthread_mutex_lock(&log_mtx);
	flush_repeats();
	for (int i = 0; i < LOG_SITES; i++)
		report_dropped(&sites[i]);
	pthread_mutex_unlock(&log_mtx);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	if (log_syslog)
		closelog();
	log_syslog = 0;
}
