/*
 * cli_compile.c — `wedge compile`: a .wasm file to a module .so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "compile/compile.h"
#include "util/util.h"

static void cli_compile_usage(FILE *f)
{
    fputs("Usage: wedge compile [OPTIONS] IN.wasm -o OUT.so\n"
          "\n"
          "Compile a WebAssembly module ahead of time to a shared object that\n"
          "`wedge run` and `wedge serve` load.\n"
          "\n"
          "Options:\n"
          "  -o FILE                      output .so (required)\n"
          "  -O N                         C compiler optimisation level (default 2)\n"
          "  --bounds guard|software|none linear-memory bounds checking (default guard)\n"
          "  --emit-c FILE                also write the generated C to FILE\n"
          "  -j N                         parallel C compiler jobs (default: CPUs)\n"
          "  -q, --quiet                  no progress output\n"
          "  -h, --help                   show this help\n",
          f);
}

int cli_compile_main(int argc, char **argv)
{
    cg_options o;
    cg_options_default(&o);
    const char *in = NULL, *out = NULL, *v;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_compile_usage(stdout);
            return 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o.quiet = true;
        } else if ((v = cli_opt(argc, argv, &i, "-o", &bad))) {
            out = v;
        } else if ((v = cli_opt(argc, argv, &i, "-O", &bad))) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 3) {
                cli_error("-O %s: expected 0, 1, 2 or 3", v);
                return CLI_EXIT_USER;
            }
            o.opt_level = (int)n;
        } else if ((v = cli_opt(argc, argv, &i, "-j", &bad))) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 256) {
                cli_error("-j %s: expected a number of jobs", v);
                return CLI_EXIT_USER;
            }
            o.jobs = (int)n;
        } else if ((v = cli_opt(argc, argv, &i, "--bounds", &bad))) {
            if ((o.bounds = cli_parse_bounds(v)) < 0) {
                cli_error("--bounds %s: expected guard, software or none", v);
                return CLI_EXIT_USER;
            }
        } else if ((v = cli_opt(argc, argv, &i, "--emit-c", &bad))) {
            o.emit_c = v;
        } else if (bad) {
            return CLI_EXIT_USER;
        } else if (a[0] == '-' && a[1]) {
            cli_error("compile: unknown option %s (see wedge compile --help)", a);
            return CLI_EXIT_USER;
        } else if (!in) {
            in = a;
        } else {
            cli_error("compile: more than one input (%s and %s)", in, a);
            return CLI_EXIT_USER;
        }
        if (bad)
            return CLI_EXIT_USER;
    }
    if (!in || !out) {
        cli_error("compile: %s (usage: wedge compile IN.wasm -o OUT.so)", !in ? "no input file" : "no -o OUT.so");
        return CLI_EXIT_USER;
    }
    size_t len;
    struct stat st;
    if (stat(in, &st) == 0 && !S_ISREG(st.st_mode)) {
        cli_error("%s: not a regular file", in);
        return CLI_EXIT_USER;
    }
    uint8_t *wasm = ut_read_file(in, SIZE_MAX, &len);
    if (!wasm) {
        cli_error("%s: %s", in, strerror(errno));
        return CLI_EXIT_USER;
    }
    cg_err err;
    bool ok = cg_compile(wasm, len, in, out, &o, &err);
    free(wasm);
    if (!ok) {
        cli_error("%s", err.msg);
        return CLI_EXIT_USER;
    }
    return 0;
}
