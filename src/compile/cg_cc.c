/*
 * cg_cc.c — the compile driver: decode + validate, emit C parts into a
 * temporary folder, run the system C compiler on the parts in parallel,
 * link them with libsledge.a into the module .so.
 *
 * cc runs as child processes (cg_spawn.c: under CPU-time and address-space
 * limits) with stdout/stderr in files of the temporary folder; a failure
 * is reported with the first lines of that output, and as a limit reached
 * when the child's CPU time (from wait4) or its output says so.  Children are waited for by pid (never waitpid(-1)), so an
 * embedding program's own children are left alone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cg_internal.h"
#include "util/util.h"

#define CG_MAX_ARGS 96
/* Implementation limit on one function's body.  cc's time and memory grow
 * faster than linearly with a function's size (measured at -O2: 100 KB of
 * load/add/store code 16 s, 200 KB 43 s, 1 MB 300 s and 2.4 GB; 3 MB of
 * plain adds 28 s and 800 MB, 59 s and 2.9 GB at -O0), and `wedge serve`
 * compiles its routes' modules itself.  The largest functions of real
 * programs (interpreter loops) are a few hundred KB; V8's limit is 7.6 MB. */
#define CG_MAX_FUNC_BODY (1u << 20)

void cg_options_default(cg_options *o)
{
    memset(o, 0, sizeof *o);
    o->opt_level = 2;
    o->bounds = WEDGE_BOUNDS_GUARD;
}

/* The flags that keep Wasm semantics (see docs/architecture.md).
 * -fno-schedule-insns2: cc assumes loads cannot fault, and its post-RA
 * scheduler moved an out-of-bounds (guard-page) load above a store it
 * proved unrelated, so after the trap that earlier store was missing from
 * memory (tests/diff/findings/guard-store-before-trapping-load.wasm).  The
 * x86 cores this runs on reorder in hardware anyway; measured cost within
 * noise on the bench kernels. */
static const char *const cg_cflags[] = {
    "-fPIC", "-ffp-contract=off", "-fsignaling-nans", "-fno-strict-aliasing", "-fwrapv", "-fno-math-errno",
    "-fstack-clash-protection", "-fvisibility=hidden", "-fno-optimize-sibling-calls", "-fno-schedule-insns2",
    "-std=gnu11", NULL,
};

/* $WEDGE_CC split on spaces (e.g. "ccache gcc"), else "cc". */
static int cc_words(char *store, size_t cap, const char **argv, int max)
{
    const char *cc = getenv("WEDGE_CC");
    if (cc == NULL || *cc == 0)
        cc = "cc";
    snprintf(store, cap, "%s", cc);
    int n = 0;
    char *save = NULL;
    for (char *p = strtok_r(store, " \t", &save); p && n < max; p = strtok_r(NULL, " \t", &save))
        argv[n++] = p;
    return n;
}

typedef struct cg_job {
    const char *argv[CG_MAX_ARGS];
    char errpath[CG_SUBPATH_MAX];
    pid_t pid;
    int status;
    struct rusage ru;   /* the child's, with its own waited-for children (cc1, as) */
    bool started, finished;
} cg_job;

static bool job_start(cg_job *j, const cg_cc_limits *lim, cg_err *err)
{
    if (!cg_spawn_limited(j->argv, j->errpath, lim, &j->pid, err))
        return false;
    j->started = true;
    return true;
}

static bool has(const char *out, const char *what)
{
    return strstr(out, what) != NULL;
}

/* First lines of a job's output, into msg after `prefix`. */
static void job_report(const cg_job *j, const char *prefix, const cg_cc_limits *lim, cg_err *err)
{
    char out[400] = "";
    FILE *fp = fopen(j->errpath, "r");
    if (fp) {
        size_t n = fread(out, 1, sizeof out - 1, fp);
        out[n] = 0;
        fclose(fp);
    }
    size_t lead = strspn(out, "\n");
    memmove(out, out + lead, strlen(out + lead) + 1);
    for (char *p = out; *p; p++)
        if (*p == '\n' && p[1])
            *p = '|';
    size_t l = strlen(out);
    if (l && out[l - 1] == '\n')
        out[l - 1] = 0;
    /* A limit reached is said as such: the driver (gcc, clang) turns its
     * child's SIGXCPU or failed allocation into its own exit status. */
    uint64_t cpu_ms = (uint64_t)(j->ru.ru_utime.tv_sec + j->ru.ru_stime.tv_sec) * 1000u +
                      (uint64_t)(j->ru.ru_utime.tv_usec + j->ru.ru_stime.tv_usec) / 1000u;
    bool sig_cpu = WIFSIGNALED(j->status) && WTERMSIG(j->status) == SIGXCPU;
    if (sig_cpu || cpu_ms + 50 >= (uint64_t)lim->cpu_seconds * 1000u || has(out, "CPU time limit"))
        cg_fail(err, "%s: C compiler stopped at its CPU-time limit of %u s (WEDGE_CC_CPU_SECONDS): %s", prefix,
                lim->cpu_seconds, out);
    else if (has(out, "out of memory") || has(out, "memory exhausted") || has(out, "Cannot allocate memory") ||
             has(out, "std::bad_alloc"))
        cg_fail(err, "%s: C compiler ran out of memory under its address-space limit of %u MiB "
                "(WEDGE_CC_MEMORY_MB): %s", prefix, lim->memory_mb, out);
    else if (WIFSIGNALED(j->status))
        cg_fail(err, "%s: C compiler killed by signal %d: %s", prefix, WTERMSIG(j->status), out);
    else
        cg_fail(err, "%s: C compiler failed (exit %d): %s", prefix, WEXITSTATUS(j->status), out);
}

/* Run jobs, at most `par` at a time, starting them in the given order
 * (NULL: index order).  Progress on stderr after ~2 s. */
static bool run_jobs(cg_job *jobs, const int *order, int n, int par, const char *what, bool quiet, uint64_t t0_ns,
                     bool *announced, const cg_cc_limits *lim, cg_err *err)
{
    int next = 0, running = 0, done = 0;
    bool ok = true;
    unsigned sleep_us = 1000;
    while (done < n) {
        while (ok && running < par && next < n) {
            if (!job_start(&jobs[order ? order[next] : next], lim, err)) {
                ok = false;
                break;
            }
            next++;
            running++;
        }
        if (running == 0)
            break;
        bool progressed = false;
        for (int i = 0; i < next; i++) {
            cg_job *j = &jobs[order ? order[i] : i];
            if (!j->started || j->finished)
                continue;
            pid_t r = wait4(j->pid, &j->status, WNOHANG, &j->ru);
            if (r == j->pid || (r < 0 && errno != EINTR)) {
                if (r < 0)
                    j->status = 1 << 8;
                j->finished = true;
                running--;
                done++;
                progressed = true;
                if (ok && !(WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0)) {
                    job_report(j, what, lim, err);
                    ok = false;
                }
            }
        }
        if (!ok && next < n)
            n = next;   /* start no more; wait for the running ones */
        if (!quiet && (progressed || !*announced) && ut_mono_ns() - t0_ns > 2000000000u) {
            fprintf(stderr, "%swedge: compiling %s: %d/%d C parts done%s", isatty(2) ? "\r" : "", what, done, n,
                    isatty(2) ? "" : "\n");
            fflush(stderr);
            *announced = true;
        }
        if (!progressed) {
            usleep(sleep_us);
            if (sleep_us < 20000)
                sleep_us += sleep_us / 2;
        } else {
            sleep_us = 1000;
        }
    }
    return ok;
}

static void remove_tree(const char *dir, int nparts)
{
    char p[CG_SUBPATH_MAX];
    static const char *const ext[] = { "c", "o", "log" };
    for (int i = 0; i < nparts; i++)
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof p, "%s/p%d.%s", dir, i, ext[k]);
            unlink(p);
        }
    snprintf(p, sizeof p, "%s/link.log", dir);
    unlink(p);
    rmdir(dir);
}

static bool copy_file(const char *from, const char *to, cg_err *err)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return cg_fail(err, "%s: cannot read", from);
    FILE *out = fopen(to, "wb");
    if (out == NULL) {
        fclose(in);
        return cg_fail(err, "%s: cannot create", to);
    }
    char buf[65536];
    size_t n;
    bool ok = true;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            ok = false;
    fclose(in);
    if (fclose(out) != 0)
        ok = false;
    return ok ? true : cg_fail(err, "%s: write failed", to);
}

bool cg_compile(const uint8_t *wasm, size_t len, const char *src_name, const char *out_so, const cg_options *o,
                cg_err *err)
{
    uint64_t t0 = ut_mono_ns();
    wasm_err werr;
    wasm_module *m = wasm_decode(wasm, len, &werr);
    if (m == NULL)
        return cg_fail(err, "%s: offset 0x%zx: %s", src_name, werr.offset, werr.msg);
    if (!wasm_validate(m, &werr)) {
        wasm_module_free(m);
        return cg_fail(err, "%s: offset 0x%zx: %s", src_name, werr.offset, werr.msg);
    }
    for (uint32_t fi = m->nimported_funcs; fi < m->nfuncs; fi++)
        if (m->funcs[fi].code_len > CG_MAX_FUNC_BODY) {
            uint32_t n = m->funcs[fi].code_len, off = m->funcs[fi].code_offset;
            wasm_module_free(m);
            return cg_fail(err, "%s: offset 0x%x: function %u has a body of %u bytes, over the compiler's "
                           "limit of %u", src_name, off, fi, n, CG_MAX_FUNC_BODY);
        }

    char support[CG_PATH_MAX];
    if (!cg_support_dir(support, sizeof support, err)) {
        wasm_module_free(m);
        return false;
    }
    int jobs = o->jobs > 0 ? o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1)
        jobs = 1;
    cg_plan plan;
    if (!cg_plan_make(m, jobs, o->opt_level, &plan, err)) {
        wasm_module_free(m);
        return false;
    }
    int nparts = plan.nparts;

    const char *tmpd = getenv("TMPDIR");
    char dir[CG_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/wedge-cc-XXXXXX", tmpd && *tmpd ? tmpd : "/tmp");
    if (mkdtemp(dir) == NULL) {
        wasm_module_free(m);
        cg_plan_free(&plan);
        return cg_fail(err, "%s: cannot create temporary folder: %s", dir, strerror(errno));
    }

    const char *pathv[CG_MAX_PARTS];
    cg_job *cj = calloc((size_t)nparts + 1, sizeof *cj);
    char (*pp)[CG_SUBPATH_MAX] = calloc((size_t)nparts * 2, sizeof *pp);
    bool ok = cj != NULL && pp != NULL;
    if (!ok)
        cg_fail(err, "out of memory");
    for (int i = 0; ok && i < nparts; i++) {
        snprintf(pp[2 * i], sizeof pp[0], "%s/p%d.c", dir, i);
        snprintf(pp[2 * i + 1], sizeof pp[0], "%s/p%d.o", dir, i);
        pathv[i] = pp[2 * i];
    }
    if (ok)
        ok = cg_emit_parts(m, o, nparts, plan.part_of, pathv, err);
    wasm_module_free(m);
    if (ok && o->emit_c)
        ok = copy_file(pathv[0], o->emit_c, err);

    char ccstore[1024], optflag[16], incflag[CG_SUBPATH_MAX];
    /* The cold tier (cg_plan.c): -Og, with the same flags for Wasm
     * semantics.  On SQLite's C -Og costs 0.45x of -O2's CPU time and
     * -O1 0.6x; -O0 (0.35x) makes code several times slower. */
    static const char coldflag[] = "-Og";
    const char *ccw[16];
    int ncc = cc_words(ccstore, sizeof ccstore, ccw, 16);
    snprintf(optflag, sizeof optflag, "-O%d", o->opt_level < 0 ? 0 : o->opt_level > 3 ? 3 : o->opt_level);
    snprintf(incflag, sizeof incflag, "-I%s", support);
    bool announced = false;
    cg_cc_limits lim;
    cg_cc_limits_get(&lim);
    if (ok) {
        for (int i = 0; i < nparts; i++) {
            cg_job *j = &cj[i];
            int a = 0;
            for (int k = 0; k < ncc; k++)
                j->argv[a++] = ccw[k];
            j->argv[a++] = plan.part_tier[i] == CG_TIER_COLD ? coldflag : optflag;
            for (int k = 0; cg_cflags[k]; k++)
                j->argv[a++] = cg_cflags[k];
            j->argv[a++] = incflag;
            j->argv[a++] = "-c";
            j->argv[a++] = pp[2 * i];
            j->argv[a++] = "-o";
            j->argv[a++] = pp[2 * i + 1];
            j->argv[a] = NULL;
            snprintf(j->errpath, sizeof j->errpath, "%s/p%d.log", dir, i);
        }
        ok = run_jobs(cj, plan.order, nparts, jobs, src_name, o->quiet, t0, &announced, &lim, err);
    }
    if (ok) {
        /* Link: cc -shared -o out p*.o libsledge.a -lm */
        char libpath[CG_SUBPATH_MAX];
        snprintf(libpath, sizeof libpath, "%s/libsledge.a", support);
        cg_job *j = &cj[nparts];
        const char **argv = calloc((size_t)nparts + 32, sizeof *argv);
        if (argv == NULL) {
            ok = cg_fail(err, "out of memory");
        } else {
            int a = 0;
            for (int k = 0; k < ncc; k++)
                argv[a++] = ccw[k];
            argv[a++] = "-shared";
            argv[a++] = "-fPIC";
            /* Internal references (descriptor, functions) bind inside the
             * .so, never to another loaded module's symbols. */
            argv[a++] = "-Wl,-Bsymbolic";
            argv[a++] = "-Wl,-z,noexecstack";
            argv[a++] = "-o";
            argv[a++] = out_so;
            for (int i = 0; i < nparts; i++)
                argv[a++] = pp[2 * i + 1];
            /* Whole archive: nothing in the generated code references the
             * sledge_abi__ entry points, but the .so must export them. */
            argv[a++] = "-Wl,--whole-archive";
            argv[a++] = libpath;
            argv[a++] = "-Wl,--no-whole-archive";
            argv[a++] = "-lm";
            argv[a] = NULL;
            if (a >= CG_MAX_ARGS) {
                ok = cg_fail(err, "too many parts");
            } else {
                memcpy(j->argv, argv, (size_t)(a + 1) * sizeof *argv);
                snprintf(j->errpath, sizeof j->errpath, "%s/link.log", dir);
                ok = run_jobs(j, NULL, 1, 1, src_name, true, t0, &announced, &lim, err);
            }
            free(argv);
        }
    }
    if (ok && announced && !o->quiet) {
        fprintf(stderr, "%swedge: compiled %s in %.1f s (%d C parts)\n", isatty(2) ? "\r" : "", src_name,
                (double)(ut_mono_ns() - t0) / 1e9, nparts);
    } else if (announced && !o->quiet && isatty(2)) {
        fputc('\n', stderr);    /* the caller's error starts a line of its own */
    }
    remove_tree(dir, nparts);
    cg_plan_free(&plan);
    free(cj);
    free(pp);
    return ok;
}
