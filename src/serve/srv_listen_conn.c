/*
 * srv_listen_conn.c — connection buffers and socket I/O: the output queue
 * and its flush, responses made on the listener thread, closing (now, or
 * gracefully: SHUT_WR then drain), the access-log line.  Calls nothing
 * else of the listener (see srv_listen_internal.h).
 */
#define _GNU_SOURCE
#include "srv_listen_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "srv_access.h"
#include "srv_log.h"
#include "util/util.h"

const uint8_t srv_listen_oom_response[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const size_t srv_listen_oom_len = sizeof srv_listen_oom_response - 1;

/* Connection times are kept in milliseconds. */
uint64_t srv_listen_now_ms(void)
{
    return ut_mono_ns() / 1000000u;
}

void srv_listen_count_status(srv_listener *l, int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add_explicit(&l->by_class[cls], 1, memory_order_relaxed);
}

void srv_conn_set_events(srv_listener *l, conn *c, uint32_t ev)
{
    if (c->fd < 0 || c->events == ev)
        return;
    struct epoll_event e = { .events = ev, .data.u64 = TAG(TAG_CONN, c->slot) };
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &e) == 0) {
        c->events = ev;
        return;
    }
    /* With the old interest set we might wait for an event that never
     * comes (or spin on one we no longer want): give the connection up. */
    srv_log(SRV_LOG_WARN, "connection %u: epoll_ctl: %s; closing it", c->slot, strerror(errno));
    srv_conn_close_now(l, c);
}

void srv_conn_free(srv_listener *l, conn *c)
{
    l->slots[c->slot] = NULL;
    l->free_slots[l->nfree++] = c->slot;
    if (c->peer_counted)
        srv_peer_release(l, c->addr);
    l->nconns--;
    srv_listen_room_give(l);
    /* The candidate this loop published for closing is gone. */
    if (c->slot == l->evict_slot) {
        l->evict_slot = UINT32_MAX;
        atomic_store_explicit(&l->evict_rank, EVICT_NONE, memory_order_relaxed);
    }
    http_conn_free(c->http);
    srv_spare_put(l, false, c->in, c->in_cap);
    srv_spare_put(l, true, c->out, c->out_cap);
    free(c);
}

/* Closes the socket now.  A connection with a request in flight stays as an
 * orphan until its completion arrives, and its request is marked cancelled
 * (the client cannot get the answer: the scheduler stops it early). */
void srv_conn_close_now(srv_listener *l, conn *c)
{
    if (c->fd >= 0) {
        (void)epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);     /* close() drops it anyway */
        close(c->fd);
        c->fd = -1;
    }
    if (c->in_flight) {
        c->orphan = true;
        atomic_store_explicit(&c->req.cancelled, true, memory_order_relaxed);
    } else
        srv_conn_free(l, c);
}

void srv_conn_begin_drain(srv_listener *l, conn *c)
{
    if (c->state == C_DRAIN)
        return;
    c->state = C_DRAIN;
    c->last_ms = srv_listen_now_ms();
    shutdown(c->fd, SHUT_WR);
    srv_conn_set_events(l, c, EPOLLIN);
}

/* Appends to the output buffer; false (and the connection closed) when
 * memory runs out. */
bool srv_conn_queue(srv_listener *l, conn *c, const uint8_t *p, size_t n)
{
    if (c->out_off && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (n > c->out_cap - c->out_len) {
        if (c->out_off) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        if (n > c->out_cap - c->out_len) {
            /* Doubling, with overflow checks: n comes from a response whose
             * size a guest chose (bounded elsewhere, but not here). */
            if (n > SIZE_MAX - c->out_len) {
                srv_conn_close_now(l, c);
                return false;
            }
            size_t need = c->out_len + n;
            size_t cap = c->out_cap ? c->out_cap : SPARE_OUT_CAP;
            while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
            /* A first buffer of the usual size comes from the spares. */
            uint8_t *o = !c->out && cap == SPARE_OUT_CAP ? srv_spare_take(l, true, &cap) : realloc(c->out, cap);
            if (!o) {
                srv_conn_close_now(l, c);
                return false;
            }
            c->out = o;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return true;
}

void srv_listen_access_log(srv_listener *l, conn *c, const http_request *hr, const srv_route *route,
                       int status, size_t bytes, uint64_t arrival_ns, uint64_t id)
{
    if (!l->access)
        return;
    srv_access_entry e = {
        .id = id ? id : (l->next_id += l->id_step),     /* answered here (404, 400, ...): a fresh id */
        .port = c->lp->number, .route = route ? route->name : NULL, .status = status, .bytes = bytes,
        .method = hr ? hr->method : NULL, .target = hr ? hr->target : NULL,
        .target_len = hr ? hr->target_len : 0,
        .latency_us = arrival_ns ? (ut_mono_ns() - arrival_ns) / 1000u : 0,
    };
    srv_access_write(l->access, &e);
}

/* Serialises and queues a response made on this thread (404, errors,
 * metrics) to request `hr` (NULL when none could be parsed), closing the
 * connection after it unless the client and we both keep it alive. */
bool srv_conn_respond(srv_listener *l, conn *c, const http_request *hr, int status, const char *ctype,
                         const char *body, size_t body_len)
{
    bool keep_alive = hr && hr->keep_alive && !l->draining && !c->lp->removed;
    bool head = hr && hr->head;
    size_t n;
    uint8_t *r = http_response_build(status, ctype, NULL, 0, body, body_len, keep_alive, head, &n);
    srv_listen_count_status(l, status);
    srv_listen_access_log(l, c, hr, NULL, status, r ? n : 0, 0, 0);
    if (!keep_alive)
        c->close_after = true;
    if (!r) {
        c->close_after = true;
        return srv_conn_queue(l, c, srv_listen_oom_response, srv_listen_oom_len);
    }
    bool ok = srv_conn_queue(l, c, r, n);
    free(r);
    return ok;
}

/* Sends what is queued.  False when the connection was closed. */
bool srv_conn_flush(srv_listener *l, conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            c->last_ms = srv_listen_now_ms();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        srv_conn_close_now(l, c);       /* EPIPE, ECONNRESET: the client is gone */
        return false;
    }
    c->out_off = c->out_len = 0;
    return true;
}
