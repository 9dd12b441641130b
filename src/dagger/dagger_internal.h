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

typedef enum dagger_kind { DG_FREE = 0, DG_HOSTFD, DG_FILE, DG_LOG, DG_RANDOM, DG_NULL, DG_ZERO } dagger_kind;

typedef struct dagger_stream {
    dagger_kind kind;
    int fd;                     /* DG_HOSTFD (borrowed), DG_FILE (owned) */
    bool can_read, can_write;
    char prefix[64];            /* DG_LOG */
} dagger_stream;

struct dagger_ctx {
    int stdio_fd[3], log_fd;
    dagger_schemes schemes;
    int npreopens;
    wasi_preopen *preopens;     /* strings owned */
    dagger_stream *streams;     /* [cap] */
    uint32_t cap;
};

/* Opens the stream `u` names into *s (a free slot); dagger_error or 0. */
int dagger_stream_open(dagger_ctx *ctx, const dagger_url *u, dagger_stream *s);
int32_t dagger_stream_read(dagger_stream *s, uint8_t *buf, uint32_t len);
int32_t dagger_stream_write(const dagger_ctx *ctx, dagger_stream *s, const uint8_t *buf, uint32_t len);
void dagger_stream_close(dagger_stream *s);

#endif
