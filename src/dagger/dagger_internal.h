/*
 * dagger_internal.h — what the files of src/dagger/ share: URL parsing
 * (dagger_url.c), streams (dagger_stream.c) and the context they live in.
 *
 * Error idiom of this layer: functions return a dagger_error (negative) or
 * a count / descriptor (>= 0), as the guest sees them.
 */
#ifndef WEDGE_DAGGER_INTERNAL_H
#define WEDGE_DAGGER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dagger.h"

/* A URL split in place: scheme "://" rest ["?" query].  Nothing copied. */
typedef struct dagger_url {
    const char *scheme, *rest, *query;
    size_t scheme_len, rest_len, query_len;
} dagger_url;

/* 0, or DAGGER_EURL (no "scheme://", an empty or non-alphanumeric scheme). */
int dagger_url_parse(const char *s, size_t n, dagger_url *u);
/* True if scheme is `name` (ASCII case-insensitive). */
bool dagger_url_is(const dagger_url *u, const char *name);
/* The value of query parameter `key` ("a=1&key=v"); false if absent. */
bool dagger_url_param(const dagger_url *u, const char *key, const char **val, size_t *len);

typedef enum dagger_kind { DG_FREE = 0, DG_HOSTFD, DG_FILE, DG_LOG, DG_RANDOM, DG_MEMIN, DG_MEMOUT, DG_HTTP, DG_NULL, DG_ZERO } dagger_kind;

/* An http:// or https:// stream (dagger_http.c): the request the guest
 * writes, then, once flush sent it, the raw response it reads. */
typedef struct dagger_http {
    char *url;                  /* canonical URL checked at open (owned) */
    uint8_t *req, *resp;        /* owned, grown as written / received */
    size_t req_len, req_cap, resp_len, resp_cap, resp_off;
    bool sent;                  /* flush ran: writes are refused, reads see resp */
    bool too_big;               /* the response passed DAGGER_HTTP_RESP_MAX */
    int32_t err;                /* what the flush that failed returned: reads return it too */
} dagger_http;

typedef struct dagger_stream {
    dagger_kind kind;
    int fd;                     /* DG_HOSTFD (borrowed), DG_FILE (owned); DG_MEMIN/OUT: 0, 1 or 2 */
    bool can_read, can_write;
    dagger_http *http;          /* DG_HTTP (owned) */
    char prefix[64];            /* DG_LOG */
} dagger_stream;

/* Output kept in memory for a stdio stream whose host descriptor is -1. */
typedef struct dagger_out {
    uint8_t *buf;               /* owned */
    size_t len, cap;
    bool truncated;
} dagger_out;

struct dagger_ctx {
    int stdio_fd[3], log_fd;
    dagger_schemes schemes;
    int npreopens;
    wasi_preopen *preopens;     /* strings owned */
    dagger_stream *streams;     /* [cap] */
    uint32_t cap;
    /* Borrowed from the dagger_config (it says how long they must live). */
    const uint8_t *in_buf;
    size_t in_len, out_limit[3];
    size_t in_off;              /* how much of in_buf stdin:// streams have read (one input, like a pipe) */
    dagger_out out[3];
    dagger_log_fn log_fn;
    void *log_arg;
    int nallow_http;
    const char *const *allow_http;
    const char *ca_file;
    int ndeny_ports;
    const uint16_t *deny_ports;
    uint64_t deadline_ns;
    uint32_t http_timeout_ms;
    void (*wait_yield)(void);
};

/* Opens the stream `u` names into *s (a free slot); dagger_error or 0. */
int dagger_stream_open(dagger_ctx *ctx, const dagger_url *u, dagger_stream *s);
int32_t dagger_stream_read(dagger_ctx *ctx, dagger_stream *s, uint8_t *buf, uint32_t len);
int32_t dagger_stream_write(dagger_ctx *ctx, dagger_stream *s, const uint8_t *buf, uint32_t len);
void dagger_stream_close(dagger_stream *s);
/* flush: nothing to do but for http streams. */
int32_t dagger_stream_flush(dagger_ctx *ctx, dagger_stream *s);

/* dagger_http.c: open checks the URL against the allow-list (DAGGER_EPERM
 * when refused); write appends to the request; flush sends it and waits
 * for the whole response, bounded by the per-request limit and the
 * context's deadline (past the deadline the guest call ends with a
 * WEDGE_TRAP_TIMEOUT trap); read returns the response. */
int dagger_http_open(dagger_ctx *ctx, const dagger_url *u, dagger_stream *s);
int32_t dagger_http_write(dagger_http *h, const uint8_t *buf, uint32_t len);
int32_t dagger_http_flush(dagger_ctx *ctx, dagger_http *h);
int32_t dagger_http_read(dagger_ctx *ctx, dagger_http *h, uint8_t *buf, uint32_t len);
void dagger_http_free(dagger_http *h);
/* The canonical form of url (scheme and host lower case, default port
 * dropped, fragment dropped) into canon, if the allow-list lets it
 * through: 0, DAGGER_EURL, DAGGER_ESCHEME or DAGGER_EPERM. */
int dagger_http_check(const dagger_ctx *ctx, const char *url, char *canon, size_t cap);

#endif
