/*
 * bench_sandbox.c — what one wedge serve sandbox costs, through the same
 * runtime calls srv_sandbox.c makes:
 *
 *   bench_sandbox MODULE.so EXPORT ITERATIONS [--no-pool]
 *   bench_sandbox --idle MODULE.so N
 *
 * First form: repeats instantiate (pooled linear memory unless --no-pool;
 * a WASI context with in-memory stdio, as serve), call EXPORT (no
 * arguments; "_start" runs the WASI entry), rt_instance_free.  Prints
 * "sandbox median_us=X p10_us=Y p90_us=Z p99_us=W" over all iterations
 * after 200 warm-up rounds.
 *
 * --idle: runs N instances of EXPORT _start at once (all alive), frees them
 * into the pool, then prints the resident memory the N idle pooled
 * memories hold: "idle_pooled n=N rss_kib_per_sandbox=X".
 *
 * A benchmark: it prints numbers and asserts nothing about them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/rt_guest.h"
#include "runtime/rt_mempool.h"
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

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * 4;
}

static const char *guest_argv[] = {"bench"};

/* serve's linker: WASI with in-memory stdio, as a route's requests get it. */
static wasi_config bench_cfg;

static rt_linker *new_linker(void)
{
    memset(&bench_cfg, 0, sizeof bench_cfg);
    bench_cfg.argc = 1;
    bench_cfg.argv = guest_argv;
    bench_cfg.stdio[0] = (wasi_stdio){ .host_fd = -1, .in_buf = NULL, .in_len = 0 };
    bench_cfg.stdio[1] = (wasi_stdio){ .host_fd = -1, .out_limit = 16u << 20 };
    bench_cfg.stdio[2] = (wasi_stdio){ .host_fd = -1, .out_limit = 64u << 10 };
    rt_result res;
    rt_linker *lk = rt_linker_new(&res);
    if (!lk || rt_linker_add_host(lk, &wasi_host_module, &bench_cfg, &res) < 0) {
        fprintf(stderr, "bench_sandbox: linker: %s\n", res.msg);
        rt_linker_free(lk);
        return NULL;
    }
    return lk;
}

/* One sandbox: instantiate + call; the instance is left in *inst. */
static int one(rt_module *mod, rt_mempool *pool, const char *export_name, const rt_linker *lk, wedge_instance **inst)
{
    rt_result res;
    memset(&res, 0, sizeof res);
    rt_status st = rt_instantiate_pooled(mod, NULL, lk, NULL, pool, inst, &res);
    if (st == RT_OK) {
        if (!strcmp(export_name, "_start")) {
            st = rt_run_start(*inst, &res);
        } else {
            rt_extern fn;
            if (!rt_instance_export(*inst, export_name, strlen(export_name), &fn) || fn.kind != 0) {
                fprintf(stderr, "bench_sandbox: no function export %s\n", export_name);
                return 1;
            }
            wedge_value results[4];
            st = rt_call(&fn, NULL, results, &res);
        }
    }
    if (st == RT_ERR_EXIT && res.exit_code == 0)
        st = RT_OK;
    if (st != RT_OK) {
        fprintf(stderr, "bench_sandbox: %s: %s\n", export_name, res.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bool idle = argc > 1 && !strcmp(argv[1], "--idle");
    if (argc < (idle ? 4 : 4)) {
        fprintf(stderr, "usage: bench_sandbox MODULE.so EXPORT ITERATIONS [--no-pool]\n"
                        "       bench_sandbox --idle MODULE.so N\n");
        return 1;
    }
    rt_result res;
    memset(&res, 0, sizeof res);
    if (!rt_init(&res) || !rt_thread_init(&res)) {
        fprintf(stderr, "bench_sandbox: %s\n", res.msg);
        return 1;
    }
    const char *path = argv[idle ? 2 : 1];
    rt_module *mod = rt_module_load(path, &res);
    if (!mod) {
        fprintf(stderr, "bench_sandbox: %s: %s\n", path, res.msg);
        return 1;
    }
    rt_linker *lk = new_linker();
    if (!lk)
        return 1;
    int status = 0;
    if (idle) {
        int n = atoi(argv[3]);
        if (n < 1 || n > 4096) {
            fprintf(stderr, "bench_sandbox: N must be 1..4096\n");
            return 1;
        }
        rt_mempool *pool = rt_mempool_new((unsigned)n);
        wedge_instance **insts = calloc((size_t)n, sizeof *insts);
        if (!pool || !insts)
            return 1;
        long before = rss_kib();
        for (int i = 0; i < n && !status; i++)
            status = one(mod, pool, "_start", lk, &insts[i]);
        long busy = rss_kib();
        for (int i = 0; i < n; i++)
            if (insts[i])
                rt_instance_free(insts[i]);
        long after = rss_kib();
        if (!status)
            printf("idle_pooled n=%d pooled=%u rss_kib_per_sandbox=%.1f busy_rss_kib_per_sandbox=%.1f\n", n,
                   rt_mempool_count(pool), (double)(after - before) / n, (double)(busy - before) / n);
        free(insts);
        rt_mempool_free(pool);
        rt_linker_free(lk);
        rt_module_unload(mod);
        return status;
    }

    const char *export_name = argv[2];
    int iters = atoi(argv[3]);
    bool no_pool = argc > 4 && !strcmp(argv[4], "--no-pool");
    if (iters < 10 || iters > 10000000) {
        fprintf(stderr, "bench_sandbox: ITERATIONS must be 10..10000000\n");
        return 1;
    }
    rt_mempool *pool = no_pool ? NULL : rt_mempool_new(4);
    double *t = calloc((size_t)iters, sizeof *t);
    if (!t || (!no_pool && !pool))
        return 1;
    for (int i = -200; i < iters && !status; i++) {
        double a = now_us();
        wedge_instance *inst = NULL;
        status = one(mod, pool, export_name, lk, &inst);
        if (inst)
            rt_instance_free(inst);
        if (i >= 0)
            t[i] = now_us() - a;
    }
    if (!status) {
        qsort(t, (size_t)iters, sizeof t[0], cmp_double);
        printf("sandbox %s pool=%s median_us=%.2f p10_us=%.2f p90_us=%.2f p99_us=%.2f\n", export_name,
               no_pool ? "no" : "yes", t[iters / 2], t[iters / 10], t[iters * 9 / 10], t[iters * 99 / 100]);
    }
    free(t);
    rt_mempool_free(pool);
    rt_linker_free(lk);
    rt_module_unload(mod);
    return status;
}
