/*
 * cli_main.c — `wedge`: subcommand dispatch, `version`, `--help`.
 */
#include <stdio.h>
#include <string.h>

#include "abi/wedge_abi.h"
#include "cli.h"
#include "compile/compile.h"
#include "serve/serve.h"

#ifndef WEDGE_VERSION
#define WEDGE_VERSION "0.0.0"
#endif

static void cli_usage(FILE *f)
{
    fputs("Usage: wedge <COMMAND> [OPTIONS]\n"
          "\n"
          "A WebAssembly ahead-of-time runtime for serverless functions.\n"
          "\n"
          "Commands:\n"
          "  compile   compile a .wasm module to a native .so\n"
          "  run       run a WASI command, or invoke one export (--invoke)\n"
          "  snapshot  run a module's init export once and save the instance (app.snap)\n"
          "  serve     serve modules over HTTP (wedge serve CONFIG.json)\n"
          "  version   print version information\n"
          "\n"
          "Run `wedge <COMMAND> --help` for a command's options.\n",
          f);
}

static int cli_version_main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        puts("Usage: wedge version\n\nPrint wedge's version, module ABI version and compiler version.");
        return 0;
    }
    printf("wedge %s (module ABI %u, compiler %s)\n", WEDGE_VERSION, WEDGE_ABI_VERSION, cg_compiler_version());
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USER;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        cli_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0)
        return cli_version_main(argc - 1, argv + 1);
    if (strcmp(cmd, "compile") == 0)
        return cli_compile_main(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cli_run_main(argc - 1, argv + 1);
    if (strcmp(cmd, "snapshot") == 0)
        return cli_snapshot_main(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return srv_main(argc - 1, argv + 1);
    cli_error("unknown command '%s' (see wedge --help)", cmd);
    return CLI_EXIT_USER;
}
