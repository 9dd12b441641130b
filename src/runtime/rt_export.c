/*
 * rt_export.c — what an instance exports, as rt_extern values: look-ups by name
 * and by export entry, and the signature of a function index.  A leaf
 * below instantiation and the linker (the linker reads a named instance's
 * exports; instantiation uses the linker), so neither calls the other
 * back.
 */
#include <string.h>

#include "rt_internal.h"

/* Type index of function `idx` in the module's index space. */
static uint32_t rt_func_type(const wedge_module_desc *d, uint32_t idx)
{
    if (idx >= d->nimported_funcs)
        return d->funcs[idx - d->nimported_funcs].type;
    return wedge_desc_import_nth(d, WEDGE_EXTERN_FUNC, idx)->type;   /* there: the descriptor was checked at load */
}

const char *rt_func_sig(wedge_instance *inst, uint32_t funcidx)
{
    const wedge_module_desc *d = inst->desc;
    if (funcidx >= d->nimported_funcs + d->nfuncs)
        return NULL;
    return d->types[rt_func_type(d, funcidx)].sig;
}

void rt_export_extern(wedge_instance *inst, const wedge_desc_export *e, rt_extern *out)
{
    const wedge_module_desc *d = inst->desc;
    memset(out, 0, sizeof *out);
    out->kind = e->kind;
    switch (e->kind) {
    case WEDGE_EXTERN_FUNC:
        out->u.func.ref = inst->funcs[e->index];
        out->u.func.tramp = d->types[rt_func_type(d, e->index)].tramp;
        break;
    case WEDGE_EXTERN_TABLE:
        out->u.table = inst->tables[e->index];
        break;
    case WEDGE_EXTERN_MEMORY:
        out->u.mem = inst->mem;
        break;
    default: {      /* WEDGE_EXTERN_GLOBAL */
        uint32_t nimp = d->nimported_globals;
        if (e->index < nimp) {
            const wedge_desc_import *im = wedge_desc_import_nth(d, WEDGE_EXTERN_GLOBAL, e->index);
            out->u.global.cell = inst->imported_globals[e->index];
            out->u.global.valtype = im->valtype;
            out->u.global.mut = im->mut;
        } else {
            out->u.global.cell = &inst->globals[e->index - nimp];
            out->u.global.valtype = d->globals[e->index - nimp].valtype;
            out->u.global.mut = d->globals[e->index - nimp].mut;
        }
        break;
    }
    }
}

bool rt_instance_export(wedge_instance *inst, const char *name, size_t name_len, rt_extern *out)
{
    const wedge_desc_export *e = wedge_desc_export_find(inst->desc, name, name_len);
    if (e == NULL)
        return false;
    rt_export_extern(inst, e, out);
    return true;
}
