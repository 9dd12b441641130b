/*
 * rt_thread_state.c — the guest state of a thread: the innermost trap
 * scope, the current instance (sledge_abi__current_wasm_module_instance,
 * which generated code reads) and the guest stack whose guard means "call
 * stack exhausted".  Trap scopes (rt_trap.c), fault classification
 * (rt_trap_fault.c), guest calls (rt_stack.c) and user-level schedulers
 * (rt_thread_state_save / _restore, rt_guest.h) all go through here.
 *
 * Initial-exec TLS (RT_TLS): the fault handler reads the scope and the
 * stack, and a signal handler must not end up in __tls_get_addr (it may
 * allocate).  The current instance keeps the model wedge_abi.h declares
 * it with: no signal handler reads it, and module code refers to it.
 */
#include <stdatomic.h>

#include "rt_internal.h"
#include "rt_guest.h"

__thread wedge_instance *sledge_abi__current_wasm_module_instance;
static RT_TLS rt_trap_scope *rt_tls_scope;
static RT_TLS const rt_stack *rt_tls_guest_stack;

rt_trap_scope *rt_thread_scope(void) { return rt_tls_scope; }

void rt_thread_set_scope(rt_trap_scope *sc)
{
    /* The signal handler may read the chain at any moment: everything
     * written before (the scope's own fields) must be in place first. */
    atomic_signal_fence(memory_order_seq_cst);
    rt_tls_scope = sc;
}

void rt_thread_set_guest_stack(const rt_stack *s) { rt_tls_guest_stack = s; }
const rt_stack *rt_thread_guest_stack(void) { return rt_tls_guest_stack; }

void rt_thread_state_save(rt_thread_state *out)
{
    out->scope = rt_tls_scope;
    out->current = sledge_abi__current_wasm_module_instance;
    out->stack = rt_tls_guest_stack;
}

void rt_thread_state_restore(const rt_thread_state *in)
{
    sledge_abi__current_wasm_module_instance = in->current;
    rt_tls_guest_stack = in->stack;
    rt_thread_set_scope(in->scope);
}
