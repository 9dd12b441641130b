/*
 * rt_serve_hooks.c — rt_sandbox.h: fresh user-level contexts, and module
 * code ranges for preemption.
 */
#define _GNU_SOURCE
#include <link.h>
#include <string.h>

#include "rt_sandbox.h"

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

typedef struct text_search {
    uintptr_t probe;        /* an address inside the module's data */
    uintptr_t lo, hi;
    bool found;
} text_search;

static int text_cb(struct dl_phdr_info *info, size_t size, void *ud)
{
    (void)size;
    text_search *t = ud;
    bool mine = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && t->probe >= lo && t->probe < lo + ph->p_memsz)
            mine = true;
    }
    if (!mine)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (!t->found || lo < t->lo)
            t->lo = lo;
        if (!t->found || lo + ph->p_memsz > t->hi)
            t->hi = lo + ph->p_memsz;
        t->found = true;
    }
    return 1;
}

bool rt_module_text_range(const rt_module *m, uintptr_t *lo, uintptr_t *hi)
{
    text_search t = { .probe = (uintptr_t)rt_module_desc(m) };
    if (!t.probe)
        return false;
    dl_iterate_phdr(text_cb, &t);
    if (!t.found)
        return false;
    *lo = t.lo;
    *hi = t.hi;
    return true;
}
