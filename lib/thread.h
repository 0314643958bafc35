/*
 * thread.h - threads that never take a signal: the helper threads of lib/
 * (metrics writer, metrics endpoint, events poster) start with every signal
 * blocked, so SIGTERM and friends always reach the thread that polls the
 * tool's input and can stop it.
 *
 * Errors: nap_thread_create returns 0, or the pthread_create error number.
 */
#ifndef NAP_THREAD_H
#define NAP_THREAD_H

#include <pthread.h>
#include <signal.h>

int nap_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);
/* Block every signal in this thread, keeping the old mask in *old ... */
void nap_thread_sigblock(sigset_t *old);
/* ... and put it back, once the threads that should inherit it are started. */
void nap_thread_sigrestore(const sigset_t *old);
/* now + ms on CLOCK_REALTIME, for pthread_cond_timedwait. */
struct timespec;
void nap_thread_deadline(struct timespec *at, long ms);

#endif
