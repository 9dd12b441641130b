/*
 * srv_sched.c — the scheduler's queues, the listener's dispatch callback
 * (admission control and queueing), metrics and lifecycle.  The worker
 * threads and the sandboxes' user-level threads are in srv_worker.c.
 */
#define _GNU_SOURCE
#include "srv_sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_log.h"
#include "util/util.h"

/* ---- binary min-heap on (key, seq) ------------------------------------------ */

static bool job_less(const srv_job *a, const srv_job *b)
{
    return a->key != b->key ? a->key < b->key : a->seq < b->seq;
}

static void heap_swap(srv_heap *h, size_t i, size_t k)
{
    srv_job *t = h->v[i];
    h->v[i] = h->v[k];
    h->v[k] = t;
}

static void heap_up(srv_heap *h, size_t i)
{
    while (i > 0 && job_less(h->v[i], h->v[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(srv_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && job_less(h->v[l], h->v[m]))
            m = l;
        if (r < h->n && job_less(h->v[r], h->v[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

bool srv_heap_push(srv_heap *h, srv_job *j)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        srv_job **v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return false;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = j;
    heap_up(h, h->n - 1);
    return true;
}

srv_job *srv_heap_top(const srv_heap *h) { return h->n ? h->v[0] : NULL; }

srv_job *srv_heap_remove(srv_heap *h, size_t i)
{
    if (i >= h->n)
        return NULL;
    srv_job *j = h->v[i];
    h->v[i] = h->v[--h->n];
    if (i < h->n) {
        heap_up(h, i);
        heap_down(h, i);
    }
    return j;
}

void srv_heap_free(srv_heap *h)
{
    free(h->v);
    memset(h, 0, sizeof *h);
}

/* ---- dispatch (listener thread) ----------------------------------------------- */

void srv_sched_publish_mins(srv_sched *s, srv_worker *w)
{
    srv_job *g = srv_heap_top(&s->global);
    atomic_store(&s->global_min, g ? g->key : SRV_KEY_NONE);
    if (w) {
        srv_job *t = srv_heap_top(&w->local);
        atomic_store(&w->local_min, t ? t->key : SRV_KEY_NONE);
    }
}

static void answer_now(srv_sched *s, srv_fn *fn, const srv_request *req, int status, const char *body,
                       const http_header *hdr, size_t nhdr)
{
    uint64_t arrival_ns = req->arrival_ns;     /* req is the listener's again after srv_complete */
    srv_complete(s->l, req, status, "application/json", hdr, nhdr, body, strlen(body));
    if (fn) {
        uint64_t now = ut_mono_ns();
        srv_metrics_observe(&fn->metrics, status, now > arrival_ns ? (now - arrival_ns) / 1000 : 0,
                            false);
    }
}

void srv_sched_dispatch(void *ud, const srv_request *req)
{
    srv_sched *s = ud;
    srv_fn *fn = srv_fnset_find(&s->gen->fns, req->route);
    if (!fn) {
        answer_now(s, NULL, req, 500, "{\"error\":\"no function for this route\"}\n", NULL, 0);
        return;
    }
    if (fn->kind == SRV_FN_STUB) {
        srv_stub_dispatch(s->stub, req);
        return;
    }
    if (fn->kind == SRV_FN_BROKEN) {
        answer_now(s, fn, req, 503, "{\"error\":\"function unavailable\"}\n", NULL, 0);
        return;
    }
    double share;
    uint32_t retry;
    if (!srv_admit_try(&s->admit, &fn->admit, &share, &retry)) {
        atomic_fetch_add_explicit(&fn->metrics.rejected, 1, memory_order_relaxed);
        char ra[16];
        snprintf(ra, sizeof ra, "%u", retry);
        http_header h = { .name = "Retry-After", .name_len = 11, .value = ra, .value_len = strlen(ra) };
        answer_now(s, fn, req, 429, "{\"error\":\"not admitted\"}\n", &h, 1);
        return;
    }
    atomic_fetch_add_explicit(&fn->metrics.admitted, 1, memory_order_relaxed);
    srv_job *j = calloc(1, sizeof *j);
    if (!j) {
        srv_admit_done(&s->admit, &fn->admit, share, 0, false);
        answer_now(s, fn, req, 503, "{\"error\":\"out of memory\"}\n", NULL, 0);
        return;
    }
    const srv_route *r = req->route;
    uint64_t timeout_us = r->timeout_us ? r->timeout_us : SRV_DEFAULT_TIMEOUT_US;
    j->req = req;
    j->fn = fn;
    j->gen = s->gen;
    atomic_fetch_add(&j->gen->refs, 1);
    j->share = share;
    j->deadline_ns = req->arrival_ns + r->relative_deadline_us * 1000u;
    j->kill_ns = req->arrival_ns + timeout_us * 1000u;
    j->key = s->settings.scheduler == SRV_SCHED_FIFO ? req->arrival_ns : j->deadline_ns;
    j->state = JOB_QUEUED;
    /* Once the lock is dropped below, a worker may take the job, run it
     * and free it (srv_job_finish) before this thread reads another byte
     * of it: the kick uses this copy of its key. */
    uint64_t key = j->key;
    pthread_mutex_lock(&s->mu);
    j->seq = s->seq++;
    /* A bounded queue: with admission control off (or estimates far off),
     * overload must end in a quick 503, not in unbounded memory and waits. */
    bool ok = atomic_load(&s->n_queued) < s->settings.max_queue && srv_heap_push(&s->global, j);
    bool kick = false;
    if (ok) {
        srv_sched_publish_mins(s, NULL);
        atomic_fetch_add(&s->n_queued, 1);
        pthread_cond_signal(&s->cv);
        kick = s->nidle == 0 && s->settings.preemption;
    }
    pthread_mutex_unlock(&s->mu);
    if (kick)
        srv_workers_kick(s, key);
    if (!ok) {
        srv_admit_done(&s->admit, &fn->admit, share, 0, false);
        atomic_fetch_sub(&j->gen->refs, 1);
        free(j);
        answer_now(s, fn, req, 503, "{\"error\":\"queue full\"}\n", NULL, 0);
    }
}

/* ---- completion (worker threads) ------------------------------------------------ */

void srv_job_finish(srv_sched *s, srv_job *j)
{
    srv_outcome *o = &j->out;
    const srv_request *req = j->req;
    srv_fn *fn = j->fn;
    uint64_t exec_us = o->exec_ns / 1000;
    int status = o->status ? o->status : 500;
    /* req belongs to the listener again once srv_complete is called (it
     * may free it at once): read what the metrics need first. */
    uint64_t arrival_ns = req->arrival_ns;
    /* A HEAD request gets the headers only; the listener drops the body. */
    srv_complete(s->l, req, status, o->content_type ? o->content_type : "text/plain", o->headers, o->nheaders,
                 o->body, o->body_len);
    uint64_t now = ut_mono_ns();
    srv_metrics_observe(&fn->metrics, status, now > arrival_ns ? (now - arrival_ns) / 1000 : 0,
                        now > j->deadline_ns);
    if (o->trapped)
        atomic_fetch_add_explicit(&fn->metrics.traps, 1, memory_order_relaxed);
    if (o->timed_out)
        atomic_fetch_add_explicit(&fn->metrics.timeouts, 1, memory_order_relaxed);
    /* Only runs that executed teach the estimator something. */
    srv_admit_done(&s->admit, &fn->admit, j->share, exec_us, j->started);
    srv_outcome_release(o);
    atomic_fetch_add(&s->n_completed, 1);
    srv_gen *gen = j->gen;
    free(j);
    /* Last: the generation (routes, modules, pools) may be freed from here on. */
    atomic_fetch_sub_explicit(&gen->refs, 1, memory_order_release);
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
    };
    srv_metrics_render(f, &s->gen->fns, &s->admit, &g);
}

/* ---- generations (listener thread) ------------------------------------------------------- */

static void gen_free(srv_gen *g, unsigned nworkers)
{
    if (!g)
        return;
    /* No job of g remains: every instance gave its memory back. */
    for (size_t i = 0; i < g->fns.n; i++) {
        srv_fn *fn = &g->fns.fns[i];
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
 * old one then) instead of answering 503. */
static srv_gen *gen_new(srv_sched *s, const srv_config *cfg, bool strict, srv_err *err)
{
    srv_gen *g = calloc(1, sizeof *g);
    if (!g) {
        srv_fail(err, "serve: out of memory");
        return NULL;
    }
    atomic_store(&g->refs, 1);
    if (!srv_fnset_load(&g->fns, cfg, err)) {
        srv_fnset_free(&g->fns);
        free(g);
        return NULL;
    }
    for (size_t i = 0; i < g->fns.n; i++) {
        srv_fn *fn = &g->fns.fns[i];
        if (strict && fn->kind == SRV_FN_BROKEN) {
            srv_fail(err, "route %s: %s", fn->route->name, fn->broken);
            gen_free(g, s->settings.workers);
            return NULL;
        }
        g->has_stub |= fn->kind == SRV_FN_STUB;
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
        if (!r->has_stub && atomic_load_explicit(&r->refs, memory_order_acquire) == 0) {
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
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_store(&s->global_min, SRV_KEY_NONE);
    srv_admit_init(&s->admit, settings->workers, settings->admission);
    if (!(s->gen = gen_new(s, cfg, false, err)) || !(s->stub = srv_stub_new(err)) || !srv_workers_start(s, err)) {
        srv_sched_free(s);
        return NULL;
    }
    return s;
}

void srv_sched_attach(srv_sched *s, srv_listener *l)
{
    pthread_mutex_lock(&s->mu);
    s->l = l;
    pthread_mutex_unlock(&s->mu);
    srv_stub_attach(s->stub, l);
}

void srv_sched_free(srv_sched *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->quit = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    srv_workers_join(s);        /* they answer what is queued first */
    srv_stub_free(s->stub);
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
    pthread_cond_destroy(&s->cv);
    free(s);
}
