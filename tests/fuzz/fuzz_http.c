/*
 * fuzz_http.c — libFuzzer driver for the HTTP/1.1 request layer
 * (src/serve/http_conn.c on llhttp) and response serialisation.
 *
 * The first input byte chooses how the rest is cut into reads (1..256
 * bytes), so requests split at awkward places are explored as well as
 * pipelined ones.  Small limits make every limit path reachable.  Each
 * parsed request is checked for internal consistency and answered, as the
 * listener would, before parsing goes on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/http_conn.h"

static void check_request(const http_request *r)
{
    /* Everything must be readable and consistent; ASan does the rest. */
    if (strlen(r->path) != r->path_len || r->path_len > r->target_len)
        abort();
    if (r->query_len && (r->query < r->target || r->query + r->query_len > r->target + r->target_len))
        abort();
    for (size_t i = 0; i < r->nheaders; i++)
        if (strlen(r->headers[i].name) != r->headers[i].name_len ||
            strlen(r->headers[i].value) < r->headers[i].value_len)
            abort();
    if (r->body_len && !r->body)
        abort();
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < r->body_len; i++)
        sink ^= r->body[i];
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] + 1;
    data++;
    size--;
    http_limits lim = { .max_url = 256, .max_header_bytes = 1024, .max_headers = 16, .max_body = 4096 };
    http_conn *c = http_conn_new(&lim);
    if (!c)
        return 0;
    /* Bytes not yet consumed are carried over, as the listener does. */
    uint8_t *pending = malloc(size + 1);
    size_t npending = 0;
    for (size_t off = 0; off < size || npending;) {
        size_t n = size - off < step ? size - off : step;
        memcpy(pending + npending, data + off, n);
        npending += n;
        off += n;
        bool progressed = n > 0;
        for (;;) {
            http_request req;
            size_t used = 0;
            http_next r = http_conn_parse(c, pending, npending, &used, &req);
            if (used > npending)
                abort();
            memmove(pending, pending + used, npending - used);
            npending -= used;
            progressed |= used > 0;
            (void)http_conn_want_continue(c);
            if (r == HTTP_PARSE_REQUEST) {
                check_request(&req);
                size_t len;
                uint8_t *resp = http_response_build(200, "text/plain", req.headers, req.nheaders,
                                                    req.body, req.body_len, req.keep_alive, req.head, &len);
                free(resp);
                http_conn_done(c);
                continue;
            }
            if (r == HTTP_PARSE_ERROR) {
                int st = http_conn_error(c, NULL);
                if (st != 400 && st != 413 && st != 414 && st != 417 && st != 431 && st != 503 && st != 505)
                    abort();
                npending = 0;
                off = size;
            }
            break;
        }
        if (!progressed || off >= size)
            break;
    }
    free(pending);
    http_conn_free(c);
    return 0;
}
