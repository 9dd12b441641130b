/*
 * test_runtime.c — runtime core without a compiler: type interning,
 * memories, tables, module checks, linking and instantiation, using the
 * hand-written module of test_runtime_module.h.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "runtime/runtime.h"
#include "test_runtime_module.h"

/* ---- host side of the test module ---------------------------------------- */

static void host_act(wedge_instance *inst, uint32_t what)
{
    (void)inst;
    if (what == 1)
        rt_trap(WEDGE_TRAP_HOST);
    if (what == 2)
        rt_exit(7);
}

TM_ENV_MODULE(env_module, host_act);
/* "act" with a result: the test module's import does not match it. */
static const rt_host_fn wrong_fns[] = {{"act", "i:i", (void (*)(void))host_act}};
static const rt_host_module wrong_module = {.name = "env", .funcs = wrong_fns, .nfuncs = 1};

static wedge_module_desc D;

static rt_module *load_test_module(void)
{
    D = tm_desc();
    rt_result res;
    rt_module *m = rt_module_wrap(&D, "test.so", &res);
    cr_assert_not_null(m, "wrap failed: %s", res.msg);
    return m;
}

/* ---- type interning ------------------------------------------------------------ */

Test(rt_type, same_signature_same_id)
{
    uint32_t a = rt_type_intern("ii:i"), b = rt_type_intern("ii:i"), c = rt_type_intern("i:ii");
    cr_assert_neq(a, 0);
    cr_assert_eq(a, b);
    cr_assert_neq(a, c);
    cr_assert_neq(rt_type_intern(":"), rt_type_intern(":i"));
}

Test(rt_type, malformed_signatures_get_no_id)
{
    cr_assert_eq(rt_type_intern("ix:i"), 0);
    cr_assert_eq(rt_type_intern("ii"), 0);
    cr_assert_eq(rt_type_intern("i::i"), 0);
    cr_assert_eq(rt_type_intern(NULL), 0);
}

static void *intern_many(void *arg)
{
    uint32_t *ids = arg;
    char sig[64];
    for (int i = 0; i < 200; i++) {
        /* signature i: i32 x (i % 40) then ':' then i64 x (i / 40) */
        int n = 0;
        for (int k = 0; k < i % 40; k++)
            sig[n++] = 'i';
        sig[n++] = ':';
        for (int k = 0; k < i / 40; k++)
            sig[n++] = 'I';
        sig[n] = 0;
        ids[i] = rt_type_intern(sig);
    }
    return NULL;
}

Test(rt_type, concurrent_interning_agrees)
{
    static uint32_t a[200], b[200];
    pthread_t t1, t2;
    pthread_create(&t1, NULL, intern_many, a);
    pthread_create(&t2, NULL, intern_many, b);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    for (int i = 0; i < 200; i++) {
        cr_assert_neq(a[i], 0);
        cr_assert_eq(a[i], b[i], "signature %d interned twice", i);
        for (int j = 0; j < i; j++)
            cr_assert_neq(a[i], a[j], "signatures %d and %d share an id", i, j);
    }
}

/* Short signatures get the id the compiler emits as a constant
 * (wedge_type_id_fixed); longer ones a counted id below bit 31.  Every
 * signature of up to 5 characters is enumerated: their ids must differ. */
Test(rt_type, short_signatures_get_fixed_distinct_ids)
{
    static const char chars[] = "iIfFvre:";
    static uint32_t ids[8 * 8 * 8 * 8 * 8 + 8 * 8 * 8 * 8 + 8 * 8 * 8 + 8 * 8 + 8];
    uint32_t n = 0;
    for (int len = 1; len <= 5; len++) {
        uint32_t total = 1;
        for (int k = 0; k < len; k++)
            total *= 8;
        for (uint32_t x = 0; x < total; x++) {
            char sig[6];
            uint32_t y = x;
            int colons = 0;
            for (int k = 0; k < len; k++, y /= 8) {
                sig[k] = chars[y % 8];
                colons += sig[k] == ':';
            }
            sig[len] = 0;
            if (colons != 1)
                continue;
            uint32_t id = rt_type_intern(sig);
            cr_assert_eq(id, wedge_type_id_fixed(sig), "%s", sig);
            cr_assert(id & 0x80000000u, "%s: id %#x is not a fixed one", sig, id);
            ids[n++] = id;
        }
    }
    cr_assert_gt(n, 1000u);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            cr_assert_neq(ids[i], ids[j], "two signatures share id %#x", ids[i]);
    /* 9 characters is the longest fixed signature. */
    cr_assert_eq(rt_type_intern("iiiiFFFF:"), wedge_type_id_fixed("iiiiFFFF:"));
    cr_assert_neq(wedge_type_id_fixed("iiiiFFFF:"), 0u);
    uint32_t lng = rt_type_intern("iiiiFFFF:i");
    cr_assert_eq(wedge_type_id_fixed("iiiiFFFF:i"), 0u);
    cr_assert_neq(lng, 0u);
    cr_assert_eq(lng & 0x80000000u, 0u);
    cr_assert_eq(rt_type_intern("iiiiFFFF:i"), lng);
}

/* ---- memories ------------------------------------------------------------------ */

Test(rt_memory, grow_respects_declared_max)
{
    rt_result res;
    wedge_memory *m = rt_memory_new(1, 3, true, &res);
    cr_assert_not_null(m, "%s", res.msg);
    cr_assert_eq(m->pages, 1);
    cr_assert_eq(m->size, 65536);
    cr_assert_eq(wedge_rt_memory_grow(NULL, m, 1), 1);
    cr_assert_eq(m->pages, 2);
    cr_assert_eq(m->size, 2 * 65536);
    cr_assert_eq(wedge_rt_memory_grow(NULL, m, 2), UINT32_MAX, "grew past max");
    cr_assert_eq(m->pages, 2);
    cr_assert_eq(wedge_rt_memory_grow(NULL, m, 0), 2);
    m->base[m->size - 1] = 0x5a;   /* the new page is writable */
    cr_assert_eq(m->base[m->size - 1], 0x5a);
    cr_assert_eq(wedge_rt_memory_grow(NULL, m, 1), 2);
    cr_assert_eq(wedge_rt_memory_grow(NULL, m, 1), UINT32_MAX);
    rt_memory_free(m);
}

Test(rt_memory, base_never_moves_and_contents_survive)
{
    rt_result res;
    wedge_memory *m = rt_memory_new(1, 0, false, &res);
    cr_assert_not_null(m);
    uint8_t *base = m->base;
    memset(base, 0xab, 65536);
    cr_assert_eq(wedge_rt_memory_grow(NULL, m, 100), 1);
    cr_assert_eq(m->base, base);
    cr_assert_eq(base[65535], 0xab);
    cr_assert_eq(base[65536], 0, "new pages must be zero");
    cr_assert_eq(m->max_pages, 65536);
    cr_assert_eq(wedge_rt_memory_grow(NULL, m, 65536), UINT32_MAX, "beyond 4 GiB");
    rt_memory_free(m);
}

Test(rt_memory, expand_and_initialize_region_use_current_instance)
{
    rt_module *mod = load_test_module();
    rt_result res;
    wedge_instance *inst;
    cr_assert_eq(tm_instantiate(mod, NULL, tm_linker(&env_module, NULL, 0), &inst, &res), RT_OK, "%s", res.msg);
    sledge_abi__current_wasm_module_instance = inst;
    cr_assert_eq(sledge_abi__wasm_memory_expand(inst->mem, 1), 0);
    cr_assert_eq(inst->mem->pages, 2);
    sledge_abi__wasm_memory_initialize_region(65536 + 10, 3, (const uint8_t *)"xyz");
    cr_assert_eq(memcmp(inst->mem->base + 65546, "xyz", 3), 0);
    cr_assert_eq(sledge_abi__wasm_memory_expand(inst->mem, 3), -1, "max is 4 pages");
    sledge_abi__current_wasm_module_instance = NULL;
    rt_instance_free(inst);
    rt_module_unload(mod);
}

Test(rt_memory, limits_cap_growth_and_size)
{
    rt_module *mod = load_test_module();
    rt_result res;
    wedge_instance *inst;
    rt_limits lim = {.max_memory_pages = 2};
    cr_assert_eq(tm_instantiate(mod, &lim, tm_linker(&env_module, NULL, 0), &inst, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(wedge_rt_memory_grow(inst, inst->mem, 1), 1);
    cr_assert_eq(wedge_rt_memory_grow(inst, inst->mem, 1), UINT32_MAX, "limit of 2 pages ignored");
    rt_instance_free(inst);

    rt_limits tiny = {.max_memory_pages = 0};
    tiny.max_memory_pages = 1;
    D.mems = (const wedge_desc_limits[]){{.has_max = 0, .min = 2}};
    cr_assert_eq(tm_instantiate(mod, &tiny, tm_linker(&env_module, NULL, 0), &inst, &res), RT_ERR_RESOURCE);
    cr_assert_null(inst);
    cr_assert(strstr(res.msg, "limit"), "%s", res.msg);
    rt_module_unload(mod);
}

/* ---- tables ---------------------------------------------------------------------- */

Test(rt_table, grow_fills_and_respects_max)
{
    rt_result res;
    wedge_table *t = rt_table_new(0x70, 2, 5, true, &res);
    cr_assert_not_null(t, "%s", res.msg);
    cr_assert_eq(t->size, 2);
    cr_assert_null(t->elems[0]);
    int marker;
    cr_assert_eq(wedge_rt_table_grow(NULL, t, &marker, 3), 2);
    cr_assert_eq(t->size, 5);
    cr_assert_eq(t->elems[4], &marker);
    cr_assert_null(t->elems[1]);
    cr_assert_eq(wedge_rt_table_grow(NULL, t, NULL, 1), UINT32_MAX);
    cr_assert_eq(wedge_rt_table_grow(NULL, t, NULL, 0), 5);
    rt_table_free(t);
    cr_assert_null(rt_table_new(0x70, 3, 2, true, &res), "max below min accepted");
    cr_assert_null(rt_table_new(0x7F, 1, 2, true, &res), "i32 table accepted");
}

Test(rt_table, growth_is_capped_without_max)
{
    rt_result res;
    wedge_table *t = rt_table_new(0x6F, 0, 0, false, &res);
    cr_assert_not_null(t);
    cr_assert_eq(t->max, UINT32_MAX);
    cr_assert_eq(wedge_rt_table_grow(NULL, t, NULL, UINT32_MAX), UINT32_MAX, "4G-entry table allowed");
    cr_assert_eq(wedge_rt_table_grow(NULL, t, NULL, 10), 0);
    rt_table_free(t);
}

/* Regression (hostile-module suite, table_grow_bomb): the table limit was
 * per table, so a module with 16 tables grew 16 x 10,000,000 entries
 * (1.25 GB) in one request.  It now caps all of an instance's tables
 * together, at instantiation and on every grow. */
Test(rt_table, limit_caps_all_tables_of_an_instance_together)
{
    rt_module *mod = load_test_module();
    rt_result res;
    wedge_instance *inst;
    static const wedge_desc_limits three[] = {{.elemtype = 0x70, .min = 2}, {.elemtype = 0x70, .min = 3},
                                              {.elemtype = 0x6F, .min = 0}};
    D.ntables = 3;
    D.tables = three;
    rt_limits lim = {.max_table_elems = 10};
    cr_assert_eq(tm_instantiate(mod, &lim, tm_linker(&env_module, NULL, 0), &inst, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(wedge_rt_table_grow(inst, inst->tables[2], NULL, 4), 0);
    cr_assert_eq(wedge_rt_table_grow(inst, inst->tables[0], NULL, 2), UINT32_MAX, "11 elements in all");
    cr_assert_eq(wedge_rt_table_grow(inst, inst->tables[0], NULL, 1), 2);
    cr_assert_eq(wedge_rt_table_grow(inst, inst->tables[1], NULL, 1), UINT32_MAX, "11 elements in all");
    cr_assert_eq(wedge_rt_table_grow(inst, inst->tables[1], NULL, 0), 3);
    rt_instance_free(inst);

    rt_limits tiny = {.max_table_elems = 4};
    cr_assert_eq(tm_instantiate(mod, &tiny, tm_linker(&env_module, NULL, 0), &inst, &res), RT_ERR_RESOURCE);
    cr_assert_null(inst);
    cr_assert(strstr(res.msg, "tables of 5 elements in all exceed the limit of 4"), "%s", res.msg);
    rt_module_unload(mod);
}

/* ---- modules ---------------------------------------------------------------------- */

Test(rt_module, refuses_other_abi_version)
{
    D = tm_desc();
    D.abi_version = 7;
    rt_result res;
    cr_assert_null(rt_module_wrap(&D, "old.so", &res));
    cr_assert_str_eq(res.msg, "old.so: module ABI version 7, this wedge supports 3; recompile it");
}

Test(rt_module, refuses_corrupt_descriptors)
{
    rt_result res;
    D = tm_desc();
    D.nimported_funcs = 0;   /* counts disagree with the import list */
    cr_assert_null(rt_module_wrap(&D, "x.so", &res));
    cr_assert(strstr(res.msg, "x.so: corrupt module descriptor"), "%s", res.msg);

    D = tm_desc();
    D.start = 99;
    cr_assert_null(rt_module_wrap(&D, "x.so", &res));

    D = tm_desc();
    static const wedge_desc_export bad_export[] = {{"f", 1, 0, 1000}};
    D.exports = bad_export;
    D.nexports = 1;
    cr_assert_null(rt_module_wrap(&D, "x.so", &res));

    D = tm_desc();
    static const wedge_desc_type bad_sig[] = {{"ii:i", tm_tramp_ii_i}, {"i?", tm_tramp_i_i}, {":", tm_tramp_v},
                                              {"i:", tm_tramp_i_v}};
    D.types = bad_sig;
    cr_assert_null(rt_module_wrap(&D, "x.so", &res));

    D = tm_desc();
    static const wedge_constexpr bad_items[] = {{WEDGE_CE_REF_FUNC, 0x70, 77, 0, 0}};
    static wedge_desc_elem bad_elem[] = {
        {.mode = 0, .elemtype = 0x70, .table = 0, .offset = {WEDGE_CE_I32, 0x7F, 0, 0, 0}, .count = 1,
         .items = bad_items}};
    D.elems = bad_elem;
    cr_assert_null(rt_module_wrap(&D, "x.so", &res));

    D = tm_desc();
    D.nmems = 2;
    cr_assert_null(rt_module_wrap(&D, "x.so", &res));
}

Test(rt_module, load_reports_missing_files)
{
    rt_result res;
    cr_assert_null(rt_module_load("/nonexistent/dir/m.so", &res));
    cr_assert(strstr(res.msg, "/nonexistent/dir/m.so"), "%s", res.msg);
}

/* ---- instantiation ---------------------------------------------------------------- */

Test(rt_instance, applies_segments_globals_and_exports)
{
    rt_module *mod = load_test_module();
    rt_result res;
    wedge_instance *inst;
    cr_assert_eq(tm_instantiate(mod, NULL, tm_linker(&env_module, NULL, 0), &inst, &res), RT_OK, "%s", res.msg);
    /* One host slot, used (env.act), with no context (no ctx_new hook). */
    const rt_host_ctxs *hc = inst->host;
    cr_assert_not_null(hc);
    cr_assert_eq(hc->n, 1);
    cr_assert_eq(hc->slot[0].mod, &env_module);
    cr_assert_null(rt_host_ctx(inst, &env_module));
    cr_assert_eq(inst->globals[0].i32, 7);
    cr_assert_eq(inst->globals[1].i64, 0x123456789ull);
    cr_assert_eq(*(uint32_t *)(inst->mem->base + 8), 42);
    cr_assert_eq(inst->data_dropped[0], 1);
    cr_assert_eq(inst->elem_dropped[0], 1);
    wedge_funcref *e0 = inst->tables[0]->elems[0];
    cr_assert_eq(e0, inst->funcs[1]);
    cr_assert_eq(e0->fn, (void (*)(void))tm_add);
    cr_assert_eq(e0->inst, inst);
    cr_assert_eq(e0->type_id, rt_type_intern("ii:i"));
    /* The host import is bound to the importer. */
    cr_assert_eq(inst->funcs[0]->inst, inst);
    cr_assert_eq(inst->funcs[0]->fn, (void (*)(void))host_act);

    rt_extern ex;
    cr_assert(rt_instance_export(inst, "add", 3, &ex));
    cr_assert_eq(ex.kind, 0);
    wedge_value args[2] = {{.i32 = 40}, {.i32 = 2}}, r[1];
    cr_assert_eq(rt_call(&ex, args, r, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(r[0].i32, 42);
    cr_assert(rt_instance_export(inst, "g", 1, &ex));
    cr_assert_eq(ex.kind, 3);
    cr_assert_eq(ex.u.global.cell->i32, 7);
    cr_assert_eq(ex.u.global.mut, 1);
    cr_assert(rt_instance_export(inst, "mem", 3, &ex));
    cr_assert_eq(ex.u.mem, inst->mem);
    cr_assert_not(rt_instance_export(inst, "ad", 2, &ex));
    cr_assert_str_eq(rt_func_sig(inst, 2), "i:i");
    rt_instance_free(inst);
    rt_module_unload(mod);
}

Test(rt_instance, unknown_and_incompatible_imports)
{
    rt_module *mod = load_test_module();
    rt_result res;
    wedge_instance *inst;
    cr_assert_eq(tm_instantiate(mod, NULL, NULL, &inst, &res), RT_ERR_LINK);
    cr_assert_null(inst);
    cr_assert_str_eq(res.msg, "unknown import \"env\".\"act\" (func (param i32)): nothing linked is named \"env\"");
    cr_assert_eq(tm_instantiate(mod, NULL, tm_linker(&wrong_module, NULL, 0), &inst, &res), RT_ERR_LINK);
    cr_assert_str_eq(res.msg, "incompatible import type for \"env\".\"act\" (func (param i32)): function signature "
                              "differs; the linked one is (func (param i32) (result i32))");
    rt_module_unload(mod);
}

/* Imports of memories, tables and globals, with limit subtyping. */
static wedge_memory *g_mem;
static wedge_table *g_tab;
static wedge_value g_cell;
static uint8_t g_cell_mut;

/* env.act plus m.tab, m.mem (`mem`) and m.g from the globals above. */
static rt_linker *objects_linker(wedge_memory *mem)
{
    tm_def defs[3];
    memset(defs, 0, sizeof defs);
    defs[0] = (tm_def){"m", "tab", {.kind = 1, .u.table = g_tab}};
    defs[1] = (tm_def){"m", "mem", {.kind = 2, .u.mem = mem}};
    defs[2] = (tm_def){"m", "g", {.kind = 3}};
    defs[2].ex.u.global.cell = &g_cell;
    defs[2].ex.u.global.valtype = 0x7F;
    defs[2].ex.u.global.mut = g_cell_mut;
    return tm_linker(&env_module, defs, 3);
}

static const wedge_desc_import obj_imports[] = {
    {.module = "env", .module_len = 3, .name = "act", .name_len = 3, .kind = 0, .type = 3},
    {.module = "m", .module_len = 1, .name = "tab", .name_len = 3, .kind = 1, .valtype = 0x70, .has_max = 1,
     .min = 1, .max = 10},
    {.module = "m", .module_len = 1, .name = "mem", .name_len = 3, .kind = 2, .has_max = 1, .min = 1, .max = 2},
    {.module = "m", .module_len = 1, .name = "g", .name_len = 1, .kind = 3, .valtype = 0x7F, .mut = 0}};

static rt_module *load_object_importer(void)
{
    D = tm_desc();
    D.imports = obj_imports;
    D.nimports = 4;
    D.nimported_tables = 1;
    D.nimported_mems = 1;
    D.nimported_globals = 1;
    D.nmems = 0;
    D.mems = NULL;
    D.ntables = 0;
    D.tables = NULL;
    /* Global 1 (defined index 0) = global.get 0 (the import). */
    static const wedge_desc_global gl[] = {{0x7F, 1, {WEDGE_CE_GLOBAL_GET, 0x7F, 0, 0, 0}}};
    D.globals = gl;
    D.nglobals = 1;
    /* The data segment's offset comes from the imported global too. */
    static wedge_desc_data data[1];
    data[0] = tm_datas[0];
    data[0].offset = (wedge_constexpr){WEDGE_CE_GLOBAL_GET, 0x7F, 0, 0, 0};
    D.datas = data;
    static const wedge_desc_export ex[] = {TM_EXPORT("g", 3, 0), TM_EXPORT("g2", 3, 1)};
    D.exports = ex;
    D.nexports = 2;
    rt_result res;
    rt_module *m = rt_module_wrap(&D, "imp.so", &res);
    cr_assert_not_null(m, "%s", res.msg);
    return m;
}

Test(rt_instance, memory_table_global_imports_and_subtyping)
{
    rt_module *mod = load_object_importer();
    rt_result res;
    wedge_instance *inst;
    g_mem = rt_memory_new(1, 2, true, &res);
    g_tab = rt_table_new(0x70, 3, 5, true, &res);
    g_cell.i32 = 100;
    g_cell_mut = 0;
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(g_mem), &inst, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(inst->mem, g_mem);
    cr_assert_eq(inst->tables[0], g_tab);
    cr_assert_eq(inst->globals[0].i32, 100);
    cr_assert_eq(*(uint32_t *)(g_mem->base + 100), 42, "data offset from the imported global");
    cr_assert_eq(g_tab->elems[1], inst->funcs[2], "elem segment into the imported table");
    rt_extern ex;
    cr_assert(rt_instance_export(inst, "g", 1, &ex));
    cr_assert_eq(ex.u.global.cell, &g_cell);
    cr_assert_eq(ex.u.global.mut, 0);
    rt_instance_free(inst);

    /* Mutability must match. */
    g_cell_mut = 1;
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(g_mem), &inst, &res), RT_ERR_LINK);
    cr_assert(strstr(res.msg, "incompatible import type for \"m\".\"g\" (global i32)"), "%s", res.msg);
    g_cell_mut = 0;

    /* A memory without a max does not satisfy an import with one. */
    rt_memory_free(g_mem);
    g_mem = rt_memory_new(1, 0, false, &res);
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(g_mem), &inst, &res), RT_ERR_LINK);
    cr_assert(strstr(res.msg, "incompatible import type for \"m\".\"mem\" (memory 1 2)"), "%s", res.msg);
    rt_memory_free(g_mem);
    /* Nor does one whose max is larger. */
    g_mem = rt_memory_new(1, 3, true, &res);
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(g_mem), &inst, &res), RT_ERR_LINK);
    rt_memory_free(g_mem);
    g_mem = rt_memory_new(2, 2, true, &res);
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(g_mem), &inst, &res), RT_OK, "%s", res.msg);
    rt_instance_free(inst);

    /* A table smaller than the import's min. */
    rt_table_free(g_tab);
    g_tab = rt_table_new(0x70, 0, 5, true, &res);
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(g_mem), &inst, &res), RT_ERR_LINK);
    cr_assert(strstr(res.msg, "\"m\".\"tab\" (table 1 10 funcref)"), "%s", res.msg);
    rt_table_free(g_tab);
    /* Externref table for a funcref import. */
    g_tab = rt_table_new(0x6F, 3, 5, true, &res);
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(g_mem), &inst, &res), RT_ERR_LINK);
    rt_table_free(g_tab);
    rt_memory_free(g_mem);
    rt_module_unload(mod);
}

Test(rt_instance, segment_out_of_bounds_traps_but_keeps_earlier_writes)
{
    rt_module *mod = load_object_importer();
    rt_result res;
    wedge_instance *inst;
    g_mem = rt_memory_new(1, 2, true, &res);
    g_tab = rt_table_new(0x70, 3, 5, true, &res);
    g_cell_mut = 0;
    /* Data at 65534 + 4 bytes: out of bounds, after the elements went in. */
    g_cell.i32 = 65534;
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(g_mem), &inst, &res), RT_ERR_TRAP);
    cr_assert_eq(res.trap, WEDGE_TRAP_MEMORY_OOB);
    cr_assert_str_eq(res.msg, "out of bounds memory access");
    cr_assert_not_null(inst, "instance must exist after a segment trap");
    cr_assert_not_null(g_tab->elems[0], "element segment before the data trap must stay");
    cr_assert_eq(g_mem->base[65534], 0, "no partial data write");
    rt_instance_free(inst);

    /* Element segment out of bounds: table.init traps before writing. */
    rt_table_free(g_tab);
    g_tab = rt_table_new(0x70, 1, 5, true, &res);
    g_cell.i32 = 0;
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(g_mem), &inst, &res), RT_ERR_TRAP);
    cr_assert_eq(res.trap, WEDGE_TRAP_TABLE_ACCESS_OOB);
    cr_assert_str_eq(res.msg, "out of bounds table access");
    cr_assert_null(g_tab->elems[0]);
    cr_assert_eq(*(uint32_t *)g_mem->base, 0, "data segments must not run after an element trap");
    rt_instance_free(inst);
    rt_table_free(g_tab);
    rt_memory_free(g_mem);
    rt_module_unload(mod);
}

Test(rt_instance, software_mode_memory_reserves_only_its_max)
{
    D = tm_desc();
    D.bounds = WEDGE_BOUNDS_SOFTWARE;
    rt_result res;
    rt_module *mod = rt_module_wrap(&D, "soft.so", &res);
    cr_assert_not_null(mod, "%s", res.msg);
    wedge_instance *inst;
    cr_assert_eq(tm_instantiate(mod, NULL, tm_linker(&env_module, NULL, 0), &inst, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(inst->mem->capacity, 4 * 65536, "software mode reserves the declared max");
    cr_assert_eq(inst->mem->max, 4 * 65536);
    cr_assert_eq(wedge_rt_memory_grow(inst, inst->mem, 3), 1);
    cr_assert_eq(inst->mem->size, inst->mem->capacity);
    cr_assert_eq(wedge_rt_memory_grow(inst, inst->mem, 1), UINT32_MAX);
    inst->mem->base[inst->mem->size - 1] = 1;   /* the whole reservation is usable */
    rt_instance_free(inst);
    rt_module_unload(mod);
}

/* A module compiled for guard mode has no bounds checks: it must not be
 * linked to a memory without the guard reservation. */
static wedge_memory *soft_mem;

Test(rt_instance, guard_code_refuses_a_memory_without_guard_region)
{
    rt_module *mod = load_object_importer();
    rt_result res;
    wedge_instance *inst;
    /* A memory made for software-mode code: the defined memory of a
     * software-mode instance. */
    wedge_module_desc sd = tm_desc();
    sd.bounds = WEDGE_BOUNDS_SOFTWARE;
    sd.mems = (const wedge_desc_limits[]){{.has_max = 1, .min = 1, .max = 2}};   /* fits the import */
    static uint32_t ids[4];
    sd.type_ids = ids;
    rt_module *smod = rt_module_wrap(&sd, "soft.so", &res);
    cr_assert_not_null(smod, "%s", res.msg);
    wedge_instance *sinst;
    cr_assert_eq(tm_instantiate(smod, NULL, tm_linker(&env_module, NULL, 0), &sinst, &res), RT_OK, "%s", res.msg);
    soft_mem = sinst->mem;
    g_tab = rt_table_new(0x70, 3, 5, true, &res);
    g_cell.i32 = 0;
    g_cell_mut = 0;
    cr_assert_eq(tm_instantiate(mod, NULL, objects_linker(soft_mem), &inst, &res), RT_ERR_LINK);
    cr_assert(strstr(res.msg, "guard"), "%s", res.msg);
    rt_table_free(g_tab);
    rt_instance_free(sinst);
    rt_module_unload(smod);
    rt_module_unload(mod);
}

Test(rt_memory, reset_zeroes_and_shrinks_in_place)
{
    rt_result res;
    wedge_memory *m = rt_memory_new(1, 8, true, &res);
    cr_assert_not_null(m);
    uint8_t *base = m->base;
    cr_assert_eq(wedge_rt_memory_grow(NULL, m, 3), 1);
    memset(base, 0x77, 4 * 65536);
    cr_assert(rt_memory_reset(m, 2));
    cr_assert_eq(m->base, base);
    cr_assert_eq(m->pages, 2);
    cr_assert_eq(m->size, 2 * 65536);
    cr_assert_eq(base[0], 0);
    cr_assert_eq(base[2 * 65536 - 1], 0);
    cr_assert(rt_memory_reset(m, 3));
    cr_assert_eq(base[3 * 65536 - 1], 0, "re-committed page must be zero");
    cr_assert_not(rt_memory_reset(m, 9), "reset beyond max");
    cr_assert_eq(wedge_rt_memory_grow(NULL, m, 5), 3);
    rt_memory_free(m);
}
