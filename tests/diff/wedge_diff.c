/*
 * wedge_diff.c — the wedge side of the differential test (difftest.py).
 *
 * Compiles one module (binaryen translate-to-fuzz output) through the
 * cache, instantiates it with the `fuzzing-support` logging imports as
 * host functions, calls every exported function in export order with fixed
 * arguments and prints a transcript that diff_node.mjs prints identically
 * for V8:
 *
 *   instantiate ok | instantiate trap <text>
 *   call <export>
 *   log-i32 <u32> | log-i64 <u64> | log-f32 <bits|nan> | log-f64 <bits|nan>
 *   ret <type> <value>          (one line per result; i32/i64 unsigned
 *                                decimal, floats as hex bits or "nan")
 *   trap <text>                 (rt_trap_name wording)
 *   mem <pages> <fnv1a-32>      (memory 0 after the call)
 *
 * NaNs print as "nan": Wasm lets NaN payloads differ between engines
 * (and V8 loses them when a float crosses into JavaScript), so only
 * "is a NaN" is compared.
 *
 * Like binaryen's own fuzz harness, `hangLimitInitializer` (when exported)
 * is called before every other export so loops and recursion stay bounded
 * by the module's own counter, and is not listed itself.
 *
 * Usage: wedge_diff [--bounds guard|software] [-O N] module.wasm
 * Exit: 0 transcript complete, 2 usage/compile/load/link failure.
 */
#include "compile/compile.h"
#include "runtime/runtime.h"
#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/test_value.h"

#define WD_MAX_VALUES 64

/* ---- output ----------------------------------------------------------- */

static void wd_put_f32(const char *tag, float v)
{
    if (isnan(v)) {
        printf("%s nan\n", tag);
        return;
    }
    printf("%s 0x%08" PRIx32 "\n", tag, tv_f32_bits(v));
}

static void wd_put_f64(const char *tag, double v)
{
    if (isnan(v)) {
        printf("%s nan\n", tag);
        return;
    }
    printf("%s 0x%016" PRIx64 "\n", tag, tv_f64_bits(v));
}

/* ---- fuzzing-support imports --------------------------------------------- */

static void wd_log_i32(wedge_instance *inst, uint32_t v) { (void)inst; printf("log-i32 %" PRIu32 "\n", v); }
static void wd_log_i64(wedge_instance *inst, uint64_t v) { (void)inst; printf("log-i64 %" PRIu64 "\n", v); }
static void wd_log_f32(wedge_instance *inst, float v) { (void)inst; wd_put_f32("log-f32", v); }
static void wd_log_f64(wedge_instance *inst, double v) { (void)inst; wd_put_f64("log-f64", v); }

/* binaryen's log-v128 cannot be called from JS: V8 throws a TypeError when
 * the module calls it, which this traps to match (difftest.py maps both to
 * one class). */
typedef uint64_t wd_v128 __attribute__((vector_size(16)));
static void wd_log_v128(wedge_instance *inst, wd_v128 v)
{
    (void)inst;
    (void)v;
    sledge_abi__wasm_trap_raise(WEDGE_TRAP_HOST);
}

static const rt_host_fn wd_imports[] = {
    {"log-v128", "v:", (void (*)(void))wd_log_v128},
    {"log-i32", "i:", (void (*)(void))wd_log_i32},
    {"log-i64", "I:", (void (*)(void))wd_log_i64},
    {"log-f32", "f:", (void (*)(void))wd_log_f32},
    {"log-f64", "F:", (void (*)(void))wd_log_f64},
};

/* The host module binaryen's fuzzer imports from (no per-instance state). */
static const rt_host_module wd_module = {
    .name = "fuzzing-support",
    .funcs = wd_imports,
    .nfuncs = sizeof wd_imports / sizeof wd_imports[0],
};

/* ---- calls --------------------------------------------------------------- */

/* The fixed argument for parameter j of type t; diff_node.mjs uses the same. */
static wedge_value wd_arg(char t, size_t j)
{
    wedge_value v;
    memset(&v, 0, sizeof v);
    switch (t) {
    case 'i': v.i32 = (uint32_t)(j + 1) * 0x10001u; break;
    case 'I': v.i64 = (uint64_t)(j + 1) * 0x100000001ull; break;
    case 'f': v.f32 = (float)(j + 1) * 1.5f; break;
    case 'F': v.f64 = (double)(j + 1) * 2.25; break;
    default: break;     /* references: null */
    }
    return v;
}

/* Only an exported memory is hashed: that is all node can see. */
static bool wd_mem_exported;

static void wd_put_mem(wedge_instance *inst)
{
    if (inst->mem == NULL || !wd_mem_exported) {
        printf("mem none\n");
        return;
    }
    uint32_t h = 2166136261u;
    const uint8_t *p = inst->mem->base;
    for (uint64_t i = 0; i < inst->mem->size; i++)
        h = (h ^ p[i]) * 16777619u;
    printf("mem %" PRIu32 " %08" PRIx32 "\n", inst->mem->pages, h);
}

/* Call export `e`; print its results or its trap.  `quiet` calls (the hang
 * limit initializer) print nothing but a trap. */
static void wd_call(wedge_instance *inst, const wedge_desc_export *e, bool quiet)
{
    rt_extern ext;
    memset(&ext, 0, sizeof ext);
    if (!rt_instance_export(inst, e->name, e->name_len, &ext) || ext.kind != 0) {
        printf("error no export %.*s\n", (int)e->name_len, e->name);
        return;
    }
    const char *sig = rt_func_sig(inst, e->index), *rs;
    size_t np, nr;
    if (sig == NULL || !tv_sig_split(sig, &np, &rs, &nr)) {
        printf("error no signature\n");
        return;
    }
    if (np > WD_MAX_VALUES || nr > WD_MAX_VALUES) {
        printf("error too many values\n");
        return;
    }
    wedge_value args[WD_MAX_VALUES], results[WD_MAX_VALUES];
    memset(results, 0, sizeof results);
    for (size_t j = 0; j < np; j++)
        args[j] = wd_arg(sig[j], j);
    if (!quiet)
        printf("call %.*s\n", (int)e->name_len, e->name);
    /* JS cannot pass or receive a v128, so diff_node.mjs cannot call such
     * an export: both sides skip it. */
    if (strchr(sig, 'v') != NULL) {
        if (!quiet)
            printf("skip v128\n");
        return;
    }
    fflush(stdout);     /* a crash must not lose what came before */
    rt_result res;
    memset(&res, 0, sizeof res);
    rt_status st = rt_call(&ext, args, results, &res);
    if (st == RT_ERR_TRAP) {
        printf("trap %s\n", rt_trap_name(res.trap));
    } else if (st != RT_OK) {
        printf("error status %d: %s\n", (int)st, res.msg);
    } else if (!quiet) {
        for (size_t k = 0; k < nr; k++) {
            const wedge_value *v = &results[k];
            switch (rs[k]) {
            case 'i': printf("ret i32 %" PRIu32 "\n", v->i32); break;
            case 'I': printf("ret i64 %" PRIu64 "\n", v->i64); break;
            case 'f': wd_put_f32("ret f32", v->f32); break;
            case 'F': wd_put_f64("ret f64", v->f64); break;
            default: printf("ret ref %s\n", v->ref ? "nonnull" : "null"); break;
            }
        }
    }
    if (!quiet)
        wd_put_mem(inst);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    cg_options opt;
    cg_options_default(&opt);
    opt.jobs = 1;
    opt.quiet = true;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bounds") == 0 && i + 1 < argc) {
            const char *b = argv[++i];
            opt.bounds = strcmp(b, "software") == 0 ? WEDGE_BOUNDS_SOFTWARE : WEDGE_BOUNDS_GUARD;
        } else if (strcmp(argv[i], "-O") == 0 && i + 1 < argc) {
            opt.opt_level = atoi(argv[++i]);
        } else if (path == NULL) {
            path = argv[i];
        } else {
            path = NULL;
            break;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "usage: wedge_diff [--bounds guard|software] [-O N] module.wasm\n");
        return 2;
    }

    rt_result res;
    memset(&res, 0, sizeof res);
    if (!rt_init(&res)) {
        fprintf(stderr, "wedge_diff: rt_init: %s\n", res.msg);
        return 2;
    }
    size_t len = 0;
    uint8_t *wasm = ut_read_file(path, SIZE_MAX, &len);
    if (wasm == NULL) {
        fprintf(stderr, "wedge_diff: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    char so_path[4096];
    cg_err cerr;
    memset(&cerr, 0, sizeof cerr);
    bool ok = cg_compile_cached(wasm, len, path, &opt, so_path, sizeof so_path, &cerr);
    free(wasm);
    if (!ok) {
        fprintf(stderr, "wedge_diff: compile failed: %s\n", cerr.msg);
        return 2;
    }
    rt_module *mod = rt_module_load(so_path, &res);
    if (mod == NULL) {
        fprintf(stderr, "wedge_diff: load failed: %s\n", res.msg);
        return 2;
    }
    rt_linker *lk = rt_linker_new(&res);
    if (lk == NULL || rt_linker_add_host(lk, &wd_module, NULL, &res) < 0) {
        fprintf(stderr, "wedge_diff: linker: %s\n", res.msg);
        rt_linker_free(lk);
        rt_module_unload(mod);
        return 2;
    }
    wedge_instance *inst = NULL;
    rt_limits lim = {0, 0};
    memset(&res, 0, sizeof res);
    rt_status st = rt_instantiate(mod, &lim, lk, NULL, &inst, &res);
    rt_linker_free(lk);
    if (st == RT_ERR_TRAP) {
        printf("instantiate trap %s\n", rt_trap_name(res.trap));
        if (inst != NULL)
            rt_instance_free(inst);
        rt_module_unload(mod);
        return 0;
    }
    if (st != RT_OK) {
        fprintf(stderr, "wedge_diff: instantiate failed (status %d): %s\n", (int)st, res.msg);
        rt_module_unload(mod);
        return 2;
    }
    printf("instantiate ok\n");

    const wedge_module_desc *d = rt_module_desc(mod);
    const wedge_desc_export *hang = NULL;
    for (uint32_t i = 0; i < d->nexports; i++) {
        const wedge_desc_export *e = &d->exports[i];
        if (e->kind == 2)
            wd_mem_exported = true;
        if (e->kind == 0 && e->name_len == 20 && memcmp(e->name, "hangLimitInitializer", 20) == 0)
            hang = e;
    }
    for (uint32_t i = 0; i < d->nexports; i++) {
        const wedge_desc_export *e = &d->exports[i];
        if (e->kind != 0 || e == hang)
            continue;
        if (hang != NULL)
            wd_call(inst, hang, true);
        wd_call(inst, e, false);
    }
    printf("end\n");
    fflush(stdout);
    rt_instance_free(inst);
    rt_module_unload(mod);
    return 0;
}
