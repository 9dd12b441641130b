/*
 * rt_ctx.h — user-level contexts for embedders that schedule guests
 * themselves (wedge serve runs each request's guest as a user-level thread
 * of a worker): an x86-64 context switch (arch/x86_64_ctx.S), fresh
 * contexts on a guest stack (rt_ctx.c) and the entry point a timer signal
 * handler redirects an interrupted guest to, for preemption.
 *
 * Switching guests also means switching the runtime's guest state of the
 * thread: save and restore it with rt_thread_state_save / _restore
 * (rt_guest.h) around every switch, so a trap always lands in the trap
 * scope of the guest that raised it.  A context's frames may hold
 * addresses of thread-local variables, so a started context must keep
 * running on the thread that started it.
 *
 * Ownership: a context lives on a stack the caller owns (rt_stack_init);
 * nothing here allocates.  Errors: none (the functions cannot fail).
 * Threads: per thread; rt_ctx_preempt_fn is process-wide, set once before
 * any preemption.
 */
#ifndef WEDGE_RT_CTX_H
#define WEDGE_RT_CTX_H

#include "rt_guest.h"

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
 * the guest exactly where it was.  Only preempt when the interrupted rip is
 * in a module's code (rt_module_text_range, runtime.h): host code (WASI,
 * libc, the runtime) may hold locks. */
void rt_ctx_preempt_entry(void);
extern void (*rt_ctx_preempt_fn)(void);
#define RT_CTX_PREEMPT_RED_ZONE 128

#endif
