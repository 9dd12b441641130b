/*
 * cli.h — shared pieces of the `wedge` command line.
 *
 * Conventions: every subcommand is `int cli_<name>_main(argc, argv)` with
 * argv[0] the subcommand name, returns the process exit status; errors are
 * one line on stderr, "error: <file>: <reason>", and exit status 1 (traps:
 * CLI_EXIT_TRAP).
 */
#ifndef WEDGE_CLI_H
#define WEDGE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A trap exits like wasmtime on Unix: 128 + SIGABRT. */
#define CLI_EXIT_TRAP 134
#define CLI_EXIT_USER 1

int cli_compile_main(int argc, char **argv);
int cli_run_main(int argc, char **argv);
int cli_snapshot_main(int argc, char **argv);

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Option helpers: `--name VALUE` or `--name=VALUE` (and -X VALUE / -XVALUE
 * for one-letter options).  Returns the value and advances *i, or NULL
 * when argv[*i] is not this option.  Prints an error and sets *bad when
 * the value is missing. */
const char *cli_opt(int argc, char **argv, int *i, const char *name, bool *bad);

/* "guard" | "software" | "none" -> WEDGE_BOUNDS_*, or -1. */
int cli_parse_bounds(const char *s);

/* Parse one argument for a value of signature char `t` ("iIfFrev"; a v128
 * is written SHAPE:lanes, e.g. i32x4:1,2,3,4 or f64x2:0.5,-1). */
bool cli_parse_value(char t, const char *s, void *out_value);
/* Print one result of signature char `t` on its own line (a v128 as
 * i32x4:0x...,0x...,0x...,0x...). */
void cli_print_value(char t, const void *value);

#endif
