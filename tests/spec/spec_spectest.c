/*
 * spec_spectest.c — the `spectest` host module the test suite imports
 * from, as the reference interpreter defines it: print functions that do
 * nothing, four immutable globals (666 / 666.6), a funcref table of 10..20
 * elements and a memory of 1..2 pages.
 *
 * One memory and one table for the whole process: the reference
 * interpreter has a single spectest instance per script, so writes by one
 * module are seen by the next.  (The runner handles one file per process.)
 */
#include "spec.h"

#include <stdio.h>
#include <string.h>

/* Host functions: the wedge_funcref C signature, (instance, params...). */
static void sp_print(wedge_instance *inst) { (void)inst; }
static void sp_print_i32(wedge_instance *inst, uint32_t a) { (void)inst; (void)a; }
static void sp_print_i64(wedge_instance *inst, uint64_t a) { (void)inst; (void)a; }
static void sp_print_f32(wedge_instance *inst, float a) { (void)inst; (void)a; }
static void sp_print_f64(wedge_instance *inst, double a) { (void)inst; (void)a; }
static void sp_print_i32_f32(wedge_instance *inst, uint32_t a, float b) { (void)inst; (void)a; (void)b; }
static void sp_print_f64_f64(wedge_instance *inst, double a, double b) { (void)inst; (void)a; (void)b; }

static const rt_host_fn sp_funcs[] = {
    {"print", ":", (void (*)(void))sp_print},
    {"print_i32", "i:", (void (*)(void))sp_print_i32},
    {"print_i64", "I:", (void (*)(void))sp_print_i64},
    {"print_f32", "f:", (void (*)(void))sp_print_f32},
    {"print_f64", "F:", (void (*)(void))sp_print_f64},
    {"print_i32_f32", "if:", (void (*)(void))sp_print_i32_f32},
    {"print_f64_f64", "FF:", (void (*)(void))sp_print_f64_f64},
};

/* No per-instance state: no context hooks. */
static const rt_host_module sp_module = {
    .name = "spectest",
    .funcs = sp_funcs,
    .nfuncs = sizeof sp_funcs / sizeof sp_funcs[0],
};

/* Globals: cells the importers point at (immutable, so never written). */
static wedge_value sp_global_i32 = {.i32 = 666};
static wedge_value sp_global_i64 = {.i64 = 666};
static wedge_value sp_global_f32 = {.f32 = 666.6f};
static wedge_value sp_global_f64 = {.f64 = 666.6};

static const struct {
    const char *name;
    wedge_value *cell;
    uint8_t valtype;
} sp_globals[] = {
    {"global_i32", &sp_global_i32, 0x7F},
    {"global_i64", &sp_global_i64, 0x7E},
    {"global_f32", &sp_global_f32, 0x7D},
    {"global_f64", &sp_global_f64, 0x7C},
};

static wedge_memory *sp_memory;
static wedge_table *sp_table;

bool spec_spectest_init(char *why, size_t why_cap)
{
    rt_result res;
    if (sp_memory == NULL) {
        memset(&res, 0, sizeof res);
        sp_memory = rt_memory_new(1, 2, true, &res);
        if (sp_memory == NULL) {
            snprintf(why, why_cap, "spectest memory: %s", res.msg);
            return false;
        }
    }
    if (sp_table == NULL) {
        memset(&res, 0, sizeof res);
        sp_table = rt_table_new(0x70, 10, 20, true, &res);
        if (sp_table == NULL) {
            snprintf(why, why_cap, "spectest table: %s", res.msg);
            return false;
        }
    }
    return true;
}

void spec_spectest_fini(void)
{
    if (sp_table != NULL)
        rt_table_free(sp_table);
    if (sp_memory != NULL)
        rt_memory_free(sp_memory);
    sp_table = NULL;
    sp_memory = NULL;
}

bool spec_spectest_link(rt_linker *lk, char *why, size_t why_cap)
{
    rt_result res;
    memset(&res, 0, sizeof res);
    bool ok = rt_linker_add_host(lk, &sp_module, NULL, &res) >= 0;
    for (size_t i = 0; ok && i < sizeof sp_globals / sizeof sp_globals[0]; i++) {
        rt_extern ex;
        memset(&ex, 0, sizeof ex);
        ex.kind = SPEC_EXTERN_GLOBAL;
        ex.u.global.cell = sp_globals[i].cell;
        ex.u.global.valtype = sp_globals[i].valtype;
        ex.u.global.mut = 0;
        ok = rt_linker_define(lk, "spectest", sp_globals[i].name, &ex, &res);
    }
    if (ok && sp_table != NULL) {
        rt_extern ex = {.kind = SPEC_EXTERN_TABLE, .u.table = sp_table};
        ok = rt_linker_define(lk, "spectest", "table", &ex, &res);
    }
    if (ok && sp_memory != NULL) {
        rt_extern ex = {.kind = SPEC_EXTERN_MEMORY, .u.mem = sp_memory};
        ok = rt_linker_define(lk, "spectest", "memory", &ex, &res);
    }
    if (!ok)
        snprintf(why, why_cap, "spectest: %s", res.msg);
    return ok;
}
