/*
 * dagger_stream.c — the local stream kinds behind Dagger URLs: the host's
 * stdio descriptors, log lines, OS randomness and files inside the
 * pre-opened directories (jailed by the WASI path jail, wasi_path.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../wasi/wasi_path.h"
#include "dagger_internal.h"

enum { WASI_EACCES_ = 2, WASI_ENOTCAPABLE_ = 76 };   /* wasi_path.h's answers for "not allowed" */

static int dg_host_error(int err)
{
    switch (err) {
    case EPIPE: return DAGGER_EEOS;
    case EACCES: case EPERM: case EROFS: return DAGGER_EPERM;
    default: return DAGGER_EIO;
    }
}

/* "file:///a/b" inside a pre-opened directory whose guest path is a
 * prefix of it at a component boundary (the longest such prefix). */
static int dg_open_file(dagger_ctx *ctx, const dagger_url *u, dagger_stream *s)
{
    const char *path = u->rest;
    size_t n = u->rest_len;
    if (n == 0 || path[0] != '/' || n > WASI_PATH_MAX || memchr(path, 0, n))
        return DAGGER_EURL;
    int flags = O_RDONLY;
    const char *mode;
    size_t mlen;
    s->can_read = true;
    if (dagger_url_param(u, "mode", &mode, &mlen)) {
        if (mlen != 1 || !strchr("rwa", mode[0]))
            return DAGGER_EURL;
        if (mode[0] != 'r') {
            flags = O_WRONLY | O_CREAT | (mode[0] == 'w' ? O_TRUNC : O_APPEND);
            s->can_read = false;
            s->can_write = true;
        }
    }
    const wasi_preopen *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < ctx->npreopens; i++) {
        const char *g = ctx->preopens[i].guest_path;
        size_t gl = strlen(g);
        while (gl > 1 && g[gl - 1] == '/')
            gl--;
        bool under = gl == 1 && g[0] == '/' ? true
                     : n >= gl && memcmp(path, g, gl) == 0 && (n == gl || path[gl] == '/');
        if (under && (!best || gl > best_len)) {
            best = &ctx->preopens[i];
            best_len = gl;
        }
    }
    if (!best || (best->readonly && s->can_write))
        return DAGGER_EPERM;            /* outside every directory, or writing to a read-only one */
    char rel[WASI_PATH_MAX + 2];
    size_t off = best_len == 1 ? 0 : best_len;
    while (off < n && path[off] == '/')
        off++;
    if (off == n)
        return DAGGER_EOPEN;            /* the directory itself is not a stream */
    memcpy(rel, path + off, n - off);
    rel[n - off] = 0;
    int root = open(best->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return DAGGER_EOPEN;
    int fd = -1;
    uint32_t e = wasi_jail_open(root, rel, flags | O_CLOEXEC, 0644, &fd);
    close(root);
    if (e == WASI_ENOTCAPABLE_ || e == WASI_EACCES_)
        return DAGGER_EPERM;
    if (e != 0)
        return DAGGER_EOPEN;
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        return DAGGER_EOPEN;
    }
    s->kind = DG_FILE;
    s->fd = fd;
    return 0;
}

/* Standard stream k (0 in, 1 out, 2 err): the host's descriptor,
 * borrowed, or memory (the request body and the response under serve). */
static int dg_open_stdio(const dagger_ctx *ctx, int k, dagger_stream *s)
{
    s->kind = ctx->stdio_fd[k] >= 0 ? DG_HOSTFD : k == 0 ? DG_MEMIN : DG_MEMOUT;
    s->fd = ctx->stdio_fd[k] >= 0 ? ctx->stdio_fd[k] : k;
    s->can_read = k == 0;
    s->can_write = k != 0;
    return 0;
}

int dagger_stream_open(dagger_ctx *ctx, const dagger_url *u, dagger_stream *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    static const char *const stdio_names[3] = {"stdin", "stdout", "stderr"};
    for (int k = 0; k < 3; k++)
        if (dagger_url_is(u, stdio_names[k]))
            return u->rest_len ? DAGGER_EURL : dg_open_stdio(ctx, k, s);
    if (dagger_url_is(u, "fd")) {
        if (u->rest_len != 1 || u->rest[0] < '0' || u->rest[0] > '9')
            return DAGGER_EURL;
        int k = u->rest[0] - '0';
        /* fd://0-2 only: no other host descriptor is reachable. */
        return k > 2 ? DAGGER_EOPEN : dg_open_stdio(ctx, k, s);
    }
    if (dagger_url_is(u, "log")) {
        const char *p = "log";
        size_t pl = 3;
        dagger_url_param(u, "prefix", &p, &pl);
        if (pl >= sizeof s->prefix)
            return DAGGER_EURL;
        memcpy(s->prefix, p, pl);
        for (size_t i = 0; i < pl; i++)
            if ((unsigned char)s->prefix[i] < 0x20 || s->prefix[i] == 0x7F)
                s->prefix[i] = '?';         /* one line, whatever the guest wrote */
        s->kind = DG_LOG;
        s->can_write = true;
        return 0;
    }
    if (dagger_url_is(u, "random")) {
        s->kind = DG_RANDOM;
        s->can_read = true;
        return 0;
    }
    if (dagger_url_is(u, "file"))
        return dg_open_file(ctx, u, s);
    if (ctx->schemes == DAGGER_SCHEMES_CWA && (dagger_url_is(u, "null") || dagger_url_is(u, "zero"))) {
        s->kind = dagger_url_is(u, "null") ? DG_NULL : DG_ZERO;
        s->can_read = s->can_write = true;
        return 0;
    }
    if (dagger_url_is(u, "http") || dagger_url_is(u, "https"))
        return dagger_http_open(ctx, u, s);
    return DAGGER_ESCHEME;
}

int32_t dagger_stream_read(dagger_ctx *ctx, dagger_stream *s, uint8_t *buf, uint32_t len)
{
    if (!s->can_read)
        return DAGGER_EPERM;
    if (len > INT32_MAX)
        len = INT32_MAX;
    if (s->kind == DG_NULL)
        return 0;
    if (s->kind == DG_ZERO) {
        memset(buf, 0, len);
        return (int32_t)len;
    }
    if (s->kind == DG_HTTP)
        return dagger_http_read(ctx, s->http, buf, len);
    if (s->kind == DG_MEMIN) {
        size_t left = ctx->in_len - ctx->in_off;
        size_t n = left < len ? left : len;
        if (n)
            memcpy(buf, ctx->in_buf + ctx->in_off, n);
        ctx->in_off += n;
        return (int32_t)n;
    }
    if (s->kind == DG_RANDOM) {
        ssize_t r;
        do
            r = getrandom(buf, len, 0);
        while (r < 0 && errno == EINTR);
        return r < 0 ? DAGGER_EIO : (int32_t)r;
    }
    ssize_t r;
    do
        r = read(s->fd, buf, len);
    while (r < 0 && errno == EINTR);
    return r < 0 ? dg_host_error(errno) : (int32_t)r;
}

/* A write to a pipe whose reader is gone must reach the guest as
 * DAGGER_EEOS, not kill the host with SIGPIPE: the signal is blocked for
 * this thread around the write, and one it raised is taken back. */
static int32_t dg_write_all(int fd, const uint8_t *buf, uint32_t len)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    uint32_t done = 0;
    int err = 0;
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err = w < 0 ? errno : EIO;
            break;
        }
        done += (uint32_t)w;
    }
    if (err == EPIPE && !sigismember(&old, SIGPIPE)) {
        static const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return done || !err ? (int32_t)done : dg_host_error(err);
}

/* Memory output keeps at most out_limit bytes; the rest is counted as
 * written (the guest goes on) and marks the output truncated. */
static int32_t dg_write_mem(dagger_ctx *ctx, int k, const uint8_t *buf, uint32_t len)
{
    dagger_out *o = &ctx->out[k];
    size_t keep = len;
    size_t limit = ctx->out_limit[k];
    if (limit && o->len + keep > limit) {
        keep = limit - o->len;
        o->truncated = true;
    }
    if (o->len + keep > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + keep)
            cap *= 2;
        uint8_t *grown = realloc(o->buf, cap);
        if (!grown)
            return DAGGER_EIO;
        o->buf = grown;
        o->cap = cap;
    }
    if (keep)
        memcpy(o->buf + o->len, buf, keep);
    o->len += keep;
    return (int32_t)len;
}

int32_t dagger_stream_write(dagger_ctx *ctx, dagger_stream *s, const uint8_t *buf, uint32_t len)
{
    if (!s->can_write)
        return DAGGER_EPERM;
    if (len > INT32_MAX)
        len = INT32_MAX;
    if (s->kind == DG_NULL || s->kind == DG_ZERO)
        return (int32_t)len;
    if (s->kind == DG_HTTP)
        return dagger_http_write(s->http, buf, len);
    if (s->kind == DG_MEMOUT)
        return dg_write_mem(ctx, s->fd, buf, len);
    if (s->kind != DG_LOG)
        return dg_write_all(s->fd, buf, len);
    /* One log line per write: "prefix: text", a trailing newline dropped
     * and one added, written in one call so lines do not interleave. */
    uint32_t n = len && buf[len - 1] == '\n' ? len - 1 : len;
    if (ctx->log_fn) {
        /* The host's logger takes one line: built on the heap, since a
         * write may be as long as the guest's memory. */
        size_t pl = strlen(s->prefix);
        char *line = malloc(pl + 2 + n);
        if (!line)
            return DAGGER_EIO;
        memcpy(line, s->prefix, pl);
        memcpy(line + pl, ": ", 2);
        memcpy(line + pl + 2, buf, n);
        ctx->log_fn(ctx->log_arg, line, pl + 2 + n);
        free(line);
        return (int32_t)len;
    }
    struct iovec all[4] = {{s->prefix, strlen(s->prefix)}, {(void *)": ", 2}, {(void *)buf, n}, {(void *)"\n", 1}};
    ssize_t w;
    do
        w = writev(ctx->log_fd, all, 4);
    while (w < 0 && errno == EINTR);
    return w < 0 ? dg_host_error(errno) : (int32_t)len;
}

int32_t dagger_stream_flush(dagger_ctx *ctx, dagger_stream *s)
{
    return s->kind == DG_HTTP ? dagger_http_flush(ctx, s->http) : 0;
}

void dagger_stream_close(dagger_stream *s)
{
    if (s->kind == DG_FILE && s->fd >= 0)
        close(s->fd);
    if (s->kind == DG_HTTP)
        dagger_http_free(s->http);
    memset(s, 0, sizeof *s);
    s->kind = DG_FREE;
}
