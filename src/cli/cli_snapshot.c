/*
 * cli_snapshot.c — `wedge snapshot`: instantiate a module with WASI, run its
 * init export once, and write the initialised instance to a snapshot file
 * (docs/snapshot-format.md) that `wedge run --snapshot` and `wedge serve`
 * routes start from.
 *
 * The init export: --init FUNC, else `wizer.initialize` (Wizer's name),
 * else `_initialize` (a WASI reactor's constructor export); it must take
 * and return nothing, and a reactor's `_initialize` runs before any other
 * init export (cli_run_init).  WASI calls are allowed during init (reading a
 * config file from a --dir is the usual case); the init instance's host
 * contexts (WASI's, with every descriptor it opened) are freed with it, so
 * no host state reaches the snapshot but what a host module's own snapshot
 * hook writes (runtime.h; neither WASI nor Dagger has one).
 *
 * Exit status: 0 written; 1 on an error (no init export, a bad module, a
 * state that cannot be captured, an unwritable file, init calling
 * proc_exit); 134 when init traps ("wasm trap: <kind>" on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"

void cli_snapshot_usage(FILE *f)
{
    fputs("Usage: wedge snapshot [OPTIONS] MODULE.wasm|MODULE.so -o FILE [ARGS...]\n"
          "\n"
          "Instantiate the module, run its init export once and write the initialised\n"
          "instance (memory, globals, tables, dropped segments) to FILE.  `wedge run\n"
          "--snapshot FILE MODULE` and wedge serve routes with \"snapshot\" start from it;\n"
          "it is bound to this module file (SHA-256) and this wedge's module ABI.\n"
          "\n"
          "Options:\n"
          "  -o FILE                      the snapshot to write (required)\n"
          "  --init FUNC                  the init export (default: wizer.initialize, else\n"
          "                               _initialize; it takes and returns nothing; a\n"
          "                               reactor's _initialize runs first)\n"
          "  --dir HOST[::GUEST]          pre-open directory HOST as GUEST during init\n"
          "  --env NAME[=VALUE]           set a guest environment variable during init\n"
          "  --bounds guard|software|none bounds checking when compiling a .wasm (default guard)\n"
          "  -O N                         C optimisation level when compiling a .wasm\n"
          "  -h, --help                   show this help\n"
          "\n"
          "Host state is not captured: descriptors opened during init are closed, and\n"
          "every restore gets a fresh WASI context (pre-open the same directories there:\n"
          "wasi-libc remembers them in linear memory).  A command module's _start runs\n"
          "its constructors again; snapshot guests are usually reactors (_initialize plus\n"
          "exports) restored with `wedge run --snapshot FILE --invoke FUNC`.\n",
          f);
}

static int cli_snapshot_with(int argc, char **argv, cli_run_opts *o)
{
    int rc = cli_run_parse(argc, argv, o, true);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (!o->output) {
        cli_error("snapshot: no -o FILE given (usage: wedge snapshot [OPTIONS] MODULE -o FILE)");
        return CLI_EXIT_USER;
    }
    uint8_t hash[RT_SNAPSHOT_HASH_BYTES];
    rt_module *m = cli_module_hash(o->module, hash) ? cli_module_load(o) : NULL;
    if (!m)
        return CLI_EXIT_USER;
    rt_result res;
    cli_host host;
    wedge_instance *inst = NULL;
    rt_snapshot *snap = NULL;
    rc = CLI_EXIT_USER;
    if (!cli_host_new(o, &host))
        goto out;
    rt_status st = rt_instantiate(m, NULL, host.lk, NULL, &inst, &res);
    if (st != RT_OK) {
        rc = cli_report(o, st, &res);
        goto out;
    }
    if ((rc = cli_run_init(o, inst, true)) != 0)
        goto out;
    rc = CLI_EXIT_USER;
    snap = rt_snapshot_capture(inst, hash, &res);
    if (!snap || !rt_snapshot_save(snap, o->output, &res)) {
        cli_error("%s", res.msg);
        goto out;
    }
    rc = 0;
out:
    rt_snapshot_free(snap);
    /* The host contexts (and every descriptor init opened) go with it. */
    rt_instance_free(inst);
    cli_host_free(&host);
    rt_module_unload(m);
    return rc;
}

int cli_snapshot_main(int argc, char **argv)
{
    cli_run_opts o;
    memset(&o, 0, sizeof o);
    cg_options_default(&o.cg);
    o.cg.quiet = true;
    int rc = cli_snapshot_with(argc, argv, &o);
    cli_run_opts_free(&o);
    return rc;
}
