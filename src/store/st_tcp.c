/*
 * st_tcp.c — the TCP backend of the store transport: frames over one TCP
 * connection per session, both the client half (st_tcp_transport) and the
 * store node's server (st_serve).  The only file in wedge that knows the
 * store speaks TCP.
 *
 * Sockets stay non-blocking and every read or write waits in poll() against
 * a deadline, so a slow or dead peer costs bounded time: one frame may take
 * the timeout plus 100 ms per MiB (a peer slower than 10 MiB/s is treated
 * as dead).  The server runs one thread per connection, at most max_conns.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "st_internal.h"
#include "util/util.h"

/* Socket buffers asked for (the kernel caps them at net.core.rmem_max /
 * wmem_max): a blob reply is megabytes, sent in one go. */
#define ST_SOCK_BUF (4 << 20)

/* ---- framed I/O with deadlines --------------------------------------- */

static int64_t deadline_after(int timeout_ms, uint64_t bytes)
{
    return (int64_t)ut_mono_ns() + ((int64_t)timeout_ms + (int64_t)(bytes >> 20) * 100) * 1000000;
}

/* Waits for fd to be ready for `events`; 0, or -1 on timeout/error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = (deadline - (int64_t)ut_mono_ns()) / 1000000;
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, events, 0};
        int k = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (k > 0)
            return 0;
        if (k < 0 && errno != EINTR)
            return -1;
    }
}

/* Sends iov[0..n) whole, MSG_MORE on all but the end of the frame when
 * `more` is 0.  0, or -1 (*why). */
static int send_iov(int fd, struct iovec *iov, int n, int64_t deadline, int more, const char **why)
{
    while (n > 0) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)(n > 512 ? 512 : n)};
        int last = n <= 512 && !more;
        ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL | (last ? 0 : MSG_MORE));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(fd, POLLOUT, deadline) != 0) {
                *why = "timed out sending";
                return -1;
            }
            continue;
        }
        if (k <= 0) {
            *why = "connection lost while sending";
            return -1;
        }
        size_t left = (size_t)k;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

static int send_flags(int fd, const uint8_t *b, size_t n, int64_t deadline, const char **why, int flags)
{
    if (n == 0)
        return 0;
    struct iovec v = {(void *)b, n};
    return send_iov(fd, &v, 1, deadline, (flags & MSG_MORE) != 0, why);
}

static int send_all(int fd, const uint8_t *b, size_t n, int64_t deadline, const char **why)
{
    return send_flags(fd, b, n, deadline, why, 0);
}

/* 0 done, -1 error (*why), 1 clean end of stream before any byte. */
static int recv_all(int fd, uint8_t *b, size_t n, int64_t deadline, const char **why)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = recv(fd, b + got, n - got, 0);
        if (k > 0) {
            got += (size_t)k;
            continue;
        }
        if (k == 0) {
            if (got == 0)
                return 1;
            *why = "connection closed in the middle of a frame (truncated)";
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_fd(fd, POLLIN, deadline) != 0) {
                *why = got ? "timed out in the middle of a frame" : "timed out waiting for a frame";
                return -1;
            }
            continue;
        }
        *why = got ? "connection reset in the middle of a frame (truncated)" : "connection lost while receiving";
        return -1;
    }
    return 0;
}

/* One direction pair of a session's frame MACs (store.h, st_frame_tag):
 * off during the handshake, on after it, broken after a frame failed its
 * MAC (the session is over: nothing more is read; the store still sends
 * one MACed ERROR saying why). */
typedef struct chan {
    enum { CH_OFF, CH_ON, CH_BROKEN } state;
    char out_dir, in_dir;
    uint64_t out_seq, in_seq;
    uint8_t key[ST_MAC_LEN];
} chan;

static const char BAD_MAC[] = "a frame failed its MAC (tampered, replayed or out of order): session ended";
static const char BROKEN[] = "session ended after a frame failed its MAC";

static void chan_start(chan *ch, const st_key *key, const uint8_t nc[ST_NONCE_LEN], const uint8_t ns[ST_NONCE_LEN],
                       char out_dir)
{
    st_session_key(key, nc, ns, ch->key);
    ch->out_dir = out_dir;
    ch->in_dir = out_dir == 'C' ? 'S' : 'C';
    ch->out_seq = ch->in_seq = 0;
    ch->state = CH_ON;
}

/* Checks a received frame's tag (head, then the covered payload). */
static int chan_check(chan *ch, const uint8_t head[ST_HEAD_SIZE], const uint8_t tag[ST_MAC_LEN],
                      const uint8_t *payload, size_t len, const char **why)
{
    uint8_t want[ST_MAC_LEN];
    st_frame_tag(ch->key, ch->in_dir, ch->in_seq++, head, payload, len, want);
    if (st_tag_equal(want, tag))
        return 0;
    ch->state = CH_BROKEN;
    *why = BAD_MAC;
    return -1;
}

/* Sends a frame whose first n bytes are in f (head, then the payload or,
 * for ST_BLOB, its blob head), its MAC after the head when the channel is
 * on; `more`: further bytes of the frame follow (MSG_MORE). */
static int send_frame(int fd, chan *ch, const uint8_t *f, size_t n, int64_t deadline, int more, const char **why)
{
    /* A broken channel still sends (MACed: this direction is intact), so
     * the store can tell a client why its session ends. */
    if (ch->state == CH_OFF)
        return send_flags(fd, f, n, deadline, why, more ? MSG_MORE : 0);
    uint8_t tag[ST_MAC_LEN];
    st_frame_tag(ch->key, ch->out_dir, ch->out_seq++, f, f + ST_HEAD_SIZE, n - ST_HEAD_SIZE, tag);
    /* One sendmsg for head, tag and payload: a fault's request is one
     * system call, not three. */
    struct iovec iov[3] = {{(void *)f, ST_HEAD_SIZE}, {tag, sizeof tag},
                           {(void *)(f + ST_HEAD_SIZE), n - ST_HEAD_SIZE}};
    return send_iov(fd, iov, 3, deadline, more, why);
}

/* A frame head and, on a MACed channel, the tag after it.  0, -1 (*why),
 * 1 at a clean end before any byte. */
static int read_head(int fd, chan *ch, int64_t deadline, uint8_t head[ST_HEAD_SIZE], uint8_t tag[ST_MAC_LEN],
                     const char **why)
{
    if (ch->state == CH_BROKEN) {
        *why = BROKEN;
        return -1;
    }
    int k = recv_all(fd, head, ST_HEAD_SIZE, deadline, why);
    if (k || ch->state == CH_OFF)
        return k;
    if ((k = recv_all(fd, tag, ST_MAC_LEN, deadline, why)) != 0) {
        *why = "connection closed in the middle of a frame (truncated)";
        return -1;
    }
    return 0;
}

/* One frame: kind and a malloc'd payload, its MAC checked when the channel
 * is on.  0, -1 (*why), 1 at a clean end. */
static int read_frame(int fd, chan *ch, int timeout_ms, st_kind *kind, uint8_t **payload, uint32_t *len,
                      const char **why)
{
    uint8_t head[ST_HEAD_SIZE], tag[ST_MAC_LEN];
    int k = read_head(fd, ch, deadline_after(timeout_ms, 0), head, tag, why);
    if (k)
        return k;
    if ((*why = st_head_decode(head, kind, len)))
        return -1;
    *payload = malloc(*len ? *len : 1);
    if (!*payload) {
        *why = "out of memory for a frame";
        return -1;
    }
    k = recv_all(fd, *payload, *len, deadline_after(timeout_ms, *len), why);
    if (k) {
        if (k == 1 || !strcmp(*why, "connection lost while receiving"))
            *why = "connection lost after a frame head (truncated)";
        free(*payload);
        *payload = NULL;
        return -1;
    }
    if (ch->state == CH_ON && chan_check(ch, head, tag, *payload, *len, why) != 0) {
        free(*payload);
        *payload = NULL;
        return -1;
    }
    return 0;
}

static int send_msg(int fd, chan *ch, int timeout_ms, const st_msg *m, const char **why)
{
    size_t n = st_encoded_size(m);
    uint8_t small[256];
    uint8_t *b = n <= sizeof small ? small : malloc(n);
    if (!n || !b) {
        *why = n ? "out of memory" : "request cannot be encoded";
        return -1;
    }
    int r = st_encode(m, b, n) == n ? send_frame(fd, ch, b, n, deadline_after(timeout_ms, n), 0, why) : -1;
    if (b != small)
        free(b);
    return r;
}

/* ---- client ------------------------------------------------------------ */

typedef struct tcp_conn {
    int fd;
    chan ch;
    int timeout_ms;
    char where[128];
} tcp_conn;

static int fail(char *err, const tcp_conn *c, const char *what)
{
    snprintf(err, ST_ERR_LEN, "store %s: %s", c->where, what);
    return -1;
}

static int split_hostport(const char *hp, char *host, size_t cap, const char **port)
{
    const char *colon = strrchr(hp, ':');
    if (!colon || colon == hp || !colon[1])
        return -1;
    const char *h = hp;
    size_t hl = (size_t)(colon - hp);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= cap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    *port = colon + 1;
    return 0;
}

/* A request and the one frame that answers it; ERROR frames become err. */
static int roundtrip(tcp_conn *c, const st_msg *req, st_kind want, uint8_t **payload, st_msg *reply, char *err)
{
    const char *why = NULL;
    st_kind kind;
    uint32_t len;
    *payload = NULL;
    if (send_msg(c->fd, &c->ch, c->timeout_ms, req, &why) != 0)
        return fail(err, c, why);
    int k = read_frame(c->fd, &c->ch, c->timeout_ms, &kind, payload, &len, &why);
    if (k)
        return fail(err, c, k == 1 ? "connection closed by the store" : why);
    if ((why = st_decode(kind, *payload, len, reply))) {
        free(*payload);
        *payload = NULL;
        return fail(err, c, why);
    }
    if (kind == ST_ERROR) {
        snprintf(err, ST_ERR_LEN, "store %s: %.*s", c->where, (int)reply->u.error.text_len, reply->u.error.text);
        free(*payload);
        *payload = NULL;
        return -1;
    }
    if (kind != want) {
        free(*payload);
        *payload = NULL;
        return fail(err, c, "unexpected reply kind");
    }
    return 0;
}

static int handshake(tcp_conn *c, const st_key *key, char *err)
{
    st_msg hello = {.kind = ST_HELLO}, reply;
    hello.u.hello.version = ST_PROTO_VERSION;
    const char *why = st_nonce(hello.u.hello.nonce, ST_NONCE_LEN);
    if (why)
        return fail(err, c, why);
    uint8_t *p;
    if (roundtrip(c, &hello, ST_CHALLENGE, &p, &reply, err) != 0)
        return -1;
    int store_ok = st_auth_check(key, 'S', hello.u.hello.nonce, reply.u.challenge.nonce, reply.u.challenge.mac);
    st_msg auth = {.kind = ST_AUTH};
    /* Answer even when the store's proof is wrong, so the store too sees
     * and logs the wrong key. */
    st_auth_mac(key, 'C', reply.u.challenge.nonce, hello.u.hello.nonce, auth.u.auth.mac);
    uint8_t ns[ST_NONCE_LEN];
    memcpy(ns, reply.u.challenge.nonce, ST_NONCE_LEN);
    free(p);
    int r = roundtrip(c, &auth, ST_OK, &p, &reply, err);
    free(p);
    if (!store_ok)
        return fail(err, c, "wrong key (the store could not prove it holds our key)");
    if (r == 0)
        chan_start(&c->ch, key, hello.u.hello.nonce, ns, 'C');
    return r;
}

static int tcp_connect(const char *hostport, const st_key *key, int timeout_ms, void **state, char *err)
{
    tcp_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, ST_ERR_LEN, "store %s: out of memory", hostport);
        return -1;
    }
    c->fd = -1;
    c->timeout_ms = timeout_ms;
    snprintf(c->where, sizeof c->where, "%s", hostport);
    char host[256];
    const char *port;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (split_hostport(hostport, host, sizeof host, &port) != 0) {
        fail(err, c, "expected HOST:PORT");
        goto out;
    }
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g) {
        snprintf(err, ST_ERR_LEN, "store %s: %s", hostport, gai_strerror(g));
        goto out;
    }
    const char *why = "cannot connect";
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        /* Before connect, so the window scale allows it (capped by
         * net.core.rmem_max): an eager fetch streams megabytes at once. */
        int buf = ST_SOCK_BUF;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (wait_fd(fd, POLLOUT, deadline_after(timeout_ms, 0)) != 0)
                why = "connect timed out";
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                r = 0;
            else
                why = soerr == ECONNREFUSED ? "connection refused" : "cannot connect";
        } else if (r != 0) {
            why = errno == ECONNREFUSED ? "connection refused" : "cannot connect";
        }
        if (r == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->fd = fd;
            break;
        }
        close(fd);
    }
    freeaddrinfo(ai);
    if (c->fd < 0) {
        fail(err, c, why);
        goto out;
    }
    if (handshake(c, key, err) == 0) {
        *state = c;
        return 0;
    }
out:
    if (c->fd >= 0)
        close(c->fd);
    free(c);
    return -1;
}

static void tcp_close(void *state)
{
    tcp_conn *c = state;
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

static int tcp_manifest(void *state, const char *name, st_manifest *out, char *err)
{
    tcp_conn *c = state;
    st_msg req = {.kind = ST_MANIFEST_REQ}, m;
    req.u.manifest_req.name = name;
    req.u.manifest_req.name_len = (uint32_t)strlen(name);
    uint8_t *p;
    if (roundtrip(c, &req, ST_MANIFEST, &p, &m, err) != 0)
        return -1;
    memset(out, 0, sizeof *out);
    if (m.u.manifest.name_len != req.u.manifest_req.name_len || memcmp(m.u.manifest.name, name, m.u.manifest.name_len)) {
        free(p);
        return fail(err, c, "manifest for another name");
    }
    memcpy(out->name, name, m.u.manifest.name_len);
    out->module = m.u.manifest.module;
    out->has_snap = m.u.manifest.has_snap;
    out->snap = m.u.manifest.snap;
    out->mem_pages = m.u.manifest.mem_pages;
    out->n_extents = m.u.manifest.n_extents;
    if (out->n_extents) {
        out->extents = malloc(out->n_extents * sizeof *out->extents);
        if (!out->extents) {
            free(p);
            return fail(err, c, "out of memory");
        }
        for (uint32_t i = 0; i < out->n_extents; i++)
            out->extents[i] = st_manifest_extent(&m, i);
    }
    free(p);
    return 0;
}

/* A reply that is not the kind asked for, its head already read: read
 * whole so its MAC is checked first (a replayed or forged frame is
 * reported as such, not as a wrong kind); an ERROR becomes err.  -1. */
static int other_reply(tcp_conn *c, const uint8_t head[ST_HEAD_SIZE], const uint8_t tag[ST_MAC_LEN], st_kind kind,
                       uint32_t plen, const char *what, char *err)
{
    const char *why = NULL;
    uint8_t *p = malloc(plen ? plen : 1);
    st_msg m;
    if (!p)
        return fail(err, c, "out of memory");
    if (recv_all(c->fd, p, plen, deadline_after(c->timeout_ms, plen), &why) != 0)
        why = why ? why : "connection lost after a frame head (truncated)";
    else if (c->ch.state == CH_ON && chan_check(&c->ch, head, tag, p, plen, &why) != 0)
        ;
    else if (kind != ST_ERROR)
        why = what;
    else if (!(why = st_decode(kind, p, plen, &m)))
        snprintf(err, ST_ERR_LEN, "store %s: %.*s", c->where, (int)m.u.error.text_len, m.u.error.text);
    free(p);
    return why ? fail(err, c, why) : -1;
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Work on [done, ready) of something being received, on a thread of its
 * own a step behind the receiving one (hashing and the receive's kernel
 * copy overlap instead of adding up), or inline on the receiving thread
 * when a thread is not worth it.  The receiver calls trail_feed as more
 * is whole and trail_end once at the end; after trail_end, `work` has seen
 * every byte fed, in order, on one thread. */
typedef struct trail {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t ready, done;
    int stop, threaded;
    pthread_t thread;
    void (*work)(void *ctx, uint64_t from, uint64_t to);
    void *ctx;
} trail;

static void *trail_main(void *arg)
{
    trail *tr = arg;
    pthread_mutex_lock(&tr->mu);
    for (;;) {
        while (tr->done == tr->ready && !tr->stop)
            pthread_cond_wait(&tr->cv, &tr->mu);
        if (tr->done == tr->ready)
            break;
        uint64_t from = tr->done, to = tr->ready;
        pthread_mutex_unlock(&tr->mu);
        tr->work(tr->ctx, from, to);
        pthread_mutex_lock(&tr->mu);
        tr->done = to;
    }
    pthread_mutex_unlock(&tr->mu);
    return NULL;
}

/* Threaded if `thread` and a thread can be made. */
static void trail_start(trail *tr, int thread, void (*work)(void *, uint64_t, uint64_t), void *ctx)
{
    *tr = (trail){.work = work, .ctx = ctx};
    pthread_mutex_init(&tr->mu, NULL);
    pthread_cond_init(&tr->cv, NULL);
    tr->threaded = thread && pthread_create(&tr->thread, NULL, trail_main, tr) == 0;
}

/* Everything below `ready` is whole. */
static void trail_feed(trail *tr, uint64_t ready)
{
    if (!tr->threaded) {
        if (ready > tr->ready)
            tr->work(tr->ctx, tr->ready, ready);
        tr->ready = tr->done = ready > tr->ready ? ready : tr->ready;
        return;
    }
    pthread_mutex_lock(&tr->mu);
    if (ready > tr->ready)
        tr->ready = ready;
    pthread_cond_signal(&tr->cv);
    pthread_mutex_unlock(&tr->mu);
}

/* Waits for the work on what was fed (nothing more comes). */
static void trail_end(trail *tr)
{
    if (tr->threaded) {
        pthread_mutex_lock(&tr->mu);
        tr->stop = 1;
        pthread_cond_signal(&tr->cv);
        pthread_mutex_unlock(&tr->mu);
        pthread_join(tr->thread, NULL);
    }
    pthread_cond_destroy(&tr->cv);
    pthread_mutex_destroy(&tr->mu);
}

/* Received items checked against their chunk hashes (a trail's work:
 * items [from, to) are whole and their heads checked). */
typedef struct item_check {
    const st_range *want;
    uint8_t *const *dst;
    const uint8_t *hp;          /* the next item's head (item i's follows item i-1's) */
    const char *bad;            /* the first mismatch */
} item_check;

static void check_items(void *ctx, uint64_t from, uint64_t to)
{
    item_check *x = ctx;
    for (uint64_t i = from; i < to; i++) {
        if (!x->bad)
            x->bad = st_chunks_verify(x->hp + 16, x->dst[i], x->want[i].len);
        x->hp += st_item_head(x->want[i].len);
    }
}

/* Below this many bytes a reply is checked on the receiving thread (a
 * fault's page or region: a thread would cost more than it saves). */
enum { VERIFY_THREAD_MIN = 256u << 10 };

/* Reads the reply to one ranges request (want[0..n)) straight into dst:
 * the items' heads (offset, length, chunk hashes) into one buffer and
 * their bytes into dst[i] (no frame buffer, no copy), with one recvmsg
 * scattering as many items as have arrived.  Each item is checked against
 * its chunk hashes once it is whole, on a trail thread for a
 * large reply (else inline), while the next ones arrive; the MAC over the
 * heads is checked at the end, before the call returns, so nothing it
 * received is used before the whole frame is proven. */
static int ranges_reply(tcp_conn *c, const st_blob_ref *blob, const st_range *want, uint32_t n, uint8_t *const *dst,
                        char *err)
{
    const char *why = NULL;
    uint8_t head[ST_HEAD_SIZE + 36], tag[ST_MAC_LEN];
    st_kind kind;
    uint32_t plen;
    int k = read_head(c->fd, &c->ch, deadline_after(c->timeout_ms, 0), head, tag, &why);
    if (k)
        return fail(err, c, k == 1 ? "connection closed by the store" : why);
    if ((why = st_head_decode(head, &kind, &plen)))
        return fail(err, c, why);
    if (kind != ST_RANGES)
        return other_reply(c, head, tag, kind, plen, "ranges reply does not answer the request", err);
    uint64_t expect = 36, hsum = 0;
    for (uint32_t i = 0; i < n; i++) {
        expect += st_item_head(want[i].len) + want[i].len;
        hsum += st_item_head(want[i].len);
    }
    if (plen != expect)
        return fail(err, c, "ranges reply does not answer the request");
    int64_t deadline = deadline_after(c->timeout_ms, plen);
    if (recv_all(c->fd, head + ST_HEAD_SIZE, 36, deadline, &why) != 0)
        return fail(err, c, why ? why : "connection closed in the middle of a frame (truncated)");
    if (memcmp(head + ST_HEAD_SIZE, blob->sha, ST_SHA_LEN) || get_le(head + ST_HEAD_SIZE + 32, 4) != n)
        return fail(err, c, "ranges reply does not answer the request");
    uint8_t *hb = malloc((size_t)hsum);
    struct iovec *iov = malloc(2 * (size_t)n * sizeof *iov);
    st_sha_ctx *t = NULL;
    if (!hb || !iov) {
        free(hb);
        free(iov);
        return fail(err, c, "out of memory");
    }
    if (c->ch.state == CH_ON) {
        t = st_tag_begin(c->ch.key, c->ch.in_dir, c->ch.in_seq++, head);
        if (t)
            st_sha_update(t, head + ST_HEAD_SIZE, 36);
    }
    uint8_t *hp = hb;
    for (uint32_t i = 0; i < n; i++) {
        iov[2 * i] = (struct iovec){hp, (size_t)st_item_head(want[i].len)};
        iov[2 * i + 1] = (struct iovec){dst[i], want[i].len};
        hp += st_item_head(want[i].len);
    }
    /* The first item that fails its hashes is reported unless the MAC fails. */
    item_check ic = {.want = want, .dst = dst, .hp = hb};
    trail tr;
    trail_start(&tr, expect >= VERIFY_THREAD_MIN, check_items, &ic);
    uint32_t at = 0, done = 0, niov = 2 * n;
    hp = hb;
    while (at < niov && !why) {
        struct msghdr mh = {.msg_iov = iov + at, .msg_iovlen = niov - at > 1024 ? 1024 : niov - at};
        ssize_t got = recvmsg(c->fd, &mh, 0);
        if (got == 0) {
            why = "connection closed in the middle of a frame (truncated)";
            break;
        }
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (wait_fd(c->fd, POLLIN, deadline) != 0)
                    why = "timed out in the middle of a frame";
                continue;
            }
            why = "connection reset in the middle of a frame (truncated)";
            break;
        }
        size_t left = (size_t)got;
        while (at < niov && left >= iov[at].iov_len)
            left -= iov[at++].iov_len;
        if (at < niov) {
            iov[at].iov_base = (uint8_t *)iov[at].iov_base + left;
            iov[at].iov_len -= left;
        }
        /* The items now whole: checked while the next ones arrive. */
        for (; done < at / 2; done++) {
            size_t hl = (size_t)st_item_head(want[done].len);
            if (get_le(hp, 8) != want[done].off || get_le(hp + 8, 4) != want[done].len || get_le(hp + 12, 4)) {
                why = "ranges reply does not answer the request";
                break;
            }
            if (t)
                st_sha_update(t, hp, hl);
            hp += hl;
        }
        trail_feed(&tr, done);
    }
    trail_end(&tr);
    const char *bad = ic.bad;
    free(hb);
    free(iov);
    if (why) {
        if (t)
            st_tag_end(t, c->ch.key, tag);
        return fail(err, c, why);
    }
    if (c->ch.state == CH_ON) {
        uint8_t want_tag[ST_MAC_LEN];
        st_tag_end(t, c->ch.key, want_tag);
        if (!st_tag_equal(want_tag, tag)) {
            c->ch.state = CH_BROKEN;
            return fail(err, c, BAD_MAC);
        }
    }
    return bad ? fail(err, c, bad) : 0;
}

/* Ranges in requests of at most PIPE_BATCH bytes, up to PIPE_DEPTH of them
 * in flight: the store hashes and sends one batch while we check the one
 * before, instead of one 64 MiB frame at a time (bench/bench_store.c). */
enum { PIPE_BATCH = 4u << 20, PIPE_DEPTH = 4 };

static int tcp_ranges(void *state, const st_blob_ref *blob, const st_range *want, uint32_t n, uint8_t *const *dst,
                      char *err)
{
    tcp_conn *c = state;
    uint32_t start[PIPE_DEPTH], count[PIPE_DEPTH];
    uint32_t sent = 0, head = 0, inflight = 0;
    while (sent < n || inflight) {
        while (sent < n && inflight < PIPE_DEPTH) {
            uint64_t bytes = 0;
            uint32_t k = 0;
            while (sent + k < n && (k == 0 || bytes + want[sent + k].len <= PIPE_BATCH))
                bytes += want[sent + k++].len;
            st_msg req = {.kind = ST_RANGES_REQ};
            memcpy(req.u.ranges.blob, blob->sha, ST_SHA_LEN);
            req.u.ranges.count = k;
            req.u.ranges.ranges = want + sent;
            const char *why = NULL;
            if (send_msg(c->fd, &c->ch, c->timeout_ms, &req, &why) != 0)
                return fail(err, c, why);
            uint32_t slot = (head + inflight) % PIPE_DEPTH;
            start[slot] = sent;
            count[slot] = k;
            inflight++;
            sent += k;
        }
        if (ranges_reply(c, blob, want + start[head], count[head], dst + start[head], err) != 0) {
            /* Replies still in flight would answer the next request: the
             * session is unusable now. */
            close(c->fd);
            c->fd = -1;
            return -1;
        }
        head = (head + 1) % PIPE_DEPTH;
        inflight--;
    }
    return 0;
}

/* Reads the reply to one ST_BLOB_REQ for [off, off+len) straight into
 * dst + off (no frame buffer, no copy) and hashes it; an ERROR frame is
 * read whole and reported. */
static int blob_reply(tcp_conn *c, const st_blob_ref *blob, uint64_t off, uint32_t len, uint8_t *dst, char *err)
{
    const char *why = NULL;
    uint8_t head[ST_HEAD_SIZE + ST_BLOB_HEAD], tag[ST_MAC_LEN];
    st_kind kind;
    uint32_t plen;
    int k = read_head(c->fd, &c->ch, deadline_after(c->timeout_ms, 0), head, tag, &why);
    if (k)
        return fail(err, c, k == 1 ? "connection closed by the store" : why);
    if ((why = st_head_decode(head, &kind, &plen)))
        return fail(err, c, why);
    if (kind != ST_BLOB)
        return other_reply(c, head, tag, kind, plen, "blob reply does not answer the request", err);
    if (plen != ST_BLOB_HEAD + (uint64_t)len)
        return fail(err, c, "blob reply does not answer the request");
    int64_t deadline = deadline_after(c->timeout_ms, len);
    if (recv_all(c->fd, head + ST_HEAD_SIZE, ST_BLOB_HEAD, deadline, &why) != 0)
        return fail(err, c, why ? why : "connection closed in the middle of a frame (truncated)");
    /* The head is checked before a byte lands in dst. */
    if (c->ch.state == CH_ON && chan_check(&c->ch, head, tag, head + ST_HEAD_SIZE, ST_BLOB_HEAD, &why) != 0)
        return fail(err, c, why);
    st_msg m;
    memset(&m, 0, sizeof m);
    m.kind = ST_BLOB_REQ;
    /* The reply names the same blob and range as the request. */
    if ((why = st_decode(ST_BLOB_REQ, head + ST_HEAD_SIZE, ST_BLOB_HEAD, &m)) ||
        memcmp(m.u.blob.sha, blob->sha, ST_SHA_LEN) || m.u.blob.off != off || m.u.blob.len != len)
        return fail(err, c, why ? why : "blob reply does not answer the request");
    if ((k = recv_all(c->fd, dst + off, len, deadline, &why)) != 0)
        return fail(err, c, k == 1 ? "connection closed in the middle of a frame (truncated)" : why);
    return 0;
}

/* The whole-blob hash (a trail's work: bytes [from, to) from base). */
typedef struct blob_hash {
    st_sha_ctx *sha;
    const uint8_t *base;
} blob_hash;

static void hash_bytes(void *ctx, uint64_t from, uint64_t to)
{
    blob_hash *h = ctx;
    st_sha_update(h->sha, h->base + from, to - from);
}

/* The whole blob: pieces of BLOB_PIECE bytes, PIPE_DEPTH requests in
 * flight, each piece received in place and hashed (a trail) while the
 * next arrives (bench/bench_store.c). */
enum { BLOB_PIECE = 8u << 20 };

static int tcp_blob(void *state, const st_blob_ref *blob, uint8_t *dst, char *err)
{
    tcp_conn *c = state;
    /* Hashed (~1.7 GB/s with SHA instructions) one piece behind the receive. */
    blob_hash h = {.sha = st_sha_begin(), .base = dst};
    if (!h.sha)
        return fail(err, c, "out of memory");
    trail tr;
    trail_start(&tr, blob->size > BLOB_PIECE, hash_bytes, &h);
    uint64_t sent = 0, got = 0;
    int rc = 0;
    while (got < blob->size && rc == 0) {
        while (sent < blob->size && sent - got < (uint64_t)PIPE_DEPTH * BLOB_PIECE) {
            st_msg req = {.kind = ST_BLOB_REQ};
            memcpy(req.u.blob.sha, blob->sha, ST_SHA_LEN);
            req.u.blob.off = sent;
            req.u.blob.len = (uint32_t)(blob->size - sent < BLOB_PIECE ? blob->size - sent : BLOB_PIECE);
            const char *why = NULL;
            if (send_msg(c->fd, &c->ch, c->timeout_ms, &req, &why) != 0) {
                rc = fail(err, c, why);
                break;
            }
            sent += req.u.blob.len;
        }
        if (rc == 0) {
            uint32_t len = (uint32_t)(blob->size - got < BLOB_PIECE ? blob->size - got : BLOB_PIECE);
            rc = blob_reply(c, blob, got, len, dst, err);
            got += len;
            if (rc == 0)
                trail_feed(&tr, got);
        }
    }
    trail_end(&tr);
    uint8_t hash[ST_SHA_LEN];
    st_sha_end(h.sha, hash);
    if (rc == 0 && memcmp(hash, blob->sha, ST_SHA_LEN) != 0)
        rc = fail(err, c, "fetched blob does not match its SHA-256 (corrupted)");
    if (rc != 0) {
        /* Replies may still be in flight: they would answer the next request. */
        close(c->fd);
        c->fd = -1;
    }
    return rc;
}

static int tcp_push(void *state, const char *name, st_blob_kind which, const uint8_t *data, size_t len, char *err)
{
    tcp_conn *c = state;
    st_msg req = {.kind = ST_PUSH}, m;
    req.u.push.name = name;
    req.u.push.name_len = (uint32_t)strlen(name);
    req.u.push.which = (uint8_t)which;
    st_sha256(data, len, req.u.push.sha);
    req.u.push.total = len;
    const size_t piece = 8u << 20;
    size_t off = 0;
    do {
        req.u.push.off = off;
        req.u.push.len = (uint32_t)(len - off < piece ? len - off : piece);
        req.u.push.data = data + off;
        uint8_t *p;
        if (roundtrip(c, &req, ST_OK, &p, &m, err) != 0)
            return -1;
        free(p);
        off += req.u.push.len;
    } while (off < len);
    return 0;
}

static int tcp_wset_put(void *state, const char *name, const uint8_t snap[ST_SHA_LEN], const uint32_t *pages,
                        uint32_t n, char *err)
{
    tcp_conn *c = state;
    st_msg req = {.kind = ST_WSET_PUT}, m;
    req.u.wset.name = name;
    req.u.wset.name_len = (uint32_t)strlen(name);
    memcpy(req.u.wset.snap, snap, ST_SHA_LEN);
    req.u.wset.count = n;
    req.u.wset.pages = pages;
    uint8_t *p;
    if (roundtrip(c, &req, ST_OK, &p, &m, err) != 0)
        return -1;
    free(p);
    return 0;
}

static int tcp_wset_get(void *state, const char *name, const uint8_t snap[ST_SHA_LEN], uint32_t **pages, uint32_t *n,
                        char *err)
{
    tcp_conn *c = state;
    st_msg req = {.kind = ST_WSET_REQ}, m;
    req.u.wset.name = name;
    req.u.wset.name_len = (uint32_t)strlen(name);
    memcpy(req.u.wset.snap, snap, ST_SHA_LEN);
    uint8_t *p;
    *pages = NULL;
    *n = 0;
    if (roundtrip(c, &req, ST_WSET, &p, &m, err) != 0) {
        /* "None recorded yet" is not a failure. */
        return strstr(err, "no working set") ? 0 : -1;
    }
    if (m.u.wset.count) {
        *pages = malloc(m.u.wset.count * sizeof **pages);
        if (!*pages) {
            free(p);
            return fail(err, c, "out of memory");
        }
        for (uint32_t i = 0; i < m.u.wset.count; i++)
            (*pages)[i] = st_wset_page(&m, i);
        *n = m.u.wset.count;
    }
    free(p);
    return 0;
}

const st_transport st_tcp_transport = {
    .scheme = "wedge",
    .connect = tcp_connect,
    .manifest = tcp_manifest,
    .ranges = tcp_ranges,
    .push = tcp_push,
    .wset_put = tcp_wset_put,
    .wset_get = tcp_wset_get,
    .blob = tcp_blob,
    .close = tcp_close,
};

/* ---- server ------------------------------------------------------------ */

typedef struct server {
    const st_server_config *cfg;
    st_repo *repo;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int live;                   /* connection threads running */
} server;

typedef struct session {
    server *s;
    int fd;
    chan ch;
    char peer[80];
} session;

static void send_error(session *ss, uint16_t code, const char *text)
{
    uint8_t b[ST_HEAD_SIZE + 4 + ST_TEXT_MAX];
    const char *why;
    size_t n = st_error_frame(code, text, b, sizeof b);
    (void)send_frame(ss->fd, &ss->ch, b, n, deadline_after(ss->s->cfg->timeout_ms, 0), 0, &why);
}

/* Reads one frame of the expected kind (any kind when want is 0) into m;
 * 0, or -1 after logging and answering an ERROR. */
static int serve_read(session *ss, int timeout_ms, st_kind want, uint8_t **p, st_msg *m)
{
    const char *why = NULL;
    st_kind kind;
    uint32_t len;
    int k = read_frame(ss->fd, &ss->ch, timeout_ms, &kind, p, &len, &why);
    if (k == 1)
        return -1; /* the client hung up between requests: not an error */
    if (k == 0 && !(why = st_decode(kind, *p, len, m)) && want && kind != want)
        why = "unexpected frame kind";
    if (k == 0 && !why)
        return 0;
    st_log("%s: %s", ss->peer, why);
    send_error(ss, ST_E_PROTO, why);
    free(*p);
    *p = NULL;
    return -1;
}

/* Waits for the next request in 200 ms slices, so a stopping server
 * does not wait out idle sessions; -1 when idle too long or stopping. */
static int idle_wait(int fd, int idle_ms, volatile int *stop)
{
    int64_t deadline = deadline_after(idle_ms, 0);
    while (!*stop && (int64_t)ut_mono_ns() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) > 0)
            return 0;
    }
    return -1;
}

/* ST_BLOB_REQ: the head and the bytes straight from the blob's mapping
 * (no frame built, no copy, no hash: the node checks the whole blob). */
static int send_blob(session *ss, const st_msg *req)
{
    const uint8_t *data = NULL;
    const char *why = st_repo_blob_view(ss->s->repo, req, &data);
    if (why) {
        send_error(ss, why[0] == 'n' ? ST_E_NOTFOUND : ST_E_RANGE, why);
        return 0;
    }
    st_msg m = {.kind = ST_BLOB};
    m.u.blob = req->u.blob;
    uint8_t head[ST_HEAD_SIZE + ST_BLOB_HEAD];
    if (st_encode_blob_head(&m, head, sizeof head) != sizeof head)
        return -1;
    int64_t deadline = deadline_after(ss->s->cfg->timeout_ms, m.u.blob.len);
    if (send_frame(ss->fd, &ss->ch, head, sizeof head, deadline, 1, &why) != 0 ||
        send_all(ss->fd, data, m.u.blob.len, deadline, &why) != 0) {
        st_log("%s: %s", ss->peer, why);
        return -1;
    }
    return 0;
}

/* ST_RANGES_REQ: the items' heads with their chunk hashes (precomputed
 * for a snapshot's memory pages, st_repo_ranges_view), the MAC over them,
 * then heads and bytes straight from the blob's mapping (no frame built,
 * no copy, no hash per request for pages). */
static int send_ranges(session *ss, const st_msg *req)
{
    const uint8_t *map = NULL;
    uint8_t *heads = NULL;
    size_t hl = 0;
    const char *why = st_repo_ranges_view(ss->s->repo, req, &map, &heads, &hl);
    if (why) {
        send_error(ss, why[0] == 'n' ? ST_E_NOTFOUND : why[0] == 'o' ? ST_E_INTERNAL : ST_E_RANGE, why);
        return 0;
    }
    uint32_t n = req->u.ranges.count;
    uint64_t data = 0;
    for (uint32_t i = 0; i < n; i++)
        data += st_range_at(req, i).len;
    uint8_t head[ST_HEAD_SIZE + 36], tag[ST_MAC_LEN];
    struct iovec *iov = malloc((2 * (size_t)n + 3) * sizeof *iov);
    int rc = -1;
    if (!iov || st_encode_ranges_head(req->u.ranges.blob, n, 36 + hl + data, head, sizeof head) == 0) {
        why = iov ? "reply larger than one frame" : "out of memory";
        goto out;
    }
    int k = 0;
    iov[k++] = (struct iovec){head, ST_HEAD_SIZE};
    if (ss->ch.state != CH_OFF) {
        st_sha_ctx *t = st_tag_begin(ss->ch.key, ss->ch.out_dir, ss->ch.out_seq++, head);
        if (t) {
            st_sha_update(t, head + ST_HEAD_SIZE, 36);
            st_sha_update(t, heads, hl);
        }
        st_tag_end(t, ss->ch.key, tag);
        iov[k++] = (struct iovec){tag, sizeof tag};
    }
    iov[k++] = (struct iovec){head + ST_HEAD_SIZE, 36};
    uint8_t *h = heads;
    for (uint32_t i = 0; i < n; i++) {
        st_range g = st_range_at(req, i);
        iov[k++] = (struct iovec){h, (size_t)st_item_head(g.len)};
        iov[k++] = (struct iovec){(void *)(map + g.off), g.len};
        h += st_item_head(g.len);
    }
    rc = send_iov(ss->fd, iov, k, deadline_after(ss->s->cfg->timeout_ms, 36 + hl + data), 0, &why);
out:
    if (rc != 0)
        st_log("%s: %s", ss->peer, why);
    free(iov);
    free(heads);
    return rc;
}

static void session_run(session *ss)
{
    const st_server_config *cfg = ss->s->cfg;
    uint8_t *p = NULL;
    st_msg m;
    if (serve_read(ss, cfg->timeout_ms, ST_HELLO, &p, &m) != 0)
        return;
    if (m.u.hello.version != ST_PROTO_VERSION) {
        st_log("%s: protocol version %u not spoken", ss->peer, m.u.hello.version);
        send_error(ss, ST_E_VERSION, "protocol version not spoken by this store");
        free(p);
        return;
    }
    st_msg ch = {.kind = ST_CHALLENGE};
    const char *why = st_nonce(ch.u.challenge.nonce, ST_NONCE_LEN);
    st_auth_mac(cfg->key, 'S', m.u.hello.nonce, ch.u.challenge.nonce, ch.u.challenge.mac);
    uint8_t nc[ST_NONCE_LEN];
    memcpy(nc, m.u.hello.nonce, ST_NONCE_LEN);
    free(p);
    if (why || send_msg(ss->fd, &ss->ch, cfg->timeout_ms, &ch, &why) != 0) {
        st_log("%s: %s", ss->peer, why);
        return;
    }
    if (serve_read(ss, cfg->timeout_ms, ST_AUTH, &p, &m) != 0)
        return;
    int ok = st_auth_check(cfg->key, 'C', ch.u.challenge.nonce, nc, m.u.auth.mac);
    free(p);
    if (!ok) {
        st_log("%s: wrong key (authentication failed)", ss->peer);
        send_error(ss, ST_E_AUTH, "wrong key (authentication failed)");
        return;
    }
    st_msg okm = {.kind = ST_OK};
    if (send_msg(ss->fd, &ss->ch, cfg->timeout_ms, &okm, &why) != 0) {
        st_log("%s: %s", ss->peer, why);
        return;
    }
    chan_start(&ss->ch, cfg->key, nc, ch.u.challenge.nonce, 'S');
    st_push_state ps = {.fd = -1};
    /* Between requests a node may keep its session idle (a lazy instance
     * faults now and then): wait longer for the next head than for bytes
     * inside a frame. */
    while (idle_wait(ss->fd, cfg->timeout_ms * 12, cfg->stop) == 0) {
        if (serve_read(ss, cfg->timeout_ms, 0, &p, &m) != 0)
            break;
        if (m.kind == ST_BLOB_REQ || m.kind == ST_RANGES_REQ) {
            int r = m.kind == ST_BLOB_REQ ? send_blob(ss, &m) : send_ranges(ss, &m);
            free(p);
            if (r != 0)
                break;
            continue;
        }
        size_t n = 0;
        uint8_t *reply = st_repo_answer(ss->s->repo, &m, &ps, ss->peer, &n);
        free(p);
        if (!reply) {
            st_log("%s: out of memory", ss->peer);
            break;
        }
        int r = send_frame(ss->fd, &ss->ch, reply, n, deadline_after(cfg->timeout_ms, n), 0, &why);
        free(reply);
        if (r != 0) {
            st_log("%s: %s", ss->peer, why);
            break;
        }
    }
    st_push_abort(&ps);
}

static void *session_thread(void *arg)
{
    session *ss = arg;
    session_run(ss);
    close(ss->fd);
    server *s = ss->s;
    free(ss);
    pthread_mutex_lock(&s->mu);
    s->live--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static int listen_on(const char *addr, int *port, char *err)
{
    char host[256];
    const char *ps;
    if (split_hostport(addr, host, sizeof host, &ps) != 0) {
        snprintf(err, ST_ERR_LEN, "--listen %s: expected ADDR:PORT", addr);
        return -1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int g = getaddrinfo(host[0] ? host : NULL, ps, &hints, &ai);
    if (g) {
        snprintf(err, ST_ERR_LEN, "--listen %s: %s", addr, gai_strerror(g));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        snprintf(err, ST_ERR_LEN, "--listen %s: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *port = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                                     : ntohs(((struct sockaddr_in *)&sa)->sin_port);
    return fd;
}

static void peer_name(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    char h[64] = "?", p[16] = "?";
    getnameinfo((const struct sockaddr *)sa, sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                       : sizeof(struct sockaddr_in),
                h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(out, cap, "%s:%s", h, p);
}

int st_serve(const st_server_config *cfg, char *err)
{
    server s = {.cfg = cfg};
    int port = 0;
    s.repo = st_repo_open(cfg->dir, err);
    if (!s.repo)
        return -1;
    int lfd = listen_on(cfg->listen, &port, err);
    if (lfd < 0) {
        st_repo_close(s.repo);
        return -1;
    }
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    st_log("serving %s on %s (port %d)", cfg->dir, cfg->listen, port);
    if (cfg->on_listen)
        cfg->on_listen(port, cfg->arg);
    while (!*cfg->stop) {
        struct pollfd pf = {lfd, POLLIN, 0};
        if (poll(&pf, 1, 200) <= 0)
            continue;
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int one = 1, buf = ST_SOCK_BUF;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        session *ss = calloc(1, sizeof *ss);
        if (!ss) {
            close(fd);
            continue;
        }
        ss->s = &s;
        ss->fd = fd;
        peer_name(&sa, ss->peer, sizeof ss->peer);
        pthread_mutex_lock(&s.mu);
        int full = s.live >= cfg->max_conns;
        if (!full)
            s.live++;
        pthread_mutex_unlock(&s.mu);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (full || pthread_create(&t, &at, session_thread, ss) != 0) {
            st_log("%s: refused (%s)", ss->peer, full ? "too many connections" : "no thread");
            send_error(ss, ST_E_INTERNAL, "store busy: too many connections");
            close(fd);
            free(ss);
            if (!full) {
                pthread_mutex_lock(&s.mu);
                s.live--;
                pthread_mutex_unlock(&s.mu);
            }
        }
        pthread_attr_destroy(&at);
    }
    close(lfd);
    /* Sessions see *stop after their current request (bounded by the
     * timeouts); wait for them before the repo goes. */
    pthread_mutex_lock(&s.mu);
    while (s.live)
        pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    st_repo_close(s.repo);
    return 0;
}
