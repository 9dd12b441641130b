/*
 * srv_listen_reload.c — configuration reload (SIGHUP) between events (see
 * srv_listen_internal.h).
 */
#include "srv_listen_internal.h"

#include <unistd.h>

#include "srv_log.h"

void srv_listener_set_reload(srv_listener *l, srv_reload_fn fn, void *ud)
{
    l->reload_fn = fn;
    l->reload_ud = ud;
}

void srv_listener_request_reload(srv_listener *l)
{
    atomic_store(&l->reload_requested, true);
    uint64_t one = 1;
    ssize_t r = write(l->wake_fd, &one, sizeof one);     /* async-signal-safe */
    (void)r;
}

/* Between events: swap in a new configuration.  Listening sockets stay;
 * each keeps its port number, so a new configuration must list the same
 * ports in the same order (the callback refuses any other). */
void srv_listen_reload(srv_listener *l)
{
    if (!l->reload_fn || l->draining)
        return;
    srv_listen_take_completions(l);
    const srv_config *cfg = l->reload_fn(l->reload_ud, l->cfg);
    if (!cfg)
        return;
    size_t nports = l->nlports - (l->s.admin_port ? 1 : 0);
    if (cfg->nports != nports) {
        srv_log(SRV_LOG_ERROR, "reload: %zu ports instead of %zu (ignored)", cfg->nports, nports);
        return;
    }
    for (size_t i = 0; i < nports; i++)
        if (cfg->ports[i].port != l->lports[i].number) {
            srv_log(SRV_LOG_ERROR, "reload: port %u instead of %u (ignored)", cfg->ports[i].port,
                    l->lports[i].number);
            return;
        }
    for (size_t i = 0; i < nports; i++)
        l->lports[i].port = &cfg->ports[i];
    l->cfg = cfg;
}
