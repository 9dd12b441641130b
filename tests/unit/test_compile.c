/*
 * test_compile.c — the compiler end to end: .wat (wabt's wat2wasm) ->
 * wedge C -> cc -> .so, loaded with dlopen (descriptor checks) and run
 * through the runtime (results of arithmetic edge cases, traps).
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compile/cg_internal.h"
#include "compile/compile.h"
#include "runtime/runtime.h"

#include "compile_fixture.h"

/* ---- helpers ------------------------------------------------------------- */

/* .wat text -> wasm bytes (wat2wasm). */
static uint8_t *wat(const char *name, const char *text, size_t *len)
{
    char wp[400], bp[400], cmd[1000];
    snprintf(wp, sizeof wp, "%s/%s.wat", cf_dir, name);
    snprintf(bp, sizeof bp, "%s/%s.wasm", cf_dir, name);
    FILE *fp = fopen(wp, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "wat2wasm %s -o %s", wp, bp);
    cr_assert(system(cmd) == 0, "wat2wasm failed on %s", name);
    return cf_read_all(bp, len);
}

/* .wat -> .so path (into out). */
static void build(const char *name, const char *text, int bounds, char *out, size_t cap)
{
    size_t len;
    uint8_t *w = wat(name, text, &len);
    cg_options o;
    cg_options_default(&o);
    o.bounds = bounds;
    o.quiet = true;
    cg_err err;
    snprintf(out, cap, "%s/%s-%d.so", cf_dir, name, bounds);
    bool ok = cg_compile(w, len, name, out, &o, &err);
    free(w);
    cr_assert(ok, "compile %s: %s", name, err.msg);
}

typedef struct tc_inst {
    rt_module *mod;
    wedge_instance *inst;
} tc_inst;


static tc_inst load(const char *name, const char *text, int bounds)
{
    char so[512];
    build(name, text, bounds, so, sizeof so);
    rt_result res;
    cr_assert(rt_init(&res), "rt_init: %s", res.msg);
    tc_inst t;
    t.mod = rt_module_load(so, &res);
    cr_assert_not_null(t.mod, "load: %s", res.msg);
    rt_status st = rt_instantiate(t.mod, NULL, NULL, NULL, &t.inst, &res);
    cr_assert(st == RT_OK, "instantiate: %s", res.msg);
    return t;
}

static void unload(tc_inst *t)
{
    rt_instance_free(t->inst);
    rt_module_unload(t->mod);
}

/* Call export `fn`; returns the status; results in r. */
static rt_status call(tc_inst *t, const char *fn, const wedge_value *args, wedge_value *r, rt_result *res)
{
    rt_extern x;
    cr_assert(rt_instance_export(t->inst, fn, strlen(fn), &x), "no export %s", fn);
    return rt_call(&x, args, r, res);
}

static uint32_t call_i32(tc_inst *t, const char *fn, uint32_t a, uint32_t b)
{
    wedge_value args[2] = { { .i32 = a }, { .i32 = b } }, r[4];
    rt_result res;
    rt_status st = call(t, fn, args, r, &res);
    cr_assert(st == RT_OK, "%s(%u, %u): %s", fn, a, b, res.msg);
    return r[0].i32;
}

static uint64_t call_i64(tc_inst *t, const char *fn, uint64_t a, uint64_t b)
{
    wedge_value args[2] = { { .i64 = a }, { .i64 = b } }, r[4];
    rt_result res;
    rt_status st = call(t, fn, args, r, &res);
    cr_assert(st == RT_OK, "%s: %s", fn, res.msg);
    return r[0].i64;
}

static wedge_trap_kind trap_of(tc_inst *t, const char *fn, const wedge_value *args)
{
    wedge_value r[4];
    rt_result res;
    rt_status st = call(t, fn, args, r, &res);
    if (st == RT_OK)
        return WEDGE_TRAP_NONE;
    cr_assert(st == RT_ERR_TRAP, "%s: status %d: %s", fn, (int)st, res.msg);
    return res.trap;
}

TestSuite(compile, .init = cf_setup, .fini = cf_teardown);

/* ---- the numeric table ------------------------------------------------------ */

Test(compile, numop_table_complete)
{
    /* Every numeric opcode has a template here and a type in the table
     * shared with the validator. */
    for (uint32_t op = 0x45; op <= 0xC4; op++) {
        const wasm_opinfo *oi = wasm_opinfo_get(op);
        cr_assert_not_null(oi);
        cr_assert_not_null(cg_numop_expr(op), "opcode 0x%x has no template", op);
        cr_assert(oi->nin == 1 || oi->nin == 2);
        cr_assert(oi->out != 0);
    }
    cr_expect_str_eq(cg_numop_expr(0xC4), "(uint64_t)(int64_t)(int32_t)$0");
    cr_expect_str_eq(cg_numop_expr(0xA7), "(uint32_t)$0");
    cr_expect_null(cg_numop_expr(0x44));
    cr_expect_null(wasm_opinfo_get(0x44));
}

/* The SIMD part of the shared table: the 236 instructions of Wasm 2.0
 * (whether each has its helper is the spec suite's simd_* files' job). */
Test(compile, simd_table_complete)
{
    unsigned n = 0;
    for (uint32_t sub = 0; sub <= 0xFF; sub++) {
        const wasm_opinfo *oi = wasm_opinfo_get(WASM_OP_PREFIX_FD | sub);
        if (oi == NULL)
            continue;
        n++;
        cr_assert_not_null(oi->name);
        cr_expect(oi->out == WASM_V128 || oi->kind == WASM_OPK_STORE || oi->kind == WASM_OPK_STORE_LANE ||
                  oi->kind == WASM_OPK_LANE || oi->in[0] == WASM_V128, "%s", oi->name);
    }
    cr_expect_eq(n, 236, "SIMD opcodes in the table: %u", n);
    cr_expect_null(wasm_opinfo_get(WASM_OP_PREFIX_FD | 0x9A));      /* unassigned */
    cr_expect_str_eq(wasm_opinfo_get(WASM_OP_PREFIX_FD | 0xBA)->name, "i32x4.dot_i16x8_s");
}

Test(compile, sha256_known_vectors)
{
    cg_sha256 s;
    uint8_t h[32];
    char hex[65];
    cg_sha256_init(&s);
    cg_sha256_update(&s, "abc", 3);
    cg_sha256_final(&s, h);
    cg_hex(h, 32, hex);
    cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cg_sha256_init(&s);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (size_t i = 0; i < strlen(m); i++)   /* byte by byte: exercises buffering */
        cg_sha256_update(&s, m + i, 1);
    cg_sha256_final(&s, h);
    cg_hex(h, 32, hex);
    cr_expect_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* ---- descriptor via dlopen ----------------------------------------------------- */

static const char *desc_wat =
    "(module\n"
    "  (type $t (func (param i32 i64) (result f64)))\n"
    "  (import \"env\" \"g\" (global i32))\n"
    "  (import \"env\" \"f\" (func (type $t)))\n"
    "  (memory 2 10)\n"
    "  (table 3 funcref)\n"
    "  (global $m (mut i64) (i64.const -5))\n"
    "  (func $a (export \"a\") (param i32 i64) (result f64) f64.const 1.5)\n"
    "  (func $b (result i32 i64) i32.const 1 i64.const 2)\n"
    "  (elem (i32.const 1) $a $b)\n"
    "  (data (i32.const 16) \"hi\\00\\ff?\\\"\")\n"
    "  (export \"mem\" (memory 0))\n"
    "  (start $b2)\n"
    "  (func $b2))\n";

Test(compile, descriptor_is_complete)
{
    char so[512];
    build("desc", desc_wat, WEDGE_BOUNDS_GUARD, so, sizeof so);
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "dlopen: %s", dlerror());
    const wedge_module_desc *d = dlsym(h, WEDGE_DESCRIPTOR_SYMBOL);
    cr_assert_not_null(d);
    cr_expect_eq(d->abi_version, WEDGE_ABI_VERSION);
    cr_expect_str_eq(d->compiler_version, cg_compiler_version());
    cr_expect_eq(d->nimports, 2);
    cr_expect_eq(d->nimported_funcs, 1);
    cr_expect_eq(d->nimported_globals, 1);
    cr_expect_eq(d->imports[0].kind, 3);
    cr_expect_eq(d->imports[1].name_len, 1);
    cr_expect_eq(memcmp(d->imports[1].name, "f", 1), 0);
    cr_expect_eq(d->nfuncs, 3);
    cr_expect_str_eq(d->types[d->funcs[0].type].sig, "iI:F");
    cr_expect_str_eq(d->types[d->funcs[1].type].sig, ":iI");
    cr_expect_eq(d->nmems, 1);
    cr_expect_eq(d->mems[0].min, 2);
    cr_expect_eq(d->mems[0].max, 10);
    cr_expect_eq(d->ntables, 1);
    cr_expect_eq(d->tables[0].min, 3);
    cr_expect_eq(d->tables[0].elemtype, 0x70);
    cr_expect_eq(d->nglobals, 1);
    cr_expect_eq(d->globals[0].init.op, WEDGE_CE_I64);
    cr_expect_eq(d->globals[0].init.bits, (uint64_t)-5);
    cr_expect_eq(d->nelems, 1);
    cr_expect_eq(d->elems[0].count, 2);
    cr_expect_eq(d->elems[0].items[1].op, WEDGE_CE_REF_FUNC);
    cr_expect_eq(d->elems[0].items[1].index, 2);
    cr_expect_eq(d->ndatas, 1);
    cr_expect_eq(d->datas[0].len, 6);
    cr_expect_eq(memcmp(d->datas[0].bytes, "hi\0\xff?\"", 6), 0);
    cr_expect_eq(d->start, 3);
    cr_expect_eq(d->nexports, 2);
    cr_assert_not_null(d->type_ids);
    /* SLEdge entry points are exported, libsledge internals are not. */
    uint32_t (*pages)(void) = (uint32_t(*)(void))dlsym(h, "sledge_abi__wasm_memory_starting_pages");
    cr_assert_not_null(pages);
    cr_expect_eq(pages(), 2);
    uint32_t (*maxp)(void) = (uint32_t(*)(void))dlsym(h, "sledge_abi__wasm_memory_max_pages");
    cr_expect_eq(maxp(), 10);
    uint32_t (*gl)(void) = (uint32_t(*)(void))dlsym(h, "sledge_abi__wasm_globals_len");
    cr_expect_eq(gl(), 2);
    cr_expect_null(dlsym(h, "lsb_table_fill"));
    cr_expect_null(dlsym(h, "f1"));
    dlclose(h);
}

/* ---- arithmetic ------------------------------------------------------------ */

static const char *arith_wat =
    "(module\n"
    "  (func (export \"div_s\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)\n"
    "  (func (export \"rem_s\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)\n"
    "  (func (export \"div_u\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)\n"
    "  (func (export \"shl\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.shl)\n"
    "  (func (export \"shr_s\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.shr_s)\n"
    "  (func (export \"rotl\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rotl)\n"
    "  (func (export \"clz\") (param i32 i32) (result i32) local.get 0 i32.clz)\n"
    "  (func (export \"ctz\") (param i32 i32) (result i32) local.get 0 i32.ctz)\n"
    "  (func (export \"lt_s\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.lt_s)\n"
    "  (func (export \"ext8\") (param i32 i32) (result i32) local.get 0 i32.extend8_s)\n"
    "  (func (export \"rotr64\") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rotr)\n"
    "  (func (export \"rotl64\") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rotl)\n"
    "  (func (export \"rem_s64\") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_s)\n"
    "  (func (export \"div_s64\") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_s)\n"
    "  (func (export \"popcnt64\") (param i64 i64) (result i64) local.get 0 i64.popcnt)\n"
    "  (func (export \"clz64\") (param i64 i64) (result i64) local.get 0 i64.clz)\n"
    "  (func (export \"ext32\") (param i64 i64) (result i64) local.get 0 i64.extend32_s)\n"
    ")\n";

Test(compile, integer_edge_cases)
{
    for (int bounds = 0; bounds < 2; bounds++) {
        tc_inst t = load("arith", arith_wat, bounds);
        cr_expect_eq(call_i32(&t, "div_s", (uint32_t)-7, 2), (uint32_t)-3);
        cr_expect_eq(call_i32(&t, "rem_s", (uint32_t)-7, 2), (uint32_t)-1);
        cr_expect_eq(call_i32(&t, "rem_s", 0x80000000u, 0xFFFFFFFFu), 0);
        cr_expect_eq(call_i32(&t, "div_u", 0xFFFFFFFFu, 2), 0x7FFFFFFFu);
        cr_expect_eq(call_i32(&t, "shl", 1, 33), 2);
        cr_expect_eq(call_i32(&t, "shr_s", 0x80000000u, 63), 0xFFFFFFFFu);
        cr_expect_eq(call_i32(&t, "rotl", 0x80000001u, 1), 3);
        cr_expect_eq(call_i32(&t, "clz", 0, 0), 32);
        cr_expect_eq(call_i32(&t, "ctz", 0x80000000u, 0), 31);
        cr_expect_eq(call_i32(&t, "lt_s", 0xFFFFFFFFu, 0), 1);
        cr_expect_eq(call_i32(&t, "ext8", 0x80, 0), 0xFFFFFF80u);
        cr_expect_eq(call_i64(&t, "rotr64", 1, 1), 0x8000000000000000ull);
        cr_expect_eq(call_i64(&t, "rotl64", 0x8000000000000000ull, 65), 1);
        cr_expect_eq(call_i64(&t, "rem_s64", 0x8000000000000000ull, (uint64_t)-1), 0);
        cr_expect_eq(call_i64(&t, "popcnt64", (uint64_t)-1, 0), 64);
        cr_expect_eq(call_i64(&t, "clz64", 0, 0), 64);
        cr_expect_eq(call_i64(&t, "ext32", 0x80000000ull, 0), 0xFFFFFFFF80000000ull);

        wedge_value a[2] = { { .i32 = 1 }, { .i32 = 0 } };
        cr_expect_eq(trap_of(&t, "div_s", a), WEDGE_TRAP_INT_DIV_ZERO);
        cr_expect_eq(trap_of(&t, "rem_s", a), WEDGE_TRAP_INT_DIV_ZERO);
        a[0].i32 = 0x80000000u;
        a[1].i32 = 0xFFFFFFFFu;
        cr_expect_eq(trap_of(&t, "div_s", a), WEDGE_TRAP_INT_OVERFLOW);
        wedge_value b[2] = { { .i64 = 0x8000000000000000ull }, { .i64 = (uint64_t)-1 } };
        cr_expect_eq(trap_of(&t, "div_s64", b), WEDGE_TRAP_INT_OVERFLOW);
        unload(&t);
    }
}

static const char *float_wat =
    "(module\n"
    "  (func (export \"min\") (param f32 f32) (result f32) local.get 0 local.get 1 f32.min)\n"
    "  (func (export \"max64\") (param f64 f64) (result f64) local.get 0 local.get 1 f64.max)\n"
    "  (func (export \"nearest\") (param f32) (result f32) local.get 0 f32.nearest)\n"
    "  (func (export \"nearest64\") (param f64) (result f64) local.get 0 f64.nearest)\n"
    "  (func (export \"copysign\") (param f64 f64) (result f64) local.get 0 local.get 1 f64.copysign)\n"
    "  (func (export \"neg\") (param f32) (result f32) local.get 0 f32.neg)\n"
    "  (func (export \"t32s\") (param f32) (result i32) local.get 0 i32.trunc_f32_s)\n"
    "  (func (export \"t32u64\") (param f64) (result i32) local.get 0 i32.trunc_f64_u)\n"
    "  (func (export \"t32s64\") (param f64) (result i32) local.get 0 i32.trunc_f64_s)\n"
    "  (func (export \"t64u\") (param f64) (result i64) local.get 0 i64.trunc_f64_u)\n"
    "  (func (export \"sat32s\") (param f32) (result i32) local.get 0 i32.trunc_sat_f32_s)\n"
    "  (func (export \"sat64u\") (param f64) (result i64) local.get 0 i64.trunc_sat_f64_u)\n"
    "  (func (export \"c\") (result f64) f64.const -0x1.fffffffffffffp+1023)\n"
    "  (func (export \"nanbits\") (result i32) f32.const nan:0x200000 i32.reinterpret_f32)\n"
    "  (func (export \"demote\") (param f64) (result f32) local.get 0 f32.demote_f64)\n"
    "  (func (export \"cvt\") (param i64) (result f32) local.get 0 f32.convert_i64_u)\n"
    ")\n";

static uint32_t f32b(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static uint64_t f64b(double f) { uint64_t b; memcpy(&b, &f, 8); return b; }

static wedge_value fcall(tc_inst *t, const char *fn, wedge_value a0, wedge_value a1)
{
    wedge_value args[2] = { a0, a1 }, r[2];
    rt_result res;
    cr_assert(call(t, fn, args, r, &res) == RT_OK, "%s: %s", fn, res.msg);
    return r[0];
}

#define F(x) ((wedge_value){ .f32 = (x) })
#define D(x) ((wedge_value){ .f64 = (x) })
#define Z ((wedge_value){ .i64 = 0 })

Test(compile, float_edge_cases)
{
    tc_inst t = load("float", float_wat, WEDGE_BOUNDS_GUARD);
    cr_expect_eq(f32b(fcall(&t, "min", F(0.0f), F(-0.0f)).f32), 0x80000000u);
    cr_expect_eq(f32b(fcall(&t, "min", F(-0.0f), F(0.0f)).f32), 0x80000000u);
    cr_expect(isnan(fcall(&t, "min", F(NAN), F(1.0f)).f32));
    cr_expect(isnan(fcall(&t, "min", F(1.0f), F(NAN)).f32));
    cr_expect_eq(f64b(fcall(&t, "max64", D(-0.0), D(0.0)).f64), 0);
    cr_expect_eq(fcall(&t, "nearest", F(2.5f), Z).f32, 2.0f);
    cr_expect_eq(fcall(&t, "nearest", F(3.5f), Z).f32, 4.0f);
    cr_expect_eq(f32b(fcall(&t, "nearest", F(-0.5f), Z).f32), 0x80000000u);
    cr_expect_eq(fcall(&t, "nearest64", D(4503599627370495.5), Z).f64, 4503599627370496.0);
    cr_expect_eq(f64b(fcall(&t, "copysign", D(1.0), D(-0.0)).f64), f64b(-1.0));
    cr_expect_eq(f32b(fcall(&t, "neg", F(NAN), Z).f32), f32b(NAN) ^ 0x80000000u);
    cr_expect_eq(fcall(&t, "t32s", F(-2147483648.0f), Z).i32, 0x80000000u);
    cr_expect_eq(fcall(&t, "t32u64", D(-0.9), Z).i32, 0);
    cr_expect_eq(fcall(&t, "t32u64", D(4294967295.9), Z).i32, 0xFFFFFFFFu);
    cr_expect_eq(fcall(&t, "t32s64", D(-2147483648.9), Z).i32, 0x80000000u);
    cr_expect_eq(fcall(&t, "t64u", D(18446744073709549568.0), Z).i64, 18446744073709549568ull);
    cr_expect_eq(fcall(&t, "sat32s", F(NAN), Z).i32, 0);
    cr_expect_eq(fcall(&t, "sat32s", F(3e9f), Z).i32, 0x7FFFFFFFu);
    cr_expect_eq(fcall(&t, "sat32s", F(-3e9f), Z).i32, 0x80000000u);
    cr_expect_eq(fcall(&t, "sat64u", D(-1.0), Z).i64, 0);
    cr_expect_eq(fcall(&t, "sat64u", D(1e30), Z).i64, UINT64_MAX);
    cr_expect_eq(f64b(fcall(&t, "c", Z, Z).f64), 0xFFEFFFFFFFFFFFFFull);
    cr_expect_eq(fcall(&t, "nanbits", Z, Z).i32, 0x7FA00000u);
    cr_expect_eq(fcall(&t, "demote", D(1.0 + 0x1p-24), Z).f32, 1.0f);
    cr_expect_eq(fcall(&t, "cvt", (wedge_value){ .i64 = UINT64_MAX }, Z).f32, 18446744073709551616.0f);

    wedge_value a[2] = { F(2147483648.0f), Z };
    cr_expect_eq(trap_of(&t, "t32s", a), WEDGE_TRAP_INT_OVERFLOW);
    a[0] = F(NAN);
    cr_expect_eq(trap_of(&t, "t32s", a), WEDGE_TRAP_INVALID_CONVERSION);
    a[0] = D(-1.0);
    cr_expect_eq(trap_of(&t, "t32u64", a), WEDGE_TRAP_INT_OVERFLOW);
    a[0] = D(4294967296.0);
    cr_expect_eq(trap_of(&t, "t32u64", a), WEDGE_TRAP_INT_OVERFLOW);
    a[0] = D(-2147483649.0);
    cr_expect_eq(trap_of(&t, "t32s64", a), WEDGE_TRAP_INT_OVERFLOW);
    a[0] = D(18446744073709551616.0);
    cr_expect_eq(trap_of(&t, "t64u", a), WEDGE_TRAP_INT_OVERFLOW);
    unload(&t);
}

/* ---- control flow, multi-value, calls ------------------------------------- */

static const char *ctl_wat =
    "(module\n"
    "  (type $pair (func (param i32) (result i32 i32)))\n"
    "  (func $swap (param i32 i64) (result i64 i32) local.get 1 local.get 0)\n"
    "  (func (export \"swapsum\") (param i32 i32) (result i32)\n"
    "    local.get 0 local.get 1 i64.extend_i32_u call $swap local.set 1 i32.wrap_i64 local.get 1 i32.sub)\n"
    "  (func (export \"fac\") (param i32 i32) (result i32) (local $r i32)\n"
    "    i32.const 1 local.set $r\n"
    "    block $done loop $l\n"
    "      local.get 0 i32.eqz br_if $done\n"
    "      local.get $r local.get 0 i32.mul local.set $r\n"
    "      local.get 0 i32.const 1 i32.sub local.set 0 br $l\n"
    "    end end local.get $r)\n"
    "  (func (export \"bt\") (param i32 i32) (result i32)\n"
    "    block $a (result i32) block $b (result i32) block $c (result i32)\n"
    "      i32.const 100 local.get 0 br_table $a $b $c\n"
    "    end i32.const 1 i32.add end i32.const 10 i32.add end)\n"
    "  (func (export \"mv\") (param i32 i32) (result i32)\n"
    "    local.get 0 local.get 1\n"
    "    block (param i32 i32) (result i32 i32) br 0 end\n"
    "    if (param i32) (result i32) i32.const 7 i32.add else drop i32.const 99 end)\n"
    "  (func (export \"loopsum\") (param i32 i32) (result i32)\n"
    "    i32.const 0 local.get 0\n"
    "    loop (param i32 i32) (result i32)\n"
    "      local.tee 1 i32.add local.get 1 i32.const 1 i32.sub local.tee 1\n"
    "      local.get 1 br_if 0 drop end)\n"
    "  (func (export \"dead\") (param i32 i32) (result i32)\n"
    "    block (result i32) i32.const 5 br 0 i32.const 6 i32.add block end unreachable end)\n"
    "  (func (export \"sel\") (param i32 i32) (result i32) i32.const 3 i32.const 4 local.get 0 select)\n"
    "  (func (export \"ret\") (param i32 i32) (result i32)\n"
    "    local.get 0 if i32.const 1 return end i32.const 2)\n"
    "  (func $rec (param i32) (result i32) local.get 0 call $rec)\n"
    "  (func (export \"runaway\") (param i32 i32) (result i32) local.get 0 call $rec)\n"
    "  (func (export \"unr\") (param i32 i32) (result i32) unreachable)\n"
    ")\n";

Test(compile, control_flow_and_multi_value)
{
    tc_inst t = load("ctl", ctl_wat, WEDGE_BOUNDS_GUARD);
    cr_expect_eq(call_i32(&t, "swapsum", 10, 3), (uint32_t)-7);   /* swap(10, 3) = (3, 10): 3 - 10 */
    cr_expect_eq(call_i32(&t, "fac", 5, 0), 120);
    cr_expect_eq(call_i32(&t, "bt", 0, 0), 100);
    cr_expect_eq(call_i32(&t, "bt", 1, 0), 110);
    cr_expect_eq(call_i32(&t, "bt", 2, 0), 111);
    cr_expect_eq(call_i32(&t, "bt", 1000, 0), 111);
    cr_expect_eq(call_i32(&t, "mv", 5, 1), 12);
    cr_expect_eq(call_i32(&t, "mv", 5, 0), 99);
    cr_expect_eq(call_i32(&t, "loopsum", 4, 0), 10);
    cr_expect_eq(call_i32(&t, "dead", 0, 0), 5);
    cr_expect_eq(call_i32(&t, "sel", 1, 0), 3);
    cr_expect_eq(call_i32(&t, "sel", 0, 0), 4);
    cr_expect_eq(call_i32(&t, "ret", 1, 0), 1);
    cr_expect_eq(call_i32(&t, "ret", 0, 0), 2);
    wedge_value a[2] = { { .i32 = 0 }, { .i32 = 0 } };
    cr_expect_eq(trap_of(&t, "runaway", a), WEDGE_TRAP_STACK_EXHAUSTED);
    cr_expect_eq(trap_of(&t, "unr", a), WEDGE_TRAP_UNREACHABLE);
    cr_expect_eq(call_i32(&t, "fac", 3, 0), 6);   /* still usable after traps */
    unload(&t);
}

/* ---- memory, bulk memory -------------------------------------------------- */

static const char *mem_wat =
    "(module\n"
    "  (memory 1 3)\n"
    "  (data (i32.const 8) \"\\01\\02\\03\\04\\05\\06\\07\\08\")\n"
    "  (data $p \"wedge\")\n"
    "  (func (export \"ld\") (param i32 i32) (result i32) local.get 0 i32.load offset=4)\n"
    "  (func (export \"ld8s\") (param i32 i32) (result i32) local.get 0 i32.load8_s)\n"
    "  (func (export \"ld64\") (param i32 i32) (result i64) local.get 0 i64.load)\n"
    "  (func (export \"st\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.store16 offset=1\n"
    "    local.get 0 i32.load offset=1)\n"
    "  (func (export \"grow\") (param i32 i32) (result i32) local.get 0 memory.grow)\n"
    "  (func (export \"size\") (param i32 i32) (result i32) memory.size)\n"
    "  (func (export \"fill\") (param i32 i32) (result i32)\n"
    "    local.get 0 i32.const 0xAB local.get 1 memory.fill local.get 0 i32.load8_u)\n"
    "  (func (export \"copy\") (param i32 i32) (result i32)\n"
    "    local.get 0 i32.const 8 local.get 1 memory.copy local.get 0 i32.load)\n"
    "  (func (export \"init\") (param i32 i32) (result i32)\n"
    "    local.get 0 i32.const 1 local.get 1 memory.init $p local.get 0 i32.load8_u)\n"
    "  (func (export \"init0\") (param i32 i32) (result i32)\n"
    "    local.get 0 i32.const 0 local.get 1 memory.init $p i32.const 0)\n"
    "  (func (export \"ldvia\") (param i32 i32) (result i32)\n"
    "    local.get 1 if (result i64) local.get 0 i64.load8_s else i64.const 1 end drop i32.const 0)\n"
    "  (func (export \"ldlocal\") (param i32 i32) (result i32) (local i32)\n"
    "    local.get 0 i32.load local.set 2 i32.const 0)\n"
    "  (func (export \"ldf\") (param i32 i32) (result i32)\n"
    "    local.get 0 f64.load f64.const 1 f64.add drop i32.const 0)\n"
    "  (func (export \"drop\") (param i32 i32) (result i32) data.drop $p i32.const 0)\n"
    ")\n";

static void mem_checks(int bounds)
{
    tc_inst t = load("mem", mem_wat, bounds);
    cr_expect_eq(call_i32(&t, "ld", 4, 0), 0x04030201u);
    cr_expect_eq(call_i32(&t, "ld8s", 0, 0), 0);
    wedge_value a[2] = { { .i32 = 65532 }, { .i32 = 0 } };
    cr_expect_eq(trap_of(&t, "ld", a), WEDGE_TRAP_MEMORY_OOB);   /* 65532 + 4 + 4 > 65536 */
    a[0].i32 = 0xFFFFFFFFu;
    cr_expect_eq(trap_of(&t, "ld", a), WEDGE_TRAP_MEMORY_OOB);
    a[0].i32 = 65529;
    cr_expect_eq(trap_of(&t, "ld64", a), WEDGE_TRAP_MEMORY_OOB);
    a[0].i32 = 65528;
    cr_expect_eq(trap_of(&t, "ld64", a), WEDGE_TRAP_NONE);
    /* A load whose value only reaches a drop through an if result must
     * still trap (cc would delete it as dead in guard mode). */
    a[0].i32 = 0x10000016u;
    a[1].i32 = 1;
    cr_expect_eq(trap_of(&t, "ldvia", a), WEDGE_TRAP_MEMORY_OOB);
    cr_expect_eq(trap_of(&t, "ldlocal", a), WEDGE_TRAP_MEMORY_OOB);   /* into a never-read local */
    cr_expect_eq(trap_of(&t, "ldf", a), WEDGE_TRAP_MEMORY_OOB);       /* float, through arithmetic */
    cr_expect_eq(call_i32(&t, "st", 100, 0xBEEF), 0xBEEFu);
    cr_expect_eq(call_i32(&t, "size", 0, 0), 1);
    cr_expect_eq(call_i32(&t, "grow", 1, 0), 1);
    cr_expect_eq(call_i32(&t, "size", 0, 0), 2);
    cr_expect_eq(call_i32(&t, "grow", 5, 0), 0xFFFFFFFFu);
    a[0].i32 = 65536 + 100;   /* valid after the grow */
    cr_expect_eq(trap_of(&t, "ld", a), WEDGE_TRAP_NONE);
    cr_expect_eq(call_i32(&t, "fill", 200, 4), 0xAB);
    cr_expect_eq(call_i32(&t, "copy", 300, 4), 0x04030201u);
    cr_expect_eq(call_i32(&t, "init", 400, 4), 'e');
    a[0].i32 = 131072 - 3;
    a[1].i32 = 4;
    cr_expect_eq(trap_of(&t, "fill", a), WEDGE_TRAP_MEMORY_OOB);
    a[0].i32 = 0;
    a[1].i32 = 5;   /* 1 + 5 > len("wedge") */
    cr_expect_eq(trap_of(&t, "init", a), WEDGE_TRAP_MEMORY_OOB);
    cr_expect_eq(call_i32(&t, "drop", 0, 0), 0);
    a[1].i32 = 0;
    cr_expect_eq(trap_of(&t, "init0", a), WEDGE_TRAP_NONE);   /* n = 0 on a dropped segment */
    a[1].i32 = 1;
    cr_expect_eq(trap_of(&t, "init0", a), WEDGE_TRAP_MEMORY_OOB);
    unload(&t);
}

Test(compile, memory_guard) { mem_checks(WEDGE_BOUNDS_GUARD); }
Test(compile, memory_software) { mem_checks(WEDGE_BOUNDS_SOFTWARE); }

/* ---- tables and references --------------------------------------------------- */

static const char *tab_wat =
    "(module\n"
    "  (type $ii (func (param i32) (result i32)))\n"
    "  (type $v (func))\n"
    "  (table $t 4 10 funcref)\n"
    "  (table $e 2 externref)\n"
    "  (func $inc (type $ii) local.get 0 i32.const 1 i32.add)\n"
    "  (func $dbl (type $ii) local.get 0 i32.const 2 i32.mul)\n"
    "  (func $nop (type $v))\n"
    "  (elem (table $t) (i32.const 0) func $inc $dbl $nop)\n"
    "  (elem $pass func $dbl $inc)\n"
    "  (func (export \"ci\") (param i32 i32) (result i32) local.get 1 local.get 0 call_indirect $t (type $ii))\n"
    "  (func (export \"tsize\") (param i32 i32) (result i32) table.size $t)\n"
    "  (func (export \"tgrow\") (param i32 i32) (result i32) ref.null func local.get 0 table.grow $t)\n"
    "  (func (export \"tinit\") (param i32 i32) (result i32)\n"
    "    local.get 0 i32.const 0 i32.const 2 table.init $t $pass i32.const 0)\n"
    "  (func (export \"tcopy\") (param i32 i32) (result i32)\n"
    "    local.get 0 local.get 1 i32.const 1 table.copy $t $t i32.const 0)\n"
    "  (func (export \"isnull\") (param i32 i32) (result i32) local.get 0 table.get $t ref.is_null)\n"
    "  (func (export \"tset\") (param i32 i32) (result i32) local.get 0 ref.func $dbl table.set $t i32.const 0)\n"
    "  (func (export \"tfill\") (param i32 i32) (result i32)\n"
    "    local.get 0 ref.null func local.get 1 table.fill $t i32.const 0)\n"
    "  (func (export \"eget\") (param i32 i32) (result i32) local.get 0 table.get $e ref.is_null)\n"
    ")\n";

Test(compile, tables_and_call_indirect)
{
    tc_inst t = load("tab", tab_wat, WEDGE_BOUNDS_GUARD);
    cr_expect_eq(call_i32(&t, "ci", 0, 41), 42);
    cr_expect_eq(call_i32(&t, "ci", 1, 21), 42);
    wedge_value a[2] = { { .i32 = 2 }, { .i32 = 0 } };
    cr_expect_eq(trap_of(&t, "ci", a), WEDGE_TRAP_INDIRECT_TYPE);
    a[0].i32 = 3;
    cr_expect_eq(trap_of(&t, "ci", a), WEDGE_TRAP_UNINITIALIZED_ELEM);
    a[0].i32 = 4;
    cr_expect_eq(trap_of(&t, "ci", a), WEDGE_TRAP_TABLE_OOB);
    cr_expect_eq(call_i32(&t, "tsize", 0, 0), 4);
    cr_expect_eq(call_i32(&t, "tgrow", 2, 0), 4);
    cr_expect_eq(call_i32(&t, "tsize", 0, 0), 6);
    cr_expect_eq(call_i32(&t, "tgrow", 100, 0), 0xFFFFFFFFu);
    cr_expect_eq(call_i32(&t, "isnull", 5, 0), 1);
    cr_expect_eq(call_i32(&t, "tinit", 4, 0), 0);
    cr_expect_eq(call_i32(&t, "ci", 4, 5), 10);   /* $dbl */
    cr_expect_eq(call_i32(&t, "ci", 5, 5), 6);    /* $inc */
    a[0].i32 = 5;
    cr_expect_eq(trap_of(&t, "tinit", a), WEDGE_TRAP_TABLE_ACCESS_OOB);
    cr_expect_eq(call_i32(&t, "tcopy", 3, 0), 0);
    cr_expect_eq(call_i32(&t, "ci", 3, 5), 6);
    cr_expect_eq(call_i32(&t, "tset", 0, 0), 0);
    cr_expect_eq(call_i32(&t, "ci", 0, 5), 10);
    a[0].i32 = 6;
    cr_expect_eq(trap_of(&t, "isnull", a), WEDGE_TRAP_TABLE_ACCESS_OOB);
    cr_expect_eq(trap_of(&t, "tset", a), WEDGE_TRAP_TABLE_ACCESS_OOB);
    cr_expect_eq(call_i32(&t, "tfill", 1, 2), 0);
    cr_expect_eq(call_i32(&t, "isnull", 2, 0), 1);
    a[0].i32 = 5;
    a[1].i32 = 2;
    cr_expect_eq(trap_of(&t, "tfill", a), WEDGE_TRAP_TABLE_ACCESS_OOB);
    cr_expect_eq(call_i32(&t, "eget", 1, 0), 1);
    unload(&t);
}

/* ---- globals ------------------------------------------------------------------ */

static const char *glob_wat =
    "(module\n"
    "  (global $a (mut i32) (i32.const 40))\n"
    "  (global $b i64 (i64.const -1))\n"
    "  (global $c (mut f64) (f64.const 0.5))\n"
    "  (func (export \"bump\") (param i32 i32) (result i32)\n"
    "    global.get $a local.get 0 i32.add global.set $a global.get $a)\n"
    "  (func (export \"b\") (param i64 i64) (result i64) global.get $b)\n"
    "  (func (export \"c\") (param f64) (result f64) global.get $c local.get 0 f64.add global.set $c global.get $c)\n"
    ")\n";

Test(compile, globals)
{
    tc_inst t = load("glob", glob_wat, WEDGE_BOUNDS_GUARD);
    cr_expect_eq(call_i32(&t, "bump", 2, 0), 42);
    cr_expect_eq(call_i32(&t, "bump", 2, 0), 44);
    cr_expect_eq(call_i64(&t, "b", 0, 0), UINT64_MAX);
    cr_expect_eq(fcall(&t, "c", D(1.0), Z).f64, 1.5);
    cr_expect_eq(fcall(&t, "c", D(1.0), Z).f64, 2.5);
    unload(&t);
}

/* ---- generated C is warning-free ---------------------------------------------- */

/* .wat -> generated C in nparts files named by pv. */
static void emit_c_files(const char *name, const char *text, int bounds, int nparts, const char **pv)
{
    size_t len;
    uint8_t *w = wat(name, text, &len);
    wasm_err werr;
    wasm_module *m = wasm_decode(w, len, &werr);
    cr_assert_not_null(m, "%s", werr.msg);
    cr_assert(wasm_validate(m, &werr), "%s", werr.msg);
    cg_options o;
    cg_options_default(&o);
    o.bounds = bounds;
    cg_err err;
    cr_assert(cg_emit_c(m, &o, nparts, pv, &err), "%s", err.msg);
    wasm_module_free(m);
    free(w);
}

static void check_warnings(const char *name, const char *text, int bounds, int nparts)
{
    char paths[4][400];
    const char *pv[4];
    for (int i = 0; i < nparts; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s-w%d-%d.c", cf_dir, name, bounds, i);
        pv[i] = paths[i];
    }
    emit_c_files(name, text, bounds, nparts, pv);
    cg_err err;
    char sup[4096];
    cr_assert(cg_support_dir(sup, sizeof sup, &err), "%s", err.msg);
    for (int i = 0; i < nparts; i++) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd,
                 "cc -O2 -Wall -Wextra -Wno-unused-parameter -Werror -ffp-contract=off -fno-strict-aliasing "
                 "-fsyntax-only -I%s %s",
                 sup, paths[i]);
        cr_expect(system(cmd) == 0, "warnings in generated C for %s part %d", name, i);
    }
}

Test(compile, generated_c_has_no_warnings)
{
    check_warnings("ctl", ctl_wat, WEDGE_BOUNDS_GUARD, 1);
    check_warnings("mem", mem_wat, WEDGE_BOUNDS_SOFTWARE, 1);
    check_warnings("mem", mem_wat, WEDGE_BOUNDS_GUARD, 1);
    check_warnings("tab", tab_wat, WEDGE_BOUNDS_GUARD, 2);
    check_warnings("float", float_wat, WEDGE_BOUNDS_NONE, 3);
    check_warnings("desc", desc_wat, WEDGE_BOUNDS_GUARD, 1);
}

/* call_indirect of a short type compares with a constant id, of a long
 * type (over 8 value types) with the id the runtime writes at load: both
 * must find their callee and trap on the other kind. */
static const char *longsig_wat =
    "(module\n"
    "  (type $ii (func (param i32) (result i32)))\n"
    "  (type $l (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))\n"
    "  (table 2 funcref)\n"
    "  (func $sum9 (type $l) local.get 0 local.get 8 i32.add)\n"
    "  (func $inc (type $ii) local.get 0 i32.const 1 i32.add)\n"
    "  (elem (i32.const 0) func $sum9 $inc)\n"
    "  (func (export \"cl\") (param i32 i32) (result i32)\n"
    "    i32.const 1 i32.const 2 i32.const 3 i32.const 4 i32.const 5 i32.const 6 i32.const 7 i32.const 8\n"
    "    local.get 1 local.get 0 call_indirect (type $l))\n"
    "  (func (export \"cs\") (param i32 i32) (result i32) local.get 1 local.get 0 call_indirect (type $ii))\n"
    ")\n";

Test(compile, call_indirect_type_ids_short_constant_long_loaded)
{
    tc_inst t = load("longsig", longsig_wat, WEDGE_BOUNDS_GUARD);
    cr_expect_eq(call_i32(&t, "cl", 0, 40), 41);
    cr_expect_eq(call_i32(&t, "cs", 1, 41), 42);
    wedge_value a[2] = { { .i32 = 1 }, { .i32 = 0 } };
    cr_expect_eq(trap_of(&t, "cl", a), WEDGE_TRAP_INDIRECT_TYPE);
    a[0].i32 = 0;
    cr_expect_eq(trap_of(&t, "cs", a), WEDGE_TRAP_INDIRECT_TYPE);
    unload(&t);

    char path[400];
    snprintf(path, sizeof path, "%s/longsig.c", cf_dir);
    const char *pv[1] = { path };
    emit_c_files("longsig", longsig_wat, WEDGE_BOUNDS_GUARD, 1, pv);
    size_t clen;
    char *c = (char *)cf_read_all(path, &clen);
    char want[80];
    snprintf(want, sizeof want, ", 0x%xu);", wedge_type_id_fixed("i:i"));
    cr_expect_not_null(strstr(c, want), "no constant type id %s in the generated C", want);
    cr_expect_not_null(strstr(c, ", wg_type_ids[1]);"), "the long type's id is not loaded");
    free(c);
}

/* Signalling-NaN constants are emitted opaque (wop_f32_opaque /
 * wop_f64_opaque), ordinary ones as plain bit casts, and keep Wasm's
 * semantics: returned as they are, quieted by an arithmetic operation. */
static const char *snan_wat =
    "(module\n"
    "  (func (export \"raw\") (result i32) f32.const nan:0x200000 i32.reinterpret_f32)\n"
    "  (func (export \"raw64\") (result i64) f64.const nan:0x4000000000000 i64.reinterpret_f64)\n"
    "  (func (export \"promote\") (result i64) f32.const nan:0x200000 f64.promote_f32 i64.reinterpret_f64)\n"
    "  (func (export \"mul1\") (result i32) f32.const nan:0x200000 f32.const 1 f32.mul i32.reinterpret_f32)\n"
    "  (func (export \"one\") (result f32) f32.const 1.5)\n"
    ")\n";

Test(compile, snan_constants_are_opaque_and_exact)
{
    tc_inst t = load("snan", snan_wat, WEDGE_BOUNDS_GUARD);
    cr_expect_eq(call_i32(&t, "raw", 0, 0), 0x7FA00000u);
    cr_expect_eq(call_i64(&t, "raw64", 0, 0), 0x7FF4000000000000ull);
    uint64_t p = call_i64(&t, "promote", 0, 0);
    cr_expect((p & 0x7FF8000000000000ull) == 0x7FF8000000000000ull, "promote of sNaN not a quiet NaN: %llx",
              (unsigned long long)p);
    uint32_t m = call_i32(&t, "mul1", 0, 0);
    cr_expect((m & 0x7FC00000u) == 0x7FC00000u, "sNaN * 1 not a quiet NaN: %x", m);
    unload(&t);

    char path[400];
    snprintf(path, sizeof path, "%s/snan.c", cf_dir);
    const char *pv[1] = { path };
    emit_c_files("snan", snan_wat, WEDGE_BOUNDS_GUARD, 1, pv);
    size_t clen;
    char *c = (char *)cf_read_all(path, &clen);
    cr_expect_not_null(strstr(c, "wop_f32_opaque(0x7fa00000u)"), "f32 sNaN constant not opaque");
    cr_expect_not_null(strstr(c, "wop_f64_opaque(0x7ff4000000000000ull)"), "f64 sNaN constant not opaque");
    cr_expect_not_null(strstr(c, "wop_f32_bits(0x3fc00000u)"), "ordinary constant not a plain bit cast");
    cr_expect_null(strstr(c, "wop_f32_opaque(0x3f"), "ordinary constant made opaque");
    cr_expect_not_null(strstr(c, "wop_f32_k(0x3f800000u)"), "1.0 not emitted as wop_f32_k");
    free(c);
}

/* i8x16.shuffle moving whole aligned 2/4/8-byte groups is emitted as a
 * shuffle of 16/32/64-bit lanes (cc lowers a byte shuffle badly with SSE2
 * only); each shape gives the bytes Wasm specifies. */
static const char *shuf_wat =
    "(module (memory 1) (data (i32.const 0) \"\\00\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10\\11\\12\\13\\14\\15\\16\\17\\18\\19\\1a\\1b\\1c\\1d\\1e\\1f\")\n"
    "  (func (export \"s32\") (param i32) (result i64) (local v128) (i32.const 0) v128.load (i32.const 16) v128.load\n"
    "    i8x16.shuffle 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27\n"
    "    local.tee 1 i64x2.extract_lane 0 local.get 1 i64x2.extract_lane 1 local.get 0 i32.eqz select)\n"
    "  (func (export \"s16\") (param i32) (result i64) (local v128) (i32.const 0) v128.load (i32.const 16) v128.load\n"
    "    i8x16.shuffle 2 3 0 1 30 31 28 29 4 5 6 7 16 17 18 19\n"
    "    local.tee 1 i64x2.extract_lane 0 local.get 1 i64x2.extract_lane 1 local.get 0 i32.eqz select)\n"
    "  (func (export \"s64\") (param i32) (result i64) (local v128) (i32.const 0) v128.load (i32.const 16) v128.load\n"
    "    i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23\n"
    "    local.tee 1 i64x2.extract_lane 0 local.get 1 i64x2.extract_lane 1 local.get 0 i32.eqz select)\n"
    "  (func (export \"s8\") (param i32) (result i64) (local v128) (i32.const 0) v128.load (i32.const 16) v128.load\n"
    "    i8x16.shuffle 1 0 3 2 5 4 7 6 9 8 11 10 13 12 15 31\n"
    "    local.tee 1 i64x2.extract_lane 0 local.get 1 i64x2.extract_lane 1 local.get 0 i32.eqz select)\n"
    ")\n";

Test(compile, shuffle_of_wide_lanes)
{
    tc_inst t = load("shuf", shuf_wat, WEDGE_BOUNDS_GUARD);
    cr_expect_eq(call_i64(&t, "s32", 0, 0), 0x131211100f0e0d0cull);
    cr_expect_eq(call_i64(&t, "s32", 1, 0), 0x1b1a191817161514ull);
    cr_expect_eq(call_i64(&t, "s16", 0, 0), 0x1d1c1f1e01000302ull);
    cr_expect_eq(call_i64(&t, "s16", 1, 0), 0x1312111007060504ull);
    cr_expect_eq(call_i64(&t, "s64", 0, 0), 0x0f0e0d0c0b0a0908ull);
    cr_expect_eq(call_i64(&t, "s64", 1, 0), 0x1716151413121110ull);
    cr_expect_eq(call_i64(&t, "s8", 0, 0), 0x0607040502030001ull);
    cr_expect_eq(call_i64(&t, "s8", 1, 0), 0x1f0f0c0d0a0b0809ull);
    unload(&t);

    char path[400];
    snprintf(path, sizeof path, "%s/shuf.c", cf_dir);
    const char *pv[1] = { path };
    emit_c_files("shuf", shuf_wat, WEDGE_BOUNDS_GUARD, 1, pv);
    size_t clen;
    char *c = (char *)cf_read_all(path, &clen);
    cr_expect_not_null(strstr(c, "WOP_SHUFFLE32(sv0, sv1, 3, 4, 5, 6)"), "4-byte groups not a 32-bit shuffle");
    cr_expect_not_null(strstr(c, "WOP_SHUFFLE16(sv0, sv1, 1, 0, 15, 14, 2, 3, 8, 9)"), "16-bit shuffle");
    cr_expect_not_null(strstr(c, "WOP_SHUFFLE64(sv0, sv1, 1, 2)"), "64-bit shuffle");
    cr_expect_not_null(strstr(c, "WOP_SHUFFLE8(sv0, sv1, 1, 0, 3, 2"), "byte shuffle");
    free(c);
}

/* ---- errors and the cache ------------------------------------------------------- */

Test(compile, rejects_invalid_module_with_message)
{
    static const uint8_t bad[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0x05 };
    cg_options o;
    cg_options_default(&o);
    o.quiet = true;
    cg_err err;
    char out[400];
    snprintf(out, sizeof out, "%s/bad.so", cf_dir);
    cr_expect(!cg_compile(bad, sizeof bad, "bad.wasm", out, &o, &err));
    cr_expect(strstr(err.msg, "bad.wasm") != NULL, "message: %s", err.msg);
    cr_expect(access(out, F_OK) != 0);
}

/* Regression (hostile-module suite, huge_function_body): a function of a
 * few MB kept cc busy for minutes and GBs (3 MB of adds: 28 s, 800 MB at
 * -O2) while `wedge serve` waited at start-up.  Past 1 MiB a body is now
 * refused at once, before any C is written, with the function named. */
Test(compile, refuses_a_function_body_over_the_limit_at_once)
{
    size_t body = (1u << 20) + 16, len = 0;
    uint8_t *w = malloc(body + 64);
    cr_assert_not_null(w);
    static const uint8_t head[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                                    0x03, 0x02, 0x01, 0x00 };
    memcpy(w, head, sizeof head);
    len = sizeof head;
    size_t fsize = 1 + body;                 /* 0 local groups, then the code */
    size_t ssize = 1 + 3 + fsize;            /* one function; its size as a 3-byte LEB */
    w[len++] = 0x0A;
    w[len++] = (uint8_t)(0x80 | (ssize & 0x7F));
    w[len++] = (uint8_t)(0x80 | ((ssize >> 7) & 0x7F));
    w[len++] = (uint8_t)((ssize >> 14) & 0x7F);
    w[len++] = 0x01;
    w[len++] = (uint8_t)(0x80 | (fsize & 0x7F));
    w[len++] = (uint8_t)(0x80 | ((fsize >> 7) & 0x7F));
    w[len++] = (uint8_t)((fsize >> 14) & 0x7F);
    w[len++] = 0x00;
    memset(w + len, 0x01, body - 1);         /* nop ... end */
    len += body - 1;
    w[len++] = 0x0B;
    cg_options o;
    cg_options_default(&o);
    o.quiet = true;
    cg_err err;
    char out[400];
    snprintf(out, sizeof out, "%s/huge.so", cf_dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool ok = cg_compile(w, len, "huge.wasm", out, &o, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(w);
    cr_expect(!ok);
    cr_expect(strstr(err.msg, "huge.wasm: offset 0x1b: function 0 has a body of 1048592 bytes, over the "
                                "compiler's limit of 1048576") != NULL, "message: %s", err.msg);
    cr_expect(t1.tv_sec - t0.tv_sec < 5, "refusal took %ld s", (long)(t1.tv_sec - t0.tv_sec));
    cr_expect(access(out, F_OK) != 0);
}

Test(compile, cc_failure_is_reported)
{
    size_t len;
    uint8_t *w = wat("ccfail", "(module (func (export \"f\")))", &len);
    setenv("WEDGE_CC", "false", 1);
    cg_options o;
    cg_options_default(&o);
    o.quiet = true;
    cg_err err;
    char out[400];
    snprintf(out, sizeof out, "%s/ccfail.so", cf_dir);
    bool ok = cg_compile(w, len, "ccfail.wasm", out, &o, &err);
    unsetenv("WEDGE_CC");
    free(w);
    cr_expect(!ok);
    cr_expect(strstr(err.msg, "C compiler failed") != NULL, "message: %s", err.msg);
}

Test(compile, cc_not_found_is_reported)
{
    size_t len;
    uint8_t *w = wat("ccmissing", "(module (func (export \"f\")))", &len);
    setenv("WEDGE_CC", "wedge-no-such-compiler", 1);
    cg_options o;
    cg_options_default(&o);
    o.quiet = true;
    cg_err err;
    char out[400];
    snprintf(out, sizeof out, "%s/ccmissing.so", cf_dir);
    bool ok = cg_compile(w, len, "ccmissing.wasm", out, &o, &err);
    unsetenv("WEDGE_CC");
    free(w);
    cr_expect(!ok);
    cr_expect(strstr(err.msg, "cannot run C compiler 'wedge-no-such-compiler'") != NULL, "message: %s", err.msg);
}

Test(compile, cc_limits_from_environment)
{
    cg_cc_limits l;
    unsetenv("WEDGE_CC_CPU_SECONDS");
    unsetenv("WEDGE_CC_MEMORY_MB");
    cg_cc_limits_get(&l);
    cr_expect_eq(l.cpu_seconds, CG_CC_CPU_SECONDS);
    cr_expect_eq(l.memory_mb, CG_CC_MEMORY_MB);
    setenv("WEDGE_CC_CPU_SECONDS", "7", 1);
    setenv("WEDGE_CC_MEMORY_MB", "x12", 1);   /* not a number: the default stays */
    cg_cc_limits_get(&l);
    unsetenv("WEDGE_CC_CPU_SECONDS");
    unsetenv("WEDGE_CC_MEMORY_MB");
    cr_expect_eq(l.cpu_seconds, 7u);
    cr_expect_eq(l.memory_mb, CG_CC_MEMORY_MB);
}

Test(compile, cache_hit_reuses_object)
{
    size_t len;
    uint8_t *w = wat("cache", "(module (func (export \"f\") (result i32) i32.const 7))", &len);
    cg_options o;
    cg_options_default(&o);
    o.quiet = true;
    cg_err err;
    char p1[4096], p2[4096], p3[4096];
    cr_assert(cg_compile_cached(w, len, "cache.wasm", &o, p1, sizeof p1, &err), "%s", err.msg);
    struct stat st1, st2;
    cr_assert(stat(p1, &st1) == 0);
    cr_assert(cg_compile_cached(w, len, "cache.wasm", &o, p2, sizeof p2, &err), "%s", err.msg);
    cr_expect_str_eq(p1, p2);
    cr_assert(stat(p2, &st2) == 0);
    cr_expect_eq(st1.st_ino, st2.st_ino, "second call recompiled");
    o.bounds = WEDGE_BOUNDS_SOFTWARE;
    cr_assert(cg_compile_cached(w, len, "cache.wasm", &o, p3, sizeof p3, &err), "%s", err.msg);
    cr_expect_str_neq(p1, p3, "options must be part of the key");
    free(w);
}

/* ---- SLEdge ABI entry points (libsledge, from the descriptor) ------------------ */

static const char *sledge_wat =
    "(module\n"
    "  (memory 1 5)\n"
    "  (global $g (mut i32) (i32.const 7))\n"
    "  (data (i32.const 4) \"abc\")\n"
    "  (func (export \"clobber\") (param i32 i32) (result i32)\n"
    "    i32.const 99 global.set $g i32.const 4 i32.const 0 i32.store8 i32.const 0)\n"
    "  (func (export \"g\") (param i32 i32) (result i32) global.get $g)\n"
    "  (func (export \"b\") (param i32 i32) (result i32) i32.const 4 i32.load8_u)\n"
    "  (func (export \"_start\") i32.const 1 global.set $g))\n";

Test(compile, sledge_abi_entry_points)
{
    tc_inst t = load("sledge", sledge_wat, WEDGE_BOUNDS_GUARD);
    cr_expect_eq(call_i32(&t, "clobber", 0, 0), 0);
    cr_expect_eq(call_i32(&t, "g", 0, 0), 99);
    cr_expect_eq(call_i32(&t, "b", 0, 0), 0);
    char so[512];
    snprintf(so, sizeof so, "%s/sledge-%d.so", cf_dir, WEDGE_BOUNDS_GUARD);
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);   /* same handle as the runtime's */
    cr_assert_not_null(h, "%s", dlerror());
    void (*init_globals)(void) = (void (*)(void))dlsym(h, "sledge_abi__init_globals");
    void (*init_mem)(void) = (void (*)(void))dlsym(h, "sledge_abi__init_mem");
    void (*init_tbl)(void) = (void (*)(void))dlsym(h, "sledge_abi__init_tbl");
    int32_t (*entry)(void) = (int32_t(*)(void))dlsym(h, "sledge_abi__entrypoint");
    cr_assert(init_globals && init_mem && init_tbl && entry);
    sledge_abi__current_wasm_module_instance = t.inst;
    init_globals();
    cr_expect_eq(call_i32(&t, "g", 0, 0), 7);
    init_mem();
    cr_expect_eq(call_i32(&t, "b", 0, 0), 'a');
    init_tbl();   /* no element segments: nothing to do, must not crash */
    sledge_abi__current_wasm_module_instance = t.inst;
    cr_expect_eq(entry(), 0);
    cr_expect_eq(call_i32(&t, "g", 0, 0), 1);
    sledge_abi__current_wasm_module_instance = NULL;
    dlclose(h);
    unload(&t);
}

/* More nested value blocks than the emitter's initial frame stack holds
 * (it grows by realloc; regression: frames pointed into the old array, a
 * use-after-free an ASan build catches). */
Test(compile, deep_block_nesting)
{
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text, "(module (func (export \"deep\") (param i32 i32) (result i32)\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "block (result i32)\n");
    n += (size_t)snprintf(text + n, sizeof text - n, "local.get 0\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "i32.const 1 i32.add end\n");
    snprintf(text + n, sizeof text - n, "))\n");
    tc_inst t = load("deep", text, WEDGE_BOUNDS_GUARD);
    cr_expect_eq(call_i32(&t, "deep", 2, 0), 42);
    unload(&t);
}

/* ---- guard-mode load barriers (cg_keep.c) ---------------------------------------- */

/* One function per case; the comment gives how many loads must keep
 * their WOP_KEEP barrier.  A barrier may go only when the loaded value
 * provably reaches the address of a kept access in the same straight-line
 * stretch (see cg_keep.c). */
static const char keep_wat[] =
    "(module (memory 1) (type $t (func (result i32))) (table 1 funcref)\n"
    /* f0 1: the inner load is the outer one's address */
    "  (func (param i32) (result i32) (i32.load (i32.load (local.get 0))))\n"
    /* f1 1: a table lookup, (byte ^ y) & 255 << 2 + 1024, y older than the stretch */
    "  (func (param i32 i32) (result i32)\n"
    "    (i32.load offset=1024 (i32.shl (i32.and (i32.xor (i32.load8_u (local.get 0)) (local.get 1))\n"
    "      (i32.const 255)) (i32.const 2))))\n"
    /* f2 2: & 0 forgets the load */
    "  (func (param i32) (result i32) (i32.load (i32.and (i32.load (local.get 0)) (i32.const 0))))\n"
    /* f3 2: a byte shifted right by 8 is always 0 */
    "  (func (param i32) (result i32) (i32.load (i32.shr_u (i32.load8_u (local.get 0)) (i32.const 8))))\n"
    /* f4 3: x - x' where cc may merge the two loads of the same address */
    "  (func (param i32) (result i32) (i32.load (i32.sub (i32.load (local.get 0)) (i32.load (local.get 0)))))\n"
    /* f5 2: a store between the load and its use as an address */
    "  (func (param i32) (result i32) (local.set 0 (i32.load (local.get 0)))\n"
    "    (i32.store (i32.const 0) (i32.const 1)) (i32.load (local.get 0)))\n"
    /* f6 2: a branch between them */
    "  (func (param i32) (result i32) (local.set 0 (i32.load (local.get 0)))\n"
    "    (block (br_if 0 (local.get 0))) (i32.load (local.get 0)))\n"
    /* f7 1: a value stored is not a use that keeps the load */
    "  (func (param i32) (i32.store (i32.const 8) (i32.load (local.get 0))))\n"
    /* f8 0: the load is a store's address (the store keeps it); a load
     * dropped at once is a wop_touch, not a barrier */
    "  (func (param i32) (i32.store (i32.load (local.get 0)) (i32.const 8)) (drop (i32.load (i32.const 4))))\n"
    /* f9 0: the load is a call_indirect index */
    "  (func (param i32) (result i32) (call_indirect (type $t) (i32.load (local.get 0))))\n"
    /* f10 2: a - b is an address, b's address is a third load c that a's
     * address does not involve, so cc cannot merge a and b: a needs no
     * barrier (nor c, b's address); b and the outer load keep theirs */
    "  (func (param i32 i32) (result i32)\n"
    "    (i32.load (i32.sub (i32.load (local.get 0)) (i32.load (i32.load (local.get 1))))))\n"
    ")\n";

static int keeps_in(const char *c, unsigned fn)
{
    char head[48];
    snprintf(head, sizeof head, " f%u(wedge_instance *inst", fn);   /* the definition */
    const char *p = strstr(c, head);
    cr_assert_not_null(p, "no function f%u in the generated C", fn);
    const char *end = strstr(p, "\n}\n");
    cr_assert_not_null(end);
    int n = 0;
    for (const char *q = p; (q = strstr(q, "WOP_KEEP")) && q < end; q++)
        n++;
    return n;
}

Test(compile, load_barriers_only_where_a_load_could_vanish)
{
    char path[400];
    snprintf(path, sizeof path, "%s/keep.c", cf_dir);
    const char *pv[1] = { path };
    emit_c_files("keep", keep_wat, WEDGE_BOUNDS_GUARD, 1, pv);
    size_t clen;
    char *c = (char *)cf_read_all(path, &clen);
    static const int want[] = { 1, 1, 2, 2, 3, 2, 2, 1, 0, 0, 2 };
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect_eq(keeps_in(c, i), want[i], "f%u: %d barriers, want %d", i, keeps_in(c, i), want[i]);
    free(c);
}

/* ---- loops with a fast copy (cg_loop.c) ------------------------------------------ */

/* Every loop here is a body ending in `br_if 0`.  Functions 0-2 have the
 * shape (a fast copy); 3-6 do not.  "three": each call runs one of three
 * calls to f0..f2 under its own arguments. */
static const char loop_wat[] =
    "(module (memory 1)\n"
    /* f0 y[k] = 3*x[k] + y[k], pointer induction variables, counter != n */
    "  (func (export \"axpy\") (param $x i32) (param $y i32) (param $n i32) (local $i i32)\n"
    "    (loop $l\n"
    "      (i32.store (local.get $y)\n"
    "        (i32.add (i32.mul (i32.load (local.get $x)) (i32.const 3)) (i32.load (local.get $y))))\n"
    "      (local.set $x (i32.add (local.get $x) (i32.const 4)))\n"
    "      (local.set $y (i32.add (local.get $y) (i32.const 4)))\n"
    "      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))\n"
    /* f1 the sum of the words at base + 4*i, i from i to end (exclusive), i32 wraps;
     * i is set twice per iteration (+3, -2) */
    "  (func (export \"sum\") (param $base i32) (param $i i32) (param $end i32) (result i32) (local $s i32)\n"
    "    (loop $l\n"
    "      (local.set $s (i32.add (local.get $s)\n"
    "        (i32.load offset=4 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 3)))\n"
    "      (br_if $l (i32.ne (local.tee $i (i32.sub (local.get $i) (i32.const 2))) (local.get $end))))\n"
    "    (local.get $s))\n"
    /* f2 a[n-1] = n-1, ..., a[0] = 0, counting down, br_if on the counter itself */
    "  (func (export \"fill_down\") (param $a i32) (param $n i32)\n"
    "    (loop $l\n"
    "      (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
    "      (i32.store (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))) (local.get $n))\n"
    "      (br_if $l (local.get $n))))\n"
    /* f3 no: an address loaded from memory */
    "  (func (param $p i32) (param $n i32)\n"
    "    (loop $l (i32.store (i32.load (local.get $p)) (i32.const 1))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))\n"
    /* f4 no: a call in the body */
    "  (func $g (param $p i32) (param $n i32)\n"
    "    (loop $l (i32.store (local.get $p) (i32.const 1)) (call $g (i32.const 0) (i32.const 0))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))\n"
    /* f5 no: the address local doubles, so it is no induction variable */
    "  (func (param $p i32) (param $n i32)\n"
    "    (loop $l (i32.store (local.get $p) (i32.const 1))\n"
    "      (local.set $p (i32.add (local.get $p) (i32.const 4)))\n"
    "      (local.set $p (i32.mul (local.get $p) (i32.const 2)))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))\n"
    /* f6 no: a branch out of the middle */
    "  (func (param $p i32) (param $n i32)\n"
    "    (block $b (loop $l (br_if $b (i32.load (local.get $p)))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))\n"
    "  (func (export \"get\") (param i32) (result i32) (i32.load (local.get 0)))\n"
    "  (func (export \"set\") (param i32 i32) (i32.store (local.get 0) (local.get 1)))\n"
    /* f9 the sum of the words at base + 4*i while i+1 < n (signed) */
    "  (func (export \"sum_lts\") (param $base i32) (param $i i32) (param $n i32) (result i32) (local $s i32)\n"
    "    (loop $l\n"
    "      (local.set $s (i32.add (local.get $s)\n"
    "        (i32.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))))\n"
    "      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))\n"
    "    (local.get $s))\n"
    /* f10 p -= 4, store p at p, while lo < p (unsigned; the moving side written second) */
    "  (func (export \"fill_gtu\") (param $p i32) (param $lo i32)\n"
    "    (loop $l\n"
    "      (local.set $p (i32.sub (local.get $p) (i32.const 4)))\n"
    "      (i32.store (local.get $p) (local.get $p))\n"
    "      (br_if $l (i32.lt_u (local.get $lo) (local.get $p)))))\n"
    /* f11 store i at p, p += 4, while (i += 2^20) < n (unsigned): i wraps past 2^32 when n > 2^32 - 2^20 */
    "  (func (export \"count_ltu\") (param $p i32) (param $i i32) (param $n i32) (result i32)\n"
    "    (loop $l\n"
    "      (i32.store (local.get $p) (local.get $i))\n"
    "      (local.set $p (i32.add (local.get $p) (i32.const 4)))\n"
    "      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 0x100000))) (local.get $n))))\n"
    "    (local.get $p))\n"
    ")\n";

/* The plan of the loop that function fi starts with. */
static bool loop_plan_of(const wasm_module *m, uint32_t fi, cg_loop_plan *plan)
{
    const wasm_func *fn = &m->funcs[fi];
    const uint8_t *p = fn->code;
    while (*p != 0x03)          /* f6 starts with a block */
        p += 2;
    p += 2;                     /* loop, empty block type */
    return cg_loop_plan_make(m, &m->types[fn->type], fn, fn->code - fn->code_offset, p,
                             (uint32_t)(fn->code + fn->code_len - p), plan);
}

Test(compile, loop_plans_follow_affine_addresses)
{
    size_t len;
    uint8_t *w = wat("loopplan", loop_wat, &len);
    wasm_err werr;
    wasm_module *m = wasm_decode(w, len, &werr);
    cr_assert_not_null(m, "%s", werr.msg);
    cg_loop_plan plan;
    cr_assert(loop_plan_of(m, 0, &plan));
    cr_expect_eq(plan.nacc, 3);
    /* load x, load y, store y: each local 0 or 1 at entry, 4 bytes further per iteration */
    static const uint32_t want_loc[3] = { 0, 1, 1 };
    for (uint32_t j = 0; j < 3; j++) {
        cr_expect(plan.acc[j].n == 1 && plan.acc[j].loc[0] == want_loc[j] && plan.acc[j].coef[0] == 1 &&
                  plan.acc[j].c == 0 && plan.acc[j].ks == 4 && plan.end_off[j] == 4, "access %u", j);
    }
    /* y's load and store share one range check */
    cr_expect(plan.ngroups == 2 && plan.group[0] == 0 && plan.group[1] == 1 && plan.group[2] == 1 &&
              plan.span[1] == 4);
    /* goes on while (i + 1 + k) - n != 0 */
    cr_expect(plan.exit_d.ks == 1 && plan.exit_d.c == 1 && plan.exit_d.n == 2);
    cr_assert(loop_plan_of(m, 1, &plan));
    cr_expect(plan.nacc == 1 && plan.acc[0].n == 2 && plan.acc[0].ks == 4 && plan.end_off[0] == 8);
    cr_assert(loop_plan_of(m, 2, &plan));
    /* a + 4*(n - 1 - k): decreasing; goes on while n - 1 - k != 0 */
    cr_expect(plan.nacc == 1 && plan.acc[0].ks == -4 && plan.acc[0].c == -4 && plan.exit_d.ks == -1);
    for (uint32_t fi = 3; fi <= 6; fi++)
        cr_expect(!loop_plan_of(m, fi, &plan), "f%u has no fast copy", fi);
    cr_assert(loop_plan_of(m, 9, &plan));
    cr_expect(plan.exit_kind == CG_EXIT_LT_S && plan.exit_d.ks == 1 && plan.exit_y.ks == 0);
    cr_assert(loop_plan_of(m, 10, &plan));
    cr_expect(plan.exit_kind == CG_EXIT_GT_U && plan.exit_d.ks == -4 && plan.exit_d.c == -4);
    wasm_module_free(m);
    free(w);

    /* The emitted C has the copies, and a fast copy has no barrier. */
    char path[400];
    snprintf(path, sizeof path, "%s/loop.c", cf_dir);
    const char *pv[1] = { path };
    emit_c_files("loop", loop_wat, WEDGE_BOUNDS_GUARD, 1, pv);
    size_t clen;
    char *c = (char *)cf_read_all(path, &clen);
    int copies = 0;
    for (const char *q = c; (q = strstr(q, "loop with a fast copy")); q++)
        copies++;
    cr_expect_eq(copies, 6);
    cr_expect_eq(keeps_in(c, 0), 2, "axpy: only the original's two loads keep their barrier");
    free(c);
    check_warnings("loopw", loop_wat, WEDGE_BOUNDS_GUARD, 1);
    check_warnings("loopw", loop_wat, WEDGE_BOUNDS_SOFTWARE, 1);
}

static void loop_call(tc_inst *t, const char *fn, uint32_t a, uint32_t b, uint32_t c, wedge_trap_kind want,
                      uint32_t *result)
{
    wedge_value args[3] = { { .i32 = a }, { .i32 = b }, { .i32 = c } }, r[4];
    rt_result res;
    rt_status st = call(t, fn, args, r, &res);
    if (want == WEDGE_TRAP_NONE) {
        cr_assert(st == RT_OK, "%s(%u, %u, %u): %s", fn, a, b, c, res.msg);
        if (result)
            *result = r[0].i32;
    } else {
        cr_assert(st == RT_ERR_TRAP && res.trap == want, "%s(%u, %u, %u): status %d trap %d, want trap %d", fn,
                  a, b, c, (int)st, (int)res.trap, (int)want);
    }
}

static void loop_checks(int bounds)
{
    tc_inst t = load("loop", loop_wat, bounds);
    for (uint32_t k = 0; k < 16; k++) {
        call_i32(&t, "set", 4 * k, k + 1);             /* x: 1..16 at 0 */
        call_i32(&t, "set", 256 + 4 * k, 100 * k);     /* y at 256 */
    }
    /* In bounds: the fast copy, same results. */
    loop_call(&t, "axpy", 0, 256, 16, WEDGE_TRAP_NONE, NULL);
    for (uint32_t k = 0; k < 16; k++)
        cr_expect_eq(call_i32(&t, "get", 256 + 4 * k, 0), 100 * k + 3 * (k + 1), "y[%u]", k);
    uint32_t s = 0;
    loop_call(&t, "sum", 0, 0, 16, WEDGE_TRAP_NONE, &s);
    cr_expect_eq(s, 16 * 17 / 2 - 1, "words 1..16: x[1..15] = 2..16, then a 0");

    /* x runs off the end of memory in iteration 5: y[0..4] are stored,
     * then the load traps, and y[5..7] keep their values. */
    for (uint32_t k = 0; k < 8; k++)
        call_i32(&t, "set", 512 + 4 * k, 7);
    call_i32(&t, "set", 65536 - 20, 0);
    loop_call(&t, "axpy", 65536 - 20, 512, 8, WEDGE_TRAP_MEMORY_OOB, NULL);
    for (uint32_t k = 0; k < 8; k++)
        cr_expect_eq(call_i32(&t, "get", 512 + 4 * k, 0), k < 5 ? 7 + 3 * call_i32(&t, "get", 65536 - 20 + 4 * k, 0) : 7,
                     "y[%u] after the trap", k);

    /* The address wraps around 2^32 into memory (base + 4*i = 2^32 - 16 +
     * 16...): valid Wasm, reads words 1..8; a 64-bit address would fault. */
    loop_call(&t, "sum", 0xFFFFFFF0u, 4, 12, WEDGE_TRAP_NONE, &s);
    uint32_t want = 0;
    for (uint32_t k = 1; k <= 8; k++)
        want += call_i32(&t, "get", 4 * k, 0);
    cr_expect_eq(s, want, "wrapped sum %u, want %u", s, want);
    /* end == i: the counter runs through 2^32 and the loads leave memory. */
    loop_call(&t, "sum", 0, 5, 5, WEDGE_TRAP_MEMORY_OOB, NULL);

    /* Counting down: in bounds, then n = 0, which wraps to 2^32 - 1, whose
     * address a + 4*n wraps below a: 1020, 1016 ... 0 are stored, then
     * 2^32 - 4 traps. */
    loop_call(&t, "fill_down", 2048, 10, 0, WEDGE_TRAP_NONE, NULL);
    for (uint32_t k = 0; k < 10; k++)
        cr_expect_eq(call_i32(&t, "get", 2048 + 4 * k, 0), k);
    loop_call(&t, "fill_down", 1024, 0, 0, WEDGE_TRAP_MEMORY_OOB, NULL);
    cr_expect_eq(call_i32(&t, "get", 1020, 0), 0xFFFFFFFFu);
    cr_expect_eq(call_i32(&t, "get", 0, 0), 0xFFFFFFFFu - 255);

    /* i < n, signed: i from -2 reads base - 8 .. base + 16 (wrapping
     * addresses, so the original runs); from 0, the fast copy. */
    want = 0;
    for (uint32_t a = 56; a <= 80; a += 4)
        want += call_i32(&t, "get", a, 0);
    loop_call(&t, "sum_lts", 64, 0xFFFFFFFEu, 5, WEDGE_TRAP_NONE, &s);
    cr_expect_eq(s, want, "sum_lts from -2: %u, want %u", s, want);
    want -= call_i32(&t, "get", 56, 0) + call_i32(&t, "get", 60, 0);
    loop_call(&t, "sum_lts", 64, 0, 5, WEDGE_TRAP_NONE, &s);
    cr_expect_eq(s, want, "sum_lts from 0: %u, want %u", s, want);
    /* i + 1 >= n at once: one iteration */
    loop_call(&t, "sum_lts", 64, 7, 3, WEDGE_TRAP_NONE, &s);
    cr_expect_eq(s, call_i32(&t, "get", 64 + 28, 0));
    /* the last iteration's load leaves memory: trap after the others */
    loop_call(&t, "sum_lts", 65536 - 12, 0, 4, WEDGE_TRAP_MEMORY_OOB, NULL);
    /* lo < p, p falling by 4: stores at 1036 .. 1024 */
    loop_call(&t, "fill_gtu", 1040, 1024, 0, WEDGE_TRAP_NONE, NULL);
    for (uint32_t a = 1024; a <= 1036; a += 4)
        cr_expect_eq(call_i32(&t, "get", a, 0), a);
    /* lo >= p after the first step: one store, at 12 */
    call_i32(&t, "set", 8, 77);
    loop_call(&t, "fill_gtu", 16, 1020, 0, WEDGE_TRAP_NONE, NULL);
    cr_expect_eq(call_i32(&t, "get", 12, 0), 12);
    cr_expect_eq(call_i32(&t, "get", 8, 0), 77);
    /* i < n counting by 2^20: to n = 2^32 - 2^21 in 4094 steps, the fast
     * copy; to n = 2^32 - 1, i wraps to 0 before reaching n, so the loop
     * goes on until p leaves memory (a copy stopping at the wrap would
     * return 1024 + 4 * 4096 instead). */
    loop_call(&t, "count_ltu", 1024, 0, 0xFFE00000u, WEDGE_TRAP_NONE, &s);
    cr_expect_eq(s, 1024 + 4 * 4094);
    cr_expect_eq(call_i32(&t, "get", 1024 + 4 * 4093, 0), 0xFFD00000u);
    loop_call(&t, "count_ltu", 1024, 0, 0xFFFFFFFFu, WEDGE_TRAP_MEMORY_OOB, NULL);
    unload(&t);
}

Test(compile, loop_fast_copy_guard) { loop_checks(WEDGE_BOUNDS_GUARD); }
Test(compile, loop_fast_copy_software) { loop_checks(WEDGE_BOUNDS_SOFTWARE); }
