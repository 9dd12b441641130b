/*
 * cwa_module.c — the "cwa" host module: CommonWA's calls (guest memory
 * checked here, resources on Dagger's stream table), the context hooks,
 * and the entry-point rule (cwa_main, _start).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cwa_internal.h"
#include "util/util.h"

static cwa_ctx *cw_ctx(wedge_instance *inst)
{
    return rt_host_ctx(inst, &cwa_host_module);
}

/* ---- resource ------------------------------------------------------------------ */

static uint32_t cw_resource_open(wedge_instance *inst, uint32_t ptr, uint32_t len)
{
    cwa_ctx *ctx = cw_ctx(inst);
    const uint8_t *url = rt_guest_bytes(inst, ptr, len);
    if (!ctx || !url)
        return (uint32_t)CWA_EINVAL;
    return (uint32_t)cwa_error_from_dagger(dagger_sd_open(ctx->streams, (const char *)url, len));
}

static void cw_resource_close(wedge_instance *inst, uint32_t fd)
{
    cwa_ctx *ctx = cw_ctx(inst);
    if (!ctx || dagger_sd_close(ctx->streams, (int32_t)fd) != 0)
        return;
    for (int k = 0; k < 3; k++)
        if (ctx->stdio_fd[k] == (int32_t)fd)
            ctx->stdio_fd[k] = -1;
}

static uint32_t cw_resource_read(wedge_instance *inst, uint32_t fd, uint32_t ptr, uint32_t len)
{
    cwa_ctx *ctx = cw_ctx(inst);
    uint8_t *buf = rt_guest_bytes(inst, ptr, len);
    if (!ctx || !buf)
        return (uint32_t)CWA_EINVAL;
    return (uint32_t)cwa_error_from_dagger(dagger_sd_read(ctx->streams, (int32_t)fd, buf, len));
}

static uint32_t cw_resource_write(wedge_instance *inst, uint32_t fd, uint32_t ptr, uint32_t len)
{
    cwa_ctx *ctx = cw_ctx(inst);
    const uint8_t *buf = rt_guest_bytes(inst, ptr, len);
    if (!ctx || !buf)
        return (uint32_t)CWA_EINVAL;
    return (uint32_t)cwa_error_from_dagger(dagger_sd_write(ctx->streams, (int32_t)fd, buf, len));
}

static uint32_t cw_resource_flush(wedge_instance *inst, uint32_t fd)
{
    cwa_ctx *ctx = cw_ctx(inst);
    return ctx ? (uint32_t)cwa_error_from_dagger(dagger_sd_flush(ctx->streams, (int32_t)fd)) : (uint32_t)CWA_EINVAL;
}

/* ---- io: one descriptor per standard stream, opened on first use ---------------- */

static uint32_t cw_io_get(wedge_instance *inst, int k)
{
    static const char *const urls[3] = {"stdin://", "stdout://", "stderr://"};
    cwa_ctx *ctx = cw_ctx(inst);
    if (!ctx)
        return (uint32_t)CWA_EINVAL;
    if (ctx->stdio_fd[k] < 0) {
        int32_t fd = dagger_sd_open(ctx->streams, urls[k], strlen(urls[k]));
        if (fd < 0)
            return (uint32_t)cwa_error_from_dagger(fd);
        ctx->stdio_fd[k] = fd;
    }
    return (uint32_t)ctx->stdio_fd[k];
}
static uint32_t cw_io_get_stdin(wedge_instance *inst) { return cw_io_get(inst, 0); }
static uint32_t cw_io_get_stdout(wedge_instance *inst) { return cw_io_get(inst, 1); }
static uint32_t cw_io_get_stderr(wedge_instance *inst) { return cw_io_get(inst, 2); }

/* ---- log, env ------------------------------------------------------------------- */

static void cw_log_write(wedge_instance *inst, uint32_t level, uint32_t ptr, uint32_t len)
{
    cwa_ctx *ctx = cw_ctx(inst);
    const uint8_t *text = rt_guest_bytes(inst, ptr, len);
    if (!ctx || !text)
        return;
    char prefix[24];
    switch (level) {
    case 1: snprintf(prefix, sizeof prefix, "error"); break;
    case 3: snprintf(prefix, sizeof prefix, "warning"); break;
    case 6: snprintf(prefix, sizeof prefix, "info"); break;
    default: snprintf(prefix, sizeof prefix, "level %d", (int)level); break;
    }
    (void)dagger_log_line(ctx->streams, prefix, text, len);
}

static uint32_t cw_env_get(wedge_instance *inst, uint32_t kptr, uint32_t klen, uint32_t vptr, uint32_t vlen)
{
    cwa_ctx *ctx = cw_ctx(inst);
    const uint8_t *key = rt_guest_bytes(inst, kptr, klen);
    uint8_t *val = rt_guest_bytes(inst, vptr, vlen);
    if (!ctx || !key || !val)
        return (uint32_t)CWA_EINVAL;
    for (uint32_t i = 0; i < ctx->envc; i++) {
        const char *e = ctx->envp[i];
        if (strncmp(e, (const char *)key, klen) != 0 || e[klen] != '=' || memchr(key, 0, klen))
            continue;
        size_t n = strlen(e + klen + 1);
        if (n > INT32_MAX)
            return (uint32_t)CWA_EUNKNOWN;
        if (n <= vlen)
            memcpy(val, e + klen + 1, n);
        return (uint32_t)n;         /* more than vlen: the size needed, nothing written */
    }
    return (uint32_t)CWA_ENOTFOUND;
}

/* ---- runtime, startup ------------------------------------------------------------ */

static void cw_runtime_exit(wedge_instance *inst, uint32_t status)
{
    (void)inst;
    rt_exit((int)(int32_t)status);
}

static uint32_t cw_runtime_spec_major(wedge_instance *inst) { (void)inst; return CWA_SPEC_MAJOR; }
static uint32_t cw_runtime_spec_minor(wedge_instance *inst) { (void)inst; return CWA_SPEC_MINOR; }

static uint32_t cw_runtime_name(wedge_instance *inst, uint32_t ptr, uint32_t len)
{
    size_t n = sizeof CWA_RUNTIME_NAME - 1;
    uint8_t *out = rt_guest_bytes(inst, ptr, len);
    if (!out || len < n)
        return (uint32_t)CWA_EINVAL;
    memcpy(out, CWA_RUNTIME_NAME, n);
    return (uint32_t)n;
}

/* Sleeps ms milliseconds, or until the instance's deadline and then traps
 * with WEDGE_TRAP_TIMEOUT (serve's per-request limit).  With the streams'
 * wait_yield hook (serve) the sleep is ut_wait_until's 1 ms slices, the
 * thread going to other guests between them. */
static void cw_runtime_msleep(wedge_instance *inst, uint32_t ms)
{
    cwa_ctx *ctx = cw_ctx(inst);
    if ((int32_t)ms <= 0)
        return;
    uint64_t wake = ut_mono_ns() + (uint64_t)ms * 1000000u;
    bool late = ctx && ctx->deadline_ns && ctx->deadline_ns < wake;
    if (late)
        wake = ctx->deadline_ns;
    while (ut_mono_ns() < wake)
        ut_wait_until(NULL, 0, wake, ctx ? ctx->wait_yield : NULL);
    if (late)
        rt_trap(WEDGE_TRAP_TIMEOUT);
}

static uint32_t cw_startup_arg_len(wedge_instance *inst)
{
    cwa_ctx *ctx = cw_ctx(inst);
    return ctx ? ctx->argc : 0;
}

static uint32_t cw_startup_arg_at(wedge_instance *inst, uint32_t i, uint32_t ptr, uint32_t len)
{
    cwa_ctx *ctx = cw_ctx(inst);
    uint8_t *out = rt_guest_bytes(inst, ptr, len);
    if (!ctx || !out || i >= ctx->argc)
        return (uint32_t)CWA_EINVAL;
    size_t n = strlen(ctx->argv[i]);
    if (n > len)
        n = len;                    /* truncated, as the spec says */
    memcpy(out, ctx->argv[i], n);
    return (uint32_t)n;
}

/* ---- time, random ---------------------------------------------------------------- */

static uint64_t cw_time_now(wedge_instance *inst)
{
    (void)inst;
    return (uint64_t)(int64_t)time(NULL);
}

static void cw_random(void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((uint8_t *)p + got, n - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (r < 0 && errno != EINTR)
            rt_trap(WEDGE_TRAP_HOST);  /* no randomness at all: nothing sane to return */
    }
}

static uint32_t cw_random_i32(wedge_instance *inst)
{
    (void)inst;
    uint32_t v;
    cw_random(&v, sizeof v);
    return v & 0x7FFFFFFFu;
}

static uint64_t cw_random_i64(wedge_instance *inst)
{
    (void)inst;
    uint64_t v;
    cw_random(&v, sizeof v);
    return v & 0x7FFFFFFFFFFFFFFFull;
}

#define FN(name, sig) {#name, sig, (void (*)(void))cw_##name}
static const rt_host_fn cw_funcs[] = {
    FN(resource_open, "ii:i"),     FN(resource_close, "i:"),       FN(resource_read, "iii:i"),
    FN(resource_write, "iii:i"),   FN(resource_flush, "i:i"),      FN(io_get_stdin, ":i"),
    FN(io_get_stdout, ":i"),       FN(io_get_stderr, ":i"),        FN(log_write, "iii:"),
    FN(env_get, "iiii:i"),         FN(runtime_exit, "i:"),         FN(runtime_spec_major, ":i"),
    FN(runtime_spec_minor, ":i"),  FN(runtime_name, "ii:i"),       FN(runtime_msleep, "i:"),
    FN(startup_arg_len, ":i"),     FN(startup_arg_at, "iii:i"),    FN(time_now, ":I"),
    FN(random_i32, ":i"),          FN(random_i64, ":I"),
};
#undef FN

const rt_host_module cwa_host_module = {
    .name = "cwa",
    .funcs = cw_funcs,
    .nfuncs = sizeof cw_funcs / sizeof cw_funcs[0],
    .ctx_new = cwa_ctx_new,
    .ctx_free = cwa_ctx_free,
    .snapshot = NULL,           /* open resources are not captured: a restore starts with none */
    .restore = NULL,
};

/* ---- the entry point ---------------------------------------------------------- */

bool cwa_instance_is_guest(wedge_instance *inst)
{
    rt_extern ex;
    return rt_host_ctx(inst, &cwa_host_module) || rt_instance_export(inst, "cwa_main", 8, &ex);
}

rt_status cwa_run_main(wedge_instance *inst, rt_result *res)
{
    const wedge_desc_export *e = wedge_desc_export_find(inst->desc, "cwa_main", 8);
    rt_extern ex;
    const char *sig = e && e->kind == WEDGE_EXTERN_FUNC ? rt_func_sig(inst, e->index) : NULL;
    if (!sig || strcmp(sig, ":i") != 0 || !rt_instance_export(inst, "cwa_main", 8, &ex))
        return rt_run_start(inst, res);
    wedge_value r = {.i32 = 0};
    rt_status st = rt_call(&ex, NULL, &r, res);
    if (st != RT_OK || r.i32 == 0)
        return st;
    res->trap = WEDGE_TRAP_EXIT;
    res->exit_code = (int)(int32_t)r.i32;
    snprintf(res->msg, sizeof res->msg, "exit with code %d", res->exit_code);
    return RT_ERR_EXIT;
}
