/*
 * srv_sched.h — the scheduler of `wedge serve`: it takes routed requests
 * from the listener (srv_sched_dispatch), applies admission control, and
 * runs each request in a fresh sandbox on a worker thread, as a user-level
 * thread with its own stack, in EDF (or FIFO) order, preempting with a
 * per-worker timer.  Static routes (srv_static.h) are answered at once,
 * within srv_sched_dispatch.
 *
 * Threads:
 *  - the listener thread calls srv_sched_dispatch (never blocks: admission,
 *    one allocation, a locked push onto the global queue) and
 *    srv_sched_metrics (for GET /metrics); with `settings->workers` == 1
 *    it is also the worker: between its rounds of events its loop runs
 *    the queued sandboxes itself (srv_sched_attach sets that up), so a
 *    request never leaves the listener's thread;
 *  - with more, `settings->workers` worker threads run the sandboxes;
 *    every worker calls srv_complete() once per request it ran.
 *
 * Ownership and order: srv_sched_new borrows cfg (it must outlive the
 * scheduler) and loads every route's module; srv_sched_attach, on the
 * thread that will run the listener, before it runs, gives the scheduler
 * the listener (and with one worker makes that thread the worker);
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
void srv_sched_attach(srv_sched *s, srv_listener *l);
/* The srv_dispatch_fn to give the listener, with the scheduler as `ud`. */
void srv_sched_dispatch(void *ud, const srv_request *req);
/* Appends the scheduler's Prometheus series to f (listener thread). */
void srv_sched_metrics(void *ud, FILE *f);
void srv_sched_free(srv_sched *s);
/* For a sandbox waiting in a host call (a Dagger http(s) request): if any
 * job waits for a worker, the calling sandbox goes back to its worker's
 * queue, ranked after every job that can still make its deadline, and the
 * worker runs the others; returns when the sandbox is resumed (on the same
 * worker).  Returns at once when nothing waits or when not called from a
 * sandbox.  Normal (not signal) context, on the sandbox's own stack. */
void srv_sched_wait_yield(void);
/* SIGHUP (listener thread, after it took the queued completions): load
 * cfg's functions and serve new requests with them; requests in flight
 * finish with the old ones.  On success the scheduler owns cfg (a heap
 * object, freed with srv_config_free + free); false + err if a route
 * cannot be loaded, and nothing changed. */
SRV_WARN_UNUSED bool srv_sched_reload(srv_sched *s, srv_config *cfg, srv_err *err);

#endif
