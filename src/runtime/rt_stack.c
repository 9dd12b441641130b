/*
 * rt_stack.c — guest stacks and running guest code on them inside a trap
 * scope (rt_guarded_call, the core of rt_call / rt_instantiate).
 *
 * Layout of a stack mapping (addresses grow to the right):
 *
 *     [ guard: PROT_NONE, RT_STACK_GUARD_SIZE ][ usable, read/write ]
 *     ^map                                     ^lo                  ^hi
 *
 * Generated code is compiled with -fstack-clash-protection, so no frame
 * can step over the guard: running out of stack faults inside it, and the
 * fault handler (on the alternate signal stack) turns that into "call
 * stack exhausted".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"
#include "rt_sanitizer.h"

bool rt_stack_init(rt_stack *s, size_t usable)
{
    memset(s, 0, sizeof *s);
    usable = RT_OS_PAGE_ROUND(usable);
    size_t len = usable + RT_STACK_GUARD_SIZE;
    uint8_t *p = rt_os_reserve(len);
    if (!p)
        return false;
    if (!rt_os_commit(p + RT_STACK_GUARD_SIZE, usable)) {
        rt_os_release(p, len);
        return false;
    }
    s->map = p;
    s->map_len = len;
    s->guard_lo = p;
    s->guard_hi = p + RT_STACK_GUARD_SIZE;
    s->lo = p + RT_STACK_GUARD_SIZE;
    s->hi = p + len;
    return true;
}

void rt_stack_destroy(rt_stack *s)
{
    rt_os_release(s->map, s->map_len);
    memset(s, 0, sizeof *s);
}

void rt_stack_call(rt_stack *s, void (*fn)(void *), void *arg) { rt_arch_stack_call(s->hi, fn, arg); }

static bool rt_stack_contains(const rt_stack *s, const void *sp)
{
    return s && (const uint8_t *)sp > s->lo && (const uint8_t *)sp <= s->hi;
}

void rt_stack_check_margin(size_t margin)
{
    const rt_stack *s = rt_thread_guest_stack();
    uint8_t *sp = rt_arch_stack_pointer();
    if (rt_stack_contains(s, sp) && (size_t)(sp - s->lo) < margin)
        rt_trap(WEDGE_TRAP_STACK_EXHAUSTED);
}

/* ---- the calling thread's own guest stack ------------------------------------- */

static pthread_key_t rt_stack_key;
static pthread_once_t rt_stack_key_once = PTHREAD_ONCE_INIT;
static __thread rt_stack rt_thread_stack;

static void rt_thread_stack_release(void *p)
{
    (void)p;
    rt_stack_destroy(&rt_thread_stack);
}

static void rt_stack_key_init(void) { (void)pthread_key_create(&rt_stack_key, rt_thread_stack_release); }

bool rt_thread_init(rt_result *res)
{
    if (!rt_init(res))
        return false;
    if (!rt_os_thread_altstack()) {
        rt_fail(res, RT_ERR_RESOURCE, "cannot allocate the alternate signal stack");
        return false;
    }
    if (!rt_thread_stack.map) {
        pthread_once(&rt_stack_key_once, rt_stack_key_init);
        if (!rt_stack_init(&rt_thread_stack, RT_STACK_DEFAULT_SIZE)) {
            rt_fail(res, RT_ERR_RESOURCE, "cannot allocate a guest stack");
            return false;
        }
        /* The key frees the stack at thread exit; without it (no key, or
         * no memory for the slot) every exiting thread would leak 8 MiB. */
        if (pthread_setspecific(rt_stack_key, &rt_thread_stack) != 0) {
            rt_stack_destroy(&rt_thread_stack);
            rt_fail(res, RT_ERR_RESOURCE, "cannot register the guest stack for release at thread exit");
            return false;
        }
    }
    return true;
}

/* What runs first on the guest stack: tell ASan we arrived (and record
 * where the scope's home stack is), run the body, tell ASan we go back. */
typedef struct rt_switch {
    rt_trap_scope *scope;
    void (*fn)(void *);
    void *arg;
} rt_switch;

static void rt_on_guest_stack(void *p)
{
    rt_switch *sw = p;
    rt_san_finish_switch(NULL, &sw->scope->home_bottom, &sw->scope->home_size);
    sw->scope->switched = true;
    sw->fn(sw->arg);
    sw->scope->switched = false;
    rt_san_start_switch(NULL, sw->scope->home_bottom, sw->scope->home_size);
}

rt_status rt_guarded_call(wedge_instance *inst, void (*fn)(void *), void *arg, rt_result *res)
{
    if (!rt_thread_init(res))
        return RT_ERR_RESOURCE;
    /* Nested call (a host function called back into guest code), or an
     * embedder already running us on a guest stack of its own: stay on it.
     * Otherwise switch to this thread's guest stack. */
    const rt_stack *cur = rt_thread_guest_stack();
    bool in_place = rt_stack_contains(cur, rt_arch_stack_pointer());

    rt_trap_scope sc;
    if (RT_TRAP_SCOPE_TRY(&sc)) {
        sledge_abi__current_wasm_module_instance = inst;
        if (in_place) {
            /* Too little stack left ends this call, not the outer one. */
            rt_stack_check_margin(RT_STACK_HOST_MARGIN);
            fn(arg);
        } else {
            rt_switch sw = {&sc, fn, arg};
            rt_thread_set_guest_stack(&rt_thread_stack);
            rt_san_start_switch(&sc.home_fake, rt_thread_stack.lo, (size_t)(rt_thread_stack.hi - rt_thread_stack.lo));
            rt_stack_call(&rt_thread_stack, rt_on_guest_stack, &sw);
            rt_san_finish_switch(sc.home_fake, NULL, NULL);
        }
    } else if (!in_place) {
        rt_san_finish_switch(sc.home_fake, NULL, NULL);   /* landed here from the guest stack */
    }
    rt_trap_scope_leave(&sc);

    if (sc.trap == WEDGE_TRAP_NONE)
        return RT_OK;
    if (sc.trap == WEDGE_TRAP_EXIT) {
        if (res) {
            res->trap = WEDGE_TRAP_EXIT;
            res->exit_code = sc.exit_code;
            snprintf(res->msg, sizeof res->msg, "exit with code %d", sc.exit_code);
        }
        return RT_ERR_EXIT;
    }
    return rt_fail_trap(res, sc.trap);
}
