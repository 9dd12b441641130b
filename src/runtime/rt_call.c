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
    const wedge_desc_export *e = wedge_desc_export_find(inst->desc, "_start", 6);
    if (e == NULL)
        return RT_OK;
    if (e->kind != WEDGE_EXTERN_FUNC)
        return rt_fail(res, RT_ERR_LINK, "export _start is not a function");
    const char *sig = rt_func_sig(inst, e->index);
    if (!sig || strcmp(sig, ":") != 0)
        return rt_fail(res, RT_ERR_LINK, "export _start has type %s, expected no params and no results",
                       sig ? sig : "?");
    rt_extern ex;
    rt_export_extern(inst, e, &ex);
    return rt_call(&ex, NULL, NULL, res);
}
