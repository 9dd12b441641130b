/*
 * runtime.h — the wedge runtime core: load a compiled module (.so), link
 * its imports through a linker of host modules and named instances,
 * instantiate it, call its exports, and turn every trap into a value.
 *
 * Ownership:
 *  - rt_module_load() returns a module the caller owns; rt_module_unload()
 *    dlclose()s it.  Instances of a module must be freed before it.
 *  - rt_linker_new() returns a linker the caller owns (rt_linker_free).  It
 *    copies names; host-module descriptions, configs, named instances and
 *    defined externs it only points at, and the caller keeps them alive as
 *    long as the linker is used.  Instances do not keep the linker: it may
 *    be freed once instantiation returns.
 *  - rt_instantiate() returns an instance the caller owns
 *    (rt_instance_free).  It keeps pointers to the externs it imported; the
 *    caller keeps those alive at least as long (an instance that exports a
 *    memory/table/global/function used by another must outlive it).  Host
 *    module contexts belong to the instance: made by their ctx_new during
 *    instantiation, freed by ctx_free in rt_instance_free (or when
 *    instantiation fails).
 *  - Memories and tables made by rt_memory_new / rt_table_new are owned by
 *    the caller (rt_memory_free / rt_table_free); funcrefs returned by
 *    rt_host_func are the runtime's and live for the process.
 *
 * Errors: calls return an rt_status and fill a caller-owned rt_result
 * (trap kind, exit code, one-line message).  Nothing is allocated on the
 * error path.  Traps never unwind through the caller: they end at the
 * innermost rt_call / rt_instantiate.  A link error names the import, its
 * kind and type, and what the linker has instead:
 *   unknown import "env"."foo" (func (param i32)): nothing linked is named "env"
 *
 * Threads: any thread may call into the runtime; each thread that runs
 * guest code gets (lazily) its own guest stack with a guard region and an
 * alternate signal stack.  A linker is built by one thread; once built,
 * any number of threads may instantiate through it at once (it is only
 * read).
 */
#ifndef WEDGE_RUNTIME_H
#define WEDGE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/wedge_abi.h"

#define RT_WARN_UNUSED __attribute__((warn_unused_result))

typedef enum rt_status {
    RT_OK = 0,
    RT_ERR_LOAD,        /* dlopen / ABI version / bad descriptor */
    RT_ERR_LINK,        /* unknown import or incompatible import type */
    RT_ERR_TRAP,        /* a trap (res->trap says which) */
    RT_ERR_EXIT,        /* proc_exit (res->exit_code) */
    RT_ERR_RESOURCE,    /* out of memory / address space */
    RT_ERR_HOST,        /* a host module could not make its context (its ctx_new failed) */
} rt_status;

typedef struct rt_result {
    wedge_trap_kind trap;
    int exit_code;
    char msg[256];
} rt_result;

typedef struct rt_module rt_module;

/* An extern value, as imported or exported. */
typedef struct rt_extern {
    uint8_t kind;                       /* wedge_extern_kind */
    union {
        struct { wedge_funcref *ref; wedge_trampoline tramp; } func;
        wedge_table *table;
        wedge_memory *mem;
        struct { wedge_value *cell; uint8_t valtype; uint8_t mut; } global;   /* valtype: wedge_valtype */
    } u;
} rt_extern;

typedef struct rt_limits {
    uint32_t max_memory_pages;          /* cap on any memory; 0 = WEDGE_WASM_MAX_PAGES (4 GiB) */
    uint32_t max_table_elems;           /* cap on the elements of all of an instance's tables together
                                         * (made and grown); 0 = 10,000,000 */
} rt_limits;

/* ---- process / thread setup ---------------------------------------------- */

/* Install the trap signal handlers (idempotent).  rt_instantiate and rt_call
 * do it themselves; call it first to learn early if the OS refuses. */
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
/* The address range of a loaded module's executable code (the .so's
 * executable segments: generated code and libsledge), e.g. for a
 * preemption signal handler, which may preempt only when the interrupted pc
 * is in module code (rt_ctx.h).  False if not found (a wrapped module). */
bool rt_module_text_range(const rt_module *m, uintptr_t *lo, uintptr_t *hi);

/* ---- host modules and the linker ----------------------------------------- */

/* A host function: `fn` has the wedge_funcref C signature of `sig` (the
 * instance that imported it first; see wedge_abi.h). */
typedef struct rt_host_fn {
    const char *name;
    const char *sig;                    /* wedge signature string, e.g. "iiii:i" */
    void (*fn)(void);
} rt_host_fn;

/* A host module, described once (a static const object in its own folder,
 * src/<name>/) and registered in linkers.  Every hook may be NULL.
 *
 *  ctx_new   makes the context of one instance from the config the module
 *            was registered with (or the per-instantiation one, see
 *            rt_instantiate).  Called once per instance, and only for host
 *            modules the instance imports at least one function from,
 *            after its imports, memory, tables and globals exist and
 *            before segments are applied and the start function runs.
 *            NULL return = failure, with a one-line reason in err
 *            (rt_instantiate then fails with RT_ERR_HOST).  Without the
 *            hook the context is NULL.
 *  ctx_free  frees it: exactly once for each ctx_new that succeeded, in
 *            rt_instance_free or when instantiation fails after it.
 *  snapshot  writes the context's own state (what a restored instance
 *            must see again: open descriptors, stream positions...) into
 *            buf, at most cap bytes, and returns the size it needs (more
 *            than cap: call again with a bigger buffer); 0 = nothing to
 *            save.  Called between guest calls only, never during one.
 *  restore   applies bytes written by snapshot to a fresh context, just
 *            made by ctx_new for the restored instance; false + err if
 *            they do not fit (another version, a missing resource).
 * A module whose snapshot is NULL has no state worth keeping: a restored
 * instance gets a fresh context from ctx_new (WASI today: descriptors,
 * args and environment come from the new run's config). */
typedef struct rt_host_module {
    const char *name;                   /* default import-module name */
    const rt_host_fn *funcs;
    uint32_t nfuncs;
    void *(*ctx_new)(const void *config, wedge_instance *inst, char *err, size_t errlen);
    void (*ctx_free)(void *ctx);
    size_t (*snapshot)(const void *ctx, uint8_t *buf, size_t cap);
    bool (*restore)(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen);
} rt_host_module;

/* An ordered list of import providers: host modules (under their name and
 * any aliases), named instances (their exports) and single externs.  An
 * import "M"."n" is resolved by the first entry, in the order they were
 * added, named M that has an item named n; its type must then match (a
 * mismatch is an error, not a reason to look further). */
typedef struct rt_linker rt_linker;

RT_WARN_UNUSED rt_linker *rt_linker_new(rt_result *res);
void rt_linker_free(rt_linker *lk);
/* Registers `hm` under hm->name; returns its slot (0, 1, ... in
 * registration order), or -1 with res filled (a bad signature, the module
 * already registered, out of memory).  `config` is handed to ctx_new. */
RT_WARN_UNUSED int rt_linker_add_host(rt_linker *lk, const rt_host_module *hm, const void *config, rt_result *res);
/* Makes a registered host module answer imports from `module` too
 * (Dagger and CommonWA also under "env"), at this point of the order. */
RT_WARN_UNUSED bool rt_linker_alias(rt_linker *lk, const char *module, const rt_host_module *hm, rt_result *res);
/* Provides inst's exports to imports from `module` (the spec suite's
 * `register`).  Registering a name again replaces the instance, in place. */
RT_WARN_UNUSED bool rt_linker_add_instance(rt_linker *lk, const char *module, wedge_instance *inst, rt_result *res);
/* Provides one extern as "module"."name" (shared host objects: a memory,
 * a table, a global, a function from rt_host_func). */
RT_WARN_UNUSED bool rt_linker_define(rt_linker *lk, const char *module, const char *name, const rt_extern *ex,
                                     rt_result *res);
/* Number of host slots (the size of rt_instantiate's host_cfg array). */
uint32_t rt_linker_nhosts(const rt_linker *lk);
/* Resolves and type-checks every import of m without instantiating it:
 * RT_OK, or RT_ERR_LINK with the same message rt_instantiate would give.
 * For refusing a module at load (wedge serve). */
RT_WARN_UNUSED rt_status rt_linker_check(const rt_linker *lk, const rt_module *m, rt_result *res);

/* An instance's host contexts: inst->host points at one of these, with
 * one slot per host slot of the linker it was made with (mod NULL: the
 * instance imports nothing from that module, so it has no context).  Made
 * and freed by the runtime; test fakes that call host functions directly
 * may build their own. */
typedef struct rt_host_slot {
    const rt_host_module *mod;
    void *ctx;
    bool live;                          /* ctx_new succeeded: ctx_free is due */
} rt_host_slot;
typedef struct rt_host_ctxs {
    uint32_t n;
    rt_host_slot slot[];
} rt_host_ctxs;

/* The context of host module hm in inst, or NULL (hm not linked into it,
 * or its ctx_new made none).  For host functions and their owners. */
static inline void *rt_host_ctx(const wedge_instance *inst, const rt_host_module *hm)
{
    const rt_host_ctxs *h = inst ? (const rt_host_ctxs *)inst->host : NULL;
    if (h)
        for (uint32_t i = 0; i < h->n; i++)
            if (h->slot[i].mod == hm)
                return h->slot[i].ctx;
    return NULL;
}

/* The guest's bytes [ptr, ptr+len) in inst's memory 0, or NULL if any of
 * them lies outside it (64-bit arithmetic: ptr + len cannot wrap).  For
 * host functions checking the pointers a guest passes. */
static inline uint8_t *rt_guest_bytes(const wedge_instance *inst, uint32_t ptr, uint64_t len)
{
    if (!inst || !inst->mem || !inst->mem->base || (uint64_t)ptr + len > inst->mem->size)
        return NULL;
    return inst->mem->base + ptr;
}

/* ---- instances -------------------------------------------------------- */

/* Link through lk, allocate, initialise globals/tables/memory, make the
 * host contexts, apply segments and run the start function.  host_cfg is
 * NULL or holds one entry per host slot of lk: a non-NULL entry replaces
 * that module's registered config for this instance (per-request
 * settings with a linker shared by threads).  On RT_ERR_TRAP during
 * segment application or start, *out is still set (the instance exists,
 * per Wasm 2.0 semantics, but should not be used); free it. */
RT_WARN_UNUSED rt_status rt_instantiate(rt_module *m, const rt_limits *lim, const rt_linker *lk,
                                        const void *const *host_cfg, wedge_instance **out, rt_result *res);
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
 * caller), and to WEDGE_ABI_VERSION.  Host contexts are never in it: each
 * restore gets fresh ones from the linker's host modules (ctx_new, with
 * the restore's configs: WASI's descriptors, randomness and clock are the
 * new run's); only a host module with a snapshot hook keeps state, which
 * its restore hook gets back in the restored instance.
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

/* Capture `inst` (init has run), with what each of its host modules'
 * snapshot hooks returns.  Refused when the state cannot be represented:
 * an imported memory or table or mutable global, a table holding another
 * instance's function or a non-null externref. */
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
/* A new instance in the snapshot's state: linking and fresh host contexts
 * as rt_instantiate (lk, host_cfg), then memory mapped copy-on-write from
 * the snapshot's image (cost independent of its size), globals, tables
 * and dropped segments set, and saved host state given to its modules'
 * restore hooks (RT_ERR_HOST if one is not linked, has no hook or refuses
 * it); neither segments nor the start function run again.  `pool`
 * (rt_mempool.h) may be NULL; a pooled memory goes back to the snapshot's
 * state on release, touching only the pages the instance used.  On an
 * error after linking, *out may be set, as with rt_instantiate: free it. */
struct rt_mempool;
RT_WARN_UNUSED rt_status rt_snapshot_instantiate(const rt_snapshot *s, const rt_limits *lim, const rt_linker *lk,
                                                 const void *const *host_cfg, struct rt_mempool *pool,
                                                 wedge_instance **out, rt_result *res);

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
 * host function receives the caller's instance (memory, host contexts).
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
