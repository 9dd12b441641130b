/*
 * dagger_module.c — the "dagger" host module: the five calls (and `sync`),
 * the per-instance descriptor table, guest-memory checks, the context
 * hooks, and the entry-point rule (dagger_main, main, _start).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/rt_guest.h"
#include "dagger_internal.h"

/* The guest's bytes [ptr, ptr+len), or NULL if any lies outside memory. */
static uint8_t *dg_mem(wedge_instance *inst, uint32_t ptr, uint64_t len)
{
    if (!inst || !inst->mem || !inst->mem->base || (uint64_t)ptr + len > inst->mem->size)
        return NULL;
    return inst->mem->base + ptr;
}

static dagger_ctx *dg_ctx(wedge_instance *inst)
{
    return rt_host_ctx(inst, &dagger_host_module);
}

/* ---- the descriptor table (dagger.h: also what CommonWA runs on) --------------- */

static dagger_stream *dg_get(dagger_ctx *ctx, int32_t sd)
{
    if (!ctx || sd < 0 || (uint32_t)sd >= ctx->cap || ctx->streams[sd].kind == DG_FREE)
        return NULL;
    return &ctx->streams[sd];
}

int32_t dagger_sd_open(dagger_ctx *ctx, const char *url, size_t n)
{
    if (n > DAGGER_URL_MAX)
        return DAGGER_EURL;
    uint32_t sd = 0;
    while (sd < ctx->cap && ctx->streams[sd].kind != DG_FREE)
        sd++;
    if (sd == ctx->cap) {
        if (ctx->cap == DAGGER_MAX_STREAMS)
            return DAGGER_EMFILE;
        uint32_t cap = ctx->cap ? ctx->cap * 2 : 8;
        dagger_stream *grown = realloc(ctx->streams, cap * sizeof *grown);
        if (!grown)
            return DAGGER_EMFILE;
        memset(grown + ctx->cap, 0, (cap - ctx->cap) * sizeof *grown);
        ctx->streams = grown;
        ctx->cap = cap;
    }
    /* Parsing copies nothing, but the file path goes to the jail as a C
     * string (dagger_stream.c copies it onto the stack: check the room). */
    rt_stack_check_margin(RT_STACK_HOST_MARGIN);
    dagger_url u;
    int rc = dagger_url_parse(url, n, &u);
    if (rc == 0)
        rc = dagger_stream_open(ctx, &u, &ctx->streams[sd]);
    if (rc != 0) {
        ctx->streams[sd].kind = DG_FREE;
        return rc;
    }
    return (int32_t)sd;
}

int32_t dagger_sd_close(dagger_ctx *ctx, int32_t sd)
{
    dagger_stream *s = dg_get(ctx, sd);
    if (!s)
        return DAGGER_EBADF;
    dagger_stream_close(s);
    return 0;
}

int32_t dagger_sd_read(dagger_ctx *ctx, int32_t sd, uint8_t *buf, uint32_t len)
{
    dagger_stream *s = dg_get(ctx, sd);
    return s ? dagger_stream_read(ctx, s, buf, len) : DAGGER_EBADF;
}

int32_t dagger_sd_write(dagger_ctx *ctx, int32_t sd, const uint8_t *buf, uint32_t len)
{
    dagger_stream *s = dg_get(ctx, sd);
    return s ? dagger_stream_write(ctx, s, buf, len) : DAGGER_EBADF;
}

/* Local streams buffer nothing on the host side (every write is already
 * out); an http(s) stream sends its request. */
int32_t dagger_sd_flush(dagger_ctx *ctx, int32_t sd)
{
    dagger_stream *s = dg_get(ctx, sd);
    return s ? dagger_stream_flush(ctx, s) : DAGGER_EBADF;
}

int32_t dagger_log_line(dagger_ctx *ctx, const char *prefix, const uint8_t *buf, uint32_t len)
{
    dagger_stream s;
    memset(&s, 0, sizeof s);
    s.kind = DG_LOG;
    s.can_write = true;
    snprintf(s.prefix, sizeof s.prefix, "%s", prefix);
    return dagger_stream_write(ctx, &s, buf, len);
}

/* ---- the guest's calls: its memory checked, then the table -------------------- */

static uint32_t dg_open(wedge_instance *inst, uint32_t ptr, uint32_t len)
{
    dagger_ctx *ctx = dg_ctx(inst);
    if (!ctx)
        return (uint32_t)DAGGER_EBADF;
    /* The URL: up to len bytes or the first NUL; len 0 = NUL-terminated. */
    uint64_t avail = inst->mem ? inst->mem->size : 0;
    if (ptr > avail)
        return (uint32_t)DAGGER_EFAULT;
    uint64_t scan = len ? len : (avail - ptr < DAGGER_URL_MAX + 1 ? avail - ptr : DAGGER_URL_MAX + 1);
    const uint8_t *p = dg_mem(inst, ptr, scan);
    if (!p)
        return (uint32_t)DAGGER_EFAULT;
    const uint8_t *nul = memchr(p, 0, scan);
    if (!len && !nul)
        return (uint32_t)(scan > DAGGER_URL_MAX ? DAGGER_EURL : DAGGER_EFAULT);
    size_t n = nul ? (size_t)(nul - p) : (size_t)scan;
    return (uint32_t)dagger_sd_open(ctx, (const char *)p, n);
}

static uint32_t dg_close(wedge_instance *inst, uint32_t sd)
{
    return (uint32_t)dagger_sd_close(dg_ctx(inst), (int32_t)sd);
}

static uint32_t dg_read(wedge_instance *inst, uint32_t sd, uint32_t ptr, uint32_t len)
{
    dagger_ctx *ctx = dg_ctx(inst);
    if (!dg_get(ctx, (int32_t)sd))
        return (uint32_t)DAGGER_EBADF;
    uint8_t *buf = dg_mem(inst, ptr, len);
    if (!buf)
        return (uint32_t)DAGGER_EFAULT;
    return (uint32_t)dagger_sd_read(ctx, (int32_t)sd, buf, len);
}

static uint32_t dg_write(wedge_instance *inst, uint32_t sd, uint32_t ptr, uint32_t len)
{
    dagger_ctx *ctx = dg_ctx(inst);
    if (!dg_get(ctx, (int32_t)sd))
        return (uint32_t)DAGGER_EBADF;
    const uint8_t *buf = dg_mem(inst, ptr, len);
    if (!buf)
        return (uint32_t)DAGGER_EFAULT;
    return (uint32_t)dagger_sd_write(ctx, (int32_t)sd, buf, len);
}

static uint32_t dg_flush(wedge_instance *inst, uint32_t sd)
{
    return (uint32_t)dagger_sd_flush(dg_ctx(inst), (int32_t)sd);
}

static const rt_host_fn dg_funcs[] = {
    {"open", "ii:i", (void (*)(void))dg_open},   {"close", "i:i", (void (*)(void))dg_close},
    {"read", "iii:i", (void (*)(void))dg_read},  {"write", "iii:i", (void (*)(void))dg_write},
    {"flush", "i:i", (void (*)(void))dg_flush},  {"sync", "i:i", (void (*)(void))dg_flush},
};

/* ---- contexts ----------------------------------------------------------------- */

void dagger_ctx_free(dagger_ctx *ctx)
{
    if (!ctx)
        return;
    for (uint32_t i = 0; i < ctx->cap; i++)
        if (ctx->streams[i].kind != DG_FREE)
            dagger_stream_close(&ctx->streams[i]);
    for (int i = 0; i < ctx->npreopens; i++) {
        free((void *)ctx->preopens[i].host_path);
        free((void *)ctx->preopens[i].guest_path);
    }
    free(ctx->preopens);
    free(ctx->streams);
    for (int k = 0; k < 3; k++)
        free(ctx->out[k].buf);
    free(ctx);
}

dagger_ctx *dagger_ctx_new(const dagger_config *cfg, char *err, size_t errlen)
{
    dagger_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int k = 0; k < 3; k++)
        ctx->stdio_fd[k] = cfg ? cfg->stdio_fd[k] : k;
    ctx->log_fd = cfg ? cfg->log_fd : 2;
    ctx->schemes = cfg ? cfg->schemes : DAGGER_SCHEMES_DAGGER;
    if (cfg) {
        ctx->in_buf = cfg->in_buf;
        ctx->in_len = cfg->in_buf ? cfg->in_len : 0;
        ctx->out_limit[1] = cfg->out_limit[1];
        ctx->out_limit[2] = cfg->out_limit[2];
        ctx->log_fn = cfg->log_fn;
        ctx->log_arg = cfg->log_arg;
        ctx->nallow_http = cfg->allow_http ? cfg->nallow_http : 0;
        ctx->allow_http = cfg->allow_http;
        ctx->ca_file = cfg->ca_file;
        ctx->ndeny_ports = cfg->deny_ports ? cfg->ndeny_ports : 0;
        ctx->deny_ports = cfg->deny_ports;
        ctx->deadline_ns = cfg->deadline_ns;
        ctx->http_timeout_ms = cfg->http_timeout_ms;
        ctx->wait_yield = cfg->wait_yield;
    }
    if (!ctx->http_timeout_ms)
        ctx->http_timeout_ms = DAGGER_HTTP_TIMEOUT_MS;
    int n = cfg && cfg->npreopens > 0 ? cfg->npreopens : 0;
    if (n) {
        ctx->preopens = calloc((size_t)n, sizeof *ctx->preopens);
        if (!ctx->preopens)
            goto oom;
        for (int i = 0; i < n; i++) {
            const wasi_preopen *p = &cfg->preopens[i];
            ctx->preopens[i].host_path = strdup(p->host_path);
            ctx->preopens[i].guest_path = strdup(p->guest_path ? p->guest_path : p->host_path);
            ctx->preopens[i].readonly = p->readonly;
            ctx->npreopens = i + 1;
            if (!ctx->preopens[i].host_path || !ctx->preopens[i].guest_path)
                goto oom;
        }
    }
    return ctx;
oom:
    dagger_ctx_free(ctx);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

static void *dg_ctx_new(const void *config, wedge_instance *inst, char *err, size_t errlen)
{
    (void)inst;
    return dagger_ctx_new(config, err, errlen);
}

static void dg_ctx_free(void *p)
{
    dagger_ctx_free(p);
}

const rt_host_module dagger_host_module = {
    .name = "dagger",
    .funcs = dg_funcs,
    .nfuncs = sizeof dg_funcs / sizeof dg_funcs[0],
    .ctx_new = dg_ctx_new,
    .ctx_free = dg_ctx_free,
    .snapshot = NULL,           /* open streams are not captured: a restore starts with none */
    .restore = NULL,
};

const uint8_t *dagger_instance_output(const wedge_instance *inst, int k, size_t *len, bool *truncated)
{
    return dagger_ctx_output(rt_host_ctx(inst, &dagger_host_module), k, len, truncated);
}

const uint8_t *dagger_ctx_output(const dagger_ctx *ctx, int k, size_t *len, bool *truncated)
{
    *len = 0;
    *truncated = false;
    if (!ctx || (k != 1 && k != 2) || ctx->stdio_fd[k] >= 0)
        return NULL;
    *len = ctx->out[k].len;
    *truncated = ctx->out[k].truncated;
    return ctx->out[k].buf ? ctx->out[k].buf : (const uint8_t *)"";
}

/* ---- the entry point ---------------------------------------------------------- */

bool dagger_instance_is_guest(wedge_instance *inst)
{
    rt_extern ex;
    return rt_host_ctx(inst, &dagger_host_module) || rt_instance_export(inst, "dagger_main", 11, &ex);
}

rt_status dagger_run_main(wedge_instance *inst, rt_result *res)
{
    static const char *const entries[2] = {"dagger_main", "main"};
    for (int k = 0; k < 2; k++) {
        rt_extern ex;
        if (!rt_instance_export(inst, entries[k], strlen(entries[k]), &ex) || ex.kind != WEDGE_EXTERN_FUNC)
            continue;
        const wedge_module_desc *d = inst->desc;
        const char *sig = NULL;
        for (uint32_t i = 0; i < d->nexports; i++)
            if (d->exports[i].kind == WEDGE_EXTERN_FUNC && d->exports[i].name_len == strlen(entries[k]) &&
                memcmp(d->exports[i].name, entries[k], d->exports[i].name_len) == 0)
                sig = rt_func_sig(inst, d->exports[i].index);
        if (!sig || strcmp(sig, ":i") != 0)
            continue;               /* not () -> i32: not a Dagger entry */
        wedge_value r = {.i32 = 0};
        rt_status st = rt_call(&ex, NULL, &r, res);
        if (st != RT_OK || r.i32 == 0)
            return st;
        res->trap = WEDGE_TRAP_EXIT;
        res->exit_code = (int)(int32_t)r.i32;
        snprintf(res->msg, sizeof res->msg, "exit with code %d", res->exit_code);
        return RT_ERR_EXIT;
    }
    return rt_run_start(inst, res);
}
