/*
 * srv_listen_reload.c — configuration reload (SIGHUP) between events,
 * including ports added and removed (see srv_listen_internal.h).
 *
 * Two steps, so that a reload is all or nothing: the reload callback binds
 * the new configuration's new ports (srv_listener_bind_ports) before it
 * loads anything, and when it then accepts the configuration,
 * srv_listen_reload makes them live and drops the ports no longer listed.
 * A port that cannot be bound (in use, no permission) refuses the whole
 * reload with nothing changed.  lport structs are never freed before the
 * listener (connections point at them); a dropped one keeps fd -1.
 */
#include "srv_listen_internal.h"

#include <stdlib.h>
#include <sys/epoll.h>
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

/* The live (or pending) tenant port with this number, or NULL. */
static lport *find_port(srv_listener *l, uint16_t number, bool pending)
{
    size_t lo = pending ? l->nlports : 0, hi = pending ? l->nlports + l->npending : l->nlports;
    for (size_t i = lo; i < hi; i++) {
        lport *lp = l->lports[i];
        if (!lp->admin && !lp->removed && lp->number == number)
            return lp;
    }
    return NULL;
}

bool srv_listener_bind_ports(srv_listener *l, const srv_config *cfg, srv_err *err)
{
    srv_listener_unbind_ports(l);
    for (size_t i = 0; i < cfg->nports; i++) {
        uint16_t number = cfg->ports[i].port;
        if (find_port(l, number, false) || find_port(l, number, true))
            continue;
        lport *lp = srv_listen_lports_grow(l) ? calloc(1, sizeof *lp) : NULL;
        if (!lp) {
            srv_listener_unbind_ports(l);
            return srv_fail(err, "serve: out of memory");
        }
        *lp = (lport){ .fd = -1, .number = number };
        if (!srv_listen_bind(l, lp, err)) {
            free(lp);
            srv_listener_unbind_ports(l);
            return false;
        }
        l->lports[l->nlports + l->npending++] = lp;
    }
    return true;
}

void srv_listener_unbind_ports(srv_listener *l)
{
    for (size_t i = l->nlports; i < l->nlports + l->npending; i++) {
        close(l->lports[i]->fd);
        free(l->lports[i]);
        l->lports[i] = NULL;
    }
    l->npending = 0;
}

/* Between events: swap in a new configuration. */
void srv_listen_reload(srv_listener *l)
{
    if (!l->reload_fn || l->draining)
        return;
    srv_listen_take_completions(l);
    const srv_config *cfg = l->reload_fn(l->reload_ud, l->cfg);
    if (!cfg) {
        srv_listener_unbind_ports(l);      /* in case the callback bound and did not say */
        return;
    }
    /* The pending ports go live (the callback bound every new one). */
    size_t first_new = l->nlports;
    for (size_t i = first_new; i < first_new + l->npending; i++) {
        lport *lp = l->lports[i];
        struct epoll_event e = { .events = l->listen_ev, .data.u64 = TAG(TAG_LISTEN, i) };
        /* While accepts are paused, resuming adds it. */
        if (!l->accept_paused_until && epoll_ctl(l->ep, EPOLL_CTL_ADD, lp->fd, &e) != 0)
            srv_log(SRV_LOG_ERROR, "reload: port %u: epoll_ctl failed; not accepting on it", lp->number);
    }
    pthread_mutex_lock(&l->ports_mu);      /* other loops copy lports (srv_listen_loop_sync) */
    l->nlports += l->npending;
    l->npending = 0;
    srv_listen_apply_ports(l, cfg, first_new);
    pthread_mutex_unlock(&l->ports_mu);
    /* Every other loop takes it between its events (and its ports). */
    atomic_store(&l->cfg_pub, cfg);
    for (unsigned i = 1; i < l->nloops; i++)
        (void)srv_listener_wake_idle(l->loops[i]);
}

void srv_listen_apply_ports(srv_listener *l, const srv_config *cfg, size_t first_new)
{
    /* Every tenant port: its new srv_port, or removed. */
    for (size_t i = 0; i < l->nlports; i++) {
        lport *lp = l->lports[i];
        if (lp->admin || lp->removed)
            continue;
        lp->port = NULL;
        for (size_t k = 0; k < cfg->nports && !lp->port; k++)
            if (cfg->ports[k].port == lp->number)
                lp->port = &cfg->ports[k];
        if (lp->port) {
            if (i >= first_new)
                srv_listen_log_listening(l, lp);
            continue;
        }
        lp->removed = true;
        (void)epoll_ctl(l->ep, EPOLL_CTL_DEL, lp->fd, NULL);
        close(lp->fd);
        lp->fd = -1;
        srv_log(SRV_LOG_INFO, "no longer listening on port %u", lp->number);
    }
    /* Idle connections of removed ports close now; busy ones after their
     * answer (srv_conn_respond / the completion see lp->removed). */
    for (uint32_t i = 0; i < l->nslots; i++) {
        conn *c = l->slots[i];
        if (c && c->fd >= 0 && c->lp->removed && !c->in_flight && c->out_off == c->out_len && !c->in_len)
            srv_conn_begin_drain(l, c);
    }
    l->cfg = cfg;
    if (l->sync_fn)
        l->sync_fn(l->sync_ud);
}
