/*
 * log.h - diagnostics on stderr, the only place tools talk to people.
 *
 * Lines read "nap-launch: warning: create vm aks-x: 429 throttled" (program
 * name, level word, lowercase message naming the object).  Under systemd
 * ($JOURNAL_STREAM set) each line starts with a <N> syslog priority so
 * journald files it at the right level; with the json format each line is
 * one NDJSON object {"ts","prog","level","msg"}.  Never used for records.
 *
 * Unlike the rest of lib/, this module prints: it is the printing.
 */
#ifndef NAP_LOG_H
#define NAP_LOG_H

#include "nap.h"

enum nap_log_level {
	NAP_LOG_FATAL,
	NAP_LOG_ERROR,
	NAP_LOG_WARNING,
	NAP_LOG_INFO,
	NAP_LOG_DEBUG,
};

/* Program name used in every line (set by nap_prog_init). */
void nap_log_set_prog(const char *prog);
/* "text" or "json"; -1 for anything else. */
int nap_log_set_format(const char *format);
/* "error", "warning", "info", "debug"; -1 for anything else. */
int nap_log_set_level_name(const char *level);
/* 0 = info (the default); each increment one more level of detail. */
void nap_log_set_level(int verbose);
int nap_log_enabled(enum nap_log_level level);

void nap_log(enum nap_log_level level, const char *fmt, ...) NAP_PRINTF(2, 3);
void nap_vlog(enum nap_log_level level, const char *fmt, va_list ap) NAP_PRINTF(2, 0);
void nap_warn(const char *fmt, ...) NAP_PRINTF(1, 2);
void nap_info(const char *fmt, ...) NAP_PRINTF(1, 2);
void nap_debug(const char *fmt, ...) NAP_PRINTF(1, 2);
/*
 * For lib/ modules that hand their errors to a callback (lib/observe,
 * lib/events) instead of printing: msg as a warning; and msg as a warning
 * the first time, at debug level after that (a missing RBAC rule is said
 * once, not per event).  arg is unused.
 */
void nap_log_warn_cb(void *arg, const char *msg);
void nap_log_warn_first_cb(void *arg, const char *msg);

#endif
