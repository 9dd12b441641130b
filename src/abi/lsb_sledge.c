/*
 * lsb_sledge.c — libsledge: the SLEdge ABI entry points every module .so
 * exports, implemented generically from the module's own descriptor.
 *
 * They act on sledge_abi__current_wasm_module_instance (set by the runtime
 * or the SLEdge-style scheduler before it calls in).  The wedge runtime
 * instantiates from the descriptor itself; these exist so a .so can be
 * driven through the SLEdge contract too.  libsledge is built with
 * -fvisibility=hidden, so only what is marked LSB_EXPORT leaves the .so.
 */
#include <string.h>

#include "wedge_ops.h"

#define LSB_EXPORT __attribute__((visibility("default")))

void LSB_EXPORT sledge_abi__init_globals(void)
{
    wedge_instance *inst = sledge_abi__current_wasm_module_instance;
    const wedge_module_desc *d = &wedge_module_descriptor;
    for (uint32_t k = 0; k < d->nglobals; k++)
        inst->globals[k] = lsb_constexpr_eval(inst, &d->globals[k].init);
}

/* Segments are applied in order; the first that does not fit traps, with
 * the earlier ones already written (Wasm 2.0 instantiation semantics). */
void LSB_EXPORT sledge_abi__init_mem(void)
{
    wedge_instance *inst = sledge_abi__current_wasm_module_instance;
    const wedge_module_desc *d = &wedge_module_descriptor;
    for (uint32_t i = 0; i < d->ndatas; i++) {
        const wedge_desc_data *seg = &d->datas[i];
        if (seg->mode != WEDGE_SEG_ACTIVE)
            continue;
        uint32_t off = lsb_constexpr_eval(inst, &seg->offset).i32;
        wedge_memory *mem = inst->mem;
        if (mem == NULL || (uint64_t)off + seg->len > mem->size)
            sledge_abi__wasm_trap_raise(WEDGE_TRAP_MEMORY_OOB);
        if (seg->len)
            memcpy(mem->base + off, seg->bytes, seg->len);
        if (inst->data_dropped)
            inst->data_dropped[i] = 1;
    }
}

void LSB_EXPORT sledge_abi__init_tbl(void)
{
    wedge_instance *inst = sledge_abi__current_wasm_module_instance;
    const wedge_module_desc *d = &wedge_module_descriptor;
    for (uint32_t i = 0; i < d->nelems; i++) {
        const wedge_desc_elem *e = &d->elems[i];
        if (e->mode == WEDGE_SEG_ACTIVE) {
            uint32_t off = lsb_constexpr_eval(inst, &e->offset).i32;
            wedge_table *t = inst->tables[e->table];
            if ((uint64_t)off + e->count > t->size)
                sledge_abi__wasm_trap_raise(WEDGE_TRAP_TABLE_ACCESS_OOB);
            for (uint32_t k = 0; k < e->count; k++)
                t->elems[off + k] = lsb_constexpr_eval(inst, &e->items[k]).ref;
        }
        if (e->mode != WEDGE_SEG_PASSIVE && inst->elem_dropped)
            inst->elem_dropped[i] = 1;
    }
}

/* Runs the `_start` export; -1 if the module has none. */
int32_t LSB_EXPORT sledge_abi__entrypoint(void)
{
    wedge_instance *inst = sledge_abi__current_wasm_module_instance;
    const wedge_desc_export *x = wedge_desc_export_find(&wedge_module_descriptor, "_start", 6);
    if (x == NULL || x->kind != WEDGE_EXTERN_FUNC)
        return -1;
    wedge_funcref *f = inst->funcs[x->index];
    ((void (*)(wedge_instance *))f->fn)(f->inst);
    return 0;
}

static const wedge_desc_limits *lsb_mem0(wedge_desc_limits *tmp)
{
    const wedge_module_desc *d = &wedge_module_descriptor;
    for (uint32_t i = 0; i < d->nimports; i++) {
        if (d->imports[i].kind == WEDGE_EXTERN_MEMORY) {
            tmp->elemtype = 0;
            tmp->has_max = d->imports[i].has_max;
            tmp->min = d->imports[i].min;
            tmp->max = d->imports[i].max;
            return tmp;
        }
    }
    return d->nmems ? &d->mems[0] : NULL;
}

uint32_t LSB_EXPORT sledge_abi__wasm_memory_starting_pages(void)
{
    wedge_desc_limits tmp;
    const wedge_desc_limits *l = lsb_mem0(&tmp);
    return l ? l->min : 0;
}

uint32_t LSB_EXPORT sledge_abi__wasm_memory_max_pages(void)
{
    wedge_desc_limits tmp;
    const wedge_desc_limits *l = lsb_mem0(&tmp);
    if (l == NULL)
        return 0;
    return l->has_max ? l->max : WEDGE_WASM_MAX_PAGES;
}

uint32_t LSB_EXPORT sledge_abi__wasm_globals_len(void)
{
    return wedge_module_descriptor.nimported_globals + wedge_module_descriptor.nglobals;
}
