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
#include <unistd.h>

#include "compile/cg_internal.h"
#include "compile/compile.h"
#include "runtime/runtime.h"

/* ---- helpers ------------------------------------------------------------- */

static char tc_dir[256];

static void tc_setup(void)
{
    snprintf(tc_dir, sizeof tc_dir, "/tmp/wedge-test-compile-%ld", (long)getpid());
    mkdir(tc_dir, 0755);
    if (getenv("WEDGE_CACHE_DIR") == NULL) {
        char c[300];
        snprintf(c, sizeof c, "%s/cache", tc_dir);
        setenv("WEDGE_CACHE_DIR", c, 1);
    }
}

static void tc_teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tc_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", tc_dir);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    cr_assert(fread(buf, 1, (size_t)n, fp) == (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* .wat text -> wasm bytes (wat2wasm). */
static uint8_t *wat(const char *name, const char *text, size_t *len)
{
    char wp[400], bp[400], cmd[1000];
    snprintf(wp, sizeof wp, "%s/%s.wat", tc_dir, name);
    snprintf(bp, sizeof bp, "%s/%s.wasm", tc_dir, name);
    FILE *fp = fopen(wp, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "wat2wasm --enable-all --disable-simd %s -o %s", wp, bp);
    cr_assert(system(cmd) == 0, "wat2wasm failed on %s", name);
    return read_all(bp, len);
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
    snprintf(out, cap, "%s/%s-%d.so", tc_dir, name, bounds);
    bool ok = cg_compile(w, len, name, out, &o, &err);
    free(w);
    cr_assert(ok, "compile %s: %s", name, err.msg);
}

typedef struct tc_inst {
    rt_module *mod;
    wedge_instance *inst;
} tc_inst;

static bool no_imports(void *ud, wedge_instance *importer, const wedge_desc_import *imp, rt_extern *out)
{
    (void)ud, (void)importer, (void)imp, (void)out;
    return false;
}

static tc_inst load(const char *name, const char *text, int bounds)
{
    char so[512];
    build(name, text, bounds, so, sizeof so);
    rt_result res;
    cr_assert(rt_init(&res), "rt_init: %s", res.msg);
    tc_inst t;
    t.mod = rt_module_load(so, &res);
    cr_assert_not_null(t.mod, "load: %s", res.msg);
    rt_status st = rt_instantiate(t.mod, NULL, no_imports, NULL, NULL, &t.inst, &res);
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

TestSuite(compile, .init = tc_setup, .fini = tc_teardown);

/* ---- the numeric table ------------------------------------------------------ */

Test(compile, numop_table_complete)
{
    for (uint32_t op = 0x45; op <= 0xC4; op++) {
        const cg_numop *n = cg_numop_get(op);
        cr_assert_not_null(n);
        cr_assert_not_null(n->expr, "opcode 0x%x has no template", op);
        cr_assert(n->nin == 1 || n->nin == 2);
    }
    cr_expect_str_eq(cg_numop_get(0xC4)->expr, "(uint64_t)(int64_t)(int32_t)$0");
    cr_expect_str_eq(cg_numop_get(0xA7)->expr, "(uint32_t)$0");
    cr_expect_null(cg_numop_get(0x44));
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
