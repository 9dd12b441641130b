/*
 * rt_internal.h — what the runtime's files share with each other (not
 * public).  OS- and CPU-specific code lives behind the rt_os_* / rt_arch_*
 * declarations below (os/, arch/), and behind the public rt_ctx_* and
 * rt_tick_timer_* of rt_ctx.h (arch/x86_64_ctx.S, os/rt_os_tick_linux.c).
 *
 * Layers: each file calls only files listed before it, never back
 * (tools/file_deps.py src/runtime lists the edges and fails on a cycle):
 *   os/, arch/, rt_trap_name.c, rt_reservation.c, rt_thread_state.c
 *   rt_result.c, rt_trap.c (scopes, unwind), rt_trap_fault.c (classifier)
 *   rt_init.c (installs the OS handlers with the classifier)
 *   rt_stack.c, rt_type.c, rt_table.c, rt_image.c, rt_memory.c, rt_mempool.c
 *   rt_module.c, rt_instance.c, rt_call.c, rt_globals.c, rt_ctx.c
 */
#ifndef WEDGE_RT_INTERNAL_H
#define WEDGE_RT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt_guest.h"
#include "runtime.h"

#define RT_PAGE_SIZE WEDGE_WASM_PAGE
#define RT_OS_PAGE 4096u                       /* the host's page: madvise/mincore/mmap granularity */
#define RT_MAX_PAGES WEDGE_WASM_MAX_PAGES     /* 4 GiB: the 32-bit limit */
/* Rounds up to whole host pages. */
#define RT_OS_PAGE_ROUND(n) (((n) + RT_OS_PAGE - 1) & ~(__typeof__(n))(RT_OS_PAGE - 1))
#define RT_DEFAULT_MAX_TABLE 10000000u
/* Guard mode: any u32 address + u32 offset + access size stays inside. */
#define RT_GUARD_RESERVATION (((uint64_t)8 << 30) + ((uint64_t)64 << 10))

/* One stretch of bytes of a memory image (OS layer, rt_image.c). */
typedef struct rt_os_image_part {
    uint64_t off;
    const uint8_t *bytes;
    uint64_t len;
} rt_os_image_part;

/* A copy-on-write memory image (rt_image.c): a sealed file whose bytes
 * memory 0 shows at [off, off + len), OS-page aligned.  `id` is unique in
 * the process (a file descriptor number may be reused), so a pooled memory
 * can tell whether it already shows this image. */
typedef struct rt_image {
    int fd;                                    /* -1: no image */
    uint64_t off, len;
    uint64_t id;
} rt_image;

struct rt_module {
    void *handle;                              /* dlopen handle */
    wedge_module_desc *desc;                   /* type_ids written at load */
    char path[256];
    rt_image image;                            /* initial memory image (data segments), or fd -1 */
};

/* Every wedge_memory the runtime hands out is the first member of one of
 * these, so the runtime can recover what the ABI layout does not carry. */
/* rt_mempool.c's knowledge of a pooled memory's resident pages: after a
 * reset that looked (mincore), the runs of OS pages of [0, span) that stay
 * resident; valid only while nothing remapped that range. */
#define RT_MEMPOOL_RUNS 8
typedef struct rt_mempool_track {
    uint32_t lo[RT_MEMPOOL_RUNS], hi[RT_MEMPOOL_RUNS];   /* OS page indexes, [lo, hi) */
    uint32_t nruns;
    bool valid;
    uint64_t span;                             /* `committed` when they were found */
    uint64_t faults;                           /* the taking thread's page faults, read at or before take */
    const void *thread;                        /* that thread (NULL: no count known) */
} rt_mempool_track;

typedef struct rt_memory {
    wedge_memory pub;
    uint8_t *map;                              /* whole reservation */
    uint64_t map_len;
    int bounds;                                /* WEDGE_BOUNDS_* it was reserved for */
    bool has_max;                              /* declared max present */
    uint32_t declared_max;
    uint64_t committed;                        /* bytes made read/write */
    uint64_t image_off, image_len;             /* an image mapped over [off, off+len), or len 0 */
    uint64_t image_id;                         /* which one (rt_image.id) */
    rt_mempool_track track;                    /* while pooled (rt_mempool.c); zero otherwise */
} rt_memory;

typedef struct rt_table {
    wedge_table pub;
    bool has_max;
    uint32_t cap;                              /* growth cap (declared max or limit) */
} rt_table;

/* Runtime-private part of an instance, allocated just before it (aligned
 * so that the instance after it stays 16-aligned whatever the fields). */
typedef struct __attribute__((aligned(16))) rt_instance_priv {
    rt_module *module;
    rt_limits limits;
    wedge_funcref *defined;                    /* [nfuncs] */
    wedge_funcref *bound;                      /* [nimported_funcs] copies of host funcs */
    wedge_memory *owned_mem;                   /* defined memory, or NULL */
    wedge_table **owned_tables;                /* [ntables] defined */
    uint32_t nowned_tables;
    uint32_t nglobals_total;
    struct rt_mempool *pool;                   /* owned_mem goes back there (rt_mempool.h) */
    uint32_t keep_pages;                       /* owned_mem's initial size, kept by the pool */
    uint64_t table_elems;                      /* elements of all tables made or grown by this instance:
                                                * the table limit caps the sum, not each table, or a
                                                * module with many tables multiplies it */
} rt_instance_priv;

static inline rt_instance_priv *rt_priv(wedge_instance *inst)
{
    return (rt_instance_priv *)((uint8_t *)inst - sizeof(rt_instance_priv));
}

/* The rt_extern for export `e` of inst (rt_instance.c): what
 * rt_instance_export gives once it has found the export by name. */
void rt_export_extern(wedge_instance *inst, const wedge_desc_export *e, rt_extern *out);

/* rt_result helpers (rt_result.c). */
rt_status rt_fail(rt_result *res, rt_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
rt_status rt_fail_trap(rt_result *res, wedge_trap_kind kind);

/* Memories (rt_memory.c). */
wedge_memory *rt_memory_create(uint32_t min_pages, uint32_t max_pages, bool has_max, int bounds,
                               uint32_t limit_pages, rt_result *res);
static inline rt_memory *rt_mem_priv(wedge_memory *m) { return (rt_memory *)m; }
uint32_t rt_memory_grow_limit(wedge_memory *mem, uint32_t delta_pages, uint32_t limit_pages);

/* Copy-on-write memory images (rt_image.c).  Modules whose active data
 * segments are large and placed at constant offsets get them written
 * once, at load, into a sealed memory file; instantiation maps that file
 * privately over the memory instead of copying the bytes.  Snapshots
 * (rt_snapshot.c) keep a whole memory the same way. */
#define RT_IMAGE_MIN_BYTES ((uint64_t)64 << 10)  /* below this, memcpy is cheaper */
void rt_image_build(rt_module *m);             /* at load; leaves image.fd -1 when not worth it */
/* An image of `len` bytes (a multiple of RT_OS_PAGE) at offset 0, zero but
 * for the parts; false if the OS refused. */
bool rt_image_from_parts(rt_image *img, uint64_t len, const rt_os_image_part *parts, size_t nparts);
void rt_image_close(rt_image *img);
void rt_image_drop(rt_module *m);              /* the module's image, at unload */
/* Makes `mem` show `img` (NULL or fd -1: no image): true at once if it
 * already shows it (a pooled memory is reverted on release); otherwise any
 * other image is unmapped first.  False if the image does not fit in the
 * committed memory or the OS refused (the memory is then zero where the
 * image would be). */
bool rt_image_show(wedge_memory *mem, const rt_image *img);
bool rt_image_unmap(wedge_memory *mem);        /* back to zero pages; true if there was none */
bool rt_image_revert(wedge_memory *mem);       /* the image's own bytes again (pool release) */

/* Snapshots (rt_snapshot*.c): a restore is an instantiation whose last
 * step is rt_snapshot_apply instead of segments and start.  A loaded or
 * captured snapshot, decoded: it no longer depends on the file. */
typedef struct rt_snap_global {
    uint8_t valtype;
    uint8_t bytes[16];                         /* value, little-endian; references: u32 function index */
} rt_snap_global;
typedef struct rt_snap_table {
    uint8_t elemtype;
    uint32_t size;
    uint32_t *idx;                             /* function indices, RT_SNAP_NULL_FUNC for null */
} rt_snap_table;
typedef struct rt_snap_host {
    char *name;                                /* the host module's name (rt_host_module.name) */
    uint8_t *bytes;                            /* what its snapshot hook wrote */
    size_t len;
} rt_snap_host;
struct rt_snapshot {
    rt_module *module;
    uint8_t module_hash[32];
    bool has_mem;
    uint32_t pages;
    rt_image image;                            /* the memory's non-zero extents, at offset 0 */
    uint32_t nglobals;                         /* defined globals */
    rt_snap_global *globals;
    uint32_t ntables;                          /* defined tables */
    rt_snap_table *tables;
    uint32_t ndatas, nelems;
    uint8_t *data_dropped, *elem_dropped;
    uint32_t nhosts;                           /* host modules whose snapshot hook saved something */
    rt_snap_host *hosts;
};
rt_module *rt_snapshot_module(const rt_snapshot *s);
/* The runs of OS pages of mem[0, len) holding a non-zero byte, in order
 * (*out malloc'd, parts point into mem); SIZE_MAX when out of memory. */
size_t rt_snapshot_extents(const uint8_t *mem, uint64_t len, rt_os_image_part **out);
rt_status rt_snapshot_apply(const rt_snapshot *s, wedge_instance *inst, rt_result *res);

/* Memory pools (rt_mempool.c, public API in rt_mempool.h). */
struct rt_mempool;
wedge_memory *rt_mempool_take(struct rt_mempool *p, uint32_t min_pages, uint32_t max_pages, bool has_max,
                              int bounds, uint32_t limit_pages);
bool rt_mempool_give(struct rt_mempool *p, wedge_memory *mem, uint32_t keep_pages);

/* Tables (rt_table.c). */
wedge_table *rt_table_create(uint8_t elemtype, uint32_t min, uint32_t max, bool has_max, uint32_t limit,
                             rt_result *res);
static inline rt_table *rt_tab_priv(wedge_table *t) { return (rt_table *)t; }

/* Signatures (rt_type.c): true if `sig` is a well-formed signature string. */
bool rt_sig_valid(const char *sig, size_t maxlen);
const char *rt_type_sig(uint32_t id);          /* NULL if no such id */

/* Linking (rt_linker.c).  rt_link_resolve finds the provider of one import
 * (*slot: its host slot, or -1 when not a host module's); rt_link_check
 * checks its type against the import.  Both fill res with the one-line
 * message runtime.h shows. */
rt_status rt_link_resolve(const rt_linker *lk, const wedge_module_desc *d, const wedge_desc_import *imp,
                          rt_extern *out, int *slot, rt_result *res);
rt_status rt_link_check(const wedge_module_desc *d, const wedge_desc_import *imp, const rt_extern *ex,
                        rt_result *res);
/* An instance's host contexts: a table with one slot per host slot of
 * lk, in memory the caller owns (the instance's block): _size bytes,
 * 16-aligned, made by _init; rt_host_ctxs_use marks a slot the instance
 * imports from; _new runs ctx_new for the marked slots in order (stops at
 * the first failure); _end runs ctx_free for every context made. */
size_t rt_host_ctxs_size(const rt_linker *lk);
rt_host_ctxs *rt_host_ctxs_init(void *mem, const rt_linker *lk);
void rt_host_ctxs_use(rt_host_ctxs *h, const rt_linker *lk, int slot);
rt_status rt_host_ctxs_new(rt_host_ctxs *h, const rt_linker *lk, wedge_instance *inst, const void *const *host_cfg,
                           rt_result *res);
void rt_host_ctxs_end(rt_host_ctxs *h);

/* OS layer (os/rt_os_linux.c). */
void *rt_os_reserve(uint64_t len);             /* PROT_NONE, NULL on failure */
bool rt_os_commit(void *addr, uint64_t len);   /* make read/write */
bool rt_os_decommit(void *addr, uint64_t len); /* back to PROT_NONE, drop contents */
bool rt_os_zero(void *addr, uint64_t len);     /* drop contents, keep read/write */
void rt_os_release(void *addr, uint64_t len);
int rt_os_image_create(const char *name, const uint8_t *bytes, uint64_t len);  /* sealed file, -1 on failure */
/* A sealed file of `len` bytes, zero except for the parts; -1 on failure. */
int rt_os_image_create_parts(const char *name, uint64_t len, const rt_os_image_part *parts, size_t nparts);
/* The file's bytes, read-only, anywhere (rt_os_release it); NULL on failure. */
const uint8_t *rt_os_image_view(int fd, uint64_t len);
/* A range mapped by rt_os_image_map reads as the file again (drops the
 * private copies of pages written since). */
bool rt_os_image_revert(void *addr, uint64_t len);
bool rt_os_image_map(void *addr, uint64_t len, int fd);   /* private (copy-on-write), read/write */
bool rt_os_anon_rw(void *addr, uint64_t len);  /* fresh zero pages, read/write */
void rt_os_image_close(int fd);
bool rt_os_thread_altstack(void);              /* idempotent per thread */
/* What the fault handler saw, in OS-neutral terms. */
typedef enum rt_os_fault {
    RT_OS_FAULT_ACCESS,                        /* a memory access fault at `addr` */
    RT_OS_FAULT_INT_DIV,                       /* integer divide by zero */
    RT_OS_FAULT_INT_OVERFLOW,                  /* integer overflow (INT_MIN / -1 on some CPUs) */
} rt_os_fault;
/* Decides whether a fault of this thread is a guest trap: if it is, it does
 * not return (it longjmps); if it returns, the fault is a real crash.  Runs
 * in the signal handler. */
typedef void (*rt_os_fault_fn)(rt_os_fault kind, uintptr_t addr);
/* Installs the SIGSEGV/SIGBUS/SIGFPE handlers, which ask `classify` first
 * (once per process: rt_init). */
bool rt_os_install_fault_handlers(rt_os_fault_fn classify);

/* Initial-exec TLS, for every thread-local a signal handler reads: a
 * handler must not end up in __tls_get_addr (it may allocate). */
#define RT_TLS __thread __attribute__((tls_model("initial-exec")))

/* The thread's guest state (rt_thread_state.c); the scope accessors are
 * async-signal-safe.  The guest stack ones are in rt_guest.h. */
rt_trap_scope *rt_thread_scope(void);
void rt_thread_set_scope(rt_trap_scope *sc);

/* Ends the current guest call: longjmps to the innermost trap scope
 * (rt_trap.c).  Aborts when there is none. */
WEDGE_NORETURN void rt_trap_unwind(wedge_trap_kind kind, int code);

/* The classifier rt_init gives the OS layer (rt_trap_fault.c). */
void rt_trap_fault_classify(rt_os_fault kind, uintptr_t addr);

/* Linear-memory reservations the fault classifier recognises
 * (rt_reservation.c); rt_reservation_contains is async-signal-safe. */
bool rt_reservation_add(const void *lo, uint64_t len);
void rt_reservation_remove(const void *lo);
bool rt_reservation_contains(uintptr_t addr);

/* CPU layer (arch/x86_64.S). */
void rt_arch_stack_call(void *stack_top, void (*fn)(void *), void *arg);
void *rt_arch_stack_pointer(void);

#endif
