/*
 * rt_globals.c — the SLEdge global accessors, on the current instance's
 * global index space (imported globals first, then defined ones).
 * An index out of range is a module bug: it traps rather than touching
 * memory it does not own.
 */
#include "rt_internal.h"

static wedge_value *rt_global_cell(uint32_t idx)
{
    wedge_instance *inst = sledge_abi__current_wasm_module_instance;
    if (!inst)
        sledge_abi__wasm_trap_raise(WEDGE_TRAP_HOST);
    const wedge_module_desc *d = inst->desc;
    if (idx < d->nimported_globals)
        return inst->imported_globals[idx];
    if (idx - d->nimported_globals < d->nglobals)
        return &inst->globals[idx - d->nimported_globals];
    sledge_abi__wasm_trap_raise(WEDGE_TRAP_HOST);
}

uint32_t sledge_abi__wasm_globals_get_i32(uint32_t idx) { return rt_global_cell(idx)->i32; }
uint64_t sledge_abi__wasm_globals_get_i64(uint32_t idx) { return rt_global_cell(idx)->i64; }

/* Returns 0, or -1 for an index out of range or an immutable imported
 * global.  `is_mutable` is accepted for SLEdge compatibility and ignored:
 * the descriptor knows each global's mutability, and validation already
 * rejects global.set on immutable globals; defined globals may always be
 * written here because this is also how SLEdge initialises them. */
static int32_t rt_global_set(uint32_t idx, uint64_t value, int32_t is_mutable, bool wide)
{
    wedge_instance *inst = sledge_abi__current_wasm_module_instance;
    if (!inst)
        return -1;
    const wedge_module_desc *d = inst->desc;
    uint32_t nimp = d->nimported_globals;
    if (idx >= nimp + d->nglobals)
        return -1;
    /* Imported globals can only be written if declared mutable. */
    if (idx < nimp && !wedge_desc_import_nth(d, WEDGE_EXTERN_GLOBAL, idx)->mut)
        return -1;
    (void)is_mutable;
    wedge_value *cell = rt_global_cell(idx);
    if (wide)
        cell->i64 = value;
    else
        cell->i32 = (uint32_t)value;
    return 0;
}

int32_t sledge_abi__wasm_globals_set_i32(uint32_t idx, uint32_t value, int32_t is_mutable)
{
    return rt_global_set(idx, value, is_mutable, false);
}

int32_t sledge_abi__wasm_globals_set_i64(uint32_t idx, uint64_t value, int32_t is_mutable)
{
    return rt_global_set(idx, value, is_mutable, true);
}
