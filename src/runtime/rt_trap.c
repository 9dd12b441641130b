/*
 * rt_trap.c — the one path every trap takes: trap scopes (a per-thread
 * chain of setjmp points, kept in rt_thread_state.c) and the way out to the
 * innermost one, for sledge_abi__wasm_trap_raise, rt_trap, rt_exit and the
 * fault classifier (rt_trap_fault.c).
 *
 * Traps leave guest code with longjmp, not siglongjmp: the fault handler is
 * installed with SA_NODEFER, so no signal is blocked while it runs and there
 * is no mask to restore.  longjmp may cross from the guest stack (or the
 * alternate signal stack) to the host stack, so glibc's fortified
 * __longjmp_chk, which refuses jumps it cannot prove go "up" one stack, must
 * not be used here.
 */
#undef _FORTIFY_SOURCE
#include <setjmp.h>
#include <stdlib.h>
#include <unistd.h>

#include "rt_internal.h"
#include "rt_sanitizer.h"

void rt_trap_scope_enter(rt_trap_scope *sc)
{
    sc->switched = false;
    sc->home_fake = NULL;
    sc->prev = rt_thread_scope();
    sc->saved_current = sledge_abi__current_wasm_module_instance;
    sc->saved_stack = rt_thread_guest_stack();
    sc->trap = WEDGE_TRAP_NONE;
    sc->exit_code = 0;
    rt_thread_set_scope(sc);
}

void rt_trap_scope_leave(rt_trap_scope *sc)
{
    rt_thread_set_scope(sc->prev);
    sledge_abi__current_wasm_module_instance = sc->saved_current;
    rt_thread_set_guest_stack(sc->saved_stack);
}

void rt_trap_unwind(wedge_trap_kind kind, int code)
{
    rt_trap_scope *sc = rt_thread_scope();
    if (!sc) {
        /* A trap with nobody to catch it is a runtime bug (a host function
         * trapping outside guest code); dying loudly beats corrupting. */
        static const char msg[] = "wedge: trap raised outside of any guest call\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        abort();
    }
    sc->exit_code = code;
    sc->trap = kind;
    if (sc->switched)
        rt_san_start_switch(NULL, sc->home_bottom, sc->home_size);
    longjmp(sc->env, 1);
}

void sledge_abi__wasm_trap_raise(wedge_trap_kind kind)
{
    /* The kind comes from module code: keep it a value we can name. */
    if ((unsigned)kind >= WEDGE_TRAP__COUNT || kind == WEDGE_TRAP_NONE || kind == WEDGE_TRAP_EXIT)
        kind = WEDGE_TRAP_HOST;
    rt_trap_unwind(kind, 0);
}

void rt_trap(wedge_trap_kind kind)
{
    if ((unsigned)kind >= WEDGE_TRAP__COUNT || kind == WEDGE_TRAP_NONE)
        kind = WEDGE_TRAP_HOST;
    rt_trap_unwind(kind, 0);
}

void rt_exit(int code) { rt_trap_unwind(WEDGE_TRAP_EXIT, code); }
