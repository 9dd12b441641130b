/*
 * srv_job.c — what both the dispatcher (srv_sched.c) and the workers
 * (srv_worker.c) do to jobs: the clock their keys and deadlines use,
 * publishing the queues' minimum keys for the tick handler, and answering
 * a finished job.  Calls only down (srv_heap.c, the listener's
 * srv_complete, metrics, admission), never into srv_sched.c or
 * srv_worker.c, so the two of those stay a layer apart.
 */
#include <stdlib.h>

#include "srv_sched_internal.h"
#include "util/util.h"


/* ---- queue minimums (mu held) ---------------------------------------------- */

void srv_job_publish_mins(srv_sched *s, srv_worker *w)
{
    srv_job *g = srv_heap_top(&s->global);
    atomic_store(&s->global_min, g ? g->key : SRV_KEY_NONE);
    if (w) {
        srv_job *t = srv_heap_top(&w->local);
        atomic_store(&w->local_min, t ? t->key : SRV_KEY_NONE);
    }
}

/* ---- completion (the worker that ran it, or the dispatching loop for a job never started) */

void srv_job_finish(srv_sched *s, srv_job *j)
{
    srv_outcome *o = &j->out;
    const srv_request *req = j->req;
    srv_fn *fn = j->fn;
    uint64_t exec_us = o->exec_ns / 1000;
    int status = o->status ? o->status : 500;
    /* Stopped because its client left: the trap that stopped it was no
     * timeout, and the status (never sent) is nginx's 499. */
    if (j->cancelled) {
        status = 499;
        o->timed_out = false;
        atomic_fetch_add(&s->n_cancelled, 1);
    }
    /* req belongs to the listener again once srv_complete is called (it
     * may free it at once): read what the metrics need first. */
    uint64_t arrival_ns = req->arrival_ns;
    /* The share goes back before the response is handed over: a client
     * that sends its next request the moment it reads this answer must
     * find this one's load released, or admission would refuse it (429)
     * on an idle server.  Only runs that executed to their end teach the
     * estimator something. */
    srv_admit_done(&s->admit, &fn->admit, j->share, exec_us, j->started && !j->cancelled);
    /* A HEAD request gets the headers only; the listener drops the body. */
    srv_complete(j->l ? j->l : s->l, req, status, o->content_type ? o->content_type : "text/plain", o->headers, o->nheaders,
                 o->body, o->body_len);
    uint64_t now = ut_mono_ns();
    srv_metrics_observe(fn->metrics, status, now > arrival_ns ? (now - arrival_ns) / 1000 : 0,
                        now > j->deadline_ns);
    if (o->trapped)
        atomic_fetch_add_explicit(&fn->metrics->traps, 1, memory_order_relaxed);
    if (o->timed_out)
        atomic_fetch_add_explicit(&fn->metrics->timeouts, 1, memory_order_relaxed);
    srv_outcome_release(o);
    atomic_fetch_add(&s->n_completed, 1);
    srv_gen *gen = j->gen;
    free(j);
    /* Last: the generation (routes, modules, pools) may be freed from here on. */
    atomic_fetch_sub_explicit(&gen->refs, 1, memory_order_release);
}

