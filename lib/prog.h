/*
 * prog.h - the scaffolding every nap tool's main() stands on: program name,
 * sane file descriptors, signals, dying, and the one place records leave the
 * process (stdout).
 *
 * Signals: SIGPIPE is ignored (libcurl needs that), so a write to a closed
 * pipe fails with EPIPE; nap_emit turns that into a quiet death by SIGPIPE,
 * as a shell user expects from `nap-solve | head -n 1`.  SIGTERM, SIGINT and
 * SIGHUP only set a flag (nap_stopping) and interrupt blocking calls: the
 * tool finishes the record it is writing, flushes and exits 0.  Never half
 * a line downstream.
 *
 * Output: stdout carries records only.  nap_emit writes one record and its
 * newline in one write (or, batching, several whole records in one write
 * of at most PIPE_BUF bytes), and on failure exits 74 (EPIPE: SIGPIPE).
 * nap_exit flushes and closes stdout and turns a late failure into 74.
 *
 * Options: every tool describes its options in one table (struct nap_opt)
 * that drives the parser, --help and the rule that a long option is written
 * in full.  getopt_long alone takes any unambiguous prefix, so "--config"
 * meant "--config-out" and overwrote a file; nap_getopt refuses any "--name"
 * that is not exactly an option's name.  Every tool also gets -h/--help
 * (usage and options on stdout, exit 0) and -V/--version ("nap-x VERSION"
 * on stdout, exit 0) from here.  A usage error is a message naming what is
 * wrong, then "usage: <synopsis>", both on stderr, and exit 64.  Options stop
 * at the first operand, and no tool takes operands.
 *
 * This module prints and exits by design; the rest of lib/ does neither.
 */
#ifndef NAP_PROG_H
#define NAP_PROG_H

#include <getopt.h>
#include <stdint.h>

#include <json-c/json.h>

#include "log.h"
#include "nap.h"

/*
 * The project's one version string; the build may pass its own
 * (-DNAP_VERSION=\"1.2.3\").
 */
#ifndef NAP_VERSION
#define NAP_VERSION "0.1.0"
#endif

/*
 * name is the tool's own name ("nap-solve"), the prefix of every message:
 * never argv[0], which may be a path such as ./bin/nap-solve.
 */
void nap_prog_init(const char *name);
const char *nap_progname(void);

/* A termination signal (SIGTERM, SIGINT, SIGHUP) has arrived. */
int nap_stopping(void);
/* The signal that stopped us, or 0. */
int nap_stop_signal(void);

/* "usage: <synopsis>" on stderr, exit 64. */
void nap_usage(const char *synopsis) NAP_NORETURN;
/* "prog: fatal: <msg>" and "usage: <synopsis>" on stderr, exit 64. */
void nap_usage_error(const char *synopsis, const char *fmt, ...) NAP_PRINTF(2, 3) NAP_NORETURN;

/* One option; a table of them ends with a NULL name. */
struct nap_opt {
	const char *name; /* the long name, without "--" */
	int val;	  /* what nap_getopt returns; a letter also makes "-<letter>" */
	const char *arg;  /* the argument's name in --help, or NULL: takes none */
	const char *help; /* one line for --help */
};

#define NAP_OPT_MAX 48

/* The parser's state; the caller owns it, its fields after "private" are not for reading. */
struct nap_getopt {
	const char *synopsis;
	char *arg;	  /* the argument of the option just returned (in argv), or NULL */
	const char *name; /* that option as written ("--max-types", "-v"), for messages */
	/* private */
	const struct nap_opt *opts;
	struct option longopts[NAP_OPT_MAX + 3];
	char shortopts[2 * NAP_OPT_MAX + 8];
	char namebuf[64];
};

/*
 * Set g up for opts (which must outlive it) and restart argument scanning
 * at argv[1].  More than NAP_OPT_MAX options is a bug: exit 70.
 */
void nap_getopt_init(struct nap_getopt *g, const struct nap_opt *opts, const char *synopsis);
/*
 * The next option's val, with g->arg and g->name set, or -1 once the
 * options end.  Does not return on a usage error (an unknown or abbreviated
 * option, a missing or unexpected value, an operand), nor on --help or
 * --version.
 */
int nap_getopt(struct nap_getopt *g, int argc, char **argv);
/* g->arg as a number in [lo, hi]; anything else is a usage error naming the option. */
long nap_opt_long(const struct nap_getopt *g, long lo, long hi);
double nap_opt_double(const struct nap_getopt *g, double lo, double hi);
/* g->arg as a duration ("90s", "2m") of at least min_ms milliseconds, else a usage error. */
int64_t nap_opt_duration(const struct nap_getopt *g, int64_t min_ms);
/* "prog: fatal: <msg>" on stderr, exit code. */
void nap_die(int code, const char *fmt, ...) NAP_PRINTF(2, 3) NAP_NORETURN;
void nap_die_err(const struct nap_err *err) NAP_NORETURN;

/* Serialise rec compactly and write it as one line to stdout. */
void nap_emit(json_object *rec);
/*
 * Have fn(arg, rec) see every record nap_emit writes (not those forwarded by
 * nap_emit_raw), before it is written: metrics and events watch a tool's
 * decisions there.  One observer; NULL removes it.
 */
void nap_emit_observe(void (*fn)(void *arg, json_object *rec), void *arg);
/* Write line (without its newline) plus a newline to stdout, byte for byte. */
void nap_emit_raw(const char *line, size_t len);
/*
 * Batching (off by default): while on, records of up to PIPE_BUF bytes are
 * held and written together, whole records only and at most PIPE_BUF bytes
 * per write, so they stay atomic on a shared FIFO; nap_emit_flush writes
 * what is held, and must be called before the tool waits for input.
 * nap_exit and nap_die flush too.  Turning batching off flushes.
 */
void nap_emit_batch(int on);
void nap_emit_flush(void);
/* Flush and close stdout; returns code, or 74 when stdout failed. */
int nap_exit(int code);

/*
 * Serialise obj as one compact line the way every tool writes records:
 * no pretty printing, no escaped slashes.  The string is owned by obj.
 */
const char *nap_json_line(json_object *obj, size_t *len);

#endif
