/*
 * rt_trap_fault.c — which hardware faults are guest traps.  The OS layer
 * (os/) catches the signal and describes it in OS-neutral terms; rt_init
 * registers rt_trap_fault_classify as its classifier.  Runs inside the
 * signal handler: reads only initial-exec TLS and lock-free tables.
 */
#include "rt_internal.h"

void rt_trap_fault_classify(rt_os_fault kind, uintptr_t addr)
{
    if (!rt_thread_scope())
        return;     /* not running guest code on this thread: a real crash */
    switch (kind) {
    case RT_OS_FAULT_ACCESS: {
        const rt_stack *s = rt_thread_guest_stack();
        if (s && addr >= (uintptr_t)s->guard_lo && addr < (uintptr_t)s->guard_hi)
            rt_trap_unwind(WEDGE_TRAP_STACK_EXHAUSTED, 0);
        if (rt_reservation_contains(addr))
            rt_trap_unwind(WEDGE_TRAP_MEMORY_OOB, 0);
        return;
    }
    /* x86 reports INT_MIN / -1 as a divide error too; generated code checks
     * both cases itself, so this is belt and braces. */
    case RT_OS_FAULT_INT_DIV:
        rt_trap_unwind(WEDGE_TRAP_INT_DIV_ZERO, 0);
    case RT_OS_FAULT_INT_OVERFLOW:
        rt_trap_unwind(WEDGE_TRAP_INT_OVERFLOW, 0);
    }
}
