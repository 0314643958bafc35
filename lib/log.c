#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

static const char *log_prog = "nap";
static int log_json;
static int log_journal = -1;
static enum nap_log_level log_max = NAP_LOG_INFO;

static const char *const level_word[] = {
    [NAP_LOG_FATAL] = "fatal",
    [NAP_LOG_ERROR] = "error",
    [NAP_LOG_WARNING] = "warning",
    [NAP_LOG_INFO] = "info",
    [NAP_LOG_DEBUG] = "debug",
};

/* syslog priorities, for journald's <N> prefix */
static const int level_prio[] = {
    [NAP_LOG_FATAL] = 2,
    [NAP_LOG_ERROR] = 3,
    [NAP_LOG_WARNING] = 4,
    [NAP_LOG_INFO] = 6,
    [NAP_LOG_DEBUG] = 7,
};

void
nap_log_set_prog(const char *prog)
{
	log_prog = prog;
}

int
nap_log_set_format(const char *format)
{
	if (strcmp(format, "text") == 0)
		log_json = 0;
	else if (strcmp(format, "json") == 0)
		log_json = 1;
	else
		return -1;
	return 0;
}

int
nap_log_set_level_name(const char *level)
{
	size_t i;

	if (strcmp(level, "warn") == 0)
		level = "warning";
	for (i = NAP_LOG_ERROR; i < NAP_ARRAY_LEN(level_word); i++) {
		if (strcmp(level, level_word[i]) == 0) {
			log_max = (enum nap_log_level)i;
			return 0;
		}
	}
	return -1;
}

void
nap_log_set_level(int verbose)
{
	int l = NAP_LOG_INFO + verbose;

	log_max = l > NAP_LOG_DEBUG ? NAP_LOG_DEBUG : (enum nap_log_level)l;
}

int
nap_log_enabled(enum nap_log_level level)
{
	return level <= log_max;
}

static int
under_journal(void)
{
	if (log_journal < 0)
		log_journal = getenv("JOURNAL_STREAM") != NULL;
	return log_journal;
}

/*
 * Messages quote input (names, quantities, record text): a newline or other
 * control byte in it would end the line early, or forge another line with a
 * priority prefix.  The text format writes them as C escapes instead.
 */
static const char *
one_line(const char *msg, char *buf, size_t len)
{
	static const char ctl[] = "\n\r\t", name[] = "nrt";
	const char *e;
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < len; p++) {
		if (*p >= 0x20 && *p != 0x7f)
			buf[o++] = (char)*p;
		else if ((e = strchr(ctl, *p)) != NULL)
			o += (size_t)snprintf(buf + o, len - o, "\\%c", name[e - ctl]);
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *p);
	}
	buf[o] = '\0';
	return buf;
}

void
nap_vlog(enum nap_log_level level, const char *fmt, va_list ap)
{
	char msg[4096], line[4096], ts[64];
	int saved = errno;

	if (!nap_log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_json) {
		json_object *o = json_object_new_object();
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    now.tv_nsec / 1000000);
		json_object_object_add(o, "ts", json_object_new_string(ts));
		json_object_object_add(o, "prog", json_object_new_string(log_prog));
		json_object_object_add(o, "level", json_object_new_string(level_word[level]));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		if (under_journal())
			fprintf(stderr, "<%d>", level_prio[level]);
		fprintf(stderr, "%s\n",
		    json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (under_journal()) {
		fprintf(stderr, "<%d>%s: %s: %s\n", level_prio[level], log_prog, level_word[level],
		    one_line(msg, line, sizeof(line)));
	} else {
		fprintf(stderr, "%s: %s: %s\n", log_prog, level_word[level],
		    one_line(msg, line, sizeof(line)));
	}
	fflush(stderr);
	errno = saved;
}

void
nap_log(enum nap_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nap_vlog(level, fmt, ap);
	va_end(ap);
}

void
nap_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nap_vlog(NAP_LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
nap_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nap_vlog(NAP_LOG_INFO, fmt, ap);
	va_end(ap);
}

void
nap_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nap_vlog(NAP_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
nap_log_warn_cb(void *arg, const char *msg)
{
	(void)arg;
	nap_warn("%s", msg);
}

void
nap_log_warn_first_cb(void *arg, const char *msg)
{
	static int said;

	(void)arg;
	if (!said++)
		nap_warn("%s (further failures are logged at debug level)", msg);
	else
		nap_debug("%s", msg);
}
