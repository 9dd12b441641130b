/*
 * cg_keep.c — which guard-mode loads can go without their WOP_KEEP barrier.
 *
 * In guard mode an out-of-bounds load traps only if the C compiler really
 * performs it, so every load result goes through WOP_KEEP, an empty
 * volatile asm (see wedge_ops.h).  The barrier costs: it pins the value in
 * a register at that point, stops cc from folding the load into the
 * instruction that uses it and from rearranging the address arithmetic
 * around it (the table lookup of crc32 runs 20% slower with it).
 *
 * A load needs no barrier when cc cannot do without its value and cannot
 * move it out of the way: when, in the same straight-line stretch of code
 * (no label, branch, call, store or trapping instruction in between — only
 * pure arithmetic, locals and other loads), a value that provably varies
 * with the loaded value is the address of another memory access or the
 * index of a call_indirect.  That access is itself kept (a barrier, or
 * this same rule down the chain, which ends in a barrier, a store or a
 * call), needs its exact address, and so needs the load.  Reordering the
 * load among the loads of the stretch cannot change which trap happens:
 * every one of them can only trap as "out of bounds memory access".
 *
 * "Provably varies" is a known-bits argument on the abstract value of each
 * stack slot and local: `vm` holds bits that change when one bit of the
 * loaded value changes with everything else fixed (an under-approximation:
 * a bit not listed may still vary).  x+y, x-y, y-x and x^y keep x's bits
 * when y does not depend on that load; &c keeps the bits of c, |c the
 * others; shifts and rotates by constants move them; *c keeps the lowest;
 * wrap and extensions keep what fits.  Anything else forgets the load.
 * Stretches are numbered (`epoch`); a value from an earlier stretch counts
 * as unknown but independent of this stretch's loads, which come after it.
 *
 * What does not qualify keeps its barrier, so a mistake here can only be
 * a missing barrier where the rule above says one is not needed.
 *
 * The fast copy of a loop (cg_loop.c) has no barrier at all: a check at
 * loop entry has proved every one of its accesses in bounds, so none can
 * trap and cc may delete or move any of them.
 */
#include "cg_internal.h"

static uint64_t dep_bit(uint32_t load) { return 1ull << (load % 64); }

/* The value as seen from the current stretch. */
static cg_av fresh(const cg_av *v, uint32_t epoch)
{
    cg_av z = {0};
    z.epoch = epoch;
    if (v->epoch != epoch)
        return z;           /* older than every load of this stretch */
    return *v;
}

cg_av cg_av_unknown(uint32_t epoch)
{
    cg_av v = {0};
    v.epoch = epoch;
    v.deps = ~0ull;         /* may depend on anything of this stretch */
    return v;
}

cg_av cg_av_const(uint32_t epoch, uint64_t c)
{
    cg_av v = {0};
    v.epoch = epoch;
    v.is_const = true;
    v.c = c;
    return v;
}

cg_av cg_av_load(uint32_t epoch, uint32_t load, uint32_t op)
{
    cg_av v = {0};
    v.epoch = epoch;
    v.load = load;
    v.deps = dep_bit(load);
    switch (op) {
    case OP_i32_load: case OP_i64_load32_s: case OP_i64_load32_u: v.vm = 0xffffffffull; break;
    case OP_i64_load: v.vm = ~0ull; break;
    case OP_i32_load8_s: case OP_i32_load8_u: case OP_i64_load8_s: case OP_i64_load8_u: v.vm = 0xff; break;
    case OP_i32_load16_s: case OP_i32_load16_u: case OP_i64_load16_s: case OP_i64_load16_u: v.vm = 0xffff; break;
    default: v.load = 0; break;   /* floats: not followed into addresses */
    }
    return v;
}

static uint64_t rotl(uint64_t x, unsigned k, unsigned w)
{
    k %= w;
    uint64_t m = w == 64 ? ~0ull : (1ull << w) - 1;
    return k ? ((x << k) | (x >> (w - k))) & m : x & m;
}

/* x carries a load, y is the other operand: the result's varying bits. */
/* Could cc prove loads a and b (ids) read the same address, and so merge
 * them into one value?  Not if one address varies with a load value that
 * the other address does not depend on at all: loaded values are opaque
 * to cc (there is no store in the stretch to forward from). */
static bool distinct(const cg_keep_ctx *k, uint32_t a, uint32_t b)
{
    const cg_av *A = &k->addr[a - 1], *B = &k->addr[b - 1];
    if (B->load && B->vm && !(A->deps & dep_bit(B->load)))
        return true;
    return A->load && A->vm && !(B->deps & dep_bit(A->load));
}

/* y cannot cancel what load x contributes: y is not computed from x, nor
 * from a load cc could merge with x (which would make y contain x's value:
 * x - y == 0).  Values older than the stretch (deps 0) never qualify. */
static bool independent(const cg_keep_ctx *k, uint32_t x, const cg_av *y)
{
    if (y->deps & dep_bit(x))
        return false;
    if (!y->deps)
        return true;
    for (uint32_t j = k->first; j <= k->n; j++)
        if ((y->deps & dep_bit(j)) && !distinct(k, x, j))
            return false;
    return true;
}

static uint64_t through(const cg_keep_ctx *k, uint32_t op, const cg_av *x, const cg_av *y, bool x_first,
                        unsigned w)
{
    uint64_t m = w == 64 ? ~0ull : 0xffffffffull;
    bool indep = independent(k, x->load, y);
    switch (op) {
    case 0x6A: case 0x6B: case 0x73:          /* i32 add sub xor */
    case 0x7C: case 0x7D: case 0x85:          /* i64 add sub xor */
        return indep ? x->vm & m : 0;
    case 0x71: case 0x83:                     /* and */
        return y->is_const ? x->vm & y->c & m : 0;
    case 0x72: case 0x84:                     /* or */
        return y->is_const ? x->vm & ~y->c & m : 0;
    case 0x6C: case 0x7E: {                   /* mul by a constant: its lowest bit moves up */
        if (!y->is_const || !(y->c & m) || !x->vm)
            return 0;
        unsigned bit = (unsigned)__builtin_ctzll(x->vm) + (unsigned)__builtin_ctzll(y->c & m);
        return bit < w ? 1ull << bit : 0;
    }
    case 0x74: case 0x86:                     /* shl */
        return x_first && y->is_const ? (x->vm << (y->c % w)) & m : 0;
    case 0x75: case 0x76: case 0x87: case 0x88:   /* shr_s, shr_u: bits shifted out are lost */
        return x_first && y->is_const ? (x->vm & m) >> (y->c % w) : 0;
    case 0x77: case 0x89:                     /* rotl */
        return x_first && y->is_const ? rotl(x->vm, (unsigned)(y->c % w), w) : 0;
    case 0x78: case 0x8A:                     /* rotr */
        return x_first && y->is_const ? rotl(x->vm, (unsigned)(w - y->c % w), w) : 0;
    default:
        return 0;
    }
}

cg_av cg_av_num(const cg_keep_ctx *k, uint32_t epoch, uint32_t op, uint8_t out_type, const cg_av *px,
                const cg_av *py)
{
    cg_av x = fresh(px, epoch);
    cg_av y = py ? fresh(py, epoch) : cg_av_const(epoch, 0);
    cg_av r = {0};
    r.epoch = epoch;
    r.deps = x.deps | (py ? y.deps : 0);
    unsigned w = out_type == 0x7E ? 64 : 32;
    if (!py) {
        if (!x.load)
            return r;
        switch (op) {
        case 0xA7: r.vm = x.vm & 0xffffffffull; break;                 /* i32.wrap_i64 */
        case 0xAC: case 0xAD: r.vm = x.vm & 0xffffffffull; break;      /* i64.extend_i32_s/u */
        case 0xC0: case 0xC2: r.vm = x.vm & 0xff; break;               /* extend8_s */
        case 0xC1: case 0xC3: r.vm = x.vm & 0xffff; break;             /* extend16_s */
        case 0xC4: r.vm = x.vm & 0xffffffffull; break;                 /* i64.extend32_s */
        default: return r;
        }
        r.load = r.vm ? x.load : 0;
        return r;
    }
    if (x.load) {
        r.vm = through(k, op, &x, &y, true, w);
        r.load = r.vm ? x.load : 0;
    }
    if (!r.load && y.load) {
        /* commutative ops, and y in x - y */
        switch (op) {
        case 0x6A: case 0x6B: case 0x73: case 0x71: case 0x72: case 0x6C:
        case 0x7C: case 0x7D: case 0x85: case 0x83: case 0x84: case 0x7E:
            r.vm = through(k, op, &y, &x, false, w);
            r.load = r.vm ? y.load : 0;
            break;
        default:
            break;
        }
    }
    return r;
}

uint32_t cg_av_address_load(const cg_av *v, uint32_t epoch)
{
    if (v->epoch != epoch || !v->load || !(v->vm & 0xffffffffull))
        return 0;
    return v->load;
}

bool cg_op_is_pure(uint32_t op)
{
    if (op >= 0x45 && op <= 0xC4) {
        /* all numeric ops but division/remainder and trapping float->int */
        if ((op >= 0x6D && op <= 0x70) || (op >= 0x7F && op <= 0x82))
            return false;
        if ((op >= 0xA8 && op <= 0xAB) || (op >= 0xAE && op <= 0xB1))
            return false;
        return true;
    }
    if (op >= 0xFC00 && op <= 0xFC07)
        return true;                /* saturating truncations */
    if (op >= OP_i32_load && op <= OP_i64_load32_u)
        return true;                /* may trap, but only as every other load */
    switch (op) {
    case OP_nop: case OP_drop: case OP_select: case OP_select_t:
    case OP_local_get: case OP_local_set: case OP_local_tee: case OP_global_get:
    case OP_i32_const: case OP_i64_const: case OP_f32_const: case OP_f64_const:
    case OP_ref_null: case OP_ref_is_null: case OP_ref_func:
        return true;
    default:
        return false;       /* SIMD instructions included: not analysed, they end a stretch */
    }
}
