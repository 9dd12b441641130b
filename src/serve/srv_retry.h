/*
 * srv_retry.h — one background attempt at a time, with back-off: what a
 * store route uses to get something from the store off the request path
 * (the lazy route's fill of the node cache, srv_lazy.c; the fetch of a
 * route that was 503 because its store was down, srv_refetch.c).  A
 * request (on any thread) kicks it; the attempt runs on its own thread;
 * after a failed attempt the next waits 0.5 s, doubling up to 30 s.
 *
 * Ownership: the caller owns the srv_retry (init, then join before freeing
 * what the attempt uses).
 * Errors: srv_retry_kick: false when no attempt was started (one runs,
 * the back-off has not passed, or no thread could be made).
 * Threads: kick from any thread; srv_retry_done from the attempt's thread
 * as its last use of the srv_retry; join from the owner, once, last.
 */
#ifndef WEDGE_SRV_RETRY_H
#define WEDGE_SRV_RETRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SRV_RETRY_FIRST_NS 500000000ull    /* the wait after the first failed attempt */
#define SRV_RETRY_MAX_NS 30000000000ull    /* it doubles up to this */

typedef struct srv_retry {
    pthread_mutex_t mu;                 /* everything below */
    bool started, busy;
    pthread_t thread;
    uint64_t next_ns;                   /* earliest next attempt (CLOCK_MONOTONIC) */
    uint64_t wait_ns;                   /* the wait after the next failure */
} srv_retry;

void srv_retry_init(srv_retry *t);
/* Starts run(arg) on a new thread unless an attempt runs or failed too
 * recently (a finished thread is joined first: cheap, it has ended). */
bool srv_retry_kick(srv_retry *t, void *(*run)(void *), void *arg);
/* The attempt's outcome: a failure pushes the next attempt back.  Returns
 * the wait before the next attempt (0 after a success). */
uint64_t srv_retry_done(srv_retry *t, bool ok);
/* Waits for an attempt in flight (bounded by the store timeout). */
void srv_retry_join(srv_retry *t);

#endif
