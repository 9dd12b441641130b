/*
 * srv_main.c — `wedge serve`: settings, configuration (a file, or the
 * built-in default that serves the example functions), the scheduler
 * (srv_sched.h: sandboxes on worker threads; static routes answered at
 * once, srv_static.h), the listener, and signals.
 */
#include "serve.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv_config.h"
#include "srv_listen.h"
#include "srv_log.h"
#include "srv_sched.h"

/* The signal handler's view of the running listener. */
static srv_listener *volatile running;
static atomic_int signals_seen;

static void on_stop_signal(int sig)
{
    (void)sig;
    /* SPEC §4: the first signal drains, a second one exits at once. */
    if (atomic_fetch_add(&signals_seen, 1) > 0)
        _exit(1);
    srv_listener *l = running;
    if (l)
        srv_listener_stop(l);
}

static void on_hup(int sig)
{
    (void)sig;
    srv_listener *l = running;
    if (l)
        srv_listener_request_reload(l);
}

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

/* The built-in configuration, used when no CONFIG.json is given: the
 * examples built next to the executable (<build>/examples/http/), on port
 * 8080.  Deadlines are generous for the CPU-bound ones; /loop never ends
 * and is killed after one second. */
static const char default_config[] =
    "[{\"name\":\"examples\",\"port\":8080,\"routes\":["
    "{\"route\":\"/hello\",\"path\":\"hello.wasm\",\"relative-deadline-us\":50000},"
    "{\"route\":\"/echo\",\"path\":\"echo.wasm\",\"relative-deadline-us\":50000,"
    "\"http-resp-content-type\":\"application/octet-stream\"},"
    "{\"route\":\"/fib\",\"path\":\"fib.wasm\",\"relative-deadline-us\":100000},"
    "{\"route\":\"/cpu\",\"path\":\"cpu.wasm\",\"relative-deadline-us\":500000},"
    "{\"route\":\"/trap\",\"path\":\"trap.wasm\",\"relative-deadline-us\":50000},"
    "{\"route\":\"/loop\",\"path\":\"loop.wasm\",\"relative-deadline-us\":100000,"
    "\"timeout-us\":1000000},"
    "{\"route\":\"/wagi\",\"path\":\"wagi.wasm\",\"relative-deadline-us\":50000,\"wagi\":true}]}]";

static bool load_default_config(srv_config *cfg, srv_err *err)
{
    char exe[PATH_MAX], dir[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return srv_fail(err, "serve: no CONFIG.json given and the executable's directory is unknown");
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(dir, sizeof dir, "%s/examples/http", exe);
    if (access(dir, R_OK) != 0)
        return srv_fail(err, "serve: no CONFIG.json given and no built examples in %s", dir);
    srv_log(SRV_LOG_INFO, "no CONFIG.json: serving the examples in %s on port 8080", dir);
    return srv_config_parse(default_config, sizeof default_config - 1, "built-in default", dir, cfg, err);
}

/* SIGHUP, on the listener thread: read the configuration again.  Any
 * error leaves the running configuration in place, with one line in the
 * log saying why. */
typedef struct reloader {
    srv_sched *sched;
    srv_listener *listener;
    const char *file;           /* NULL: the built-in default */
    uint32_t max_memory_mb;     /* --max-memory-mb, for routes without their own */
    const char *store_key_file; /* --store-key-file, likewise */
    const char *host;           /* the config's "host" in effect, NULL: none (or --host given) */
    bool host_given;            /* --host: the config's "host" is not looked at */
} reloader;

/* The configuration's "host" is where the ports are bound, at start; a
 * reload cannot move them (a new port joins the others' address). */
static bool same_host(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Routes without their own max-memory-mb get the server's. */
static void apply_memory_default(srv_config *cfg, uint32_t mb)
{
    for (size_t i = 0; i < cfg->nports; i++)
        for (size_t j = 0; j < cfg->ports[i].nroutes; j++)
            if (!cfg->ports[i].routes[j].max_memory_mb)
                cfg->ports[i].routes[j].max_memory_mb = mb;
}

/* Store routes without their own store-key-file get the server's. */
static void apply_store_key_default(srv_config *cfg, const char *key_file)
{
    for (size_t i = 0; i < cfg->nports; i++)
        for (size_t j = 0; j < cfg->ports[i].nroutes; j++)
            if (cfg->ports[i].routes[j].remote && !cfg->ports[i].routes[j].store_key_file)
                cfg->ports[i].routes[j].store_key_file = key_file;
}

static const srv_config *reload_config(void *ud, const srv_config *cur)
{
    reloader *r = ud;
    const char *what = r->file ? r->file : "the built-in configuration";
    srv_err err;
    srv_config *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        srv_log(SRV_LOG_ERROR, "reload refused, still serving the previous configuration: out of memory");
        return NULL;
    }
    if (!(r->file ? srv_config_load(r->file, cfg, &err) : load_default_config(cfg, &err))) {
        srv_log(SRV_LOG_ERROR, "reload refused, still serving the previous configuration: %s", err.msg);
        free(cfg);
        return NULL;
    }
    if (!r->host_given && !same_host(cfg->host, r->host)) {
        srv_log(SRV_LOG_ERROR, "reload refused, still serving the previous configuration: %s: \"host\" changed "
                "from %s to %s; the address is fixed when the server starts", what, r->host ? r->host : "none",
                cfg->host ? cfg->host : "none");
        srv_config_free(cfg);
        free(cfg);
        return NULL;
    }
    apply_memory_default(cfg, r->max_memory_mb);
    apply_store_key_default(cfg, r->store_key_file);
    (void)cur;
    /* New ports are bound first: a port that cannot be bound refuses the
     * reload before any module is loaded or anything changes. */
    bool ok = srv_listener_bind_ports(r->listener, cfg, &err);
    if (ok && !srv_sched_reload(r->sched, cfg, &err)) {
        srv_listener_unbind_ports(r->listener);
        ok = false;
    }
    if (!ok)
        srv_log(SRV_LOG_ERROR, "reload refused, still serving the previous configuration: %s", err.msg);
    if (!ok) {
        srv_config_free(cfg);
        free(cfg);
        return NULL;
    }
    srv_log(SRV_LOG_INFO, "reloaded %s", what);
    return cfg;
}

int srv_main(int argc, char **argv)
{
    srv_settings s;
    srv_err err;
    if (!srv_settings_parse(&s, argc, argv, env_lookup, &err)) {
        fprintf(stderr, "wedge: %s\n", err.msg);
        return 1;
    }
    if (s.help) {
        fputs(srv_usage, stdout);
        return 0;
    }
    srv_log_set_level(s.log_level);
    /* Response buffers (up to 16 MiB of a function's stdout) must go back
     * to the system when freed.  glibc raises its mmap threshold after
     * such a buffer is freed, so the next ones would come from a worker's
     * arena and stay resident there for good; a fixed threshold keeps
     * every large buffer mmapped. */
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
    srv_config cfg;
    if (!(s.config_file ? srv_config_load(s.config_file, &cfg, &err) : load_default_config(&cfg, &err))) {
        fprintf(stderr, "wedge: %s\n", err.msg);
        return 1;
    }
    apply_memory_default(&cfg, s.max_memory_mb);
    apply_store_key_default(&cfg, s.store_key_file);
    /* --host wins over the configuration's "host"; the copy outlives cfg
     * (a reload frees it) for as long as the listener binds ports. */
    char host[72];
    if (!s.host_given && cfg.host) {
        snprintf(host, sizeof host, "%s", cfg.host);
        s.host = host;
    }
    srv_log(SRV_LOG_INFO, "%zu port(s), %u worker(s), %s scheduler, quantum %u us%s", cfg.nports,
            s.workers, srv_sched_name(s.scheduler), s.quantum_us, s.preemption ? "" : ", no preemption");

    int rc = 1;
    srv_sched *sched = srv_sched_new(&cfg, &s, &err);
    srv_listener *l = sched ? srv_listener_new(&cfg, &s, srv_sched_dispatch, sched, &err) : NULL;
    if (!l) {
        fprintf(stderr, "wedge: %s\n", err.msg);
        srv_sched_free(sched);
        srv_config_free(&cfg);
        return 1;
    }
    srv_listener_set_metrics(l, srv_sched_metrics, sched);
    if (!srv_sched_attach(sched, l, &err)) {
        fprintf(stderr, "wedge: %s\n", err.msg);
        srv_listener_stop(l);
        srv_sched_free(sched);
        srv_listener_free(l);
        srv_config_free(&cfg);
        return 1;
    }
    reloader rl = { .sched = sched, .listener = l, .file = s.config_file, .max_memory_mb = s.max_memory_mb,
                    .store_key_file = s.store_key_file, .host = !s.host_given && cfg.host ? host : NULL,
                    .host_given = s.host_given };
    srv_listener_set_reload(l, reload_config, &rl);

    /* SA_ONSTACK: this thread is worker 0 too (srv_sched_attach), so a
     * signal may arrive while a sandbox's stack is in use, perhaps near
     * its guard; the handlers run on the alternate signal stack. */
    struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_ONSTACK | SA_RESTART }, old_int,
                     old_term, old_pipe, old_hup;
    sigemptyset(&sa.sa_mask);
    atomic_store(&signals_seen, 0);
    running = l;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);
    struct sigaction hup = { .sa_handler = on_hup, .sa_flags = SA_RESTART | SA_ONSTACK };
    sigemptyset(&hup.sa_mask);
    sigaction(SIGHUP, &hup, &old_hup);

    if (srv_listener_run(l, &err)) {
        rc = 0;
    } else {
        fprintf(stderr, "wedge: %s\n", err.msg);
        rc = 2;
    }
    srv_sched_free(sched);      /* answers what is still queued, into the stopped listener */
    running = NULL;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    srv_listener_free(l);
    srv_config_free(&cfg);
    srv_log(SRV_LOG_INFO, "stopped");
    return rc;
}
