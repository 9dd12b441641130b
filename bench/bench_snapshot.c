/*
 * bench_snapshot.c — how long an instance takes to be ready when it starts
 * from a snapshot, against running init per instance and against restoring
 * by copying (issue 8):
 *
 *   bench_snapshot GUEST.so [--quick] [--doc docs/benchmarks.md]
 *
 * GUEST is bench/snapshot_guest.c compiled (`wedge compile`).  For each size
 * (its init exports fill1 / fill64 / fill1024: 1 MiB, 64 MiB, 1 GiB of
 * non-zero data), the time from "instance wanted" to "ready to run its
 * first guest instruction" for:
 *   init      rt_instantiate + the init export, what a cold start costs
 *   cow       rt_snapshot_instantiate from a per-worker pool (the serve
 *             path: the pooled memory already shows the image)
 *   cow-fresh rt_snapshot_instantiate with a new memory (reserve + one mmap)
 *   copy      the same restore, then the image copied into plain memory
 *             (what copy-on-write saves)
 * plus, per pooled restore, the handler (reads 5% of the data: the page
 * faults copy-on-write defers) and the release (the pool reverting the
 * pages the request touched), and the extra resident memory of idle
 * restored sandboxes.  Median and p99 in microseconds.  A benchmark: it
 * prints what it measured and asserts nothing.  With --doc it replaces the
 * "Snapshots" section of that markdown file.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "runtime/rt_internal.h"
#include "runtime/rt_mempool.h"
#include "wasi/wasi.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stat2 {
    double p50, p99;
    int n;
} stat2;

static stat2 summarise(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    stat2 s = {v[n / 2], v[(int)((n - 1) * 0.99)], n};
    return s;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void die(const char *what, const rt_result *res)
{
    fprintf(stderr, "bench_snapshot: %s: %s\n", what, res ? res->msg : "");
    exit(1);
}

/* Every instance links WASI through this linker, and gets a fresh WASI
 * context from it, as a request of wedge serve does (so the times below
 * include making that context). */
static rt_linker *LK;

static void new_linker(void)
{
    static const char *argv[] = {"bench"};
    static wasi_config cfg;
    cfg.argc = 1;
    cfg.argv = argv;
    for (int k = 0; k < 3; k++)
        cfg.stdio[k] = (wasi_stdio){.host_fd = -1, .out_limit = 4096};
    rt_result res;
    if (!(LK = rt_linker_new(&res)) || rt_linker_add_host(LK, &wasi_host_module, &cfg, &res) < 0)
        die("linker", &res);
}

static void call_handle(wedge_instance *inst)
{
    rt_extern fn;
    rt_result res;
    wedge_value r[1];
    if (!rt_instance_export(inst, "handle", 6, &fn) || rt_call(&fn, NULL, r, &res) != RT_OK)
        die("handle", &res);
}

typedef struct row {
    const char *size;
    stat2 init, cow, cow_b2b, cow_fresh, copy, handle_cow, release, handle_fresh_init;
    double idle_kib;
    uint32_t pages;
} row;

static void bench_size(rt_module *m, const char *fill, const char *size, int n_init, int n_req, int n_cow,
                       int n_copy, row *out)
{
    rt_result res;
    int most = n_cow > n_init ? n_cow : n_init;
    most = most > n_req ? most : n_req;
    double *v = calloc((size_t)most + 1, sizeof *v);
    double *h = calloc((size_t)most + 1, sizeof *h);
    double *rel = calloc((size_t)most + 1, sizeof *rel);
    memset(out, 0, sizeof *out);
    out->size = size;

    /* (a) instantiate + init, per instance. */
    for (int i = 0; i < n_init; i++) {
        wedge_instance *inst = NULL;
        double t0 = now_us();
        if (rt_instantiate(m, NULL, LK, NULL, &inst, &res) != RT_OK ||
            rt_run_init(inst, fill, &res) != RT_OK)
            die("instantiate + init", &res);
        v[i] = now_us() - t0;
        double t1 = now_us();
        call_handle(inst);
        h[i] = now_us() - t1;
        rt_instance_free(inst);
    }
    out->init = summarise(v, n_init);
    out->handle_fresh_init = summarise(h, n_init);

    /* The snapshot, in memory (what wedge serve's "init" routes keep). */
    static const uint8_t hash[32];
    wedge_instance *inst0 = NULL;
    if (rt_instantiate(m, NULL, LK, NULL, &inst0, &res) != RT_OK || rt_run_init(inst0, fill, &res) != RT_OK)
        die("init for the snapshot", &res);
    rt_snapshot *snap = rt_snapshot_capture(inst0, hash, &res);
    if (!snap)
        die("capture", &res);
    rt_instance_free(inst0);
    out->pages = rt_snapshot_pages(snap);

    /* (b) copy-on-write restore from a pool: restore, handler, release, as
     * a request of wedge serve (the handler's reads leave the caches cold
     * for the next restore), then restore + release back to back. */
    rt_mempool *pool = rt_mempool_new(4);
    for (int i = -3; i < n_req; i++) {
        wedge_instance *inst = NULL;
        double t0 = now_us();
        if (rt_snapshot_instantiate(snap, NULL, LK, NULL, pool, &inst, &res) != RT_OK)
            die("restore", &res);
        double t1 = now_us();
        call_handle(inst);
        double t2 = now_us();
        rt_instance_free(inst);
        double t3 = now_us();
        if (i >= 0) {       /* the first rounds fill the pool */
            v[i] = t1 - t0;
            h[i] = t2 - t1;
            rel[i] = t3 - t2;
        }
    }
    out->cow = summarise(v, n_req);
    out->handle_cow = summarise(h, n_req);
    out->release = summarise(rel, n_req);
    for (int i = 0; i < n_cow; i++) {
        wedge_instance *inst = NULL;
        double t0 = now_us();
        if (rt_snapshot_instantiate(snap, NULL, LK, NULL, pool, &inst, &res) != RT_OK)
            die("restore", &res);
        v[i] = now_us() - t0;
        rt_instance_free(inst);
    }
    out->cow_b2b = summarise(v, n_cow);
    rt_mempool_free(pool);

    /* (b') with a new memory each time. */
    for (int i = 0; i < n_cow; i++) {
        wedge_instance *inst = NULL;
        double t0 = now_us();
        if (rt_snapshot_instantiate(snap, NULL, LK, NULL, NULL, &inst, &res) != RT_OK)
            die("restore", &res);
        v[i] = now_us() - t0;
        rt_instance_free(inst);
    }
    out->cow_fresh = summarise(v, n_cow);

    /* (c) restore by copying the image into plain memory. */
    const uint8_t *img = snap->image.len ? rt_os_image_view(snap->image.fd, snap->image.len) : NULL;
    for (int i = 0; i < n_copy; i++) {
        wedge_instance *inst = NULL;
        double t0 = now_us();
        if (rt_snapshot_instantiate(snap, NULL, LK, NULL, NULL, &inst, &res) != RT_OK ||
            !rt_image_unmap(inst->mem))
            die("restore", &res);
        if (img)
            memcpy(inst->mem->base, img, snap->image.len);
        v[i] = now_us() - t0;
        rt_instance_free(inst);
    }
    out->copy = summarise(v, n_copy);
    if (img)
        rt_os_release((void *)img, snap->image.len);

    /* Extra resident memory per idle restored sandbox (fresh memories). */
    enum { IDLE = 64 };
    wedge_instance *idle[IDLE];
    long before = rss_kib();
    for (int i = 0; i < IDLE; i++)
        if (rt_snapshot_instantiate(snap, NULL, LK, NULL, NULL, &idle[i], &res) != RT_OK)
            die("restore", &res);
    out->idle_kib = (double)(rss_kib() - before) / IDLE;
    for (int i = 0; i < IDLE; i++)
        rt_instance_free(idle[i]);
    rt_snapshot_free(snap);
    free(v);
    free(h);
    free(rel);
}

static void print_table(FILE *f, const row *rows, int n, const char *cmdline)
{
    struct utsname u;
    uname(&u);
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    double load[3] = {0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    fprintf(f, "- guest: `bench/snapshot_guest.c` (init fills the size with non-zero data; the handler reads every\n"
               "  20th 4 KiB page, 5%%); command: `%s`; %s %s, load average %.1f while it ran (a shared 2-core\n"
               "  machine: other jobs ran at the same time, so the tails are noisy)\n\n",
            cmdline, u.sysname, u.release, load[0]);
    fprintf(f, "| size | pages | (a) instantiate + init | (b) CoW restore, pooled, per request | (b) CoW restore, pooled, "
               "back to back | (b) CoW restore, new memory | (c) plain-copy restore | copy / CoW (p50, per request) | "
               "handler after CoW, p50 | release (revert), p50 | extra RSS per idle restored sandbox |\n");
    fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        fprintf(f, "| %s | %u | %.0f / %.0f (n=%d) | %.2f / %.2f (n=%d) | %.2f / %.2f (n=%d) | %.2f / %.2f (n=%d) | "
                   "%.0f / %.0f (n=%d) | %.0f× | %.0f | %.0f | %.1f KiB |\n",
                r->size, r->pages, r->init.p50, r->init.p99, r->init.n, r->cow.p50, r->cow.p99, r->cow.n,
                r->cow_b2b.p50, r->cow_b2b.p99, r->cow_b2b.n, r->cow_fresh.p50, r->cow_fresh.p99, r->cow_fresh.n,
                r->copy.p50, r->copy.p99, r->copy.n, r->copy.p50 / r->cow.p50, r->handle_cow.p50, r->release.p50,
                r->idle_kib);
    }
    fprintf(f, "\nTimes are p50 / p99 in µs.  restore(1 GiB) / restore(1 MiB), p50: per request %.2f, back to back %.2f, "
               "new memory %.2f.\n",
            rows[n - 1].cow.p50 / rows[0].cow.p50, rows[n - 1].cow_b2b.p50 / rows[0].cow_b2b.p50,
            rows[n - 1].cow_fresh.p50 / rows[0].cow_fresh.p50);
}

/* Replaces the lines from "## Snapshots" up to the next "## " heading (or
 * the end) of `path`, or appends the section. */
static void write_doc(const char *path, const row *rows, int n, const char *cmdline)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    char *text = NULL;
    size_t cap = 0;
    ssize_t got = getdelim(&text, &cap, '\0', f);
    fclose(f);
    if (got < 0)
        got = 0, text = calloc(1, 1);
    const char *start = strstr(text, "\n## Snapshots\n");
    const char *end = NULL;
    if (start) {
        start++;
        end = strstr(start + 3, "\n## ");
        end = end ? end + 1 : text + got;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *o = fopen(tmp, "w");
    if (!o) {
        perror(tmp);
        exit(1);
    }
    fwrite(text, 1, start ? (size_t)(start - text) : (size_t)got, o);
    if (!start)
        fputs("\n", o);
    fputs("## Snapshots\n\nWritten by `bench/bench_snapshot` (bench/README.md).  Time from \"instance wanted\" to the "
          "first guest instruction, in-process.\n\n", o);
    print_table(o, rows, n, cmdline);
    fputs("\n", o);
    if (start)
        fputs(end, o);
    fclose(o);
    if (rename(tmp, path) != 0) {
        perror(path);
        exit(1);
    }
    free(text);
}

int main(int argc, char **argv)
{
    const char *so = NULL, *doc = NULL;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = true;
        else if (!strcmp(argv[i], "--doc") && i + 1 < argc)
            doc = argv[++i];
        else
            so = argv[i];
    }
    if (!so) {
        fprintf(stderr, "usage: bench_snapshot GUEST.so [--quick] [--doc FILE.md]\n");
        return 1;
    }
    rt_result res;
    if (!rt_init(&res))
        die("rt_init", &res);
    rt_module *m = rt_module_load(so, &res);
    if (!m)
        die("load", &res);
    new_linker();
    int q = quick ? 10 : 1;
    row rows[3];
    bench_size(m, "fill1", "1 MiB", 200 / q, 5000 / q, 10000 / q, 500 / q, &rows[0]);
    bench_size(m, "fill64", "64 MiB", 20 / q + 2, 500 / q, 10000 / q, 20 / q + 2, &rows[1]);
    bench_size(m, "fill1024", "1 GiB", 3, 50 / q + 5, 10000 / q, 3, &rows[2]);
    char cmdline[512] = "bench_snapshot";
    for (int i = 1; i < argc; i++) {
        size_t l = strlen(cmdline);
        snprintf(cmdline + l, sizeof cmdline - l, " %s", argv[i]);
    }
    print_table(stdout, rows, 3, cmdline);
    if (doc)
        write_doc(doc, rows, 3, cmdline);
    rt_linker_free(LK);
    rt_module_unload(m);
    return 0;
}
