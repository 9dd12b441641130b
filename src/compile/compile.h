/*
 * compile.h — the wedge compiler: a validated Wasm module to C, and C to a
 * module .so linked with libsledge; plus the compiled-object cache.
 *
 * Ownership: the caller owns every buffer it passes; the compiler writes
 * only the output paths it is given and files inside the cache directory.
 * Errors: false + a caller-owned cg_err, one line naming the file and the
 * reason; nothing allocated on the error path.
 */
#ifndef WEDGE_COMPILE_H
#define WEDGE_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/wedge_abi.h"
#include "wasm/wasm.h"

typedef struct cg_options {
    int opt_level;          /* -O N: passed to cc (default 2) */
    int bounds;             /* WEDGE_BOUNDS_* (default guard) */
    const char *emit_c;     /* also write the generated C here (first part), or NULL */
    int jobs;               /* parallel cc processes; 0 = number of CPUs */
    bool quiet;             /* no progress output */
} cg_options;

/* Room for the .so path cg_compile_cached and cg_module_file_so write. */
#define CG_SO_PATH_MAX 4096

typedef struct cg_err {
    char msg[512];
} cg_err;

void cg_options_default(cg_options *o);

/* Generate C for a validated module.  `nparts` >= 1 C files are produced
 * (one per part, for parallel cc); part 0 holds the descriptor.  Each
 * part is written to `paths[i]`. */
__attribute__((warn_unused_result))
bool cg_emit_c(const wasm_module *m, const cg_options *o, int nparts, const char *const *paths, cg_err *err);

/* Decode + validate + generate + cc: `wasm` bytes to `out_so`.
 * `src_name` names the input in messages. */
__attribute__((warn_unused_result))
bool cg_compile(const uint8_t *wasm, size_t len, const char *src_name, const char *out_so, const cg_options *o,
                cg_err *err);

/* The cache directory ($WEDGE_CACHE_DIR, else $XDG_CACHE_HOME/wedge, else
 * ~/.cache/wedge), created if missing, into dir.  Also the root of the
 * node-side cache of blobs fetched from a store (cli_remote.c). */
__attribute__((warn_unused_result)) bool cg_cache_root(char *dir, size_t cap, cg_err *err);

/* The cache: compile unless an object for (module hash, compiler version,
 * options) exists; write its path to so_path.  Directory:
 * $WEDGE_CACHE_DIR, else $XDG_CACHE_HOME/wedge, else ~/.cache/wedge. */
__attribute__((warn_unused_result))
bool cg_compile_cached(const uint8_t *wasm, size_t len, const char *src_name, const cg_options *o, char *so_path,
                       size_t so_path_cap, cg_err *err);

/* The cache's file index (see cg_cache.c): the object a module file
 * (identified by its fstat) compiled to, without reading or hashing it.
 * lookup: true and so_path filled on a hit.  remember: best effort, after
 * cg_compile_cached gave so_path for the bytes read at read_ns
 * (CLOCK_REALTIME) from the file `st` describes; a file changed in the
 * last seconds before it was read is not entered. */
struct stat;
bool cg_cache_lookup_file(const struct stat *st, const cg_options *o, char *so_path, size_t so_path_cap);
void cg_cache_remember_file(const struct stat *st, int64_t read_ns, const cg_options *o, const char *so_path);

/* SHA-256 of a module file's bytes: what binds a snapshot to its module
 * (runtime.h, rt_snapshot_*).  The _file form reads `path` (run and serve
 * hash the file they were given); errors "<path>: cannot read: <reason>". */
void cg_module_hash(const void *bytes, size_t len, uint8_t out[32]);
__attribute__((warn_unused_result))
bool cg_module_file_hash(const char *path, uint8_t out[32], cg_err *err);

/* A module file to the path of the .so to load: a Wasm binary (by its
 * `\0asm` magic) through the cache and its file index, so an unchanged
 * file seen before is neither read nor hashed again; a compiled module (by
 * its ELF magic) is its own path.  Both `wedge run` and `wedge serve` load
 * their modules through this one function.  Errors: "<path>: cannot open:
 * <reason>", "...: not a WebAssembly module or a compiled .so", and the
 * compiler's own. */
__attribute__((warn_unused_result))
bool cg_module_file_so(const char *path, const cg_options *o, char *so, size_t cap, cg_err *err);

/* Resource limits of every C compiler child (cc, and through it cc1, as,
 * ld): RLIMIT_CPU in seconds and RLIMIT_AS in MiB, set in the child before
 * exec.  A module that makes cc exceed one fails to compile with "C
 * compiler stopped at its CPU-time limit of N s" or "C compiler ran out of
 * memory under its address-space limit of N MiB".  The defaults leave
 * room for the largest function body accepted (CG_MAX_FUNC_BODY: about
 * 300 s and 2.4 GB at -O2); $WEDGE_CC_CPU_SECONDS and $WEDGE_CC_MEMORY_MB
 * (positive integers) override them.  Never above the process's own hard
 * limits. */
#define CG_CC_CPU_SECONDS 600u
#define CG_CC_MEMORY_MB 4096u
typedef struct cg_cc_limits {
    unsigned cpu_seconds;
    unsigned memory_mb;
} cg_cc_limits;
/* The limits in force: defaults, then the environment. */
void cg_cc_limits_get(cg_cc_limits *l);

/* Version string that keys the cache (changes with the ABI headers and
 * libsledge). */
const char *cg_compiler_version(void);

#endif
