/*
 * wasi_resolve.c — binds imports of "wasi_snapshot_preview1" to the host
 * functions, and defines the SLEdge-named entry points
 * (sledge_abi__wasi_snapshot_preview1_<name>) that act on the thread's
 * current instance.  Both come from the one list in wasi_host.h.
 */
#include <string.h>

#include "wasi_host.h"
#include "wasi_internal.h"

#define WASI_MODULE "wasi_snapshot_preview1"

typedef struct wasi_binding {
    const char *name;
    const char *sig;
    void (*fn)(void);
} wasi_binding;

#define WASI_BIND_(name, sig, params, args) {#name, sig, (void (*)(void))wasi_##name},
static const wasi_binding wasi_bindings[] = {
    WASI_HOST_FUNCS(WASI_BIND_)
    {"sched_yield", ":i", (void (*)(void))wasi_sched_yield},
    {"proc_exit", "i:", (void (*)(void))wasi_proc_exit},
};
#undef WASI_BIND_

bool wasi_resolve(void *ud, wedge_instance *importer, const wedge_desc_import *imp, rt_extern *out)
{
    (void)ud;
    (void)importer;
    if (imp->kind != 0 || imp->module_len != sizeof WASI_MODULE - 1 ||
        memcmp(imp->module, WASI_MODULE, sizeof WASI_MODULE - 1) != 0)
        return false;
    for (size_t i = 0; i < sizeof wasi_bindings / sizeof wasi_bindings[0]; i++) {
        const wasi_binding *b = &wasi_bindings[i];
        if (strlen(b->name) != imp->name_len || memcmp(b->name, imp->name, imp->name_len) != 0)
            continue;
        wedge_funcref *ref = rt_host_func(b->sig, b->fn);
        if (!ref)
            return false;
        memset(out, 0, sizeof *out);
        out->kind = 0;
        out->u.func.ref = ref;
        /* No trampoline: generated code calls imports through the funcref;
         * the runtime uses the importer's trampoline for the import's type. */
        out->u.func.tramp = NULL;
        return true;
    }
    return false;
}

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
