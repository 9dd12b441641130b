/*
 * test_serve_sched.c — the pieces under wedge serve's scheduler: the EDF
 * heap, admission control arithmetic, the x86-64 context switch (registers
 * and floating-point control preserved), the runtime thread-state
 * save/restore, and signal-driven preemption through rt_ctx_preempt_entry
 * (a computation interrupted hundreds of times must end with exactly the
 * result it has when run straight through).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fenv.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "runtime/rt_ctx.h"
#include "serve/srv_admit.h"
#include "serve/srv_sched_internal.h"

/* ---- heap ------------------------------------------------------------------------- */

Test(serve_sched, heap_orders_by_key_then_seq)
{
    enum { N = 500 };
    srv_job *jobs = calloc(N, sizeof *jobs);
    srv_heap h = { 0 };
    srand(7);
    for (int i = 0; i < N; i++) {
        jobs[i].key = (uint64_t)(rand() % 50);
        jobs[i].seq = (uint64_t)i;
        cr_assert(srv_heap_push(&h, &jobs[i]));
    }
    /* Remove a few from the middle too: stealing does that. */
    for (int k = 0; k < 20; k++)
        cr_assert_not_null(srv_heap_remove(&h, h.n / 2));
    cr_assert_eq(h.n, N - 20);
    srv_job *prev = NULL;
    while (h.n) {
        srv_job *j = srv_heap_remove(&h, 0);
        if (prev)
            cr_assert(prev->key < j->key || (prev->key == j->key && prev->seq < j->seq),
                      "out of order: (%lu,%lu) before (%lu,%lu)", (unsigned long)prev->key,
                      (unsigned long)prev->seq, (unsigned long)j->key, (unsigned long)j->seq);
        prev = j;
    }
    cr_assert_null(srv_heap_top(&h));
    srv_heap_free(&h);
    free(jobs);
}

/* ---- admission -------------------------------------------------------------------- */

static srv_route route_with(uint64_t deadline_us, uint64_t expected_us, uint32_t pct)
{
    srv_route r;
    memset(&r, 0, sizeof r);
    r.name = "t";
    r.relative_deadline_us = deadline_us;
    r.expected_execution_us = expected_us;
    r.admissions_percentile = pct;
    return r;
}

Test(serve_sched, admission_first_estimate_is_half_the_deadline)
{
    srv_admit a;
    srv_admit_init(&a, 2, true);            /* capacity 1.8 */
    srv_route rt = route_with(1000, 0, 70);
    srv_admit_route r;
    srv_admit_route_init(&r, &rt);
    cr_assert_eq(r.estimate_us, 500);
    double s[4];
    uint32_t ra;
    for (int i = 0; i < 3; i++)
        cr_assert(srv_admit_try(&a, &r, &s[i], &ra), "request %d refused", i);   /* 0.5 each: 1.5 */
    cr_assert_not(srv_admit_try(&a, &r, &s[3], &ra));                               /* 2.0 > 1.8 */
    cr_assert_geq(ra, 1);
    srv_admit_done(&a, &r, s[0], 0, false);                                          /* 1.0 */
    cr_assert(srv_admit_try(&a, &r, &s[3], &ra));
    for (int i = 1; i < 4; i++)
        srv_admit_done(&a, &r, s[i], 0, false);
    cr_assert_float_eq(srv_admit_load(&a), 0.0, 1e-12);
    srv_admit_destroy(&a);
}

Test(serve_sched, admission_estimate_is_the_percentile_and_share_is_capped)
{
    srv_admit a;
    srv_admit_init(&a, 1, true);            /* capacity 0.9 */
    srv_route rt = route_with(1000, 100, 70);
    srv_admit_route r;
    srv_admit_route_init(&r, &rt);
    cr_assert_eq(r.estimate_us, 100);       /* expected-execution-us wins over deadline / 2 */
    /* Samples 1..10 ms: the 70th percentile (nearest rank) is 7 ms. */
    double s;
    uint32_t ra;
    for (int i = 1; i <= 10; i++) {
        cr_assert(srv_admit_try(&a, &r, &s, &ra));
        srv_admit_done(&a, &r, s, (uint64_t)i * 1000, true);
    }
    cr_assert_eq(srv_admit_estimate(&a, &r), 7000);
    /* 7 ms against a 1 ms deadline: the share is one worker, not seven;
     * alone on an idle server it is still admitted... */
    cr_assert(srv_admit_try(&a, &r, &s, &ra));
    cr_assert_float_eq(s, 1.0, 1e-12);
    /* ...but not beside another. */
    double s2;
    cr_assert_not(srv_admit_try(&a, &r, &s2, &ra));
    srv_admit_done(&a, &r, s, 0, false);
    srv_admit_destroy(&a);

    srv_admit off;
    srv_admit_init(&off, 1, false);
    for (int i = 0; i < 10; i++)
        cr_assert(srv_admit_try(&off, &r, &s, &ra), "disabled admission refused");
    srv_admit_destroy(&off);
}

/* ---- context switch ------------------------------------------------------------------- */

static void *main_sp, *co_sp;
static volatile int co_steps;

static void co_entry(void *arg)
{
    int *counter = arg;
    fesetround(FE_UPWARD);      /* the coroutine's own rounding mode */
    for (;;) {
        volatile double one = 1.0, three = 3.0;
        double third = one / three;
        (*counter)++;
        /* Rounded upward twice: 1.0000000000000002; to nearest: exactly 1. */
        co_steps = (third * three > 1.0) ? co_steps + 1 : -1000;
        rt_ctx_switch(&co_sp, main_sp);
    }
}

Test(serve_sched, ctx_switch_keeps_each_side_s_state)
{
    rt_stack st;
    cr_assert(rt_stack_init(&st, 256 << 10));
    int counter = 0;
    co_sp = rt_ctx_make(&st, co_entry, &counter);
    fesetround(FE_TONEAREST);
    for (int i = 1; i <= 100; i++) {
        rt_ctx_switch(&main_sp, co_sp);
        cr_assert_eq(counter, i);
        cr_assert_eq(fegetround(), FE_TONEAREST, "coroutine's rounding mode leaked into main");
    }
    cr_assert_eq(co_steps, 100, "coroutine lost its rounding mode across switches (%d)", co_steps);
    rt_stack_destroy(&st);
}

Test(serve_sched, thread_state_save_restore)
{
    rt_result res;
    cr_assert(rt_init(&res));
    rt_thread_state before, now;
    rt_thread_state_save(&before);
    rt_stack st;
    cr_assert(rt_stack_init(&st, 64 << 10));
    rt_trap_scope fake;
    memset(&fake, 0, sizeof fake);
    rt_thread_state mine = { .scope = &fake, .current = (wedge_instance *)0x1000, .stack = &st };
    rt_thread_state_restore(&mine);
    cr_assert_eq(rt_thread_guest_stack(), &st);
    cr_assert_eq(sledge_abi__current_wasm_module_instance, (wedge_instance *)0x1000);
    rt_thread_state_save(&now);
    cr_assert_eq(now.scope, &fake);
    rt_thread_state_restore(&before);
    cr_assert_eq(rt_thread_guest_stack(), before.stack);
    cr_assert_eq(sledge_abi__current_wasm_module_instance, before.current);
    rt_stack_destroy(&st);
}

/* ---- preemption through rt_ctx_preempt_entry ------------------------------------------------ */

static rt_stack pstack;
static volatile sig_atomic_t in_work, preempts, ticks;
static void *psched_sp, *pwork_sp;

/* Many live integer and floating-point values, no calls: any register the
 * preemption path failed to restore changes the result. */
static void work(uint64_t n, uint64_t *ires, double *fres)
{
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
    double x = 1.0, y = 0.5, z = 0.25, w = 0.125, v = 3.0;
    for (uint64_t i = 0; i < n; i++) {
        a = a * 6364136223846793005ull + b;
        b ^= a >> 17;
        c += b * 3;
        d ^= c << 5;
        e += d ^ i;
        f ^= e >> 3;
        g += f * 7;
        h ^= g + a;
        x = x * 1.0000001 + y * 1e-9;
        y = y * 0.9999999 + z * 1e-9;
        z = z + w * 1e-9;
        w = w * 1.0000002 - x * 1e-12;
        v = v / 1.0000001 + (double)(h & 7) * 1e-9;
    }
    *ires = a ^ b ^ c ^ d ^ e ^ f ^ g ^ h;
    *fres = x + y + z + w + v;
}

static uint64_t got_i;
static double got_f;
static volatile bool work_done;

static void work_entry(void *arg)
{
    uint64_t n = *(uint64_t *)arg;
    in_work = 1;
    work(n, &got_i, &got_f);
    in_work = 0;
    work_done = true;
    rt_ctx_switch(&pwork_sp, psched_sp);
    abort();
}

/* in_work is off while the context switch runs: a tick landing inside
 * rt_ctx_switch (pwork_sp written, stack not yet switched) must not
 * preempt the switch itself.  wedge serve gets the same guarantee by
 * preempting only when the interrupted PC is in guest code. */
static void test_yield(void)
{
    in_work = 0;
    preempts++;
    rt_ctx_switch(&pwork_sp, psched_sp);
    in_work = 1;
}

static void on_test_tick(int sig, siginfo_t *si, void *ctxp)
{
    (void)sig;
    (void)si;
    ticks++;
    ucontext_t *uc = ctxp;
    greg_t *g = uc->uc_mcontext.gregs;
    uintptr_t sp = (uintptr_t)g[REG_RSP];
    if (!in_work || sp > (uintptr_t)pstack.hi || sp < (uintptr_t)pstack.lo + (32 << 10))
        return;
    uintptr_t nsp = sp - RT_CTX_PREEMPT_RED_ZONE - 8;
    *(uint64_t *)nsp = (uint64_t)g[REG_RIP];
    g[REG_RSP] = (greg_t)nsp;
    g[REG_RIP] = (greg_t)(uintptr_t)rt_ctx_preempt_entry;
}

Test(serve_sched, preempted_computation_gives_the_same_result, .timeout = 60)
{
    uint64_t n = 30000000;
    uint64_t want_i;
    double want_f;
    work(n, &want_i, &want_f);

    cr_assert(rt_stack_init(&pstack, 256 << 10));
    rt_ctx_preempt_fn = test_yield;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_test_tick;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGRTMIN + 3, &sa, NULL), 0);
    rt_tick_timer t;
    cr_assert(rt_tick_timer_create(&t, SIGRTMIN + 3));
    cr_assert(rt_tick_timer_set(&t, 200000));

    pwork_sp = rt_ctx_make(&pstack, work_entry, &n);
    int resumes = 0;
    while (!work_done) {
        rt_ctx_switch(&psched_sp, pwork_sp);
        resumes++;
        /* Scribble over every register the worker side may use, as
         * another sandbox would, before resuming. */
        volatile double junk = 0;
        for (int k = 0; k < 100; k++)
            junk += k * 0.37;
        (void)junk;
    }
    rt_tick_timer_delete(&t);
    cr_assert_gt(preempts, 10, "only %d preemptions in %d ticks", (int)preempts, (int)ticks);
    cr_assert_eq(resumes, preempts + 1);
    cr_assert_eq(got_i, want_i, "integer state corrupted by preemption");
    cr_assert(got_f == want_f, "floating-point state corrupted by preemption (%.17g vs %.17g)", got_f, want_f);
    rt_stack_destroy(&pstack);
}

/* The window is kept sorted incrementally (one removal, one insertion per
 * sample): after each of many samples, with duplicates and evictions, the
 * estimate must equal the nearest-rank percentile of the last 64 samples
 * computed the slow way. */
static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

Test(serve_sched, admission_window_percentile_matches_a_full_sort)
{
    srv_admit a;
    srv_admit_init(&a, 1, true);
    srv_route rt = route_with(100000, 0, 90);
    srv_admit_route r;
    srv_admit_route_init(&r, &rt);
    uint64_t hist[1000];
    uint32_t x = 12345;
    for (int i = 0; i < 1000; i++) {
        x = x * 1103515245u + 12345u;
        hist[i] = 1 + (x >> 16) % 50;           /* small range: many duplicates */
        srv_admit_done(&a, &r, 0, hist[i], true);
        int n = i + 1 < SRV_ADMIT_WINDOW ? i + 1 : SRV_ADMIT_WINDOW;
        uint64_t w[SRV_ADMIT_WINDOW];
        memcpy(w, &hist[i + 1 - n], (size_t)n * sizeof w[0]);
        qsort(w, (size_t)n, sizeof w[0], cmp_u64);
        unsigned rank = (90u * (unsigned)n + 99) / 100;
        cr_assert_eq(srv_admit_estimate(&a, &r), w[rank - 1], "sample %d: estimate %llu, want %llu", i,
                     (unsigned long long)srv_admit_estimate(&a, &r), (unsigned long long)w[rank - 1]);
    }
    srv_admit_destroy(&a);
}
