#include "prog.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static const char *progname = "nap";
static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

void
nap_prog_init(const char *name)
{
	struct sigaction sa;
	int fd;

	progname = name;
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
nap_usage_error(const char *synopsis, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nap_vlog(NAP_LOG_FATAL, fmt, ap);
	va_end(ap);
	nap_usage(synopsis);
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

static void (*emit_observer)(void *arg, json_object *rec);
static void *emit_observer_arg;

void
nap_emit_observe(void (*fn)(void *arg, json_object *rec), void *arg)
{
	emit_observer = fn;
	emit_observer_arg = arg;
}

void
nap_emit(json_object *rec)
{
	size_t len;
	const char *s;

	if (emit_observer)
		emit_observer(emit_observer_arg, rec);
	s = nap_json_line(rec, &len);

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

/* -- options -------------------------------------------------------------- */

static const struct nap_opt builtin_opts[] = {
    {"help", 'h', NULL, "print this help and exit"},
    {"version", 'V', NULL, "print the version and exit"},
    {NULL, 0, NULL, NULL},
};

static int
is_short(int val)
{
	return val > 0 && val < 128 && isalnum(val);
}

void
nap_getopt_init(struct nap_getopt *g, const struct nap_opt *opts, const char *synopsis)
{
	const struct nap_opt *tabs[2] = {builtin_opts, opts};
	char *p;
	size_t n = 0, t;

	memset(g, 0, sizeof(*g));
	g->synopsis = synopsis;
	g->opts = opts;
	p = g->shortopts;
	/* "+": stop at the first operand, so every "--name" is seen before getopt_long takes it */
	*p++ = '+';
	*p++ = ':'; /* a missing value comes back as ':', told apart from an unknown option */
	for (t = 0; t < 2; t++)
		for (const struct nap_opt *o = tabs[t]; o->name; o++) {
			if (n == NAP_OPT_MAX + 2)
				nap_die(NAP_EX_SOFTWARE, "more than %d options", NAP_OPT_MAX);
			g->longopts[n].name = o->name;
			g->longopts[n].has_arg = o->arg ? required_argument : no_argument;
			g->longopts[n].flag = NULL;
			g->longopts[n].val = o->val;
			n++;
			if (is_short(o->val)) {
				*p++ = (char)o->val;
				if (o->arg)
					*p++ = ':';
			}
		}
	*p = '\0';
	opterr = 0; /* getopt's own messages name argv[0], a path */
	optind = 0; /* glibc: a fresh scan, also of short-option clusters */
}

static const struct nap_opt *
find_opt(const struct nap_getopt *g, const char *name, size_t len)
{
	const struct nap_opt *tabs[2] = {builtin_opts, g->opts};

	for (size_t t = 0; t < 2; t++)
		for (const struct nap_opt *o = tabs[t]; o->name; o++)
			if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
				return o;
	return NULL;
}

/* The first option whose name starts with name[0, len), for the message. */
static const struct nap_opt *
find_prefix(const struct nap_getopt *g, const char *name, size_t len)
{
	const struct nap_opt *tabs[2] = {builtin_opts, g->opts};

	for (size_t t = 0; t < 2; t++)
		for (const struct nap_opt *o = tabs[t]; o->name; o++)
			if (strncmp(o->name, name, len) == 0)
				return o;
	return NULL;
}

/* argv[i] is "--something": it must name an option exactly, with a value when it needs one. */
static void
check_long(struct nap_getopt *g, int argc, char **argv, int i)
{
	const char *name = argv[i] + 2;
	size_t len = strcspn(name, "=");
	const struct nap_opt *o = find_opt(g, name, len), *near;
	int has_value = name[len] == '=';

	snprintf(g->namebuf, sizeof(g->namebuf), "--%.*s", (int)len, name);
	g->name = g->namebuf;
	if (o == NULL) {
		near = len ? find_prefix(g, name, len) : NULL;
		if (near)
			nap_usage_error(g->synopsis,
			    "unknown option %s (long options are never abbreviated: --%s?)",
			    g->name, near->name);
		nap_usage_error(g->synopsis, "unknown option %s", g->name);
	}
	if (!o->arg && has_value)
		nap_usage_error(g->synopsis, "option %s takes no value", g->name);
	if (o->arg && !has_value && i + 1 >= argc)
		nap_usage_error(g->synopsis, "option %s needs a value (%s)", g->name, o->arg);
}

static void NAP_NORETURN
print_help(const struct nap_getopt *g)
{
	const struct nap_opt *tabs[2] = {builtin_opts, g->opts};
	int width = 0, w;

	for (size_t t = 0; t < 2; t++)
		for (const struct nap_opt *o = tabs[t]; o->name; o++) {
			w = (int)strlen(o->name) + (o->arg ? 1 + (int)strlen(o->arg) : 0);
			if (w > width)
				width = w;
		}
	printf("usage: %s\n\n", g->synopsis);
	for (size_t t = 0; t < 2; t++)
		for (const struct nap_opt *o = tabs[t]; o->name; o++) {
			char left[128];

			snprintf(left, sizeof(left), "%s%s%s", o->name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
			if (is_short(o->val))
				printf("  -%c, --%-*s  %s\n", o->val, width, left, o->help);
			else
				printf("      --%-*s  %s\n", width, left, o->help);
		}
	printf("\nLong options are never abbreviated.  See %s(1).\n", progname);
	exit(nap_exit(0));
}

int
nap_getopt(struct nap_getopt *g, int argc, char **argv)
{
	int i = optind > 0 ? optind : 1, c;

	g->arg = NULL;
	g->name = NULL;
	/*
	 * With "+" optind is the next element getopt_long looks at (or a
	 * cluster of short options it is inside, which never starts "--").
	 */
	if (i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0')
		check_long(g, argc, argv, i);
	c = getopt_long(argc, argv, g->shortopts, g->longopts, NULL);
	if (c == -1) {
		if (optind < argc)
			nap_usage_error(g->synopsis, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (g->name == NULL || c == '?' || c == ':') {
		snprintf(g->namebuf, sizeof(g->namebuf), "-%c",
		    c == '?' || c == ':' ? (optopt > 32 && optopt < 127 ? optopt : '?') : c);
		g->name = g->namebuf;
	}
	if (c == '?')
		nap_usage_error(g->synopsis, "unknown option %s", g->name);
	if (c == ':')
		nap_usage_error(g->synopsis, "option %s needs a value", g->name);
	if (c == 'h')
		print_help(g);
	if (c == 'V') {
		printf("%s %s\n", progname, NAP_VERSION);
		exit(nap_exit(0));
	}
	g->arg = optarg;
	return c;
}

long
nap_opt_long(const struct nap_getopt *g, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(g->arg, &end, 10);
	if (end == g->arg || *end)
		nap_usage_error(g->synopsis, "%s: \"%s\" is not a whole number", g->name, g->arg);
	if (errno || v < lo || v > hi)
		nap_usage_error(g->synopsis, "%s: %s is out of range (%ld to %ld)", g->name, g->arg,
		    lo, hi);
	return v;
}

double
nap_opt_double(const struct nap_getopt *g, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(g->arg, &end);
	if (end == g->arg || *end || v != v)
		nap_usage_error(g->synopsis, "%s: \"%s\" is not a number", g->name, g->arg);
	if (errno || !(v >= lo && v <= hi)) {
		if (hi == HUGE_VAL)
			nap_usage_error(g->synopsis, "%s: %s is out of range (at least %g)", g->name,
			    g->arg, lo);
		nap_usage_error(g->synopsis, "%s: %s is out of range (%g to %g)", g->name, g->arg,
		    lo, hi);
	}
	return v;
}

int64_t
nap_opt_duration(const struct nap_getopt *g, int64_t min_ms)
{
	struct nap_err err;
	int64_t ms;

	if (nap_duration_parse(g->arg, &ms, &err) < 0)
		nap_usage_error(g->synopsis, "%s: %s", g->name, err.msg);
	if (ms < min_ms)
		nap_usage_error(g->synopsis, "%s: \"%s\" must be at least %lldms", g->name, g->arg,
		    (long long)min_ms);
	return ms;
}
