/* Unit tests for lib/prog: output failures end the way the contract says. */
#include "prog.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The children's stderr goes to a temporary file between err_capture and
 * err_release, which returns what they wrote: the messages the failures
 * must print are checked, and none leaks into the test run's output.
 */
static FILE *err_file;
static int err_saved = -1;

static void
err_capture(void)
{
	fflush(stderr);
	err_file = tmpfile();
	err_saved = dup(2);
	if (err_file == NULL || err_saved < 0 || dup2(fileno(err_file), 2) < 0)
		abort();
}

static const char *
err_release(char *buf, size_t size)
{
	size_t n;

	fflush(stderr);
	dup2(err_saved, 2);
	close(err_saved);
	rewind(err_file);
	n = fread(buf, 1, size - 1, err_file);
	buf[n] = '\0';
	fclose(err_file);
	return buf;
}

/* One line, "t-prog: ", then every one of the fragments, in order. */
static int
err_says(const char *got, const char *a, const char *b)
{
	const char *p = got;

	if (strncmp(p, "t-prog: ", 8) != 0 || strchr(p, '\n') != p + strlen(p) - 1)
		return 0;
	if ((p = strstr(p, a)) == NULL)
		return 0;
	return b == NULL || strstr(p, b) != NULL;
}

/* Run nap_emit in a child whose stdout is fd; return its wait status. */
static int
emit_into(int fd, int count)
{
	pid_t pid;
	int st;

	fflush(stdout); /* the child must not inherit our buffered TAP lines */
	pid = fork();
	if (pid == 0) {
		char name[] = "t-prog", *argv[] = {name, NULL};
		json_object *o;
		int i;

		nap_prog_init(1, argv);
		dup2(fd, 1);
		o = json_tokener_parse(
		    "{\"type\":\"X\",\"pad\":\"0123456789012345678901234567890\"}");
		for (i = 0; i < count; i++)
			nap_emit(o);
		json_object_put(o);
		_exit(nap_exit(0));
	}
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
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char name[] = "t-prog", *argv[] = {name, NULL};
		char *line = malloc(big + 1);
		int i;

		nap_prog_init(1, argv);
		dup2(fd, 1);
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

int
main(void)
{
	int fds[2], fd, st;
	char buf[256], err[1024];
	ssize_t n;

	fd = open("/dev/full", O_WRONLY);
	err_capture();
	st = emit_into(fd, 1);
	err_release(err, sizeof(err));
	close(fd);
	TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == NAP_EX_IOERR,
	    "writing a record to /dev/full exits 74 (status %d)", st);
	if (!TAP_OK(err_says(err, "stdout", strerror(ENOSPC)),
		"and says on one stderr line that stdout is full"))
		printf("#   stderr: %s\n", err);

	if (pipe(fds) != 0)
		abort();
	close(fds[0]);
	err_capture();
	st = emit_into(fds[1], 1);
	err_release(err, sizeof(err));
	close(fds[1]);
	TAP_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE && err[0] == '\0',
	    "writing to a closed pipe dies quietly of SIGPIPE (status %d, stderr \"%s\")", st, err);

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
		err_capture();
		st = emit_batched(fds[1], 3, 0, 1);
		err_release(err, sizeof(err));
		close(fds[1]);
		packets(fds[0], all, sizeof(all), &npk, &whole, &maxsmall);
		close(fds[0]);
		TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == NAP_EX_DATAERR && npk == 1 &&
			strstr(all, "\"i\":2,") != NULL,
		    "nap_die still writes the records it held (status %d, %d writes)", st, npk);
		if (!TAP_OK(err_says(err, "stopping here", NULL), "and prints its one message"))
			printf("#   stderr: %s\n", err);
	}
	return tap_done();
}
