/*
 * srv_worker.c — workers (one per event loop, on the loop's thread) and
 * the sandboxes' user-level threads.
 *
 * Between two rounds of its loop's events a worker picks the job with the
 * smallest key in its local queue (where its loop's dispatch put it; the
 * global queue is only for a dispatch on no loop's thread), or, with none,
 * steals the best not yet started job from another worker's local queue,
 * switches to it, and when it comes back either answers it (done: the
 * answer goes to the loop that read the request, its own or, for a stolen
 * job, the owner's completion queue) or puts it back in its local queue
 * (preempted).  A job, once started, has its own guest stack and context
 * and stays on its worker: its frames may hold addresses of this thread's
 * thread-local variables (the runtime's current instance, trap scope).
 *
 * Context switches are cooperative (rt_ctx_switch, arch/x86_64_ctx.S) from
 * the worker's own context to a sandbox and back.  There are exactly three
 * ways back: the sandbox finished (srv_sandbox_exec returned, including
 * every trap, which ends inside it), it was preempted, or its timeout
 * trapped it (which is a trap like any other).
 *
 * PREEMPTION.  Guest code is plain native code with no yield points, so a
 * per-worker POSIX timer (rt_tick_timer, SIGEV_THREAD_ID: the signal goes
 * to this worker thread, not to the process) raises SRV_TICK_SIGNAL every
 * quantum while the worker has work.  The handler (on_tick) never switches
 * stacks itself — switching away inside a handler would leave the signal
 * blocked and the alternate signal stack marked in use for as long as the
 * sandbox stays switched out.  Instead it decides, and rewrites the
 * interrupted context so that returning from the handler (sigreturn)
 * "calls" a function in the sandbox:
 *
 *   - only when the interrupted pc is inside a module's code (generated
 *     code and libsledge): host code (WASI, libc, the runtime, this file)
 *     may hold locks — malloc's, stdio's — that another sandbox on this
 *     thread would then deadlock on.  A tick that lands in host code is
 *     skipped; the next one, a quantum later, tries again;
 *   - only when the interrupted stack pointer is on the running sandbox's
 *     stack with room to spare;
 *   - past the job's hard timeout: the pc becomes srv_timeout_trap, which
 *     raises WEDGE_TRAP_TIMEOUT — an ordinary trap that unwinds to the
 *     sandbox's own trap scope (→ 504); the same when the listener has
 *     marked the request cancelled (its client left), counted as such;
 *   - with preemption on and a waiting job whose key is smaller than the
 *     running one's (a running job past its deadline counts as overdue,
 *     see SRV_KEY_OVERDUE): the interrupted pc is pushed below the red
 *     zone and the pc becomes rt_ctx_preempt_entry, which saves every
 *     register, calls preempt_yield (switch to the worker's context) and,
 *     when the worker switches back later, restores them and returns to
 *     the interrupted instruction.
 * * EVERY WORKER IS AN EVENT LOOP'S THREAD: worker 0 srv_main's (loop 0),
 * each other one a thread of its own running loop i (srv_listener_add_loops).
 * The loop calls srv_workers_run_here between rounds of events (one job
 * to its end or until it is stopped), so a request the loop reads is run
 * and answered on that thread.  A sandbox in a long host call holds only
 * its own loop's connections (new clients go to a loop waiting in
 * epoll_wait).  A loop's sockets wait while a sandbox runs, so its tick
 * also stops the sandbox (the same redirection) when the loop's epoll
 * descriptor is readable, even without preemption (then the job is
 * resumed first, after the round: io_yield / io_parked).  With nothing to
 * run the worker sleeps in its loop's epoll_wait; a loop that queues more
 * than it runs next wakes a sleeping one to steal.
 *
 * The handler itself reads only atomics and this thread's TLS, and calls
 * only clock_gettime and poll (a zero timeout), which are async-signal-safe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "runtime/rt_sanitizer.h"
#include "srv_log.h"
#include "srv_sched_internal.h"
#include "util/util.h"

#define SRV_TICK_SIGNAL (SIGRTMIN + 2)
/* The handler redirects only with at least this much sandbox stack left
 * (the preemption entry saves ~650 bytes, then runs C code). */
#define SRV_PREEMPT_STACK_MIN ((uintptr_t)32 << 10)

/* Initial-exec TLS: on_tick (a signal handler) reads tls_worker, and must
 * not end up in __tls_get_addr (it may allocate). */
static __thread __attribute__((tls_model("initial-exec"))) srv_worker *tls_worker;
static __thread __attribute__((tls_model("initial-exec"))) srv_job *tls_job;   /* the running job's (or NULL) */

/* ---- stacks --------------------------------------------------------------------- */

static rt_stack *stack_get(srv_worker *w)
{
    if (w->npool)
        return w->pool[--w->npool];
    rt_stack *st = malloc(sizeof *st);
    if (st && !rt_stack_init(st, SRV_STACK_SIZE)) {
        free(st);
        return NULL;
    }
    return st;
}

/* True if the page at p (page-aligned) holds a non-zero byte: a sandbox
 * wrote into it since it was last dropped.  A read, not mincore: the
 * system call was a visible share of a short request, reading a page
 * that was never touched again maps the shared zero page once, and later
 * reads of it cost no fault.  Not instrumented: the page may still carry
 * the ASan marks of the last sandbox's frames. */
__attribute__((no_sanitize_address)) static bool page_written(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    uint64_t any = 0;
    for (size_t i = 0; i < 4096 / sizeof *w; i++)
        any |= w[i];
    return any != 0;
}

static void stack_put(srv_worker *w, rt_stack *st)
{
    if (w->npool < SRV_STACK_POOL) {
        /* Give back what a deep guest touched, keeping the top pages every
         * sandbox uses anyway, so a pooled stack never pins megabytes. */
        /* A stack is used top down: a sandbox that went deeper than the
         * kept top wrote into the page just below it (a call pushes its
         * return address; frames are contiguous), which reads as zero
         * after it was dropped: madvise (which flushes TLBs on every core
         * even when it frees nothing) only then.  A frame that only
         * probed that page (-fstack-clash-protection's `or $0`) and wrote
         * deeper could leave pages resident until a later deep sandbox:
         * memory, not data any guest can read. */
        size_t keep = (size_t)64 << 10;
        size_t len = (size_t)(st->hi - st->lo);
        if (len > keep + 4096 && page_written(st->hi - keep - 4096))
            (void)madvise(st->lo, len - keep, MADV_DONTNEED);
        w->pool[w->npool++] = st;
        return;
    }
    rt_stack_destroy(st);
    free(st);
}

/* ---- the sandbox side ------------------------------------------------------------- */

/* This worker's memory pool for fn's route, made on first use; NULL (no
 * pooling, still correct) if memory is short. */
static rt_mempool *mempool_for(srv_worker *w, const srv_fn *fn)
{
    if (!fn->pools)
        return NULL;
    if (!fn->pools[w->idx])
        fn->pools[w->idx] = rt_mempool_new(SRV_MEMPOOL_KEEP);
    return fn->pools[w->idx];
}

/* AddressSanitizer keeps one stack per thread: every rt_ctx_switch is
 * announced (rt_san_start_switch with the stack it goes to) and
 * acknowledged on arrival (rt_san_finish_switch), so ASan checks each
 * frame against the right stack.  Without ASan these are no-ops. */

static void sandbox_main(void *arg)
{
    srv_job *j = arg;
    srv_worker *w = tls_worker;
    rt_san_finish_switch(NULL, &w->san_lo, &w->san_size);
    srv_sandbox_exec(j->fn, j->req, j->kill_ns, mempool_for(w, j->fn), &j->out);
    j->state = JOB_DONE;
    /* Leaving for good: NULL drops this context's fake frames. */
    rt_san_start_switch(NULL, w->san_lo, w->san_size);
    rt_ctx_switch(&j->sp, w->sched_sp);
    /* Never resumed. */
    abort();
}

/* Called by rt_ctx_preempt_entry on the sandbox's stack, in normal (not
 * signal) context. */
static void preempt_yield(void)
{
    srv_worker *w = tls_worker;
    srv_job *j = tls_job;
    j->state = JOB_PREEMPTED;
    rt_san_start_switch(&j->san_fake, w->san_lo, w->san_size);
    rt_ctx_switch(&j->sp, w->sched_sp);
    rt_san_finish_switch(j->san_fake, &w->san_lo, &w->san_size);
    j->state = JOB_RUNNING;
    /* Resumed after its timeout passed while it waited (pick() moves such
     * jobs to the front so they end promptly): end it here, in normal
     * context, with the same trap the tick would raise. */
    if (ut_mono_ns() >= j->kill_ns)
        rt_trap(WEDGE_TRAP_TIMEOUT);
    if (atomic_load_explicit(&j->req->cancelled, memory_order_relaxed)) {
        j->cancelled = true;
        rt_trap(WEDGE_TRAP_TIMEOUT);
    }
}

/* Socket events wait for the worker's loop, which runs only while no
 * sandbox does (poll: async-signal-safe, no wait). */
static bool io_waiting(const srv_worker *w)
{
    if (w->io_fd < 0)
        return false;
    struct pollfd p = { .fd = w->io_fd, .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

void srv_sched_wait_yield(void)
{
    srv_worker *w = tls_worker;
    srv_job *j = tls_job;
    if (!w || !j || !j->stack)
        return;
    uint64_t waiting = atomic_load(&w->s->global_min), local = atomic_load(&w->local_min);
    if (local < waiting)
        waiting = local;
    if (waiting == SRV_KEY_NONE && !io_waiting(w))
        return;
    /* Demoted while it waits, so the worker runs the others first (its
     * own key would bring it straight back, to poll again), and keyed by
     * when it yielded, so that sandboxes waiting together take turns
     * rather than the earliest deadline polling alone; its key comes back
     * with it.  Past its timeout, the caller ends it (it has handles to
     * release first), not preempt_yield's trap. */
    uint64_t key = j->key;
    j->key = SRV_KEY_OVERDUE | (ut_mono_ns() & (SRV_KEY_OVERDUE - 1));
    j->state = JOB_PREEMPTED;
    rt_san_start_switch(&j->san_fake, w->san_lo, w->san_size);
    rt_ctx_switch(&j->sp, w->sched_sp);
    rt_san_finish_switch(j->san_fake, &w->san_lo, &w->san_size);
    j->state = JOB_RUNNING;
    j->key = key;
    atomic_store(&w->running_key, key);
}

/* Where the handler sends a sandbox past its timeout: entered as if
 * called, on the sandbox's stack, outside the handler. */
static void srv_timeout_trap(void) { rt_trap(WEDGE_TRAP_TIMEOUT); }

/* ---- the timer signal -------------------------------------------------------------- */

static void on_tick(int sig, siginfo_t *si, void *ctxp)
{
    (void)sig;
    (void)si;
    int saved_errno = errno;
    srv_worker *w = tls_worker;
    srv_job *j = w ? atomic_load_explicit(&w->running, memory_order_relaxed) : NULL;
    if (!j || !j->stack)
        goto out;
    ucontext_t *uc = ctxp;
    greg_t *g = uc->uc_mcontext.gregs;
    uintptr_t pc = (uintptr_t)g[REG_RIP], sp = (uintptr_t)g[REG_RSP];
    /* The running job's own module (generated code and libsledge). */
    if (pc < j->fn->text_lo || pc >= j->fn->text_hi)
        goto out;
    if (sp > (uintptr_t)j->stack->hi || sp < (uintptr_t)j->stack->lo + SRV_PREEMPT_STACK_MIN)
        goto out;
    uint64_t now = ut_mono_ns();     /* clock_gettime: async-signal-safe */
    /* Its client left: stopped like a timeout, counted as cancelled. */
    bool cancel = atomic_load_explicit(&j->req->cancelled, memory_order_relaxed);
    if (cancel)
        j->cancelled = true;
    if (now >= j->kill_ns || cancel) {
        /* As if srv_timeout_trap were called: 16-byte aligned before the
         * (virtual) call pushes its return address; red zone skipped. */
        uintptr_t nsp = ((sp - RT_CTX_PREEMPT_RED_ZONE) & ~(uintptr_t)15) - 8;
        g[REG_RSP] = (greg_t)nsp;
        g[REG_RIP] = (greg_t)(uintptr_t)srv_timeout_trap;
        goto out;
    }
    if (w->s->settings.preemption) {
        uint64_t key = j->key;
        if (now > j->deadline_ns)
            key |= SRV_KEY_OVERDUE;
        uint64_t waiting = atomic_load_explicit(&w->s->global_min, memory_order_relaxed);
        uint64_t local = atomic_load_explicit(&w->local_min, memory_order_relaxed);
        if (local < waiting)
            waiting = local;
        if (waiting < key)
            goto preempt;
    }
    /* The worker also gives way to its loop when sockets wait (with or
     * without preemption): new requests, closed connections, completions
     * of its jobs run elsewhere and /metrics are only seen there. */
    if (!io_waiting(w))
        goto out;
    w->io_yield = 1;
preempt:;
    uintptr_t nsp = sp - RT_CTX_PREEMPT_RED_ZONE - 8;
    *(uint64_t *)nsp = pc;
    g[REG_RSP] = (greg_t)nsp;
    g[REG_RIP] = (greg_t)(uintptr_t)rt_ctx_preempt_entry;
out:
    errno = saved_errno;
}

static void timer_arm(srv_worker *w, bool on)
{
    if (!w->timer_ok || w->armed == on)
        return;
    uint64_t q = w->s->settings.quantum_us;
    if (rt_tick_timer_set(&w->timer, on ? q * 1000u : 0))
        w->armed = on;
}

/* ---- the worker side ------------------------------------------------------------------ */

/* The next job for w, or NULL when it has none (nor any to steal).
 * Called with s->mu held. */
static srv_job *pick(srv_sched *s, srv_worker *w)
{
    for (;;) {
        /* A preempted job whose timeout has passed goes first: it only
         * needs resuming to end (preempt_yield traps it), and its client
         * must not wait behind a stream of other work for its 504. */
        /* An overdue job left waiting SRV_OVERDUE_AGE_NS gets a turn too
         * (one quantum, then it waits again): without this it could
         * starve behind a steady stream of jobs that can still make their
         * deadlines until its timeout — which the old hand-off only
         * avoided by the gaps it left in the workers' time. */
        uint64_t now = ut_mono_ns();
        for (size_t i = 0; i < w->local.n; i++) {
            srv_job *c = w->local.v[i];
            if (c->started && c->key != 0 &&
                (now >= c->kill_ns || atomic_load_explicit(&c->req->cancelled, memory_order_relaxed) ||
                 ((c->key & SRV_KEY_OVERDUE) && now - c->parked_ns >= SRV_OVERDUE_AGE_NS))) {
                srv_heap_remove(&w->local, i);
                c->key = 0;
                (void)srv_heap_push(&w->local, c);      /* cannot fail: it just left */
                i = (size_t)-1;                         /* the heap moved: rescan */
            }
        }
        srv_job *lt = srv_heap_top(&w->local), *gt = srv_heap_top(&s->global);
        srv_job *j = NULL;
        if (lt && (!gt || !(gt->key < lt->key || (gt->key == lt->key && gt->seq < lt->seq)))) {
            j = srv_heap_remove(&w->local, 0);
        } else if (gt) {
            j = srv_heap_remove(&s->global, 0);
            /* Take a small batch into the local queue when work is piling
             * up: other idle workers steal it back from there. */
            for (int k = 0; k < SRV_STEAL_BATCH && s->global.n > s->nw; k++) {
                srv_job *extra = srv_heap_remove(&s->global, 0);
                if (!srv_heap_push(&w->local, extra)) {
                    (void)srv_heap_push(&s->global, extra);   /* cannot fail: it just left */
                    break;
                }
            }
        } else {
            /* Steal the best not yet started job from another worker,
             * once it has waited long enough that its own loop is busy. */
            uint64_t age = (uint64_t)s->settings.quantum_us * 1000u;
            if (age < SRV_STEAL_AGE_NS)
                age = SRV_STEAL_AGE_NS;
            srv_worker *victim = NULL;
            size_t at = 0;
            for (unsigned v = 0; v < s->nw; v++) {
                srv_worker *o = &s->w[v];
                if (o == w)
                    continue;
                for (size_t i = 0; i < o->local.n; i++) {
                    srv_job *c = o->local.v[i];
                    if (c->started)
                        continue;
                    if (now - c->req->arrival_ns < age) {
                        w->steal_soon = true;
                        continue;
                    }
                    if (!victim || c->key < victim->local.v[at]->key) {
                        victim = o;
                        at = i;
                    }
                }
            }
            if (victim) {
                j = srv_heap_remove(&victim->local, at);
                srv_job_publish_mins(s, victim);
                atomic_fetch_add(&s->n_steals, 1);
                w->stole = true;
            }
        }
        if (j) {
            srv_job_publish_mins(s, w);
            return j;
        }
        /* Nothing to run: no ticks while its loop sleeps in epoll_wait
         * (an idle loop wakes now and then, or when woken, to steal). */
        timer_arm(w, false);
        return NULL;
    }
}

static const rt_thread_state idle_state;    /* no scope, no instance, no guest stack */

/* Runs j until it is done or preempted.  A preempted job whose queue slot
 * cannot be allocated runs on at once (a loop, not a recursion: memory
 * may stay short for many quanta). */
static void run(srv_sched *s, srv_worker *w, srv_job *j)
{
again:
    if (!j->started) {
        atomic_fetch_sub(&s->n_queued, 1);
        if (atomic_load_explicit(&j->req->cancelled, memory_order_relaxed)) {
            srv_outcome_error(&j->out, 499, "client gone before start");
            j->cancelled = true;
            srv_job_finish(s, j);
            return;
        }
        if (ut_mono_ns() >= j->kill_ns) {
            srv_outcome_error(&j->out, 504, "timeout before start");
            j->out.timed_out = true;
            srv_job_finish(s, j);
            return;
        }
        j->stack = stack_get(w);
        if (!j->stack) {
            srv_outcome_error(&j->out, 503, "out of sandbox stacks");
            srv_job_finish(s, j);
            return;
        }
        /* A pooled stack may still carry ASan marks of the frames its
         * last sandbox left behind. */
        rt_san_unpoison(j->stack->lo, (size_t)(j->stack->hi - j->stack->lo));
        j->sp = rt_ctx_make(j->stack, sandbox_main, j);
        j->ts = (rt_thread_state){ .stack = j->stack };
        j->started = true;
        if (j->owner != w)
            atomic_fetch_add_explicit(&s->n_handed_off, 1, memory_order_relaxed);
    } else if (j->io_parked) {
        j->io_parked = false;
        atomic_fetch_sub(&s->n_running, 1);     /* counted as running while parked: added again below */
    } else {
        atomic_fetch_sub(&s->n_preempted, 1);
    }
    atomic_fetch_add(&s->n_running, 1);
    timer_arm(w, true);
    j->state = JOB_RUNNING;
    tls_job = j;
    rt_thread_state_restore(&j->ts);
    atomic_store(&w->running_key, j->key);
    atomic_store(&w->running, j);
    rt_san_start_switch(&w->san_fake, j->stack->lo, (size_t)(j->stack->hi - j->stack->lo));
    rt_ctx_switch(&w->sched_sp, j->sp);
    rt_san_finish_switch(w->san_fake, NULL, NULL);
    atomic_store(&w->running, NULL);
    atomic_store(&w->running_key, SRV_KEY_NONE);
    rt_thread_state_save(&j->ts);
    rt_thread_state_restore(&idle_state);
    tls_job = NULL;
    atomic_fetch_sub(&s->n_running, 1);

    if (j->state == JOB_DONE) {
        rt_stack *st = j->stack;
        srv_job_finish(s, j);
        stack_put(w, st);
        return;
    }
    /* Preempted: back into this worker's queue, demoted if overdue.
     * Without preemption, a job that only gave worker 0's thread to the
     * listener loop for a round goes first again (key 0: no other job may
     * take its place) and still counts as running.  With preemption it is
     * preempted like any other: after the round, EDF decides. */
    bool parked = w->io_yield && !s->settings.preemption;
    w->io_yield = 0;
    if (parked) {
        j->io_parked = true;
        j->key = 0;
        atomic_fetch_add(&s->n_running, 1);
    } else {
        atomic_fetch_add(&s->n_preemptions, 1);
        atomic_fetch_add(&s->n_preempted, 1);
        j->parked_ns = ut_mono_ns();
        if (j->parked_ns > j->deadline_ns)
            j->key |= SRV_KEY_OVERDUE;
    }
    pthread_mutex_lock(&s->mu);
    if (!srv_heap_push(&w->local, j)) {
        /* No memory for the queue slot: keep running it rather than lose it. */
        pthread_mutex_unlock(&s->mu);
        goto again;     /* which counts it out of n_preempted (or running) again */
    }
    srv_job_publish_mins(s, w);
    pthread_mutex_unlock(&s->mu);
}

/* What the thread that runs worker w's sandboxes sets up first: its TLS
 * (the tick handler finds w there), the runtime's per-thread state and
 * the tick timer.  A worker thread and worker 0 on the listener's thread
 * alike. */
static void worker_thread_init(srv_worker *w)
{
    tls_worker = w;
    rt_result res;
    if (!rt_thread_init(&res))
        srv_log(SRV_LOG_ERROR, "worker %u: %s", w->idx, res.msg);
    w->timer_ok = rt_tick_timer_create(&w->timer, SRV_TICK_SIGNAL);
    if (!w->timer_ok)
        srv_log(SRV_LOG_WARN, "worker %u: no timer (%s): no preemption or timeouts of running code", w->idx,
                strerror(errno));
}

/* Worker w's set-up on its loop's thread, the loop, and the end: its own
 * jobs finished (started ones cannot move) and what is queued helped
 * with, then the thread let go of. */
static void worker_adopt(srv_worker *w)
{
    w->here = true;
    w->io_fd = srv_listener_poll_fd(w->loop);
    worker_thread_init(w);
}

static void worker_finish(srv_sched *s, srv_worker *w)
{
    if (!w->here)
        return;
    while (srv_workers_run_here(s) == 0 || atomic_load(&w->local_min) != SRV_KEY_NONE)
        ;
    if (w->timer_ok)
        rt_tick_timer_delete(&w->timer);
    w->timer_ok = false;
    while (w->npool) {
        rt_stack *st = w->pool[--w->npool];
        rt_stack_destroy(st);
        free(st);
    }
    w->here = false;
    w->io_fd = -1;
    tls_worker = NULL;
}

static void *loop_main(void *arg)
{
    srv_worker *w = arg;
    /* Lifecycle signals go to srv_main's thread (loop 0): here their
     * handlers could run on a sandbox's stack, perhaps right at its guard. */
    sigset_t lifecycle;
    sigemptyset(&lifecycle);
    sigaddset(&lifecycle, SIGHUP);
    sigaddset(&lifecycle, SIGTERM);
    sigaddset(&lifecycle, SIGINT);
    pthread_sigmask(SIG_BLOCK, &lifecycle, NULL);
    worker_adopt(w);
    srv_err err;
    if (!srv_listener_run(w->loop, &err))
        srv_log(SRV_LOG_ERROR, "loop %u: %s", w->idx, err.msg);
    worker_finish(w->s, w);
    return NULL;
}

srv_worker *srv_workers_self(void) { return tls_worker; }

bool srv_workers_start(srv_sched *s, srv_err *err)
{
    rt_ctx_preempt_fn = preempt_yield;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_tick;
    /* SA_ONSTACK: the guest may be close to the end of its stack.
     * SA_RESTART: the loops' own waits need not see EINTR. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SRV_TICK_SIGNAL, &sa, NULL) != 0)
        return srv_fail(err, "serve: cannot install the timer signal handler");

    s->w = calloc(s->settings.workers, sizeof *s->w);
    if (!s->w)
        return srv_fail(err, "serve: out of memory");
    s->nw = s->settings.workers;
    for (unsigned i = 0; i < s->nw; i++) {
        s->w[i].s = s;
        s->w[i].idx = i;
        s->w[i].io_fd = -1;
        atomic_store(&s->w[i].local_min, SRV_KEY_NONE);
        atomic_store(&s->w[i].running_key, SRV_KEY_NONE);
    }
    return true;
}

bool srv_workers_loops(srv_sched *s, srv_err *err)
{
    /* Worker 0 is this thread (its loop is srv_main's srv_listener_run). */
    worker_adopt(&s->w[0]);
    s->nstarted = 1;
    for (unsigned i = 1; i < s->nw; i++) {
        if (pthread_create(&s->w[i].thread, NULL, loop_main, &s->w[i]) != 0)
            return srv_fail(err, "serve: cannot start the thread of loop %u", i);
        s->nstarted++;
    }
    return true;
}

int srv_workers_run_here(srv_sched *s)
{
    srv_worker *w = tls_worker;
    if (!w)
        return -1;
    pthread_mutex_lock(&s->mu);
    w->stole = w->steal_soon = false;
    srv_job *j = pick(s, w);
    pthread_mutex_unlock(&s->mu);
    if (!j)
        return w->steal_soon ? 1 : -1;
    run(s, w, j);
    /* After a steal: there may be more to take. */
    if (w->stole || atomic_load_explicit(&w->local_min, memory_order_relaxed) != SRV_KEY_NONE ||
        atomic_load_explicit(&s->global_min, memory_order_relaxed) != SRV_KEY_NONE)
        return 0;
    /* Nothing queued here: no ticks while the loop sleeps (a job that
     * finished left the timer armed; pick disarms it only when called). */
    timer_arm(w, false);
    return -1;
}

void srv_workers_join(srv_sched *s)
{
    if (s->nw)
        worker_finish(s, &s->w[0]);
    for (unsigned i = 1; i < s->nstarted; i++)
        pthread_join(s->w[i].thread, NULL);
    for (unsigned i = 0; i < s->nw; i++)
        srv_heap_free(&s->w[i].local);
    free(s->w);
    s->w = NULL;
    s->nw = s->nstarted = 0;
}
