/*
 * cli_run.c — `wedge run`: compile (cached) or load a module, instantiate it
 * with WASI, and run `_start` or one export (--invoke).
 *
 * Exit status: proc_exit's code; 0 when _start (or the invoked export)
 * returns; CLI_EXIT_TRAP (134, like wasmtime) on a trap, with
 * "wasm trap: <kind>" on stderr; 1 on a user error (bad file, bad
 * arguments, link error).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "compile/compile.h"
#include "cwa/cwa.h"
#include "dagger/dagger.h"
#include "runtime/runtime.h"
#include "wasi/wasi.h"

static void cli_run_usage(FILE *f)
{
    fputs("Usage: wedge run [OPTIONS] MODULE.wasm|MODULE.so [ARGS...]\n"
          "\n"
          "Run a WASI command module (its _start export), or call one export.\n"
          "A .wasm is compiled first (and cached); a .so made by `wedge compile`\n"
          "is loaded as is.  Options go before the module; everything after it\n"
          "is passed to the guest.\n"
          "\n"
          "Options:\n"
          "  --dir HOST[::GUEST]          pre-open directory HOST as GUEST (default: same)\n"
          "  --env NAME[=VALUE]           set a guest environment variable (no value: the host's)\n"
          "  --tcplisten ADDR:PORT        listen on TCP ADDR:PORT (numeric, [IPv6] in brackets) and\n"
          "                               give the guest the socket as the next descriptor after\n"
          "                               the --dir ones, for sock_accept (repeatable)\n"
          "  --allow-http PATTERN         let Dagger http(s):// streams fetch URLs matching PATTERN\n"
          "                               (a shell glob on the whole URL, or an origin such as\n"
          "                               https://api.example.com; repeatable; none: all refused)\n"
          "  --ca-file FILE               trust the CAs in FILE (PEM) for https:// streams\n"
          "  --invoke FUNC                call export FUNC with ARGS parsed per its signature\n"
          "                               (integers decimal or 0x hex, floats incl. inf/nan) and\n"
          "                               print each result on its own line (integers signed)\n"
          "  --bounds guard|software|none bounds checking when compiling a .wasm (default guard)\n"
          "  -O N                         C optimisation level when compiling a .wasm\n"
          "  -h, --help                   show this help\n"
          "\n"
          "Exit status: the guest's proc_exit code, 0 when it returns, 134 on a trap\n"
          "(\"wasm trap: <kind>\" on stderr), 1 on an error.\n",
          f);
}

#define CLI_MAX_DIRS 64
#define CLI_MAX_ENVS 256
#define CLI_MAX_LISTEN 64
#define CLI_MAX_ALLOW 64

typedef struct cli_run_opts {
    const char *module;
    const char *invoke;
    int nargs;
    char **args;
    wasi_preopen dirs[CLI_MAX_DIRS];
    int ndirs;
    const char *envs[CLI_MAX_ENVS];
    int nenvs;
    const char *listen[CLI_MAX_LISTEN];
    int nlisten;
    const char *allow_http[CLI_MAX_ALLOW];
    int nallow;
    const char *ca_file;
    cg_options cg;
    /* What cli_keep allocated: at most one string per --dir or --env. */
    char *kept[CLI_MAX_DIRS + CLI_MAX_ENVS];
    int nkept;
} cli_run_opts;

/* Storage for split --dir values and NAME=VALUE strings built from the
 * host environment: `n` zeroed bytes that live for the whole command and
 * are freed by cli_run_main on every way out. */
static char *cli_keep(cli_run_opts *o, size_t n)
{
    char *p = calloc(1, n);
    if (p)
        o->kept[o->nkept++] = p;
    return p;
}

static int cli_run_parse(int argc, char **argv, cli_run_opts *o)
{
    bool bad = false;
    const char *v;
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_run_usage(stdout);
            return -1;
        } else if ((v = cli_opt(argc, argv, &i, "--invoke", &bad))) {
            o->invoke = v;
        } else if ((v = cli_opt(argc, argv, &i, "--dir", &bad))) {
            if (o->ndirs == CLI_MAX_DIRS) {
                cli_error("run: too many --dir options (max %d)", CLI_MAX_DIRS);
                return CLI_EXIT_USER;
            }
            const char *sep = strstr(v, "::");
            wasi_preopen *d = &o->dirs[o->ndirs++];
            d->host_path = v;
            if (sep) {
                char *h = cli_keep(o, (size_t)(sep - v) + 1);
                if (h)
                    memcpy(h, v, (size_t)(sep - v));
                d->host_path = h;
            }
            d->guest_path = sep ? sep + 2 : v;
            if (!d->host_path || !*d->host_path || !*d->guest_path) {
                cli_error("run: --dir %s: expected HOST[::GUEST]", v);
                return CLI_EXIT_USER;
            }
        } else if ((v = cli_opt(argc, argv, &i, "--env", &bad))) {
            if (o->nenvs == CLI_MAX_ENVS) {
                cli_error("run: too many --env options (max %d)", CLI_MAX_ENVS);
                return CLI_EXIT_USER;
            }
            if (!*v || *v == '=') {
                cli_error("run: --env %s: expected NAME[=VALUE]", v);
                return CLI_EXIT_USER;
            }
            if (strchr(v, '=')) {
                o->envs[o->nenvs++] = v;
            } else {
                const char *hv = getenv(v);
                if (hv) {
                    size_t nl = strlen(v), vl = strlen(hv);
                    char *kv = cli_keep(o, nl + vl + 2);
                    if (!kv) {
                        cli_error("run: out of memory");
                        return CLI_EXIT_USER;
                    }
                    memcpy(kv, v, nl);
                    kv[nl] = '=';
                    memcpy(kv + nl + 1, hv, vl + 1);
                    o->envs[o->nenvs++] = kv;
                }
            }
        } else if ((v = cli_opt(argc, argv, &i, "--tcplisten", &bad))) {
            if (o->nlisten == CLI_MAX_LISTEN) {
                cli_error("run: too many --tcplisten options (max %d)", CLI_MAX_LISTEN);
                return CLI_EXIT_USER;
            }
            o->listen[o->nlisten++] = v;        /* checked when WASI binds it */
        } else if ((v = cli_opt(argc, argv, &i, "--allow-http", &bad))) {
            if (o->nallow == CLI_MAX_ALLOW) {
                cli_error("run: too many --allow-http options (max %d)", CLI_MAX_ALLOW);
                return CLI_EXIT_USER;
            }
            if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
                cli_error("run: --allow-http %s: expected a pattern starting with http:// or https://", v);
                return CLI_EXIT_USER;
            }
            o->allow_http[o->nallow++] = v;
        } else if ((v = cli_opt(argc, argv, &i, "--ca-file", &bad))) {
            if (access(v, R_OK) != 0) {
                cli_error("run: --ca-file %s: %s", v, strerror(errno));
                return CLI_EXIT_USER;
            }
            o->ca_file = v;
        } else if ((v = cli_opt(argc, argv, &i, "--bounds", &bad))) {
            if ((o->cg.bounds = cli_parse_bounds(v)) < 0) {
                cli_error("run: --bounds %s: expected guard, software or none", v);
                return CLI_EXIT_USER;
            }
        } else if ((v = cli_opt(argc, argv, &i, "-O", &bad))) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 3) {
                cli_error("run: -O %s: expected 0, 1, 2 or 3", v);
                return CLI_EXIT_USER;
            }
            o->cg.opt_level = (int)n;
        } else if (bad) {
            return CLI_EXIT_USER;
        } else if (a[0] == '-' && a[1]) {
            cli_error("run: unknown option %s (see wedge run --help)", a);
            return CLI_EXIT_USER;
        } else {
            break;
        }
        if (bad)
            return CLI_EXIT_USER;
    }
    if (i >= argc) {
        cli_error("run: no module given (usage: wedge run [OPTIONS] MODULE [ARGS...])");
        return CLI_EXIT_USER;
    }
    o->module = argv[i];
    o->args = argv + i + 1;
    o->nargs = argc - i - 1;
    return 0;
}

/* The module as a .so path: a .wasm goes through the compile cache. */
static bool cli_module_so(cli_run_opts *o, char *so, size_t cap)
{
    cg_err err;
    if (!cg_module_file_so(o->module, &o->cg, so, cap, &err)) {
        cli_error("%s", err.msg);
        return false;
    }
    return true;
}

/* Find export FUNC's signature from the descriptor. */
static const char *cli_export_sig(wedge_instance *inst, const char *name)
{
    const wedge_desc_export *e = wedge_desc_export_find(inst->desc, name, strlen(name));
    return e && e->kind == WEDGE_EXTERN_FUNC ? rt_func_sig(inst, e->index) : NULL;
}

static int cli_report(const cli_run_opts *o, rt_status st, const rt_result *res)
{
    fflush(stdout);
    switch (st) {
    case RT_OK:
        return 0;
    case RT_ERR_EXIT:
        return res->exit_code & 0xFF;
    case RT_ERR_TRAP:
        fprintf(stderr, "wasm trap: %s\n", rt_trap_name(res->trap));
        return CLI_EXIT_TRAP;
    default:
        cli_error("%s: %s", o->module, res->msg);
        return CLI_EXIT_USER;
    }
}

static int cli_invoke(cli_run_opts *o, wedge_instance *inst)
{
    rt_extern fn;
    const char *sig = cli_export_sig(inst, o->invoke);
    if (!sig || !rt_instance_export(inst, o->invoke, strlen(o->invoke), &fn)) {
        cli_error("%s: no exported function named '%s'", o->module, o->invoke);
        return CLI_EXIT_USER;
    }
    const char *colon = strchr(sig, ':');
    size_t np = (size_t)(colon - sig), nr = strlen(colon + 1);
    if (np != (size_t)o->nargs) {
        cli_error("%s: %s expects %zu argument%s, got %d", o->module, o->invoke, np, np == 1 ? "" : "s",
                  o->nargs);
        return CLI_EXIT_USER;
    }
    wedge_value *args = calloc(np + 1, sizeof *args), *results = calloc(nr + 1, sizeof *results);
    if (!args || !results) {
        free(args);
        free(results);
        cli_error("%s: out of memory", o->module);
        return CLI_EXIT_USER;
    }
    int rc = 0;
    for (size_t k = 0; k < np; k++) {
        if (!cli_parse_value(sig[k], o->args[k], &args[k])) {
            static const char *const names[128] = {['i'] = "i32", ['I'] = "i64", ['f'] = "f32", ['F'] = "f64",
                                                   ['r'] = "funcref", ['e'] = "externref",
                                                   ['v'] = "v128 (SHAPE:lanes, e.g. i32x4:1,2,3,4)"};
            cli_error("%s: argument %zu of %s: '%s' is not a valid %s", o->module, k + 1, o->invoke, o->args[k],
                      names[(unsigned char)sig[k] & 127] ? names[(unsigned char)sig[k] & 127] : "value");
            rc = CLI_EXIT_USER;
            goto out;
        }
    }
    rt_result res;
    rt_status st = rt_call(&fn, args, results, &res);
    if (st == RT_OK)
        for (size_t k = 0; k < nr; k++)
            cli_print_value(colon[1 + k], &results[k]);
    rc = cli_report(o, st, &res);
out:
    free(args);
    free(results);
    return rc;
}

/* The entry: a CommonWA guest's (cwa_main or _start) when it imports
 * CommonWA or exports cwa_main; a Dagger guest's (dagger_main, main or
 * _start) when it imports Dagger or exports dagger_main; else WASI's
 * _start. */
static rt_status cli_run_entry(wedge_instance *inst, rt_result *res)
{
    if (cwa_instance_is_guest(inst))
        return cwa_run_main(inst, res);
    if (dagger_instance_is_guest(inst))
        return dagger_run_main(inst, res);
    return rt_run_start(inst, res);
}

/* The whole command; what it keeps in `o` is freed by the caller, so every
 * return below may leave early. */
static int cli_run_with(int argc, char **argv, cli_run_opts *o)
{
    int rc = cli_run_parse(argc, argv, o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;

    char so[CG_SO_PATH_MAX];
    if (!cli_module_so(o, so, sizeof so))
        return CLI_EXIT_USER;
    /* A guest writing to a closed pipe (`wedge run g.wasm | head -c 10`)
     * gets EPIPE and decides for itself; SIGPIPE would kill wedge (exit
     * 141).  Ignored only now, after compiling: an ignored signal is
     * inherited across exec, and the C compiler must keep the default. */
    signal(SIGPIPE, SIG_IGN);

    rt_result res;
    if (!rt_init(&res)) {
        cli_error("%s", res.msg);
        return CLI_EXIT_USER;
    }
    rt_module *m = rt_module_load(so, &res);
    if (!m) {
        cli_error("%s", res.msg);
        return CLI_EXIT_USER;
    }

    const char **wargv = calloc((size_t)o->nargs + 2, sizeof *wargv);
    if (!wargv) {
        cli_error("%s: out of memory", o->module);
        rt_module_unload(m);
        return CLI_EXIT_USER;
    }
    wargv[0] = o->module;
    for (int k = 0; k < o->nargs; k++)
        wargv[k + 1] = o->args[k];
    wasi_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.argc = o->nargs + 1;
    cfg.argv = wargv;
    cfg.envc = o->nenvs;
    cfg.envp = o->envs;
    cfg.npreopens = o->ndirs;
    cfg.preopens = o->dirs;
    cfg.nlisten = o->nlisten;
    cfg.tcplisten = o->listen;
    for (int k = 0; k < 3; k++)
        cfg.stdio[k].host_fd = k;
    /* The linker: WASI and Dagger (also as "env", as its 2018 hosts did)
     * with this run's config; every instance gets a context from each host
     * module it imports from (runtime.h). */
    dagger_config dcfg = {.stdio_fd = {0, 1, 2}, .log_fd = 2, .npreopens = o->ndirs, .preopens = o->dirs,
                          .nallow_http = o->nallow, .allow_http = o->allow_http, .ca_file = o->ca_file};
    /* CommonWA (and "env"): the same argv and environment as WASI, the
     * same streams as Dagger. */
    cwa_config ccfg = {.argc = cfg.argc, .argv = cfg.argv, .envc = cfg.envc, .envp = cfg.envp, .streams = dcfg};
    rt_linker *lk = rt_linker_new(&res);
    if (!lk || rt_linker_add_host(lk, &wasi_host_module, &cfg, &res) < 0 ||
        rt_linker_add_host(lk, &dagger_host_module, &dcfg, &res) < 0 ||
        !rt_linker_alias(lk, "env", &dagger_host_module, &res) ||
        rt_linker_add_host(lk, &cwa_host_module, &ccfg, &res) < 0 ||
        !rt_linker_alias(lk, "env", &cwa_host_module, &res)) {
        cli_error("%s: %s", o->module, res.msg);
        rt_linker_free(lk);
        free(wargv);
        rt_module_unload(m);
        return CLI_EXIT_USER;
    }

    wedge_instance *inst = NULL;
    rt_status st = rt_instantiate(m, NULL, lk, NULL, &inst, &res);
    if (st == RT_OK)
        rc = o->invoke ? cli_invoke(o, inst) : cli_report(o, cli_run_entry(inst, &res), &res);
    else
        rc = cli_report(o, st, &res);

    rt_instance_free(inst);
    rt_linker_free(lk);
    free(wargv);
    rt_module_unload(m);
    return rc;
}

int cli_run_main(int argc, char **argv)
{
    cli_run_opts o;
    memset(&o, 0, sizeof o);
    cg_options_default(&o.cg);
    o.cg.quiet = true;
    int rc = cli_run_with(argc, argv, &o);
    for (int k = 0; k < o.nkept; k++)
        free(o.kept[k]);
    return rc;
}
