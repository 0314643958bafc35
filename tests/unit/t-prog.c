/* Unit tests for lib/prog: output failures end the way the contract says. */
#include "prog.h"
#include "tap.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
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
	return tap_done();
}
