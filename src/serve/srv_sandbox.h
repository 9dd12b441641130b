/*
 * srv_sandbox.h — the function side of `wedge serve`: each route's module
 * loaded once per configuration, at start-up and at each reload
 * (srv_fnset; a static route's file through srv_static.h), and one request
 * run in a fresh instance (srv_sandbox_exec) with the function contract of
 * SPEC §4:
 * request body on stdin, stdout is the response body (or WAGI headers +
 * body), stderr to the log, argv = route name + query values, CGI/WAGI
 * environment variables.
 *
 * srv_sandbox_exec runs on whatever stack the caller is on; a worker calls
 * it on a sandbox's own guest stack (sandbox_main in srv_worker.c) after
 * making that stack the thread's active guest stack, so instantiation and
 * _start run in place and every trap ends inside it.
 *
 * Ownership: the srv_fnset owns the modules and their linkers
 * (srv_fnset_free) and static routes' contents; not the per-route metrics
 * (the scheduler shares them between generations, srv_metrics.h) nor the
 * memory pools (srv_sched.c).  An srv_outcome owns the instance of its
 * request (and with it the instance's WASI context) until
 * srv_outcome_release(); its body points into them.
 *
 * Errors: false + srv_err for start-up; per request, the outcome's status.
 *
 * Threads: srv_fnset_load/_free on the listener thread (or before it
 * runs); srv_fn_load/_unload also on a store route's retry thread; srv_sandbox_exec and srv_outcome_release on a worker.
 */
#ifndef WEDGE_SRV_SANDBOX_H
#define WEDGE_SRV_SANDBOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"
#include "srv_admit.h"
#include "srv_listen.h"
#include "srv_metrics.h"

#define SRV_SANDBOX_STDOUT_LIMIT ((size_t)16 << 20)    /* response body at most */
#define SRV_SANDBOX_STDERR_LIMIT ((size_t)8 << 10)     /* logged per request at most */
#define SRV_DEFAULT_TIMEOUT_US   10000000ull            /* hard per-request limit: 10 s */
#define SRV_SANDBOX_MAX_HEADERS  16                     /* WAGI headers passed through */

typedef enum srv_fn_kind {
    SRV_FN_WASM = 0,    /* a loaded module: runs in sandboxes */
    SRV_FN_STATIC,      /* a static route: a file's contents (srv_static.h) */
    SRV_FN_BROKEN,      /* could not be loaded: answers 503 with the reason */
} srv_fn_kind;

typedef struct srv_fn {
    const srv_route *route;
    srv_fn_kind kind;
    rt_module *mod;
    rt_linker *linker;                  /* the host modules its imports are linked to (read-only once loaded) */
    int wasi_slot;                      /* WASI's host slot in linker: the per-request config goes there */
    int dagger_slot;                    /* Dagger's, likewise */
    int cwa_slot;                       /* CommonWA's, likewise */
    const uint16_t *deny_ports;         /* ports Dagger http(s) streams may not reach (the srv_fnset's) */
    size_t ndeny_ports;
    uintptr_t text_lo, text_hi;         /* the module's code, for preemption */
    uint8_t *static_body;               /* SRV_FN_STATIC: the file, owned */
    size_t static_len;
    char broken[600];                   /* why, for SRV_FN_BROKEN */
    srv_admit_route admit;
    srv_route_metrics *metrics;         /* shared by every generation with this route name (srv_sched.c) */
    struct rt_mempool **pools;          /* [workers] linear memories, each used by its worker only */
    rt_snapshot *snap;                  /* requests start from it (route "snapshot" / "init"), or NULL */
    struct srv_lazy *lazy;              /* a lazy store route (snap is then its small state), owned */
    bool store_down;                    /* SRV_FN_BROKEN because its store could not be reached */
    struct srv_refetch *refetch;        /* its retry while store_down (srv_refetch.h), owned */
} srv_fn;

typedef struct srv_fnset {
    srv_fn *fns;
    size_t n;
    uint16_t admin_port;                /* set before srv_fnset_load (0: none; zero the set first) */
    uint16_t *deny_ports;               /* every served port and the admin port (owned) */
    size_t ndeny_ports;
} srv_fnset;

/* Loads every route of cfg (.wasm through the compile cache, .so directly,
 * .txt as a static route) and links its imports against serve's host
 * modules, with the route's snapshot: read from its "snapshot" file, or
 * taken after running its "init" export once (SPEC §6).  A route that
 * cannot be loaded or linked (an import no host module provides), or whose
 * snapshot is refused or larger than its max-memory-mb, is logged and
 * answers 503; false only when memory runs out. */
SRV_WARN_UNUSED bool srv_fnset_load(srv_fnset *set, const srv_config *cfg, srv_err *err);
void srv_fnset_free(srv_fnset *set);
/* One route into fn (route, deny_ports set; the rest zero): loaded, or
 * SRV_FN_BROKEN with the reason (store_down when its store could not be
 * reached).  Any thread: the listener's, or a store route's retry
 * (srv_refetch.h); the compile and module load are one at a time. */
void srv_fn_load(srv_fn *fn);
/* Releases what srv_fn_load put in fn (not metrics, pools, refetch). */
void srv_fn_unload(srv_fn *fn);
srv_fn *srv_fnset_find(const srv_fnset *set, const srv_route *route);

/* What a request produced. */
typedef struct srv_outcome {
    int status;
    const char *content_type;
    const void *body;
    size_t body_len;
    http_header headers[SRV_SANDBOX_MAX_HEADERS];
    size_t nheaders;
    bool trapped;                       /* a trap other than exit/timeout */
    bool timed_out;
    uint64_t exec_ns;                   /* instantiation + run */
    wedge_instance *inst;               /* owned until release */
    char *scratch;                      /* strings of this request (env, headers) */
    char small[160];                    /* error bodies */
} srv_outcome;

/* Instantiates fn's module for req (or restores its snapshot) and runs
 * the route's entry export (default _start).  `kill_ns`
 * (CLOCK_MONOTONIC) bounds sleeping in poll_oneoff.  Fills *out. */
/* `pool` (may be NULL): the caller's pool of linear memories for this
 * route; the instance's memory goes back there at srv_outcome_release,
 * which must then run on the pool's thread. */
struct rt_mempool;
void srv_sandbox_exec(const srv_fn *fn, const srv_request *req, uint64_t kill_ns, struct rt_mempool *pool,
                      srv_outcome *out);
void srv_outcome_release(srv_outcome *out);

/* The 504 / 503 / 500 outcomes the scheduler produces itself. */
void srv_outcome_error(srv_outcome *out, int status, const char *kind);

#endif
