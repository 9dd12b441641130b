/*
 * rt_call.c — calling guest (or host) functions from the embedder: through
 * the function type's trampoline, on the guest stack, inside a trap scope.
 */
#include <string.h>

#include "rt_internal.h"

typedef struct rt_call_ctx {
    const wedge_funcref *ref;
    wedge_trampoline tramp;
    const wedge_value *args;
    wedge_value *results;
} rt_call_ctx;

static void rt_call_tramp(void *arg)
{
    rt_call_ctx *c = arg;
    c->tramp(c->ref, c->args, c->results);
}

rt_status rt_call(const rt_extern *func, const wedge_value *args, wedge_value *results, rt_result *res)
{
    if (!func || func->kind != WEDGE_EXTERN_FUNC || !func->u.func.ref || !func->u.func.tramp)
        return rt_fail(res, RT_ERR_LINK, "not a callable function");
    rt_call_ctx c = {func->u.func.ref, func->u.func.tramp, args, results};
    return rt_guarded_call(c.ref->inst, rt_call_tramp, &c, res);
}

rt_status rt_run_start(wedge_instance *inst, rt_result *res)
{
    rt_extern ex;
    if (!rt_instance_export(inst, "_start", 6, &ex))
        return RT_OK;
    if (ex.kind != WEDGE_EXTERN_FUNC)
        return rt_fail(res, RT_ERR_LINK, "export _start is not a function");
    const wedge_module_desc *d = inst->desc;
    for (uint32_t i = 0; i < d->nexports; i++) {
        const wedge_desc_export *e = &d->exports[i];
        if (e->kind == WEDGE_EXTERN_FUNC && e->name_len == 6 && memcmp(e->name, "_start", 6) == 0) {
            const char *sig = rt_func_sig(inst, e->index);
            if (!sig || strcmp(sig, ":") != 0)
                return rt_fail(res, RT_ERR_LINK, "export _start has type %s, expected no params and no results",
                               sig ? sig : "?");
            break;
        }
    }
    return rt_call(&ex, NULL, NULL, res);
}
