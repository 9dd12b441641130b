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
int cli_store_main(int argc, char **argv);

/* Running from a store (cli_remote.c): `wedge run wedge://HOST:PORT/NAME`. */
enum { CLI_FETCH_EAGER = 0, CLI_FETCH_LAZY = 1 };
typedef struct cli_remote_opts {
    const char *url;
    const char *key_file;       /* --store-key-file */
    int fetch;                  /* CLI_FETCH_* */
    const char *granularity;    /* page | region:KIB | instance | module */
    bool module_only;           /* granularity "module": the .wasm only */
} cli_remote_opts;
/* True when s names a store (wedge://... or redis://...). */
bool cli_remote_is_url(const char *s);
/* "eager" | "lazy" -> CLI_FETCH_*, or -1. */
int cli_parse_fetch(const char *s);
/* 0 when s is a granularity, -1 otherwise. */
int cli_parse_granularity(const char *s);
/* Fetches (or finds in the node cache) the module and, if there is one
 * and not module_only, its snapshot; their local paths into module and
 * snap ("" without a snapshot).  -1 after one error line. */
int cli_remote_fetch(const cli_remote_opts *r, char *module, size_t cap, char *snap, size_t snap_cap);
/* Lazy fetch: after the snapshot's small state is restored, registers its
 * memory for page faults and prefetches a recorded working set; after the
 * run, records the working set (first start) and reports a failed fetch.
 * Both do nothing for eager fetches.  0, or -1 after one error line. */
struct wedge_memory;
int cli_remote_attach(struct wedge_memory *mem);
int cli_remote_finish(void);

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
