/*
 * rt_call.c — calling guest (or host) functions from the embedder: through
 * the function type's trampoline, on the guest stack, inside a trap scope;
 * and the conventional entry points: `_start`, and the init export a
 * snapshot is taken after.
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

/* Export `name` as a function of type ":" into *fn. */
static rt_status rt_void_export(wedge_instance *inst, const char *name, rt_extern *fn, rt_result *res)
{
    size_t n = strlen(name);
    const wedge_module_desc *d = inst->desc;
    for (uint32_t i = 0; i < d->nexports; i++) {
        const wedge_desc_export *e = &d->exports[i];
        if (e->name_len != n || memcmp(e->name, name, n) != 0)
            continue;
        const char *sig = e->kind == 0 ? rt_func_sig(inst, e->index) : NULL;
        if (!sig || strcmp(sig, ":") != 0)
            return rt_fail(res, RT_ERR_LINK, "export '%.100s' must be a function with no parameters and no results",
                           name);
        return rt_instance_export(inst, name, n, fn) ? RT_OK : rt_fail(res, RT_ERR_LINK, "no export '%.100s'", name);
    }
    return rt_fail(res, RT_ERR_LINK, "no export named '%.100s'", name);
}

static bool rt_has_export(wedge_instance *inst, const char *name)
{
    rt_extern ex;
    return rt_instance_export(inst, name, strlen(name), &ex);
}

const char *rt_init_export(wedge_instance *inst, const char *name)
{
    if (name)
        return name;
    return rt_has_export(inst, "wizer.initialize") ? "wizer.initialize"
         : rt_has_export(inst, "_initialize")      ? "_initialize"
                                                   : NULL;
}

rt_status rt_run_init(wedge_instance *inst, const char *name, rt_result *res)
{
    name = rt_init_export(inst, name);
    if (!name)
        return rt_fail(res, RT_ERR_LINK, "no init export (wizer.initialize or _initialize)");
    /* A reactor's constructors (wasi-libc's _initialize) come before any
     * other init export, as they would before any other export. */
    const char *steps[2] = {NULL, name};
    if (strcmp(name, "_initialize") != 0 && rt_has_export(inst, "_initialize"))
        steps[0] = "_initialize";
    for (int k = 0; k < 2; k++) {
        rt_extern fn;
        if (!steps[k])
            continue;
        rt_status st = rt_void_export(inst, steps[k], &fn, res);
        if (st == RT_OK)
            st = rt_call(&fn, NULL, NULL, res);
        if (st != RT_OK)
            return st;
    }
    return RT_OK;
}

rt_status rt_run_export(wedge_instance *inst, const char *name, rt_result *res)
{
    rt_extern fn;
    rt_status st = rt_void_export(inst, name, &fn, res);
    return st == RT_OK ? rt_call(&fn, NULL, NULL, res) : st;
}
