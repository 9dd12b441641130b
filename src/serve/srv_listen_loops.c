/*
 * srv_listen_loops.c — more event loops (--workers N, srv_listen.h): the
 * loops other than loop 0, their share of loop 0's listening sockets, the
 * global count of connections, waking an idle loop, and taking a new
 * configuration after loop 0 reloaded (see srv_listen_internal.h).
 *
 * Why one shared socket per port (dup'd into every loop's epoll with
 * EPOLLEXCLUSIVE) rather than SO_REUSEPORT sockets of their own: the
 * kernel hands an exclusive wake-up to a loop that waits in epoll_wait, so
 * a new client goes to an idle loop and never to one busy in a sandbox
 * (measured: with loop 0 out of epoll_wait, five connects all woke loop
 * 1, and loop 0's epoll showed nothing ready, so its tick did not stop
 * its sandbox either); SO_REUSEPORT hashes clients onto sockets whatever
 * their loop is doing, so a loop stuck in a long host call would sit on
 * its share of new clients.  A shared socket also keeps "port in use"
 * meaning what it did (no second server can join the port), never drops
 * queued connections when one loop's socket closes, and makes a reload's
 * new and removed ports one bind and one close on loop 0.
 */
#define _GNU_SOURCE
#include "srv_listen_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "srv_log.h"

bool srv_listen_room_take(srv_listener *l)
{
    srv_listener *p = l->primary;
    size_t n = atomic_load_explicit(&p->conns_total, memory_order_relaxed);
    while (n < p->nslots)
        if (atomic_compare_exchange_weak_explicit(&p->conns_total, &n, n + 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    return false;
}

void srv_listen_room_give(srv_listener *l)
{
    atomic_fetch_sub_explicit(&l->primary->conns_total, 1, memory_order_relaxed);
}

/* A dup of loop 0's socket for port `number` into loop l, or false. */
static bool share_port(srv_listener *l, const lport *from)
{
    if (!srv_listen_lports_grow(l))
        return false;
    lport *lp = calloc(1, sizeof *lp);
    int fd = lp ? fcntl(from->fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (fd < 0) {
        free(lp);
        return false;
    }
    *lp = (lport){ .fd = fd, .port = from->port, .number = from->number };
    size_t i = l->nlports;
    struct epoll_event e = { .events = l->listen_ev, .data.u64 = TAG(TAG_LISTEN, i) };
    if (!l->accept_paused_until && epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
        close(fd);
        free(lp);
        return false;
    }
    l->lports[l->nlports++] = lp;
    return true;
}

/* Loop 0's live tenant ports not yet in l, dup'd in (ports_mu held). */
static void share_new_ports(srv_listener *l)
{
    srv_listener *p = l->primary;
    for (size_t i = 0; i < p->nlports; i++) {
        const lport *from = p->lports[i];
        if (from->admin || from->removed || from->fd < 0)
            continue;
        bool have = false;
        for (size_t k = 0; k < l->nlports && !have; k++)
            have = !l->lports[k]->removed && l->lports[k]->fd >= 0 && l->lports[k]->number == from->number;
        if (!have && !share_port(l, from))
            srv_log(SRV_LOG_ERROR, "loop %u: port %u: %s; this loop does not accept on it", l->idx, from->number,
                    strerror(errno));
    }
}

void srv_listen_loop_sync(srv_listener *l)
{
    if (l->draining)
        return;
    srv_listener *p = l->primary;
    srv_listen_take_completions(l);
    pthread_mutex_lock(&p->ports_mu);
    const srv_config *cfg = atomic_load(&p->cfg_pub);
    size_t first_new = l->nlports;
    share_new_ports(l);
    pthread_mutex_unlock(&p->ports_mu);
    /* Ports cfg no longer lists close here (the dup) as on loop 0. */
    srv_listen_apply_ports(l, cfg, first_new);
}

static srv_listener *loop_new(srv_listener *p, unsigned idx, srv_err *err)
{
    srv_listener *l = calloc(1, sizeof *l);
    if (!l) {
        srv_fail(err, "serve: out of memory");
        return NULL;
    }
    l->cfg = p->cfg;
    l->s = p->s;
    l->dispatch = p->dispatch;
    l->ud = p->ud;
    l->ep = l->wake_fd = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->peers_mu, NULL);
    pthread_mutex_init(&l->ports_mu, NULL);
    l->primary = p;
    l->idx = idx;
    l->next_id = idx;
    l->id_step = p->id_step;
    l->listen_ev = p->listen_ev;
    atomic_store(&l->evict_rank, EVICT_NONE);
    l->evict_slot = UINT32_MAX;
    l->access = p->access;
    l->metrics_fn = p->metrics_fn;
    l->metrics_ud = p->metrics_ud;
    l->nslots = p->nslots;
    l->lports_cap = 4;
    l->lports = calloc(l->lports_cap, sizeof *l->lports);
    l->slots = calloc(l->nslots, sizeof *l->slots);
    l->gens = calloc(l->nslots, sizeof *l->gens);
    l->free_slots = calloc(l->nslots, sizeof *l->free_slots);
    if (!l->lports || !l->slots || !l->gens || !l->free_slots) {
        srv_fail(err, "serve: out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < l->nslots; i++)
        l->free_slots[i] = l->nslots - 1 - i;
    l->nfree = l->nslots;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event e = { .events = EPOLLIN, .data.u64 = TAG(TAG_WAKE, 0) };
    if (l->ep < 0 || l->wake_fd < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake_fd, &e) != 0) {
        srv_fail(err, "serve: epoll/eventfd: %s", strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < p->nlports; i++) {
        if (p->lports[i]->admin || p->lports[i]->fd < 0)
            continue;       /* the admin port is loop 0's */
        if (!share_port(l, p->lports[i])) {
            srv_fail(err, "serve: loop %u: port %u: %s", idx, p->lports[i]->number, strerror(errno));
            goto fail;
        }
    }
    return l;
fail:
    l->primary = l;         /* frees only its own */
    l->access = NULL;
    srv_listener_free(l);
    return NULL;
}

bool srv_listener_add_loops(srv_listener *l, unsigned n, srv_err *err)
{
    if (n <= 1 || l->loops)
        return true;
    l->loops = calloc(n, sizeof *l->loops);
    if (!l->loops)
        return srv_fail(err, "serve: out of memory");
    l->loops[0] = l;
    /* Loop 0's sockets again, exclusive (EPOLL_CTL_MOD cannot add that). */
    l->listen_ev = EPOLLIN | EPOLLEXCLUSIVE;
    for (size_t i = 0; i < l->nlports; i++) {
        lport *lp = l->lports[i];
        if (lp->fd < 0 || lp->admin)
            continue;
        struct epoll_event e = { .events = l->listen_ev, .data.u64 = TAG(TAG_LISTEN, i) };
        if (epoll_ctl(l->ep, EPOLL_CTL_DEL, lp->fd, NULL) != 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, lp->fd, &e) != 0)
            return srv_fail(err, "serve: epoll_ctl: %s", strerror(errno));
    }
    l->id_step = n;
    l->next_id = 0;
    for (unsigned i = 1; i < n; i++) {
        if (!(l->loops[i] = loop_new(l, i, err))) {
            for (unsigned k = 1; k < i; k++)
                srv_listener_free(l->loops[k]);
            free(l->loops);
            l->loops = NULL;
            l->id_step = 1;
            return false;
        }
    }
    l->nloops = n;
    return true;
}

srv_listener *srv_listener_loop(srv_listener *l, unsigned i)
{
    return l->loops && i < l->nloops ? l->loops[i] : l;
}

bool srv_listener_wake_idle(srv_listener *l)
{
    if (!atomic_load_explicit(&l->asleep, memory_order_relaxed))
        return false;
    uint64_t one = 1;
    ssize_t w = write(l->wake_fd, &one, sizeof one);
    (void)w;
    return true;
}

void srv_listener_set_sync(srv_listener *l, void (*fn)(void *ud), void *ud)
{
    l->sync_fn = fn;
    l->sync_ud = ud;
}
