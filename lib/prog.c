#include "prog.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *progname = "nap";
static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

void
nap_prog_init(int argc, char **argv)
{
	struct sigaction sa;
	const char *slash;
	int fd;

	if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') {
		slash = strrchr(argv[0], '/');
		progname = slash ? slash + 1 : argv[0];
	}
	nap_log_set_prog(progname);

	/* A tool started with a closed 0, 1 or 2 must not write records into a file it opens later. */
	do {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			abort();
	} while (fd <= 2);
	close(fd);

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: blocking reads return EINTR so loops see the flag */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

const char *
nap_progname(void)
{
	return progname;
}

int
nap_stopping(void)
{
	return stop_signal != 0;
}

int
nap_stop_signal(void)
{
	return stop_signal;
}

void
nap_usage(const char *synopsis)
{
	fprintf(stderr, "usage: %s\n", synopsis);
	exit(NAP_EX_USAGE);
}

void
nap_die(int code, const char *fmt, ...)
{
	va_list ap;

	/* records already accepted still go out (a failing stdout drops them) */
	nap_emit_flush();
	va_start(ap, fmt);
	nap_vlog(NAP_LOG_FATAL, fmt, ap);
	va_end(ap);
	exit(code);
}

void
nap_die_err(const struct nap_err *err)
{
	nap_die(err->code ? err->code : NAP_EX_SOFTWARE, "%s", err->msg);
}

static void NAP_NORETURN
output_failed(int saved)
{
	if (saved == EPIPE) {
		/* The reader went away: die the way a shell user expects, quietly. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	nap_die(NAP_EX_IOERR, "unable to write records to stdout: %s", strerror(saved));
}

const char *
nap_json_line(json_object *obj, size_t *len)
{
	return json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

/* Held records (nap_emit_batch): whole records only, at most PIPE_BUF bytes. */
static int batching;
static char held[PIPE_BUF];
static size_t nheld;

static void
write_all(const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(STDOUT_FILENO, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue; /* finish the record even when asked to stop */
		if (n <= 0)
			output_failed(n < 0 ? errno : EIO);
		off += (size_t)n;
	}
}

void
nap_emit_flush(void)
{
	size_t n = nheld;

	/* emptied first: a failed write ends in nap_die, which flushes again */
	nheld = 0;
	if (n)
		write_all(held, n);
}

void
nap_emit_batch(int on)
{
	if (!on)
		nap_emit_flush();
	batching = on;
}

void
nap_emit_raw(const char *line, size_t len)
{
	/*
	 * Body and newline go out in one write(2), bypassing stdio, so a reader
	 * never sees half a record and records up to PIPE_BUF stay atomic on a
	 * FIFO shared by several writers.  Batched, small records share writes
	 * of at most PIPE_BUF bytes, still atomic; a larger one goes alone.
	 */
	static char *buf;
	static size_t alloc;

	if (batching && len + 1 <= sizeof(held)) {
		if (nheld + len + 1 > sizeof(held))
			nap_emit_flush();
		memcpy(held + nheld, line, len);
		held[nheld + len] = '\n';
		nheld += len + 1;
		return;
	}
	nap_emit_flush();
	nap_xgrow(&buf, &alloc, len + 1, 1);
	memcpy(buf, line, len);
	buf[len] = '\n';
	write_all(buf, len + 1);
}

void
nap_emit(json_object *rec)
{
	size_t len;
	const char *s = nap_json_line(rec, &len);

	nap_emit_raw(s, len);
}

int
nap_exit(int code)
{
	nap_emit_flush();
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		int saved = errno ? errno : EIO;

		if (saved == EPIPE)
			output_failed(saved);
		nap_log(NAP_LOG_FATAL, "unable to write records to stdout: %s", strerror(saved));
		return NAP_EX_IOERR;
	}
	return code;
}
