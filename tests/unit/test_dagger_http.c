/*
 * test_dagger_http.c — http:// streams of the Dagger host module against
 * real loopback sockets: a tiny echo server (a thread here that answers
 * each request with the raw request it received as the body) and a
 * listener that never answers.  The allow-list and the denied ports, the
 * request parsing and its limits, the time limit, bad guest pointers on
 * http streams, and the memory-backed stdio and log callback serve uses.
 * (https with a test CA runs end to end in tests/cli/dagger_http.sh.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dagger_fake.h"
#include "util/util.h"

static int echo_fd = -1, mute_fd = -1;
static uint16_t echo_port, mute_port;
static pthread_t echo_thread;
static char url[128], mute_url[128], pat_echo[128];
static const char *pats[4];

static int listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Reads one request (headers, then Content-Length bytes of body) and
 * answers "HTTP/1.1 200 OK" with that request as the body. */
static void *echo_main(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(echo_fd, NULL, NULL);
        if (c < 0)
            return NULL;
        static char req[8192];
        size_t n = 0;
        char *end = NULL;
        long clen = 0;
        while (n < sizeof req - 1) {
            ssize_t r = read(c, req + n, sizeof req - 1 - n);
            if (r <= 0)
                break;
            n += (size_t)r;
            req[n] = 0;
            if (!end && (end = strstr(req, "\r\n\r\n"))) {
                char *cl = strcasestr(req, "\r\nContent-Length:");
                clen = cl && cl < end ? strtol(cl + 17, NULL, 10) : 0;
            }
            if (end && n >= (size_t)(end + 4 - req) + (size_t)clen)
                break;
        }
        char head[128];
        int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", n);
        if (write(c, head, (size_t)hl) < 0 || write(c, req, n) < 0)
            perror("echo");
        close(c);
    }
}

static void setup_cfg(uint32_t timeout_ms, int npats, int ndeny, const uint16_t *deny)
{
    echo_fd = listener(&echo_port);
    mute_fd = listener(&mute_port);       /* connections queue in the backlog: never an answer */
    cr_assert_eq(pthread_create(&echo_thread, NULL, echo_main, NULL), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/echo", echo_port);
    snprintf(mute_url, sizeof mute_url, "http://127.0.0.1:%u/", mute_port);
    snprintf(pat_echo, sizeof pat_echo, "http://127.0.0.1:%u", echo_port);
    pats[0] = pat_echo;                   /* an origin: every path */
    pats[1] = "http://127.0.0.1:*/mute*"; /* a glob */
    pats[2] = "http://localhost:*/only/*";
    dagger_config cfg = {.stdio_fd = {0, 1, 2}, .log_fd = 2, .nallow_http = npats, .allow_http = pats,
                         .ndeny_ports = ndeny, .deny_ports = deny, .http_timeout_ms = timeout_ms};
    fake_new(&cfg);
}

static void setup(void) { setup_cfg(2000, 3, 0, NULL); }

static void teardown(void)
{
    fake_free();
    shutdown(echo_fd, SHUT_RDWR);
    close(echo_fd);
    pthread_join(echo_thread, NULL);
    close(mute_fd);
}

TestSuite(dagger_http, .init = setup, .fini = teardown);

/* Everything the stream returns, up to cap - 1 bytes, NUL-terminated. */
static int32_t read_all(int32_t sd, char *buf, size_t cap)
{
    size_t n = 0;
    int32_t r;
    while (n < cap - 1 && (r = d_read(sd, buf + n, (uint32_t)(cap - 1 - n > 4096 ? 4096 : cap - 1 - n))) > 0) {
        n += (size_t)r;
        bump = 64;
    }
    buf[n] = 0;
    return r < 0 && n == 0 ? r : (int32_t)n;
}

Test(dagger_http, a_raw_request_and_its_raw_response)
{
    int32_t sd = d_open(url);
    cr_assert_geq(sd, 0);
    const char *req = "POST /echo?x=1 HTTP/1.1\r\nHost: example.test\r\nX-Test: yes\r\n"
                      "Content-Length: 5\r\n\r\nhello";
    cr_assert_eq(d_write(sd, req), (int32_t)strlen(req));
    cr_assert_eq(d_flush(sd), 0);
    cr_assert_eq(d_flush(sd), 0, "a second flush sends nothing more");
    cr_assert_eq(d_write(sd, "more"), DAGGER_EPERM, "the request is gone");
    static char resp[16384];
    cr_assert_gt(read_all(sd, resp, sizeof resp), 0);
    cr_assert(!strncmp(resp, "HTTP/1.1 200 OK\r\n", 17), "%s", resp);
    cr_assert_not_null(strstr(resp, "\r\n\r\nPOST /echo?x=1 HTTP/1.1\r\n"), "%s", resp);
    cr_assert_not_null(strcasestr(resp, "\r\nHost: example.test\r\n"), "the guest's Host: %s", resp);
    cr_assert_not_null(strstr(resp, "\r\nX-Test: yes\r\n"), "%s", resp);
    cr_assert(strlen(resp) > 5 && !strcmp(resp + strlen(resp) - 5, "hello"), "the body: %s", resp);
    cr_assert_eq(d_read(sd, resp, 16), 0, "end of stream");
    cr_assert_eq(d_close(sd), 0);
}

Test(dagger_http, the_first_read_sends_a_request_not_flushed)
{
    int32_t sd = d_open(url);
    cr_assert_eq(d_write(sd, "GET /x HTTP/1.1\r\n\r\n"), 19);
    static char resp[8192];
    cr_assert_gt(read_all(sd, resp, sizeof resp), 0);
    cr_assert_not_null(strstr(resp, "\r\n\r\nGET /x HTTP/1.1\r\n"), "%s", resp);
}

Test(dagger_http, the_allow_list)
{
    cr_assert_geq(d_open(url), 0, "origin pattern, any path");
    cr_assert_eq(d_open(mute_url), DAGGER_EPERM, "a glob that does not match \"/\"");
    char u[160];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/mute/x", mute_port);
    cr_assert_geq(d_open(u), 0, "a glob that matches");
    cr_assert_eq(d_open("http://127.0.0.2/"), DAGGER_EPERM, "another host");
    cr_assert_eq(d_open("https://127.0.0.1/mute"), DAGGER_EPERM, "the scheme is part of the URL");
    cr_assert_geq(d_open("http://LOCALHOST:1/only/a"), 0, "the host is compared in lower case");
    cr_assert_eq(d_open("http://localhost:1/other"), DAGGER_EPERM);
    snprintf(u, sizeof u, "http://127.0.0.1:%u@127.0.0.2/echo", echo_port);
    cr_assert_eq(d_open(u), DAGGER_EURL, "user:password@ is refused");
    cr_assert_eq(d_open("http://"), DAGGER_EURL, "no host");
    cr_assert_eq(d_open("http://[::1/"), DAGGER_EURL);
}

Test(dagger_http, the_request_line_target_is_checked_again)
{
    char u[160];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/mute/ok", mute_port);
    int32_t sd = d_open(u);
    cr_assert_geq(sd, 0);
    cr_assert_eq(d_write(sd, "GET /elsewhere HTTP/1.1\r\n\r\n"), 27);
    cr_assert_eq(d_flush(sd), DAGGER_EPERM, "/elsewhere is off the allow-list");
    char buf[8];
    cr_assert_eq(d_read(sd, buf, 8), DAGGER_EPERM, "reads see the flush's error");
}

Test(dagger_http, malformed_requests_and_limits)
{
    static const char *const bad[] = {
        "", "GET\r\n\r\n", "GET / FTP/1.0\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET  HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\001b\r\n\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t sd = d_open(url);
        cr_assert_geq(sd, 0);
        if (*bad[i])
            cr_assert_eq(d_write(sd, bad[i]), (int32_t)strlen(bad[i]));
        cr_assert_eq(d_flush(sd), DAGGER_EOPEN, "request %zu: \"%s\"", i, bad[i]);
        d_close(sd);
        bump = 64;
    }
    /* DAGGER_HTTP_REQ_MAX: written in pieces from guest memory. */
    int32_t sd = d_open(url);
    uint32_t at = put("", 0);
    memset(mem.base + at, 'a', 32768);
    size_t total = 0;
    int32_t w = 0;
    while ((w = (int32_t)((fn3)dg("write"))(inst, (uint32_t)sd, at, 32768)) > 0)
        total += (size_t)w;
    cr_assert_eq(w, DAGGER_ETOOBIG);
    cr_assert_eq(total, DAGGER_HTTP_REQ_MAX);
}

Test(dagger_http, bad_pointers_on_http_streams)
{
    int32_t sd = d_open(url);
    fn3 rd = (fn3)dg("read"), wr = (fn3)dg("write");
    cr_assert_eq(wr(inst, (uint32_t)sd, MEM - 2, 8), (uint32_t)DAGGER_EFAULT);
    cr_assert_eq(wr(inst, (uint32_t)sd, 0xFFFFFFF0, 0x20), (uint32_t)DAGGER_EFAULT);
    cr_assert_eq(rd(inst, (uint32_t)sd, MEM, 1), (uint32_t)DAGGER_EFAULT);
    cr_assert_eq(d_write(sd, "GET / HTTP/1.1\r\n\r\n"), 18, "the stream still works");
    cr_assert_eq(d_flush(sd), 0);
    cr_assert_eq(rd(inst, (uint32_t)sd, 0xFFFFFFFF, 2), (uint32_t)DAGGER_EFAULT);
}

/* Suites of their own: each makes the fake with its own config. */
Test(dagger_http_limits, a_server_that_never_answers_hits_the_time_limit, .fini = teardown)
{
    setup_cfg(300, 3, 0, NULL);
    char u[160];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/mute", mute_port);
    int32_t sd = d_open(u);
    cr_assert_geq(sd, 0);
    cr_assert_eq(d_write(sd, "GET /mute HTTP/1.1\r\n\r\n"), 22);
    uint64_t t0 = ut_mono_ns();
    cr_assert_eq(d_flush(sd), DAGGER_ETIMEDOUT);
    uint64_t ms = (ut_mono_ns() - t0) / 1000000u;
    cr_assert(ms >= 250 && ms < 2000, "waited %llu ms for a 300 ms limit", (unsigned long long)ms);
}

Test(dagger_http_limits, denied_ports_need_a_pattern_naming_them, .fini = teardown)
{
    /* The context borrows the list: filled once the ports are known. */
    static uint16_t deny[2];
    setup_cfg(2000, 3, 2, deny);
    deny[0] = echo_port;
    deny[1] = mute_port;
    cr_assert_geq(d_open(url), 0, "the pattern names the echo port");
    char u[160];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/mute", mute_port);
    cr_assert_eq(d_open(u), DAGGER_EPERM, "127.0.0.1:* does not name the port");
}

static char logged[256];
static void log_to_buf(void *arg, const char *line, size_t len)
{
    (void)arg;
    snprintf(logged + strlen(logged), sizeof logged - strlen(logged), "[%.*s]", (int)len, line);
}

Test(dagger_memory, stdio_in_memory_and_the_log_callback)
{
    static const uint8_t body[] = "request body";
    dagger_config cfg = {.stdio_fd = {-1, -1, -1}, .log_fd = -1, .in_buf = body, .in_len = 12, .out_limit = {0, 8, 3},
                         .log_fn = log_to_buf};
    fake_new(&cfg);
    int32_t in = d_open("stdin://"), in2 = d_open("fd://0"), out = d_open("stdout://"), lg = d_open("log://?prefix=p");
    char buf[32] = {0};
    cr_assert_eq(d_read(in, buf, 7), 7);
    cr_assert_eq(d_read(in2, buf + 7, 20), 5, "one input, shared like a pipe");
    cr_assert_str_eq(buf, "request body");
    cr_assert_eq(d_read(in, buf, 4), 0);
    cr_assert_eq(d_write(out, "0123456789"), 10, "past the limit: counted, not kept");
    cr_assert_eq(d_write(lg, "one\n"), 4);
    cr_assert_str_eq(logged, "[p: one]");
    size_t len;
    bool trunc;
    const uint8_t *o = dagger_instance_output(inst, 1, &len, &trunc);
    cr_assert(o && len == 8 && trunc && !memcmp(o, "01234567", 8));
    o = dagger_instance_output(inst, 2, &len, &trunc);
    cr_assert(o && len == 0 && !trunc);
    int32_t err = d_open("stderr://");
    cr_assert_eq(d_write(err, "abcd"), 4);
    o = dagger_instance_output(inst, 2, &len, &trunc);
    cr_assert(o && len == 3 && trunc && !memcmp(o, "abc", 3), "stderr has its own limit");
    cr_assert_null(dagger_instance_output(inst, 0, &len, &trunc));
    fake_free();
}
