/*
 * Unit tests for lib/prog: output failures end the way the contract says,
 * and options are parsed by exact name only.
 */
#include "prog.h"
#include "tap.h"

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Everything readable on fd (until EOF) into buf, NUL-terminated. */
static void
slurp(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < size && (n = read(fd, buf + got, size - got - 1)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
}

static char errbuf[4096];

/*
 * Run nap_emit in a child whose stdout is fd; return its wait status.  Its
 * stderr goes to errbuf, so the expected message is checked, not printed.
 */
static int
emit_into(int fd, int count)
{
	pid_t pid;
	int st, errp[2];

	if (pipe(errp) != 0)
		abort();
	fflush(stdout); /* the child must not inherit our buffered TAP lines */
	pid = fork();
	if (pid == 0) {
		json_object *o;
		int i;

		nap_prog_init("t-prog");
		dup2(fd, 1);
		dup2(errp[1], 2);
		close(errp[0]);
		o = json_tokener_parse(
		    "{\"type\":\"X\",\"pad\":\"0123456789012345678901234567890\"}");
		for (i = 0; i < count; i++)
			nap_emit(o);
		json_object_put(o);
		_exit(nap_exit(0));
	}
	close(errp[1]);
	slurp(errp[0], errbuf, sizeof(errbuf));
	close(errp[0]);
	waitpid(pid, &st, 0);
	return st;
}

/*
 * Batching, in a child whose stdout is a SOCK_SEQPACKET socket so that
 * every write(2) arrives as one packet: nsmall records of about 60 bytes,
 * then one of big bytes, then two more small ones; die: nap_die instead
 * of nap_exit at the end.
 */
static int
emit_batched(int fd, int nsmall, size_t big, int die)
{
	pid_t pid;
	int st, errp[2];

	if (pipe(errp) != 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *line = malloc(big + 1);
		int i;

		nap_prog_init("t-prog");
		dup2(fd, 1);
		dup2(errp[1], 2);
		close(errp[0]);
		nap_emit_batch(1);
		for (i = 0; i < nsmall; i++) {
			char rec[80];
			int n = snprintf(rec, sizeof(rec),
			    "{\"type\":\"S\",\"i\":%d,\"pad\":\"0123456789012345678901\"}", i);

			nap_emit_raw(rec, (size_t)n);
		}
		if (big) {
			memset(line, 'x', big);
			nap_emit_raw(line, big);
			nap_emit_raw("{\"type\":\"T\"}", 12);
			nap_emit_raw("{\"type\":\"U\"}", 12);
		}
		free(line);
		if (die)
			nap_die(NAP_EX_DATAERR, "stopping here");
		_exit(nap_exit(0));
	}
	close(errp[1]);
	slurp(errp[0], errbuf, sizeof(errbuf));
	close(errp[0]);
	waitpid(pid, &st, 0);
	return st;
}

/* Read every packet: count them, check each ends a record, return the bytes. */
static size_t
packets(int fd, char *all, size_t size, int *npk, int *whole, size_t *maxsmall)
{
	char pk[70000];
	size_t got = 0;
	ssize_t n;

	*npk = 0;
	*whole = 1;
	*maxsmall = 0;
	while ((n = recv(fd, pk, sizeof(pk), MSG_DONTWAIT)) > 0) {
		(*npk)++;
		if (pk[n - 1] != '\n')
			*whole = 0;
		if (pk[0] != 'x' && (size_t)n > *maxsmall)
			*maxsmall = (size_t)n;
		if (got + (size_t)n < size) {
			memcpy(all + got, pk, (size_t)n);
			got += (size_t)n;
		}
	}
	all[got] = '\0';
	return got;
}

/* -- options -------------------------------------------------------------- */

enum { O_CONFIG = 256, O_CONFIG_OUT, O_ONCE, O_SCALE, O_WAIT };

static const struct nap_opt test_opts[] = {
    {"config", O_CONFIG, "file", "read file"},
    {"config-out", O_CONFIG_OUT, "file", "write file"},
    {"once", O_ONCE, NULL, "once only"},
    {"scale", O_SCALE, "n", "a number from 1 to 10"},
    {"verbose", 'v', NULL, "more"},
    {"wait", O_WAIT, "duration", "at least 1ms"},
    {NULL, 0, NULL, NULL},
};

#define TEST_SYNOPSIS "t-prog [-hVv] [--config file] [--config-out file] [--once]"

static char out_opts[4096], err_opts[4096];

/*
 * Parse args (a NULL-ended list after argv[0]) in a child that prints what
 * it got on stdout, one "name=value" per option, and exits 0; fills
 * out_opts and err_opts and returns the child's exit status (or 128+signal).
 */
static int
parse_in_child(const char *const *args)
{
	int outp[2], errp[2], st;
	pid_t pid;

	if (pipe(outp) != 0 || pipe(errp) != 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *argv[16];
		struct nap_getopt g;
		int argc = 0, c;

		argv[argc++] = (char *)(uintptr_t) "./some/dir/t-prog-binary";
		while (args[argc - 1] != NULL && argc < 15) {
			argv[argc] = (char *)(uintptr_t)args[argc - 1];
			argc++;
		}
		argv[argc] = NULL;
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		close(outp[0]);
		close(errp[0]);
		nap_prog_init("t-prog");
		nap_getopt_init(&g, test_opts, TEST_SYNOPSIS);
		while ((c = nap_getopt(&g, argc, argv)) != -1) {
			switch (c) {
			case O_SCALE:
				printf("%s=%ld\n", g.name, nap_opt_long(&g, 1, 10));
				break;
			case O_WAIT:
				printf("%s=%lld\n", g.name, (long long)nap_opt_duration(&g, 1));
				break;
			default:
				printf("%s=%s\n", g.name, g.arg ? g.arg : "");
			}
		}
		_exit(nap_exit(0));
	}
	close(outp[1]);
	close(errp[1]);
	slurp(outp[0], out_opts, sizeof(out_opts));
	slurp(errp[0], err_opts, sizeof(err_opts));
	close(outp[0]);
	close(errp[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
usage_error(int st)
{
	return st == NAP_EX_USAGE && strstr(err_opts, "t-prog: fatal: ") == err_opts &&
	    strstr(err_opts, "\nusage: " TEST_SYNOPSIS "\n") != NULL;
}

/* A check that shows the child's output, line by line, when it fails. */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!TAP_OK(cond, __VA_ARGS__))                                                    \
			diag();                                                                    \
	} while (0)

static void
diag(void)
{
	const char *bufs[2] = {out_opts, err_opts};

	for (int i = 0; i < 2; i++)
		for (const char *p = bufs[i]; *p;) {
			size_t n = strcspn(p, "\n");

			printf("#   %s: %.*s\n", i ? "stderr" : "stdout", (int)n, p);
			p += n + (p[n] == '\n');
		}
}

static void
test_options(void)
{
	int st;

	st = parse_in_child((const char *[]){"--config", "a", "--config-out=b", "-vv", "--once",
	    "--scale", "7", "--wait", "2s", NULL});
	TAP_IS_INT(st, 0, "exact long options, =values, short clusters parse");
	TAP_IS_STR(out_opts, "--config=a\n--config-out=b\n-v=\n-v=\n--once=\n--scale=7\n--wait=2000\n",
	    "each option comes back with its value and the name it was written as");

	st = parse_in_child((const char *[]){"--config-out", "F", "--conf", "F", NULL});
	CHECK(usage_error(st), "an abbreviation is a usage error, even after good options");
	CHECK(strstr(err_opts, "unknown option --conf (long options are never abbreviated: "
				"--config?)") != NULL,
	    "and the message names it and what it may have meant");

	/* "--config-o" is an unambiguous prefix: getopt_long alone takes it */
	st = parse_in_child((const char *[]){"--config-o", "F", NULL});
	CHECK(usage_error(st) && strstr(err_opts, "--config-out?"),
	    "an unambiguous prefix of an option is refused too");
	st = parse_in_child((const char *[]){"--onc", NULL});
	CHECK(usage_error(st), "so is a prefix of an option without a value");
	st = parse_in_child((const char *[]){"--once=yes", NULL});
	CHECK(usage_error(st) && strstr(err_opts, "option --once takes no value"),
	    "a value for an option that takes none is a usage error");
	st = parse_in_child((const char *[]){"--once", "--config", NULL});
	CHECK(usage_error(st) && strstr(err_opts, "option --config needs a value (file)"),
	    "a missing value is a usage error naming the option");
	st = parse_in_child((const char *[]){"-x", NULL});
	CHECK(usage_error(st) && strstr(err_opts, "unknown option -x"),
	    "an unknown short option is a usage error");
	st = parse_in_child((const char *[]){"--nope", NULL});
	CHECK(usage_error(st) && strstr(err_opts, "unknown option --nope\n"),
	    "an unknown long option is a usage error");
	st = parse_in_child((const char *[]){"--once", "operand", "--conf", "x", NULL});
	CHECK(usage_error(st) && strstr(err_opts, "unexpected argument \"operand\""),
	    "an operand is a usage error, and options after it are not taken");
	st = parse_in_child((const char *[]){"--config", "--conf", NULL});
	TAP_IS_INT(st, 0, "a value that looks like an option is still a value");
	TAP_IS_STR(out_opts, "--config=--conf\n", "and is returned as the value");
	st = parse_in_child((const char *[]){"--scale", "x", NULL});
	CHECK(usage_error(st) && strstr(err_opts, "--scale: \"x\" is not a whole number"),
	    "a bad number is a usage error, not a warning");
	st = parse_in_child((const char *[]){"--scale", "11", NULL});
	CHECK(usage_error(st) && strstr(err_opts, "--scale: 11 is out of range (1 to 10)"),
	    "a number out of range says the range");
	st = parse_in_child((const char *[]){"--wait", "0s", NULL});
	CHECK(usage_error(st), "a duration below the minimum is a usage error");
	CHECK(strstr(err_opts, "warning") == NULL, "no usage error says \"warning\"");

	st = parse_in_child((const char *[]){"--help", NULL});
	TAP_IS_INT(st, 0, "--help exits 0");
	CHECK(strncmp(out_opts, "usage: " TEST_SYNOPSIS "\n", strlen("usage: " TEST_SYNOPSIS "\n")) == 0 &&
		strstr(out_opts, "\n      --config-out file  write file\n") &&
		strstr(out_opts, "\n  -v, --verbose          more\n") &&
		strstr(out_opts, "\n  -V, --version ") && err_opts[0] == '\0',
	    "--help prints the usage and every option on stdout");
	st = parse_in_child((const char *[]){"-h", NULL});
	CHECK(st == 0 && strncmp(out_opts, "usage: ", 7) == 0, "-h is --help");
	st = parse_in_child((const char *[]){"--version", NULL});
	TAP_IS_INT(st, 0, "--version exits 0");
	TAP_IS_STR(out_opts, "t-prog " NAP_VERSION "\n",
	    "--version prints the tool's own name (not argv[0]) and the version");
	st = parse_in_child((const char *[]){"--vers", NULL});
	CHECK(usage_error(st), "--vers is not --version");
}

int
main(void)
{
	int fds[2], fd, st;
	char buf[256];
	ssize_t n;

	fd = open("/dev/full", O_WRONLY);
	st = emit_into(fd, 1);
	close(fd);
	TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == NAP_EX_IOERR,
	    "writing a record to /dev/full exits 74 (status %d)", st);
	TAP_IS_STR(errbuf,
	    "t-prog: fatal: unable to write records to stdout: No space left on device\n",
	    "and says why on stderr, named by the program's own name");

	if (pipe(fds) != 0)
		abort();
	close(fds[0]);
	st = emit_into(fds[1], 1);
	close(fds[1]);
	TAP_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE && errbuf[0] == '\0',
	    "writing to a closed pipe dies quietly of SIGPIPE (status %d)", st);

	if (pipe(fds) != 0)
		abort();
	st = emit_into(fds[1], 2);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = '\0';
	TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a good run exits 0");
	TAP_IS_STR(buf,
	    "{\"type\":\"X\",\"pad\":\"0123456789012345678901234567890\"}\n"
	    "{\"type\":\"X\",\"pad\":\"0123456789012345678901234567890\"}\n",
	    "records are written compactly, one per line");

	{
		static char all[200000];
		size_t total, maxsmall;
		int npk, whole, i, inorder = 1;
		char *p;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0)
			abort();
		st = emit_batched(fds[1], 200, 10000, 0);
		close(fds[1]);
		total = packets(fds[0], all, sizeof(all), &npk, &whole, &maxsmall);
		close(fds[0]);
		TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a batched run exits 0");
		TAP_OK(whole, "batched writes hold whole records only");
		TAP_OK(maxsmall <= PIPE_BUF, "no batched write is over PIPE_BUF (largest %zu)",
		    maxsmall);
		TAP_OK(npk < 200 / 10, "200 small records take few writes (%d)", npk);
		for (i = 0, p = all; i < 200 && p; i++) {
			char want[40];

			snprintf(want, sizeof(want), "{\"type\":\"S\",\"i\":%d,", i);
			inorder &= strncmp(p, want, strlen(want)) == 0;
			p = strchr(p, '\n');
			p = p ? p + 1 : NULL;
		}
		TAP_OK(inorder && p && p[0] == 'x' &&
			strstr(p, "\n{\"type\":\"T\"}\n{\"type\":\"U\"}\n"),
		    "records keep their order, the large one between the rest");
		{
			size_t want = 10001 + 13 + 13;
			char rec[80];

			for (i = 0; i < 200; i++)
				want += (size_t)snprintf(rec, sizeof(rec),
					    "{\"type\":\"S\",\"i\":%d,\"pad\":"
					    "\"0123456789012345678901\"}",
					    i) +
				    1;
			TAP_OK(total == want, "nothing is lost (%zu bytes of %zu)", total, want);
		}

		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0)
			abort();
		st = emit_batched(fds[1], 3, 0, 1);
		close(fds[1]);
		packets(fds[0], all, sizeof(all), &npk, &whole, &maxsmall);
		close(fds[0]);
		TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == NAP_EX_DATAERR && npk == 1 &&
			strstr(all, "\"i\":2,") != NULL,
		    "nap_die still writes the records it held (status %d, %d writes)", st, npk);
		TAP_IS_STR(errbuf, "t-prog: fatal: stopping here\n", "and says why on stderr");
	}
	test_options();
	return tap_done();
}
