/*
 * srv_settings.c — how `wedge serve` runs: defaults, then SLEdge's
 * environment variables, then command-line flags (flags win).
 */
#include "srv_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char srv_usage[] =
    "usage: wedge serve [OPTIONS] [CONFIG.json]\n"
    "\n"
    "Serves the functions listed in CONFIG.json over HTTP/1.1.  Without it,\n"
    "serves the built example functions (<build>/examples/http/*.wasm next to\n"
    "the wedge executable) on port 8080: /hello /echo /fib?n=N /cpu\n"
    "/trap /loop /wagi.  A route whose path ends in .txt serves that file\n"
    "(GET and HEAD; read at start and at each reload).\n"
    "\n"
    "  --workers N            worker threads (default: one per CPU; env SLEDGE_NWORKERS)\n"
    "  --scheduler edf|fifo   scheduling policy (default edf; env SLEDGE_SCHEDULER)\n"
    "  --quantum-us N         preemption quantum in microseconds (default 1000; env SLEDGE_QUANTUM_US)\n"
    "  --no-preemption        never preempt a running function (env SLEDGE_DISABLE_PREEMPTION)\n"
    "  --no-admission         admit every request (no 429 from admission control)\n"
    "  --admin-port N         serve GET /metrics on this port (default: off)\n"
    "  --log-level L          error|warn|info|debug (default info)\n"
    "  --host ADDR            address to listen on, IPv4 or IPv6; :: is both (default 0.0.0.0)\n"
    "  --access-log FILE      one JSON line per request (- for stderr; default: none)\n"
    "  --store-key-file F     pre-shared key for routes whose path is wedge:// or redis://\n"
    "  --idle-timeout-ms N    close keep-alive connections idle this long (default 30000)\n"
    "  --request-timeout-ms N a request must arrive within this time (default 10000)\n"
    "  --grace-ms N           on SIGTERM, wait this long for in-flight requests (default 10000)\n"
    "  --max-connections N    open client connections at most (default 10000)\n"
    "  --max-connections-per-address N\n"
    "                         open connections of one client address at most; more are\n"
    "                         closed at accept (default 0: no limit)\n"
    "  --max-queue N          requests waiting for a worker at most, 503 beyond (default 4096)\n"
    "  --max-memory-mb N      linear memory per sandbox for routes without max-memory-mb\n"
    "                         (default 256; 0: the module's own maximum)\n"
    "  --max-body-bytes N     request body limit, 413 beyond (default 1048576)\n"
    "  --max-url-bytes N      request-target limit, 414 beyond (default 8192)\n"
    "  --max-header-bytes N   header limit, 431 beyond (default 16384)\n"
    "  -h, --help             this text\n"
    "\n"
    "Signals: SIGTERM/SIGINT drain in-flight requests and exit (a second one exits\n"
    "at once); SIGHUP reads CONFIG.json again and serves new requests with it,\n"
    "keeping every connection; ports may be added and removed (a removed port's\n"
    "connections close once idle).  A bad file, or a new port that cannot be\n"
    "bound, is refused with one line in the log and the running configuration stays.\n";

void srv_settings_defaults(srv_settings *s)
{
    memset(s, 0, sizeof *s);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* One worker per core (SPEC §4): the listener mostly sleeps in epoll,
     * and preemption keeps it from waiting long behind a busy worker. */
    s->workers = cpus > 1 ? (unsigned)(cpus > SRV_MAX_WORKERS ? SRV_MAX_WORKERS : cpus) : 1;
    s->scheduler = SRV_SCHED_EDF;
    s->quantum_us = SRV_DEFAULT_QUANTUM_US;
    s->preemption = true;
    s->admission = true;
    s->admin_port = 0;
    s->log_level = SRV_LOG_INFO;
    s->host = SRV_DEFAULT_HOST;
    s->idle_timeout_ms = SRV_DEFAULT_IDLE_TIMEOUT_MS;
    s->request_timeout_ms = SRV_DEFAULT_REQUEST_TIMEOUT_MS;
    s->drain_timeout_ms = SRV_DEFAULT_DRAIN_TIMEOUT_MS;
    s->grace_ms = SRV_DEFAULT_GRACE_MS;
    s->max_connections = SRV_DEFAULT_MAX_CONNECTIONS;
    s->max_queue = SRV_DEFAULT_MAX_QUEUE;
    s->max_memory_mb = SRV_DEFAULT_MAX_MEMORY_MB;
    http_limits_defaults(&s->limits);
}

const char *srv_sched_name(srv_sched_policy p)
{
    return p == SRV_SCHED_FIFO ? "fifo" : "edf";
}

/* A decimal integer in [lo, hi], nothing else. */
static bool parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_sched(const char *s, srv_sched_policy *out)
{
    if (!strcasecmp(s, "edf"))
        *out = SRV_SCHED_EDF;
    else if (!strcasecmp(s, "fifo"))
        *out = SRV_SCHED_FIFO;
    else
        return false;
    return true;
}

static bool parse_level(const char *s, srv_log_level *out)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, names[i])) {
            *out = (srv_log_level)i;
            return true;
        }
    return false;
}

static bool from_env(srv_settings *s, const char *(*getenv_fn)(const char *), srv_err *err)
{
    uint64_t v;
    const char *e;
    if ((e = getenv_fn("SLEDGE_NWORKERS"))) {
        if (!parse_uint(e, 1, SRV_MAX_WORKERS, &v))
            return srv_fail(err, "SLEDGE_NWORKERS=%s: must be an integer in 1..%u", e, SRV_MAX_WORKERS);
        s->workers = (unsigned)v;
    }
    if ((e = getenv_fn("SLEDGE_SCHEDULER")) && !parse_sched(e, &s->scheduler))
        return srv_fail(err, "SLEDGE_SCHEDULER=%s: must be EDF or FIFO", e);
    if ((e = getenv_fn("SLEDGE_QUANTUM_US"))) {
        if (!parse_uint(e, 1, 1000000000u, &v))
            return srv_fail(err, "SLEDGE_QUANTUM_US=%s: must be an integer in 1..1000000000", e);
        s->quantum_us = (uint32_t)v;
    }
    /* SLEdge disables preemption when the variable is set at all; "0" and
     * "false" are read as the user meaning the opposite. */
    if ((e = getenv_fn("SLEDGE_DISABLE_PREEMPTION")))
        s->preemption = !strcmp(e, "0") || !strcasecmp(e, "false") || !strcasecmp(e, "no");
    return true;
}

/* Flags with an integer argument: name, range, where to store it. */
typedef struct int_flag {
    const char *name;
    uint64_t lo, hi;
    size_t off;             /* offset in srv_settings */
    size_t size;            /* sizeof the field */
} int_flag;

#define INT_FLAG(n, lo, hi, field) { n, lo, hi, offsetof(srv_settings, field), sizeof(((srv_settings *)0)->field) }

static const int_flag int_flags[] = {
    INT_FLAG("--workers", 1, SRV_MAX_WORKERS, workers),
    INT_FLAG("--quantum-us", 1, 1000000000u, quantum_us),
    INT_FLAG("--admin-port", 1, 65535, admin_port),
    INT_FLAG("--idle-timeout-ms", 1, 86400000u, idle_timeout_ms),
    INT_FLAG("--request-timeout-ms", 1, 86400000u, request_timeout_ms),
    INT_FLAG("--grace-ms", 0, 86400000u, grace_ms),
    INT_FLAG("--max-connections", 1, 1000000u, max_connections),
    INT_FLAG("--max-connections-per-address", 0, 1000000u, max_per_address),
    INT_FLAG("--max-queue", 1, 10000000u, max_queue),
    INT_FLAG("--max-memory-mb", 0, SRV_MAX_MEMORY_MB, max_memory_mb),
    INT_FLAG("--max-body-bytes", 0, 1u << 30, limits.max_body),
    INT_FLAG("--max-url-bytes", 16, 1u << 20, limits.max_url),
    INT_FLAG("--max-header-bytes", 64, 1u << 24, limits.max_header_bytes),
};

static void store(void *field, size_t size, uint64_t v)
{
    switch (size) {
    case 2: *(uint16_t *)field = (uint16_t)v; break;
    case 4: *(uint32_t *)field = (uint32_t)v; break;
    default: *(uint64_t *)field = v; break;
    }
}

bool srv_settings_parse(srv_settings *s, int argc, char **argv,
                        const char *(*getenv_fn)(const char *), srv_err *err)
{
    srv_settings_defaults(s);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            s->help = true;
            return true;
        }
    if (getenv_fn && !from_env(s, getenv_fn, err))
        return false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        /* --flag=value and --flag value are both accepted. */
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        if (a[0] != '-' || !strcmp(a, "-")) {
            if (s->config_file)
                return srv_fail(err, "serve: more than one configuration file (%s and %s)", s->config_file, a);
            s->config_file = a;
            continue;
        }
        if (!strcmp(name, "--no-admission")) {
            if (val)
                return srv_fail(err, "serve: --no-admission takes no value");
            s->admission = false;
            continue;
        }
        if (!strcmp(name, "--no-preemption")) {
            if (val)
                return srv_fail(err, "serve: --no-preemption takes no value");
            s->preemption = false;
            continue;
        }
        bool takes_value = false;
        for (size_t k = 0; k < sizeof int_flags / sizeof int_flags[0]; k++)
            if (!strcmp(name, int_flags[k].name))
                takes_value = true;
        if (!strcmp(name, "--scheduler") || !strcmp(name, "--log-level") || !strcmp(name, "--host") ||
            !strcmp(name, "--access-log") || !strcmp(name, "--store-key-file"))
            takes_value = true;
        if (!takes_value)
            return srv_fail(err, "serve: unknown option %s (see wedge serve --help)", name);
        if (!val) {
            if (i + 1 >= argc)
                return srv_fail(err, "serve: %s needs a value", name);
            val = argv[++i];
        }
        if (!strcmp(name, "--scheduler")) {
            if (!parse_sched(val, &s->scheduler))
                return srv_fail(err, "serve: --scheduler %s: must be edf or fifo", val);
        } else if (!strcmp(name, "--log-level")) {
            if (!parse_level(val, &s->log_level))
                return srv_fail(err, "serve: --log-level %s: must be error, warn, info or debug", val);
        } else if (!strcmp(name, "--access-log")) {
            if (!*val)
                return srv_fail(err, "serve: --access-log needs a file name (or -)");
            s->access_log = val;
        } else if (!strcmp(name, "--store-key-file")) {
            if (!*val)
                return srv_fail(err, "serve: --store-key-file needs a file name");
            s->store_key_file = val;
        } else if (!strcmp(name, "--host")) {
            if (!*val)
                return srv_fail(err, "serve: --host needs an address");
            s->host = val;
            s->host_given = true;
        } else {
            for (size_t k = 0; k < sizeof int_flags / sizeof int_flags[0]; k++) {
                const int_flag *f = &int_flags[k];
                if (strcmp(name, f->name))
                    continue;
                uint64_t v;
                if (!parse_uint(val, f->lo, f->hi, &v))
                    return srv_fail(err, "serve: %s %s: must be an integer in %llu..%llu", name, val,
                                    (unsigned long long)f->lo, (unsigned long long)f->hi);
                store((char *)s + f->off, f->size, v);
            }
        }
    }
    return true;
}
