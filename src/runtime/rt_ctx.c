/*
 * rt_ctx.c — fresh user-level contexts (rt_ctx.h): the first frame
 * rt_ctx_switch (arch/x86_64_ctx.S) pops on a new stack.
 */
#include "rt_ctx.h"

extern void rt_ctx_start(void);

void *rt_ctx_make(const rt_stack *s, void (*entry)(void *), void *arg)
{
    /* The frame rt_ctx_switch pops (see x86_64_ctx.S), lowest address
     * first: control words, r15, r14, r13, r12, rbx, rbp, return address. */
    uint64_t *top = (uint64_t *)((uintptr_t)s->hi & ~(uintptr_t)15);
    uint64_t *sp = top - 8;
    sp[0] = 0x1f80u | ((uint64_t)0x037fu << 32);   /* default MXCSR, x87 control word */
    sp[1] = 0;                                      /* r15 */
    sp[2] = 0;                                      /* r14 */
    sp[3] = (uint64_t)(uintptr_t)arg;               /* r13: argument */
    sp[4] = (uint64_t)(uintptr_t)entry;             /* r12: entry */
    sp[5] = 0;                                      /* rbx */
    sp[6] = 0;                                      /* rbp: end of frame chain */
    sp[7] = (uint64_t)(uintptr_t)rt_ctx_start;
    return sp;
}
