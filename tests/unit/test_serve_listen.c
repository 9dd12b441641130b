/*
 * test_serve_listen.c — the listener with a handler of the test's own,
 * the way the scheduler will plug in: requests are dispatched on the
 * listener thread and completed later from another thread.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve/srv_listen.h"
#include "serve/srv_log.h"

typedef struct fixture {
    srv_config cfg;
    srv_settings s;
    srv_listener *l;
    pthread_t loop;
    uint16_t port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const srv_request *pending[16];
    int npending;
    int dispatched;
} fixture;

static fixture fx;

static void on_dispatch(void *ud, const srv_request *req)
{
    fixture *f = ud;
    pthread_mutex_lock(&f->mu);
    f->pending[f->npending++] = req;
    f->dispatched++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Waits for the next dispatched request (completed by the caller). */
static const srv_request *next_request(void)
{
    pthread_mutex_lock(&fx.mu);
    while (!fx.npending)
        pthread_cond_wait(&fx.cv, &fx.mu);
    const srv_request *r = fx.pending[0];
    memmove(fx.pending, fx.pending + 1, (size_t)--fx.npending * sizeof fx.pending[0]);
    pthread_mutex_unlock(&fx.mu);
    return r;
}

static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

static void *loop_thread(void *arg)
{
    srv_err err;
    bool ok = srv_listener_run(arg, &err);
    return (void *)(intptr_t)ok;
}

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    pthread_mutex_init(&fx.mu, NULL);
    pthread_cond_init(&fx.cv, NULL);
    fx.port = free_port();
    char json[512];
    snprintf(json, sizeof json,
             "[{\"name\":\"t\",\"port\":%u,\"routes\":["
             "{\"route\":\"/f\",\"path\":\"/etc/passwd\",\"relative-deadline-us\":1000,"
             "\"http-resp-content-type\":\"application/json\"}]}]", fx.port);
    srv_err err;
    cr_assert(srv_config_parse(json, strlen(json), "t.json", NULL, &fx.cfg, &err), "%s", err.msg);
    srv_log_set_level(SRV_LOG_WARN);
    srv_settings_defaults(&fx.s);
    fx.s.host = "127.0.0.1";
    fx.s.grace_ms = 2000;
    fx.l = srv_listener_new(&fx.cfg, &fx.s, on_dispatch, &fx, &err);
    cr_assert_not_null(fx.l, "%s", err.msg);
    cr_assert_eq(pthread_create(&fx.loop, NULL, loop_thread, fx.l), 0);
}

static void teardown(void)
{
    srv_listener_stop(fx.l);
    void *ok;
    pthread_join(fx.loop, &ok);
    srv_listener_free(fx.l);
    srv_config_free(&fx.cfg);
    cr_assert(ok);
}

TestSuite(serve_listen, .init = setup, .fini = teardown, .timeout = 20);

static int connect_to(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(connect(s, (struct sockaddr *)&a, sizeof a), 0);
    return s;
}

static void send_all(int s, const char *p)
{
    size_t n = strlen(p);
    cr_assert_eq(send(s, p, n, 0), (ssize_t)n);
}

/* Reads until `want` bytes arrived or the peer closed; returns bytes read. */
static size_t recv_until(int s, char *buf, size_t cap, const char *needle)
{
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t n = recv(s, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (needle && strstr(buf, needle))
            break;
    }
    buf[len] = '\0';
    return len;
}

typedef struct later {
    const srv_request *req;
    int status;
} later;

static void *complete_later(void *arg)
{
    later *w = arg;
    usleep(20000);
    http_header h = { .name = "X-Worker", .name_len = 8, .value = "yes", .value_len = 3 };
    char body[256];
    int n = snprintf(body, sizeof body, "%s|%s|%zu", w->req->route->name, w->req->http->query, w->req->http->body_len);
    srv_complete(fx.l, w->req, w->status, w->req->route->content_type, &h, 1, body, (size_t)n);
    return NULL;
}

Test(serve_listen, dispatch_and_complete_from_another_thread)
{
    int s = connect_to(fx.port);
    send_all(s, "POST /f/x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"
                "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
    for (int i = 0; i < 2; i++) {
        const srv_request *r = next_request();
        cr_assert_eq(r->port, &fx.cfg.ports[0]);
        cr_assert_eq(r->route, &fx.cfg.ports[0].routes[0]);
        cr_assert_neq(r->arrival_ns, 0);
        /* one request in flight per connection: the second waits */
        pthread_mutex_lock(&fx.mu);
        cr_assert_eq(fx.npending, 0);
        pthread_mutex_unlock(&fx.mu);
        later w = { .req = r, .status = i ? 201 : 200 };
        pthread_t t;
        pthread_create(&t, NULL, complete_later, &w);
        pthread_join(t, NULL);
        char buf[2048];
        recv_until(s, buf, sizeof buf, i ? "t/f||0" : "t/f|a=1|4");
        cr_assert(strstr(buf, i ? "HTTP/1.1 201 Created\r\n" : "HTTP/1.1 200 OK\r\n"), "%s", buf);
        cr_assert(strstr(buf, "\r\nX-Worker: yes\r\n"), "%s", buf);
        cr_assert(strstr(buf, "\r\nContent-Type: application/json\r\n"), "%s", buf);
    }
    close(s);
}

Test(serve_listen, orphaned_request_completes_safely)
{
    int s = connect_to(fx.port);
    send_all(s, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
    const srv_request *r = next_request();
    close(s);                   /* the client leaves while its request is in flight */
    usleep(50000);
    srv_listener_stats st;
    srv_listener_get_stats(fx.l, &st);
    cr_assert_eq(st.in_flight, 1);
    cr_assert_eq(st.open_connections, 1);       /* kept as an orphan */
    srv_complete(fx.l, r, 200, "text/plain", NULL, 0, "late", 4);
    for (int i = 0; i < 100; i++) {
        srv_listener_get_stats(fx.l, &st);
        if (!st.open_connections)
            break;
        usleep(10000);
    }
    cr_assert_eq(st.open_connections, 0);
    cr_assert_eq(st.in_flight, 0);
    /* and it still serves */
    s = connect_to(fx.port);
    send_all(s, "GET /f HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    r = next_request();
    srv_complete(fx.l, r, 204, NULL, NULL, 0, NULL, 0);
    char buf[1024];
    recv_until(s, buf, sizeof buf, NULL);      /* until the server closes */
    cr_assert(!strncmp(buf, "HTTP/1.1 204 No Content\r\n", 25), "%s", buf);
    cr_assert(strstr(buf, "Connection: close"));
    close(s);
}

Test(serve_listen, stop_waits_for_in_flight)
{
    int s = connect_to(fx.port);
    send_all(s, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
    const srv_request *r = next_request();
    srv_listener_stop(fx.l);
    usleep(50000);
    /* new connections are refused once stopping */
    int s2 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(fx.port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_neq(connect(s2, (struct sockaddr *)&a, sizeof a), 0);
    close(s2);
    srv_complete(fx.l, r, 200, "text/plain", NULL, 0, "bye", 3);
    char buf[1024];
    recv_until(s, buf, sizeof buf, NULL);
    cr_assert(strstr(buf, "HTTP/1.1 200 OK\r\n"), "%s", buf);
    cr_assert(strstr(buf, "Connection: close\r\n"), "%s", buf);
    cr_assert(strstr(buf, "\r\n\r\nbye"));
    close(s);
}

/* snprintf's result is the length it wanted; srv_fmt_len is what it wrote. */
Test(serve_listen, fmt_len_never_exceeds_the_buffer)
{
    char buf[8];
    const char *volatile ten = "0123456789";   /* not a constant: no truncation warning */
    int n = snprintf(buf, sizeof buf, "%s", ten);
    cr_assert_eq(n, 10);
    cr_assert_eq(srv_fmt_len(n, sizeof buf), 7);
    cr_assert_eq(strlen(buf), srv_fmt_len(n, sizeof buf));
    cr_assert_eq(srv_fmt_len(snprintf(buf, sizeof buf, "%d", 42), sizeof buf), 2);
    cr_assert_eq(srv_fmt_len(8, sizeof buf), 7);
    cr_assert_eq(srv_fmt_len(-1, sizeof buf), 0);
    cr_assert_eq(srv_fmt_len(3, 0), 0);
}
