/*
 * cli_run.h — what `wedge run` shares with `wedge snapshot` (both
 * instantiate a module with WASI from the same options): option parsing,
 * the module file to a loaded .so, the host modules' linker, exit statuses.
 * Internal to src/cli.
 *
 * Ownership: strings in cli_run_opts point into argv or into `kept`,
 * which the command frees (cli_run_opts_free) on every way out.
 */
#ifndef WEDGE_CLI_RUN_H
#define WEDGE_CLI_RUN_H

#include <stdio.h>

#include "cli.h"
#include "compile/compile.h"
#include "cwa/cwa.h"
#include "dagger/dagger.h"
#include "runtime/runtime.h"
#include "wasi/wasi.h"

#define CLI_MAX_DIRS 64
#define CLI_MAX_ENVS 256
#define CLI_MAX_LISTEN 64
#define CLI_MAX_ALLOW 64

typedef struct cli_run_opts {
    const char *module;
    const char *invoke;
    const char *snapshot;       /* run --snapshot FILE */
    const char *init;           /* --init FUNC */
    const char *output;         /* snapshot -o FILE */
    int nargs;
    char **args;
    wasi_preopen dirs[CLI_MAX_DIRS];
    int ndirs;
    const char *envs[CLI_MAX_ENVS];
    int nenvs;
    const char *listen[CLI_MAX_LISTEN];
    int nlisten;
    const char *allow_http[CLI_MAX_ALLOW];     /* --allow-http patterns (Dagger http(s) streams) */
    int nallow;
    const char *ca_file;        /* --ca-file */
    cg_options cg;
    cli_remote_opts remote;     /* MODULE is a store URL (cli_remote.c) */
    char fetched[2][4096];      /* its module and snapshot in the node cache */
    /* What cli_keep allocated: at most one string per --dir or --env. */
    char *kept[CLI_MAX_DIRS + CLI_MAX_ENVS];
    int nkept;
} cli_run_opts;


/* 0: parsed; -1: --help printed; else an exit status (message printed). */
int cli_run_parse(int argc, char **argv, cli_run_opts *o, bool snapshot_cmd);
void cli_run_opts_free(cli_run_opts *o);
/* o->module as a loadable .so path (a .wasm compiled through the cache). */
bool cli_module_so(cli_run_opts *o, char *so, size_t cap);
/* rt_init + the module loaded from o->module; NULL with the message printed. */
rt_module *cli_module_load(cli_run_opts *o);
/* The host side of one command: the WASI config (argv[0] = the module,
 * then o->args), the Dagger and CommonWA configs made from o, and the
 * linker they are registered in (WASI, Dagger, CommonWA, the last two
 * also as "env").  Each instance
 * made through lk gets fresh host contexts from them. */
typedef struct cli_host {
    const char **wargv;
    wasi_config wasi;
    dagger_config dagger;
    cwa_config cwa;
    rt_linker *lk;
} cli_host;
/* False with the message printed; cli_host_free is due either way. */
bool cli_host_new(const cli_run_opts *o, cli_host *h);
void cli_host_free(cli_host *h);
/* Exit status for a guest call's outcome (message printed). */
int cli_report(const cli_run_opts *o, rt_status st, const rt_result *res);
/* SHA-256 of the module file (snapshots are bound to it); false with the
 * message printed. */
bool cli_module_hash(const char *path, uint8_t out[RT_SNAPSHOT_HASH_BYTES]);
void cli_snapshot_usage(FILE *f);
/* Runs the init export: o->init, else (with `defaults`) wizer.initialize,
 * else _initialize; a reactor's _initialize first when the init export is
 * another one.  0, or an exit status (message printed). */
int cli_run_init(const cli_run_opts *o, wedge_instance *inst, bool defaults);

#endif
