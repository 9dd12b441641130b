/*
 * wasi_ctx.c — the WASI context: args/environ storage, stdio backends,
 * pre-opened directories and the guest's file descriptor table.
 *
 * Guest fds: 0, 1, 2 are stdio; 3.. the pre-opened directories in the order
 * given, then the listening sockets (--tcplisten) in the order given; files
 * the guest opens take the lowest free slot after that.  The sockets come
 * after the directories because wasi-libc looks for pre-opened directories
 * from fd 3 up and stops at the first descriptor that is not one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_internal.h"
#include "wasi_path.h"

#define WASI_MAX_FDS 4096u    /* table growth stops here (EMFILE) */

/* The bytes `n` strings take back to back with their NULs; false when
 * more than the u32 the guest will see. */
static bool ctx_pack_len(int n, const char *const *v, size_t *len, char *err, size_t errlen)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        if (l > UINT32_MAX - total) {
            snprintf(err, errlen, "arguments/environment too large");
            return false;
        }
        total += l;
    }
    *len = total;
    return true;
}

/* Packs them at buf (ctx_pack_len bytes). */
static void ctx_pack(int n, const char *const *v, char *buf)
{
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        memcpy(buf + off, v[i], l);
        off += l;
    }
}

uint8_t wasi_filetype_from_mode(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN;     /* FIFOs have no WASI type */
    }
}

static bool ctx_grow(wasi_ctx *ctx, uint32_t want)
{
    if (want <= ctx->nfds)
        return true;
    if (want > WASI_MAX_FDS)
        return false;
    uint32_t n = ctx->nfds ? ctx->nfds : 8;
    while (n < want)
        n *= 2;
    if (n > WASI_MAX_FDS)
        n = WASI_MAX_FDS;
    /* The first slots live in the context's own block (wasi_ctx_new). */
    bool inline_fds = ctx->fds == ctx->fds_inline;
    wasi_fd_entry *f = realloc(inline_fds ? NULL : ctx->fds, (size_t)n * sizeof *f);
    if (!f)
        return false;
    if (inline_fds)
        memcpy(f, ctx->fds, (size_t)ctx->nfds * sizeof *f);
    memset(f + ctx->nfds, 0, (size_t)(n - ctx->nfds) * sizeof *f);
    ctx->fds = f;
    ctx->nfds = n;
    return true;
}

static void ctx_stdio(wasi_ctx *ctx, int fd, const wasi_stdio *s)
{
    wasi_fd_entry *e = &ctx->fds[fd];
    e->fdflags = 0;
    e->rights_inheriting = 0;
    if (s->host_fd >= 0) {
        struct stat st;
        e->kind = WASI_FD_HOST;
        e->host = s->host_fd;
        e->owned = false;
        e->filetype = fstat(s->host_fd, &st) == 0 ? wasi_filetype_from_mode(st.st_mode)
                                                  : WASI_FILETYPE_UNKNOWN;
        e->rights_base = e->filetype == WASI_FILETYPE_CHARACTER_DEVICE ? WASI_RIGHTS_TTY : WASI_RIGHTS_ALL;
        int fl = fcntl(s->host_fd, F_GETFL);
        if (fl >= 0 && (fl & O_APPEND))
            e->fdflags |= WASI_FDFLAG_APPEND;
        return;
    }
    /* Memory streams (serve: request body in, response body and log out)
     * are pipes, not terminals: no seek, and not a character device, so
     * isatty() is false and programs like the SQLite shell stay
     * non-interactive.  WASI has no pipe type: a host FIFO reports UNKNOWN
     * too (wasi_filetype_from_mode). */
    e->kind = fd == 0 ? WASI_FD_MEM_IN : WASI_FD_MEM_OUT;
    e->host = -1;
    e->owned = false;
    e->filetype = WASI_FILETYPE_UNKNOWN;
    e->rights_base = WASI_RIGHTS_TTY;
    e->stream = fd;
    if (fd != 0)
        ctx->out[fd].limit = s->out_limit;
}

wasi_ctx *wasi_ctx_new(const wasi_config *cfg, char *err, size_t errlen)
{
    if (cfg->argc < 0 || cfg->envc < 0 || cfg->npreopens < 0) {
        snprintf(err, errlen, "negative count in WASI configuration");
        return NULL;
    }
    /* One block (one heap call per instance, not four): the context, its
     * first WASI_INLINE_FDS descriptor slots, its argv and environment. */
    size_t alen, elen;
    if (!ctx_pack_len(cfg->argc, cfg->argv, &alen, err, errlen) ||
        !ctx_pack_len(cfg->envc, cfg->envp, &elen, err, errlen))
        return NULL;
    size_t fds_bytes = WASI_INLINE_FDS * sizeof(wasi_fd_entry);
    uint8_t *blk = calloc(1, sizeof(wasi_ctx) + fds_bytes + alen + elen + 1);
    if (!blk) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    wasi_ctx *ctx = (wasi_ctx *)blk;
    ctx->fds = ctx->fds_inline = (wasi_fd_entry *)(blk + sizeof *ctx);
    ctx->nfds = WASI_INLINE_FDS;          /* zero: WASI_FD_FREE */
    ctx->argbuf = (char *)blk + sizeof *ctx + fds_bytes;
    ctx->envbuf = ctx->argbuf + alen;
    ctx->argbuf_len = alen;
    ctx->envbuf_len = elen;
    ctx_pack(cfg->argc, cfg->argv, ctx->argbuf);
    ctx_pack(cfg->envc, cfg->envp, ctx->envbuf);
    ctx->argc = (uint32_t)cfg->argc;
    ctx->envc = (uint32_t)cfg->envc;
    ctx->wait_yield = cfg->wait_yield;

    if (cfg->stdio[0].host_fd < 0 && cfg->stdio[0].in_len) {
        uint8_t *in = malloc(cfg->stdio[0].in_len);
        if (!in) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        memcpy(in, cfg->stdio[0].in_buf, cfg->stdio[0].in_len);
        ctx->in_data = in;
        ctx->in_len = cfg->stdio[0].in_len;
    }

    if (cfg->nlisten < 0 || (cfg->nlisten && !cfg->tcplisten)) {
        snprintf(err, errlen, "bad listening-socket list in WASI configuration");
        goto fail;
    }
    uint64_t npre = (uint64_t)cfg->npreopens + (uint64_t)cfg->nlisten;
    if (npre + 3 > WASI_MAX_FDS || !ctx_grow(ctx, 3u + (uint32_t)npre)) {
        snprintf(err, errlen, "too many pre-opened directories and sockets");
        goto fail;
    }
    for (int i = 0; i < 3; i++)
        ctx_stdio(ctx, i, &cfg->stdio[i]);

    for (int i = 0; i < cfg->npreopens; i++) {
        const wasi_preopen *p = &cfg->preopens[i];
        const char *gname = p->guest_path ? p->guest_path : p->host_path;
        wasi_fd_entry *e = &ctx->fds[3 + i];
        int fd = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errlen, "%s: %s", p->host_path, strerror(errno));
            goto fail;
        }
        e->kind = WASI_FD_HOST;
        e->host = fd;
        e->owned = true;
        e->filetype = WASI_FILETYPE_DIRECTORY;
        /* What applies to a directory; what it opens may get file rights. */
        e->rights_base = WASI_RIGHTS_DIR;
        e->rights_inheriting = WASI_RIGHTS_DIR | WASI_RIGHTS_FILE;
        if (p->readonly) {      /* enforced on every path call and inherited by what it opens */
            e->rights_base &= ~WASI_RIGHTS_MODIFY;
            e->rights_inheriting &= ~WASI_RIGHTS_MODIFY;
            e->readonly = true;
        }
        e->preopen_len = strlen(gname);
        e->preopen = strdup(gname);
        if (!e->preopen) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    for (int i = 0; i < cfg->nlisten; i++) {
        wasi_fd_entry *e = &ctx->fds[3 + cfg->npreopens + i];
        int fd;
        if (!wasi_sock_listen(cfg->tcplisten[i], &fd, err, errlen))
            goto fail;
        e->kind = WASI_FD_HOST;
        e->host = fd;
        e->owned = true;
        e->filetype = WASI_FILETYPE_SOCKET_STREAM;
        e->rights_base = WASI_RIGHTS_SOCK_LISTEN;
        e->rights_inheriting = WASI_RIGHTS_SOCK_CONN;
    }
    return ctx;

fail:
    wasi_ctx_free(ctx);
    return NULL;
}

void wasi_fd_release(wasi_fd_entry *e)
{
    if (e->dir)
        closedir(e->dir);
    if (e->kind == WASI_FD_HOST && e->owned && e->host >= 0)
        close(e->host);
    free(e->preopen);
    memset(e, 0, sizeof *e);
    e->kind = WASI_FD_FREE;
}

void wasi_ctx_free(wasi_ctx *ctx)
{
    if (!ctx)
        return;
    for (uint32_t i = 0; i < ctx->nfds; i++)
        if (ctx->fds[i].kind != WASI_FD_FREE || ctx->fds[i].preopen)
            wasi_fd_release(&ctx->fds[i]);
    if (ctx->fds != ctx->fds_inline)
        free(ctx->fds);
    free((void *)ctx->in_data);
    for (int i = 0; i < 3; i++)
        free(ctx->out[i].data);
    free(ctx);
}

const uint8_t *wasi_ctx_output(const wasi_ctx *ctx, int fd, size_t *len, bool *truncated)
{
    if (fd < 1 || fd > 2) {
        *len = 0;
        if (truncated)
            *truncated = false;
        return NULL;
    }
    *len = ctx->out[fd].len;
    if (truncated)
        *truncated = ctx->out[fd].truncated;
    return ctx->out[fd].data;
}

void wasi_ctx_set_deadline(wasi_ctx *ctx, uint64_t monotonic_ns)
{
    ctx->deadline_ns = monotonic_ns;
}

wasi_fd_entry *wasi_fd_get(wasi_ctx *ctx, uint32_t fd)
{
    if (!ctx || fd >= ctx->nfds || ctx->fds[fd].kind == WASI_FD_FREE)
        return NULL;
    return &ctx->fds[fd];
}

uint32_t wasi_fd_insert(wasi_ctx *ctx, const wasi_fd_entry *e, uint32_t *out)
{
    uint32_t i = 3;
    while (i < ctx->nfds && ctx->fds[i].kind != WASI_FD_FREE)
        i++;
    if (i >= ctx->nfds && !ctx_grow(ctx, i + 1))
        return i + 1 > WASI_MAX_FDS ? WASI_EMFILE : WASI_ENOMEM;
    ctx->fds[i] = *e;
    *out = i;
    return 0;
}

uint32_t wasi_put_filestat(wedge_instance *inst, uint32_t ptr, const void *stp)
{
    const struct stat *st = stp;
    uint8_t *p = wasi_mem(inst, ptr, 64);
    if (!p)
        return WASI_EFAULT;
    uint64_t v[8];
    v[0] = (uint64_t)st->st_dev;
    v[1] = (uint64_t)st->st_ino;
    v[2] = wasi_filetype_from_mode(st->st_mode);   /* u8 + 7 bytes padding */
    v[3] = (uint64_t)st->st_nlink;
    v[4] = (uint64_t)st->st_size;
    v[5] = (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec;
    v[6] = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    v[7] = (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec;
    memcpy(p, v, sizeof v);
    return 0;
}

uint32_t wasi_path_copy(wedge_instance *inst, uint32_t ptr, uint32_t len, char *buf, size_t bufsize)
{
    if (len >= bufsize)
        return wasi_mem(inst, ptr, len) ? WASI_ENAMETOOLONG : WASI_EFAULT;
    const uint8_t *p = wasi_mem(inst, ptr, len);
    if (!p)
        return WASI_EFAULT;
    if (memchr(p, 0, len))
        return WASI_EILSEQ;     /* a NUL would silently cut the path short */
    memcpy(buf, p, len);
    buf[len] = '\0';
    return 0;
}
