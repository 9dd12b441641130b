/*
 * test_runtime_linker.c — the linker (src/runtime/rt_linker.c): order of
 * resolution, aliases, named instances, single externs, type mismatches,
 * the unknown-import message, host contexts in separate slots, and
 * ctx_new/ctx_free exactly once per instance, also when instantiation
 * fails part-way (ASan runs check nothing leaks).
 *
 * Modules are hand-made descriptors (rt_module_wrap) whose function
 * imports are exported again as "f0", "f1"..., so a test calls what an
 * import was bound to.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "test_runtime_module.h"

/* ---- two host modules with contexts ------------------------------------------- */

typedef struct lk_ctx {
    uint32_t tag;
    bool saw_memory;                  /* the instance's memory existed at ctx_new */
} lk_ctx;

static int a_new, a_free, b_new, b_free;
static const rt_host_module mod_a, mod_b;

/* config: a uint32_t tag; 0 means "refuse". */
static void *ctx_new_common(const void *config, wedge_instance *inst, char *err, size_t errlen, int *count)
{
    (*count)++;
    uint32_t tag = config ? *(const uint32_t *)config : 1;
    if (tag == 0) {
        snprintf(err, errlen, "config says no");
        return NULL;
    }
    lk_ctx *c = malloc(sizeof *c);
    cr_assert_not_null(c);
    c->tag = tag;
    c->saw_memory = inst->mem != NULL;
    return c;
}
static void *a_ctx_new(const void *cfg, wedge_instance *inst, char *err, size_t n)
{
    return ctx_new_common(cfg, inst, err, n, &a_new);
}
static void *b_ctx_new(const void *cfg, wedge_instance *inst, char *err, size_t n)
{
    return ctx_new_common(cfg, inst, err, n, &b_new);
}
static void a_ctx_free(void *c) { a_free++; free(c); }
static void b_ctx_free(void *c) { b_free++; free(c); }

static uint32_t a_f(wedge_instance *inst, uint32_t x) { (void)inst; return 100 + x; }
static uint32_t b_f(wedge_instance *inst, uint32_t x) { (void)inst; return 200 + x; }
/* "tag": the caller's context of the function's own module. */
static uint32_t a_tag(wedge_instance *inst, uint32_t x)
{
    (void)x;
    lk_ctx *c = rt_host_ctx(inst, &mod_a);
    return c ? c->tag : 0xDEAD;
}
static uint32_t b_tag(wedge_instance *inst, uint32_t x)
{
    (void)x;
    lk_ctx *c = rt_host_ctx(inst, &mod_b);
    return c ? c->tag : 0xDEAD;
}

static const rt_host_fn a_fns[] = {{"f", "i:i", (void (*)(void))a_f}, {"tag", "i:i", (void (*)(void))a_tag}};
static const rt_host_fn b_fns[] = {{"f", "i:i", (void (*)(void))b_f},
                                   {"g", "i:i", (void (*)(void))b_f},
                                   {"tag", "i:i", (void (*)(void))b_tag}};
static const rt_host_module mod_a = {.name = "env", .funcs = a_fns, .nfuncs = 2, .ctx_new = a_ctx_new,
                                     .ctx_free = a_ctx_free};
static const rt_host_module mod_b = {.name = "b", .funcs = b_fns, .nfuncs = 3, .ctx_new = b_ctx_new,
                                     .ctx_free = b_ctx_free};

static void reset_counts(void) { a_new = a_free = b_new = b_free = 0; }

/* ---- modules made of imports ---------------------------------------------------- */

enum { T_I_I = 0, T_V = 1, T_II_I = 2 };
static const wedge_desc_type lk_types[] = {{"i:i", tm_tramp_i_i}, {":", tm_tramp_v}, {"ii:i", tm_tramp_ii_i}};

#define IMP(m, n, t) {.module = m, .module_len = sizeof m - 1, .name = n, .name_len = sizeof n - 1, .kind = 0, .type = t}

typedef struct lk_mod {
    wedge_module_desc d;
    uint32_t type_ids[3];
    wedge_desc_export ex[8];
    wedge_desc_limits mem;
    wedge_desc_data data;
    rt_module *m;
} lk_mod;

static const char *const fnames[8] = {"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"};
static const uint8_t four[4] = {1, 2, 3, 4};

/* A module importing imps (functions only), with one page of memory; if
 * `trap` its data segment is out of bounds, so instantiation traps after
 * the host contexts were made. */
static lk_mod *lk_module(const wedge_desc_import *imps, uint32_t n, bool trap)
{
    cr_assert_leq(n, 8);
    lk_mod *lm = calloc(1, sizeof *lm);
    cr_assert_not_null(lm);
    for (uint32_t i = 0; i < n; i++)
        lm->ex[i] = (wedge_desc_export){fnames[i], 2, 0, i};
    lm->mem = (wedge_desc_limits){.has_max = 1, .min = 1, .max = 1};
    lm->data = (wedge_desc_data){.mode = WEDGE_SEG_ACTIVE, .mem = 0,
                                 .offset = {.op = WEDGE_CE_I32, .type = WEDGE_VAL_I32, .bits = trap ? 65534u : 0u},
                                 .bytes = four, .len = 4};
    lm->d = (wedge_module_desc){.abi_version = WEDGE_ABI_VERSION, .bounds = WEDGE_BOUNDS_GUARD,
                                .compiler_version = "test", .ntypes = 3, .types = lk_types,
                                .type_ids = lm->type_ids, .nimports = n, .imports = imps, .nimported_funcs = n,
                                .nmems = 1, .mems = &lm->mem, .nexports = n, .exports = lm->ex, .ndatas = 1,
                                .datas = &lm->data, .start = -1};
    rt_result res;
    lm->m = rt_module_wrap(&lm->d, "app.wasm", &res);
    cr_assert_not_null(lm->m, "%s", res.msg);
    return lm;
}

static void lk_module_free(lk_mod *lm)
{
    rt_module_unload(lm->m);
    free(lm);
}

/* Calls export "f<k>" (i32 -> i32). */
static uint32_t call_f(wedge_instance *inst, uint32_t k, uint32_t arg)
{
    rt_extern ex;
    cr_assert(rt_instance_export(inst, fnames[k], 2, &ex));
    wedge_value a = {.i32 = arg}, r = {.i32 = 0};
    rt_result res;
    cr_assert_eq(rt_call(&ex, &a, &r, &res), RT_OK, "%s", res.msg);
    return r.i32;
}

static rt_linker *new_linker(void)
{
    rt_result res;
    rt_linker *lk = rt_linker_new(&res);
    cr_assert_not_null(lk, "%s", res.msg);
    return lk;
}

/* A linker with A (slot 0, "env") and B (slot 1, "b"). */
static rt_linker *linker_ab(const void *cfg_a, const void *cfg_b)
{
    rt_result res;
    rt_linker *lk = new_linker();
    cr_assert_eq(rt_linker_add_host(lk, &mod_a, cfg_a, &res), 0, "%s", res.msg);
    cr_assert_eq(rt_linker_add_host(lk, &mod_b, cfg_b, &res), 1, "%s", res.msg);
    return lk;
}

static void init(void)
{
    rt_result res;
    cr_assert(rt_init(&res), "%s", res.msg);
    reset_counts();
}

TestSuite(rt_linker, .init = init);

/* ---- resolution --------------------------------------------------------------------- */

Test(rt_linker, first_entry_with_the_item_wins_and_aliases_fall_through)
{
    static const uint32_t ta = 7, tb = 9;
    rt_result res;
    rt_linker *lk = linker_ab(&ta, &tb);
    cr_assert(rt_linker_alias(lk, "env", &mod_b, &res), "%s", res.msg);
    cr_assert(rt_linker_alias(lk, "cwa", &mod_b, &res), "%s", res.msg);
    cr_assert_eq(rt_linker_nhosts(lk), 2, "an alias is not a new slot");

    /* env.f: A has it (first); env.g: only B, through its "env" alias;
     * cwa.tag and b.tag: B's context, the same one. */
    static const wedge_desc_import imps[] = {IMP("env", "f", T_I_I), IMP("env", "g", T_I_I),
                                             IMP("cwa", "tag", T_I_I), IMP("b", "tag", T_I_I),
                                             IMP("env", "tag", T_I_I)};
    lk_mod *lm = lk_module(imps, 5, false);
    wedge_instance *inst;
    cr_assert_eq(rt_instantiate(lm->m, NULL, lk, NULL, &inst, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(call_f(inst, 0, 1), 101, "env.f from A, registered first");
    cr_assert_eq(call_f(inst, 1, 1), 201, "env.g from B's alias");
    cr_assert_eq(call_f(inst, 2, 0), 9, "cwa.tag sees B's context");
    cr_assert_eq(call_f(inst, 3, 0), 9, "b.tag sees B's context");
    cr_assert_eq(call_f(inst, 4, 0), 7, "env.tag is A's (first), with A's context");
    cr_assert_eq(a_new, 1);
    cr_assert_eq(b_new, 1, "one context per host module, however many names");
    lk_ctx *ca = rt_host_ctx(inst, &mod_a), *cb = rt_host_ctx(inst, &mod_b);
    cr_assert(ca && cb && ca != cb, "separate slots");
    cr_assert(ca->saw_memory && cb->saw_memory, "ctx_new runs once the memory exists");
    rt_instance_free(inst);
    cr_assert_eq(a_free, 1);
    cr_assert_eq(b_free, 1);
    lk_module_free(lm);
    rt_linker_free(lk);
}

Test(rt_linker, per_instance_config_replaces_the_registered_one)
{
    static const uint32_t ta = 7, tb = 9, tb2 = 33;
    rt_result res;
    rt_linker *lk = new_linker();
    cr_assert_eq(rt_linker_add_host(lk, &mod_a, &ta, &res), 0, "%s", res.msg);
    int sb = rt_linker_add_host(lk, &mod_b, &tb, &res);
    cr_assert_eq(sb, 1, "%s", res.msg);
    static const wedge_desc_import imps[] = {IMP("env", "tag", T_I_I), IMP("b", "tag", T_I_I)};
    lk_mod *lm = lk_module(imps, 2, false);
    const void *cfg[2] = {NULL, &tb2};
    wedge_instance *i1, *i2;
    cr_assert_eq(rt_instantiate(lm->m, NULL, lk, cfg, &i1, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(rt_instantiate(lm->m, NULL, lk, NULL, &i2, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(call_f(i1, 0, 0), 7, "NULL entry: the registered config");
    cr_assert_eq(call_f(i1, 1, 0), 33, "per-instance config");
    cr_assert_eq(call_f(i2, 1, 0), 9, "the other instance keeps its own context");
    rt_instance_free(i1);
    rt_instance_free(i2);
    cr_assert_eq(b_new, 2);
    cr_assert_eq(b_free, 2);
    lk_module_free(lm);
    rt_linker_free(lk);
}

Test(rt_linker, only_imported_host_modules_get_a_context)
{
    rt_result res;
    rt_linker *lk = linker_ab(NULL, NULL);
    static const wedge_desc_import imps[] = {IMP("b", "f", T_I_I)};
    lk_mod *lm = lk_module(imps, 1, false);
    wedge_instance *inst;
    cr_assert_eq(rt_instantiate(lm->m, NULL, lk, NULL, &inst, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(a_new, 0, "nothing imported from A");
    cr_assert_eq(b_new, 1);
    cr_assert_null(rt_host_ctx(inst, &mod_a));
    cr_assert_not_null(rt_host_ctx(inst, &mod_b));
    rt_instance_free(inst);
    cr_assert_eq(b_free, 1);
    lk_module_free(lm);
    rt_linker_free(lk);
}

Test(rt_linker, named_instances_and_re_registration)
{
    rt_result res;
    /* Two instances of the test module: their "add" export. */
    wedge_module_desc d = tm_desc();
    rt_module *tm = rt_module_wrap(&d, "tm.so", &res);
    cr_assert_not_null(tm, "%s", res.msg);
    TM_ENV_MODULE(env_act, tm_add);
    wedge_instance *x1, *x2;
    cr_assert_eq(tm_instantiate(tm, NULL, tm_linker(&env_act, NULL, 0), &x1, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(tm_instantiate(tm, NULL, tm_linker(&env_act, NULL, 0), &x2, &res), RT_OK, "%s", res.msg);

    static const wedge_desc_import imps[] = {IMP("M", "add", T_II_I)};
    lk_mod *lm = lk_module(imps, 1, false);
    rt_linker *lk = new_linker();
    cr_assert(rt_linker_add_instance(lk, "M", x1, &res), "%s", res.msg);
    wedge_instance *inst;
    cr_assert_eq(rt_instantiate(lm->m, NULL, lk, NULL, &inst, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(inst->funcs[0], x1->funcs[1], "the exporter's own funcref, not a bound copy");
    cr_assert_eq(inst->funcs[0]->inst, x1);
    rt_instance_free(inst);

    /* Registering "M" again replaces it (the spec suite's `register`). */
    cr_assert(rt_linker_add_instance(lk, "M", x2, &res), "%s", res.msg);
    cr_assert_eq(rt_instantiate(lm->m, NULL, lk, NULL, &inst, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(inst->funcs[0]->inst, x2);
    rt_instance_free(inst);

    /* An item the instance does not export. */
    static const wedge_desc_import imps2[] = {IMP("M", "nope", T_V)};
    lk_mod *lm2 = lk_module(imps2, 1, false);
    cr_assert_eq(rt_instantiate(lm2->m, NULL, lk, NULL, &inst, &res), RT_ERR_LINK);
    cr_assert_null(inst);
    cr_assert_str_eq(res.msg, "unknown import \"M\".\"nope\" (func): \"M\" has no item of that name");

    lk_module_free(lm2);
    lk_module_free(lm);
    rt_linker_free(lk);
    rt_instance_free(x1);
    rt_instance_free(x2);
    rt_module_unload(tm);
}

Test(rt_linker, defined_externs_are_checked_like_any_import)
{
    rt_result res;
    wedge_memory *mem = rt_memory_new(1, 2, true, &res);
    cr_assert_not_null(mem, "%s", res.msg);
    static wedge_value cell = {.i32 = 5};
    static const wedge_desc_import imps[] = {
        {.module = "host", .module_len = 4, .name = "mem", .name_len = 3, .kind = 2, .min = 1, .has_max = 1, .max = 2},
        {.module = "host", .module_len = 4, .name = "g", .name_len = 1, .kind = 3, .valtype = 0x7E, .mut = 0}};
    wedge_module_desc d = {.abi_version = WEDGE_ABI_VERSION, .bounds = WEDGE_BOUNDS_GUARD,
                           .compiler_version = "test", .ntypes = 3, .types = lk_types, .nimports = 2,
                           .imports = imps, .nimported_mems = 1, .nimported_globals = 1, .start = -1};
    uint32_t ids[3];
    d.type_ids = ids;
    rt_module *m = rt_module_wrap(&d, "g.wasm", &res);
    cr_assert_not_null(m, "%s", res.msg);
    rt_linker *lk = new_linker();
    rt_extern em = {.kind = 2, .u.mem = mem};
    rt_extern eg = {.kind = 3};
    eg.u.global.cell = &cell;
    eg.u.global.valtype = 0x7F;          /* i32, the import wants i64 */
    cr_assert(rt_linker_define(lk, "host", "mem", &em, &res), "%s", res.msg);
    cr_assert(rt_linker_define(lk, "host", "g", &eg, &res), "%s", res.msg);
    cr_assert_eq(rt_linker_check(lk, m, &res), RT_ERR_LINK);
    cr_assert_str_eq(res.msg, "incompatible import type for \"host\".\"g\" (global i64): global type differs; "
                              "the linked one is (global i32)");
    wedge_instance *inst;
    cr_assert_eq(rt_instantiate(m, NULL, lk, NULL, &inst, &res), RT_ERR_LINK);
    cr_assert_null(inst);
    rt_linker_free(lk);
    rt_module_unload(m);
    rt_memory_free(mem);
}

/* ---- errors ------------------------------------------------------------------------- */

Test(rt_linker, type_mismatch_is_an_error_not_a_reason_to_look_further)
{
    rt_result res;
    rt_linker *lk = linker_ab(NULL, NULL);
    cr_assert(rt_linker_alias(lk, "env", &mod_b, &res), "%s", res.msg);
    /* env.f as () -> (): A's f is i32 -> i32; B's (via env) is too, but A decides. */
    static const wedge_desc_import imps[] = {IMP("env", "f", T_V)};
    lk_mod *lm = lk_module(imps, 1, false);
    wedge_instance *inst;
    cr_assert_eq(rt_instantiate(lm->m, NULL, lk, NULL, &inst, &res), RT_ERR_LINK);
    cr_assert_null(inst);
    cr_assert_str_eq(res.msg, "incompatible import type for \"env\".\"f\" (func): function signature differs; "
                              "the linked one is (func (param i32) (result i32))");
    cr_assert_eq(a_new + b_new, 0, "no context for an instance that never linked");

    /* A function where the module wants a memory. */
    static const wedge_desc_import mimp[] = {
        {.module = "env", .module_len = 3, .name = "f", .name_len = 1, .kind = 2, .min = 1}};
    wedge_module_desc d = {.abi_version = WEDGE_ABI_VERSION, .bounds = WEDGE_BOUNDS_GUARD,
                           .compiler_version = "test", .ntypes = 3, .types = lk_types, .nimports = 1,
                           .imports = mimp, .nimported_mems = 1, .start = -1};
    uint32_t ids[3];
    d.type_ids = ids;
    rt_module *m = rt_module_wrap(&d, "m.wasm", &res);
    cr_assert_not_null(m, "%s", res.msg);
    cr_assert_eq(rt_linker_check(lk, m, &res), RT_ERR_LINK);
    cr_assert_str_eq(res.msg, "incompatible import type for \"env\".\"f\" (memory 1): the linked item is a function");
    rt_module_unload(m);
    lk_module_free(lm);
    rt_linker_free(lk);
}

Test(rt_linker, unknown_import_names_module_item_kind_type_and_what_is_linked)
{
    rt_result res;
    rt_linker *lk = linker_ab(NULL, NULL);
    cr_assert(rt_linker_alias(lk, "cwa", &mod_b, &res), "%s", res.msg);
    /* A second "env" (Dagger and CommonWA both answer it): named once. */
    cr_assert(rt_linker_alias(lk, "env", &mod_b, &res), "%s", res.msg);
    static const wedge_desc_import imps[] = {IMP("env", "f", T_I_I), IMP("dagger", "open", T_II_I)};
    lk_mod *lm = lk_module(imps, 2, false);
    const char *want = "unknown import \"dagger\".\"open\" (func (param i32 i32) (result i32)): nothing linked "
                       "is named \"dagger\" (linked: env, b, cwa)";
    cr_assert_eq(rt_linker_check(lk, lm->m, &res), RT_ERR_LINK);
    cr_assert_str_eq(res.msg, want);
    wedge_instance *inst;
    cr_assert_eq(rt_instantiate(lm->m, NULL, lk, NULL, &inst, &res), RT_ERR_LINK);
    cr_assert_str_eq(res.msg, want, "instantiation says the same as the check");
    cr_assert_null(inst);
    cr_assert_eq(a_new, 0, "no context: the import after env.f failed first");

    /* No linker at all. */
    cr_assert_eq(rt_instantiate(lm->m, NULL, NULL, NULL, &inst, &res), RT_ERR_LINK);
    cr_assert_str_eq(res.msg, "unknown import \"env\".\"f\" (func (param i32) (result i32)): nothing linked is "
                              "named \"env\"");

    /* Names from the module are printed safely. */
    static const wedge_desc_import odd[] = {
        {.module = "e\"v\n", .module_len = 4, .name = "x\0y", .name_len = 3, .kind = 0, .type = T_V}};
    lk_mod *lo = lk_module(odd, 1, false);
    cr_assert_eq(rt_linker_check(lk, lo->m, &res), RT_ERR_LINK);
    cr_assert(strncmp(res.msg, "unknown import \"e?v?\".\"x?y\" (func):", 35) == 0, "%s", res.msg);
    cr_assert_null(strchr(res.msg, '\n'));
    lk_module_free(lo);
    lk_module_free(lm);
    rt_linker_free(lk);
}

Test(rt_linker, registration_errors)
{
    rt_result res;
    rt_linker *lk = new_linker();
    cr_assert_eq(rt_linker_add_host(lk, &mod_a, NULL, &res), 0, "%s", res.msg);
    cr_assert_eq(rt_linker_add_host(lk, &mod_a, NULL, &res), -1, "twice");
    cr_assert(strstr(res.msg, "registered twice"), "%s", res.msg);
    cr_assert_not(rt_linker_alias(lk, "env", &mod_b, &res), "alias of an unregistered module");
    static const rt_host_fn bad_fns[] = {{"oops", "i:q", (void (*)(void))a_f}};
    static const rt_host_module bad = {.name = "bad", .funcs = bad_fns, .nfuncs = 1};
    cr_assert_eq(rt_linker_add_host(lk, &bad, NULL, &res), -1);
    cr_assert_str_eq(res.msg, "linker: host module bad: function oops has a bad signature \"i:q\"");
    cr_assert_eq(rt_linker_nhosts(lk), 1, "a refused module takes no slot");
    rt_linker_free(lk);
}

/* ---- contexts when instantiation fails part-way ---------------------------------- */

Test(rt_linker, contexts_made_and_freed_once_when_instantiation_fails)
{
    static const uint32_t yes = 5, no = 0;
    rt_result res;
    rt_linker *lk = linker_ab(&yes, &no);
    static const wedge_desc_import imps[] = {IMP("env", "f", T_I_I), IMP("b", "f", T_I_I)};

    /* B's ctx_new refuses: A's context, already made, is freed; no instance. */
    lk_mod *lm = lk_module(imps, 2, false);
    wedge_instance *inst;
    cr_assert_eq(rt_instantiate(lm->m, NULL, lk, NULL, &inst, &res), RT_ERR_HOST);
    cr_assert_null(inst);
    cr_assert_str_eq(res.msg, "b: config says no");
    cr_assert_eq(a_new, 1);
    cr_assert_eq(a_free, 1);
    cr_assert_eq(b_new, 1);
    cr_assert_eq(b_free, 0, "a context never made is never freed");

    /* A data segment traps after the contexts exist: the instance is
     * returned (Wasm 2.0) and freeing it frees each context once. */
    reset_counts();
    lk_mod *lt = lk_module(imps, 2, true);
    const void *cfg[2] = {NULL, &yes};
    cr_assert_eq(rt_instantiate(lt->m, NULL, lk, cfg, &inst, &res), RT_ERR_TRAP);
    cr_assert_not_null(inst);
    cr_assert_eq(a_new, 1);
    cr_assert_eq(b_new, 1);
    cr_assert_eq(a_free + b_free, 0);
    rt_instance_free(inst);
    cr_assert_eq(a_free, 1);
    cr_assert_eq(b_free, 1);

    /* Out of resources before the contexts (a memory over the limit): none made. */
    reset_counts();
    rt_limits tiny = {.max_memory_pages = 0};
    lk_mod *lb = lk_module(imps, 2, false);
    lb->mem.min = 3;
    lb->mem.max = 3;
    tiny.max_memory_pages = 2;
    cr_assert_eq(rt_instantiate(lb->m, &tiny, lk, cfg, &inst, &res), RT_ERR_RESOURCE);
    cr_assert_null(inst);
    cr_assert_eq(a_new + b_new + a_free + b_free, 0);

    lk_module_free(lb);
    lk_module_free(lt);
    lk_module_free(lm);
    rt_linker_free(lk);
}
