/*
 * test_runtime_trap.c — the trap path: traps, proc_exit and faults end at
 * the innermost rt_call; nested calls from host functions; stack
 * exhaustion on the guest stack; linear-memory faults in guard mode; and a
 * real crash staying a crash.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "runtime/rt_guest.h"
#include "runtime/runtime.h"
#include "test_runtime_module.h"

/* How a real crash ends the process: SIGSEGV, or under AddressSanitizer
 * (whose handler we chain to) its report and exit status 1.  GCC announces
 * ASan with __SANITIZE_ADDRESS__, clang 14 only through __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define CRASHES_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CRASHES_UNDER_ASAN 1
#endif
#endif
#ifdef CRASHES_UNDER_ASAN
#define CRASHES .exit_code = 1
#else
#define CRASHES .signal = SIGSEGV
#endif

static wedge_module_desc D;
static rt_status nested_status;
static rt_result nested_res;
static uint32_t nested_value;
static int host_calls_after_nested;

/* An address no mapping covers; through a volatile pointer so the compiler
 * neither warns nor assumes anything. */
static volatile int *volatile bad_ptr = (volatile int *)(uintptr_t)16;

static void host_act(wedge_instance *inst, uint32_t what)
{
    rt_extern ex;
    wedge_value args[2] = {{.i32 = 5}, {.i32 = 6}}, r[1];
    switch (what) {
    case 1: rt_trap(WEDGE_TRAP_HOST);
    case 2: rt_exit(7);
    case 3:   /* call back into the guest: add(5, 6) */
        cr_assert(rt_instance_export(inst, "add", 3, &ex));
        nested_status = rt_call(&ex, args, r, &nested_res);
        nested_value = r[0].i32;
        break;
    case 4:   /* a nested call that traps must end the nested call only */
        cr_assert(rt_instance_export(inst, "unreachable", 11, &ex));
        nested_status = rt_call(&ex, NULL, NULL, &nested_res);
        host_calls_after_nested++;
        break;
    case 5:   /* a nested call that exhausts the stack */
        cr_assert(rt_instance_export(inst, "recurse", 7, &ex));
        nested_status = rt_call(&ex, args, r, &nested_res);
        host_calls_after_nested++;
        break;
    case 6:   /* a genuine bug in host code: must crash, not trap */
        *bad_ptr = 1;
        break;
    }
}

TM_ENV_MODULE(env_module, host_act);

static wedge_instance *new_instance(rt_module **mod)
{
    D = tm_desc();
    rt_result res;
    *mod = rt_module_wrap(&D, "test.so", &res);
    cr_assert_not_null(*mod, "%s", res.msg);
    wedge_instance *inst;
    cr_assert_eq(tm_instantiate(*mod, NULL, tm_linker(&env_module, NULL, 0), &inst, &res), RT_OK, "%s", res.msg);
    return inst;
}

static rt_status call1(wedge_instance *inst, const char *name, uint32_t arg, uint32_t *result, rt_result *res)
{
    rt_extern ex;
    cr_assert(rt_instance_export(inst, name, strlen(name), &ex), "no export %s", name);
    wedge_value a[1] = {{.i32 = arg}}, r[1] = {{.i64 = 0}};
    rt_status st = rt_call(&ex, a, r, res);
    if (result)
        *result = r[0].i32;
    return st;
}

Test(rt_trap, unreachable_ends_the_call_and_the_thread_goes_on)
{
    rt_module *mod;
    wedge_instance *inst = new_instance(&mod);
    rt_extern ex;
    rt_result res;
    cr_assert(rt_instance_export(inst, "unreachable", 11, &ex));
    cr_assert_eq(rt_call(&ex, NULL, NULL, &res), RT_ERR_TRAP);
    cr_assert_eq(res.trap, WEDGE_TRAP_UNREACHABLE);
    cr_assert_str_eq(res.msg, "unreachable");
    cr_assert_null(sledge_abi__current_wasm_module_instance, "current instance not restored");
    uint32_t v;
    cr_assert_eq(call1(inst, "load", 8, &v, &res), RT_OK);
    cr_assert_eq(v, 42);
    rt_instance_free(inst);
    rt_module_unload(mod);
}

Test(rt_trap, host_trap_and_exit_propagate)
{
    rt_module *mod;
    wedge_instance *inst = new_instance(&mod);
    rt_result res;
    cr_assert_eq(call1(inst, "act", 1, NULL, &res), RT_ERR_TRAP);
    cr_assert_eq(res.trap, WEDGE_TRAP_HOST);
    cr_assert_eq(call1(inst, "act", 2, NULL, &res), RT_ERR_EXIT);
    cr_assert_eq(res.trap, WEDGE_TRAP_EXIT);
    cr_assert_eq(res.exit_code, 7);
    cr_assert_eq(call1(inst, "act", 0, NULL, &res), RT_OK);
    rt_instance_free(inst);
    rt_module_unload(mod);
}

Test(rt_trap, nested_calls_from_host_functions)
{
    rt_module *mod;
    wedge_instance *inst = new_instance(&mod);
    rt_result res;
    cr_assert_eq(call1(inst, "act", 3, NULL, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(nested_status, RT_OK);
    cr_assert_eq(nested_value, 11);

    host_calls_after_nested = 0;
    cr_assert_eq(call1(inst, "act", 4, NULL, &res), RT_OK, "outer call must survive: %s", res.msg);
    cr_assert_eq(nested_status, RT_ERR_TRAP);
    cr_assert_eq(nested_res.trap, WEDGE_TRAP_UNREACHABLE);
    cr_assert_eq(host_calls_after_nested, 1);
    rt_instance_free(inst);
    rt_module_unload(mod);
}

Test(rt_trap, stack_exhaustion_is_a_trap_and_recoverable)
{
    rt_module *mod;
    wedge_instance *inst = new_instance(&mod);
    rt_result res;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(call1(inst, "recurse", 0, NULL, &res), RT_ERR_TRAP, "round %d", i);
        cr_assert_eq(res.trap, WEDGE_TRAP_STACK_EXHAUSTED);
        cr_assert_str_eq(res.msg, "call stack exhausted");
    }
    uint32_t v;
    cr_assert_eq(call1(inst, "load", 8, &v, &res), RT_OK);
    cr_assert_eq(v, 42);
    rt_instance_free(inst);
    rt_module_unload(mod);
}

Test(rt_trap, nested_stack_exhaustion_ends_the_nested_call)
{
    rt_module *mod;
    wedge_instance *inst = new_instance(&mod);
    rt_result res;
    host_calls_after_nested = 0;
    cr_assert_eq(call1(inst, "act", 5, NULL, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(nested_status, RT_ERR_TRAP);
    cr_assert_eq(nested_res.trap, WEDGE_TRAP_STACK_EXHAUSTED);
    cr_assert_eq(host_calls_after_nested, 1);
    rt_instance_free(inst);
    rt_module_unload(mod);
}

Test(rt_trap, guard_mode_memory_faults)
{
    rt_module *mod;
    wedge_instance *inst = new_instance(&mod);
    rt_result res;
    uint32_t v;
    cr_assert_eq(call1(inst, "load", 65532, &v, &res), RT_OK, "last word of the page");
    cr_assert_eq(call1(inst, "load", 65533, &v, &res), RT_ERR_TRAP, "straddles the end");
    cr_assert_eq(res.trap, WEDGE_TRAP_MEMORY_OOB);
    cr_assert_str_eq(res.msg, "out of bounds memory access");
    cr_assert_eq(call1(inst, "load", 0xFFFFFFFFu, &v, &res), RT_ERR_TRAP);
    cr_assert_eq(res.trap, WEDGE_TRAP_MEMORY_OOB);
    cr_assert_eq(call1(inst, "grow", 1, &v, &res), RT_OK);
    cr_assert_eq(v, 1);
    cr_assert_eq(call1(inst, "load", 65536, &v, &res), RT_OK, "grown page is accessible");
    cr_assert_eq(call1(inst, "load", 2 * 65536 - 2, &v, &res), RT_ERR_TRAP);
    cr_assert_eq(call1(inst, "grow", 3, &v, &res), RT_OK);
    cr_assert_eq(v, UINT32_MAX, "max is 4 pages");
    rt_instance_free(inst);
    rt_module_unload(mod);
}

static void *thread_traps(void *arg)
{
    wedge_instance *inst = arg;
    rt_result res;
    static __thread int ok;
    ok = call1(inst, "recurse", 0, NULL, &res) == RT_ERR_TRAP && res.trap == WEDGE_TRAP_STACK_EXHAUSTED &&
         call1(inst, "load", 1u << 20, NULL, &res) == RT_ERR_TRAP && res.trap == WEDGE_TRAP_MEMORY_OOB;
    return (void *)(intptr_t)ok;
}

Test(rt_trap, every_thread_gets_its_own_stack)
{
    rt_module *mod;
    wedge_instance *inst = new_instance(&mod);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, thread_traps, inst);
    for (int i = 0; i < 2; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        cr_assert(ok, "thread %d did not trap as expected", i);
    }
    rt_instance_free(inst);
    rt_module_unload(mod);
}

Test(rt_trap, a_host_bug_is_still_a_crash, CRASHES)
{
    rt_module *mod;
    wedge_instance *inst = new_instance(&mod);
    rt_result res;
    (void)call1(inst, "act", 6, NULL, &res);
    cr_assert_fail("the host bug was turned into a trap (%s)", res.msg);
}

Test(rt_trap, a_fault_outside_guest_code_is_a_crash, CRASHES)
{
    rt_result res;
    cr_assert(rt_init(&res));
    *bad_ptr = 2;
}

Test(rt_trap, names_use_spec_wording)
{
    cr_assert_str_eq(rt_trap_name(WEDGE_TRAP_INT_DIV_ZERO), "integer divide by zero");
    cr_assert_str_eq(rt_trap_name(WEDGE_TRAP_INT_OVERFLOW), "integer overflow");
    cr_assert_str_eq(rt_trap_name(WEDGE_TRAP_INVALID_CONVERSION), "invalid conversion to integer");
    cr_assert_str_eq(rt_trap_name(WEDGE_TRAP_TABLE_OOB), "undefined element");
    cr_assert_str_eq(rt_trap_name(WEDGE_TRAP_UNINITIALIZED_ELEM), "uninitialized element");
    cr_assert_str_eq(rt_trap_name(WEDGE_TRAP_INDIRECT_TYPE), "indirect call type mismatch");
    cr_assert_str_eq(rt_trap_name(WEDGE_TRAP_TABLE_ACCESS_OOB), "out of bounds table access");
    cr_assert_str_eq(rt_trap_name((wedge_trap_kind)999), "unknown trap");
}

/* The scope API on its own, as a scheduler would use it. */
static void scoped_body(void *arg)
{
    (void)arg;
    sledge_abi__wasm_trap_raise(WEDGE_TRAP_INT_DIV_ZERO);
}

Test(rt_trap, guarded_call_and_scopes_nest)
{
    rt_result res;
    cr_assert_eq(rt_guarded_call(NULL, scoped_body, NULL, &res), RT_ERR_TRAP);
    cr_assert_eq(res.trap, WEDGE_TRAP_INT_DIV_ZERO);
    rt_trap_scope outer;
    volatile int reached = 0;
    if (RT_TRAP_SCOPE_TRY(&outer)) {
        cr_assert_eq(rt_guarded_call(NULL, scoped_body, NULL, &res), RT_ERR_TRAP);
        reached = 1;
        rt_trap(WEDGE_TRAP_UNREACHABLE);
    }
    rt_trap_scope_leave(&outer);
    cr_assert_eq(reached, 1);
    cr_assert_eq(outer.trap, WEDGE_TRAP_UNREACHABLE);
}

/* A real divide error (SIGFPE, FPE_INTDIV) in guest code: the OS layer
 * hands it to the trap layer's classifier, which makes it a trap.  In
 * assembly so that neither the compiler nor UBSan sees a division by zero. */
static void divide_by_zero(void *arg)
{
    (void)arg;
    uint32_t lo = 1, hi = 0, zero = 0;
    __asm__ volatile("divl %2" : "+a"(lo), "+d"(hi) : "r"(zero));
}

Test(rt_trap, a_hardware_divide_error_is_a_trap)
{
    rt_result res;
    cr_assert_eq(rt_guarded_call(NULL, divide_by_zero, NULL, &res), RT_ERR_TRAP);
    cr_assert_eq(res.trap, WEDGE_TRAP_INT_DIV_ZERO, "got %s", rt_trap_name(res.trap));
    /* And the thread goes on trapping normally afterwards. */
    cr_assert_eq(rt_guarded_call(NULL, scoped_body, NULL, &res), RT_ERR_TRAP);
}

/* Two "user-level threads" on one OS thread: each keeps its own scope
 * chain across a switch, so a trap lands in the right one. */
Test(rt_trap, thread_state_switches_between_guests)
{
    rt_thread_state base, a, b;
    rt_thread_state_save(&base);
    rt_trap_scope sa, sb;
    volatile int landed_a = 0, landed_b = 0;
    if (RT_TRAP_SCOPE_TRY(&sa)) {
        rt_thread_state_save(&a);
        rt_thread_state_restore(&base);          /* switch "a" out */
        if (RT_TRAP_SCOPE_TRY(&sb)) {
            rt_thread_state_save(&b);
            rt_thread_state_restore(&a);         /* switch "a" back in: its trap must land in sa */
            rt_trap(WEDGE_TRAP_TIMEOUT);
        }
        landed_b = 1;
    } else {
        landed_a = 1;
    }
    rt_trap_scope_leave(&sa);
    cr_assert_eq(landed_a, 1);
    cr_assert_eq(landed_b, 0);
    cr_assert_eq(sa.trap, WEDGE_TRAP_TIMEOUT);
    cr_assert_eq(sb.trap, WEDGE_TRAP_NONE);
    rt_thread_state st;
    rt_thread_state_save(&st);
    cr_assert_eq(st.scope, base.scope, "scope chain not back to the start");
}

/* The same module with its memory imported from the host: faults in a
 * host-made memory are traps too. */
static wedge_memory *host_mem;

Test(rt_trap, faults_in_a_host_made_memory)
{
    static const wedge_desc_import imps[] = {
        {.module = "env", .module_len = 3, .name = "act", .name_len = 3, .kind = 0, .type = 3},
        {.module = "env", .module_len = 3, .name = "mem", .name_len = 3, .kind = 2, .min = 1}};
    D = tm_desc();
    D.imports = imps;
    D.nimports = 2;
    D.nimported_mems = 1;
    D.nmems = 0;
    D.mems = NULL;
    rt_result res;
    rt_module *mod = rt_module_wrap(&D, "imp.so", &res);
    cr_assert_not_null(mod, "%s", res.msg);
    host_mem = rt_memory_new(2, 0, false, &res);
    cr_assert_not_null(host_mem, "%s", res.msg);
    wedge_instance *inst;
    tm_def mem_def = {"env", "mem", {.kind = 2, .u.mem = host_mem}};
    cr_assert_eq(tm_instantiate(mod, NULL, tm_linker(&env_module, &mem_def, 1), &inst, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(inst->mem, host_mem);
    uint32_t v;
    cr_assert_eq(call1(inst, "load", 8, &v, &res), RT_OK);
    cr_assert_eq(v, 42, "data segment into the host memory");
    cr_assert_eq(call1(inst, "load", 2 * 65536 - 4, &v, &res), RT_OK);
    cr_assert_eq(call1(inst, "load", 2 * 65536, &v, &res), RT_ERR_TRAP);
    cr_assert_eq(res.trap, WEDGE_TRAP_MEMORY_OOB);
    rt_instance_free(inst);
    /* After the memory is gone, its range is no longer a guest memory. */
    rt_memory_free(host_mem);
    rt_module_unload(mod);
}

Test(rt_trap, pages_dropped_by_reset_fault_again)
{
    rt_module *mod;
    wedge_instance *inst = new_instance(&mod);
    rt_result res;
    uint32_t v;
    cr_assert_eq(call1(inst, "grow", 1, &v, &res), RT_OK);
    cr_assert_eq(call1(inst, "load", 65536, &v, &res), RT_OK);
    cr_assert(rt_memory_reset(inst->mem, 1));
    cr_assert_eq(call1(inst, "load", 65536, &v, &res), RT_ERR_TRAP);
    cr_assert_eq(res.trap, WEDGE_TRAP_MEMORY_OOB);
    cr_assert_eq(call1(inst, "load", 8, &v, &res), RT_OK);
    cr_assert_eq(v, 0, "reset memory must read as zero");
    rt_instance_free(inst);
    rt_module_unload(mod);
}
