/*
 * srv_sched.h — the scheduler of `wedge serve`: it takes routed requests
 * from the listener's loops (srv_sched_dispatch), applies admission
 * control, and runs each request in a fresh sandbox on the worker of the
 * loop that read it, as a user-level thread with its own stack, in EDF (or
 * FIFO) order, preempting with a per-worker timer; an idle worker steals
 * a not yet started job from a busy one.  Static routes (srv_static.h)
 * are answered at once, within srv_sched_dispatch.
 *
 * Threads: one event loop per worker (`settings->workers`), each on its
 * worker's thread (loop 0: the caller of srv_sched_attach).  A loop calls
 * srv_sched_dispatch (never blocks: admission, one allocation, a locked
 * push onto its worker's queue) and, between its rounds of events, runs
 * its worker's sandboxes (srv_sched_attach sets that up), so a request
 * never leaves its loop's thread unless another worker steals it; loop 0
 * also calls srv_sched_metrics (GET /metrics) and srv_sched_reload.
 * Every job gets one srv_complete(), to the loop that read it.
 *
 * Ownership and order: srv_sched_new borrows cfg (it must outlive the
 * scheduler) and loads every route's module; srv_sched_attach, on the
 * thread that will run loop 0, before it runs, gives the scheduler the
 * listener and starts the other loops;
 * srv_sched_free (same thread), after
 * srv_listener_run returns and before srv_listener_free, answers what is
 * still queued and joins the workers.
 */
#ifndef WEDGE_SRV_SCHED_H
#define WEDGE_SRV_SCHED_H

#include <stdio.h>

#include "srv_listen.h"

typedef struct srv_sched srv_sched;

SRV_WARN_UNUSED srv_sched *srv_sched_new(const srv_config *cfg, const srv_settings *settings, srv_err *err);
/* Gives the scheduler the listener and makes one event loop per worker
 * (srv_listener_add_loops): this thread is loop 0's and worker 0's, a
 * thread per other worker runs its loop.  False + err when a loop or
 * thread cannot be made (then srv_listener_stop, srv_sched_free). */
SRV_WARN_UNUSED bool srv_sched_attach(srv_sched *s, srv_listener *l, srv_err *err);
/* The srv_dispatch_fn to give the listener, with the scheduler as `ud`. */
void srv_sched_dispatch(void *ud, const srv_request *req);
/* Appends the scheduler's Prometheus series to f (loop 0's thread). */
void srv_sched_metrics(void *ud, FILE *f);
void srv_sched_free(srv_sched *s);
/* For a sandbox waiting in a host call (a Dagger http(s) request): if any
 * job waits for a worker, the calling sandbox goes back to its worker's
 * queue, ranked after every job that can still make its deadline, and the
 * worker runs the others; returns when the sandbox is resumed (on the same
 * worker).  Returns at once when nothing waits or when not called from a
 * sandbox.  Normal (not signal) context, on the sandbox's own stack. */
void srv_sched_wait_yield(void);
/* SIGHUP (loop 0's thread, after it took its queued completions): load
 * cfg's functions and serve new requests with them; requests in flight
 * finish with the old ones.  On success the scheduler owns cfg (a heap
 * object, freed with srv_config_free + free); false + err if a route
 * cannot be loaded, and nothing changed. */
SRV_WARN_UNUSED bool srv_sched_reload(srv_sched *s, srv_config *cfg, srv_err *err);

#endif
