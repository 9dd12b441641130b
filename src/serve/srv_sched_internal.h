/*
 * srv_sched_internal.h — what the scheduler's files share: srv_sched.c
 * (dispatch, generations, lifecycle), srv_worker.c (workers on their
 * loops' threads, sandbox contexts, timer preemption), and the two leaves both of those
 * use, srv_heap.c (the queues) and srv_job.c (clock, queue minimums,
 * answering a job).  Not for other files.
 *
 * Layers: srv_sched.c -> srv_worker.c -> srv_job.c -> srv_heap.c; no file
 * calls up.
 *
 * Locking: one mutex, srv_sched.mu, guards the global queue and every
 * worker's local queue; the queues are short heaps
 * and each operation is a few dozen instructions, so one lock costs less
 * than the lock-order rules several would need.  The timer signal handler
 * never locks: it reads only the atomics global_min / local_min / running.
 */
#ifndef WEDGE_SRV_SCHED_INTERNAL_H
#define WEDGE_SRV_SCHED_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "runtime/rt_ctx.h"
#include "runtime/rt_mempool.h"
#include "srv_admit.h"
#include "srv_sandbox.h"
#include "srv_sched.h"

/* Keys of sandboxes already past their deadline get this bit: they sort
 * after every sandbox that can still make its deadline, so an overdue
 * (say, endless) function never holds a core against one that can. */
#define SRV_KEY_OVERDUE (1ull << 62)
#define SRV_KEY_NONE UINT64_MAX

#define SRV_STACK_SIZE RT_STACK_DEFAULT_SIZE    /* as `wedge run` */
#define SRV_STACK_POOL 32                       /* kept per worker */
#define SRV_MEMPOOL_KEEP 32                     /* linear memories kept per worker and route */
#define SRV_STEAL_BATCH 2                       /* extra jobs a worker takes from the global queue */
#define SRV_OVERDUE_AGE_NS 100000000u           /* an overdue job waiting this long runs a quantum (100 ms) */
/* Another worker's job is stolen only once it has waited this long (and
 * at least a quantum): its own loop, running jobs of microseconds, would
 * have taken it by then; a steal answers across threads. */
#define SRV_STEAL_AGE_NS 1000000u

/* One configuration and its loaded functions.  SIGHUP makes a new
 * generation current; the old one is retired and freed (by the listener
 * thread, at a later reload or at exit) once no job of it remains: jobs
 * hold their generation's routes, modules and memory pools until
 * srv_job_finish ends. */
typedef struct srv_gen {
    srv_config *cfg;            /* owned; NULL for the first (srv_main's) */
    srv_fnset fns;
    _Atomic long refs;          /* 1 while current, + 1 per unfinished job */
    struct srv_gen *next;       /* retired list */
} srv_gen;

typedef enum srv_job_state { JOB_QUEUED = 0, JOB_RUNNING, JOB_PREEMPTED, JOB_DONE } srv_job_state;

typedef struct srv_job {
    const srv_request *req;
    srv_fn *fn;
    srv_gen *gen;               /* holds a reference until srv_job_finish ends */
    uint64_t key;               /* EDF: absolute deadline; FIFO: arrival (plus SRV_KEY_OVERDUE) */
    uint64_t seq;               /* tie-break: dispatch order */
    uint64_t deadline_ns, kill_ns;
    uint64_t parked_ns;         /* when it was last preempted (aging of overdue jobs) */
    double share;               /* admission share to release */
    srv_job_state state;
    bool started;               /* has a context: pinned to its worker */
    bool cancelled;             /* stopped or skipped because its client left (worker thread only) */
    bool io_parked;             /* without preemption: out only for its loop's round of events */
    struct srv_worker *owner;   /* the worker of the loop that read it (another one: stolen) */
    srv_listener *l;            /* that loop: srv_complete goes there */
    rt_stack *stack;
    void *sp;                   /* saved stack pointer while switched out */
    rt_thread_state ts;         /* runtime thread state while switched out */
    void *san_fake;             /* ASan: its fake frames while switched out */
    srv_outcome out;
} srv_job;

typedef struct srv_heap {
    srv_job **v;
    size_t n, cap;
} srv_heap;

/* srv_heap.c (mu held).  srv_heap_push: false when memory runs out. */
bool srv_heap_push(srv_heap *h, srv_job *j);
srv_job *srv_heap_top(const srv_heap *h);
srv_job *srv_heap_remove(srv_heap *h, size_t i);
void srv_heap_free(srv_heap *h);

typedef struct srv_worker {
    struct srv_sched *s;
    unsigned idx;
    pthread_t thread;
    srv_heap local;                     /* jobs for this worker (started ones are pinned) */
    _Atomic uint64_t local_min;         /* key of local's top, for the signal handler */
    srv_job *_Atomic running;           /* the job on the CPU, NULL in the scheduler context */
    _Atomic uint64_t running_key;       /* its key (SRV_KEY_NONE when idle), for the listener */
    void *sched_sp;                     /* the worker's own context while a sandbox runs */
    void *san_fake;                     /* ASan: the worker's fake frames while a sandbox runs */
    const void *san_lo;                 /* ASan: the worker's own stack, learned on switching */
    size_t san_size;
    rt_tick_timer timer;
    bool timer_ok, armed;
    rt_stack *pool[SRV_STACK_POOL];
    unsigned npool;
    bool here;                          /* its loop's thread runs it, between its events */
    bool stole;                         /* the last pick took another worker's job (look for more) */
    bool steal_soon;                    /* the last pick saw another's job too young to steal */
    int io_fd;                          /* its loop's epoll descriptor (the tick polls it), else -1 */
    volatile sig_atomic_t io_yield;     /* the tick stopped the job only for its loop's events */
    srv_listener *loop;                 /* the event loop on its thread */
    struct srv_gen *gen;                /* the generation its loop routes with (holds a reference) */
} srv_worker;

struct srv_sched {
    srv_listener *l;
    srv_settings settings;
    srv_gen *gen;                       /* current (written by loop 0; each worker holds its loop's, srv_worker.gen) */
    srv_gen *retired;                   /* older ones, until their jobs are done (loop 0's thread) */
    srv_admit admit;
    pthread_mutex_t mu;
    pthread_mutex_t refetch_mu;         /* a store route's swap-in (srv_refetch_poll) from any loop */
    srv_heap global;
    _Atomic uint64_t global_min;
    bool quit;
    uint64_t seq;
    srv_worker *w;
    unsigned nw, nstarted;              /* nstarted: workers whose loop runs (0 is srv_main's thread) */
    _Atomic uint64_t n_queued, n_running, n_preempted, n_completed, n_preemptions, n_steals, n_cancelled;
    _Atomic uint64_t n_handed_off;      /* jobs run by another worker than their loop's (stolen): answered across threads */
};

/* srv_job.c */
/* CLOCK_MONOTONIC in ns: request arrival, keys, deadlines, timeouts. */
/* Recomputes the lock-free minimums after a queue change (mu held). */
void srv_job_publish_mins(struct srv_sched *s, srv_worker *w);
/* Answers a finished (or never started) job and frees it.  Any thread. */
void srv_job_finish(struct srv_sched *s, srv_job *j);

/* srv_worker.c */
/* Every worker is an event loop's thread: srv_workers_start makes the
 * workers (no threads); srv_workers_loops, on srv_main's thread with the
 * listener's loops made (srv_listener_add_loops), makes that thread
 * worker 0 and starts a thread per other loop, which adopts its worker
 * and runs the loop.  Each loop runs its worker's jobs through
 * srv_workers_run_here between rounds of events. */
SRV_WARN_UNUSED bool srv_workers_start(struct srv_sched *s, srv_err *err);
SRV_WARN_UNUSED bool srv_workers_loops(struct srv_sched *s, srv_err *err);
/* As the loop's runner (srv_listener_set_runner): 0 more ready, > 0 look
 * again within that many ms (another worker's job not yet old enough to
 * steal), -1 nothing. */
int srv_workers_run_here(struct srv_sched *s);
void srv_workers_join(struct srv_sched *s);
/* The worker whose loop runs on this thread, or NULL. */
srv_worker *srv_workers_self(void);

#endif
