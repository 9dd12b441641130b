/*
 * cwa_ctx.c — the CommonWA context of one instance: its own copy of argv
 * and the environment (what startup_arg_* and env_get answer from) and a
 * Dagger stream table with CommonWA's schemes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwa_internal.h"

void cwa_ctx_free(void *p)
{
    cwa_ctx *ctx = p;
    if (!ctx)
        return;
    dagger_ctx_free(ctx->streams);
    free(ctx->argv);
    free(ctx->envp);
    free(ctx->strs);
    free(ctx);
}

/* Copies n strings into *out (pointers into ctx->strs at `*off`). */
static void put_strs(cwa_ctx *ctx, size_t *off, int n, const char *const *v, char **out)
{
    for (int i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        out[i] = memcpy(ctx->strs + *off, v[i], l);
        *off += l;
    }
}

void *cwa_ctx_new(const void *config, wedge_instance *inst, char *err, size_t errlen)
{
    (void)inst;
    const cwa_config *cfg = config;
    int argc = cfg && cfg->argc > 0 && cfg->argv ? cfg->argc : 0;
    int envc = cfg && cfg->envc > 0 && cfg->envp ? cfg->envc : 0;
    cwa_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        goto oom;
    size_t total = 1;
    for (int i = 0; i < argc; i++)
        total += strlen(cfg->argv[i]) + 1;
    for (int i = 0; i < envc; i++)
        total += strlen(cfg->envp[i]) + 1;
    ctx->strs = malloc(total);
    ctx->argv = calloc((size_t)argc + 1, sizeof *ctx->argv);
    ctx->envp = calloc((size_t)envc + 1, sizeof *ctx->envp);
    if (!ctx->strs || !ctx->argv || !ctx->envp)
        goto oom;
    size_t off = 0;
    put_strs(ctx, &off, argc, cfg ? cfg->argv : NULL, ctx->argv);
    put_strs(ctx, &off, envc, cfg ? cfg->envp : NULL, ctx->envp);
    ctx->argc = (uint32_t)argc;
    ctx->envc = (uint32_t)envc;
    dagger_config dc = {.stdio_fd = {0, 1, 2}, .log_fd = 2};
    if (cfg)
        dc = cfg->streams;
    dc.schemes = DAGGER_SCHEMES_CWA;
    if (!(ctx->streams = dagger_ctx_new(&dc, err, errlen))) {
        cwa_ctx_free(ctx);
        return NULL;
    }
    for (int k = 0; k < 3; k++)
        ctx->stdio_fd[k] = -1;
    ctx->deadline_ns = cfg ? cfg->streams.deadline_ns : 0;
    ctx->wait_yield = cfg ? cfg->streams.wait_yield : NULL;
    return ctx;
oom:
    cwa_ctx_free(ctx);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

int32_t cwa_error_from_dagger(int32_t rc)
{
    switch (rc) {
    case DAGGER_EURL: case DAGGER_ESCHEME: case DAGGER_EBADF: case DAGGER_EFAULT: return CWA_EINVAL;
    case DAGGER_EOPEN: return CWA_ENOTFOUND;
    case DAGGER_EPERM: return CWA_EPERM;
    case DAGGER_EEOS: return CWA_EEOF;
    default: return rc >= 0 ? rc : CWA_EUNKNOWN;       /* EIO, EMFILE */
    }
}

const uint8_t *cwa_instance_output(const wedge_instance *inst, int k, size_t *len, bool *truncated)
{
    const cwa_ctx *ctx = rt_host_ctx(inst, &cwa_host_module);
    *len = 0;
    *truncated = false;
    return ctx ? dagger_ctx_output(ctx->streams, k, len, truncated) : NULL;
}
