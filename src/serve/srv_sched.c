/*
 * srv_sched.c — the listener's dispatch callback (admission control and
 * queueing), metrics, generations (reload) and lifecycle.  The queues are
 * srv_heap.c, answering a job srv_job.c, the worker threads and the
 * sandboxes' user-level threads srv_worker.c.
 */
#define _GNU_SOURCE
#include "srv_sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_log.h"
#include "srv_refetch.h"
#include "srv_static.h"
#include "util/util.h"

/* ---- dispatch (a loop's thread) ------------------------------------------------ */

static void answer_now(srv_listener *l, srv_fn *fn, const srv_request *req, int status, const char *body,
                       const http_header *hdr, size_t nhdr)
{
    uint64_t arrival_ns = req->arrival_ns;     /* req is the listener's again after srv_complete */
    srv_complete(l, req, status, "application/json", hdr, nhdr, body, strlen(body));
    if (fn) {
        uint64_t now = ut_mono_ns();
        srv_metrics_observe(fn->metrics, status, now > arrival_ns ? (now - arrival_ns) / 1000 : 0,
                            false);
    }
}

void srv_sched_dispatch(void *ud, const srv_request *req)
{
    srv_sched *s = ud;
    /* This loop's worker, its generation (the one its routes come from)
     * and itself: the job is queued here and answered here. */
    srv_worker *w = srv_workers_self();
    srv_listener *l = w ? w->loop : s->l;
    srv_fn *fn = srv_fnset_find(&(w && w->gen ? w->gen : s->gen)->fns, req->route);
    if (!fn) {
        answer_now(l, NULL, req, 500, "{\"error\":\"no function for this route\"}\n", NULL, 0);
        return;
    }
    /* A store route that was 503 since its store was down: swapped in if a
     * background attempt loaded it, else one is kicked (srv_refetch.h).
     * Any loop may do it: one at a time, and the kind read under the same
     * lock (a swap happens only to a broken function, so a kind other
     * than broken read here stays). */
    srv_fn_kind kind;
    if (req->route->remote) {
        pthread_mutex_lock(&s->refetch_mu);
        if (fn->kind == SRV_FN_BROKEN && fn->store_down)
            (void)srv_refetch_poll(fn);
        kind = fn->kind;
        pthread_mutex_unlock(&s->refetch_mu);
    } else {
        kind = fn->kind;
    }
    if (kind == SRV_FN_STATIC) {
        uint64_t arrival_ns = req->arrival_ns;     /* req is the listener's again after srv_complete */
        int status = srv_static_answer(l, fn, req);
        uint64_t now = ut_mono_ns();
        srv_metrics_observe(fn->metrics, status, now > arrival_ns ? (now - arrival_ns) / 1000 : 0, false);
        return;
    }
    if (kind == SRV_FN_BROKEN) {
        answer_now(l, fn, req, 503, "{\"error\":\"function unavailable\"}\n", NULL, 0);
        return;
    }
    double share;
    uint32_t retry;
    if (!srv_admit_try(&s->admit, &fn->admit, &share, &retry)) {
        atomic_fetch_add_explicit(&fn->metrics->rejected, 1, memory_order_relaxed);
        char ra[16];
        snprintf(ra, sizeof ra, "%u", retry);
        http_header h = { .name = "Retry-After", .name_len = 11, .value = ra, .value_len = strlen(ra) };
        answer_now(l, fn, req, 429, "{\"error\":\"not admitted\"}\n", &h, 1);
        return;
    }
    atomic_fetch_add_explicit(&fn->metrics->admitted, 1, memory_order_relaxed);
    srv_job *j = calloc(1, sizeof *j);
    if (!j) {
        srv_admit_done(&s->admit, &fn->admit, share, 0, false);
        answer_now(l, fn, req, 503, "{\"error\":\"out of memory\"}\n", NULL, 0);
        return;
    }
    const srv_route *r = req->route;
    uint64_t timeout_us = r->timeout_us ? r->timeout_us : SRV_DEFAULT_TIMEOUT_US;
    j->req = req;
    j->fn = fn;
    j->gen = w && w->gen ? w->gen : s->gen;
    j->owner = w;
    j->l = l;
    atomic_fetch_add(&j->gen->refs, 1);
    j->share = share;
    j->deadline_ns = req->arrival_ns + r->relative_deadline_us * 1000u;
    j->kill_ns = req->arrival_ns + timeout_us * 1000u;
    j->key = s->settings.scheduler == SRV_SCHED_FIFO ? req->arrival_ns : j->deadline_ns;
    j->state = JOB_QUEUED;
    /* Into this loop's own queue: its loop runs it after this round of
     * events (EDF among its jobs), unless an idle loop steals it first.
     * Once the lock is dropped, another worker may take the job, run it
     * and free it (srv_job_finish): nothing of it is read after. */
    pthread_mutex_lock(&s->mu);
    j->seq = s->seq++;
    /* A bounded queue: with admission control off (or estimates far off),
     * overload must end in a quick 503, not in unbounded memory and waits. */
    bool ok = atomic_load(&s->n_queued) < s->settings.max_queue && srv_heap_push(w ? &w->local : &s->global, j);
    bool more = false;
    if (ok) {
        srv_job_publish_mins(s, w);
        atomic_fetch_add(&s->n_queued, 1);
        more = w && w->local.n >= 2;
    }
    pthread_mutex_unlock(&s->mu);
    /* More queued here than this loop runs next: wake one sleeping loop
     * to steal (a loop busy with its own work steals when it is done). */
    for (unsigned i = 0; more && i < s->nstarted; i++)
        if (&s->w[i] != w && srv_listener_wake_idle(s->w[i].loop))
            break;
    if (!ok) {
        srv_admit_done(&s->admit, &fn->admit, share, 0, false);
        atomic_fetch_sub(&j->gen->refs, 1);
        free(j);
        answer_now(l, fn, req, 503, "{\"error\":\"queue full\"}\n", NULL, 0);
    }
}

/* ---- metrics ------------------------------------------------------------------------- */

void srv_sched_metrics(void *ud, FILE *f)
{
    srv_sched *s = ud;
    srv_sched_gauges g = {
        .queued = atomic_load(&s->n_queued),
        .running = atomic_load(&s->n_running),
        .preempted = atomic_load(&s->n_preempted),
        .completed = atomic_load(&s->n_completed),
        .preemptions = atomic_load(&s->n_preemptions),
        .steals = atomic_load(&s->n_steals),
        .cancelled = atomic_load(&s->n_cancelled),
        .handed_off = atomic_load(&s->n_handed_off),
    };
    srv_metrics_render(f, &s->gen->fns, &s->admit, &g);
}

/* ---- generations (loop 0's thread) ------------------------------------------------------ */

static void gen_free(srv_gen *g, unsigned nworkers)
{
    if (!g)
        return;
    /* No job of g remains: every instance gave its memory back. */
    for (size_t i = 0; i < g->fns.n; i++) {
        srv_fn *fn = &g->fns.fns[i];
        srv_metrics_route_release(fn->metrics);
        fn->metrics = NULL;
        for (unsigned w = 0; fn->pools && w < nworkers; w++)
            rt_mempool_free(fn->pools[w]);
        free(fn->pools);
        fn->pools = NULL;
    }
    srv_fnset_free(&g->fns);
    if (g->cfg) {
        srv_config_free(g->cfg);
        free(g->cfg);
    }
    free(g);
}

/* Loads cfg's functions into a new generation; with `strict`, a route
 * that cannot be loaded fails the whole generation (a reload keeps the
 * old one then) instead of answering 503 -- except a store route whose
 * store cannot be reached and which this node never fetched: that is the
 * store's state, not the configuration's, and must not hold back every
 * other route's reload (srv_remote.h). */
static srv_gen *gen_new(srv_sched *s, const srv_config *cfg, bool strict, srv_err *err)
{
    srv_gen *g = calloc(1, sizeof *g);
    if (!g) {
        srv_fail(err, "serve: out of memory");
        return NULL;
    }
    atomic_store(&g->refs, 1);
    g->fns.admin_port = s->settings.admin_port;
    if (!srv_fnset_load(&g->fns, cfg, err)) {
        srv_fnset_free(&g->fns);
        free(g);
        return NULL;
    }
    for (size_t i = 0; i < g->fns.n; i++) {
        srv_fn *fn = &g->fns.fns[i];
        if (strict && fn->kind == SRV_FN_BROKEN && !fn->route->remote) {
            srv_fail(err, "route %s: %s", fn->route->name, fn->broken);
            gen_free(g, s->settings.workers);
            return NULL;
        }
        /* A route of the current generation with the same name (tenant
         * and route) passes its counters on: they survive the reload. */
        srv_route_metrics *m = NULL;
        for (size_t k = 0; s->gen && k < s->gen->fns.n && !m; k++)
            if (!strcmp(s->gen->fns.fns[k].route->name, fn->route->name))
                m = s->gen->fns.fns[k].metrics;
        if (m)
            srv_metrics_route_hold(m);
        else if (!(m = srv_metrics_route_new())) {
            srv_fail(err, "serve: out of memory");
            gen_free(g, s->settings.workers);
            return NULL;
        }
        fn->metrics = m;
        /* Without pools a function still runs, on fresh memories. */
        fn->pools = calloc(s->settings.workers, sizeof *fn->pools);
    }
    return g;
}

bool srv_sched_reload(srv_sched *s, srv_config *cfg, srv_err *err)
{
    srv_gen *g = gen_new(s, cfg, true, err);
    if (!g)
        return false;
    g->cfg = cfg;
    /* Free retired generations whose jobs are all done.  The listener took
     * every completion queued so far before calling: a job's completion is
     * queued before its reference goes, so nothing it still has to log
     * points into them. */
    for (srv_gen **pp = &s->retired; *pp;) {
        srv_gen *r = *pp;
        if (atomic_load_explicit(&r->refs, memory_order_acquire) == 0) {
            *pp = r->next;
            gen_free(r, s->settings.workers);
        } else {
            pp = &r->next;
        }
    }
    srv_gen *old = s->gen;
    s->gen = g;
    atomic_fetch_sub(&old->refs, 1);
    old->next = s->retired;
    s->retired = old;
    return true;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

srv_sched *srv_sched_new(const srv_config *cfg, const srv_settings *settings, srv_err *err)
{
    srv_sched *s = calloc(1, sizeof *s);
    if (!s) {
        srv_fail(err, "serve: out of memory");
        return NULL;
    }
    s->settings = *settings;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->refetch_mu, NULL);
    atomic_store(&s->global_min, SRV_KEY_NONE);
    srv_admit_init(&s->admit, settings->workers, settings->admission);
    if (!(s->gen = gen_new(s, cfg, false, err)) || !srv_workers_start(s, err)) {
        srv_sched_free(s);
        return NULL;
    }
    return s;
}

static int run_here(void *ud) { return srv_workers_run_here(ud); }

/* On a loop's thread after it took a new configuration: its worker
 * routes with the generation that loads it from now on. */
static void take_gen(void *ud)
{
    srv_sched *s = ud;
    srv_worker *w = srv_workers_self();
    if (!w || w->gen == s->gen)
        return;
    srv_gen *old = w->gen;
    atomic_fetch_add(&s->gen->refs, 1);
    w->gen = s->gen;
    atomic_fetch_sub_explicit(&old->refs, 1, memory_order_release);
}

bool srv_sched_attach(srv_sched *s, srv_listener *l, srv_err *err)
{
    pthread_mutex_lock(&s->mu);
    s->l = l;
    pthread_mutex_unlock(&s->mu);
    /* One event loop per worker, each on the worker's thread: a request
     * that a loop reads it also runs and answers, with no hand-off. */
    if (!srv_listener_add_loops(l, s->nw, err))
        return false;
    for (unsigned i = 0; i < s->nw; i++) {
        srv_worker *w = &s->w[i];
        w->loop = srv_listener_loop(l, i);
        w->gen = s->gen;
        atomic_fetch_add(&s->gen->refs, 1);
        srv_listener_set_runner(w->loop, run_here, s);
        srv_listener_set_sync(w->loop, take_gen, s);
    }
    return srv_workers_loops(s, err);
}

void srv_sched_free(srv_sched *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->quit = true;
    pthread_mutex_unlock(&s->mu);
    srv_workers_join(s);        /* they answer what is queued first */
    srv_heap_free(&s->global);
    /* The workers are joined: every job has finished. */
    gen_free(s->gen, s->settings.workers);
    while (s->retired) {
        srv_gen *r = s->retired;
        s->retired = r->next;
        gen_free(r, s->settings.workers);
    }
    srv_admit_destroy(&s->admit);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->refetch_mu);
    free(s);
}
