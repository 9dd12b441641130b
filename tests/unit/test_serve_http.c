/*
 * test_serve_http.c — the socket-free HTTP/1.1 layer: requests split at
 * every byte, pipelining, bodies, every limit with its status, and response
 * serialisation.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/http_conn.h"

static http_conn *new_conn(void)
{
    http_limits l;
    http_limits_defaults(&l);
    http_conn *c = http_conn_new(&l);
    cr_assert(c);
    return c;
}

/* Feeds all of `s` at once; expects one request and returns bytes used. */
static size_t one(http_conn *c, const char *s, http_request *req)
{
    size_t used;
    http_next n = http_conn_parse(c, (const uint8_t *)s, strlen(s), &used, req);
    const char *why = "";
    cr_assert_eq(n, HTTP_PARSE_REQUEST, "got %d (%d %s) for %s", n, http_conn_error(c, &why), why, s);
    return used;
}

/* Expects HTTP_PARSE_ERROR with `status`. */
static void bad(http_limits *lim, const char *s, size_t len, int status)
{
    http_limits l;
    http_limits_defaults(&l);
    http_conn *c = http_conn_new(lim ? lim : &l);
    http_request req;
    size_t used;
    http_next n = http_conn_parse(c, (const uint8_t *)s, len, &used, &req);
    cr_assert_eq(n, HTTP_PARSE_ERROR, "parse gave %d for %.60s", n, s);
    cr_assert_eq(http_conn_error(c, NULL), status, "status %d, want %d for %.60s", http_conn_error(c, NULL), status, s);
    /* and it stays failed */
    cr_assert_eq(http_conn_parse(c, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, &used, &req), HTTP_PARSE_ERROR);
    http_conn_free(c);
}

/* RFC 9112 §3.2.2: the absolute form, which proxies send, is accepted and
 * routed by its path; the authority is not part of the path. */
Test(serve_http, absolute_form_target)
{
    static const struct { const char *target, *path, *query; } cases[] = {
        { "http://example.com/fib/10?n=3", "/fib/10", "n=3" },
        { "HTTPS://example.com:8443/a/b", "/a/b", "" },
        { "http://example.com", "/", "" },
        { "http://example.com?x=1", "/", "x=1" },
        { "http://u@h:1//double", "//double", "" },
        { "/plain/http://not-absolute", "/plain/http://not-absolute", "" },
        { "ftp://example.com/x", "ftp://example.com/x", "" },   /* not ours: its whole target, no route */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        http_conn *c = new_conn();
        http_request r;
        char s[256];
        snprintf(s, sizeof s, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", cases[i].target);
        one(c, s, &r);
        cr_assert_str_eq(r.path, cases[i].path, "%s: path %s", cases[i].target, r.path);
        cr_assert_eq(r.path_len, strlen(cases[i].path));
        cr_assert_str_eq(r.query, cases[i].query, "%s: query %s", cases[i].target, r.query);
        cr_assert_eq(r.target_len, strlen(cases[i].target), "the target stays as sent");
        http_conn_done(c);
        http_conn_free(c);
    }
}

/* A repeated header: the lookup gives the first (http_conn.h says why);
 * the sandbox's CONTENT_TYPE comes from this same lookup. */
Test(serve_http, repeated_header_gives_the_first)
{
    http_conn *c = new_conn();
    http_request r;
    one(c, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: text/a\r\ncontent-type: text/b\r\n"
           "Content-Length: 0\r\n\r\n", &r);
    const http_header *h = http_request_header(&r, "Content-Type");
    cr_assert_not_null(h);
    cr_assert_str_eq(h->value, "text/a");
    http_conn_done(c);
    http_conn_free(c);
}

Test(serve_http, simple_get)
{
    http_conn *c = new_conn();
    http_request r;
    const char *s = "GET /fib/10?n=3&x=y HTTP/1.1\r\nHost: a\r\nX-Thing:  v a l  \r\nEmpty:\r\n\r\n";
    cr_assert_eq(one(c, s, &r), strlen(s));
    cr_assert_str_eq(r.method, "GET");
    cr_assert_str_eq(r.path, "/fib/10");
    cr_assert_eq(r.path_len, 7);
    cr_assert_str_eq(r.query, "n=3&x=y");
    cr_assert_eq(r.query_len, 7);
    cr_assert_eq(r.target_len, 15);
    cr_assert_eq(memcmp(r.target, "/fib/10?n=3&x=y", 15), 0);
    cr_assert_eq(r.nheaders, 3);
    cr_assert_str_eq(r.headers[1].name, "X-Thing");
    const http_header *h = http_request_header(&r, "x-thing");
    cr_assert_not_null(h);
    cr_assert_str_eq(h->value, "v a l");
    cr_assert_eq(h->value_len, 5);
    h = http_request_header(&r, "EMPTY");
    cr_assert_not_null(h);
    cr_assert_eq(h->value_len, 0);
    cr_assert_str_eq(h->value, "");
    cr_assert_null(http_request_header(&r, "missing"));
    cr_assert(r.keep_alive);
    cr_assert_not(r.head);
    cr_assert_null(r.body);
    cr_assert_eq(r.http_minor, 1);
    http_conn_done(c);
    http_conn_free(c);
}

Test(serve_http, pipelined_in_order)
{
    http_conn *c = new_conn();
    const char *s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                    "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                    "HEAD /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    size_t len = strlen(s), off = 0;
    const char *paths[] = { "/a", "/b", "/c" };
    for (int i = 0; i < 3; i++) {
        http_request r;
        size_t used;
        /* while a request is out, the parser refuses to go on */
        http_next n = http_conn_parse(c, (const uint8_t *)s + off, len - off, &used, &r);
        cr_assert_eq(n, HTTP_PARSE_REQUEST, "request %d", i);
        off += used;
        cr_assert_str_eq(r.path, paths[i]);
        if (i == 1) {
            cr_assert_eq(r.body_len, 5);
            cr_assert_eq(memcmp(r.body, "hello", 5), 0);
        }
        if (i == 2) {
            cr_assert(r.head);
            cr_assert_not(r.keep_alive);
        }
        http_request r2;
        size_t u2;
        cr_assert_eq(http_conn_parse(c, (const uint8_t *)s + off, len - off, &u2, &r2), HTTP_PARSE_MORE);
        cr_assert_eq(u2, 0);
        http_conn_done(c);
    }
    cr_assert_eq(off, len);
    http_conn_free(c);
}

Test(serve_http, split_at_every_byte)
{
    const char *s = "POST /up?q=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
                    "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n"
                    "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t len = strlen(s);
    http_conn *c = new_conn();
    http_request r;
    int got = 0;
    for (size_t i = 0; i < len; i++) {
        size_t used;
        http_next n = http_conn_parse(c, (const uint8_t *)s + i, 1, &used, &r);
        cr_assert_neq(n, HTTP_PARSE_ERROR, "at byte %zu", i);
        cr_assert_eq(used, 1, "at byte %zu", i);
        if (n == HTTP_PARSE_REQUEST) {
            if (got == 0) {
                cr_assert_str_eq(r.path, "/up");
                cr_assert_str_eq(r.query, "q=1");
                cr_assert_eq(r.body_len, 12);
                cr_assert_eq(memcmp(r.body, "hello, world", 12), 0);
                cr_assert_str_eq(http_request_header(&r, "x-a")->value, "b");
            } else {
                cr_assert_str_eq(r.path, "/next");
                cr_assert_eq(r.body_len, 0);
            }
            got++;
            http_conn_done(c);
        }
        if (i == 10)
            cr_assert(http_conn_in_message(c));
    }
    cr_assert_eq(got, 2);
    cr_assert_not(http_conn_in_message(c));
    http_conn_free(c);
}

Test(serve_http, keep_alive_rules)
{
    http_conn *c = new_conn();
    http_request r;
    one(c, "GET / HTTP/1.0\r\n\r\n", &r);
    cr_assert_not(r.keep_alive);
    http_conn_free(c);
    c = new_conn();
    one(c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
    cr_assert(r.keep_alive);
    http_conn_free(c);
    c = new_conn();
    one(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
    cr_assert_not(r.keep_alive);
    http_conn_free(c);
}

Test(serve_http, malformed_is_400)
{
    const char *cases[] = {
        "garbage\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",                                   /* no Host */
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET / HTTP/9.9\r\nHost: a\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bad(NULL, cases[i], strlen(cases[i]), 400);
}

Test(serve_http, limits)
{
    http_limits l;
    http_limits_defaults(&l);
    l.max_url = 32;
    l.max_header_bytes = 64;
    l.max_headers = 3;
    l.max_body = 10;
    bad(&l, "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", 71, 414);
    const char *many = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    bad(&l, many, strlen(many), 431);
    const char *big = "GET / HTTP/1.1\r\nHost: a\r\nA: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n";
    bad(&l, big, strlen(big), 431);
    const char *cl = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
    bad(&l, cl, strlen(cl), 413);
    const char *ch = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n";
    bad(&l, ch, strlen(ch), 413);
    bad(NULL, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 28, 505);
    /* exactly at the limits is fine */
    http_conn *c = http_conn_new(&l);
    http_request r;
    one(c, "POST /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\nB: 1\r\nContent-Length: 10\r\n\r\n0123456789", &r);
    cr_assert_eq(r.target_len, 32);
    cr_assert_eq(r.body_len, 10);
    http_conn_free(c);
}

Test(serve_http, upgrade_closes_after)
{
    http_conn *c = new_conn();
    http_request r;
    one(c, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nXXXX", &r);
    cr_assert_not(r.keep_alive);
    http_conn_done(c);
    size_t used;
    cr_assert_eq(http_conn_parse(c, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, &used, &r), HTTP_PARSE_MORE);
    http_conn_free(c);
}

Test(serve_http, response_build)
{
    http_header extra[] = {
        { .name = "X-Ok", .name_len = 4, .value = "1", .value_len = 1 },
        { .name = "X-Bad", .name_len = 5, .value = "a\r\nInjected: 1", .value_len = 14 },
        { .name = "Bad Name", .name_len = 8, .value = "v", .value_len = 1 },
        { .name = "content-length", .name_len = 14, .value = "99", .value_len = 2 },
    };
    size_t n;
    uint8_t *out = http_response_build(200, "text/plain", extra, 4, "hi", 2, true, false, &n);
    cr_assert_not_null(out);
    char *s = strndup((char *)out, n);
    cr_assert(!strncmp(s, "HTTP/1.1 200 OK\r\nDate: ", 23), "%s", s);
    cr_assert(strstr(s, "\r\nContent-Type: text/plain\r\n"));
    cr_assert(strstr(s, "\r\nContent-Length: 2\r\n"));
    cr_assert(strstr(s, "\r\nConnection: keep-alive\r\n"));
    cr_assert(strstr(s, "\r\nX-Ok: 1\r\n"));
    cr_assert_null(strstr(s, "Injected"));
    cr_assert_null(strstr(s, "Bad Name"));
    cr_assert_null(strstr(s, "99"));
    cr_assert(n > 6 && !memcmp(s + n - 6, "\r\n\r\nhi", 6));
    free(s);
    free(out);

    out = http_response_build(404, NULL, NULL, 0, "gone", 4, false, true, &n);
    s = strndup((char *)out, n);
    cr_assert(!strncmp(s, "HTTP/1.1 404 Not Found\r\n", 24));
    cr_assert(strstr(s, "\r\nContent-Length: 4\r\n"));       /* HEAD: length of the body not sent */
    cr_assert(strstr(s, "\r\nConnection: close\r\n"));
    cr_assert_null(strstr(s, "Content-Type"));
    cr_assert(!memcmp(s + n - 4, "\r\n\r\n", 4));
    free(s);
    free(out);
    cr_assert_str_eq(http_status_reason(431), "Request Header Fields Too Large");
    cr_assert_str_eq(http_status_reason(799), "Unknown");
}

Test(serve_http, expect_continue)
{
    http_conn *c = new_conn();
    http_request r;
    size_t used;
    const char *head = "POST /u HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
    cr_assert_eq(http_conn_parse(c, (const uint8_t *)head, strlen(head), &used, &r), HTTP_PARSE_MORE);
    cr_assert(http_conn_want_continue(c));
    cr_assert_not(http_conn_want_continue(c));     /* only once */
    cr_assert_eq(http_conn_parse(c, (const uint8_t *)"abc", 3, &used, &r), HTTP_PARSE_REQUEST);
    cr_assert_eq(r.body_len, 3);
    http_conn_free(c);
    /* body already there: no interim response */
    c = new_conn();
    one(c, "POST /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", &r);
    cr_assert_not(http_conn_want_continue(c));
    http_conn_free(c);
    const char *odd = "GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n";
    bad(NULL, odd, strlen(odd), 417);
}
