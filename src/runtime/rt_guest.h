/*
 * rt_guest.h — the pieces that run guest code safely, for the runtime
 * itself and for embedders that schedule guests themselves (wedge serve's
 * user-level threads):
 *
 *  - rt_stack: an mmap'd guest stack with an inaccessible guard region
 *    below it.  A fault in the guard is "call stack exhausted", never a
 *    crash.
 *  - rt_trap_scope: the landing point of traps.  Scopes nest per thread
 *    (a host function may call back into guest code); a trap or proc_exit
 *    longjmps to the innermost one.  Enter a scope with RT_TRAP_SCOPE_TRY on
 *    any stack.
 *  - rt_stack_call: switch to a stack, call fn(arg), switch back.
 *
 *  - rt_guarded_call: all of the above for one call (what rt_call and
 *    rt_instantiate use), and the thread's guest state for user-level
 *    schedulers (rt_thread_state_save / _restore; contexts in rt_ctx.h).
 *
 * Ownership: a stack filled by rt_stack_init belongs to the caller
 * (rt_stack_destroy).  A scope lives in its caller's frame; it must be left
 * (rt_trap_scope_leave) before that frame returns, on both the normal and
 * the trap path.  The per-thread guest and alternate signal stacks that
 * rt_thread_init makes belong to the runtime and go at thread exit.
 *
 * Errors: rt_stack_init / rt_thread_init return false (rt_thread_init fills
 * an rt_result); rt_guarded_call reports like rt_call.  A trap raised with
 * no scope on the thread is a runtime bug: the process aborts.
 *
 * Threads: scopes, the guest stack setting and the thread state are per
 * thread; a stack may be used by one thread at a time.
 */
#ifndef WEDGE_RT_GUEST_H
#define WEDGE_RT_GUEST_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

/* ---- guest stacks --------------------------------------------------------- */

typedef struct rt_stack {
    uint8_t *map;           /* whole mapping: [guard][usable] */
    size_t map_len;
    uint8_t *lo, *hi;       /* usable range; hi is the (aligned) top */
    uint8_t *guard_lo, *guard_hi;
} rt_stack;

#define RT_STACK_DEFAULT_SIZE ((size_t)8 << 20)
#define RT_STACK_GUARD_SIZE ((size_t)64 << 10)
/* Host functions called from guest code refuse to run (trap "call stack
 * exhausted") with less than this much guest stack left. */
#define RT_STACK_HOST_MARGIN ((size_t)32 << 10)

/* Fills *s; false if the address space could not be mapped. */
RT_WARN_UNUSED bool rt_stack_init(rt_stack *s, size_t usable);
void rt_stack_destroy(rt_stack *s);

/* Runs fn(arg) with the stack pointer at the top of `s`, and returns on the
 * caller's stack.  A longjmp out of fn (a trap) is fine: the scope it lands
 * in was set up on the caller's stack. */
void rt_stack_call(rt_stack *s, void (*fn)(void *), void *arg);

/* Traps with "call stack exhausted" if the current thread is running on its
 * guest stack with fewer than `margin` bytes left.  For host functions. */
void rt_stack_check_margin(size_t margin);

/* ---- trap scopes ------------------------------------------------------------ */

typedef struct rt_trap_scope {
    jmp_buf env;
    struct rt_trap_scope *prev;
    wedge_instance *saved_current;      /* restored on leave */
    const rt_stack *saved_stack;        /* the thread's active guest stack before */
    volatile wedge_trap_kind trap;      /* set on the trap path */
    volatile int exit_code;             /* WEDGE_TRAP_EXIT */
    /* Set when rt_guarded_call switched stacks (rt_stack.c): the stack the
     * scope lives on, so a trap can tell AddressSanitizer where it lands. */
    bool switched;
    const void *home_bottom;
    size_t home_size;
    void *home_fake;                    /* ASan's fake frames of the home stack */
} rt_trap_scope;

/* Usage (the setjmp must live in the frame that owns the scope):
 *
 *     rt_trap_scope sc;
 *     if (RT_TRAP_SCOPE_TRY(&sc)) { ...guest code... }
 *     rt_trap_scope_leave(&sc);
 *     if (sc.trap != WEDGE_TRAP_NONE) ...
 *
 * Locals modified between TRY and the trap must be volatile. */
#define RT_TRAP_SCOPE_TRY(sc) (rt_trap_scope_enter(sc), setjmp((sc)->env) == 0)
void rt_trap_scope_enter(rt_trap_scope *sc);
void rt_trap_scope_leave(rt_trap_scope *sc);

/* The guest stack the signal handler should consider current on this
 * thread (the one whose guard means "stack exhausted").  rt_guarded_call
 * manages it for the thread's own guest stack; a scheduler that switches
 * user-level threads sets it (or restores it with the thread state) on
 * every switch. */
void rt_thread_set_guest_stack(const rt_stack *s);
const rt_stack *rt_thread_guest_stack(void);

/* ---- guest thread state, for user-level schedulers ------------------------- */

/* The runtime's guest state of the calling thread: the innermost trap
 * scope, the current instance (sledge_abi__current_wasm_module_instance)
 * and the active guest stack.  A scheduler that runs several guests on
 * one thread as user-level contexts (rt_ctx.h) saves it when it switches a
 * guest out and restores it when it switches the guest back in, so a trap
 * in one guest always lands in that guest's own scope.  Plain values:
 * no ownership.  Not for signal handlers. */
typedef struct rt_thread_state {
    rt_trap_scope *scope;
    wedge_instance *current;
    const rt_stack *stack;
} rt_thread_state;

void rt_thread_state_save(rt_thread_state *out);
void rt_thread_state_restore(const rt_thread_state *in);

/* Sets the calling thread up to run guest code: the trap handlers
 * (rt_init), its alternate signal stack (the handler needs it to run when
 * the guest stack is exhausted) and its own guest stack (8 MiB, used by
 * rt_guarded_call when not already on a guest stack).  Idempotent.
 * rt_call does this itself; schedulers call it once per worker thread. */
RT_WARN_UNUSED bool rt_thread_init(rt_result *res);

/* Runs fn(arg) on this thread's guest stack (or on the current stack when
 * already on it: nested calls) inside a trap scope, with
 * sledge_abi__current_wasm_module_instance = inst.  Returns RT_OK,
 * RT_ERR_TRAP, RT_ERR_EXIT or RT_ERR_RESOURCE; fills res on error. */
RT_WARN_UNUSED rt_status rt_guarded_call(wedge_instance *inst, void (*fn)(void *), void *arg, rt_result *res);

#endif
