/*
 * thread.c - helper threads with every signal blocked (contract in thread.h).
 */
#include <time.h>

#include "thread.h"

void
nap_thread_sigblock(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, old);
}

void
nap_thread_sigrestore(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int
nap_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t old;
	int e;

	nap_thread_sigblock(&old);
	e = pthread_create(t, NULL, fn, arg);
	nap_thread_sigrestore(&old);
	return e;
}

void
nap_thread_deadline(struct timespec *at, long ms)
{
	clock_gettime(CLOCK_REALTIME, at);
	at->tv_sec += ms / 1000;
	at->tv_nsec += (ms % 1000) * 1000000L;
	if (at->tv_nsec >= 1000000000L) {
		at->tv_sec++;
		at->tv_nsec -= 1000000000L;
	}
}
