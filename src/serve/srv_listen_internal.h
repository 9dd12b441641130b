/*
 * srv_listen_internal.h — what the listener's files share (not for other
 * files): the connection and listener structs, the constants, and the
 * functions one file of the listener calls in another.  Everything here runs
 * on the listener thread, except srv_complete (srv_listen_complete.c),
 * which any thread calls and which only touches the completion queue
 * (guarded by srv_listener.mu) and the eventfd.
 *
 * The files, bottom up:
 *   srv_listen_conn.c      connection buffers and socket I/O
 *   srv_listen_dispatch.c  HTTP dispatch: read, parse, route, hand on; a connection's next state
 *   srv_listen_admin.c     the admin port's /metrics text
 *   srv_listen_evict.c     eviction policy at --max-connections
 *   srv_listen_peers.c     open connections per client address (--max-connections-per-address)
 *   srv_listen_accept.c    accepting, and the back-off when descriptors run out
 *   srv_listen_complete.c  the completion queue
 *   srv_listen_spare.c     a few connection buffers kept for the next request
 *   srv_listen_sweep.c     timeouts, memory trim, the start of a graceful shutdown
 *   srv_listen_reload.c    SIGHUP between events
 *   srv_listen_loops.c     more loops (--workers N): sockets shared with loop 0, stop, wake, sync
 *   srv_listen.c           setup, the event loop, stop, free
 */
#ifndef WEDGE_SRV_LISTEN_INTERNAL_H
#define WEDGE_SRV_LISTEN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "srv_listen.h"

enum {
    READ_CHUNK = 16 * 1024,     /* bytes read per wake-up and connection */
    SPARE_OUT_CAP = 4096,       /* a connection's first output buffer */
    SPARE_MAX = 16,             /* spare buffers of each size kept (srv_listen_spare.c) */
    IN_MAX = 64 * 1024,         /* unparsed (pipelined) bytes kept per connection */
    OUT_HIGH = 1024 * 1024,     /* stop parsing more requests while this much output waits */
    ACCEPT_BATCH = 64,
    ACCEPT_PAUSE_MS = 100,      /* out of file descriptors: stop accepting this long */
    MAX_EVENTS = 256,
    SWEEP_MS = 100,             /* how often timeouts are checked */
    BLANK_MAX = 16,             /* blank-line bytes between requests before the request clock starts */
    TRIM_DROP = 256,            /* connections closed since the peak before memory is handed back */
    IDLE_STEAL_MS = 20,         /* with more loops: an idle loop's longest sleep (it looks for work to steal) */
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
    int fd;                     /* -1 once closed */
    const srv_port *port;       /* NULL for the admin port and removed ports */
    uint16_t number;
    bool admin;
    bool removed;               /* dropped by a reload: its connections close once idle */
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
    bool peer_counted;          /* counted under addr in the per-address table */
    uint8_t addr[16];           /* client address (IPv4 as ::ffff:a.b.c.d) */
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
    lport **lports;             /* each allocated once, kept until free (connections point at them) */
    size_t nlports, lports_cap;
    size_t npending;            /* lports[nlports..nlports+npending): bound during a reload, not yet live */
    conn **slots;
    uint32_t *gens;             /* per slot, survives the conn */
    uint32_t *free_slots;
    uint32_t nfree, nslots;
    size_t nconns;
    size_t in_flight;
    bool draining;
    uint64_t next_id;               /* last request id handed out (listener thread only) */
    uint64_t drain_deadline_ms;
    uint64_t accept_paused_until;   /* 0: accepting; else when to re-arm the listening sockets */
    bool accept_ctl_failing;        /* the last pause/resume had an epoll_ctl fail (logged once) */
    uint64_t evicted, evicted_logged, evict_logged_ms;     /* idle connections closed at the limit */
    uint64_t evicted_slow, evicted_slow_logged;            /* slow requests closed at the limit */
    struct srv_peer { uint8_t addr[16]; uint32_t count; } *peers;  /* NULL: no per-address limit */
    size_t peers_mask;
    uint64_t refused_per_address, refused_logged, refused_logged_ms;
    size_t conns_peak;          /* most connections open since the last trim (see sweep) */
    FILE *access;               /* JSON-lines request log, or NULL */
    atomic_bool stop_requested;
    pthread_mutex_t mu;         /* guards the completion queue */
    done *q_head, *q_tail;
    _Atomic uint64_t accepted, requests, by_class[6];
    void (*metrics_fn)(void *ud, FILE *f);     /* more /metrics series, or NULL */
    void *metrics_ud;
    int (*run_fn)(void *ud);    /* the loop's own sandboxes (srv_listener_set_runner), or NULL */
    void *run_ud;
    bool local_done;            /* srv_complete on this thread queued without the eventfd */
    uint8_t *spare_in[SPARE_MAX], *spare_out[SPARE_MAX];   /* srv_listen_spare.c */
    unsigned nspare_in, nspare_out;
    srv_reload_fn reload_fn;    /* SIGHUP, or NULL */
    void *reload_ud;
    atomic_bool reload_requested;
    /* Loops (srv_listen_loops.c).  Loop 0 (`primary`, made by
     * srv_listener_new) binds the listening sockets and owns the admin
     * port, the access log, the per-address table and the global count
     * of connections; every other loop has its own epoll, connections,
     * completion queue and dups of loop 0's tenant sockets. */
    struct srv_listener *primary;      /* loop 0 (itself there) */
    struct srv_listener **loops;       /* loop 0: every loop, [0] = loop 0; NULL with one */
    unsigned nloops, idx;
    uint64_t id_step;                  /* request ids: idx, idx + n, ... (unique across loops) */
    uint32_t listen_ev;                /* EPOLLIN, | EPOLLEXCLUSIVE with more loops: one wakes per client */
    _Atomic size_t conns_total;        /* loop 0: connections open on every loop (--max-connections) */
    pthread_mutex_t peers_mu;          /* loop 0: guards the per-address table */
    pthread_mutex_t ports_mu;          /* loop 0: guards its lports while another loop copies them */
    const srv_config *_Atomic cfg_pub; /* loop 0: the configuration every loop is to serve */
    atomic_bool asleep;                /* in epoll_wait with a timeout (srv_listener_wake_idle) */
    bool accept_held;                  /* over its share of connections: listening sockets out of its epoll */
    atomic_bool accept_kick;           /* another loop left clients in the backlog for this one */
    _Atomic uint64_t evict_rank;       /* this loop's next connection to close at the limit (EVICT_NONE) */
    atomic_uint evict_wanted;          /* closes other loops asked of this one (srv_listen_evict.c) */
    atomic_uint evict_forced;          /* the same, passed on once by a loop with no older candidate */
    uint32_t evict_slot;               /* the slot whose rank is published (UINT32_MAX: none) */
    void (*sync_fn)(void *ud);         /* after this loop took a new configuration, or NULL */
    void *sync_ud;
};

/* The listener whose loop runs on this thread, NULL elsewhere
 * (srv_listen.c sets it in srv_listener_run). */
extern __thread srv_listener *srv_listen_tls_self;

/* The response when memory runs out (srv_listen_conn.c). */
extern const uint8_t srv_listen_oom_response[];
extern const size_t srv_listen_oom_len;

/* srv_listen_conn.c */
uint64_t srv_listen_now_ms(void);
void srv_listen_count_status(srv_listener *l, int status);
/* One line of the access log (if any); id 0: a fresh id (answered here). */
void srv_listen_access_log(srv_listener *l, conn *c, const http_request *hr, const srv_route *route,
                           int status, size_t bytes, uint64_t arrival_ns, uint64_t id);
/* Changes c's epoll interest; when the kernel refuses, c is closed (we
 * would otherwise wait for events that never come). */
void srv_conn_set_events(srv_listener *l, conn *c, uint32_t ev);
void srv_conn_free(srv_listener *l, conn *c);
/* Closes the socket now; c is freed unless a request of it is in flight
 * (then it stays as an orphan until the completion).  Callers must not
 * touch c afterwards unless it was in flight. */
void srv_conn_close_now(srv_listener *l, conn *c);
void srv_conn_begin_drain(srv_listener *l, conn *c);
/* Appends to the output buffer; false (and c closed) when memory runs out. */
bool srv_conn_queue(srv_listener *l, conn *c, const uint8_t *p, size_t n);
/* A response made on the listener thread; false when c was closed. */
bool srv_conn_respond(srv_listener *l, conn *c, const http_request *hr, int status, const char *ctype,
                      const char *body, size_t body_len);
bool srv_conn_flush(srv_listener *l, conn *c);

/* srv_listen_dispatch.c */
bool srv_conn_process(srv_listener *l, conn *c);
void srv_conn_settle(srv_listener *l, conn *c);
void srv_conn_readable(srv_listener *l, conn *c);

/* srv_listen_admin.c */
/* False when c was closed. */
bool srv_listen_admin(srv_listener *l, conn *c, const http_request *r);

/* srv_listen_evict.c.  make_room closes this loop's best candidate, or
 * asks another loop with an older one to close it; true when it did
 * either (the new client takes the room, perhaps a moment over the
 * limit).  evict_publish (every sweep,
 * and when another loop asked): the closes asked of this loop, then its
 * next candidate for the others to compare with. */
#define EVICT_NONE UINT64_MAX
void srv_listen_log_evictions(srv_listener *l, uint64_t now);
bool srv_listen_make_room(srv_listener *l);
void srv_listen_evict_publish(srv_listener *l, uint64_t now);

/* srv_listen_peers.c.  init: false when memory runs out (nothing to do
 * without --max-connections-per-address).  admit: counts one more
 * connection of addr, or false at the limit (nothing counted). */
struct sockaddr_storage;
bool srv_peers_init(srv_listener *l);
void srv_peers_free(srv_listener *l);
void srv_peer_addr(const struct sockaddr_storage *ss, uint8_t out[16]);
bool srv_peer_admit(srv_listener *l, const uint8_t addr[16]);
void srv_peer_release(srv_listener *l, const uint8_t addr[16]);

/* srv_listen_accept.c */
void srv_listen_accept_pause(srv_listener *l, bool pause);
void srv_conn_accept(srv_listener *l, lport *lp);
/* Between events, with more loops: a loop holding more than its share
 * of connections while another loop sleeps takes its listening sockets
 * out of its epoll (the kernel then wakes the sleeping one), and back
 * when under; a kicked loop accepts what another one left. */
void srv_listen_accept_balance(srv_listener *l);

/* srv_listen_spare.c: a buffer of READ_CHUNK (out: SPARE_OUT_CAP) bytes,
 * its size in *cap (NULL when memory is short); giving one back keeps it
 * if it has that size and room is left, else frees it (p may be NULL). */
uint8_t *srv_spare_take(srv_listener *l, bool out, size_t *cap);
void srv_spare_put(srv_listener *l, bool out, uint8_t *p, size_t cap);
void srv_spare_free(srv_listener *l);

/* srv_listen_complete.c */
void srv_listen_done_free(done *d);
/* After the eventfd woke the loop: reads it, then takes the queue. */
void srv_listen_take_completions(srv_listener *l);
/* Takes (answers) every queued completion; the eventfd is left alone. */
void srv_listen_take_queue(srv_listener *l);

/* srv_listen_sweep.c */
void srv_listen_sweep(srv_listener *l, uint64_t now);
void srv_listen_begin_shutdown(srv_listener *l);

/* srv_listen_reload.c */
void srv_listen_reload(srv_listener *l);
/* Every tenant port of l: its srv_port in cfg, or removed (closed, its
 * idle connections drained); then l serves cfg. */
void srv_listen_apply_ports(srv_listener *l, const srv_config *cfg, size_t first_new);

/* srv_listen_loops.c */
/* A loop other than 0, between events: takes loop 0's configuration if it
 * changed (new ports' sockets dup'd, removed ones closed). */
void srv_listen_loop_sync(srv_listener *l);
/* One more connection on any loop, if under --max-connections (false:
 * none counted); and one less. */
bool srv_listen_room_take(srv_listener *l);
void srv_listen_room_give(srv_listener *l);

/* srv_listen.c: a listening socket on port `number` (--host), into lp->fd. */
bool srv_listen_bind(srv_listener *l, lport *lp, srv_err *err);
/* The "listening on HOST:PORT (tenant)" line (the tests wait for it). */
void srv_listen_log_listening(const srv_listener *l, const lport *lp);
/* Room for one more lport pointer; false when memory runs out. */
bool srv_listen_lports_grow(srv_listener *l);

#endif
