/*
 * srv_listen_accept.c — accepting connections, and the accept back-off when
 * descriptors run out (see srv_listen_internal.h).
 */
#define _GNU_SOURCE
#include "srv_listen_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "srv_log.h"

/* Stops or resumes polling the listening sockets.  A port the kernel
 * refuses to re-arm (epoll_ctl failing, say ENOMEM) would stay paused for
 * good: then the pause goes on and the next sweep tick tries again, with
 * one log line per streak of failures.  A port that cannot be paused
 * stays readable: its next accept fails again and asks again, which costs
 * wake-ups but loses nothing. */
/* Every live listening socket of l in (on) or out of its epoll; the
 * number that failed (errno of the last in *why). */
static size_t listen_arm(srv_listener *l, bool on, int *why)
{
    size_t failed = 0;
    for (size_t i = 0; i < l->nlports; i++) {
        if (l->lports[i]->fd < 0)
            continue;
        /* Out of the epoll set and back (not EPOLL_CTL_MOD: an
         * EPOLLEXCLUSIVE registration cannot be modified). */
        struct epoll_event e = { .events = l->listen_ev, .data.u64 = TAG(TAG_LISTEN, i) };
        int rc = epoll_ctl(l->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, l->lports[i]->fd, &e);
        if (rc != 0 && errno != (on ? EEXIST : ENOENT)) {
            failed++;
            *why = errno;
        }
    }
    return failed;
}

/* More than its share (one over the mean) while another loop sleeps:
 * that one should take the next clients. */
static bool over_share(srv_listener *l)
{
    srv_listener *p = l->primary;
    if (p->nloops < 2)
        return false;
    size_t total = atomic_load_explicit(&p->conns_total, memory_order_relaxed);
    if (l->nconns * p->nloops <= total + p->nloops)
        return false;
    for (unsigned i = 0; i < p->nloops; i++) {
        srv_listener *o = srv_listener_loop(p, i);
        if (o != l && atomic_load_explicit(&o->asleep, memory_order_relaxed))
            return true;
    }
    return false;
}

/* A sleeping loop, kicked to accept what this one leaves in the backlog
 * (the kernel will not wake it for clients already waiting). */
static void kick_other(srv_listener *l)
{
    srv_listener *p = l->primary;
    for (unsigned i = 0; i < p->nloops; i++) {
        srv_listener *o = srv_listener_loop(p, i);
        if (o != l && atomic_load_explicit(&o->asleep, memory_order_relaxed)) {
            atomic_store(&o->accept_kick, true);
            (void)srv_listener_wake_idle(o);
            return;
        }
    }
}

void srv_listen_accept_balance(srv_listener *l)
{
    if (l->primary->nloops < 2 || l->draining)
        return;
    if (atomic_exchange(&l->accept_kick, false))
        for (size_t i = 0; i < l->nlports; i++)
            if (l->lports[i]->fd >= 0 && !l->lports[i]->admin)
                srv_conn_accept(l, l->lports[i]);
    bool hold = over_share(l);
    if (hold == l->accept_held || l->accept_paused_until)
        return;
    int why = 0;
    (void)listen_arm(l, !hold, &why);      /* a failure: this loop keeps accepting, or not, as before */
    l->accept_held = hold;
}

void srv_listen_accept_pause(srv_listener *l, bool pause)
{
    int why = 0;
    l->accept_held = false;
    size_t failed = listen_arm(l, !pause, &why);
    uint64_t now = srv_listen_now_ms();
    if (failed && !l->accept_ctl_failing)
        srv_log(SRV_LOG_WARN, "cannot %s accepting on %zu port(s): epoll_ctl: %s%s", pause ? "pause" : "resume",
                failed, strerror(why), pause ? "" : "; trying again at every sweep");
    else if (!failed && l->accept_ctl_failing && !pause)
        srv_log(SRV_LOG_INFO, "accepting again");
    l->accept_ctl_failing = failed != 0;
    l->accept_paused_until = pause || failed ? now + ACCEPT_PAUSE_MS : 0;
}

void srv_conn_accept(srv_listener *l, lport *lp)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        /* Spread clients over the loops: past its share, this one leaves
         * the rest to a sleeping loop. */
        if (over_share(l)) {
            kick_other(l);
            srv_listen_accept_balance(l);
            return;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lp->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The pending connection stays in the backlog and the
                 * level-triggered socket stays readable: without a pause we
                 * would spin until a descriptor frees up. */
                srv_log(SRV_LOG_WARN, "accept on port %u: %s; pausing accepts", lp->number, strerror(errno));
                srv_listen_accept_pause(l, true);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
                srv_log(SRV_LOG_WARN, "accept on port %u: %s", lp->number, strerror(errno));
            }
            return;
        }
        atomic_fetch_add_explicit(&l->accepted, 1, memory_order_relaxed);
        /* Past --max-connections-per-address: closed before it takes a
         * slot or makes room (it must not evict anyone either). */
        uint8_t addr[16];
        srv_peer_addr(&ss, addr);
        if (!srv_peer_admit(l, addr)) {
            l->refused_per_address++;
            uint64_t now = srv_listen_now_ms();
            if (now - l->refused_logged_ms >= 1000) {
                srv_log(SRV_LOG_WARN, "per-address connection limit (%u) reached; refused %llu connection(s)",
                        l->s.max_per_address, (unsigned long long)(l->refused_per_address - l->refused_logged));
                l->refused_logged = l->refused_per_address;
                l->refused_logged_ms = now;
            }
            close(fd);
            continue;
        }
        bool counted = l->primary->peers != NULL;
        /* --max-connections counts every loop's connections; each loop
         * makes room among its own. */
        bool room = l->nfree && srv_listen_room_take(l);
        if (!room) {
            bool made = srv_listen_make_room(l);
            room = l->nfree && srv_listen_room_take(l);
            if (!room && made && l->nfree) {
                atomic_fetch_add_explicit(&l->primary->conns_total, 1, memory_order_relaxed);
                room = true;
            }
        }
        if (!room) {
            srv_log(SRV_LOG_WARN, "connection limit (%u) reached; refusing one", l->nslots);
            if (counted)
                srv_peer_release(l, addr);
            close(fd);
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        http_conn *h = c ? http_conn_new(&l->s.limits) : NULL;
        if (!h) {
            free(c);
            srv_listen_room_give(l);
            if (counted)
                srv_peer_release(l, addr);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        uint32_t slot = l->free_slots[--l->nfree];
        *c = (conn){ .fd = fd, .slot = slot, .gen = ++l->gens[slot], .lp = lp, .http = h,
                     .events = EPOLLIN, .last_ms = srv_listen_now_ms(), .fresh = true, .peer_counted = counted };
        memcpy(c->addr, addr, sizeof addr);
        struct epoll_event e = { .events = EPOLLIN, .data.u64 = TAG(TAG_CONN, slot) };
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
            l->free_slots[l->nfree++] = slot;
            srv_listen_room_give(l);
            if (counted)
                srv_peer_release(l, addr);
            http_conn_free(h);
            free(c);
            close(fd);
            continue;
        }
        l->slots[slot] = c;
        if (++l->nconns > l->conns_peak)
            l->conns_peak = l->nconns;
    }
}
