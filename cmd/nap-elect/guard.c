/*
 * guard.c - the process that keeps nap-elect's command from outliving the
 * lease (elect.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elect.h"

/* In the command's process, before exec: the dispositions a fresh program expects. */
static void
exec_command(char **cmd)
{
	sigset_t none;

	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	execvp(cmd[0], cmd);
	fprintf(stderr, "nap-elect: fatal: unable to run %s: %s\n", cmd[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* SIGTERM to the group, SIGKILL after grace_ms, then end with SIGUSR2. */
static void
kill_group(pid_t pid, int64_t grace_ms)
{
	int64_t until = elect_mono_ms() + grace_ms;
	int st;

	kill(-pid, SIGTERM);
	while (elect_mono_ms() < until && waitpid(pid, &st, WNOHANG) == 0)
		poll(NULL, 0, 20);
	/* the leader's end is not the group's: stragglers get SIGKILL either way */
	kill(-pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	signal(SIGUSR2, SIG_DFL);
	raise(SIGUSR2);
	_exit(1);
}

static void
guard_main(int fd, char **cmd, int64_t renew_ms, int64_t grace_ms)
{
	int64_t deadline = elect_mono_ms() + renew_ms;
	pid_t pid = fork();
	int st;

	if (pid < 0) {
		fprintf(stderr, "nap-elect: fatal: unable to fork: %s\n", strerror(errno));
		_exit(71);
	}
	if (pid == 0) {
		close(fd);
		exec_command(cmd);
	}
	setpgid(pid, pid); /* also here, so no kill can come before the child's own setpgid */
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t now = elect_mono_ms(), t;
		ssize_t n;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			kill(-pid, SIGTERM); /* what the command left behind */
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		}
		if (now >= deadline)
			kill_group(pid, grace_ms);
		if (poll(&p, 1, deadline - now > 100 ? 100 : (int)(deadline - now)) <= 0)
			continue;
		n = read(fd, &t, sizeof(t));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			kill_group(pid, grace_ms); /* nap-elect closed the lifeline, or died */
		if (n == (ssize_t)sizeof(t) && t + renew_ms > deadline)
			deadline = t + renew_ms;
	}
}

int
guard_start(struct guard *g, char **cmd, int64_t renew_ms, int64_t grace_ms)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		guard_main(p[0], cmd, renew_ms, grace_ms);
	}
	close(p[0]);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	g->pid = pid;
	g->lifeline = p[1];
	return 0;
}

void
guard_renewed(struct guard *g, int64_t now_ms)
{
	if (g->lifeline >= 0 && write(g->lifeline, &now_ms, sizeof(now_ms)) < 0) {
		/* the guard is gone or slow: guard_reap sees to the first, the deadline to the second */
	}
}

static void
closed(struct guard *g)
{
	if (g->lifeline >= 0)
		close(g->lifeline);
	g->lifeline = -1;
	g->pid = 0;
}

int
guard_reap(struct guard *g, int *status)
{
	if (!g->pid || waitpid(g->pid, status, WNOHANG) != g->pid)
		return 0;
	closed(g);
	return 1;
}

int
guard_killed(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR2;
}

void
guard_stop(struct guard *g)
{
	int st;

	if (!g->pid)
		return;
	close(g->lifeline);
	g->lifeline = -1;
	while (waitpid(g->pid, &st, 0) < 0 && errno == EINTR)
		;
	closed(g);
}
