/*
 * wasi_resolve.c — the "wasi_snapshot_preview1" host module (its function
 * table and context hooks, registered in linkers: runtime.h), and the
 * SLEdge-named entry points (sledge_abi__wasi_snapshot_preview1_<name>)
 * that act on the thread's current instance.  Both come from the one list
 * in wasi_host.h.
 */
#include <string.h>

#include "wasi_host.h"
#include "wasi_internal.h"

#define WASI_BIND_(name, sig, params, args) {#name, sig, (void (*)(void))wasi_##name},
static const rt_host_fn wasi_funcs[] = {
    WASI_HOST_FUNCS(WASI_BIND_)
    {"sched_yield", ":i", (void (*)(void))wasi_sched_yield},
    {"proc_exit", "i:", (void (*)(void))wasi_proc_exit},
};
#undef WASI_BIND_

static void *wasi_module_ctx_new(const void *config, wedge_instance *inst, char *err, size_t errlen)
{
    (void)inst;
    wasi_config dflt;
    const wasi_config *cfg = config;
    if (!cfg) {
        memset(&dflt, 0, sizeof dflt);
        for (int k = 0; k < 3; k++)
            dflt.stdio[k].host_fd = k;
        cfg = &dflt;
    }
    wasi_ctx *ctx = wasi_ctx_new(cfg, err, errlen);
    if (ctx && cfg->deadline_ns)
        wasi_ctx_set_deadline(ctx, cfg->deadline_ns);
    return ctx;
}

static void wasi_module_ctx_free(void *ctx)
{
    wasi_ctx_free(ctx);
}

const rt_host_module wasi_host_module = {
    .name = "wasi_snapshot_preview1",
    .funcs = wasi_funcs,
    .nfuncs = sizeof wasi_funcs / sizeof wasi_funcs[0],
    .ctx_new = wasi_module_ctx_new,
    .ctx_free = wasi_module_ctx_free,
    .snapshot = NULL,           /* host state is not captured: see wasi.h */
    .restore = NULL,
};

/* ---- SLEdge ABI names ------------------------------------------------------ */

#define WASI_SLEDGE_(name, sig, params, args) \
    uint32_t sledge_abi__wasi_snapshot_preview1_##name params \
    { \
        return wasi_##name(sledge_abi__current_wasm_module_instance, WASI_EXPAND_ args); \
    }
WASI_HOST_FUNCS(WASI_SLEDGE_)
#undef WASI_SLEDGE_

uint32_t sledge_abi__wasi_snapshot_preview1_sched_yield(void)
{
    return wasi_sched_yield(sledge_abi__current_wasm_module_instance);
}

void sledge_abi__wasi_snapshot_preview1_proc_exit(uint32_t code)
{
    wasi_proc_exit(sledge_abi__current_wasm_module_instance, code);
}
