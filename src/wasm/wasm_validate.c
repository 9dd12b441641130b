/*
 * wasm_validate.c — Wasm 2.0 validation: module-level rules (indices,
 * limits, constant expressions, exports, start) and the operand/control
 * stack algorithm of the spec's validation appendix for function bodies.
 *
 * Value types on the operand stack are the valtype codes; 0 is the
 * "unknown" type that pops off a polymorphic (unreachable) stack.
 */
#include "wasm_internal.h"

#include <stdlib.h>
#include <string.h>

#include "abi/wedge_abi.h"

enum { T_UNKNOWN = 0, CTRL_FUNC = 0x100 };

typedef struct ctrl {
    uint32_t op;                        /* OP_block/loop/if/else or CTRL_FUNC */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    uint32_t height;                    /* operand stack height at entry */
    uint32_t typeidx;                   /* function type of the block, or UINT32_MAX */
    bool unreachable;
} ctrl;

typedef struct vst {
    const wasm_module *m;
    wasm_err *err;
    size_t off;                         /* offset of the instruction being checked */
    uint8_t *vals;
    uint32_t nvals, capvals;
    ctrl *ctrls;
    uint32_t nctrls, capctrls;
    const uint8_t *declared;            /* bitmap: functions ref.func may name */
    /* br_table: label type lists already checked by the current br_table,
     * two per type (params for loops, results otherwise), by stamp. */
    uint32_t *label_marks;
    uint32_t stamp;
    /* current function */
    uint32_t nparams, nlocals;
    const uint8_t *params, *locals;
    const wasm_functype *ft;
} vst;

#define FAIL(v, ...) wasm_fail((v)->err, (v)->off, false, __VA_ARGS__)

static const char *tn(uint8_t t)
{
    return wasm_valtype_name(t);
}

/* Numeric or vector: what an untyped select accepts. */
static bool is_num(uint8_t t)
{
    return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 || t == WASM_V128 || t == T_UNKNOWN;
}

static bool is_ref(uint8_t t)
{
    return t == WASM_FUNCREF || t == WASM_EXTERNREF || t == T_UNKNOWN;
}

/* A one-element result list for `block (result t)`, without allocating. */
static const uint8_t *single(uint8_t t)
{
    static const uint8_t one[256] = {
        [WASM_I32] = WASM_I32, [WASM_I64] = WASM_I64, [WASM_F32] = WASM_F32,
        [WASM_F64] = WASM_F64, [WASM_V128] = WASM_V128,
        [WASM_FUNCREF] = WASM_FUNCREF, [WASM_EXTERNREF] = WASM_EXTERNREF,
    };
    return &one[t];
}

/* ---- the operand and control stacks ------------------------------------ */

static bool push(vst *v, uint8_t t)
{
    if (v->nvals == v->capvals) {
        if (v->nvals >= WASM_MAX_STACK)
            return FAIL(v, "operand stack deeper than %u values", WASM_MAX_STACK);
        uint32_t cap = v->capvals ? v->capvals * 2 : 64;
        if (cap < v->capvals)
            return FAIL(v, "operand stack too deep");
        uint8_t *nv = realloc(v->vals, cap);
        if (!nv)
            return FAIL(v, "out of memory");
        v->vals = nv;
        v->capvals = cap;
    }
    v->vals[v->nvals++] = t;
    return true;
}

static bool pop(vst *v, uint8_t expect, uint8_t *got)
{
    ctrl *c = &v->ctrls[v->nctrls - 1];
    uint8_t actual;
    if (v->nvals == c->height) {
        if (!c->unreachable)
            return FAIL(v, "type mismatch: expected %s, but the stack is empty",
                        expect ? tn(expect) : "a value");
        actual = T_UNKNOWN;
    } else {
        actual = v->vals[--v->nvals];
    }
    if (expect != T_UNKNOWN && actual != T_UNKNOWN && actual != expect)
        return FAIL(v, "type mismatch: expected %s, got %s", tn(expect), tn(actual));
    if (got)
        *got = actual == T_UNKNOWN ? expect : actual;
    return true;
}

static bool pop_vals(vst *v, const uint8_t *types, uint32_t n)
{
    const ctrl *c = &v->ctrls[v->nctrls - 1];
    for (uint32_t i = n; i-- > 0;) {
        if (v->nvals == c->height && c->unreachable)
            return true;        /* the rest pops as unknown, which fits anything */
        if (!pop(v, types[i], NULL))
            return false;
    }
    return true;
}

static bool push_vals(vst *v, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!push(v, types[i]))
            return false;
    return true;
}

/* What pop_vals followed by pushing the popped values back would check,
 * without moving anything (br_table's per-target check). */
static bool peek_vals(vst *v, const uint8_t *types, uint32_t n)
{
    const ctrl *c = &v->ctrls[v->nctrls - 1];
    for (uint32_t k = 0; k < n; k++) {
        uint8_t expect = types[n - 1 - k];
        if (v->nvals - c->height <= k) {
            if (!c->unreachable)
                return FAIL(v, "type mismatch: expected %s, but the stack is empty", tn(expect));
            return true;        /* the rest is all unknown */
        }
        uint8_t actual = v->vals[v->nvals - 1 - k];
        if (actual != T_UNKNOWN && actual != expect)
            return FAIL(v, "type mismatch: expected %s, got %s", tn(expect), tn(actual));
    }
    return true;
}

static bool push_ctrl(vst *v, uint32_t op, uint32_t typeidx, uint32_t np, const uint8_t *p,
                      uint32_t nr, const uint8_t *r)
{
    if (v->nctrls == v->capctrls) {
        uint32_t cap = v->capctrls ? v->capctrls * 2 : 16;
        if (cap < v->capctrls)
            return FAIL(v, "blocks nested too deeply");
        ctrl *nc = realloc(v->ctrls, (size_t)cap * sizeof *nc);
        if (!nc)
            return FAIL(v, "out of memory");
        v->ctrls = nc;
        v->capctrls = cap;
    }
    v->ctrls[v->nctrls++] = (ctrl){ .op = op, .nparams = np, .params = p, .nresults = nr,
                                    .results = r, .height = v->nvals, .typeidx = typeidx,
                                    .unreachable = false };
    return push_vals(v, p, np);
}

static bool pop_ctrl(vst *v, ctrl *out)
{
    ctrl *c = &v->ctrls[v->nctrls - 1];
    if (!pop_vals(v, c->results, c->nresults))
        return false;
    if (v->nvals != c->height)
        return FAIL(v, "type mismatch: %u value(s) left on the stack at the end of the block",
                    v->nvals - c->height);
    *out = *c;
    v->nctrls--;
    return true;
}

static void set_unreachable(vst *v)
{
    ctrl *c = &v->ctrls[v->nctrls - 1];
    v->nvals = c->height;
    c->unreachable = true;
}

static const ctrl *label(vst *v, uint32_t l)
{
    if (l >= v->nctrls) {
        FAIL(v, "unknown label %u", l);
        return NULL;
    }
    return &v->ctrls[v->nctrls - 1 - l];
}

static void label_types(const ctrl *c, uint32_t *n, const uint8_t **types)
{
    if (c->op == OP_loop) {
        *n = c->nparams;
        *types = c->params;
    } else {
        *n = c->nresults;
        *types = c->results;
    }
}

/* ---- instruction typing -------------------------------------------------- */

#define I32 WASM_I32
#define I64 WASM_I64
#define F32 WASM_F32
#define F64 WASM_F64
#define V128 WASM_V128

/* Loads and stores 0x28-0x3E: value type and log2 of the access size. */
static const struct { uint8_t type, log2; } memop[0x3F - 0x28] = {
    { I32, 2 }, { I64, 3 }, { F32, 2 }, { F64, 3 },
    { I32, 0 }, { I32, 0 }, { I32, 1 }, { I32, 1 },
    { I64, 0 }, { I64, 0 }, { I64, 1 }, { I64, 1 }, { I64, 2 }, { I64, 2 },
    { I32, 2 }, { I64, 3 }, { F32, 2 }, { F64, 3 },
    { I32, 0 }, { I32, 1 }, { I64, 0 }, { I64, 1 }, { I64, 2 },
};

/* Pop the operands of a numeric or SIMD instruction, push its result. */
static bool apply(vst *v, const wasm_opinfo *oi)
{
    for (uint32_t i = oi->nin; i-- > 0;)
        if (!pop(v, oi->in[i], NULL))
            return false;
    return oi->out == 0 || push(v, oi->out);
}

static bool pop3_i32(vst *v)
{
    return pop(v, I32, NULL) && pop(v, I32, NULL) && pop(v, I32, NULL);
}

static bool need_mem(vst *v, uint32_t idx)
{
    if (idx >= v->m->nmems)
        return FAIL(v, "unknown memory %u", idx);
    return true;
}

static bool need_table(vst *v, uint32_t idx)
{
    if (idx >= v->m->ntables)
        return FAIL(v, "unknown table %u", idx);
    return true;
}

static bool need_datacount(vst *v, uint32_t idx)
{
    if (!v->m->has_datacount)
        return wasm_fail(v->err, v->off, true, "data count section required");
    if (idx >= v->m->datacount)
        return FAIL(v, "unknown data segment %u", idx);
    return true;
}

static bool need_elem(vst *v, uint32_t idx)
{
    if (idx >= v->m->nelems)
        return FAIL(v, "unknown elem segment %u", idx);
    return true;
}

/* The immediates of a SIMD instruction (alignment, lane indices). */
static bool simd_imm(vst *v, const wasm_insn *in, const wasm_opinfo *oi)
{
    switch (oi->kind) {
    case WASM_OPK_LOAD:
    case WASM_OPK_STORE:
    case WASM_OPK_LOAD_LANE:
    case WASM_OPK_STORE_LANE:
        if (!need_mem(v, in->u.mem.mem))
            return false;
        if (in->u.mem.align > oi->size_log2)
            return FAIL(v, "alignment must not be larger than natural");
        if ((oi->kind == WASM_OPK_LOAD_LANE || oi->kind == WASM_OPK_STORE_LANE) && in->u.mem.lane >= oi->lanes)
            return FAIL(v, "invalid lane index %u", in->u.mem.lane);
        return true;
    case WASM_OPK_LANE:
        if (in->u.lane >= oi->lanes)
            return FAIL(v, "invalid lane index %u", in->u.lane);
        return true;
    case WASM_OPK_SHUFFLE:
        for (int i = 0; i < 16; i++)
            if (in->u.v128[i] >= 32)
                return FAIL(v, "invalid lane index %u", in->u.v128[i]);
        return true;
    default:
        return true;
    }
}

static bool local_type(vst *v, uint32_t idx, uint8_t *t)
{
    if (idx < v->nparams)
        *t = v->params[idx];
    else if ((uint64_t)idx - v->nparams < v->nlocals)
        *t = v->locals[idx - v->nparams];
    else
        return FAIL(v, "unknown local %u", idx);
    return true;
}

static bool block_type(vst *v, const wasm_insn *in, uint32_t *typeidx, uint32_t *np,
                       const uint8_t **p, uint32_t *nr, const uint8_t **r)
{
    *np = *nr = 0;
    *p = *r = NULL;
    *typeidx = UINT32_MAX;
    switch (in->u.block.kind) {
    case WASM_BT_VAL:
        *nr = 1;
        *r = single(in->u.block.valtype);
        return true;
    case WASM_BT_TYPE: {
        if (in->u.block.typeidx >= v->m->ntypes)
            return FAIL(v, "unknown type %u", in->u.block.typeidx);
        const wasm_functype *ft = &v->m->types[in->u.block.typeidx];
        *typeidx = in->u.block.typeidx;
        *np = ft->nparams;
        *p = ft->params;
        *nr = ft->nresults;
        *r = ft->results;
        return true;
    }
    default:
        return true;
    }
}

static bool insn_fc(vst *v, const wasm_insn *in)
{
    const wasm_module *m = v->m;
    uint32_t sub = in->op & 0xFF;
    if (sub <= FC_i64_trunc_sat_f64_u)
        return apply(v, wasm_opinfo_get(in->op));
    switch (sub) {
    case FC_memory_init:
        return need_mem(v, in->u.two.b) && need_datacount(v, in->u.two.a) && pop3_i32(v);
    case FC_data_drop:
        return need_datacount(v, in->u.idx);
    case FC_memory_copy:
        return need_mem(v, in->u.two.a) && need_mem(v, in->u.two.b) && pop3_i32(v);
    case FC_memory_fill:
        return need_mem(v, in->u.idx) && pop(v, I32, NULL) && pop(v, I32, NULL) && pop(v, I32, NULL);
    case FC_table_init:
        if (!need_table(v, in->u.two.b) || !need_elem(v, in->u.two.a))
            return false;
        if (m->elems[in->u.two.a].elemtype != m->tables[in->u.two.b].elemtype)
            return FAIL(v, "type mismatch: elem segment %u is %s, table %u is %s", in->u.two.a,
                        tn(m->elems[in->u.two.a].elemtype), in->u.two.b, tn(m->tables[in->u.two.b].elemtype));
        return pop3_i32(v);
    case FC_elem_drop:
        return need_elem(v, in->u.idx);
    case FC_table_copy:
        if (!need_table(v, in->u.two.a) || !need_table(v, in->u.two.b))
            return false;
        if (m->tables[in->u.two.a].elemtype != m->tables[in->u.two.b].elemtype)
            return FAIL(v, "type mismatch: table.copy between %s and %s tables",
                        tn(m->tables[in->u.two.b].elemtype), tn(m->tables[in->u.two.a].elemtype));
        return pop3_i32(v);
    case FC_table_grow:
        return need_table(v, in->u.idx) && pop(v, I32, NULL) &&
               pop(v, m->tables[in->u.idx].elemtype, NULL) && push(v, I32);
    case FC_table_size:
        return need_table(v, in->u.idx) && push(v, I32);
    case FC_table_fill:
        return need_table(v, in->u.idx) && pop(v, I32, NULL) &&
               pop(v, m->tables[in->u.idx].elemtype, NULL) && pop(v, I32, NULL);
    default:
        return FAIL(v, "illegal opcode 0xfc %u", sub);
    }
}

/* Check one instruction.  *done is set when the function's final `end`
 * closes the outermost frame. */
static bool insn(vst *v, const wasm_insn *in, const wasm_reader *r, bool *done)
{
    const wasm_module *m = v->m;
    uint32_t op = in->op;
    uint8_t t, t1, t2;

    if (op >= 0x45 && op <= 0xC4)
        return apply(v, wasm_opinfo_get(op));
    if (op >= OP_i32_load && op <= OP_i64_store32) {
        if (!need_mem(v, in->u.mem.mem))
            return false;
        uint8_t vt = memop[op - OP_i32_load].type;
        if (in->u.mem.align > memop[op - OP_i32_load].log2)
            return FAIL(v, "alignment must not be larger than natural");
        if (op <= OP_i64_load32_u)
            return pop(v, I32, NULL) && push(v, vt);
        return pop(v, vt, NULL) && pop(v, I32, NULL);
    }
    if ((op & 0xFF00) == WASM_OP_PREFIX_FC)
        return insn_fc(v, in);
    if ((op & 0xFF00) == WASM_OP_PREFIX_FD) {
        const wasm_opinfo *oi = wasm_opinfo_get(op);
        if (oi == NULL)
            return wasm_fail(v->err, v->off, true, "illegal opcode 0xfd %u", op & 0xFF);
        return simd_imm(v, in, oi) && apply(v, oi);
    }

    switch (op) {
    case OP_unreachable:
        set_unreachable(v);
        return true;
    case OP_nop:
        return true;
    case OP_block:
    case OP_loop:
    case OP_if: {
        uint32_t np, nr, ti;
        const uint8_t *p, *rs;
        if (!block_type(v, in, &ti, &np, &p, &nr, &rs))
            return false;
        if (op == OP_if && !pop(v, I32, NULL))
            return false;
        return pop_vals(v, p, np) && push_ctrl(v, op, ti, np, p, nr, rs);
    }
    case OP_else: {
        ctrl c;
        if (v->ctrls[v->nctrls - 1].op != OP_if)
            return FAIL(v, "else without matching if");
        if (!pop_ctrl(v, &c))
            return false;
        return push_ctrl(v, OP_else, c.typeidx, c.nparams, c.params, c.nresults, c.results);
    }
    case OP_end: {
        ctrl c;
        if (!pop_ctrl(v, &c))
            return false;
        if (c.op == OP_if &&
            (c.nparams != c.nresults || (c.nparams && memcmp(c.params, c.results, c.nparams) != 0)))
            return FAIL(v, "type mismatch: if without else must leave its parameters unchanged");
        if (v->nctrls == 0) {
            *done = true;
            return true;
        }
        return push_vals(v, c.results, c.nresults);
    }
    case OP_br:
    case OP_br_if: {
        const ctrl *c = label(v, in->u.idx);
        if (!c)
            return false;
        uint32_t n;
        const uint8_t *ts;
        label_types(c, &n, &ts);
        if (op == OP_br_if)
            return pop(v, I32, NULL) && pop_vals(v, ts, n) && push_vals(v, ts, n);
        if (!pop_vals(v, ts, n))
            return false;
        set_unreachable(v);
        return true;
    }
    case OP_br_table: {
        if (!pop(v, I32, NULL))
            return false;
        const ctrl *d = label(v, in->u.br_table.dflt);
        if (!d)
            return false;
        uint32_t arity;
        const uint8_t *dts;
        label_types(d, &arity, &dts);
        v->stamp++;
        for (uint32_t i = 0; i < in->u.br_table.count; i++) {
            const ctrl *c = label(v, r->targets[i]);
            if (!c)
                return false;
            uint32_t n;
            const uint8_t *ts;
            label_types(c, &n, &ts);
            if (n != arity)
                return FAIL(v, "type mismatch: br_table targets have different arities");
            /* Each distinct type list is checked once per br_table, so a
             * long table of wide labels stays linear. */
            if (c->typeidx != UINT32_MAX) {
                uint32_t *mark = &v->label_marks[2 * (size_t)c->typeidx + (c->op == OP_loop)];
                if (*mark == v->stamp)
                    continue;
                *mark = v->stamp;
            }
            if (!peek_vals(v, ts, n))
                return false;
        }
        if (!pop_vals(v, dts, arity))
            return false;
        set_unreachable(v);
        return true;
    }
    case OP_return:
        if (!pop_vals(v, v->ft->results, v->ft->nresults))
            return false;
        set_unreachable(v);
        return true;
    case OP_call: {
        if (in->u.idx >= m->nfuncs)
            return FAIL(v, "unknown function %u", in->u.idx);
        const wasm_functype *ft = wasm_func_type(m, in->u.idx);
        return pop_vals(v, ft->params, ft->nparams) && push_vals(v, ft->results, ft->nresults);
    }
    case OP_call_indirect: {
        uint32_t ti = in->u.call_indirect.table, ty = in->u.call_indirect.type;
        if (!need_table(v, ti))
            return false;
        if (m->tables[ti].elemtype != WASM_FUNCREF)
            return FAIL(v, "type mismatch: call_indirect on a table of %s", tn(m->tables[ti].elemtype));
        if (ty >= m->ntypes)
            return FAIL(v, "unknown type %u", ty);
        const wasm_functype *ft = &m->types[ty];
        return pop(v, I32, NULL) && pop_vals(v, ft->params, ft->nparams) &&
               push_vals(v, ft->results, ft->nresults);
    }
    case OP_drop:
        return pop(v, T_UNKNOWN, NULL);
    case OP_select:
        if (!pop(v, I32, NULL) || !pop(v, T_UNKNOWN, &t1) || !pop(v, T_UNKNOWN, &t2))
            return false;
        if (!is_num(t1) || !is_num(t2))
            return FAIL(v, "type mismatch: select without a type needs numeric operands, got %s",
                        tn(is_num(t1) ? t2 : t1));
        if (t1 != t2 && t1 != T_UNKNOWN && t2 != T_UNKNOWN)
            return FAIL(v, "type mismatch: select operands %s and %s", tn(t2), tn(t1));
        return push(v, t1 == T_UNKNOWN ? t2 : t1);
    case OP_select_t:
        if (in->select_nt != 1)
            return FAIL(v, "invalid result arity");
        t = in->u.reftype;
        return pop(v, I32, NULL) && pop(v, t, NULL) && pop(v, t, NULL) && push(v, t);
    case OP_local_get:
        return local_type(v, in->u.idx, &t) && push(v, t);
    case OP_local_set:
        return local_type(v, in->u.idx, &t) && pop(v, t, NULL);
    case OP_local_tee:
        return local_type(v, in->u.idx, &t) && pop(v, t, NULL) && push(v, t);
    case OP_global_get:
        if (in->u.idx >= m->nglobals)
            return FAIL(v, "unknown global %u", in->u.idx);
        return push(v, m->globals[in->u.idx].type.valtype);
    case OP_global_set:
        if (in->u.idx >= m->nglobals)
            return FAIL(v, "unknown global %u", in->u.idx);
        if (!m->globals[in->u.idx].type.mut)
            return FAIL(v, "global is immutable");
        return pop(v, m->globals[in->u.idx].type.valtype, NULL);
    case OP_table_get:
        return need_table(v, in->u.idx) && pop(v, I32, NULL) && push(v, m->tables[in->u.idx].elemtype);
    case OP_table_set:
        return need_table(v, in->u.idx) && pop(v, m->tables[in->u.idx].elemtype, NULL) && pop(v, I32, NULL);
    case OP_memory_size:
        return need_mem(v, in->u.idx) && push(v, I32);
    case OP_memory_grow:
        return need_mem(v, in->u.idx) && pop(v, I32, NULL) && push(v, I32);
    case OP_i32_const: return push(v, I32);
    case OP_i64_const: return push(v, I64);
    case OP_f32_const: return push(v, F32);
    case OP_f64_const: return push(v, F64);
    case OP_ref_null:
        return push(v, in->u.reftype);
    case OP_ref_is_null:
        if (!pop(v, T_UNKNOWN, &t))
            return false;
        if (!is_ref(t))
            return FAIL(v, "type mismatch: ref.is_null needs a reference, got %s", tn(t));
        return push(v, I32);
    case OP_ref_func:
        if (in->u.idx >= m->nfuncs)
            return FAIL(v, "unknown function %u", in->u.idx);
        if (!(v->declared[in->u.idx / 8] & (1u << (in->u.idx % 8))))
            return FAIL(v, "undeclared function reference");
        return push(v, WASM_FUNCREF);
    default:
        return wasm_fail(v->err, v->off, true, "illegal opcode 0x%02x", op);
    }
}

static bool validate_body(vst *v, uint32_t fidx)
{
    const wasm_module *m = v->m;
    const wasm_func *f = &m->funcs[fidx];
    v->ft = wasm_func_type(m, fidx);
    v->nparams = v->ft->nparams;
    v->params = v->ft->params;
    v->nlocals = f->nlocals;
    v->locals = f->locals;
    v->nvals = v->nctrls = 0;
    v->off = f->code_offset;
    if (!push_ctrl(v, CTRL_FUNC, f->type, 0, NULL, v->ft->nresults, v->ft->results))
        return false;
    /* The module buffer starts code_offset bytes before the code. */
    wasm_reader r;
    wasm_reader_init(&r, f->code - f->code_offset, f->code, f->code_len);
    bool ok = true, done = false;
    while (ok && !done) {
        wasm_insn in;
        if (!wasm_reader_next(&r, &in, v->err)) {
            ok = false;
            break;
        }
        v->off = in.offset;
        ok = insn(v, &in, &r, &done);
    }
    if (ok && !wasm_reader_done(&r))
        ok = wasm_fail(v->err, (size_t)(r.p - r.base), true, "operators remaining after end of function");
    wasm_reader_fini(&r);
    return ok;
}

/* ---- module-level rules -------------------------------------------------- */

static bool check_limits(vst *v, const wasm_limits *l, uint64_t bound, const char *what)
{
    if (l->min > bound || (l->has_max && l->max > bound))
        return FAIL(v, "%s size must be at most %llu", what, (unsigned long long)bound);
    if (l->has_max && l->min > l->max)
        return FAIL(v, "size minimum must not be greater than maximum");
    return true;
}

static bool check_memtype(vst *v, const wasm_memtype *mt)
{
    const wasm_limits *l = &mt->limits;
    if (l->min > WEDGE_WASM_MAX_PAGES || (l->has_max && l->max > WEDGE_WASM_MAX_PAGES))
        return FAIL(v, "memory size must be at most 65536 pages (4GiB)");
    return check_limits(v, l, WEDGE_WASM_MAX_PAGES, "memory");
}


/* A constant expression producing `want`. */
static bool check_const(vst *v, const wasm_constexpr *ce, uint8_t want)
{
    const wasm_module *m = v->m;
    v->off = ce->offset;
    uint8_t t = ce->type;
    switch (ce->op) {
    case WASM_CE_NOT_CONST:
        return FAIL(v, "constant expression required");
    case WASM_CE_ARITY:
        return FAIL(v, "type mismatch: constant expression must produce exactly one value");
    case WASM_CE_GLOBAL_GET:
        /* Wasm 2.0: only imported globals are visible to constant
         * expressions, and they must be immutable. */
        if (ce->index >= m->nimported_globals)
            return FAIL(v, "unknown global %u", ce->index);
        if (m->globals[ce->index].type.mut)
            return FAIL(v, "constant expression required");
        t = m->globals[ce->index].type.valtype;
        break;
    case WASM_CE_REF_FUNC:
        if (ce->index >= m->nfuncs)
            return FAIL(v, "unknown function %u", ce->index);
        break;
    default:
        break;
    }
    if (t != want)
        return FAIL(v, "type mismatch: expected %s, got %s", tn(want), tn(t));
    return true;
}

static int export_cmp(const void *a, const void *b)
{
    const wasm_export *x = *(const wasm_export *const *)a, *y = *(const wasm_export *const *)b;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->name, y->name, x->name_len);
}

static bool check_exports(vst *v)
{
    const wasm_module *m = v->m;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wasm_export *ex = &m->exports[i];
        v->off = ex->offset;
        static const char *const kinds[] = { "function", "table", "memory", "global" };
        uint32_t n = ex->kind == WASM_EXTERN_FUNC ? m->nfuncs
                   : ex->kind == WASM_EXTERN_TABLE ? m->ntables
                   : ex->kind == WASM_EXTERN_MEMORY ? m->nmems : m->nglobals;
        if (ex->index >= n)
            return FAIL(v, "unknown %s %u", kinds[ex->kind], ex->index);
    }
    if (m->nexports < 2)
        return true;
    const wasm_export **sorted = malloc((size_t)m->nexports * sizeof *sorted);
    if (!sorted)
        return FAIL(v, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof *sorted, export_cmp);
    bool ok = true;
    for (uint32_t i = 1; i < m->nexports && ok; i++)
        if (export_cmp(&sorted[i - 1], &sorted[i]) == 0) {
            const wasm_export *later = sorted[i]->offset > sorted[i - 1]->offset ? sorted[i] : sorted[i - 1];
            v->off = later->offset;
            ok = FAIL(v, "duplicate export name");   /* names may hold newlines: not echoed */
        }
    free(sorted);
    return ok;
}

static void declare(uint8_t *bits, const wasm_module *m, const wasm_constexpr *ce)
{
    if (ce->op == WASM_CE_REF_FUNC && ce->index < m->nfuncs)
        bits[ce->index / 8] |= (uint8_t)(1u << (ce->index % 8));
}

static bool validate_module(vst *v, uint8_t *declared)
{
    const wasm_module *m = v->m;
    v->off = 8;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const wasm_functype *ft = &m->types[i];
        if (ft->nparams > WASM_MAX_PARAMS)
            return FAIL(v, "type %u has more than %u parameters", i, WASM_MAX_PARAMS);
        if (ft->nresults > WASM_MAX_RESULTS)
            return FAIL(v, "type %u has more than %u results", i, WASM_MAX_RESULTS);
    }
    /* Imports first, one by one, so errors point at the entry. */
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_import *im = &m->imports[i];
        v->off = im->offset;
        bool ok = true;
        switch (im->kind) {
        case WASM_EXTERN_FUNC:
            if (im->u.functype >= m->ntypes)
                ok = FAIL(v, "unknown type %u", im->u.functype);
            break;
        case WASM_EXTERN_TABLE: ok = check_limits(v, &im->u.table.limits, UINT32_MAX, "table"); break;
        case WASM_EXTERN_MEMORY: ok = check_memtype(v, &im->u.mem); break;
        default: break;
        }
        if (!ok)
            return false;
    }
    v->off = 8;     /* definitions below carry no offset of their own */
    for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++) {
        if (m->funcs[i].type >= m->ntypes) {
            v->off = m->funcs[i].code_offset;
            return FAIL(v, "unknown type %u", m->funcs[i].type);
        }
    }
    for (uint32_t i = m->nimported_tables; i < m->ntables; i++)
        if (!check_limits(v, &m->tables[i].limits, UINT32_MAX, "table"))
            return false;
    if (m->nmems > 1)
        return FAIL(v, "multiple memories (multi-memory proposal not supported)");
    for (uint32_t i = m->nimported_mems; i < m->nmems; i++)
        if (!check_memtype(v, &m->mems[i]))
            return false;
    for (uint32_t i = m->nimported_globals; i < m->nglobals; i++) {
        v->off = m->globals[i].init.offset;
        if (!check_const(v, &m->globals[i].init, m->globals[i].type.valtype))
            return false;
        declare(declared, m, &m->globals[i].init);
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wasm_elem *e = &m->elems[i];
        v->off = e->seg_offset;
        if (e->mode == WASM_SEG_ACTIVE) {
            if (!need_table(v, e->table))
                return false;
            if (!check_const(v, &e->offset, I32))
                return false;
            v->off = e->seg_offset;
            if (m->tables[e->table].elemtype != e->elemtype)
                return FAIL(v, "type mismatch: %s segment for a %s table", tn(e->elemtype),
                            tn(m->tables[e->table].elemtype));
        }
        for (uint32_t k = 0; k < e->count; k++) {
            if (!check_const(v, &e->items[k], e->elemtype))
                return false;
            declare(declared, m, &e->items[k]);
        }
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wasm_data *d = &m->datas[i];
        if (d->mode == WASM_SEG_ACTIVE) {
            v->off = d->seg_offset;
            if (!need_mem(v, d->mem) || !check_const(v, &d->offset, I32))
                return false;
        }
    }
    if (m->has_start) {
        v->off = m->start_offset;
        if (m->start >= m->nfuncs)
            return FAIL(v, "unknown function %u", m->start);
        const wasm_functype *ft = wasm_func_type(m, m->start);
        if (ft->nparams || ft->nresults)
            return FAIL(v, "start function must have type [] -> []");
    }
    if (!check_exports(v))
        return false;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == WASM_EXTERN_FUNC)
            declared[m->exports[i].index / 8] |= (uint8_t)(1u << (m->exports[i].index % 8));
    for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++)
        if (!validate_body(v, i))
            return false;
    return true;
}

bool wasm_validate(const wasm_module *m, wasm_err *err)
{
    vst v = { .m = m, .err = err };
    uint8_t *declared = calloc((size_t)m->nfuncs / 8 + 1, 1);
    v.label_marks = calloc(2 * (size_t)m->ntypes + 1, sizeof *v.label_marks);
    if (!declared || !v.label_marks) {
        free(declared);
        free(v.label_marks);
        return wasm_fail(err, 0, false, "out of memory");
    }
    v.declared = declared;
    bool ok = validate_module(&v, declared);
    free(declared);
    free(v.label_marks);
    free(v.vals);
    free(v.ctrls);
    return ok;
}
