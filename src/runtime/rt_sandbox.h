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

#endif
