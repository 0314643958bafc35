/*
 * elect.h - nap-elect's guard: the process between nap-elect and the
 * command, which kills the command's process group when told to, when
 * nap-elect dies, or when the renewal deadline passes.
 *
 * nap-elect and the guard share a pipe, the lifeline: nap-elect writes the
 * monotonic time (ms) of each try that renewed the lease; the guard kills
 * the command renew_ms after the last one, or as soon as the pipe ends
 * (nap-elect closed it, or died).  Killing is SIGTERM to the command's
 * process group, SIGKILL after grace_ms; the guard then ends itself with
 * SIGUSR2, so that nap-elect can tell "stopped by the guard" from any exit
 * status of the command, which the guard otherwise passes on (its code, or
 * 128 + its signal).
 */
#ifndef NAP_ELECT_H
#define NAP_ELECT_H

#include <stdint.h>
#include <sys/types.h>

struct guard {
	pid_t pid;    /* the guard, 0 when none */
	int lifeline; /* write end of the lifeline, -1 when none */
};

int64_t elect_mono_ms(void);

/* Fork the guard, which runs cmd in a process group of its own.  0, or -1 with errno. */
int guard_start(struct guard *g, char **cmd, int64_t renew_ms, int64_t grace_ms);
/* Tell the guard the lease was renewed by the try that started at now_ms. */
void guard_renewed(struct guard *g, int64_t now_ms);
/* 1 with *status when the guard has ended (and is reaped), else 0. */
int guard_reap(struct guard *g, int *status);
/* 1 when the guard's status says it stopped the command itself. */
int guard_killed(int status);
/* Close the lifeline and wait for the guard to stop the command and end. */
void guard_stop(struct guard *g);

#endif
