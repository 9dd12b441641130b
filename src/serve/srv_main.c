/*
 * srv_main.c — `wedge serve`: settings, configuration, listener, and the
 * handler behind it (for now the stand-in of srv_stub.h; the scheduler
 * takes its place when the sandbox layer exists), plus signals.
 */
#include "serve.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "srv_config.h"
#include "srv_listen.h"
#include "srv_log.h"
#include "srv_stub.h"

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

static const char *env_lookup(const char *name)
{
    return getenv(name);
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
    srv_config cfg;
    if (!srv_config_load(s.config_file, &cfg, &err)) {
        fprintf(stderr, "wedge: %s\n", err.msg);
        return 1;
    }
    srv_log(SRV_LOG_INFO, "%zu port(s), %u worker(s), %s scheduler, quantum %u us%s", cfg.nports,
            s.workers, srv_sched_name(s.scheduler), s.quantum_us, s.preemption ? "" : ", no preemption");

    int rc = 1;
    srv_stub *stub = srv_stub_new(&err);
    srv_listener *l = stub ? srv_listener_new(&cfg, &s, srv_stub_dispatch, stub, &err) : NULL;
    if (!l) {
        fprintf(stderr, "wedge: %s\n", err.msg);
        srv_stub_free(stub);
        srv_config_free(&cfg);
        return 1;
    }
    srv_stub_attach(stub, l);

    struct sigaction sa = { .sa_handler = on_stop_signal }, old_int, old_term, old_pipe;
    sigemptyset(&sa.sa_mask);
    atomic_store(&signals_seen, 0);
    running = l;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);

    if (srv_listener_run(l, &err)) {
        rc = 0;
    } else {
        fprintf(stderr, "wedge: %s\n", err.msg);
        rc = 2;
    }
    srv_stub_free(stub);        /* answers what is still queued, into the stopped listener */
    running = NULL;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    srv_listener_free(l);
    srv_config_free(&cfg);
    srv_log(SRV_LOG_INFO, "stopped");
    return rc;
}
