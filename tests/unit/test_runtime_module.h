/*
 * test_runtime_module.h — a hand-written "compiled module" for the runtime unit
 * tests: C functions with the generated-code calling convention and a
 * descriptor describing them, used through rt_module_wrap (no compiler).
 *
 *   (import "env" "act" (func (param i32)))        ;; func 0, host
 *   (memory 1 4)  (table 2 funcref)
 *   (global (mut i32) (i32.const 7))  (global i64 (global.get ...))
 *   func 1 add(i32,i32)->i32   func 2 load(i32)->i32 (guard-mode load)
 *   func 3 recurse(i32)->i32   func 4 act(i32) calls import 0
 *   func 5 unreachable()       func 6 grow(i32)->i32
 *   (elem (i32.const 0) add load)  (data (i32.const 8) "\2a\00\00\00")
 */
#ifndef TEST_RUNTIME_MODULE_H
#define TEST_RUNTIME_MODULE_H

#include <criterion/criterion.h>
#include <string.h>

#include "runtime/runtime.h"
#include "runtime/rt_mempool.h"

static void tm_tramp_ii_i(const wedge_funcref *f, const wedge_value *a, wedge_value *r)
{
    r[0].i32 = ((uint32_t(*)(wedge_instance *, uint32_t, uint32_t))f->fn)(f->inst, a[0].i32, a[1].i32);
}
static void tm_tramp_i_i(const wedge_funcref *f, const wedge_value *a, wedge_value *r)
{
    r[0].i32 = ((uint32_t(*)(wedge_instance *, uint32_t))f->fn)(f->inst, a[0].i32);
}
static void tm_tramp_v(const wedge_funcref *f, const wedge_value *a, wedge_value *r)
{
    (void)a, (void)r;
    ((void (*)(wedge_instance *))f->fn)(f->inst);
}
static void tm_tramp_i_v(const wedge_funcref *f, const wedge_value *a, wedge_value *r)
{
    (void)r;
    ((void (*)(wedge_instance *, uint32_t))f->fn)(f->inst, a[0].i32);
}

static uint32_t tm_add(wedge_instance *inst, uint32_t a, uint32_t b) { (void)inst; return a + b; }

static uint32_t tm_load(wedge_instance *inst, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, inst->mem->base + (uint64_t)addr, 4);   /* guard mode: no check */
    return v;
}

__attribute__((noinline)) static uint32_t tm_recurse(wedge_instance *inst, uint32_t n)
{
    volatile uint8_t pad[256];
    pad[0] = (uint8_t)n;
    if (pad[0] == 0 && n == UINT32_MAX)   /* never: keeps -Winfinite-recursion quiet */
        return 0;
    return tm_recurse(inst, n + 1) + pad[0];
}

static void tm_act(wedge_instance *inst, uint32_t what)
{
    wedge_funcref *f = inst->funcs[0];
    ((void (*)(wedge_instance *, uint32_t))f->fn)(f->inst, what);
}

static void tm_unreachable(wedge_instance *inst)
{
    (void)inst;
    sledge_abi__wasm_trap_raise(WEDGE_TRAP_UNREACHABLE);
}

static uint32_t tm_grow(wedge_instance *inst, uint32_t n) { return wedge_rt_memory_grow(inst, inst->mem, n); }

static const wedge_desc_type tm_types[] = {
    {"ii:i", tm_tramp_ii_i}, {"i:i", tm_tramp_i_i}, {":", tm_tramp_v}, {"i:", tm_tramp_i_v}};
static uint32_t tm_type_ids[4];
static const wedge_desc_import tm_imports[] = {
    {.module = "env", .module_len = 3, .name = "act", .name_len = 3, .kind = 0, .type = 3}};
static const wedge_desc_func tm_funcs[] = {
    {0, (void (*)(void))tm_add},    {1, (void (*)(void))tm_load},        {1, (void (*)(void))tm_recurse},
    {3, (void (*)(void))tm_act},    {2, (void (*)(void))tm_unreachable}, {1, (void (*)(void))tm_grow}};
static const wedge_desc_limits tm_tables[] = {{.elemtype = 0x70, .has_max = 0, .min = 2}};
static const wedge_desc_limits tm_mems[] = {{.has_max = 1, .min = 1, .max = 4}};
static const wedge_desc_global tm_globals[] = {
    {0x7F, 1, {WEDGE_CE_I32, 0x7F, 0, 7, 0}},
    {0x7E, 0, {WEDGE_CE_I64, 0x7E, 0, 0x123456789ull, 0}}};
#define TM_EXPORT(n, k, i) {n, sizeof n - 1, k, i}
static const wedge_desc_export tm_exports[] = {
    TM_EXPORT("add", 0, 1),     TM_EXPORT("load", 0, 2), TM_EXPORT("recurse", 0, 3), TM_EXPORT("act", 0, 4),
    TM_EXPORT("unreachable", 0, 5), TM_EXPORT("grow", 0, 6), TM_EXPORT("mem", 2, 0),   TM_EXPORT("tab", 1, 0),
    TM_EXPORT("g", 3, 0),       TM_EXPORT("host", 0, 0)};
static const wedge_constexpr tm_elem_items[] = {{WEDGE_CE_REF_FUNC, 0x70, 1, 0, 0}, {WEDGE_CE_REF_FUNC, 0x70, 2, 0, 0}};
static wedge_desc_elem tm_elems[] = {
    {.mode = 0, .elemtype = 0x70, .table = 0, .offset = {WEDGE_CE_I32, 0x7F, 0, 0, 0}, .count = 2,
     .items = tm_elem_items}};
static const uint8_t tm_data_bytes[] = {0x2a, 0, 0, 0};
static wedge_desc_data tm_datas[] = {
    {.mode = 0, .mem = 0, .offset = {WEDGE_CE_I32, 0x7F, 0, 8, 0}, .bytes = tm_data_bytes, .len = 4}};

/* A fresh copy each time, so a test may tweak it. */
static wedge_module_desc tm_desc(void)
{
    wedge_module_desc d = {
        .abi_version = WEDGE_ABI_VERSION, .bounds = WEDGE_BOUNDS_GUARD, .compiler_version = "test",
        .ntypes = 4, .types = tm_types, .type_ids = tm_type_ids,
        .nimports = 1, .imports = tm_imports, .nimported_funcs = 1,
        .nfuncs = 6, .funcs = tm_funcs, .ntables = 1, .tables = tm_tables, .nmems = 1, .mems = tm_mems,
        .nglobals = 2, .globals = tm_globals, .nexports = 10, .exports = tm_exports,
        .nelems = 1, .elems = tm_elems, .ndatas = 1, .datas = tm_datas, .start = -1};
    return d;
}

/* ---- linking it --------------------------------------------------------- */

/* The host module "env" providing "act" (i32) -> () as `fn`. */
#define TM_ENV_MODULE(var, fn) \
    static const rt_host_fn var##_fns[] = {{"act", "i:", (void (*)(void))(fn)}}; \
    static const rt_host_module var = {.name = "env", .funcs = var##_fns, .nfuncs = 1}

/* One extern defined as "module"."name". */
typedef struct tm_def {
    const char *module, *name;
    rt_extern ex;
} tm_def;

/* A linker with host module hm (or none) and the given externs. */
static inline rt_linker *tm_linker(const rt_host_module *hm, const tm_def *defs, size_t ndefs)
{
    rt_result res;
    rt_linker *lk = rt_linker_new(&res);
    cr_assert_not_null(lk, "%s", res.msg);
    if (hm)
        cr_assert_geq(rt_linker_add_host(lk, hm, NULL, &res), 0, "%s", res.msg);
    for (size_t i = 0; i < ndefs; i++)
        cr_assert(rt_linker_define(lk, defs[i].module, defs[i].name, &defs[i].ex, &res), "%s", res.msg);
    return lk;
}

/* Instantiates m through lk (optionally from a memory pool), then frees lk:
 * an instance does not keep its linker. */
static inline rt_status tm_instantiate_in(rt_module *m, const rt_limits *lim, rt_linker *lk, rt_mempool *pool,
                                          wedge_instance **out, rt_result *res)
{
    rt_status st = pool ? rt_instantiate_pooled(m, lim, lk, NULL, pool, out, res)
                        : rt_instantiate(m, lim, lk, NULL, out, res);
    rt_linker_free(lk);
    return st;
}
#define tm_instantiate(m, lim, lk, out, res) tm_instantiate_in(m, lim, lk, NULL, out, res)

#endif
