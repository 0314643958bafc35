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
 * This module prints and exits by design; the rest of lib/ does neither.
 */
#ifndef NAP_PROG_H
#define NAP_PROG_H

#include <json-c/json.h>

#include "log.h"
#include "nap.h"

void nap_prog_init(int argc, char **argv);
const char *nap_progname(void);

/* A termination signal (SIGTERM, SIGINT, SIGHUP) has arrived. */
int nap_stopping(void);
/* The signal that stopped us, or 0. */
int nap_stop_signal(void);

/* "usage: <synopsis>" on stderr, exit 64. */
void nap_usage(const char *synopsis) NAP_NORETURN;
/* "prog: fatal: <msg>" on stderr, exit code. */
void nap_die(int code, const char *fmt, ...) NAP_PRINTF(2, 3) NAP_NORETURN;
void nap_die_err(const struct nap_err *err) NAP_NORETURN;

/* Serialise rec compactly and write it as one line to stdout. */
void nap_emit(json_object *rec);
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
