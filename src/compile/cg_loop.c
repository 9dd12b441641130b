/*
 * cg_loop.c — which Wasm loops get a fast copy, and the check that picks it.
 *
 * cc does not vectorise wedge's loops (docs/vectorisation.md) for two
 * reasons: every guard-mode load carries a WOP_KEEP barrier (an empty
 * volatile asm), and every address is `mb + (uint64_t)(uint32_t)(...)`,
 * 32-bit wrapping arithmetic that cc cannot prove to be an affine
 * function of the iteration.  Neither can simply go: the barrier keeps
 * the trap of an out-of-bounds load that cc would delete or move above an
 * earlier store, and the wrap is Wasm's semantics.
 *
 * Both are only needed when an access may be out of bounds or may wrap.
 * For a loop of the shape below, the emitter (cg_emit_func.c) puts a
 * check at loop entry that computes the trip count N and proves that
 * every access of all N iterations is in bounds and has the same address
 * computed exactly (in 64 bits) as with Wasm's wraps; when it holds, a
 * copy of the loop runs whose accesses are `mb + A_j + k*S_j` on a 64-bit
 * iteration counter k, with no barrier and no software bounds check, and
 * whose exit test is k < N.  Otherwise the original loop runs.  Nothing
 * in the fast copy can trap on memory, so cc may reorder, delete and
 * vectorise its accesses without changing what happens; every other
 * effect (other traps, globals) is in both copies alike.
 *
 * The shape: a loop without params or results whose body is one
 * straight-line stretch (no block, if, loop, call, branch, memory.grow or
 * bulk memory instruction) ending with `br_if 0` as its last instruction.
 * Its values are followed as affine forms over the locals' values at loop
 * entry and the iteration number k,
 *
 *     v(k) = c + sum(coef_i * local_i at entry) + k * ks,
 *
 * through i32.const, local.get/set/tee, i32.add, i32.sub and i32.mul/shl
 * by a constant.  Those are ring operations modulo 2^32, so the Wasm value
 * is v(k) mod 2^32 whatever the intermediate wraps; and v(k) is affine in
 * k, so if v(0) and v(N-1) lie in [0, 2^32) every v(k) between does and
 * equals the Wasm value exactly.  An induction variable is a local whose
 * value at the end of the body is its value at the start plus a constant
 * step (it may be set several times on the way); a local set otherwise is
 * unknown until set in the iteration.  The loop continues while the
 * br_if condition is non-zero; it must be `a != b` or a value `a`, with
 * d(k) = a - b (or a) affine and ks != 0, so the trip count is the first
 * k with d(k) = 0 mod 2^32, plus one (the body runs at least once); or
 * x < y / x > y (signed or unsigned, either side written first) with x
 * moving towards y and y invariant, where the count is taken in exact
 * arithmetic and the check also proves x never wraps on the way.
 *
 * Limits keep every sum of the check in int64: at most 4 locals per form,
 * |coef| <= 2^16, |ks| <= 2^20, |c| <= 2^34; a form past them is unknown.
 */
#include <stdlib.h>
#include <string.h>

#include "cg_internal.h"

enum { LV_UNKNOWN, LV_AFFINE, LV_NE, LV_CMP };

typedef struct lv {
    uint8_t kind;
    cg_aff a;                   /* LV_NE: the difference of the operands; LV_CMP: the left one */
    cg_aff b;                   /* LV_CMP: the right operand */
    uint32_t cmp;               /* LV_CMP: CG_EXIT_LT_U ... (a cmp b) */
} lv;

enum { STACK_MAX = 64 };

typedef struct walk {
    const wasm_module *m;
    uint32_t nlocals;
    uint8_t *nset;              /* per local: set in the body at all */
    int64_t *step;              /* per local: induction step, 0 = not one */
    uint8_t *seen;              /* per local: set already in this iteration */
    lv *cur;                    /* per local: its value once set */
    lv st[STACK_MAX];
    uint32_t n;
    bool ok;
} walk;

static const int64_t COEF_MAX = 1 << 16, KS_MAX = 1 << 20, C_MAX = 1ll << 34;

static bool small(const cg_aff *a)
{
    if (a->c > C_MAX || a->c < -C_MAX || a->ks > KS_MAX || a->ks < -KS_MAX)
        return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->coef[i] > COEF_MAX || a->coef[i] < -COEF_MAX)
            return false;
    return true;
}

static lv unknown(void)
{
    lv v;
    memset(&v, 0, sizeof v);
    return v;
}

static lv affine_const(int64_t c)
{
    lv v = unknown();
    v.kind = LV_AFFINE;
    v.a.c = c;
    return v;
}

static lv affine_local(uint32_t l, int64_t c, int64_t ks)
{
    lv v = affine_const(c);
    v.a.n = 1;
    v.a.loc[0] = l;
    v.a.coef[0] = 1;
    v.a.ks = ks;
    return v;
}

/* x + s*y; unknown when the result leaves the limits. */
static lv combine(const lv *x, const lv *y, int64_t s)
{
    if (x->kind != LV_AFFINE || y->kind != LV_AFFINE)
        return unknown();
    lv r = *x;
    r.a.c += s * y->a.c;
    r.a.ks += s * y->a.ks;
    for (uint32_t j = 0; j < y->a.n; j++) {
        uint32_t i = 0;
        while (i < r.a.n && r.a.loc[i] != y->a.loc[j])
            i++;
        if (i == r.a.n) {
            if (r.a.n == CG_AFF_TERMS)
                return unknown();
            r.a.loc[r.a.n] = y->a.loc[j];
            r.a.coef[r.a.n++] = 0;
        }
        r.a.coef[i] += s * y->a.coef[j];
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < r.a.n; i++)
        if (r.a.coef[i] != 0) {
            r.a.loc[k] = r.a.loc[i];
            r.a.coef[k++] = r.a.coef[i];
        }
    r.a.n = k;
    return small(&r.a) ? r : unknown();
}

static bool is_const(const lv *v)
{
    return v->kind == LV_AFFINE && v->a.n == 0 && v->a.ks == 0;
}

static lv scale(const lv *x, int64_t s)
{
    if (x->kind != LV_AFFINE || s > COEF_MAX || s < -COEF_MAX)
        return unknown();
    lv z = affine_const(0);
    return combine(&z, x, s);
}

static void push(walk *w, lv v)
{
    if (w->n == STACK_MAX) {
        w->ok = false;
        return;
    }
    w->st[w->n++] = v;
}

static lv pop(walk *w)
{
    if (w->n == 0) {
        w->ok = false;
        return unknown();
    }
    return w->st[--w->n];
}

static void pop_n(walk *w, uint32_t k)
{
    while (k-- && w->ok)
        (void)pop(w);
}

static uint8_t local_type(const wasm_module *m, const wasm_functype *ft, const wasm_func *fn, uint32_t l)
{
    return l < ft->nparams ? ft->params[l] : fn->locals[l - ft->nparams];
}

/* The value local l has when read now.  `find`: the pass that finds the
 * induction variables, where a local set in the body and not yet in this
 * iteration reads as its value at the start of the iteration. */
static lv read_local(walk *w, const wasm_functype *ft, const wasm_func *fn, uint32_t l, bool find)
{
    if (local_type(w->m, ft, fn, l) != WASM_I32)
        return unknown();
    if (w->seen[l])
        return w->cur[l];
    if (w->nset[l] == 0)
        return affine_local(l, 0, 0);
    if (find)
        return affine_local(l, 0, 0);
    if (w->step[l])
        return affine_local(l, 0, w->step[l]);
    return unknown();
}

static void set_local(walk *w, uint32_t l, lv v)
{
    w->seen[l] = 1;
    w->cur[l] = v;
}

/* After the find pass: a local whose value at the end of the body is its
 * value at the start plus a constant is an induction variable (however
 * often it is set on the way). */
static void find_steps(walk *w)
{
    for (uint32_t l = 0; l < w->nlocals; l++) {
        const lv *v = &w->cur[l];
        if (w->seen[l] && v->kind == LV_AFFINE && v->a.n == 1 && v->a.loc[0] == l && v->a.coef[0] == 1 &&
            v->a.ks == 0 && v->a.c != 0 && v->a.c >= -KS_MAX && v->a.c <= KS_MAX)
            w->step[l] = v->a.c;
    }
}

/* a and b have the same locals, coefficients and step. */
static bool same_linear(const cg_aff *a, const cg_aff *b)
{
    if (a->n != b->n || a->ks != b->ks)
        return false;
    for (uint32_t i = 0; i < a->n; i++) {
        uint32_t j = 0;
        while (j < b->n && (b->loc[j] != a->loc[i] || b->coef[j] != a->coef[i]))
            j++;
        if (j == b->n)
            return false;
    }
    return true;
}

/* One range check per group of accesses with the same linear part: if the
 * lowest start and the furthest end of the group stay in bounds for every
 * k, so does each access between them. */
static void make_groups(cg_loop_plan *plan)
{
    plan->ngroups = 0;
    for (uint32_t j = 0; j < plan->nacc; j++) {
        const cg_aff *a = &plan->acc[j];
        uint32_t g = 0;
        while (g < plan->ngroups && !same_linear(&plan->base[g], a))
            g++;
        if (g == plan->ngroups) {
            plan->base[g] = *a;
            plan->span[g] = plan->end_off[j];
            plan->ngroups++;
        } else if (a->c < plan->base[g].c) {
            plan->span[g] += (uint64_t)(plan->base[g].c - a->c);
            plan->base[g].c = a->c;
        }
        uint64_t end = (uint64_t)(a->c - plan->base[g].c) + plan->end_off[j];
        if (end > plan->span[g])
            plan->span[g] = end;
        plan->group[j] = (uint8_t)g;
    }
}

/* One pass over the body.  count: only count the sets (v is unused);
 * find: find the steps; else fill the plan.  False if the loop does not
 * have the shape. */
static bool walk_body(walk *w, const wasm_functype *ft, const wasm_func *fn, const uint8_t *base, const uint8_t *code,
                      uint32_t len, int pass, cg_loop_plan *plan)
{
    enum { COUNT, FIND, FILL };
    wasm_reader rd;
    wasm_reader_init(&rd, base, code, len);
    w->n = 0;
    w->ok = true;
    memset(w->seen, 0, w->nlocals);
    plan->nacc = 0;
    bool last_br = false, done = false;
    lv cond = unknown();
    while (w->ok && !done) {
        wasm_insn in;
        wasm_err werr;
        if (wasm_reader_done(&rd) || !wasm_reader_next(&rd, &in, &werr)) {
            w->ok = false;
            break;
        }
        if (last_br && in.op != OP_end) {
            w->ok = false;        /* br_if 0 must be the last instruction */
            break;
        }
        uint32_t op = in.op;
        switch (op) {
        case OP_end:
            if (!last_br)
                w->ok = false;
            done = true;
            continue;
        case OP_br_if:
            if (in.u.idx != 0)
                w->ok = false;
            cond = pop(w);
            last_br = true;
            continue;
        case OP_nop:
            continue;
        case OP_drop:
            (void)pop(w);
            continue;
        case OP_select:
        case OP_select_t:
            pop_n(w, 3);
            push(w, unknown());
            continue;
        case OP_local_get:
        case OP_local_set:
        case OP_local_tee: {
            uint32_t l = in.u.idx;
            if (l >= w->nlocals) {
                w->ok = false;
                break;
            }
            if (op == OP_local_get) {
                push(w, pass == COUNT ? unknown() : read_local(w, ft, fn, l, pass == FIND));
                continue;
            }
            lv v = pop(w);
            if (local_type(w->m, ft, fn, l) != WASM_I32)
                v = unknown();
            if (pass == COUNT) {
                if (w->nset[l] < 2)
                    w->nset[l]++;
            } else {
                set_local(w, l, v);
            }
            if (op == OP_local_tee)
                push(w, v);
            continue;
        }
        case OP_global_get:
            push(w, unknown());
            continue;
        case OP_global_set:
            (void)pop(w);
            continue;
        case OP_i32_const:
            push(w, affine_const((int64_t)(int32_t)in.u.i32));
            continue;
        case OP_i64_const:
        case OP_f32_const:
        case OP_f64_const:
            push(w, unknown());
            continue;
        default:
            break;
        }
        if (!w->ok)
            break;
        bool load = op >= OP_i32_load && op <= OP_i64_load32_u;
        bool store = op >= OP_i32_store && op <= OP_i64_store32;
        const wasm_opinfo *oi = wasm_opinfo_get(op);
        bool simd_mem = oi != NULL && oi->name != NULL &&
                        (oi->kind == WASM_OPK_LOAD || oi->kind == WASM_OPK_STORE ||
                         oi->kind == WASM_OPK_LOAD_LANE || oi->kind == WASM_OPK_STORE_LANE);
        if (load || store || simd_mem) {
            static const uint8_t load_size[14] = { 4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4 };
            static const uint8_t store_size[9] = { 4, 8, 4, 8, 1, 2, 1, 2, 4 };
            uint32_t size = load ? load_size[op - OP_i32_load] : store ? store_size[op - OP_i32_store]
                                                                       : 1u << oi->size_log2;
            uint32_t nin = load ? 1 : store ? 2 : oi->nin;
            if (w->n < nin) {
                w->ok = false;
                break;
            }
            const lv *addr = &w->st[w->n - nin];
            if (pass == FILL) {
                if (addr->kind != LV_AFFINE || plan->nacc == CG_LOOP_MAX_ACC) {
                    w->ok = false;
                    break;
                }
                plan->acc[plan->nacc] = addr->a;
                plan->end_off[plan->nacc++] = (uint64_t)in.u.mem.offset + size;
            }
            pop_n(w, nin);
            if (load || (simd_mem && oi->out))
                push(w, unknown());
            continue;
        }
        if (oi == NULL || (oi->name != NULL && oi->kind != WASM_OPK_PLAIN && oi->kind != WASM_OPK_LANE &&
                           oi->kind != WASM_OPK_CONST && oi->kind != WASM_OPK_SHUFFLE)) {
            w->ok = false;        /* control, calls, memory.grow, bulk memory, tables, refs */
            break;
        }
        lv y = oi->nin == 2 ? pop(w) : unknown();
        lv x = oi->nin >= 1 ? pop(w) : unknown();
        pop_n(w, oi->nin > 2 ? oi->nin - 2u : 0u);
        lv r = unknown();
        switch (op) {
        case 0x6A: r = combine(&x, &y, 1); break;                      /* i32.add */
        case 0x6B: r = combine(&x, &y, -1); break;                     /* i32.sub */
        case 0x6C:                                                     /* i32.mul */
            r = is_const(&y) ? scale(&x, y.a.c) : is_const(&x) ? scale(&y, x.a.c) : unknown();
            break;
        case 0x74:                                                     /* i32.shl */
            if (is_const(&y))
                r = scale(&x, (int64_t)1 << ((uint32_t)y.a.c & 31));
            break;
        case 0x47:                                                     /* i32.ne */
            r = combine(&x, &y, -1);
            if (r.kind == LV_AFFINE)
                r.kind = LV_NE;
            break;
        case 0x48: case 0x49: case 0x4A: case 0x4B:                    /* i32.lt_s lt_u gt_s gt_u */
            if (x.kind == LV_AFFINE && y.kind == LV_AFFINE) {
                static const uint32_t kinds[4] = { CG_EXIT_LT_S, CG_EXIT_LT_U, CG_EXIT_GT_S, CG_EXIT_GT_U };
                r.kind = LV_CMP;
                r.a = x.a;
                r.b = y.a;
                r.cmp = kinds[op - 0x48];
            }
            break;
        default:
            break;
        }
        if (oi->out)
            push(w, r);
    }
    wasm_reader_fini(&rd);
    if (w->ok && pass == FIND)
        find_steps(w);
    if (!w->ok || pass != FILL)
        return w->ok;
    if (cond.kind == LV_CMP) {
        /* x cmp y with x moving and y invariant (swapped if written y cmp x) */
        static const uint32_t flip[5] = { 0, CG_EXIT_GT_U, CG_EXIT_GT_S, CG_EXIT_LT_U, CG_EXIT_LT_S };
        if (cond.a.ks == 0 && cond.b.ks != 0) {
            cg_aff t = cond.a;
            cond.a = cond.b;
            cond.b = t;
            cond.cmp = flip[cond.cmp];
        }
        bool up = cond.cmp == CG_EXIT_LT_U || cond.cmp == CG_EXIT_LT_S;
        if (cond.b.ks != 0 || (up ? cond.a.ks <= 0 : cond.a.ks >= 0))
            return false;   /* would only stop by wrapping around */
        plan->exit_kind = cond.cmp;
        plan->exit_d = cond.a;
        plan->exit_y = cond.b;
        make_groups(plan);
        return true;
    }
    if (cond.kind != LV_AFFINE && cond.kind != LV_NE)
        return false;
    if (cond.a.ks == 0)
        return false;
    plan->exit_kind = CG_EXIT_NE;
    plan->exit_d = cond.a;
    make_groups(plan);
    return true;
}

bool cg_loop_plan_make(const wasm_module *m, const wasm_functype *ft, const wasm_func *fn, const uint8_t *base,
                       const uint8_t *code, uint32_t len, cg_loop_plan *plan)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.m = m;
    w.nlocals = ft->nparams + fn->nlocals;
    if (w.nlocals == 0)
        return false;       /* no induction variable without a local */
    w.nset = calloc(w.nlocals, 1);
    w.step = calloc(w.nlocals, sizeof *w.step);
    w.seen = calloc(w.nlocals, 1);
    w.cur = calloc(w.nlocals, sizeof *w.cur);
    bool ok = w.nset && w.step && w.seen && w.cur &&
              walk_body(&w, ft, fn, base, code, len, 0, plan) &&
              walk_body(&w, ft, fn, base, code, len, 1, plan) &&
              walk_body(&w, ft, fn, base, code, len, 2, plan);
    free(w.nset);
    free(w.step);
    free(w.seen);
    free(w.cur);
    return ok && plan->nacc > 0;
}
