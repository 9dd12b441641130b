/*
 * lsb_bulk.c — libsledge: the bulk table/memory operations generated code
 * calls out of line (table.fill/copy/init, memory.init) and constant
 * expression evaluation.
 *
 * Every range is checked in 64 bits before anything is written, as Wasm
 * 2.0 requires (a trapping bulk operation has no effect).  Traps go through
 * sledge_abi__wasm_trap_raise like all generated code.
 */
#include <string.h>

#include "wedge_ops.h"

void lsb_table_fill(wedge_table *t, uint32_t i, void *v, uint32_t n)
{
    if ((uint64_t)i + n > t->size)
        sledge_abi__wasm_trap_raise(WEDGE_TRAP_TABLE_ACCESS_OOB);
    for (uint32_t k = 0; k < n; k++)
        t->elems[i + k] = v;
}

void lsb_table_copy(wedge_table *dt, wedge_table *st, uint32_t d, uint32_t s, uint32_t n)
{
    if ((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size)
        sledge_abi__wasm_trap_raise(WEDGE_TRAP_TABLE_ACCESS_OOB);
    memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(void *));
}

wedge_value lsb_constexpr_eval(wedge_instance *inst, const wedge_constexpr *ce)
{
    wedge_value v;
    memset(&v, 0, sizeof v);
    const wedge_module_desc *desc = inst->desc;
    switch (ce->op) {
    case WEDGE_CE_I32:
        v.i32 = (uint32_t)ce->bits;
        break;
    case WEDGE_CE_I64:
        v.i64 = ce->bits;
        break;
    case WEDGE_CE_F32: {
        uint32_t b = (uint32_t)ce->bits;
        memcpy(&v.f32, &b, 4);
        break;
    }
    case WEDGE_CE_F64:
        memcpy(&v.f64, &ce->bits, 8);
        break;
    case WEDGE_CE_V128:
        memcpy(v.v128, &ce->bits, 8);
        memcpy(v.v128 + 8, &ce->bits_hi, 8);
        break;
    case WEDGE_CE_GLOBAL_GET:
        /* Wasm 2.0 allows only imported globals here; defined ones (a later
         * extension) are read from the instance for robustness. */
        if (ce->index < desc->nimported_globals)
            v = *inst->imported_globals[ce->index];
        else
            v = inst->globals[ce->index - desc->nimported_globals];
        break;
    case WEDGE_CE_REF_NULL:
        v.ref = NULL;
        break;
    case WEDGE_CE_REF_FUNC:
        v.ref = inst->funcs[ce->index];
        break;
    default:
        break;
    }
    return v;
}

/* Active and declarative segments count as dropped once instantiation is
 * over, so only a passive, not yet dropped segment has a length. */
void lsb_table_init(wedge_instance *inst, uint32_t table, uint32_t elem, uint32_t d, uint32_t s, uint32_t n)
{
    const wedge_desc_elem *e = &inst->desc->elems[elem];
    uint32_t len = (e->mode == WEDGE_SEG_PASSIVE && !inst->elem_dropped[elem]) ? e->count : 0;
    wedge_table *t = inst->tables[table];
    if ((uint64_t)s + n > len || (uint64_t)d + n > t->size)
        sledge_abi__wasm_trap_raise(WEDGE_TRAP_TABLE_ACCESS_OOB);
    for (uint32_t k = 0; k < n; k++)
        t->elems[d + k] = lsb_constexpr_eval(inst, &e->items[s + k]).ref;
}

void lsb_memory_init(wedge_instance *inst, uint32_t data, uint32_t d, uint32_t s, uint32_t n)
{
    const wedge_desc_data *seg = &inst->desc->datas[data];
    uint32_t len = (seg->mode == WEDGE_SEG_PASSIVE && !inst->data_dropped[data]) ? seg->len : 0;
    wedge_memory *mem = inst->mem;
    if ((uint64_t)s + n > len || (uint64_t)d + n > mem->size)
        sledge_abi__wasm_trap_raise(WEDGE_TRAP_MEMORY_OOB);
    if (n)
        memcpy(mem->base + d, seg->bytes + s, n);
}
