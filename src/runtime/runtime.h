/*
 * runtime.h — the wedge runtime core: load a compiled module (.so), link
 * and instantiate it, call its exports, and turn every trap into a value.
 *
 * Ownership:
 *  - rt_module_load() returns a module the caller owns; rt_module_unload()
 *    dlclose()s it.  Instances of a module must be freed before it.
 *  - rt_instantiate() returns an instance the caller owns
 *    (rt_instance_free).  It keeps pointers to the externs it imported; the
 *    caller keeps those alive at least as long (an instance that exports a
 *    memory/table/global/function used by another must outlive it).
 *  - Host objects made by rt_memory_new / rt_table_new / rt_host_func are
 *    owned by the caller.
 *
 * Errors: calls return an rt_status and fill a caller-owned rt_result
 * (trap kind, exit code, one-line message).  Nothing is allocated on the
 * error path.  Traps never unwind through the caller: they end at the
 * innermost rt_call / rt_instantiate.
 *
 * Threads: any thread may call into the runtime; each thread that runs
 * guest code gets (lazily) its own guest stack with a guard region and an
 * alternate signal stack.
 */
#ifndef WEDGE_RUNTIME_H
#define WEDGE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../abi/wedge_abi.h"

#define RT_WARN_UNUSED __attribute__((warn_unused_result))

typedef enum rt_status {
    RT_OK = 0,
    RT_ERR_LOAD,        /* dlopen / ABI version / bad descriptor */
    RT_ERR_LINK,        /* unknown import or incompatible import type */
    RT_ERR_TRAP,        /* a trap (res->trap says which) */
    RT_ERR_EXIT,        /* proc_exit (res->exit_code) */
    RT_ERR_RESOURCE,    /* out of memory / address space */
} rt_status;

typedef struct rt_result {
    wedge_trap_kind trap;
    int exit_code;
    char msg[256];
} rt_result;

typedef struct rt_module rt_module;

/* An extern value, as imported or exported. */
typedef struct rt_extern {
    uint8_t kind;                       /* WEDGE: 0 func, 1 table, 2 memory, 3 global */
    union {
        struct { wedge_funcref *ref; wedge_trampoline tramp; } func;
        wedge_table *table;
        wedge_memory *mem;
        struct { wedge_value *cell; uint8_t valtype; uint8_t mut; } global;
    } u;
} rt_extern;

/* Import resolution: called once per import, in order.  Return true and
 * fill *out, or false (the runtime reports "unknown import").  The runtime
 * then checks the extern's type against the import and reports
 * "incompatible import type" itself. */
typedef bool (*rt_resolve_fn)(void *ud, wedge_instance *importer, const wedge_desc_import *imp, rt_extern *out);

typedef struct rt_limits {
    uint32_t max_memory_pages;          /* cap on any memory; 0 = 65536 */
    uint32_t max_table_elems;           /* cap on table growth; 0 = 10,000,000 */
} rt_limits;

/* ---- process / thread setup ---------------------------------------------- */

/* Install the trap signal handlers (idempotent).  Call once before guest code. */
RT_WARN_UNUSED bool rt_init(rt_result *res);

/* Canonical id for a signature string ("iI:f", see wedge_desc_type). */
uint32_t rt_type_intern(const char *sig);

/* ---- modules ---------------------------------------------------------- */

RT_WARN_UNUSED rt_module *rt_module_load(const char *so_path, rt_result *res);
void rt_module_unload(rt_module *m);
/* A module whose descriptor is linked into the process (tests, embedders
 * with statically compiled modules): the same checks and type interning as
 * rt_module_load, no dlopen.  `d` must outlive the module; `name` is used
 * in messages. */
RT_WARN_UNUSED rt_module *rt_module_wrap(wedge_module_desc *d, const char *name, rt_result *res);
const wedge_module_desc *rt_module_desc(const rt_module *m);

/* ---- instances -------------------------------------------------------- */

/* Link, allocate, initialise globals/tables/memory, apply segments and run
 * the start function.  On RT_ERR_TRAP during segment application or start,
 * *out is still set (the instance exists, per Wasm 2.0 semantics, but
 * should not be used); free it. `host` is stored in (*out)->host. */
RT_WARN_UNUSED rt_status rt_instantiate(rt_module *m, const rt_limits *lim, rt_resolve_fn resolve, void *ud,
                                        void *host, wedge_instance **out, rt_result *res);
void rt_instance_free(wedge_instance *inst);

/* Look an export up by name.  False if there is none. */
bool rt_instance_export(wedge_instance *inst, const char *name, size_t name_len, rt_extern *out);

/* Signature of an exported function (from the descriptor), e.g. "ii:I". */
const char *rt_func_sig(wedge_instance *inst, uint32_t funcidx);

/* Call a function: args/results follow its signature.  Runs on this
 * thread's guest stack; any trap ends here. */
RT_WARN_UNUSED rt_status rt_call(const rt_extern *func, const wedge_value *args, wedge_value *results, rt_result *res);

/* Run the WASI `_start` export (if present) like rt_call. */
RT_WARN_UNUSED rt_status rt_run_start(wedge_instance *inst, rt_result *res);
/* Run export `name`, a function taking and returning nothing, like rt_call;
 * RT_ERR_LINK if there is none of that type. */
RT_WARN_UNUSED rt_status rt_run_export(wedge_instance *inst, const char *name, rt_result *res);

/* The init export a snapshot is taken after: `name` if not NULL, else
 * `wizer.initialize`, else `_initialize`; NULL if none exists. */
const char *rt_init_export(wedge_instance *inst, const char *name);
/* Runs it (a function taking and returning nothing; RT_ERR_LINK if missing
 * or of another type), after the module's `_initialize` when it is
 * another export: a reactor's constructors run before any other export. */
RT_WARN_UNUSED rt_status rt_run_init(wedge_instance *inst, const char *name, rt_result *res);

/* ---- snapshots (SPEC section 6; file format: docs/snapshot-format.md) ------
 *
 * A snapshot is an instance's state after its initialisation: linear
 * memory (its non-zero extents), memory size, defined globals, defined
 * tables as function indices, dropped segments.  It is bound to a module
 * by `module_hash`, the SHA-256 of the module file's bytes (computed by the
 * caller), and to WEDGE_ABI_VERSION.  Host state (WASI descriptors, ...) is
 * never in it: each restore gets the host context its caller passes.
 *
 * Ownership: capture and load return a snapshot the caller owns
 * (rt_snapshot_free), holding its memory image in one sealed memory file;
 * it refers to the module, which must outlive it and every instance
 * restored from it.
 * Errors: NULL / false / a status, with a one-line res->msg (for load:
 * "FILE: reason").  Threads: a snapshot is read-only after it is made;
 * any thread may restore from it concurrently.
 */
typedef struct rt_snapshot rt_snapshot;
#define RT_SNAPSHOT_HASH_BYTES 32

/* Capture `inst` (init has run).  Refused when the state cannot be
 * represented: an imported memory or table or mutable global, a table
 * holding another instance's function or a non-null externref. */
RT_WARN_UNUSED rt_snapshot *rt_snapshot_capture(wedge_instance *inst, const uint8_t module_hash[RT_SNAPSHOT_HASH_BYTES],
                                                rt_result *res);
/* Write it to `path` (replaced atomically: a temporary file renamed). */
RT_WARN_UNUSED bool rt_snapshot_save(const rt_snapshot *s, const char *path, rt_result *res);
/* Read and check a file for module `m` whose file hashes to module_hash:
 * refuses another module, another ABI or format version, a truncated or
 * corrupted file, anything that does not fit m's descriptor. */
RT_WARN_UNUSED rt_snapshot *rt_snapshot_load(const char *path, rt_module *m,
                                             const uint8_t module_hash[RT_SNAPSHOT_HASH_BYTES], rt_result *res);
void rt_snapshot_free(rt_snapshot *s);
/* Memory size in 64 KiB pages (0 without a memory). */
uint32_t rt_snapshot_pages(const rt_snapshot *s);
/* A new instance in the snapshot's state: linking as rt_instantiate, then
 * memory mapped copy-on-write from the snapshot's image (cost independent
 * of its size), globals, tables and dropped segments set; neither segments
 * nor the start function run again.  `pool` (rt_sandbox.h) may be NULL;
 * a pooled memory goes back to the snapshot's state on release, touching
 * only the pages the instance used. */
struct rt_mempool;
RT_WARN_UNUSED rt_status rt_snapshot_instantiate(const rt_snapshot *s, const rt_limits *lim, rt_resolve_fn resolve,
                                                 void *ud, void *host, struct rt_mempool *pool, wedge_instance **out,
                                                 rt_result *res);

/* ---- host objects (spectest, embedders) ----------------------------------- */

wedge_memory *rt_memory_new(uint32_t min_pages, uint32_t max_pages, bool has_max, rt_result *res);
void rt_memory_free(wedge_memory *mem);
/* Pools: give a memory back its initial state, `pages` zero pages (at most
 * its max), without unmapping the reservation: touched pages are dropped
 * (they read as zero again) and pages beyond `pages` become inaccessible.
 * False if the OS refused (the memory is then unusable; free it). */
RT_WARN_UNUSED bool rt_memory_reset(wedge_memory *mem, uint32_t pages);
wedge_table *rt_table_new(uint8_t elemtype, uint32_t min, uint32_t max, bool has_max, rt_result *res);
void rt_table_free(wedge_table *tab);
/* A host function: fn has the wedge_funcref C signature for `sig`.  The
 * returned funcref has inst == NULL, which means "bind to the importer":
 * when an import resolves to a funcref whose inst is NULL, the runtime
 * makes an instance-owned copy with inst = the importing instance, so the
 * host function receives the caller's instance (memory, host pointer).
 * Returned funcrefs are interned per (sig, fn) and live for the process. */
wedge_funcref *rt_host_func(const char *sig, void (*fn)(void));

/* ---- for host functions -------------------------------------------------- */

/* End the current guest call with a trap / a proc_exit.  Only from host
 * functions called by guest code. */
WEDGE_NORETURN void rt_trap(wedge_trap_kind kind);
WEDGE_NORETURN void rt_exit(int code);

/* Text of a trap kind, as the spec test suite words it. */
const char *rt_trap_name(wedge_trap_kind kind);

#endif
