/*
 * test_compile_big.c — a real clang-built wasm32-wasi program through the
 * whole pipeline, split into several C parts compiled in parallel: the
 * output must equal the same C program built natively.
 *
 * The program is generated here: many small functions mixing integer and
 * float arithmetic, loops, switches, calls through a function-pointer
 * table (call_indirect), libc formatting and qsort, so the module is big
 * enough to split and touches most of the compiler.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile/compile.h"
#include "runtime/runtime.h"
#include "wasi/wasi.h"

#include "compile_fixture.h"

#define NFUNCS 160

static void gen_program(const char *path)
{
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <stdint.h>\n#include <math.h>\n\n"
                "typedef uint64_t (*fn_t)(uint64_t, double);\n"
                "static volatile int sink;\n\n");
    for (int i = 0; i < NFUNCS; i++) {
        fprintf(fp, "__attribute__((noinline)) uint64_t fn%d(uint64_t x, double d)\n{\n", i);
        fprintf(fp, "    uint64_t acc = x * %dull + %d;\n", 2 * i + 1, i);
        switch (i % 8) {
        case 0:
            fprintf(fp, "    for (int k = 0; k < %d; k++) acc = (acc << 7 | acc >> 57) ^ (uint64_t)k * 0x9E3779B97F4A7C15ull;\n", 10 + i);
            break;
        case 1:
            fprintf(fp, "    double y = d;\n    for (int k = 1; k < %d; k++) y = y * 0.75 + sqrt((double)k) / (k + 1.5);\n"
                        "    acc += (uint64_t)(int64_t)(y * 1000.0);\n", 5 + i % 13);
            break;
        case 2:
            fprintf(fp, "    int32_t s = (int32_t)acc;\n    s = s / (int32_t)((x %% 7) + 1) - s %% 13;\n"
                        "    acc ^= (uint64_t)(int64_t)s;\n");
            break;
        case 3:
            fprintf(fp, "    switch (x %% 5) { case 0: acc += 11; break; case 1: acc *= 3; break; case 2: acc -= 7; break;\n"
                        "    case 3: acc = ~acc; break; default: acc >>= 3; }\n");
            break;
        case 4:
            fprintf(fp, "    float f = (float)d * %d.5f;\n    acc += (uint64_t)(int64_t)floorf(f) + (uint64_t)__builtin_popcountll(acc);\n", i);
            break;
        case 5:
            fprintf(fp, "    char buf[64];\n    int n = snprintf(buf, sizeof buf, \"%%llu-%%d\", (unsigned long long)acc, %d);\n"
                        "    for (int k = 0; k < n; k++) acc = acc * 31 + (unsigned char)buf[k];\n", i);
            break;
        case 6:
            fprintf(fp, "    int64_t sx = (int64_t)acc;\n    acc = (uint64_t)(sx >> 9) + (uint64_t)__builtin_clzll(acc | 1) + (uint64_t)__builtin_ctzll(acc | 256);\n");
            break;
        default:
            fprintf(fp, "    double y = fmin(d, 1e6) - fmax(-d, -1e6);\n    acc += (uint64_t)(int64_t)rint(y * 3.25) + (uint64_t)(d > 0.5);\n");
            break;
        }
        if (i > 0)
            fprintf(fp, "    if (x %% 3 == 0) acc += fn%d(x / 3, d * 0.5);\n", i - 1);
        fprintf(fp, "    sink = (int)acc;\n    return acc;\n}\n\n");
    }
    fprintf(fp, "static fn_t table[%d] = {\n", NFUNCS);
    for (int i = 0; i < NFUNCS; i++)
        fprintf(fp, "    fn%d,\n", i);
    fprintf(fp, "};\n\n"
                "static int cmp(const void *a, const void *b)\n{\n"
                "    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;\n    return x < y ? -1 : x > y;\n}\n\n"
                "int main(void)\n{\n"
                "    static uint64_t vals[%d];\n    uint64_t total = 0;\n    double d = 0.25;\n"
                "    for (int r = 0; r < 3; r++)\n"
                "        for (int i = 0; i < %d; i++) {\n"
                "            vals[i] = table[(i * 7 + r) %% %d]((uint64_t)i * 1000003u + (uint64_t)r, d);\n"
                "            total += vals[i];\n            d = d * 1.01 + 0.001;\n        }\n"
                "    qsort(vals, %d, sizeof vals[0], cmp);\n"
                "    printf(\"total %%llu min %%llu max %%llu d %%.9f\\n\", (unsigned long long)total,\n"
                "           (unsigned long long)vals[0], (unsigned long long)vals[%d], d);\n"
                "    char *m = malloc(100000);\n    memset(m, 'x', 100000);\n    m[99999] = 0;\n"
                "    printf(\"len %%zu\\n\", strlen(m));\n    free(m);\n    return 0;\n}\n",
            NFUNCS, NFUNCS, NFUNCS, NFUNCS, NFUNCS - 1);
    fclose(fp);
}

TestSuite(compile_big, .init = cf_setup, .fini = cf_teardown, .timeout = 900);

/* Build the program natively and for wasm32-wasi, compile the module with
 * WEDGE_PARTS=parts and WEDGE_COLD=cold (src/compile/cg_plan.c), run it:
 * the output must be the native one. */
static void check_program(const char *parts, const char *cold)
{
    char src[400], wasm[400], native[400], nout[400], so[400], cmd[2000];
    snprintf(src, sizeof src, "%s/big.c", cf_dir);
    snprintf(wasm, sizeof wasm, "%s/big.wasm", cf_dir);
    snprintf(native, sizeof native, "%s/big.native", cf_dir);
    snprintf(nout, sizeof nout, "%s/native.out", cf_dir);
    snprintf(so, sizeof so, "%s/big.so", cf_dir);
    gen_program(src);
    snprintf(cmd, sizeof cmd, "clang --target=wasm32-wasi -O2 %s -o %s -lm", src, wasm);
    cr_assert(system(cmd) == 0, "clang to wasm32-wasi failed");
    snprintf(cmd, sizeof cmd, "cc -O2 %s -o %s -lm && %s > %s", src, native, native, nout);
    cr_assert(system(cmd) == 0, "native build/run failed");

    size_t len, nlen;
    uint8_t *w = cf_read_all(wasm, &len);
    uint8_t *expect = cf_read_all(nout, &nlen);
    cg_options o;
    cg_options_default(&o);
    o.jobs = 2;
    o.quiet = true;
    setenv("WEDGE_PARTS", parts, 1);
    setenv("WEDGE_COLD", cold, 1);
    cg_err err;
    bool ok = cg_compile(w, len, "big.wasm", so, &o, &err);
    unsetenv("WEDGE_PARTS");
    unsetenv("WEDGE_COLD");
    free(w);
    cr_assert(ok, "compile: %s", err.msg);

    /* Several parts means functions have hidden, non-static linkage: the
     * .so must still export only the descriptor and the SLEdge ABI. */
    snprintf(cmd, sizeof cmd, "nm -D --defined-only %s | grep -v -E ' (wedge_module_descriptor|sledge_abi__[a-z0-9_]+)$' | grep -q ' [TDRB] '", so);
    cr_expect(system(cmd) != 0, "the .so exports more than the descriptor and SLEdge ABI");

    rt_result res;
    cr_assert(rt_init(&res), "%s", res.msg);
    rt_module *mod = rt_module_load(so, &res);
    cr_assert_not_null(mod, "%s", res.msg);
    wasi_config cfg;
    memset(&cfg, 0, sizeof cfg);
    static const char *const argv[] = { "big" };
    cfg.argc = 1;
    cfg.argv = argv;
    cfg.stdio[0].host_fd = -1;
    cfg.stdio[1].host_fd = -1;
    cfg.stdio[2].host_fd = 2;
    rt_linker *lk = rt_linker_new(&res);
    cr_assert_not_null(lk, "%s", res.msg);
    cr_assert_geq(rt_linker_add_host(lk, &wasi_host_module, &cfg, &res), 0, "%s", res.msg);
    wedge_instance *inst = NULL;
    rt_status st = rt_instantiate(mod, NULL, lk, NULL, &inst, &res);
    rt_linker_free(lk);
    cr_assert(st == RT_OK, "instantiate: %s", res.msg);
    const wasi_ctx *ctx = wasi_instance_ctx(inst);
    cr_assert_not_null(ctx);
    st = rt_run_start(inst, &res);
    cr_expect(st == RT_OK || (st == RT_ERR_EXIT && res.exit_code == 0), "run: %d %s", (int)st, res.msg);
    size_t olen;
    bool trunc;
    const uint8_t *out = wasi_ctx_output(ctx, 1, &olen, &trunc);
    cr_assert_not_null(out);
    cr_expect_eq(olen, nlen, "output length %zu, native %zu: %.*s", olen, nlen, (int)olen, (const char *)out);
    cr_expect(olen == nlen && memcmp(out, expect, nlen) == 0, "wasm: %.*s native: %s", (int)olen,
              (const char *)out, (const char *)expect);
    rt_instance_free(inst);
    rt_module_unload(mod);
    free(expect);
}

Test(compile_big, clang_wasi_program_in_parallel_parts)
{
    check_program("4", "none");
}

/* The cold tier: the same C flags for Wasm semantics at -O1, parts of both
 * tiers in one .so (mixed: the per-function rules whatever the size), and
 * every function cold. */
Test(compile_big, cold_tier_gives_the_native_output)
{
    check_program("3", "mixed");
    check_program("3", "all");
}
