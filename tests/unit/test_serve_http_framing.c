/*
 * test_serve_http_framing.c — requests whose framing a front proxy and
 * wedge could read differently (request smuggling) must be refused with
 * 400, whether they arrive at once or a byte at a time; look-alike bytes
 * in a body must not be.  Regression tests for two holes found by
 * tests/serve/hostile_clients_e2e.py: obsolete line folding (llhttp unfolds
 * "Transfer-Encoding:\r\n chunked" into chunked) and Transfer-Encoding in
 * an HTTP/1.0 request (llhttp read it as chunked and kept the connection).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "serve/http_conn.h"

/* Feeds s whole (split == 0) or in pieces of `split` bytes; returns the
 * first result that is not HTTP_PARSE_MORE, and the error status in *st. */
static http_next feed(const char *s, size_t split, int *st, http_request *req, http_conn **out)
{
    http_limits l;
    http_limits_defaults(&l);
    http_conn *c = http_conn_new(&l);
    cr_assert(c);
    size_t len = strlen(s), off = 0;
    http_next n = HTTP_PARSE_MORE;
    while (off < len) {
        size_t piece = split && len - off > split ? split : len - off, used = 0;
        n = http_conn_parse(c, (const uint8_t *)s + off, piece, &used, req);
        off += used;
        if (n != HTTP_PARSE_MORE)
            break;
        cr_assert_eq(used, piece);
    }
    *st = http_conn_error(c, NULL);
    if (out)
        *out = c;
    else
        http_conn_free(c);
    return n;
}

static void refused_400(const char *s)
{
    for (size_t split = 0; split <= 3; split++) {
        int st;
        http_request r;
        http_next n = feed(s, split, &st, &r, NULL);
        cr_assert_eq(n, HTTP_PARSE_ERROR, "split %zu: parse gave %d for %s", split, n, s);
        cr_assert_eq(st, 400, "split %zu: status %d for %s", split, st, s);
    }
}

Test(serve_http_framing, obsolete_line_folding_is_400)
{
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\tchunked\r\n\r\n");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n 5\r\n\r\nhello");
    refused_400("GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n");
    refused_400("GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\t\r\n\r\n");
    /* after the blank lines llhttp skips before a request */
    refused_400("\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n");
}

Test(serve_http_framing, folding_in_a_later_pipelined_request_is_400)
{
    /* the first request is fine; the fold is in the second one's head */
    const char *s = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n";
    http_limits l;
    http_limits_defaults(&l);
    http_conn *c = http_conn_new(&l);
    http_request r;
    size_t used;
    cr_assert_eq(http_conn_parse(c, (const uint8_t *)s, strlen(s), &used, &r), HTTP_PARSE_REQUEST);
    cr_assert_str_eq(r.path, "/a");
    http_conn_done(c);
    size_t used2;
    cr_assert_eq(http_conn_parse(c, (const uint8_t *)s + used, strlen(s) - used, &used2, &r), HTTP_PARSE_ERROR);
    cr_assert_eq(http_conn_error(c, NULL), 400);
    http_conn_free(c);
}

Test(serve_http_framing, fold_like_bytes_in_a_body_are_data)
{
    /* "\n " inside a body (Content-Length and chunked) is not a header
     * fold, and the request after it parses too */
    const char *s = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\na\n b\n "
                    "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n\n \n\t\r\n0\r\n\r\n"
                    "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
    for (size_t split = 0; split <= 2; split++) {
        http_limits l;
        http_limits_defaults(&l);
        http_conn *c = http_conn_new(&l);
        http_request r;
        size_t len = strlen(s), off = 0;
        int got = 0;
        while (off < len) {
            size_t piece = split && len - off > split ? split : len - off, used = 0;
            http_next n = http_conn_parse(c, (const uint8_t *)s + off, piece, &used, &r);
            cr_assert_neq(n, HTTP_PARSE_ERROR, "split %zu at %zu", split, off);
            off += used;
            if (n == HTTP_PARSE_REQUEST) {
                if (got == 0)
                    cr_assert(r.body_len == 6 && !memcmp(r.body, "a\n b\n ", 6));
                if (got == 1)
                    cr_assert(r.body_len == 4 && !memcmp(r.body, "\n \n\t", 4));
                if (got == 2)
                    cr_assert_str_eq(r.path, "/c");
                got++;
                http_conn_done(c);
            }
        }
        cr_assert_eq(got, 3, "split %zu", split);
        http_conn_free(c);
    }
}

Test(serve_http_framing, transfer_encoding_in_http10_is_400)
{
    refused_400("POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    refused_400("POST /a HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    refused_400("POST /a HTTP/1.0\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello");
    /* HTTP/1.1 chunked is of course still fine */
    int st;
    http_request r;
    http_conn *c;
    cr_assert_eq(feed("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                      0, &st, &r, &c), HTTP_PARSE_REQUEST);
    cr_assert(r.body_len == 5 && !memcmp(r.body, "hello", 5));
    http_conn_free(c);
}

Test(serve_http_framing, conflicting_lengths_are_400)
{
    /* already refused by llhttp; kept here so a parser change cannot
     * quietly start accepting them */
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n");
    refused_400("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n");
    refused_400("GET /a HTTP/1.1\nHost: x\n\n");
}
