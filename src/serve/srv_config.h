/*
 * srv_config.h — what `wedge serve` serves (the JSON configuration file)
 * and how it runs (flags and SLEdge environment variables).
 *
 * Configuration: both JSON forms of SPEC §4 — the SLEdge module list
 * (`[{"name","path","port",...}]`, one module per port served at every
 * path) and tenants with routes (`[{"name","port","routes":[...]}]`) — are
 * normalised into one srv_config: a list of ports, each with its routes.
 * A module-list entry becomes a port with one route "/".  The root is
 * either form's array, or an object {"host": ADDR, "ports": [...]} whose
 * "ports" is that array and whose "host" is the address to listen on
 * (--host wins over it).
 *
 * Ownership: srv_config_load() fills a caller-provided srv_config whose
 * contents (ports, routes, strings) live in one block owned by it and are
 * released by srv_config_free().  Nothing points into the JSON text.
 *
 * Errors: false + srv_err "FILE: key \"[0].routes[2].port\": reason".
 * Nothing is allocated on the error path beyond what is freed before
 * returning.
 *
 * All defaults live in the SRV_DEFAULT_* constants below.
 */
#ifndef WEDGE_SRV_CONFIG_H
#define WEDGE_SRV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_conn.h"
#include "srv_err.h"
#include "wasi/wasi.h"

/* ---- defaults (the only place they are written down) --------------------- */

#define SRV_DEFAULT_PERCENTILE          70u     /* admissions-percentile */
#define SRV_DEFAULT_CONTENT_TYPE        "text/plain"
#define SRV_MAX_DEADLINE_US             3600000000ull  /* one hour */
#define SRV_MAX_MEMORY_MB               4096u   /* wasm32: 4 GiB */
#define SRV_MAX_ROUTE_LEN               1024u
#define SRV_DEFAULT_QUANTUM_US          1000u   /* SPEC §4: 1 ms */
#define SRV_MAX_WORKERS                 1024u
#define SRV_DEFAULT_HOST                "0.0.0.0"
#define SRV_DEFAULT_IDLE_TIMEOUT_MS     30000u  /* keep-alive connection with nothing pending */
#define SRV_DEFAULT_REQUEST_TIMEOUT_MS  10000u  /* first byte to last byte of one request */
#define SRV_DEFAULT_DRAIN_TIMEOUT_MS    2000u   /* reading leftovers after shutdown(SHUT_WR) */
#define SRV_DEFAULT_GRACE_MS            10000u  /* in-flight requests on SIGTERM */
#define SRV_DEFAULT_MAX_CONNECTIONS     10000u
/* At the connection limit, a request still arriving after this long may
 * lose its slot to a new client (srv_listen_evict.c). */
#define SRV_SLOW_REQUEST_MS             1000u
/* Admitted requests waiting for a worker, at most; 503 "queue full" beyond. */
#define SRV_DEFAULT_MAX_QUEUE           4096u
/* Linear memory per sandbox for routes without max-memory-mb: a guest
 * that grows in a loop stops here, not at wasm32's 4 GiB (times the
 * workers).  Edge platforms give a function 128 MiB; 256 leaves room. */
#define SRV_DEFAULT_MAX_MEMORY_MB       256u

/* ---- the normalised configuration ----------------------------------------- */

typedef struct srv_route {
    const char *name;           /* module name, or "tenant/route" for tenants */
    const char *prefix;         /* URL path prefix, starts with '/' */
    size_t prefix_len;
    const char *path;           /* .so / .wasm (or a static route's .txt file), resolved against the config's directory */
    uint64_t relative_deadline_us;      /* > 0 */
    uint64_t expected_execution_us;     /* 0 = unknown: first estimate is deadline / 2 */
    uint64_t timeout_us;                /* hard limit from arrival (504); 0 = SRV_DEFAULT_TIMEOUT_US (10 s) */
    uint32_t admissions_percentile;     /* 50..99 */
    uint32_t max_memory_mb;             /* 0 = the server's --max-memory-mb (0 there too: the module's own maximum) */
    const char *content_type;
    bool wagi;                          /* function prints Status:/Content-Type: headers first */
    /* "dirs": {"HOST_DIR": "/GUEST_DIR[:rw]"}: directories pre-opened for
     * every request (WASI, and Dagger's file://), read-only unless ":rw";
     * host paths resolved against the config's directory, checked at load. */
    const wasi_preopen *dirs;
    int ndirs;
    const char *const *allow_http;      /* Dagger http(s):// allow-list patterns ("allow-http") */
    size_t nallow_http;
    const char *ca_file;                /* "ca-file": PEM CAs trusted for https:// (NULL: the system's) */
    /* Snapshots (SPEC §6): requests start from `snapshot` (a file made by
     * `wedge snapshot`, resolved like path), or from one the server takes
     * itself after running export `init` when the route loads; NULL both:
     * a fresh instance per request.  At most one of the two. */
    const char *snapshot;
    const char *init;
    /* Export run per request (no params, no results); NULL: `_start`. */
    const char *entry;
    /* Remote instantiation (issue 9): path is a store URL (wedge://HOST:PORT/NAME
     * or redis://...), fetched into the node cache when the route loads.
     * "fetch" (eager | lazy) and "granularity" as `wedge run --fetch/--granularity`;
     * store_key_file: the route's "store-key-file", else the server's. */
    bool remote;
    const char *fetch;
    const char *granularity;
    const char *store_key_file;
} srv_route;

typedef struct srv_port {
    uint16_t port;
    const char *tenant;         /* tenant or module name */
    srv_route *routes;
    size_t nroutes;
} srv_port;

typedef struct srv_config {
    srv_port *ports;
    size_t nports;
    const char *host;           /* the object form's "host" (checked: an address), else NULL */
    void *block_;               /* private: the one allocation behind everything above */
} srv_config;

/* Reads and checks FILE.  On success *cfg owns its memory. */
SRV_WARN_UNUSED bool srv_config_load(const char *file, srv_config *cfg, srv_err *err);

/* Same from text in memory; `label` names it in messages and `base_dir`
 * resolves relative paths (NULL: the current directory). */
SRV_WARN_UNUSED bool srv_config_parse(const char *text, size_t len, const char *label,
                                      const char *base_dir, srv_config *cfg, srv_err *err);

void srv_config_free(srv_config *cfg);

/* The route for a request path on a port: longest matching prefix, where a
 * prefix matches at a segment boundary ("/fib" matches "/fib" and "/fib/x"
 * but not "/fibber"; "/" matches everything).  NULL when nothing matches. */
const srv_route *srv_route_match(const srv_port *port, const char *path, size_t len);

/* ---- runtime settings ---------------------------------------------------- */

typedef enum srv_sched_policy { SRV_SCHED_EDF = 0, SRV_SCHED_FIFO = 1 } srv_sched_policy;
typedef enum srv_log_level { SRV_LOG_ERROR = 0, SRV_LOG_WARN, SRV_LOG_INFO, SRV_LOG_DEBUG } srv_log_level;

typedef struct srv_settings {
    unsigned workers;           /* default: online CPUs, at least 1 */
    srv_sched_policy scheduler;
    uint32_t quantum_us;
    bool preemption;
    bool admission;             /* admission control (429 when over capacity); --no-admission turns it off */
    uint16_t admin_port;        /* 0 = no admin listener */
    srv_log_level log_level;
    const char *host;           /* address the ports are bound on (points into argv or a literal) */
    bool host_given;            /* --host was on the command line: it wins over the config's "host" */
    uint32_t idle_timeout_ms;
    uint32_t request_timeout_ms;
    uint32_t drain_timeout_ms;
    uint32_t grace_ms;
    uint32_t max_connections;
    uint32_t max_per_address;   /* open connections per client address at most; 0 = no limit */
    uint32_t max_queue;         /* queued (not yet started) requests at most: 503 beyond */
    uint32_t max_memory_mb;     /* for routes without max-memory-mb; 0 = the module's own maximum */
    http_limits limits;
    const char *access_log;     /* JSON-lines request log: a file, "-" for stderr, NULL for none */
    const char *store_key_file; /* --store-key-file: for store routes without their own (points into argv) */
    const char *config_file;    /* the positional argument (points into argv); NULL: the built-in
                                 * default (the examples next to the executable, port 8080) */
    bool help;                  /* --help was given: print usage, nothing else is checked */
} srv_settings;

/* Fills every field with its default. */
void srv_settings_defaults(srv_settings *s);

/* Defaults, then the SLEdge environment variables (read through `getenv_fn`,
 * normally getenv, so tests can inject them), then the flags in argv[1..]:
 * flags win.  Exactly one positional argument (the config file) unless
 * --help. */
SRV_WARN_UNUSED bool srv_settings_parse(srv_settings *s, int argc, char **argv,
                                        const char *(*getenv_fn)(const char *), srv_err *err);

/* Usage text for --help. */
extern const char srv_usage[];

const char *srv_sched_name(srv_sched_policy p);

#endif
