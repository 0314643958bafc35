/* Unit tests for lib/prog: output failures end the way the contract says. */
#include "prog.h"
#include "tap.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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
	char buf[256];
	ssize_t n;

	fd = open("/dev/full", O_WRONLY);
	st = emit_into(fd, 1);
	close(fd);
	TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == NAP_EX_IOERR,
	    "writing a record to /dev/full exits 74 (status %d)", st);

	if (pipe(fds) != 0)
		abort();
	close(fds[0]);
	st = emit_into(fds[1], 1);
	close(fds[1]);
	TAP_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE,
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
	}
	return tap_done();
}
