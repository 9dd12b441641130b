/*
 * rt_sandbox.h — small additions for embedders that run guests as
 * user-level threads (wedge serve's sandboxes), on top of rt_guest.h:
 *
 *  - rt_thread_state: the per-thread runtime state that belongs to the
 *    guest currently running on a thread (innermost trap scope, current
 *    instance, active guest stack).  A scheduler saves it when it switches a
 *    sandbox out and restores it when it switches the sandbox back in, so
 *    a trap in one sandbox always lands in that sandbox's own scope.
 *  - rt_ctx_*: an x86-64 context switch (arch/x86_64_ctx.S) and the entry
 *    point a timer signal handler redirects an interrupted guest to.
 *
 * A sandbox's frames may hold addresses of thread-local variables, so a
 * started sandbox must keep running on the thread that started it.
 */
#ifndef WEDGE_RT_SANDBOX_H
#define WEDGE_RT_SANDBOX_H

#include "rt_guest.h"

typedef struct rt_thread_state {
    rt_trap_scope *scope;
    wedge_instance *current;
    const rt_stack *stack;
} rt_thread_state;

/* Snapshot / replace the calling thread's guest state.  Not for signal
 * handlers. */
void rt_thread_state_save(rt_thread_state *out);
void rt_thread_state_restore(const rt_thread_state *in);

/* Saves the callee-saved registers on the current stack, stores the stack
 * pointer in *save_sp and continues the context whose stack pointer is
 * load_sp (made by rt_ctx_make or saved by an earlier switch). */
void rt_ctx_switch(void **save_sp, void *load_sp);

/* Prepares stack `s` so that the first rt_ctx_switch to the returned stack
 * pointer calls entry(arg) on it.  entry must never return. */
void *rt_ctx_make(const rt_stack *s, void (*entry)(void *), void *arg);

/* A timer signal handler that wants to preempt guest code rewrites the
 * interrupted context: rsp -= 136, *(uint64_t *)rsp = old rip,
 * rip = rt_ctx_preempt_entry.  That entry saves every register and calls
 * *rt_ctx_preempt_fn (which switches away and later returns), then resumes
 * the guest exactly where it was. */
void rt_ctx_preempt_entry(void);
extern void (*rt_ctx_preempt_fn)(void);
#define RT_CTX_PREEMPT_RED_ZONE 128

/* The address range of a loaded module's executable code (the .so's
 * executable segments: generated code and libsledge).  A signal handler
 * may preempt only when the interrupted rip is in such a range: host code
 * (WASI, libc, the runtime) may hold locks.  False if not found. */
bool rt_module_text_range(const rt_module *m, uintptr_t *lo, uintptr_t *hi);

/* ---- pools of linear memories ------------------------------------------------ */

/* A pool keeps up to max_kept linear memories between instances; an
 * instance made by rt_instantiate_pooled takes a kept memory of the right
 * shape (else a fresh one) and rt_instance_free gives it back, reset to
 * zero at the module's initial size touching only the pages the guest
 * used (see rt_mempool.c).  Data segments are applied per instance as
 * usual.  A pool belongs to one thread at a time; free every instance
 * that uses it before rt_mempool_free. */
typedef struct rt_mempool rt_mempool;
rt_mempool *rt_mempool_new(unsigned max_kept);
void rt_mempool_free(rt_mempool *p);
unsigned rt_mempool_count(const rt_mempool *p);
/* Counters: memories given back, bytes cleared with memset, resets that
 * dropped every page instead. */
void rt_mempool_stats(const rt_mempool *p, uint64_t *resets, uint64_t *memset_bytes, uint64_t *dropped);
RT_WARN_UNUSED rt_status rt_instantiate_pooled(rt_module *m, const rt_limits *lim, const rt_linker *lk,
                                               const void *const *host_cfg, rt_mempool *pool, wedge_instance **out,
                                               rt_result *res);

#endif
