/*
 * bench_instantiate.c — instantiation latency of a compiled module, through
 * the runtime API (src/runtime/runtime.h) as `wedge run` and `wedge serve`
 * use it:
 *
 *   bench_instantiate MODULE.so [ITERATIONS [EXPORT]]
 *
 * Loads the .so once and builds a linker with WASI, then repeats:
 * rt_instantiate (link, globals, tables, memory, the WASI context,
 * segments), optionally rt_call of a no-argument EXPORT (e.g. "noop"),
 * rt_instance_free (which frees the WASI context too).  Prints the
 * median, 10th and 90th percentile of each phase in microseconds, one
 * line per phase in the form "PHASE median_us=X p10_us=Y p90_us=Z".
 * A benchmark: it prints numbers, it asserts nothing about them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"
#include "util/util.h"
#include "wasi/wasi.h"

static double now_us(void)
{
    return (double)ut_mono_ns() / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *phase, double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    printf("%s median_us=%.2f p10_us=%.2f p90_us=%.2f\n", phase, v[n / 2], v[n / 10], v[n * 9 / 10]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_instantiate MODULE.so [ITERATIONS [EXPORT]]\n");
        return 1;
    }
    int iters = argc > 2 ? atoi(argv[2]) : 1000;
    const char *export_name = argc > 3 ? argv[3] : NULL;
    if (iters < 10 || iters > 10000000) {
        fprintf(stderr, "bench_instantiate: ITERATIONS must be 10..10000000\n");
        return 1;
    }
    rt_result res;
    memset(&res, 0, sizeof res);
    if (!rt_init(&res)) {
        fprintf(stderr, "bench_instantiate: rt_init: %s\n", res.msg);
        return 1;
    }
    double t0 = now_us();
    rt_module *mod = rt_module_load(argv[1], &res);
    double t_load = now_us() - t0;
    if (!mod) {
        fprintf(stderr, "bench_instantiate: %s: %s\n", argv[1], res.msg);
        return 1;
    }
    double *inst_us = calloc((size_t)iters, sizeof(double));
    double *call_us = calloc((size_t)iters, sizeof(double));
    double *free_us = calloc((size_t)iters, sizeof(double));
    double *total_us = calloc((size_t)iters, sizeof(double));
    if (!inst_us || !call_us || !free_us || !total_us) {
        fprintf(stderr, "bench_instantiate: out of memory\n");
        return 1;
    }
    const char *guest_argv[] = {"bench"};
    wasi_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.argc = 1;
    cfg.argv = guest_argv;
    for (int fd = 0; fd < 3; fd++)
        cfg.stdio[fd].host_fd = fd;

    rt_linker *lk = rt_linker_new(&res);
    if (!lk || rt_linker_add_host(lk, &wasi_host_module, &cfg, &res) < 0) {
        fprintf(stderr, "bench_instantiate: linker: %s\n", res.msg);
        return 1;
    }

    int status = 0;
    for (int i = 0; i < iters && status == 0; i++) {
        double a = now_us();
        wedge_instance *inst = NULL;
        double b = now_us();
        rt_status st = rt_instantiate(mod, NULL, lk, NULL, &inst, &res);
        double c = now_us();
        if (st != RT_OK) {
            fprintf(stderr, "bench_instantiate: instantiate: %s\n", res.msg);
            status = 1;
        } else if (export_name) {
            rt_extern fn;
            if (!rt_instance_export(inst, export_name, strlen(export_name), &fn) || fn.kind != 0) {
                fprintf(stderr, "bench_instantiate: no function export %s\n", export_name);
                status = 1;
            } else {
                wedge_value results[4];
                if (rt_call(&fn, NULL, results, &res) != RT_OK) {
                    fprintf(stderr, "bench_instantiate: %s: %s\n", export_name, res.msg);
                    status = 1;
                }
            }
        }
        double d = now_us();
        if (inst)
            rt_instance_free(inst);
        double e = now_us();
        inst_us[i] = c - b;
        call_us[i] = d - c;
        free_us[i] = e - d;
        total_us[i] = e - a;
    }
    if (status == 0) {
        printf("module %s load_us=%.1f iterations=%d\n", argv[1], t_load, iters);
        report("instantiate", inst_us, iters);
        if (export_name)
            report("call", call_us, iters);
        report("free", free_us, iters);
        report("total", total_us, iters);
    }
    free(inst_us); free(call_us); free(free_us); free(total_us);
    rt_module_unload(mod);
    return status;
}
