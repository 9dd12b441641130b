/*
 * wasm_insn.c — the instruction reader: turns the bytes of a function body
 * (or a constant expression) into one wasm_insn at a time, with every
 * immediate decoded.  It checks the binary encoding only (opcodes, LEB128
 * forms, reserved zero bytes); typing is the validator's job.
 */
#include "wasm_internal.h"

#include <stdlib.h>
#include <string.h>

void wasm_reader_init(wasm_reader *r, const uint8_t *module_base, const uint8_t *code, uint32_t len)
{
    r->base = module_base;
    r->p = code;
    r->end = code + len;
    r->targets = NULL;
    r->targets_cap = 0;
}

void wasm_reader_fini(wasm_reader *r)
{
    free(r->targets);
    r->targets = NULL;
    r->targets_cap = 0;
}

#define OFF(r, ptr) ((size_t)((ptr) - (r)->base))

static bool rd_u32(wasm_reader *r, uint32_t *v, wasm_err *err)
{
    return wasm_read_u32(&r->p, r->end, r->base, v, err);
}

static bool rd_byte(wasm_reader *r, uint8_t *b, wasm_err *err)
{
    if (r->p >= r->end)
        return wasm_fail(err, OFF(r, r->p), true, "unexpected end");
    *b = *r->p++;
    return true;
}

/* The reserved memory-index bytes of memory.size/grow/copy/fill/init: in
 * Wasm 2.0 they are a single 0x00 byte, not a LEB128 (0x80 0x00 is
 * malformed). */
static bool rd_zero(wasm_reader *r, wasm_err *err)
{
    uint8_t b;
    if (!rd_byte(r, &b, err))
        return false;
    if (b != 0)
        return wasm_fail(err, OFF(r, r->p - 1), true,
                         "zero byte expected (a memory index needs the multi-memory proposal, not supported)");
    return true;
}

static bool is_valtype(uint8_t b)
{
    return b == WASM_I32 || b == WASM_I64 || b == WASM_F32 || b == WASM_F64 || b == WASM_V128 ||
           b == WASM_FUNCREF || b == WASM_EXTERNREF;
}

static bool rd_blocktype(wasm_reader *r, wasm_insn *in, wasm_err *err)
{
    if (r->p >= r->end)
        return wasm_fail(err, OFF(r, r->p), true, "unexpected end");
    uint8_t b = *r->p;
    if (b == 0x40) {
        r->p++;
        in->u.block.kind = WASM_BT_EMPTY;
        return true;
    }
    if (is_valtype(b)) {
        r->p++;
        in->u.block.kind = WASM_BT_VAL;
        in->u.block.valtype = b;
        return true;
    }
    const uint8_t *at = r->p;
    int64_t v;
    if (wasm_proposal_valtype(b))
        return wasm_fail(err, OFF(r, at), true, "%s", wasm_proposal_valtype(b));
    if (!wasm_read_sleb(&r->p, r->end, r->base, 33, &v, err))
        return false;
    if (v < 0)
        return wasm_fail(err, OFF(r, at), true, "malformed value type");
    in->u.block.kind = WASM_BT_TYPE;
    in->u.block.typeidx = (uint32_t)v;
    return true;
}

static bool rd_memarg(wasm_reader *r, wasm_insn *in, wasm_err *err)
{
    const uint8_t *at = r->p;
    if (!rd_u32(r, &in->u.mem.align, err))
        return false;
    /* Bit 6 of the alignment field announces a memory index. */
    if (in->u.mem.align & 0x40)
        return wasm_fail(err, OFF(r, at), true, "multi-memory proposal not supported (memory index in memarg)");
    if (!rd_u32(r, &in->u.mem.offset, err))
        return false;
    in->u.mem.mem = 0;
    return true;
}

/* The SIMD prefix: sub-opcode and immediates (see wasm_ops.c). */
static bool rd_prefix_fd(wasm_reader *r, wasm_insn *in, wasm_err *err)
{
    const uint8_t *at = r->p;
    uint32_t sub;
    if (!rd_u32(r, &sub, err))
        return false;
    if (sub > 0xFF)
        return wasm_fail(err, OFF(r, at), true, "relaxed SIMD proposal not supported (opcode 0xfd %u)", sub);
    in->op = WASM_OP_PREFIX_FD | sub;
    const wasm_opinfo *oi = wasm_opinfo_get(in->op);
    if (oi == NULL)
        return wasm_fail(err, OFF(r, at), true, "illegal opcode 0xfd %u", sub);
    switch (oi->kind) {
    case WASM_OPK_LOAD:
    case WASM_OPK_STORE:
        return rd_memarg(r, in, err);
    case WASM_OPK_LOAD_LANE:
    case WASM_OPK_STORE_LANE:
        return rd_memarg(r, in, err) && rd_byte(r, &in->u.mem.lane, err);
    case WASM_OPK_LANE:
        return rd_byte(r, &in->u.lane, err);
    case WASM_OPK_CONST:
    case WASM_OPK_SHUFFLE:
        if (r->end - r->p < 16)
            return wasm_fail(err, OFF(r, r->p), true, "unexpected end");
        memcpy(in->u.v128, r->p, 16);
        r->p += 16;
        return true;
    default:
        return true;
    }
}

static bool rd_br_table(wasm_reader *r, wasm_insn *in, wasm_err *err)
{
    uint32_t n;
    if (!rd_u32(r, &n, err))
        return false;
    /* Every target takes at least one byte: bound the count before
     * allocating for it. */
    if (n > (size_t)(r->end - r->p))
        return wasm_fail(err, OFF(r, r->p), true, "unexpected end");
    if (n > r->targets_cap) {
        uint32_t cap = r->targets_cap ? r->targets_cap : 16;
        while (cap < n)
            cap = cap > UINT32_MAX / 2 ? n : cap * 2;
        uint32_t *t = realloc(r->targets, (size_t)cap * sizeof *t);
        if (!t)
            return wasm_fail(err, OFF(r, r->p), false, "out of memory");
        r->targets = t;
        r->targets_cap = cap;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!rd_u32(r, &r->targets[i], err))
            return false;
    in->u.br_table.count = n;
    return rd_u32(r, &in->u.br_table.dflt, err);
}

static bool rd_prefix_fc(wasm_reader *r, wasm_insn *in, wasm_err *err)
{
    const uint8_t *at = r->p;
    uint32_t sub;
    if (!rd_u32(r, &sub, err))
        return false;
    if (sub > FC_table_fill)
        return wasm_fail(err, OFF(r, at), true, "illegal opcode 0xfc %u", sub);
    in->op = WASM_OP_PREFIX_FC | sub;
    switch (sub) {
    case FC_memory_init:
        in->u.two.b = 0;
        return rd_u32(r, &in->u.two.a, err) && rd_zero(r, err);
    case FC_data_drop:
    case FC_elem_drop:
    case FC_table_grow:
    case FC_table_size:
    case FC_table_fill:
        return rd_u32(r, &in->u.idx, err);
    case FC_memory_copy:
        in->u.two.a = in->u.two.b = 0;
        return rd_zero(r, err) && rd_zero(r, err);
    case FC_memory_fill:
        in->u.idx = 0;
        return rd_zero(r, err);
    case FC_table_init:
    case FC_table_copy:
        return rd_u32(r, &in->u.two.a, err) && rd_u32(r, &in->u.two.b, err);
    default:                /* saturating truncations: no immediates */
        return true;
    }
}

bool wasm_reader_next(wasm_reader *r, wasm_insn *in, wasm_err *err)
{
    if (r->p >= r->end)
        return wasm_fail(err, OFF(r, r->p), true, "unexpected end");
    in->offset = (uint32_t)OFF(r, r->p);
    in->select_nt = 0;
    memset(&in->u, 0, sizeof in->u);
    uint8_t op = *r->p++;
    in->op = op;
    switch (op) {
    case OP_unreachable: case OP_nop: case OP_else: case OP_end: case OP_return:
    case OP_drop: case OP_select: case OP_ref_is_null:
        return true;
    case OP_block: case OP_loop: case OP_if:
        return rd_blocktype(r, in, err);
    case OP_br: case OP_br_if: case OP_call:
    case OP_local_get: case OP_local_set: case OP_local_tee:
    case OP_global_get: case OP_global_set: case OP_table_get: case OP_table_set:
    case OP_ref_func:
        return rd_u32(r, &in->u.idx, err);
    case OP_br_table:
        return rd_br_table(r, in, err);
    case OP_call_indirect:
        return rd_u32(r, &in->u.call_indirect.type, err) && rd_u32(r, &in->u.call_indirect.table, err);
    case OP_select_t: {
        uint32_t n;
        if (!rd_u32(r, &n, err))
            return false;
        in->select_nt = n;
        /* Only one type is valid (the validator says so); read them all so
         * the encoding is checked, keeping the first. */
        for (uint32_t i = 0; i < n; i++) {
            uint8_t t;
            if (!rd_byte(r, &t, err))
                return false;
            if (!is_valtype(t))
                return wasm_fail(err, OFF(r, r->p - 1), true, "%s",
                                 wasm_proposal_valtype(t) ? wasm_proposal_valtype(t) : "malformed value type");
            if (i == 0)
                in->u.reftype = t;
        }
        return true;
    }
    case OP_memory_size: case OP_memory_grow:
        in->u.idx = 0;
        return rd_zero(r, err);
    case OP_i32_const: {
        int64_t v;
        if (!wasm_read_sleb(&r->p, r->end, r->base, 32, &v, err))
            return false;
        in->u.i32 = (uint32_t)v;
        return true;
    }
    case OP_i64_const: {
        int64_t v;
        if (!wasm_read_sleb(&r->p, r->end, r->base, 64, &v, err))
            return false;
        in->u.i64 = (uint64_t)v;
        return true;
    }
    case OP_f32_const:
        if (r->end - r->p < 4)
            return wasm_fail(err, OFF(r, r->p), true, "unexpected end");
        memcpy(&in->u.f32, r->p, 4);    /* Wasm and all our hosts are little-endian */
        r->p += 4;
        return true;
    case OP_f64_const:
        if (r->end - r->p < 8)
            return wasm_fail(err, OFF(r, r->p), true, "unexpected end");
        memcpy(&in->u.f64, r->p, 8);
        r->p += 8;
        return true;
    case OP_ref_null: {
        uint8_t t;
        if (!rd_byte(r, &t, err))
            return false;
        if (t != WASM_FUNCREF && t != WASM_EXTERNREF)
            return wasm_fail(err, OFF(r, r->p - 1), true, "%s",
                             wasm_proposal_valtype(t) ? wasm_proposal_valtype(t) : "malformed reference type");
        in->u.reftype = t;
        return true;
    }
    case 0xFC:
        return rd_prefix_fc(r, in, err);
    case 0xFD:
        return rd_prefix_fd(r, in, err);
    default:
        if (op >= OP_i32_load && op <= OP_i64_store32)
            return rd_memarg(r, in, err);
        if (op >= 0x45 && op <= 0xC4)
            return true;    /* numeric: no immediates */
        if (wasm_proposal_opcode(op))
            return wasm_fail(err, in->offset, true, "%s (opcode 0x%02x)", wasm_proposal_opcode(op), op);
        return wasm_fail(err, in->offset, true, "illegal opcode 0x%02x", op);
    }
}
