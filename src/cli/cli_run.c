/*
 * cli_run.c — `wedge run`: compile (cached) or load a module, instantiate it
 * with WASI (or restore it from --snapshot), and run `_start` or one export
 * (--invoke).  Its option parsing, module loading and WASI setup are shared
 * with `wedge snapshot` (cli_run.h).
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

#include "cli_run.h"
#include "cwa/cwa.h"
#include "dagger/dagger.h"

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
          "  --snapshot FILE              start from a snapshot made by `wedge snapshot` of this\n"
          "                               module (then _start, or --invoke FUNC)\n"
          "  --init FUNC                  call export FUNC first (after a reactor's _initialize):\n"
          "                               what `wedge snapshot` captures, without the snapshot\n"
          "  --bounds guard|software|none bounds checking when compiling a .wasm (default guard)\n"
          "  -O N                         C optimisation level when compiling a .wasm\n"
          "  --store-key-file F           MODULE may be wedge://HOST:PORT/NAME or redis://HOST:PORT/NAME\n"
          "                               (a store node, `wedge store`): the pre-shared key\n"
          "  --fetch eager|lazy           how state is fetched from the store (default eager)\n"
          "  --granularity G              page | region:KIB | instance | module (module: the .wasm only)\n"
          "  -h, --help                   show this help\n"
          "\n"
          "Exit status: the guest's proc_exit code, 0 when it returns, 134 on a trap\n"
          "(\"wasm trap: <kind>\" on stderr), 1 on an error.\n",
          f);
}

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

int cli_run_parse(int argc, char **argv, cli_run_opts *o, bool snapshot_cmd)
{
    const char *cmd = snapshot_cmd ? "snapshot" : "run";
    bool bad = false;
    const char *v;
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            if (snapshot_cmd)
                cli_snapshot_usage(stdout);
            else
                cli_run_usage(stdout);
            return -1;
        } else if (!snapshot_cmd && (v = cli_opt(argc, argv, &i, "--invoke", &bad))) {
            o->invoke = v;
        } else if (!snapshot_cmd && (v = cli_opt(argc, argv, &i, "--snapshot", &bad))) {
            o->snapshot = v;
        } else if ((v = cli_opt(argc, argv, &i, "--init", &bad))) {
            o->init = v;
        } else if (snapshot_cmd && (v = cli_opt(argc, argv, &i, "-o", &bad))) {
            o->output = v;
        } else if ((v = cli_opt(argc, argv, &i, "--dir", &bad))) {
            if (o->ndirs == CLI_MAX_DIRS) {
                cli_error("%s: too many --dir options (max %d)", cmd, CLI_MAX_DIRS);
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
                cli_error("%s: --dir %s: expected HOST[::GUEST]", cmd, v);
                return CLI_EXIT_USER;
            }
        } else if ((v = cli_opt(argc, argv, &i, "--env", &bad))) {
            if (o->nenvs == CLI_MAX_ENVS) {
                cli_error("%s: too many --env options (max %d)", cmd, CLI_MAX_ENVS);
                return CLI_EXIT_USER;
            }
            if (!*v || *v == '=') {
                cli_error("%s: --env %s: expected NAME[=VALUE]", cmd, v);
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
                        cli_error("%s: out of memory", cmd);
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
                cli_error("%s: too many --tcplisten options (max %d)", cmd, CLI_MAX_LISTEN);
                return CLI_EXIT_USER;
            }
            o->listen[o->nlisten++] = v;        /* checked when WASI binds it */
        } else if ((v = cli_opt(argc, argv, &i, "--allow-http", &bad))) {
            if (o->nallow == CLI_MAX_ALLOW) {
                cli_error("%s: too many --allow-http options (max %d)", cmd, CLI_MAX_ALLOW);
                return CLI_EXIT_USER;
            }
            if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
                cli_error("%s: --allow-http %s: expected a pattern starting with http:// or https://", cmd, v);
                return CLI_EXIT_USER;
            }
            o->allow_http[o->nallow++] = v;
        } else if ((v = cli_opt(argc, argv, &i, "--ca-file", &bad))) {
            if (access(v, R_OK) != 0) {
                cli_error("%s: --ca-file %s: %s", cmd, v, strerror(errno));
                return CLI_EXIT_USER;
            }
            o->ca_file = v;
        } else if (!snapshot_cmd && (v = cli_opt(argc, argv, &i, "--store-key-file", &bad))) {
            o->remote.key_file = v;
        } else if (!snapshot_cmd && (v = cli_opt(argc, argv, &i, "--fetch", &bad))) {
            if ((o->remote.fetch = cli_parse_fetch(v)) < 0) {
                cli_error("run: --fetch %s: expected eager or lazy", v);
                return CLI_EXIT_USER;
            }
        } else if (!snapshot_cmd && (v = cli_opt(argc, argv, &i, "--granularity", &bad))) {
            if (cli_parse_granularity(v) < 0) {
                cli_error("run: --granularity %s: expected page, region:KIB (4..65536, whole pages), instance "
                          "or module", v);
                return CLI_EXIT_USER;
            }
            o->remote.granularity = v;
            o->remote.module_only = !strcmp(v, "module");
        } else if ((v = cli_opt(argc, argv, &i, "--bounds", &bad))) {
            if ((o->cg.bounds = cli_parse_bounds(v)) < 0) {
                cli_error("%s: --bounds %s: expected guard, software or none", cmd, v);
                return CLI_EXIT_USER;
            }
        } else if ((v = cli_opt(argc, argv, &i, "-O", &bad))) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 3) {
                cli_error("%s: -O %s: expected 0, 1, 2 or 3", cmd, v);
                return CLI_EXIT_USER;
            }
            o->cg.opt_level = (int)n;
        } else if (bad) {
            return CLI_EXIT_USER;
        } else if (a[0] == '-' && a[1]) {
            cli_error("%s: unknown option %s (see wedge %s --help)", cmd, a, cmd);
            return CLI_EXIT_USER;
        } else if (snapshot_cmd && !o->module) {
            /* `wedge snapshot app.wasm -o app.snap`: options may follow the
             * module; guest arguments for init go after `--`. */
            o->module = a;
        } else if (snapshot_cmd) {
            cli_error("snapshot: unexpected argument '%s' (arguments for init go after --)", a);
            return CLI_EXIT_USER;
        } else {
            break;
        }
        if (bad)
            return CLI_EXIT_USER;
    }
    if (snapshot_cmd && o->module) {
        o->args = argv + i;
        o->nargs = argc - i;
        return 0;
    }
    if (i >= argc) {
        cli_error("%s: no module given (usage: wedge %s [OPTIONS] MODULE [ARGS...])", cmd, cmd);
        return CLI_EXIT_USER;
    }
    o->module = argv[i];
    o->args = argv + i + 1;
    o->nargs = argc - i - 1;
    return 0;
}

/* The module as a .so path: a .wasm goes through the compile cache. */
bool cli_module_so(cli_run_opts *o, char *so, size_t cap)
{
    cg_err err;
    if (!cg_module_file_so(o->module, &o->cg, so, cap, &err)) {
        cli_error("%s", err.msg);
        return false;
    }
    return true;
}

rt_module *cli_module_load(cli_run_opts *o)
{
    char so[CG_SO_PATH_MAX];
    if (!cli_module_so(o, so, sizeof so))
        return NULL;
    rt_result res;
    rt_module *m = rt_init(&res) ? rt_module_load(so, &res) : NULL;
    if (!m)
        cli_error("%s", res.msg);
    return m;
}

/* Find export FUNC's signature from the descriptor. */
static const char *cli_export_sig(wedge_instance *inst, const char *name)
{
    const wedge_desc_export *e = wedge_desc_export_find(inst->desc, name, strlen(name));
    return e && e->kind == WEDGE_EXTERN_FUNC ? rt_func_sig(inst, e->index) : NULL;
}

int cli_report(const cli_run_opts *o, rt_status st, const rt_result *res)
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

bool cli_host_new(const cli_run_opts *o, cli_host *h)
{
    memset(h, 0, sizeof *h);
    h->wargv = calloc((size_t)o->nargs + 2, sizeof *h->wargv);
    if (!h->wargv) {
        cli_error("%s: out of memory", o->module);
        return false;
    }
    h->wargv[0] = o->module;
    for (int k = 0; k < o->nargs; k++)
        h->wargv[k + 1] = o->args[k];
    wasi_config *cfg = &h->wasi;
    cfg->argc = o->nargs + 1;
    cfg->argv = h->wargv;
    cfg->envc = o->nenvs;
    cfg->envp = o->envs;
    cfg->npreopens = o->ndirs;
    cfg->preopens = o->dirs;
    cfg->nlisten = o->nlisten;
    cfg->tcplisten = o->listen;
    for (int k = 0; k < 3; k++)
        cfg->stdio[k].host_fd = k;
    /* The linker: WASI and Dagger (also as "env", as its 2018 hosts did)
     * with this run's config; every instance gets a context from each host
     * module it imports from (runtime.h). */
    h->dagger = (dagger_config){.stdio_fd = {0, 1, 2}, .log_fd = 2, .npreopens = o->ndirs, .preopens = o->dirs,
                                .nallow_http = o->nallow, .allow_http = o->allow_http, .ca_file = o->ca_file};
    /* CommonWA (and "env"): the same argv and environment as WASI, the
     * same streams as Dagger. */
    h->cwa = (cwa_config){.argc = cfg->argc, .argv = cfg->argv, .envc = cfg->envc, .envp = cfg->envp,
                          .streams = h->dagger};
    rt_result res;
    h->lk = rt_linker_new(&res);
    if (!h->lk || rt_linker_add_host(h->lk, &wasi_host_module, &h->wasi, &res) < 0 ||
        rt_linker_add_host(h->lk, &dagger_host_module, &h->dagger, &res) < 0 ||
        !rt_linker_alias(h->lk, "env", &dagger_host_module, &res) ||
        rt_linker_add_host(h->lk, &cwa_host_module, &h->cwa, &res) < 0 ||
        !rt_linker_alias(h->lk, "env", &cwa_host_module, &res)) {
        cli_error("%s: %s", o->module, res.msg);
        return false;
    }
    return true;
}

void cli_host_free(cli_host *h)
{
    rt_linker_free(h->lk);
    free(h->wargv);
    memset(h, 0, sizeof *h);
}

bool cli_module_hash(const char *path, uint8_t out[RT_SNAPSHOT_HASH_BYTES])
{
    cg_err err;
    if (!cg_module_file_hash(path, out, &err)) {
        cli_error("%s", err.msg);
        return false;
    }
    return true;
}

int cli_run_init(const cli_run_opts *o, wedge_instance *inst, bool defaults)
{
    rt_result res;
    if (!o->init && !defaults)
        return 0;
    const char *name = rt_init_export(inst, o->init);
    rt_status st = rt_run_init(inst, o->init, &res);
    if (st == RT_ERR_EXIT) {
        cli_error("%s: init export '%s' called proc_exit(%d)", o->module, name, res.exit_code);
        return CLI_EXIT_USER;
    }
    if (st == RT_ERR_LINK && !name) {
        cli_error("%s: %s; name one with --init FUNC", o->module, res.msg);
        return CLI_EXIT_USER;
    }
    return cli_report(o, st, &res);
}

/* The instance to run: a fresh one, or one restored from --snapshot. */
static rt_status cli_run_instance(cli_run_opts *o, rt_module *m, const rt_linker *lk, wedge_instance **inst,
                                  rt_result *res, int *rc)
{
    if (!o->snapshot)
        return rt_instantiate(m, NULL, lk, NULL, inst, res);
    uint8_t hash[RT_SNAPSHOT_HASH_BYTES];
    if (!cli_module_hash(o->module, hash)) {
        *rc = CLI_EXIT_USER;
        return RT_ERR_LOAD;
    }
    rt_snapshot *snap = rt_snapshot_load(o->snapshot, m, hash, res);
    if (!snap) {
        cli_error("%s", res->msg);
        *rc = CLI_EXIT_USER;
        return RT_ERR_LOAD;
    }
    rt_status st = rt_snapshot_instantiate(snap, NULL, lk, NULL, NULL, inst, res);
    /* The instance does not refer to the snapshot once restored. */
    rt_snapshot_free(snap);
    /* From a store, lazily: its memory is filled by page faults. */
    if (st == RT_OK && (*inst)->mem && cli_remote_attach((*inst)->mem) != 0) {
        *rc = CLI_EXIT_USER;
        return RT_ERR_LOAD;
    }
    return st;
}

/* The whole command; what it keeps in `o` is freed by the caller, so every
 * return below may leave early. */
static int cli_run_with(int argc, char **argv, cli_run_opts *o)
{
    int rc = cli_run_parse(argc, argv, o, false);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (cli_remote_is_url(o->module)) {
        o->remote.url = o->module;
        if (cli_remote_fetch(&o->remote, o->fetched[0], sizeof o->fetched[0], o->fetched[1],
                             sizeof o->fetched[1]) != 0)
            return CLI_EXIT_USER;
        o->module = o->fetched[0];
        if (o->fetched[1][0] && !o->snapshot)
            o->snapshot = o->fetched[1];
    }

    rt_module *m = cli_module_load(o);
    if (!m)
        return CLI_EXIT_USER;
    /* A guest writing to a closed pipe (`wedge run g.wasm | head -c 10`)
     * gets EPIPE and decides for itself; SIGPIPE would kill wedge (exit
     * 141).  Ignored only now, after compiling: an ignored signal is
     * inherited across exec, and the C compiler must keep the default. */
    signal(SIGPIPE, SIG_IGN);

    rt_result res;
    cli_host host;
    if (!cli_host_new(o, &host)) {
        cli_host_free(&host);
        rt_module_unload(m);
        return CLI_EXIT_USER;
    }

    wedge_instance *inst = NULL;
    rc = -1;
    rt_status st = cli_run_instance(o, m, host.lk, &inst, &res, &rc);
    if (rc >= 0)
        ;   /* already reported */
    else if (st != RT_OK)
        rc = cli_report(o, st, &res);
    else if (o->init && (rc = cli_run_init(o, inst, false)) != 0)
        ;   /* init failed, reported */
    else if (o->invoke)
        rc = cli_invoke(o, inst);
    else if (o->snapshot && !rt_instance_export(inst, "_start", 6, &(rt_extern){0}) &&
             !dagger_instance_is_guest(inst) && !cwa_instance_is_guest(inst)) {
        cli_error("%s: no _start export to run after restoring %s; name an export with --invoke", o->module,
                  o->snapshot);
        rc = CLI_EXIT_USER;
    } else
        rc = cli_report(o, cli_run_entry(inst, &res), &res);

    if (cli_remote_finish() != 0 && rc == 0)
        rc = CLI_EXIT_USER;
    rt_instance_free(inst);
    cli_host_free(&host);
    rt_module_unload(m);
    return rc;
}

void cli_run_opts_free(cli_run_opts *o)
{
    for (int k = 0; k < o->nkept; k++)
        free(o->kept[k]);
    o->nkept = 0;
}

int cli_run_main(int argc, char **argv)
{
    cli_run_opts o;
    memset(&o, 0, sizeof o);
    cg_options_default(&o.cg);
    o.cg.quiet = true;
    int rc = cli_run_with(argc, argv, &o);
    cli_run_opts_free(&o);
    return rc;
}
