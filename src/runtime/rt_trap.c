/*
 * rt_trap.c — the one path every trap takes: trap scopes (a per-thread
 * chain of setjmp points), sledge_abi__wasm_trap_raise / rt_trap / rt_exit,
 * the classification of hardware faults, and the trap names.
 *
 * Traps leave guest code with longjmp, not siglongjmp: the fault handler is
 * installed with SA_NODEFER, so no signal is blocked while it runs and there
 * is no mask to restore.  longjmp may cross from the guest stack (or the
 * alternate signal stack) to the host stack, so glibc's fortified
 * __longjmp_chk, which refuses jumps it cannot prove go "up" one stack, must
 * not be used here.
 */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rt_internal.h"
#include "rt_sanitizer.h"

/* Initial-exec TLS: read from the signal handler, which must not end up in
 * __tls_get_addr (it may allocate). */
#define RT_TLS __thread __attribute__((tls_model("initial-exec")))

__thread wedge_instance *sledge_abi__current_wasm_module_instance;
static RT_TLS rt_trap_scope *rt_tls_scope;
static RT_TLS const rt_stack *rt_tls_guest_stack;

void rt_trap_scope_enter(rt_trap_scope *sc)
{
    sc->switched = false;
    sc->home_fake = NULL;
    sc->prev = rt_tls_scope;
    sc->saved_current = sledge_abi__current_wasm_module_instance;
    sc->saved_stack = rt_tls_guest_stack;
    sc->trap = WEDGE_TRAP_NONE;
    sc->exit_code = 0;
    /* The signal handler may read the chain at any moment. */
    atomic_signal_fence(memory_order_seq_cst);
    rt_tls_scope = sc;
}

void rt_trap_scope_leave(rt_trap_scope *sc)
{
    rt_tls_scope = sc->prev;
    sledge_abi__current_wasm_module_instance = sc->saved_current;
    rt_tls_guest_stack = sc->saved_stack;
}

void rt_thread_set_guest_stack(const rt_stack *s) { rt_tls_guest_stack = s; }
const rt_stack *rt_thread_guest_stack(void) { return rt_tls_guest_stack; }

static WEDGE_NORETURN void rt_trap_unwind(wedge_trap_kind kind, int code)
{
    rt_trap_scope *sc = rt_tls_scope;
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

/* ---- linear-memory reservations ---------------------------------------------
 * A fixed array the fault handler scans without locks.  The 47-bit user
 * address space holds at most ~16000 guard reservations of 8 GiB, so this
 * many slots cover every memory that can exist at once. */
#define RT_MAX_RESERVATIONS 16384

static struct {
    _Atomic uintptr_t lo, hi;
} rt_resv[RT_MAX_RESERVATIONS];
static _Atomic uint32_t rt_resv_used;   /* slots [0, used) may be live */

bool rt_reservation_add(const void *lo, uint64_t len)
{
    uintptr_t l = (uintptr_t)lo;
    for (uint32_t i = 0; i < RT_MAX_RESERVATIONS; i++) {
        uintptr_t expect = 0;
        if (atomic_load(&rt_resv[i].lo) != 0)
            continue;
        /* Claim the slot through lo; publish hi after, so a half-made slot
         * (hi == 0) never matches anything. */
        if (!atomic_compare_exchange_strong(&rt_resv[i].lo, &expect, l))
            continue;
        atomic_store(&rt_resv[i].hi, l + len);
        uint32_t used = atomic_load(&rt_resv_used);
        while (used < i + 1 && !atomic_compare_exchange_weak(&rt_resv_used, &used, i + 1)) {
        }
        return true;
    }
    return false;
}

void rt_reservation_remove(const void *lo)
{
    uint32_t used = atomic_load(&rt_resv_used);
    for (uint32_t i = 0; i < used; i++) {
        if (atomic_load(&rt_resv[i].lo) == (uintptr_t)lo) {
            atomic_store(&rt_resv[i].hi, 0);
            atomic_store(&rt_resv[i].lo, 0);
            return;
        }
    }
}

static bool rt_in_reservation(uintptr_t addr)
{
    uint32_t used = atomic_load(&rt_resv_used);
    for (uint32_t i = 0; i < used; i++) {
        uintptr_t lo = atomic_load(&rt_resv[i].lo), hi = atomic_load(&rt_resv[i].hi);
        if (lo != 0 && addr >= lo && addr < hi)
            return true;
    }
    return false;
}

/* Called from the SIGSEGV/SIGBUS handler.  Returns only when the fault is
 * not a guest trap. */
void rt_trap_from_fault(uintptr_t addr)
{
    if (!rt_tls_scope)
        return;     /* not running guest code on this thread: a real crash */
    const rt_stack *s = rt_tls_guest_stack;
    if (s && addr >= (uintptr_t)s->guard_lo && addr < (uintptr_t)s->guard_hi)
        rt_trap_unwind(WEDGE_TRAP_STACK_EXHAUSTED, 0);
    if (rt_in_reservation(addr))
        rt_trap_unwind(WEDGE_TRAP_MEMORY_OOB, 0);
}

void rt_trap_from_fpe(int si_code)
{
    if (!rt_tls_scope)
        return;
    /* x86 reports INT_MIN / -1 as a divide error too; generated code checks
     * both cases itself, so this is belt and braces. */
    if (si_code == FPE_INTDIV)
        rt_trap_unwind(WEDGE_TRAP_INT_DIV_ZERO, 0);
    if (si_code == FPE_INTOVF)
        rt_trap_unwind(WEDGE_TRAP_INT_OVERFLOW, 0);
}

/* ---- names ------------------------------------------------------------------ */

const char *rt_trap_name(wedge_trap_kind kind)
{
    switch (kind) {
    case WEDGE_TRAP_NONE: return "no trap";
    case WEDGE_TRAP_UNREACHABLE: return "unreachable";
    case WEDGE_TRAP_MEMORY_OOB: return "out of bounds memory access";
    case WEDGE_TRAP_INT_DIV_ZERO: return "integer divide by zero";
    case WEDGE_TRAP_INT_OVERFLOW: return "integer overflow";
    case WEDGE_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WEDGE_TRAP_TABLE_OOB: return "undefined element";
    case WEDGE_TRAP_UNINITIALIZED_ELEM: return "uninitialized element";
    case WEDGE_TRAP_INDIRECT_TYPE: return "indirect call type mismatch";
    case WEDGE_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case WEDGE_TRAP_TIMEOUT: return "deadline exceeded";
    case WEDGE_TRAP_HOST: return "host function failed";
    case WEDGE_TRAP_EXIT: return "exit";
    case WEDGE_TRAP_TABLE_ACCESS_OOB: return "out of bounds table access";
    case WEDGE_TRAP__COUNT: break;
    }
    return "unknown trap";
}

/* ---- process setup ------------------------------------------------------------ */

static pthread_once_t rt_init_once = PTHREAD_ONCE_INIT;
static bool rt_init_ok;

static void rt_init_run(void) { rt_init_ok = rt_os_install_fault_handlers(); }

bool rt_init(rt_result *res)
{
    pthread_once(&rt_init_once, rt_init_run);
    if (!rt_init_ok) {
        rt_fail(res, RT_ERR_RESOURCE, "cannot install the trap signal handlers");
        return false;
    }
    return true;
}
