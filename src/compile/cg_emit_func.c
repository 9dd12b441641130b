/*
 * cg_emit_func.c — one Wasm function body to one C function.
 *
 * The operand stack becomes C locals named by (depth, type): the value at
 * stack depth d of type i32 lives in `si<d>` (I = i64, f = f32, F = f64,
 * r = any reference).  Because the name depends only on the depth, a
 * block's results are already in place at a fall-through `end`; only
 * branches copy values down to the target's slots.  Control flow is gotos:
 * a block's end label `Lx<n>`, an if's else label `Le<n>`, a loop's head
 * `Ll<n>`.  The C compiler turns all of this into SSA, so the copies are
 * free.
 *
 * Code after br/br_table/return/unreachable is not emitted: the emitter
 * only counts nesting inside it until the `else`/`end` that makes code
 * reachable again.  The module is validated, so the stack types tracked
 * here are always consistent.
 *
 * A loop of the shape cg_loop.c recognises is emitted twice: first a check
 * and a fast copy (64-bit affine addresses, no barriers, no bounds checks,
 * exit by trip count), then the exact original, which runs when the check
 * fails; both continue after the loop (label Lv<n>).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_internal.h"

enum { FR_BLOCK, FR_LOOP, FR_IF, FR_FUNC };

typedef struct cg_frame {
    uint8_t kind;
    bool used;                   /* the end label is branched to */
    bool has_else;
    bool dead;                   /* the code being emitted is unreachable */
    uint32_t label;
    uint32_t vlabel;             /* a versioned loop: its fast copy jumps to Lv<vlabel - 1> */
    uint32_t height;             /* stack height below the params */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
} cg_frame;

typedef struct cg_fn {
    const cg_mod *cm;
    const wasm_module *m;
    const wasm_functype *ft;
    cg_buf *b;
    uint8_t *ts;                 /* type stack */
    uint32_t nts, cap_ts;
    cg_frame *fs;
    uint32_t nfs, cap_fs;
    uint8_t *slot_used;          /* per depth: bit per slot kind */
    uint32_t cap_slots;
    uint32_t skip;               /* nesting inside unreachable code */
    uint32_t nlabels;
    bool oom;
    bool has_mem;
    bool software;
    bool guard;
    uint64_t tabs_cached;        /* tables < 64 held in a local `tab<n>` */
    /* The last load statement, so a `drop` right after it can turn it into
     * a touch the C compiler cannot delete (a dead load must still trap). */
    size_t load_start, load_end;
    uint32_t load_depth;
    char load_touch[200];
    /* Guard mode: which load barriers can go (cg_keep.c).  av parallels
     * ts; lav holds the locals; keeps[id - 1] is where load id's barrier
     * statement is in the body buffer. */
    cg_av *av;
    cg_av *lav;
    uint32_t epoch;
    struct cg_keep_at { size_t pos, len; bool needless; } *keeps;
    cg_av *keep_addr;           /* [id - 1]: the address of load id */
    uint32_t nkeeps, cap_keeps;
    uint32_t stretch_first;     /* id of the first load of the current stretch */
    /* Emitting the fast copy of a versioned loop (cg_loop.c): its plan,
     * its number (the names wv<n>_*) and the next access's index. */
    const cg_loop_plan *fast;
    uint32_t fast_id;
    uint32_t fast_acc;
    uint32_t nversions;
    uint32_t pending_vlabel;     /* for the next loop frame: it has a fast copy */
} cg_fn;

static const char cg_slot_chars[6] = { 'i', 'I', 'f', 'F', 'r', 'v' };

/* The keep-alive macro for a value of type t (see WOP_KEEP). */
static const char *cg_keep(uint8_t t)
{
    return t == WASM_F32 ? "WOP_KEEP_F32" : t == WASM_F64 ? "WOP_KEEP_F64" : "WOP_KEEP";
}

static int cg_slot_kind(uint8_t t)
{
    switch (t) {
    case WASM_I32: return 0;
    case WASM_I64: return 1;
    case WASM_F32: return 2;
    case WASM_F64: return 3;
    case WASM_V128: return 5;
    default: return 4;
    }
}

/* Name of the slot at depth d, type t (marks it used). */
static const char *cg_slot(cg_fn *f, uint32_t d, uint8_t t, char *buf)
{
    if (d >= f->cap_slots) {
        uint32_t cap = f->cap_slots ? f->cap_slots : 64;
        while (cap <= d)
            cap *= 2;
        uint8_t *p = realloc(f->slot_used, cap);
        if (p == NULL) {
            f->oom = true;
        } else {
            memset(p + f->cap_slots, 0, cap - f->cap_slots);
            f->slot_used = p;
            f->cap_slots = cap;
        }
    }
    int k = cg_slot_kind(t);
    if (d < f->cap_slots)
        f->slot_used[d] |= (uint8_t)(1u << k);
    snprintf(buf, 16, "s%c%u", cg_slot_chars[k], d);
    return buf;
}

static void cg_push(cg_fn *f, uint8_t t)
{
    if (f->nts == f->cap_ts) {
        uint32_t cap = f->cap_ts ? f->cap_ts * 2 : 64;
        uint8_t *p = realloc(f->ts, cap);
        cg_av *a = p ? realloc(f->av, cap * sizeof *a) : NULL;
        if (p)
            f->ts = p;
        if (a == NULL) {
            f->oom = true;
            return;
        }
        f->av = a;
        f->cap_ts = cap;
    }
    f->av[f->nts] = cg_av_unknown(f->epoch);
    f->ts[f->nts++] = t;
}

/* The value at depth d is the address of a kept access (or a
 * call_indirect index): the load it provably varies with needs no barrier. */
static void needs_load(cg_fn *f, uint32_t d)
{
    uint32_t id = cg_av_address_load(&f->av[d], f->epoch);
    if (id && id <= f->nkeeps)
        f->keeps[id - 1].needless = true;
}

/* Depth of the value `k` below the top (0 = top). */
static uint32_t cg_depth(cg_fn *f, uint32_t k)
{
    return f->nts - 1 - k;
}

static void cg_pop(cg_fn *f, uint32_t n)
{
    f->nts = n > f->nts ? 0 : f->nts - n;
}

static cg_frame *cg_push_frame(cg_fn *f)
{
    if (f->nfs == f->cap_fs) {
        uint32_t cap = f->cap_fs ? f->cap_fs * 2 : 16;
        cg_frame *p = realloc(f->fs, (size_t)cap * sizeof *p);
        if (p == NULL) {
            f->oom = true;
            return NULL;
        }
        f->fs = p;
        f->cap_fs = cap;
    }
    cg_frame *fr = &f->fs[f->nfs++];
    memset(fr, 0, sizeof *fr);
    fr->label = f->nlabels++;
    return fr;
}

static cg_frame *cg_top_frame(cg_fn *f)
{
    return &f->fs[f->nfs - 1];
}

/* ---- pieces -------------------------------------------------------------- */

static void emit_return(cg_fn *f)
{
    const wasm_functype *ft = f->ft;
    uint32_t n = ft->nresults;
    uint32_t base = f->nts - n;
    char s[16];
    if (n == 0) {
        cg_puts(f->b, "  return;\n");
    } else if (n == 1) {
        cg_printf(f->b, "  return %s;\n", cg_slot(f, base, ft->results[0], s));
    } else {
        char name[4100];
        cg_retstruct_name(ft, name, sizeof name);
        cg_printf(f->b, "  { %s r_;", name);
        for (uint32_t i = 0; i < n; i++)
            cg_printf(f->b, " r_.r%u = %s;", i, cg_slot(f, base + i, ft->results[i], s));
        cg_puts(f->b, " return r_; }\n");
    }
}

/* Copy the branch values into the target's slots and jump. */
static void emit_br(cg_fn *f, uint32_t depth)
{
    cg_frame *t = &f->fs[f->nfs - 1 - depth];
    if (t->kind == FR_FUNC) {
        emit_return(f);
        return;
    }
    uint32_t n = t->kind == FR_LOOP ? t->nparams : t->nresults;
    const uint8_t *types = t->kind == FR_LOOP ? t->params : t->results;
    uint32_t src = f->nts - n;
    char a[16], b[16];
    /* dst < src whenever they differ, so ascending order never clobbers a
     * value still to be copied. */
    for (uint32_t i = 0; i < n; i++)
        if (src + i != t->height + i)
            cg_printf(f->b, "  %s = %s;\n", cg_slot(f, t->height + i, types[i], a), cg_slot(f, src + i, types[i], b));
    if (t->kind == FR_LOOP) {
        cg_printf(f->b, "  goto Ll%u;\n", t->label);
    } else {
        cg_printf(f->b, "  goto Lx%u;\n", t->label);
        t->used = true;
    }
}

static void after_call(cg_fn *f)
{
    if (f->has_mem && f->software)
        cg_puts(f->b, "  msz = mem->size;\n");
}

/* A call: `callee` is the C expression of the function, `cinst` the
 * instance argument; the arguments are on the stack. */
static void emit_call(cg_fn *f, const wasm_functype *ft, const char *callee, const char *cinst)
{
    char s[16];
    uint32_t base = f->nts - ft->nparams;
    cg_buf *b = f->b;
    if (ft->nresults == 1) {
        cg_printf(b, "  %s = ", cg_slot(f, base, ft->results[0], s));
    } else if (ft->nresults > 1) {
        char name[4100];
        cg_retstruct_name(ft, name, sizeof name);
        cg_printf(b, "  { %s r_ = ", name);
    } else {
        cg_puts(b, "  ");
    }
    cg_printf(b, "%s(%s", callee, cinst);
    for (uint32_t i = 0; i < ft->nparams; i++)
        cg_printf(b, ", %s", cg_slot(f, base + i, ft->params[i], s));
    cg_puts(b, ");");
    cg_pop(f, ft->nparams);
    if (ft->nresults > 1) {
        for (uint32_t i = 0; i < ft->nresults; i++)
            cg_printf(b, " %s = r_.r%u;", cg_slot(f, base + i, ft->results[i], s), i);
        cg_puts(b, " }");
    }
    cg_puts(b, "\n");
    for (uint32_t i = 0; i < ft->nresults; i++)
        cg_push(f, ft->results[i]);
}

typedef struct cg_memop {
    uint8_t size;
    uint8_t type;
    const char *pre, *post;      /* load: pre P post; store: pre P, cast V) */
} cg_memop;

static const cg_memop cg_loads[14] = {
    { 4, WASM_I32, "wop_ld32(", ")" },
    { 8, WASM_I64, "wop_ld64(", ")" },
    { 4, WASM_F32, "wop_ldf32(", ")" },
    { 8, WASM_F64, "wop_ldf64(", ")" },
    { 1, WASM_I32, "(uint32_t)(int32_t)(int8_t)wop_ld8(", ")" },
    { 1, WASM_I32, "wop_ld8(", ")" },
    { 2, WASM_I32, "(uint32_t)(int32_t)(int16_t)wop_ld16(", ")" },
    { 2, WASM_I32, "wop_ld16(", ")" },
    { 1, WASM_I64, "(uint64_t)(int64_t)(int8_t)wop_ld8(", ")" },
    { 1, WASM_I64, "wop_ld8(", ")" },
    { 2, WASM_I64, "(uint64_t)(int64_t)(int16_t)wop_ld16(", ")" },
    { 2, WASM_I64, "wop_ld16(", ")" },
    { 4, WASM_I64, "(uint64_t)(int64_t)(int32_t)wop_ld32(", ")" },
    { 4, WASM_I64, "wop_ld32(", ")" },
};

static const cg_memop cg_stores[9] = {
    { 4, WASM_I32, "wop_st32(", "" },
    { 8, WASM_I64, "wop_st64(", "" },
    { 4, WASM_F32, "wop_stf32(", "" },
    { 8, WASM_F64, "wop_stf64(", "" },
    { 1, WASM_I32, "wop_st8(", "(uint8_t)" },
    { 2, WASM_I32, "wop_st16(", "(uint16_t)" },
    { 1, WASM_I64, "wop_st8(", "(uint8_t)" },
    { 2, WASM_I64, "wop_st16(", "(uint16_t)" },
    { 4, WASM_I64, "wop_st32(", "(uint32_t)" },
};

/* Effective address expression; in software mode preceded by the check. */
static void emit_ptr(cg_fn *f, const char *addr, uint32_t off, uint32_t size, char *out, size_t cap)
{
    if (f->fast) {
        /* The fast copy: the address checked at loop entry, as an exact
         * 64-bit affine function of the iteration; no bounds check. */
        uint32_t j = f->fast_acc++;
        if (j >= f->fast->nacc)
            j = 0;              /* cannot happen (cg_loop.c counted the same accesses); caught after the copy */
        const cg_loop_plan *p = f->fast;
        uint32_t g = p->group[j];
        snprintf(out, cap, "mb + (uint64_t)(wv%u_g%u + wv%u_k * %lld) + %lluu", f->fast_id, g, f->fast_id,
                 (long long)p->acc[j].ks, (unsigned long long)(p->acc[j].c - p->base[g].c) + off);
        return;
    }
    if (f->software)
        cg_printf(f->b, "  wop_chk(msz, %s, %lluull);\n", addr, (unsigned long long)off + size);
    if (off)
        snprintf(out, cap, "mb + (uint64_t)%s + %uu", addr, off);
    else
        snprintf(out, cap, "mb + (uint64_t)%s", addr);
}

static void emit_global_ref(cg_fn *f, uint32_t idx, char *out, size_t cap)
{
    const wasm_module *m = f->m;
    uint8_t t = m->globals[idx].type.valtype;
    const char *fld = cg_value_field(t);
    if (idx < m->nimported_globals)
        snprintf(out, cap, "inst->imported_globals[%u]->%s", idx, fld);
    else
        snprintf(out, cap, "inst->globals[%u].%s", idx - m->nimported_globals, fld);
}

/* Expand a numeric template. */
static void emit_num(cg_fn *f, const wasm_opinfo *op, const char *expr, uint32_t op_code)
{
    char a[16], b2[16], r[16];
    uint32_t d0 = f->nts - op->nin;
    const char *x = cg_slot(f, d0, op->in[0], a);
    const char *y = op->nin == 2 ? cg_slot(f, d0 + 1, op->in[1], b2) : "";
    cg_keep_ctx kc = { f->keep_addr, f->stretch_first, f->nkeeps };
    cg_av res = cg_av_num(&kc, f->epoch, op_code, op->out, &f->av[d0], op->nin == 2 ? &f->av[d0 + 1] : NULL);
    cg_pop(f, op->nin);
    cg_printf(f->b, "  %s = ", cg_slot(f, d0, op->out, r));
    for (const char *p = expr; *p; p++) {
        if (p[0] == '$' && (p[1] == '0' || p[1] == '1')) {
            cg_puts(f->b, p[1] == '0' ? x : y);
            p++;
        } else {
            cg_putn(f->b, p, 1);
        }
    }
    cg_puts(f->b, ";\n");
    cg_push(f, op->out);
    if (!f->oom)
        f->av[d0] = res;
}

/* A SIMD instruction: a call of the wedge_simd.h helper named after it
 * (i8x16.add -> wop_i8x16_add), with the lane or memory immediates. */
static void emit_simd(cg_fn *f, const wasm_insn *in, const wasm_opinfo *oi)
{
    cg_buf *b = f->b;
    char fn[48], s[3][16], r[16], ptr[160];
    size_t n = (size_t)snprintf(fn, sizeof fn, "wop_%s", oi->name);
    for (size_t i = 0; i < n && i < sizeof fn; i++)
        if (fn[i] == '.')
            fn[i] = '_';
    uint32_t d0 = f->nts - oi->nin;
    for (uint32_t k = 0; k < oi->nin; k++)
        cg_slot(f, d0 + k, oi->in[k], s[k]);
    bool mem = oi->kind == WASM_OPK_LOAD || oi->kind == WASM_OPK_STORE || oi->kind == WASM_OPK_LOAD_LANE ||
               oi->kind == WASM_OPK_STORE_LANE;
    if (mem) {
        needs_load(f, d0);
        emit_ptr(f, s[0], in->u.mem.offset, 1u << oi->size_log2, ptr, sizeof ptr);
    }
    cg_pop(f, oi->nin);
    if (oi->out) {
        cg_push(f, oi->out);
        cg_printf(b, "  %s = ", cg_slot(f, d0, oi->out, r));
    } else {
        cg_puts(b, "  ");
    }
    switch (oi->kind) {
    case WASM_OPK_CONST: {
        uint64_t lo, hi;
        memcpy(&lo, in->u.v128, 8);
        memcpy(&hi, in->u.v128 + 8, 8);
        cg_printf(b, "(wop_v128){ 0x%llxull, 0x%llxull };\n", (unsigned long long)lo, (unsigned long long)hi);
        return;
    }
    case WASM_OPK_SHUFFLE: {
        /* As a shuffle of the widest lanes it is one of: a byte shuffle
         * that moves whole aligned 2-, 4- or 8-byte groups is the same
         * shuffle on 16-, 32- or 64-bit lanes, and that is what cc needs
         * to see with SSE2 only (shufps, pshufd, punpck...), where a byte
         * shuffle without pshufb became a byte-by-byte gather through the
         * stack (-msimd128 stencil2d: i8x16.shuffle 12..27, 11x native). */
        unsigned w = 8;
        for (; w > 1; w /= 2) {
            bool ok = true;
            for (unsigned i = 0; i < 16 && ok; i++)
                ok = in->u.v128[i] % w == i % w && in->u.v128[i] / w * w == in->u.v128[i - i % w];
            if (ok)
                break;
        }
        cg_printf(b, "WOP_SHUFFLE%u(%s, %s", 8 * w, s[0], s[1]);
        for (unsigned i = 0; i < 16; i += w)
            cg_printf(b, ", %u", in->u.v128[i] / w);
        cg_puts(b, ");\n");
        return;
    }
    case WASM_OPK_LANE:
        if (oi->nin == 1)
            cg_printf(b, "%s(%s, %u);\n", fn, s[0], in->u.lane);
        else
            cg_printf(b, "%s(%s, %u, %s);\n", fn, s[0], in->u.lane, s[1]);
        return;
    case WASM_OPK_LOAD:
        cg_printf(b, "%s(%s);\n", fn, ptr);
        break;
    case WASM_OPK_STORE:
        cg_printf(b, "%s(%s, %s);\n", fn, ptr, s[1]);
        return;
    case WASM_OPK_LOAD_LANE:
    case WASM_OPK_STORE_LANE:
        cg_printf(b, "%s(%s, %s, %u);\n", fn, ptr, s[1], in->u.mem.lane);
        break;
    default:
        cg_printf(b, "%s(", fn);
        for (uint32_t k = 0; k < oi->nin; k++)
            cg_printf(b, "%s%s", k ? ", " : "", s[k]);
        cg_puts(b, ");\n");
        return;
    }
    /* Loads: in guard mode the value is kept, so an out-of-bounds access
     * always happens (see WOP_KEEP). */
    if (f->guard && oi->out && !f->fast)
        cg_printf(b, "  WOP_KEEP_V128(%s);\n", r);
}

static void block_sig(cg_fn *f, cg_frame *fr, const wasm_insn *in)
{
    if (in->u.block.kind == WASM_BT_VAL) {
        /* Static storage: a pointer into the frame would dangle when the
         * frame array is reallocated by a deeper push_frame. */
        static const uint8_t one_type[256] = {
            [WASM_I32] = WASM_I32, [WASM_I64] = WASM_I64, [WASM_F32] = WASM_F32, [WASM_F64] = WASM_F64,
            [WASM_V128] = WASM_V128, [WASM_FUNCREF] = WASM_FUNCREF, [WASM_EXTERNREF] = WASM_EXTERNREF,
        };
        fr->nresults = 1;
        fr->results = &one_type[in->u.block.valtype];
    } else if (in->u.block.kind == WASM_BT_TYPE) {
        const wasm_functype *t = &f->m->types[in->u.block.typeidx];
        fr->nparams = t->nparams;
        fr->params = t->params;
        fr->nresults = t->nresults;
        fr->results = t->results;
    }
    fr->height = f->nts - fr->nparams;
}

/* `end` of the innermost frame; returns true at the function's end. */
static bool emit_end(cg_fn *f)
{
    cg_frame *fr = cg_top_frame(f);
    bool reach = !fr->dead;
    if (fr->kind == FR_FUNC) {
        if (reach)
            emit_return(f);
        else
            cg_puts(f->b, "  __builtin_unreachable();\n");
        f->nfs--;
        return true;
    }
    if (fr->kind == FR_IF && !fr->has_else) {
        cg_printf(f->b, "Le%u:;\n", fr->label);
        reach = true;
    }
    if (fr->used) {
        cg_printf(f->b, "Lx%u:;\n", fr->label);
        reach = true;
    }
    if (fr->vlabel) {
        cg_printf(f->b, "Lv%u:;\n", fr->vlabel - 1);
        reach = true;
    }
    f->nts = fr->height;
    for (uint32_t i = 0; i < fr->nresults; i++)
        cg_push(f, fr->results[i]);
    f->nfs--;
    cg_top_frame(f)->dead = !reach;
    return false;
}

/* ---- the instruction loop -------------------------------------------------- */

static bool emit_insn(cg_fn *f, wasm_reader *rd, const wasm_insn *in, cg_err *err, bool *done)
{
    const wasm_module *m = f->m;
    cg_buf *b = f->b;
    char s1[16], s2[16], s3[16];
    char tmp[160];
    cg_frame *cur = cg_top_frame(f);

    if (cur->dead) {
        switch (in->op) {
        case OP_block: case OP_loop: case OP_if:
            f->skip++;
            return true;
        case OP_else:
            if (f->skip)
                return true;
            break;
        case OP_end:
            if (f->skip) {
                f->skip--;
                return true;
            }
            break;
        default:
            return true;
        }
    }

    switch (in->op) {
    case OP_unreachable:
        cg_puts(b, "  wop_trap(WEDGE_TRAP_UNREACHABLE);\n");
        cur->dead = true;
        return true;
    case OP_nop:
        return true;
    case OP_block:
    case OP_loop: {
        cg_frame *fr = cg_push_frame(f);
        if (fr == NULL)
            return true;
        fr->kind = in->op == OP_block ? FR_BLOCK : FR_LOOP;
        block_sig(f, fr, in);
        if (fr->kind == FR_LOOP) {
            cg_printf(b, "Ll%u: __attribute__((unused));\n", fr->label);
            fr->vlabel = f->pending_vlabel;
            f->pending_vlabel = 0;
        }
        return true;
    }
    case OP_if: {
        uint32_t c = cg_depth(f, 0);
        cg_slot(f, c, WASM_I32, s1);
        cg_pop(f, 1);
        cg_frame *fr = cg_push_frame(f);
        if (fr == NULL)
            return true;
        fr->kind = FR_IF;
        block_sig(f, fr, in);
        cg_printf(b, "  if (!%s) goto Le%u;\n", s1, fr->label);
        return true;
    }
    case OP_else: {
        if (!cur->dead) {
            cg_printf(b, "  goto Lx%u;\n", cur->label);
            cur->used = true;
        }
        cg_printf(b, "Le%u:;\n", cur->label);
        cur->has_else = true;
        cur->dead = false;
        f->nts = cur->height;
        for (uint32_t i = 0; i < cur->nparams; i++)
            cg_push(f, cur->params[i]);
        return true;
    }
    case OP_end:
        *done = emit_end(f);
        return true;
    case OP_br:
        emit_br(f, in->u.idx);
        cur->dead = true;
        return true;
    case OP_br_if: {
        cg_slot(f, cg_depth(f, 0), WASM_I32, s1);
        cg_pop(f, 1);
        if (f->fast)    /* the final br_if 0 of a fast copy: k < N was proved equivalent */
            cg_printf(b, "  if (++wv%u_k < wv%u_n) {\n", f->fast_id, f->fast_id);
        else
            cg_printf(b, "  if (%s) {\n", s1);
        emit_br(f, in->u.idx);
        cg_puts(b, "  }\n");
        return true;
    }
    case OP_br_table: {
        cg_slot(f, cg_depth(f, 0), WASM_I32, s1);
        cg_pop(f, 1);
        cg_printf(b, "  switch (%s) {\n", s1);
        for (uint32_t i = 0; i < in->u.br_table.count; i++) {
            cg_printf(b, "  case %uu:\n", i);
            emit_br(f, rd->targets[i]);
        }
        cg_puts(b, "  default:\n");
        emit_br(f, in->u.br_table.dflt);
        cg_puts(b, "  }\n");
        cur->dead = true;
        return true;
    }
    case OP_return:
        emit_return(f);
        cur->dead = true;
        return true;
    case OP_call: {
        uint32_t fi = in->u.idx;
        const wasm_functype *ft = wasm_func_type(m, fi);
        if (m->func_import[fi] != UINT32_MAX) {
            cg_printf(b, "  { wedge_funcref *fr_ = inst->funcs[%u];\n", fi);
            snprintf(tmp, sizeof tmp, "((ft%u)fr_->fn)", m->funcs[fi].type);
            emit_call(f, ft, tmp, "fr_->inst");
            cg_puts(b, "  }\n");
        } else {
            snprintf(tmp, sizeof tmp, "f%u", fi);
            emit_call(f, ft, tmp, "inst");
        }
        after_call(f);
        return true;
    }
    case OP_call_indirect: {
        uint32_t ti = in->u.call_indirect.type;
        cg_slot(f, cg_depth(f, 0), WASM_I32, s1);
        needs_load(f, cg_depth(f, 0));
        cg_pop(f, 1);
        /* The table object never moves (only its elems do), so the
         * prologue loads it once: one dependent load less per call. */
        uint32_t tn = in->u.call_indirect.table;
        if (tn < 64) {
            f->tabs_cached |= 1ull << tn;
            snprintf(tmp, sizeof tmp, "tab%u", tn);
        } else {
            snprintf(tmp, sizeof tmp, "inst->tables[%u]", tn);
        }
        /* A short signature's id is a constant (one compare with an
         * immediate); a long one's is known only once the runtime loads
         * the module. */
        uint32_t fixed = cg_type_id_fixed(&m->types[ti]);
        if (fixed)
            cg_printf(b, "  { wedge_funcref *fr_ = wop_call_indirect(%s, %s, 0x%xu);\n", tmp, s1, fixed);
        else
            cg_printf(b, "  { wedge_funcref *fr_ = wop_call_indirect(%s, %s, wg_type_ids[%u]);\n", tmp, s1, ti);
        snprintf(tmp, sizeof tmp, "((ft%u)fr_->fn)", ti);
        /* Two call sites: when the callee belongs to this instance (the
         * usual case) it gets `inst` from a register, so its memory-base
         * loads do not wait for the table loads (a branch is predicted, a
         * data dependency through fr_->inst is not).  The interp kernel
         * runs 2.3x faster this way. */
        uint32_t nts = f->nts;
        cg_puts(b, "  if (WOP_LIKELY(fr_->inst == inst)) {\n");
        emit_call(f, &m->types[ti], tmp, "inst");
        f->nts = nts;
        cg_puts(b, "  } else {\n");
        snprintf(tmp, sizeof tmp, "((ft%u)wop_funcref_fn(fr_))", ti);
        emit_call(f, &m->types[ti], tmp, "wop_funcref_inst(fr_)");
        cg_puts(b, "  } }\n");
        after_call(f);
        return true;
    }
    case OP_drop:
        /* Guard mode: a load dropped at once becomes a volatile touch of
         * its last byte (cheaper than load + WOP_KEEP, same fault).  Any
         * other dropped value needs nothing: every load is kept already. */
        if (f->guard && f->load_end != 0 && f->load_end == b->len && cg_depth(f, 0) == f->load_depth) {
            b->len = f->load_start;
            cg_printf(b, "  wop_touch(%s);\n", f->load_touch);
            f->load_end = 0;
            if (f->nkeeps)
                f->keeps[f->nkeeps - 1].len = 0;       /* its barrier went with it */
        }
        cg_pop(f, 1);
        return true;
    case OP_select:
    case OP_select_t: {
        uint32_t c = cg_depth(f, 0), y = cg_depth(f, 1), x = cg_depth(f, 2);
        uint8_t t = f->ts[x];
        cg_printf(b, "  if (!%s) %s = %s;\n", cg_slot(f, c, WASM_I32, s1), cg_slot(f, x, t, s2), cg_slot(f, y, t, s3));
        cg_pop(f, 2);
        f->av[x] = cg_av_unknown(f->epoch);
        return true;
    }
    default:
        break;
    }

    /* Locals, globals, memory, tables, references, numerics. */
    switch (in->op) {
    case OP_global_get: {
        uint8_t t = m->globals[in->u.idx].type.valtype;
        emit_global_ref(f, in->u.idx, tmp, sizeof tmp);
        cg_push(f, t);
        if (t == WASM_V128)     /* bytes in wedge_value */
            cg_printf(b, "  %s = wop_v128_load(%s);\n", cg_slot(f, cg_depth(f, 0), t, s1), tmp);
        else
            cg_printf(b, "  %s = %s;\n", cg_slot(f, cg_depth(f, 0), t, s1), tmp);
        return true;
    }
    case OP_global_set: {
        uint8_t t = m->globals[in->u.idx].type.valtype;
        emit_global_ref(f, in->u.idx, tmp, sizeof tmp);
        if (t == WASM_V128)
            cg_printf(b, "  wop_v128_store(%s, %s);\n", tmp, cg_slot(f, cg_depth(f, 0), t, s1));
        else
            cg_printf(b, "  %s = %s;\n", tmp, cg_slot(f, cg_depth(f, 0), t, s1));
        cg_pop(f, 1);
        return true;
    }
    case OP_i32_const:
        cg_push(f, WASM_I32);
        cg_printf(b, "  %s = %uu;\n", cg_slot(f, cg_depth(f, 0), WASM_I32, s1), in->u.i32);
        if (!f->oom)
            f->av[cg_depth(f, 0)] = cg_av_const(f->epoch, in->u.i32);
        return true;
    case OP_i64_const:
        cg_push(f, WASM_I64);
        cg_printf(b, "  %s = 0x%llxull;\n", cg_slot(f, cg_depth(f, 0), WASM_I64, s1), (unsigned long long)in->u.i64);
        if (!f->oom)
            f->av[cg_depth(f, 0)] = cg_av_const(f->epoch, in->u.i64);
        return true;
    case OP_f32_const:
        cg_push(f, WASM_F32);
        /* A signalling NaN goes through wop_f32_opaque (wedge_ops.h): not
         * every backend compiler honours -fsignaling-nans when folding. */
        cg_printf(b, "  %s = wop_f32_%s(0x%xu);\n", cg_slot(f, cg_depth(f, 0), WASM_F32, s1),
                  cg_f32_is_snan(in->u.f32) ? "opaque" : (in->u.f32 & 0x7FFFFFFFu) == 0 ||
                  (in->u.f32 & 0x7FFFFFFFu) == 0x3F800000u ? "k" : "bits", in->u.f32);
        return true;
    case OP_f64_const:
        cg_push(f, WASM_F64);
        cg_printf(b, "  %s = wop_f64_%s(0x%llxull);\n", cg_slot(f, cg_depth(f, 0), WASM_F64, s1),
                  cg_f64_is_snan(in->u.f64) ? "opaque" : (in->u.f64 & 0x7FFFFFFFFFFFFFFFull) == 0 ||
                  (in->u.f64 & 0x7FFFFFFFFFFFFFFFull) == 0x3FF0000000000000ull ? "k" : "bits",
                  (unsigned long long)in->u.f64);
        return true;
    case OP_memory_size:
        cg_push(f, WASM_I32);
        cg_printf(b, "  %s = mem->pages;\n", cg_slot(f, cg_depth(f, 0), WASM_I32, s1));
        return true;
    case OP_memory_grow:
        cg_slot(f, cg_depth(f, 0), WASM_I32, s1);
        cg_printf(b, "  %s = wedge_rt_memory_grow(inst, mem, %s);\n", s1, s1);
        after_call(f);
        return true;
    case OP_ref_null:
        cg_push(f, in->u.reftype);
        cg_printf(b, "  %s = 0;\n", cg_slot(f, cg_depth(f, 0), in->u.reftype, s1));
        return true;
    case OP_ref_is_null: {
        uint32_t d = cg_depth(f, 0);
        uint8_t t = f->ts[d];
        cg_slot(f, d, t, s1);
        cg_pop(f, 1);
        cg_push(f, WASM_I32);
        cg_printf(b, "  %s = %s == 0;\n", cg_slot(f, d, WASM_I32, s2), s1);
        return true;
    }
    case OP_ref_func:
        cg_push(f, WASM_FUNCREF);
        cg_printf(b, "  %s = inst->funcs[%u];\n", cg_slot(f, cg_depth(f, 0), WASM_FUNCREF, s1), in->u.idx);
        return true;
    case OP_table_get: {
        uint32_t d = cg_depth(f, 0);
        uint8_t t = m->tables[in->u.idx].elemtype;
        cg_slot(f, d, WASM_I32, s1);
        cg_pop(f, 1);
        cg_push(f, t);
        cg_printf(b, "  %s = wop_table_get(inst->tables[%u], %s);\n", cg_slot(f, d, t, s2), in->u.idx, s1);
        return true;
    }
    case OP_table_set: {
        uint8_t t = m->tables[in->u.idx].elemtype;
        cg_printf(b, "  wop_table_set(inst->tables[%u], %s, %s);\n", in->u.idx, cg_slot(f, cg_depth(f, 1), WASM_I32, s1),
                  cg_slot(f, cg_depth(f, 0), t, s2));
        cg_pop(f, 2);
        return true;
    }
    default:
        break;
    }

    if (in->op >= OP_i32_load && in->op <= OP_i64_load32_u) {
        const cg_memop *mo = &cg_loads[in->op - OP_i32_load];
        uint32_t d = cg_depth(f, 0);
        cg_slot(f, d, WASM_I32, s1);
        needs_load(f, d);
        cg_av addr_av = f->av[d].epoch == f->epoch ? f->av[d] : (cg_av){ .epoch = f->epoch };
        size_t start = b->len;
        emit_ptr(f, s1, in->u.mem.offset, mo->size, tmp, sizeof tmp);
        cg_pop(f, 1);
        cg_push(f, mo->type);
        cg_printf(b, "  %s = %s%s%s;\n", cg_slot(f, d, mo->type, s2), mo->pre, tmp, mo->post);
        if (f->guard && !f->fast) {
            size_t kpos = b->len;
            cg_printf(b, "  %s(%s);\n", cg_keep(mo->type), s2);
            if (f->nkeeps == f->cap_keeps) {
                uint32_t cap = f->cap_keeps ? f->cap_keeps * 2 : 64;
                struct cg_keep_at *k = realloc(f->keeps, cap * sizeof *k);
                if (k)
                    f->keeps = k;
                cg_av *ka = k ? realloc(f->keep_addr, cap * sizeof *ka) : NULL;
                if (ka == NULL) {
                    f->oom = true;
                    return true;
                }
                f->keep_addr = ka;
                f->cap_keeps = cap;
            }
            f->keep_addr[f->nkeeps] = addr_av;
            f->keeps[f->nkeeps++] = (struct cg_keep_at){ kpos, b->len - kpos, false };
            if (!f->oom)
                f->av[d] = cg_av_load(f->epoch, f->nkeeps, in->op);
        }
        /* Touching the last byte faults whenever any byte is out of range
         * (in a fast copy no access can be: a dropped load may go). */
        f->load_start = start;
        f->load_end = f->fast ? 0 : b->len;
        f->load_depth = d;
        snprintf(f->load_touch, sizeof f->load_touch, "%s + %u", tmp, mo->size - 1u);
        return true;
    }
    if (in->op >= OP_i32_store && in->op <= OP_i64_store32) {
        const cg_memop *mo = &cg_stores[in->op - OP_i32_store];
        cg_slot(f, cg_depth(f, 1), WASM_I32, s1);
        needs_load(f, cg_depth(f, 1));
        cg_slot(f, cg_depth(f, 0), mo->type, s2);
        emit_ptr(f, s1, in->u.mem.offset, mo->size, tmp, sizeof tmp);
        cg_printf(b, "  %s%s, %s%s);\n", mo->pre, tmp, mo->post, s2);
        cg_pop(f, 2);
        return true;
    }
    const wasm_opinfo *oi = wasm_opinfo_get(in->op);
    if (oi != NULL && oi->name != NULL) {
        emit_simd(f, in, oi);
        return true;
    }
    if (oi != NULL) {
        emit_num(f, oi, cg_numop_expr(in->op), in->op);
        return true;
    }

    /* 0xFC bulk memory and table instructions. */
    switch (in->op) {
    case WASM_OP_PREFIX_FC | FC_memory_init:
        cg_printf(b, "  lsb_memory_init(inst, %uu, %s, %s, %s);\n", in->u.two.a, cg_slot(f, cg_depth(f, 2), WASM_I32, s1),
                  cg_slot(f, cg_depth(f, 1), WASM_I32, s2), cg_slot(f, cg_depth(f, 0), WASM_I32, s3));
        cg_pop(f, 3);
        return true;
    case WASM_OP_PREFIX_FC | FC_data_drop:
        cg_printf(b, "  inst->data_dropped[%u] = 1;\n", in->u.idx);
        return true;
    case WASM_OP_PREFIX_FC | FC_memory_copy:
        cg_printf(b, "  wop_memory_copy(mem, mem, %s, %s, %s);\n", cg_slot(f, cg_depth(f, 2), WASM_I32, s1),
                  cg_slot(f, cg_depth(f, 1), WASM_I32, s2), cg_slot(f, cg_depth(f, 0), WASM_I32, s3));
        cg_pop(f, 3);
        return true;
    case WASM_OP_PREFIX_FC | FC_memory_fill:
        cg_printf(b, "  wop_memory_fill(mem, %s, %s, %s);\n", cg_slot(f, cg_depth(f, 2), WASM_I32, s1),
                  cg_slot(f, cg_depth(f, 1), WASM_I32, s2), cg_slot(f, cg_depth(f, 0), WASM_I32, s3));
        cg_pop(f, 3);
        return true;
    case WASM_OP_PREFIX_FC | FC_table_init:
        cg_printf(b, "  lsb_table_init(inst, %uu, %uu, %s, %s, %s);\n", in->u.two.b, in->u.two.a,
                  cg_slot(f, cg_depth(f, 2), WASM_I32, s1), cg_slot(f, cg_depth(f, 1), WASM_I32, s2), cg_slot(f, cg_depth(f, 0), WASM_I32, s3));
        cg_pop(f, 3);
        return true;
    case WASM_OP_PREFIX_FC | FC_elem_drop:
        cg_printf(b, "  inst->elem_dropped[%u] = 1;\n", in->u.idx);
        return true;
    case WASM_OP_PREFIX_FC | FC_table_copy:
        cg_printf(b, "  lsb_table_copy(inst->tables[%u], inst->tables[%u], %s, %s, %s);\n", in->u.two.a,
                  in->u.two.b, cg_slot(f, cg_depth(f, 2), WASM_I32, s1), cg_slot(f, cg_depth(f, 1), WASM_I32, s2),
                  cg_slot(f, cg_depth(f, 0), WASM_I32, s3));
        cg_pop(f, 3);
        return true;
    case WASM_OP_PREFIX_FC | FC_table_grow: {
        uint8_t t = m->tables[in->u.idx].elemtype;
        uint32_t d = cg_depth(f, 1);
        cg_slot(f, d, t, s1);
        cg_slot(f, cg_depth(f, 0), WASM_I32, s2);
        cg_printf(b, "  %s = wedge_rt_table_grow(inst, inst->tables[%u], %s, %s);\n", cg_slot(f, d, WASM_I32, s3),
                  in->u.idx, s1, s2);
        cg_pop(f, 2);
        cg_push(f, WASM_I32);
        return true;
    }
    case WASM_OP_PREFIX_FC | FC_table_size:
        cg_push(f, WASM_I32);
        cg_printf(b, "  %s = inst->tables[%u]->size;\n", cg_slot(f, cg_depth(f, 0), WASM_I32, s1), in->u.idx);
        return true;
    case WASM_OP_PREFIX_FC | FC_table_fill: {
        uint8_t t = m->tables[in->u.idx].elemtype;
        cg_printf(b, "  lsb_table_fill(inst->tables[%u], %s, %s, %s);\n", in->u.idx, cg_slot(f, cg_depth(f, 2), WASM_I32, s1),
                  cg_slot(f, cg_depth(f, 1), t, s2), cg_slot(f, cg_depth(f, 0), WASM_I32, s3));
        cg_pop(f, 3);
        return true;
    }
    default:
        break;
    }
    return cg_fail(err, "instruction 0x%x at offset %u is not supported", in->op, in->offset);
}

/* One instruction: locals here, everything else in emit_insn. */
static bool emit_step(cg_fn *f, uint32_t fidx, wasm_reader *rd, const wasm_insn *in, cg_err *err, bool *done)
{
    const wasm_func *fn = &f->m->funcs[fidx];
    const wasm_functype *ft = f->ft;
    uint32_t nlocals = ft->nparams + fn->nlocals;
    if (in->op == OP_local_get || in->op == OP_local_set || in->op == OP_local_tee) {
        if (cg_top_frame(f)->dead)
            return true;
        uint32_t li = in->u.idx;
        if (li >= nlocals)
            return cg_fail(err, "function %u: local %u out of range", fidx, li);
        uint8_t t = li < ft->nparams ? ft->params[li] : fn->locals[li - ft->nparams];
        char s[16];
        if (in->op == OP_local_get) {
            cg_push(f, t);
            cg_printf(f->b, "  %s = l%u;\n", cg_slot(f, cg_depth(f, 0), t, s), li);
            if (!f->oom && f->lav)
                f->av[cg_depth(f, 0)] = f->lav[li];
        } else {
            cg_printf(f->b, "  l%u = %s;\n", li, cg_slot(f, cg_depth(f, 0), t, s));
            if (f->lav)
                f->lav[li] = f->av[cg_depth(f, 0)];
            if (in->op == OP_local_set)
                cg_pop(f, 1);
        }
        return true;
    }
    bool ok = emit_insn(f, rd, in, err, done);
    if (!cg_op_is_pure(in->op)) {
        f->epoch++;             /* a new straight-line stretch (cg_keep.c) */
        f->stretch_first = f->nkeeps + 1;
    }
    return ok;
}

/* An affine form of cg_loop.c at k = 0, as an exact int64 C expression. */
static void emit_aff(cg_buf *b, const cg_aff *a)
{
    cg_printf(b, "((int64_t)%lld", (long long)a->c);
    for (uint32_t i = 0; i < a->n; i++)
        cg_printf(b, " + (int64_t)%lld * (int64_t)l%u", (long long)a->coef[i], a->loc[i]);
    cg_puts(b, ")");
}

/* At a reachable `loop` (at: its first byte): if cg_loop.c finds the loop
 * has the shape, emit the entry check and the fast copy, which ends with
 * a jump past the original (Lv<n>, placed by emit_end); the caller then
 * emits the original loop as usual.  Guard and software bounds only: with
 * no bounds checks there is nothing to gain and nothing to keep exact. */
static bool emit_fast_copy(cg_fn *f, uint32_t fidx, wasm_reader *rd, const uint8_t *at, cg_err *err)
{
    const wasm_func *fn = &f->m->funcs[fidx];
    if (!f->has_mem || f->fast || f->oom || !(f->guard || f->software))
        return true;
    /* The loop instruction again, for its block type. */
    wasm_reader lr;
    wasm_insn in;
    wasm_err werr;
    wasm_reader_init(&lr, rd->base, at, (uint32_t)(rd->end - at));
    bool empty = wasm_reader_next(&lr, &in, &werr) && in.u.block.kind == WASM_BT_EMPTY;
    wasm_reader_fini(&lr);
    if (!empty)
        return true;
    cg_loop_plan *plan = malloc(sizeof *plan);
    if (plan == NULL) {
        f->oom = true;
        return true;
    }
    if (!cg_loop_plan_make(f->m, f->ft, fn, rd->base, rd->p, (uint32_t)(rd->end - rd->p), plan)) {
        free(plan);
        return true;
    }
    uint32_t v = f->nversions++;
    cg_buf *b = f->b;
    const cg_aff *d = &plan->exit_d;
    long long step = d->ks > 0 ? (long long)d->ks : -(long long)d->ks;
    cg_printf(b, "  { /* loop with a fast copy (cg_loop.c) */\n");
    if (plan->exit_kind == CG_EXIT_NE) {
        /* Trip count: the first k >= 0 with d(0) + k*ks = 0 mod 2^32, plus
         * 1; 0 (no fast copy) when ks does not divide the distance. */
        cg_printf(b, "    const uint32_t wv%u_m = %s(uint32_t)", v, d->ks > 0 ? "0u - " : "");
        emit_aff(b, d);
        cg_printf(b, ";\n    const int64_t wv%u_n = wv%u_m %% %lldu == 0 ? (int64_t)(wv%u_m / %lldu) + 1 : 0;\n", v,
                  v, step, v, step);
    } else {
        /* x(k) = x + k*ks compared with y as Wasm values (uint32 or int32):
         * the loop stops at the first k where x(k) has reached y, unless
         * x(k) left the 32-bit range before (then it would wrap: 0). */
        bool sgn = plan->exit_kind == CG_EXIT_LT_S || plan->exit_kind == CG_EXIT_GT_S;
        bool up = plan->exit_kind == CG_EXIT_LT_S || plan->exit_kind == CG_EXIT_LT_U;
        const char *cast = sgn ? "(int64_t)(int32_t)(uint32_t)" : "(int64_t)(uint32_t)";
        cg_printf(b, "    const int64_t wv%u_x = %s", v, cast);
        emit_aff(b, d);
        cg_printf(b, ";\n    const int64_t wv%u_y = %s", v, cast);
        emit_aff(b, &plan->exit_y);
        if (up)
            cg_printf(b, ";\n    int64_t wv%u_n = wv%u_x >= wv%u_y ? 1 : (wv%u_y - wv%u_x + %lld) / %lld + 1;\n"
                      "    if (wv%u_x + (wv%u_n - 1) * %lld > %s)\n      wv%u_n = 0;\n",
                      v, v, v, v, v, step - 1, step, v, v, step, sgn ? "INT32_MAX" : "(int64_t)UINT32_MAX", v);
        else
            cg_printf(b, ";\n    int64_t wv%u_n = wv%u_x <= wv%u_y ? 1 : (wv%u_x - wv%u_y + %lld) / %lld + 1;\n"
                      "    if (wv%u_x - (wv%u_n - 1) * %lld < %s)\n      wv%u_n = 0;\n",
                      v, v, v, v, v, step - 1, step, v, v, step, sgn ? "INT32_MIN" : "0", v);
    }
    for (uint32_t g = 0; g < plan->ngroups; g++) {
        cg_printf(b, "    const int64_t wv%u_g%u = ", v, g);
        emit_aff(b, &plan->base[g]);
        cg_puts(b, ";\n");
    }
    cg_printf(b, "    if (wv%u_n > 0", v);
    for (uint32_t g = 0; g < plan->ngroups; g++)
        cg_printf(b, "\n        && wop_span_ok(wv%u_g%u, %lld, wv%u_n, %lluu, mem->size)", v, g,
                  (long long)plan->base[g].ks, v, (unsigned long long)plan->span[g]);
    cg_printf(b, ") {\n    int64_t wv%u_k = 0;\n", v);

    /* The loop again, from its `loop` to its `end`, in fast mode. */
    f->fast = plan;
    f->fast_id = v;
    f->fast_acc = 0;
    wasm_reader_init(&lr, rd->base, at, (uint32_t)(rd->end - at));
    uint32_t nfs0 = f->nfs;
    bool ok = true, done = false;
    do {
        if (wasm_reader_done(&lr) || !wasm_reader_next(&lr, &in, &werr)) {
            ok = cg_fail(err, "function %u: loop copy: %s", fidx, wasm_reader_done(&lr) ? "no end" : werr.msg);
            break;
        }
        ok = emit_step(f, fidx, &lr, &in, err, &done);
    } while (ok && !f->oom && f->nfs > nfs0);
    wasm_reader_fini(&lr);
    if (ok && !f->oom && f->fast_acc != plan->nacc)
        ok = cg_fail(err, "function %u: loop copy has %u accesses, its plan %u", fidx, f->fast_acc, plan->nacc);
    f->fast = NULL;
    free(plan);
    cg_printf(b, "    goto Lv%u;\n  } }\n", v);
    f->pending_vlabel = v + 1;
    return ok;
}

bool cg_emit_func(const cg_mod *cm, uint32_t fidx, cg_buf *out, cg_err *err)
{
    const wasm_module *m = cm->m;
    const wasm_func *fn = &m->funcs[fidx];
    const wasm_functype *ft = &m->types[fn->type];
    cg_fn f;
    memset(&f, 0, sizeof f);
    f.cm = cm;
    f.m = m;
    f.ft = ft;
    f.has_mem = m->nmems > 0;
    f.software = cm->o->bounds == WEDGE_BOUNDS_SOFTWARE;
    f.guard = cm->o->bounds == WEDGE_BOUNDS_GUARD;
    cg_buf body = { 0 };
    f.b = &body;

    uint32_t nlocals = ft->nparams + fn->nlocals;
    bool ok = true;
    f.epoch = 1;                /* the locals' and params' zeroed values are older */
    f.stretch_first = 1;
    if (f.guard) {
        f.lav = calloc(nlocals ? nlocals : 1, sizeof *f.lav);
        if (f.lav == NULL)
            f.oom = true;
    }

    cg_frame *fr = cg_push_frame(&f);
    if (fr != NULL) {
        fr->kind = FR_FUNC;
        fr->nresults = ft->nresults;
        fr->results = ft->results;
    }

    wasm_reader rd;
    wasm_reader_init(&rd, fn->code - fn->code_offset, fn->code, fn->code_len);
    bool done = false;
    while (ok && !done && !f.oom) {
        wasm_insn in;
        wasm_err werr;
        const uint8_t *at = rd.p;
        if (wasm_reader_done(&rd)) {
            ok = cg_fail(err, "function %u: body ends without `end`", fidx);
            break;
        }
        if (!wasm_reader_next(&rd, &in, &werr)) {
            ok = cg_fail(err, "function %u: %s", fidx, werr.msg);
            break;
        }
        if (in.op == OP_loop && !cg_top_frame(&f)->dead)
            ok = emit_fast_copy(&f, fidx, &rd, at, err);
        if (ok)
            ok = emit_step(&f, fidx, &rd, &in, err, &done);
    }
    wasm_reader_fini(&rd);
    if (ok && f.oom)
        ok = cg_fail(err, "function %u: out of memory", fidx);

    /* Barriers of loads that turned out to be needed anyway become blanks
     * (same length: the positions of the others stay valid). */
    for (uint32_t k = 0; ok && k < f.nkeeps; k++)
        if (f.keeps[k].needless && f.keeps[k].len > 1)
            memset(body.p + f.keeps[k].pos, ' ', f.keeps[k].len - 1);

    if (ok) {
        /* Prologue: memory, locals, slots; then the body. */
        char rt[4100];
        cg_rettype(ft, rt, sizeof rt);
        cg_printf(out, "%s%s f%u(wedge_instance *inst", cm->multi_part ? "WG_HIDDEN " : "static ", rt, fidx);
        for (uint32_t i = 0; i < ft->nparams; i++)
            cg_printf(out, ", %s l%u", cg_ctype(ft->params[i]), i);
        cg_puts(out, ")\n{\n");
        if (f.has_mem) {
            cg_puts(out, "  wedge_memory *const mem WOP_UNUSED = inst->mem;\n");
            cg_puts(out, "  uint8_t *const mb WOP_UNUSED = mem->base;\n");
            if (f.software)
                cg_puts(out, "  uint64_t msz WOP_UNUSED = mem->size;\n");
        }
        for (uint32_t t = 0; t < 64; t++)
            if (f.tabs_cached & (1ull << t))
                cg_printf(out, "  wedge_table *const tab%u = inst->tables[%u];\n", t, t);
        for (uint32_t i = ft->nparams; i < nlocals; i++) {
            uint8_t t = fn->locals[i - ft->nparams];
            cg_printf(out, "  %s l%u WOP_UNUSED = %s;\n", cg_ctype(t), i, t == WASM_V128 ? "(wop_v128){ 0 }" : "0");
        }
        static const char *const ctypes[6] = { "uint32_t", "uint64_t", "float", "double", "void *", "wop_v128" };
        for (int k = 0; k < 6; k++) {
            for (uint32_t d = 0; d < f.cap_slots; d++)
                if (f.slot_used[d] & (1u << k))
                    cg_printf(out, "  %s s%c%u WOP_UNUSED = %s;\n", ctypes[k], cg_slot_chars[k], d,
                              k == 5 ? "(wop_v128){ 0 }" : "0");
        }
        cg_putn(out, body.p ? body.p : "", body.len);
        cg_puts(out, "}\n\n");
        if (out->oom)
            ok = cg_fail(err, "function %u: out of memory", fidx);
    }
    cg_buf_free(&body);
    free(f.ts);
    free(f.av);
    free(f.lav);
    free(f.keeps);
    free(f.keep_addr);
    free(f.fs);
    free(f.slot_used);
    return ok;
}
