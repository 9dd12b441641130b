/*
 * test_store_client.c — the running node's client helpers that need no
 * store: st_connect_retry's back-off against a port nobody listens on,
 * and the node's checks of a RANGES reply against a store written here
 * (fetches against real stores: tests/store/store_e2e.py,
 * tests/serve/lazy_e2e.py).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "store/st_transport.h"
#include "util/util.h"

/* A loopback port that was free a moment ago (bound, then closed). */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

Test(store_client, connect_retry_backs_off_then_reports_the_last_failure)
{
    char url[64], err[ST_ERR_LEN];
    snprintf(url, sizeof url, "wedge://127.0.0.1:%d/x", dead_port());
    st_url u;
    cr_assert_eq(st_url_parse(url, 1, &u, err), 0, "%s", err);
    st_key key = {.len = 16};
    memcpy(key.bytes, "0123456789abcdef", 16);
    uint64_t t0 = ut_mono_ns();
    st_conn *c = st_connect_retry(&u, &key, 2000, 3, err);
    uint64_t dt = ut_mono_ns() - t0;
    cr_assert_null(c);
    cr_assert(strstr(err, "connection refused"), "%s", err);
    /* Three refused attempts: two back-offs of 100 and 200 ms between them. */
    cr_assert_geq(dt, 290000000ull, "took %llu ns", (unsigned long long)dt);
    /* One attempt: no back-off at all. */
    t0 = ut_mono_ns();
    cr_assert_null(st_connect_retry(&u, &key, 2000, 1, err));
    cr_assert_lt(ut_mono_ns() - t0, 290000000ull);
}

/* ---- a RANGES reply checked item by item ------------------------------ */
/* A store written here (the real one never sends bad bytes): it speaks
 * the handshake, then answers one ranges request from `blob`, with one
 * byte of item `flip` changed after its chunk hashes were computed (the
 * frame's MAC stays right: the bulk bytes are not under it). */
typedef struct fake {
    int lfd;
    const uint8_t *blob;
    int flip;                   /* -1: none */
} fake;

static const st_key FKEY = {16, "fake-store-key!!"};

static void recv_n(int fd, uint8_t *b, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t k = recv(fd, b + got, n - got, 0);
        cr_assert_gt(k, 0);
        got += (size_t)k;
    }
}

/* One frame (its tag skipped when macd) into buf; its payload length. */
static uint32_t read_fr(int fd, uint8_t *buf, size_t cap, int macd, st_kind *kind)
{
    uint32_t len;
    recv_n(fd, buf, ST_HEAD_SIZE);
    cr_assert_null(st_head_decode(buf, kind, &len));
    if (macd)
        recv_n(fd, buf + ST_HEAD_SIZE, ST_MAC_LEN);
    cr_assert_leq(len + ST_HEAD_SIZE, cap);
    recv_n(fd, buf + ST_HEAD_SIZE, len);
    return len;
}

static void send_n(int fd, const void *b, size_t n) { cr_assert_eq(send(fd, b, n, MSG_NOSIGNAL), (ssize_t)n); }

static void *fake_main(void *arg)
{
    fake *f = arg;
    static uint8_t buf[2 << 20], out[2 << 20];
    int fd = accept(f->lfd, NULL, NULL);
    st_kind kind;
    st_msg m, r;
    uint32_t len = read_fr(fd, buf, sizeof buf, 0, &kind);
    cr_assert_null(st_decode(kind, buf + ST_HEAD_SIZE, len, &m));
    uint8_t nc[ST_NONCE_LEN], skey[ST_MAC_LEN];
    memcpy(nc, m.u.hello.nonce, sizeof nc);
    r = (st_msg){.kind = ST_CHALLENGE};
    cr_assert_null(st_nonce(r.u.challenge.nonce, ST_NONCE_LEN));
    st_auth_mac(&FKEY, 'S', nc, r.u.challenge.nonce, r.u.challenge.mac);
    size_t n = st_encode(&r, out, sizeof out);
    send_n(fd, out, n);
    read_fr(fd, buf, sizeof buf, 0, &kind); /* AUTH: the test's key is right */
    st_session_key(&FKEY, nc, r.u.challenge.nonce, skey);
    r = (st_msg){.kind = ST_OK};
    n = st_encode(&r, out, sizeof out);
    send_n(fd, out, n);
    len = read_fr(fd, buf, sizeof buf, 1, &kind);
    cr_assert_eq(kind, ST_RANGES_REQ);
    cr_assert_null(st_decode(kind, buf + ST_HEAD_SIZE, len, &m));
    static st_range rs[1024];
    for (uint32_t i = 0; i < m.u.ranges.count; i++) {
        rs[i] = st_range_at(&m, i);
        rs[i].data = f->blob + rs[i].off;
    }
    r = (st_msg){.kind = ST_RANGES};
    memcpy(r.u.ranges.blob, m.u.ranges.blob, ST_SHA_LEN);
    r.u.ranges.count = m.u.ranges.count;
    r.u.ranges.ranges = rs;
    n = st_encode(&r, out, sizeof out);
    cr_assert_gt(n, 0);
    if (f->flip >= 0) { /* the last byte of item `flip` */
        st_msg d;
        cr_assert_null(st_decode(ST_RANGES, out + ST_HEAD_SIZE, n - ST_HEAD_SIZE, &d));
        st_range g = st_ranges_item(&d, (uint32_t)f->flip, NULL);
        ((uint8_t *)g.data)[g.len - 1] ^= 0x20;
    }
    uint8_t tag[ST_MAC_LEN];
    st_frame_tag(skey, 'S', 0, out, out + ST_HEAD_SIZE, n - ST_HEAD_SIZE, tag);
    send_n(fd, out, ST_HEAD_SIZE);
    send_n(fd, tag, sizeof tag);
    send_n(fd, out + ST_HEAD_SIZE, n - ST_HEAD_SIZE);
    usleep(100000); /* let the client read before the close */
    close(fd);
    return NULL;
}

/* count ranges of 4 KiB, 8 KiB apart, from a fake store; 0 or -1 (err). */
static int fetch_from_fake(uint32_t count, int flip, uint8_t *dst, const uint8_t *blob, size_t size, char *err)
{
    fake f = {.blob = blob, .flip = flip};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    f.lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(bind(f.lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(f.lfd, 1) == 0 &&
              getsockname(f.lfd, (struct sockaddr *)&a, &al) == 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, fake_main, &f), 0);
    char url[64];
    snprintf(url, sizeof url, "wedge://127.0.0.1:%d/x", ntohs(a.sin_port));
    st_url u;
    cr_assert_eq(st_url_parse(url, 1, &u, err), 0);
    st_conn *c = st_connect(&u, &FKEY, 5000, err);
    cr_assert_not_null(c, "%s", err);
    st_blob_ref b = {.size = size};
    st_sha256(blob, size, b.sha);
    static st_range want[1024];
    static uint8_t *dsts[1024];
    for (uint32_t i = 0; i < count; i++) {
        want[i] = (st_range){(uint64_t)i * 8192 + 100, 4096, NULL};
        dsts[i] = dst + (size_t)i * 4096;
    }
    int rc = st_fetch_ranges(c, &b, want, count, dsts, err);
    st_close(c);
    pthread_join(t, NULL);
    close(f.lfd);
    return rc;
}

Test(store_client, ranges_are_checked_per_chunk_inline_and_on_the_verifier_thread)
{
    enum { SIZE = 2 << 20 };
    static uint8_t blob[SIZE], dst[1024 * 4096];
    for (size_t i = 0; i < SIZE; i++)
        blob[i] = (uint8_t)(i * 2654435761u >> 11);
    char err[ST_ERR_LEN];
    /* 2 ranges: checked inline; 200 (800 KiB): on the verifier thread. */
    uint32_t counts[2] = {2, 200};
    for (int k = 0; k < 2; k++) {
        memset(dst, 0, sizeof dst);
        cr_assert_eq(fetch_from_fake(counts[k], -1, dst, blob, SIZE, err), 0, "%s", err);
        for (uint32_t i = 0; i < counts[k]; i++)
            cr_assert(memcmp(dst + (size_t)i * 4096, blob + (size_t)i * 8192 + 100, 4096) == 0, "range %u", i);
        /* One flipped byte, in the last range (checked last) or the first. */
        int flips[2] = {(int)counts[k] - 1, 0};
        for (int j = 0; j < 2; j++) {
            err[0] = 0;
            cr_assert_eq(fetch_from_fake(counts[k], flips[j], dst, blob, SIZE, err), -1, "flip %d of %u", flips[j],
                         counts[k]);
            cr_assert(strstr(err, "does not match its SHA-256") != NULL, "%s", err);
        }
    }
}
