/*
 * srv_listen.c — the listener thread: epoll over the listening sockets, the
 * client connections and one eventfd that other threads write to when they
 * complete a request (or ask us to stop).
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
#include "srv_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "srv_access.h"
#include "srv_log.h"
#include "util/util.h"

enum {
    READ_CHUNK = 16 * 1024,     /* bytes read per wake-up and connection */
    IN_MAX = 64 * 1024,         /* unparsed (pipelined) bytes kept per connection */
    OUT_HIGH = 1024 * 1024,     /* stop parsing more requests while this much output waits */
    ACCEPT_BATCH = 64,
    ACCEPT_PAUSE_MS = 100,      /* out of file descriptors: stop accepting this long */
    MAX_EVENTS = 256,
    SWEEP_MS = 100,             /* how often timeouts are checked */
    BLANK_MAX = 16,             /* blank-line bytes between requests before the request clock starts */
    TRIM_DROP = 256,            /* connections closed since the peak before memory is handed back */
};

/* What an epoll event's u64 names: kind in the top byte, index below. */
enum { TAG_LISTEN = 1, TAG_WAKE = 2, TAG_CONN = 3 };
#define TAG(kind, idx) (((uint64_t)(kind) << 56) | (uint64_t)(idx))

/* A response on its way from srv_complete() to the listener thread. */
typedef struct done {
    struct done *next;
    uint32_t slot, gen;
    int status;
    bool keep_alive;
    bool owned;                 /* bytes and node were malloc'd (not the fallback) */
    const uint8_t *bytes;
    size_t len;
} done;

typedef struct lport {
    int fd;
    const srv_port *port;       /* NULL: the admin port */
    uint16_t number;
} lport;

typedef enum conn_state { C_OPEN, C_DRAIN } conn_state;

typedef struct conn {
    int fd;
    uint32_t slot, gen;
    const lport *lp;
    conn_state state;
    http_conn *http;
    uint8_t *in;                /* unparsed input */
    size_t in_len, in_cap;
    uint8_t *out;               /* output not yet sent: out[out_off..out_len) */
    size_t out_len, out_off, out_cap;
    uint32_t events;            /* current epoll interest */
    bool in_flight, close_after, peer_eof, orphan;
    bool fresh;                 /* accepted, nothing received yet (see make_room) */
    uint64_t last_ms;           /* last progress (read, write, state change) */
    uint64_t msg_start_ms;      /* first byte of the request being received, 0 if none */
    size_t blank_bytes;         /* blank-line bytes since the last request (see BLANK_MAX) */
    http_request http_req;
    srv_request req;
    done fallback;              /* used by srv_complete when memory runs out */
} conn;

struct srv_listener {
    const srv_config *cfg;
    srv_settings s;
    srv_dispatch_fn dispatch;
    void *ud;
    int ep, wake_fd;
    lport *lports;
    size_t nlports;
    conn **slots;
    uint32_t *gens;             /* per slot, survives the conn */
    uint32_t *free_slots;
    uint32_t nfree, nslots;
    size_t nconns;
    size_t in_flight;
    bool draining;
    uint64_t next_id;               /* last request id handed out (listener thread only) */
    uint64_t drain_deadline_ms;
    uint64_t accept_paused_until;   /* 0: accepting */
    uint64_t evicted, evicted_logged, evict_logged_ms;     /* idle connections closed at the limit */
    uint64_t evicted_slow, evicted_slow_logged;            /* slow requests closed at the limit */
    size_t conns_peak;          /* most connections open since the last trim (see sweep) */
    FILE *access;               /* JSON-lines request log, or NULL */
    atomic_bool stop_requested;
    pthread_mutex_t mu;         /* guards the completion queue */
    done *q_head, *q_tail;
    _Atomic uint64_t accepted, requests, by_class[6];
    void (*metrics_fn)(void *ud, FILE *f);     /* more /metrics series, or NULL */
    void *metrics_ud;
    srv_reload_fn reload_fn;    /* SIGHUP, or NULL */
    void *reload_ud;
    atomic_bool reload_requested;
};

static const uint8_t oom_response[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/* Connection times are kept in milliseconds. */
static uint64_t now_ms(void)
{
    return ut_mono_ns() / 1000000u;
}

static void count_status(srv_listener *l, int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add_explicit(&l->by_class[cls], 1, memory_order_relaxed);
}

/* ---- connections ------------------------------------------------------------- */

static void conn_set_events(srv_listener *l, conn *c, uint32_t ev)
{
    if (c->fd < 0 || c->events == ev)
        return;
    struct epoll_event e = { .events = ev, .data.u64 = TAG(TAG_CONN, c->slot) };
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &e) == 0)
        c->events = ev;
}

static void conn_free(srv_listener *l, conn *c)
{
    l->slots[c->slot] = NULL;
    l->free_slots[l->nfree++] = c->slot;
    l->nconns--;
    http_conn_free(c->http);
    free(c->in);
    free(c->out);
    free(c);
}

/* Closes the socket now.  A connection with a request in flight stays as an
 * orphan until its completion arrives. */
static void conn_close_now(srv_listener *l, conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    if (c->in_flight)
        c->orphan = true;
    else
        conn_free(l, c);
}

static void conn_begin_drain(srv_listener *l, conn *c)
{
    if (c->state == C_DRAIN)
        return;
    c->state = C_DRAIN;
    c->last_ms = now_ms();
    shutdown(c->fd, SHUT_WR);
    conn_set_events(l, c, EPOLLIN);
}

/* Appends to the output buffer; false (and the connection closed) when
 * memory runs out. */
static bool conn_queue(srv_listener *l, conn *c, const uint8_t *p, size_t n)
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
            size_t cap = c->out_cap ? c->out_cap : 4096;
            while (cap - c->out_len < n)
                cap *= 2;
            uint8_t *o = realloc(c->out, cap);
            if (!o) {
                conn_close_now(l, c);
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

static void access_log(srv_listener *l, conn *c, const http_request *hr, const srv_route *route,
                       int status, size_t bytes, uint64_t arrival_ns, uint64_t id)
{
    if (!l->access)
        return;
    srv_access_entry e = {
        .id = id ? id : ++l->next_id,     /* answered here (404, 400, ...): a fresh id */
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
static bool conn_respond(srv_listener *l, conn *c, const http_request *hr, int status, const char *ctype,
                         const char *body, size_t body_len)
{
    bool keep_alive = hr && hr->keep_alive && !l->draining;
    bool head = hr && hr->head;
    size_t n;
    uint8_t *r = http_response_build(status, ctype, NULL, 0, body, body_len, keep_alive, head, &n);
    count_status(l, status);
    access_log(l, c, hr, NULL, status, r ? n : 0, 0, 0);
    if (!keep_alive)
        c->close_after = true;
    if (!r) {
        c->close_after = true;
        return conn_queue(l, c, oom_response, sizeof oom_response - 1);
    }
    bool ok = conn_queue(l, c, r, n);
    free(r);
    return ok;
}

/* Sends what is queued.  False when the connection was closed. */
static bool conn_flush(srv_listener *l, conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            c->last_ms = now_ms();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        conn_close_now(l, c);       /* EPIPE, ECONNRESET: the client is gone */
        return false;
    }
    c->out_off = c->out_len = 0;
    return true;
}

/* The built-in admin handler: Prometheus text for GET /metrics. */
static void admin_request(srv_listener *l, conn *c, const http_request *r)
{
    if (r->path_len != 8 || memcmp(r->path, "/metrics", 8)) {
        conn_respond(l, c, r, 404, "text/plain", "not found\n", 10);
        return;
    }
    char body[1536];
    int n = snprintf(body, sizeof body,
                     "# TYPE wedge_connections_accepted_total counter\n"
                     "wedge_connections_accepted_total %llu\n"
                     "# TYPE wedge_connections_closed_for_room_total counter\n"
                     "wedge_connections_closed_for_room_total{reason=\"idle\"} %llu\n"
                     "wedge_connections_closed_for_room_total{reason=\"slow_request\"} %llu\n"
                     "# TYPE wedge_requests_total counter\n"
                     "wedge_requests_total %llu\n"
                     "# TYPE wedge_responses_total counter\n"
                     "wedge_responses_total{class=\"2xx\"} %llu\n"
                     "wedge_responses_total{class=\"3xx\"} %llu\n"
                     "wedge_responses_total{class=\"4xx\"} %llu\n"
                     "wedge_responses_total{class=\"5xx\"} %llu\n"
                     "# TYPE wedge_open_connections gauge\n"
                     "wedge_open_connections %zu\n"
                     "# TYPE wedge_requests_in_flight gauge\n"
                     "wedge_requests_in_flight %zu\n",
                     (unsigned long long)l->accepted,
                     (unsigned long long)l->evicted, (unsigned long long)l->evicted_slow,
                     (unsigned long long)l->requests,
                     (unsigned long long)l->by_class[2], (unsigned long long)l->by_class[3],
                     (unsigned long long)l->by_class[4], (unsigned long long)l->by_class[5],
                     l->nconns, l->in_flight);
    /* The scheduler's series go after the listener's; without memory for
     * them the listener's own still answer. */
    char *more = NULL;
    size_t more_len = 0;
    FILE *mf = l->metrics_fn ? open_memstream(&more, &more_len) : NULL;
    if (mf) {
        fwrite(body, 1, n > 0 ? (size_t)n : 0, mf);
        l->metrics_fn(l->metrics_ud, mf);
        if (fclose(mf) == 0 && more) {
            conn_respond(l, c, r, 200, "text/plain; version=0.0.4", more, more_len);
            free(more);
            return;
        }
        free(more);
    }
    conn_respond(l, c, r, 200, "text/plain; version=0.0.4", body, n > 0 ? (size_t)n : 0);
}

/* Parses and answers or dispatches as many buffered requests as allowed.
 * False when the connection was closed. */
static bool conn_process(srv_listener *l, conn *c)
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
                c->msg_start_ms = now_ms();
            if (http_conn_want_continue(c->http)) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                if (!conn_queue(l, c, (const uint8_t *)cont, sizeof cont - 1))
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
            return conn_respond(l, c, NULL, status, "text/plain", body, (size_t)n);
        }
        /* a complete request */
        c->msg_start_ms = 0;
        c->blank_bytes = 0;
        atomic_fetch_add_explicit(&l->requests, 1, memory_order_relaxed);
        const http_request *hr = &c->http_req;
        if (!c->lp->port) {
            admin_request(l, c, hr);
            http_conn_done(c->http);
            continue;
        }
        const srv_route *route = srv_route_match(c->lp->port, hr->path, hr->path_len);
        if (!route) {
            bool ok = conn_respond(l, c, hr, 404, "text/plain", "no route\n", 9);
            http_conn_done(c->http);
            if (!ok)
                return false;
            continue;
        }
        c->in_flight = true;
        l->in_flight++;
        c->req = (srv_request){
            .http = hr, .route = route, .port = c->lp->port, .arrival_ns = ut_mono_ns(), .id = ++l->next_id,
            .token = ((uint64_t)c->gen << 32) | c->slot,
        };
        l->dispatch(l->ud, &c->req);
    }
    return c->fd >= 0;
}

/* Brings a connection to its next state after any event. */
static void conn_settle(srv_listener *l, conn *c)
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
        if (!conn_process(l, c))
            return;
        bool held = c->out_len - c->out_off >= OUT_HIGH;
        if (!conn_flush(l, c))
            return;
        if (!held || c->out_len - c->out_off >= OUT_HIGH)
            break;
    }
    bool out_pending = c->out_off < c->out_len;
    if (!out_pending && !c->in_flight) {
        if (c->close_after) {
            conn_begin_drain(l, c);
            return;
        }
        if (c->peer_eof) {
            conn_close_now(l, c);   /* the client is done and so are we */
            return;
        }
    }
    if (!out_pending && !c->in_flight && !c->in_len) {
        /* Nothing buffered: give the buffers back (READ_CHUNK + a response
         * each), so that an idle keep-alive connection costs about 1 KiB
         * instead of 20 and thousands of them stay cheap.  The next
         * request allocates them again, which costs nothing next to it. */
        free(c->in);
        free(c->out);
        c->in = c->out = NULL;
        c->in_cap = c->out_cap = c->out_len = c->out_off = 0;
    }
    uint32_t ev = 0;
    if (!c->peer_eof && c->in_len < IN_MAX && !c->close_after)
        ev |= EPOLLIN;
    if (out_pending)
        ev |= EPOLLOUT;
    conn_set_events(l, c, ev);
}

static void conn_readable(srv_listener *l, conn *c)
{
    if (c->state == C_DRAIN) {
        /* Discard what the client still sends until it closes. */
        char sink[4096];
        ssize_t n = recv(c->fd, sink, sizeof sink, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            conn_close_now(l, c);
        return;
    }
    if (c->in_cap - c->in_len < READ_CHUNK) {
        size_t cap = c->in_len + READ_CHUNK;
        uint8_t *p = realloc(c->in, cap);
        if (!p) {
            conn_close_now(l, c);
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, READ_CHUNK, 0);
    if (n > 0) {
        c->in_len += (size_t)n;
        c->last_ms = now_ms();
        c->fresh = false;
    } else if (n == 0) {
        c->peer_eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        conn_close_now(l, c);
        return;
    }
    conn_settle(l, c);
}

/* Stops or resumes polling the listening sockets. */
static void accept_pause(srv_listener *l, bool pause)
{
    l->accept_paused_until = pause ? now_ms() + ACCEPT_PAUSE_MS : 0;
    for (size_t i = 0; i < l->nlports; i++) {
        if (l->lports[i].fd < 0)
            continue;
        struct epoll_event e = { .events = pause ? 0 : EPOLLIN, .data.u64 = TAG(TAG_LISTEN, i) };
        epoll_ctl(l->ep, EPOLL_CTL_MOD, l->lports[i].fd, &e);
    }
}

/* At most one line a second, not one per connection (the sweep reports
 * the rest). */
static void log_evictions(srv_listener *l, uint64_t now)
{
    if ((l->evicted == l->evicted_logged && l->evicted_slow == l->evicted_slow_logged) ||
        now - l->evict_logged_ms < 1000)
        return;
    if (l->evicted != l->evicted_logged)
        srv_log(SRV_LOG_WARN, "connection limit (%u) reached; closed %llu idle connection(s) to make room",
                l->nslots, (unsigned long long)(l->evicted - l->evicted_logged));
    if (l->evicted_slow != l->evicted_slow_logged)
        srv_log(SRV_LOG_WARN, "connection limit (%u) reached; closed %llu slow request(s) (arriving for over "
                "%u ms) to make room", l->nslots, (unsigned long long)(l->evicted_slow - l->evicted_slow_logged),
                SRV_SLOW_REQUEST_MS);
    l->evicted_logged = l->evicted;
    l->evicted_slow_logged = l->evicted_slow;
    l->evict_logged_ms = now;
}

/* At the connection limit a new client takes the slot of one that is not
 * using its own (make_room).  First choice: the connection that has waited
 * longest with nothing to do (an idle keep-alive, or one already
 * draining), so that a few thousand idle clients cannot lock every new one
 * out; a client whose idle connection closes retries on a new one, as it
 * must after an idle timeout anyway.  Second choice, when every slot holds
 * a request: the request that has been arriving longest, if for more than
 * SRV_SLOW_REQUEST_MS.  Any real client sends its request head in one
 * round trip, so a slot held that long by a request still arriving is a
 * slowloris (or a very slow upload); without this, a few thousand of them
 * kept every new client out until the request timeout.  Never chosen:
 * requests in flight or being answered (their timeouts bound them), and
 * connections accepted less than SRV_SLOW_REQUEST_MS ago that have sent
 * nothing yet.  A scan of every slot, but only when the limit is hit. */
static void make_room(srv_listener *l)
{
    uint64_t now = now_ms();
    conn *idle = NULL, *slow = NULL;
    for (uint32_t i = 0; i < l->nslots; i++) {
        conn *c = l->slots[i];
        if (!c || c->fd < 0 || c->in_flight || c->out_off < c->out_len)
            continue;
        /* Just accepted, its request presumably on the way: not idle yet
         * (or a crowd of new clients would close each other). */
        if (c->fresh && now - c->last_ms <= SRV_SLOW_REQUEST_MS)
            continue;
        if (c->state == C_OPEN && (c->in_len || c->msg_start_ms)) {
            if (c->msg_start_ms && now - c->msg_start_ms > SRV_SLOW_REQUEST_MS &&
                (!slow || c->msg_start_ms < slow->msg_start_ms))
                slow = c;
            continue;
        }
        /* draining ones first: they are closing anyway */
        if (!idle || (c->state == C_DRAIN) > (idle->state == C_DRAIN) ||
            ((c->state == C_DRAIN) == (idle->state == C_DRAIN) && c->last_ms < idle->last_ms))
            idle = c;
    }
    conn *victim = idle ? idle : slow;
    if (!victim)
        return;
    if (victim == slow) {
        /* Best effort, without blocking: the reason, before the close. */
        static const char busy[] = "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 30\r\nConnection: close\r\n\r\n"
                                   "request too slow, server full\n";
        ssize_t n = send(slow->fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)n;
        l->evicted_slow++;
    } else {
        l->evicted++;
    }
    log_evictions(l, now);
    conn_close_now(l, victim);
}

static void conn_accept(srv_listener *l, lport *lp)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(lp->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The pending connection stays in the backlog and the
                 * level-triggered socket stays readable: without a pause we
                 * would spin until a descriptor frees up. */
                srv_log(SRV_LOG_WARN, "accept on port %u: %s; pausing accepts", lp->number, strerror(errno));
                accept_pause(l, true);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
                srv_log(SRV_LOG_WARN, "accept on port %u: %s", lp->number, strerror(errno));
            }
            return;
        }
        atomic_fetch_add_explicit(&l->accepted, 1, memory_order_relaxed);
        if (!l->nfree)
            make_room(l);
        if (!l->nfree) {
            srv_log(SRV_LOG_WARN, "connection limit (%u) reached; refusing one", l->nslots);
            close(fd);
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        http_conn *h = c ? http_conn_new(&l->s.limits) : NULL;
        if (!h) {
            free(c);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        uint32_t slot = l->free_slots[--l->nfree];
        *c = (conn){ .fd = fd, .slot = slot, .gen = ++l->gens[slot], .lp = lp, .http = h,
                     .events = EPOLLIN, .last_ms = now_ms(), .fresh = true };
        struct epoll_event e = { .events = EPOLLIN, .data.u64 = TAG(TAG_CONN, slot) };
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
            l->free_slots[l->nfree++] = slot;
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

/* ---- completions ----------------------------------------------------------------- */

void srv_complete(srv_listener *l, const srv_request *req, int status, const char *content_type,
                  const http_header *extra, size_t nextra, const void *body, size_t body_len)
{
    /* req lives inside its conn, which stays allocated until this
     * completion has been processed, so its fallback node is ours to use. */
    conn *c = (conn *)((char *)req - offsetof(conn, req));
    /* When stopping, say so: the listener closes after this response anyway. */
    bool keep_alive = req->http->keep_alive && !atomic_load(&l->stop_requested);
    size_t n = 0;
    uint8_t *bytes = http_response_build(status, content_type, extra, nextra, body, body_len,
                                         keep_alive, req->http->head, &n);
    done *d = bytes ? malloc(sizeof *d) : NULL;
    if (d) {
        *d = (done){ .bytes = bytes, .len = n, .owned = true };
    } else {
        free(bytes);
        d = &c->fallback;
        *d = (done){ .bytes = oom_response, .len = sizeof oom_response - 1 };
        keep_alive = false;
        status = 503;
    }
    d->slot = (uint32_t)req->token;
    d->gen = (uint32_t)(req->token >> 32);
    d->status = status;
    d->keep_alive = keep_alive;
    d->next = NULL;
    pthread_mutex_lock(&l->mu);
    bool was_empty = !l->q_head;
    if (l->q_tail)
        l->q_tail->next = d;
    else
        l->q_head = d;
    l->q_tail = d;
    pthread_mutex_unlock(&l->mu);
    /* Only the completion that finds the queue empty wakes the listener:
     * a non-empty queue has not been taken yet, and whoever made it
     * non-empty writes (or has written) the eventfd, after which the
     * listener takes everything queued.  Under load this saves a syscall
     * and a wake-up per response. */
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(l->wake_fd, &one, sizeof one);
        (void)w;    /* the counter can only saturate, and then a wake-up is pending anyway */
    }
}

static void done_free(done *d)
{
    if (d->owned) {
        free((void *)d->bytes);
        free(d);
    }
}

static void take_completions(srv_listener *l)
{
    uint64_t v;
    ssize_t r = read(l->wake_fd, &v, sizeof v);
    (void)r;
    pthread_mutex_lock(&l->mu);
    done *d = l->q_head;
    l->q_head = l->q_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (d) {
        done *next = d->next;
        conn *c = d->slot < l->nslots ? l->slots[d->slot] : NULL;
        if (!c || c->gen != d->gen || !c->in_flight) {
            srv_log(SRV_LOG_ERROR, "completion for a request that is not in flight (slot %u)", d->slot);
            done_free(d);
            d = next;
            continue;
        }
        c->in_flight = false;
        l->in_flight--;
        count_status(l, d->status);
        if (c->orphan) {
            done_free(d);
            conn_free(l, c);
            d = next;
            continue;
        }
        bool keep_alive = d->keep_alive;
        access_log(l, c, c->req.http, c->req.route, d->status, d->len, c->req.arrival_ns, c->req.id);
        bool ok = conn_queue(l, c, d->bytes, d->len);
        done_free(d);
        if (ok) {
            http_conn_done(c->http);
            if (!keep_alive || l->draining)
                c->close_after = true;
            conn_settle(l, c);
        }
        d = next;
    }
}

/* ---- timeouts and shutdown ----------------------------------------------------------- */

static void sweep(srv_listener *l, uint64_t now)
{
    log_evictions(l, now);
#ifdef __GLIBC__
    /* After a crowd of connections has gone, hand the memory back: glibc
     * returns only the top of its heap by itself, and the connections'
     * small blocks, freed in any order, otherwise stay resident as holes
     * (measured: 4000 closed keep-alive connections left 29 MiB). */
    if (l->conns_peak >= l->nconns + TRIM_DROP) {
        malloc_trim(0);
        l->conns_peak = l->nconns;
    }
#endif
    for (uint32_t i = 0; i < l->nslots; i++) {
        conn *c = l->slots[i];
        if (!c || c->fd < 0)
            continue;
        if (c->state == C_DRAIN) {
            if (now - c->last_ms > l->s.drain_timeout_ms)
                conn_close_now(l, c);
            continue;
        }
        if (c->in_flight)
            continue;       /* deadlines and timeouts of functions are the scheduler's */
        if (c->out_off < c->out_len) {
            if (now - c->last_ms > l->s.request_timeout_ms)
                conn_close_now(l, c);   /* a client that does not read its responses */
            continue;
        }
        if (c->msg_start_ms || c->in_len) {
            if (c->msg_start_ms && now - c->msg_start_ms > l->s.request_timeout_ms) {
                if (!http_conn_in_message(c->http)) {
                    conn_begin_drain(l, c);     /* only blank lines came: no request to answer */
                    continue;
                }
                c->in_len = 0;
                conn_respond(l, c, NULL, 408, "text/plain", "request timeout\n", 16);
                conn_settle(l, c);
            }
            continue;
        }
        if (l->draining || now - c->last_ms > l->s.idle_timeout_ms)
            conn_begin_drain(l, c);
    }
}

static void begin_shutdown(srv_listener *l)
{
    if (l->draining)
        return;
    l->draining = true;
    l->drain_deadline_ms = now_ms() + l->s.grace_ms;
    for (size_t i = 0; i < l->nlports; i++)
        if (l->lports[i].fd >= 0) {
            epoll_ctl(l->ep, EPOLL_CTL_DEL, l->lports[i].fd, NULL);
            close(l->lports[i].fd);
            l->lports[i].fd = -1;
        }
    srv_log(SRV_LOG_INFO, "stopping: %zu connection(s), %zu request(s) in flight", l->nconns, l->in_flight);
    sweep(l, now_ms());
}

/* ---- setup and the loop ------------------------------------------------------------------ */

static bool bind_port(srv_listener *l, lport *lp, srv_err *err)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(lp->number) };
    if (inet_pton(AF_INET, l->s.host, &sa.sin_addr) != 1)
        return srv_fail(err, "serve: --host %s: not an IPv4 address", l->s.host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return srv_fail(err, "serve: socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        return srv_fail(err, "serve: cannot listen on %s:%u: %s", l->s.host, lp->number, strerror(e));
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
    l->nslots = settings->max_connections;
    l->nlports = cfg->nports + (settings->admin_port ? 1 : 0);
    l->lports = calloc(l->nlports, sizeof *l->lports);
    l->slots = calloc(l->nslots, sizeof *l->slots);
    l->gens = calloc(l->nslots, sizeof *l->gens);
    l->free_slots = calloc(l->nslots, sizeof *l->free_slots);
    if (!l->lports || !l->slots || !l->gens || !l->free_slots) {
        srv_fail(err, "serve: out of memory");
        goto fail;
    }
    /* Hand out low slots first: the sweep then touches fewer cache lines. */
    for (uint32_t i = 0; i < l->nslots; i++)
        l->free_slots[i] = l->nslots - 1 - i;
    l->nfree = l->nslots;
    for (size_t i = 0; i < l->nlports; i++)
        l->lports[i].fd = -1;
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
        lport *lp = &l->lports[i];
        lp->port = i < cfg->nports ? &cfg->ports[i] : NULL;
        lp->number = lp->port ? lp->port->port : settings->admin_port;
        if (!bind_port(l, lp, err))
            goto fail;
        e = (struct epoll_event){ .events = EPOLLIN, .data.u64 = TAG(TAG_LISTEN, i) };
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, lp->fd, &e) != 0) {
            srv_fail(err, "serve: epoll_ctl: %s", strerror(errno));
            goto fail;
        }
        srv_log(SRV_LOG_INFO, "listening on %s:%u (%s)", settings->host, lp->number,
                lp->port ? lp->port->tenant : "admin: /metrics");
    }
    return l;
fail:
    srv_listener_free(l);
    return NULL;
}

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
static void reload(srv_listener *l)
{
    if (!l->reload_fn || l->draining)
        return;
    take_completions(l);
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

bool srv_listener_run(srv_listener *l, srv_err *err)
{
    struct epoll_event evs[MAX_EVENTS];
    uint64_t last_sweep = now_ms();
    for (;;) {
        if (atomic_load(&l->stop_requested))
            begin_shutdown(l);
        if (atomic_exchange(&l->reload_requested, false))
            reload(l);
        if (l->draining && (l->nconns == 0 || now_ms() >= l->drain_deadline_ms))
            break;
        int timeout = l->nconns || l->draining || l->accept_paused_until ? SWEEP_MS : -1;
        if (timeout < 0 && l->access)
            fflush(l->access);      /* about to sleep with no timer: do not sit on log lines */
        int n = epoll_wait(l->ep, evs, MAX_EVENTS, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return srv_fail(err, "serve: epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            uint32_t idx = (uint32_t)(tag & 0xffffffffu);
            switch (tag >> 56) {
            case TAG_WAKE:
                take_completions(l);
                break;
            case TAG_LISTEN:
                if (idx < l->nlports && l->lports[idx].fd >= 0)
                    conn_accept(l, &l->lports[idx]);
                break;
            case TAG_CONN: {
                conn *c = idx < l->nslots ? l->slots[idx] : NULL;
                if (!c || c->fd < 0)
                    break;      /* closed earlier in this batch */
                uint32_t ev = evs[i].events;
                /* After EOF we no longer ask for EPOLLIN, but HUP/ERR are
                 * always reported: a reset after EOF means the client is gone. */
                if ((ev & (EPOLLHUP | EPOLLERR)) && c->peer_eof && c->state == C_OPEN) {
                    conn_close_now(l, c);
                    break;
                }
                if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    conn_readable(l, c);
                /* conn_readable may have freed c: look it up again */
                c = l->slots[idx];
                if (c && c->fd >= 0 && (ev & EPOLLOUT))
                    conn_settle(l, c);
                break;
            }
            }
        }
        uint64_t now = now_ms();
        if (now - last_sweep >= SWEEP_MS) {
            last_sweep = now;
            sweep(l, now);
            if (l->access)
                fflush(l->access);
            if (l->accept_paused_until && now >= l->accept_paused_until)
                accept_pause(l, false);
        }
    }
    if (l->access)
        fflush(l->access);
    if (l->in_flight)
        srv_log(SRV_LOG_WARN, "grace period over with %zu request(s) still in flight", l->in_flight);
    return true;
}

void srv_listener_stop(srv_listener *l)
{
    atomic_store(&l->stop_requested, true);
    uint64_t one = 1;
    ssize_t w = write(l->wake_fd, &one, sizeof one);
    (void)w;
}

void srv_listener_free(srv_listener *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; l->slots && i < l->nslots; i++)
        if (l->slots[i]) {
            conn *c = l->slots[i];
            if (c->fd >= 0)
                close(c->fd);
            c->in_flight = false;
            c->fd = -1;
            conn_free(l, c);
        }
    for (size_t i = 0; l->lports && i < l->nlports; i++)
        if (l->lports[i].fd >= 0)
            close(l->lports[i].fd);
    for (done *d = l->q_head; d;) {
        done *next = d->next;
        done_free(d);
        d = next;
    }
    if (l->ep >= 0)
        close(l->ep);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    if (l->access && l->access != stderr)
        fclose(l->access);
    else if (l->access)
        fflush(l->access);
    pthread_mutex_destroy(&l->mu);
    free(l->lports);
    free(l->slots);
    free(l->gens);
    free(l->free_slots);
    free(l);
}

void srv_listener_set_metrics(srv_listener *l, void (*fn)(void *ud, FILE *f), void *ud)
{
    l->metrics_fn = fn;
    l->metrics_ud = ud;
}

void srv_listener_get_stats(const srv_listener *l, srv_listener_stats *out)
{
    memset(out, 0, sizeof *out);
    out->accepted = l->accepted;
    out->requests = l->requests;
    for (int i = 0; i < 6; i++)
        out->responses_by_class[i] = l->by_class[i];
    out->open_connections = l->nconns;
    out->in_flight = l->in_flight;
}
