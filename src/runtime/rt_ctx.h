/*
 * rt_ctx.h — user-level contexts for embedders that schedule guests
 * themselves (wedge serve runs each request's guest as a user-level thread
 * of a worker): an x86-64 context switch (arch/x86_64_ctx.S), fresh
 * contexts on a guest stack (rt_ctx.c), the entry point a timer signal
 * handler redirects an interrupted guest to, for preemption, and the
 * per-thread timer that raises that signal.
 *
 * Switching guests also means switching the runtime's guest state of the
 * thread: save and restore it with rt_thread_state_save / _restore
 * (rt_guest.h) around every switch, so a trap always lands in the trap
 * scope of the guest that raised it.  A context's frames may hold
 * addresses of thread-local variables, so a started context must keep
 * running on the thread that started it.
 *
 * Ownership: a context lives on a stack the caller owns (rt_stack_init);
 * a tick timer belongs to its caller until rt_tick_timer_delete.
 * Errors: the context functions cannot fail; the timer ones return false
 * with errno set.
 * Threads: per thread; rt_ctx_preempt_fn is process-wide, set once before
 * any preemption.
 */
#ifndef WEDGE_RT_CTX_H
#define WEDGE_RT_CTX_H

#include <time.h>

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

/* A timer that sends `signo` to the thread that made it (not to the
 * process) every period: the clock of preemption.  Make it on the thread
 * it is for; any thread may set or delete it.  False (errno set) if the OS
 * refused; a timer that failed to be made must not be set or deleted.
 * Linux: timer_create with SIGEV_THREAD_ID (os/rt_os_tick_linux.c). */
typedef struct rt_tick_timer {
    timer_t timer;                      /* glibc's handle, when glibc names the thread id field */
    int kernel_id;                      /* else the kernel's timer id (raw system calls) */
} rt_tick_timer;
RT_WARN_UNUSED bool rt_tick_timer_create(rt_tick_timer *t, int signo);
/* Every period_ns from now on; 0 stops it. */
RT_WARN_UNUSED bool rt_tick_timer_set(rt_tick_timer *t, uint64_t period_ns);
void rt_tick_timer_delete(rt_tick_timer *t);

#endif
