/*
 * srv_listen.c — a listener loop: setup (binding the ports), the event
 * loop (epoll over the listening sockets, the client connections and one
 * eventfd that other threads write to when they complete a request or ask
 * us to stop), stop and free.  Every loop runs this; the other loops of
 * --workers N are made in srv_listen_loops.c.  The rest of the listener is in the
 * srv_listen_*.c files named in srv_listen_internal.h.
 *
 * Level-triggered epoll, on purpose: a connection with a request in flight
 * and a full input buffer, or with output the client is slow to take, is
 * paused by dropping EPOLLIN from its interest set.  With level triggering
 * re-adding it later wakes us again if bytes are waiting, where edge
 * triggering would need us to remember "there may be unread data".  It also
 * lets each wake-up do one bounded read per connection, which keeps one
 * busy client from starving the others.
 *
 * One request per connection is in flight at a time; pipelined requests
 * wait in the connection's input buffer (still unparsed) until the response
 * before them is queued, so responses leave in request order by
 * construction.
 *
 * A connection whose client goes away while its request is in flight is an
 * "orphan": its socket is closed at once but its memory (which the request
 * points into) lives until srv_complete() comes back for it.
 *
 * Closing: whenever the server ends a connection that might still carry
 * client bytes (an error reply, Connection: close, a timeout), it shuts
 * down its sending side and reads until EOF or a short drain timeout before
 * close(), because close() with unread input makes the kernel send RST,
 * which can destroy the reply the client has not read yet.
 */
#define _GNU_SOURCE
#include "srv_listen_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "srv_log.h"

/* --host: an IPv4 address, or an IPv6 one (brackets allowed: "[::1]").
 * "::" listens on both families (IPV6_V6ONLY off: IPv4 clients arrive as
 * ::ffff:a.b.c.d); any other IPv6 address on IPv6 only. */
bool srv_listen_bind(srv_listener *l, lport *lp, srv_err *err)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    int family;
    char host[INET6_ADDRSTRLEN + 2];
    const char *h = l->s.host;
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']' && hl - 2 < sizeof host) {
        memcpy(host, h + 1, hl - 2);
        host[hl - 2] = 0;
    } else if (hl < sizeof host) {
        memcpy(host, h, hl + 1);
    } else {
        host[0] = 0;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        family = s4->sin_family = AF_INET;
        s4->sin_port = htons(lp->number);
        len = sizeof *s4;
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        family = s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(lp->number);
        len = sizeof *s6;
    } else {
        return srv_fail(err, "serve: --host %s: not an IPv4 or IPv6 address", l->s.host);
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return srv_fail(err, "serve: socket: %s", strerror(errno));
    int one = 1, v6only = !IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0) {
        int e = errno;
        close(fd);
        return srv_fail(err, "serve: --host %s: IPV6_V6ONLY: %s", l->s.host, strerror(e));
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        return srv_fail(err, "serve: cannot listen on %s%s%s:%u: %s", family == AF_INET6 && h[0] != '[' ? "[" : "",
                        h, family == AF_INET6 && h[0] != '[' ? "]" : "", lp->number, strerror(e));
    }
    lp->fd = fd;
    return true;
}

srv_listener *srv_listener_new(const srv_config *cfg, const srv_settings *settings,
                               srv_dispatch_fn dispatch, void *ud, srv_err *err)
{
    srv_listener *l = calloc(1, sizeof *l);
    if (!l) {
        srv_fail(err, "serve: out of memory");
        return NULL;
    }
    l->cfg = cfg;
    l->s = *settings;
    l->dispatch = dispatch;
    l->ud = ud;
    l->ep = l->wake_fd = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->peers_mu, NULL);
    pthread_mutex_init(&l->ports_mu, NULL);
    l->primary = l;
    l->nloops = 1;
    l->id_step = 1;
    l->listen_ev = EPOLLIN;
    atomic_store(&l->cfg_pub, cfg);
    atomic_store(&l->evict_rank, EVICT_NONE);
    l->evict_slot = UINT32_MAX;
    l->nslots = settings->max_connections;
    size_t nl = cfg->nports + (settings->admin_port ? 1 : 0);
    l->lports_cap = nl + 4;
    l->lports = calloc(l->lports_cap, sizeof *l->lports);
    l->slots = calloc(l->nslots, sizeof *l->slots);
    l->gens = calloc(l->nslots, sizeof *l->gens);
    l->free_slots = calloc(l->nslots, sizeof *l->free_slots);
    if (!l->lports || !l->slots || !l->gens || !l->free_slots || !srv_peers_init(l)) {
        srv_fail(err, "serve: out of memory");
        goto fail;
    }
    /* Hand out low slots first: the sweep then touches fewer cache lines. */
    for (uint32_t i = 0; i < l->nslots; i++)
        l->free_slots[i] = l->nslots - 1 - i;
    l->nfree = l->nslots;
    for (size_t i = 0; l->lports && i < nl; i++) {
        if (!(l->lports[i] = calloc(1, sizeof **l->lports))) {
            srv_fail(err, "serve: out of memory");
            goto fail;
        }
        l->lports[i]->fd = -1;
        l->nlports++;
    }
    if (settings->access_log) {
        bool is_stderr = !strcmp(settings->access_log, "-");
        l->access = is_stderr ? stderr : fopen(settings->access_log, "ae");
        if (!l->access) {
            srv_fail(err, "serve: --access-log %s: %s", settings->access_log, strerror(errno));
            goto fail;
        }
    }
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->ep < 0 || l->wake_fd < 0) {
        srv_fail(err, "serve: epoll/eventfd: %s", strerror(errno));
        goto fail;
    }
    struct epoll_event e = { .events = EPOLLIN, .data.u64 = TAG(TAG_WAKE, 0) };
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake_fd, &e) != 0) {
        srv_fail(err, "serve: epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < l->nlports; i++) {
        lport *lp = l->lports[i];
        lp->port = i < cfg->nports ? &cfg->ports[i] : NULL;
        lp->admin = !lp->port;
        lp->number = lp->port ? lp->port->port : settings->admin_port;
        if (!srv_listen_bind(l, lp, err))
            goto fail;
        e = (struct epoll_event){ .events = l->listen_ev, .data.u64 = TAG(TAG_LISTEN, i) };
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, lp->fd, &e) != 0) {
            srv_fail(err, "serve: epoll_ctl: %s", strerror(errno));
            goto fail;
        }
        srv_listen_log_listening(l, lp);
    }
    return l;
fail:
    srv_listener_free(l);
    return NULL;
}

__thread srv_listener *srv_listen_tls_self;

void srv_listener_set_runner(srv_listener *l, int (*fn)(void *ud), void *ud)
{
    l->run_fn = fn;
    l->run_ud = ud;
}

int srv_listener_poll_fd(const srv_listener *l) { return l->ep; }

bool srv_listener_run(srv_listener *l, srv_err *err)
{
    struct epoll_event evs[MAX_EVENTS];
    uint64_t last_sweep = srv_listen_now_ms();
    bool work = false;          /* the runner has more ready for this thread: do not sleep */
    int soon = -1;              /* else: it wants to look again within this many ms (-1: no) */
    srv_listen_tls_self = l;
    for (;;) {
        if (atomic_load(&l->stop_requested))
            srv_listen_begin_shutdown(l);
        if (atomic_exchange(&l->reload_requested, false))
            srv_listen_reload(l);
        if (l->primary != l && atomic_load(&l->primary->cfg_pub) != l->cfg)
            srv_listen_loop_sync(l);
        srv_listen_accept_balance(l);
        if (l->draining && (l->nconns == 0 || srv_listen_now_ms() >= l->drain_deadline_ms))
            break;
        int timeout = work || l->local_done ? 0 : l->nconns || l->draining || l->accept_paused_until ? SWEEP_MS : -1;
        if (timeout < 0 && l->access)
            fflush(l->access);      /* about to sleep with no timer: do not sit on log lines */
        /* With more loops an idle one looks for work to steal now and
         * then (a loop that queues more than it can run wakes a sleeping
         * one, srv_listener_wake_idle; this covers the race with falling
         * asleep). */
        if (l->primary->nloops > 1 && (timeout < 0 || timeout > IDLE_STEAL_MS))
            timeout = IDLE_STEAL_MS;
        if (soon >= 0 && (timeout < 0 || timeout > soon))
            timeout = soon;
        if (timeout)
            atomic_store(&l->asleep, true);
        int n = epoll_wait(l->ep, evs, MAX_EVENTS, timeout);
        if (timeout)
            atomic_store(&l->asleep, false);
        if (n < 0 && errno == EINTR)
            n = 0;      /* a tick or signal: still run jobs and sweep below (a
                         * `continue` here let ticks of a still-armed timer
                         * starve this loop's runner, which disarms it, and
                         * its sweep, which flushes the access log) */
        if (n < 0) {
            srv_listen_tls_self = NULL;
            return srv_fail(err, "serve: epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            uint32_t idx = (uint32_t)(tag & 0xffffffffu);
            switch (tag >> 56) {
            case TAG_WAKE:
                srv_listen_take_completions(l);
                break;
            case TAG_LISTEN:
                if (idx < l->nlports && l->lports[idx]->fd >= 0)
                    srv_conn_accept(l, l->lports[idx]);
                break;
            case TAG_CONN: {
                conn *c = idx < l->nslots ? l->slots[idx] : NULL;
                if (!c || c->fd < 0)
                    break;      /* closed earlier in this batch */
                uint32_t ev = evs[i].events;
                /* After EOF we no longer ask for EPOLLIN, but HUP/ERR are
                 * always reported: a reset after EOF means the client is gone. */
                if ((ev & (EPOLLHUP | EPOLLERR)) && c->peer_eof && c->state == C_OPEN) {
                    srv_conn_close_now(l, c);
                    break;
                }
                if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    srv_conn_readable(l, c);
                /* conn_readable may have freed c: look it up again */
                c = l->slots[idx];
                if (c && c->fd >= 0 && (ev & EPOLLOUT))
                    srv_conn_settle(l, c);
                break;
            }
            }
        }
        /* Answers made by this round's events (429, 503, static routes)
         * go out before a sandbox takes the thread; then one job of this
         * thread's own (a quantum at most once sockets wait: its tick
         * polls this epoll), and its answer at once. */
        /* (An answer taken may let a pipelined request go on and be
         * answered at once: hence the loops.) */
        while (l->local_done)
            srv_listen_take_queue(l);
        if (l->run_fn) {
            soon = l->run_fn(l->run_ud);
            work = soon == 0;
            while (l->local_done)
                srv_listen_take_queue(l);
        }
        uint64_t now = srv_listen_now_ms();
        if (atomic_load_explicit(&l->evict_wanted, memory_order_relaxed) ||
            atomic_load_explicit(&l->evict_forced, memory_order_relaxed))
            srv_listen_evict_publish(l, now);
        if (now - last_sweep >= SWEEP_MS) {
            last_sweep = now;
            srv_listen_sweep(l, now);
            if (l->access)
                fflush(l->access);
            if (l->accept_paused_until && now >= l->accept_paused_until)
                srv_listen_accept_pause(l, false);
        }
    }
    srv_listen_tls_self = NULL;
    if (l->access)
        fflush(l->access);
    if (l->in_flight)
        srv_log(SRV_LOG_WARN, "grace period over with %zu request(s) still in flight", l->in_flight);
    return true;
}

void srv_listener_stop(srv_listener *l)
{
    /* Every loop (loops is fixed before any loop runs). */
    for (unsigned i = 0; i < l->nloops; i++) {
        srv_listener *o = l->loops ? l->loops[i] : l;
        atomic_store(&o->stop_requested, true);
        uint64_t one = 1;
        ssize_t w = write(o->wake_fd, &one, sizeof one);
        (void)w;
    }
}

void srv_listener_free(srv_listener *l)
{
    if (!l)
        return;
    for (unsigned i = 1; l->loops && i < l->nloops; i++)
        srv_listener_free(l->loops[i]);
    free(l->loops);
    for (uint32_t i = 0; l->slots && i < l->nslots; i++)
        if (l->slots[i]) {
            conn *c = l->slots[i];
            if (c->fd >= 0)
                close(c->fd);
            c->in_flight = false;
            c->fd = -1;
            srv_conn_free(l, c);
        }
    for (size_t i = 0; l->lports && i < l->nlports + l->npending; i++) {
        if (l->lports[i] && l->lports[i]->fd >= 0)
            close(l->lports[i]->fd);
        free(l->lports[i]);
    }
    for (done *d = l->q_head; d;) {
        done *next = d->next;
        srv_listen_done_free(d);
        d = next;
    }
    if (l->ep >= 0)
        close(l->ep);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    if (l->primary != l)
        ;       /* loop 0's access log */
    else if (l->access && l->access != stderr)
        fclose(l->access);
    else if (l->access)
        fflush(l->access);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->peers_mu);
    pthread_mutex_destroy(&l->ports_mu);
    free(l->lports);
    free(l->slots);
    free(l->gens);
    free(l->free_slots);
    srv_peers_free(l);
    srv_spare_free(l);
    free(l);
}

void srv_listen_log_listening(const srv_listener *l, const lport *lp)
{
    bool v6 = strchr(l->s.host, ':') && l->s.host[0] != '[';
    srv_log(SRV_LOG_INFO, "listening on %s%s%s:%u (%s)", v6 ? "[" : "", l->s.host, v6 ? "]" : "", lp->number,
            lp->port ? lp->port->tenant : "admin: /metrics");
}

bool srv_listen_lports_grow(srv_listener *l)
{
    if (l->nlports + l->npending < l->lports_cap)
        return true;
    size_t cap = l->lports_cap * 2;
    pthread_mutex_lock(&l->ports_mu);      /* other loops may be copying lports */
    lport **p = realloc(l->lports, cap * sizeof *p);
    if (p) {
        l->lports = p;
        l->lports_cap = cap;
    }
    pthread_mutex_unlock(&l->ports_mu);
    return p != NULL;
}

void srv_listener_set_metrics(srv_listener *l, void (*fn)(void *ud, FILE *f), void *ud)
{
    l->metrics_fn = fn;
    l->metrics_ud = ud;
}

void srv_listener_get_stats(const srv_listener *l, srv_listener_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned k = 0; k < l->nloops; k++) {
        const srv_listener *o = l->loops ? l->loops[k] : l;
        out->accepted += o->accepted;
        out->requests += o->requests;
        for (int i = 0; i < 6; i++)
            out->responses_by_class[i] += o->by_class[i];
        /* Another loop's plain counters: approximate, as documented. */
        out->open_connections += __atomic_load_n(&o->nconns, __ATOMIC_RELAXED);
        out->in_flight += __atomic_load_n(&o->in_flight, __ATOMIC_RELAXED);
    }
}
