/*
 * srv_listen_dispatch.c — HTTP dispatch: reading a connection, parsing its
 * buffered requests, routing them (404, the admin port) and handing them to
 * the dispatch callback, and bringing the connection to its next state
 * (see srv_listen_internal.h).
 */
#include "srv_listen_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "util/util.h"

/* Parses and answers or dispatches as many buffered requests as allowed.
 * False when the connection was closed. */
bool srv_conn_process(srv_listener *l, conn *c)
{
    while (c->fd >= 0 && !c->in_flight && !c->close_after && c->in_len > 0 &&
           c->out_len - c->out_off < OUT_HIGH) {
        size_t used = 0;
        http_next r = http_conn_parse(c->http, c->in, c->in_len, &used, &c->http_req);
        if (used) {
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
        }
        if (r == HTTP_PARSE_MORE) {
            /* The request clock starts with the request's first byte, and
             * also after more than BLANK_MAX bytes of the blank lines llhttp
             * skips before a request line: otherwise a client sending
             * "\r\n" now and then held the connection forever (each read
             * is progress for the idle timeout, and no request ever began
             * for the request timeout).  A few are allowed, RFC 9112 §2.2:
             * some clients send a CRLF after a request and then idle. */
            if (used && !http_conn_in_message(c->http))
                c->blank_bytes += used;
            if (used && !c->msg_start_ms && (http_conn_in_message(c->http) || c->blank_bytes > BLANK_MAX))
                c->msg_start_ms = srv_listen_now_ms();
            if (http_conn_want_continue(c->http)) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                if (!srv_conn_queue(l, c, (const uint8_t *)cont, sizeof cont - 1))
                    return false;
            }
            if (!used)
                break;      /* e.g. after an Upgrade: nothing more is parsed */
            continue;
        }
        if (r == HTTP_PARSE_ERROR) {
            const char *why;
            int status = http_conn_error(c->http, &why);
            char body[128];
            int n = snprintf(body, sizeof body, "%s\n", why);
            c->in_len = 0;      /* nothing after a bad request can be trusted */
            return srv_conn_respond(l, c, NULL, status, "text/plain", body, srv_fmt_len(n, sizeof body));
        }
        /* a complete request */
        c->msg_start_ms = 0;
        c->blank_bytes = 0;
        atomic_fetch_add_explicit(&l->requests, 1, memory_order_relaxed);
        const http_request *hr = &c->http_req;
        /* A response that cannot be queued has closed c (and freed it:
         * nothing of it is in flight), so nothing of c is touched then. */
        if (c->lp->removed) {
            /* Its port was dropped by a reload: no routes to answer with
             * (srv_conn_respond closes the connection after it). */
            if (!srv_conn_respond(l, c, hr, 503, "text/plain", "port removed\n", 13))
                return false;
            http_conn_done(c->http);
            continue;
        }
        if (c->lp->admin) {
            if (!srv_listen_admin(l, c, hr))
                return false;
            http_conn_done(c->http);
            continue;
        }
        const srv_route *route = srv_route_match(c->lp->port, hr->path, hr->path_len);
        if (!route) {
            if (!srv_conn_respond(l, c, hr, 404, "text/plain", "no route\n", 9))
                return false;
            http_conn_done(c->http);
            continue;
        }
        c->in_flight = true;
        l->in_flight++;
        c->req = (srv_request){
            .http = hr, .route = route, .port = c->lp->port, .arrival_ns = ut_mono_ns(), .id = (l->next_id += l->id_step),
            .token = ((uint64_t)c->gen << 32) | c->slot,
        };
        l->dispatch(l->ud, &c->req);
    }
    return c->fd >= 0;
}

/* Brings a connection to its next state after any event. */
void srv_conn_settle(srv_listener *l, conn *c)
{
    if (c->fd < 0 || c->state == C_DRAIN)
        return;
    /* Requests held back by OUT_HIGH must be parsed again once the flush
     * has made room: otherwise, when it sends everything, nothing would
     * wake us (no output left for EPOLLOUT, and with IN_MAX buffered no
     * EPOLLIN either) and a pipelining client that reads slowly hung for
     * good, holding its descriptor.  Each further round needs the flush
     * to have taken the output below OUT_HIGH, so this ends. */
    for (;;) {
        if (!srv_conn_process(l, c))
            return;
        bool held = c->out_len - c->out_off >= OUT_HIGH;
        if (!srv_conn_flush(l, c))
            return;
        if (!held || c->out_len - c->out_off >= OUT_HIGH)
            break;
    }
    bool out_pending = c->out_off < c->out_len;
    if (!out_pending && !c->in_flight) {
        if (c->close_after) {
            srv_conn_begin_drain(l, c);
            return;
        }
        if (c->peer_eof) {
            srv_conn_close_now(l, c);   /* the client is done and so are we */
            return;
        }
    }
    if (!out_pending && !c->in_flight && !c->in_len) {
        /* Nothing buffered: give the buffers back (READ_CHUNK + a response
         * each), so that an idle keep-alive connection costs about 1 KiB
         * instead of 20 and thousands of them stay cheap.  The next
         * request takes them again, from the listener's few spares. */
        srv_spare_put(l, false, c->in, c->in_cap);
        srv_spare_put(l, true, c->out, c->out_cap);
        c->in = c->out = NULL;
        c->in_cap = c->out_cap = c->out_len = c->out_off = 0;
    }
    uint32_t ev = 0;
    if (!c->peer_eof && c->in_len < IN_MAX && !c->close_after)
        ev |= EPOLLIN;
    if (out_pending)
        ev |= EPOLLOUT;
    srv_conn_set_events(l, c, ev);
}

/* A readable (or hung-up) connection: one bounded read, then its next state. */
void srv_conn_readable(srv_listener *l, conn *c)
{
    if (c->state == C_DRAIN) {
        /* Discard what the client still sends until it closes. */
        char sink[4096];
        ssize_t n = recv(c->fd, sink, sizeof sink, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            srv_conn_close_now(l, c);
        return;
    }
    if (!c->in) {
        c->in = srv_spare_take(l, false, &c->in_cap);
        if (!c->in) {
            c->in_cap = 0;
            srv_conn_close_now(l, c);
            return;
        }
    }
    if (c->in_cap - c->in_len < READ_CHUNK) {
        size_t cap = c->in_len + READ_CHUNK;
        uint8_t *p = realloc(c->in, cap);
        if (!p) {
            srv_conn_close_now(l, c);
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, READ_CHUNK, 0);
    if (n > 0) {
        c->in_len += (size_t)n;
        c->last_ms = srv_listen_now_ms();
        c->fresh = false;
    } else if (n == 0) {
        c->peer_eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        srv_conn_close_now(l, c);
        return;
    }
    srv_conn_settle(l, c);
}
