/*
 * x86_64_ctx.S — user-level context switching (rt_ctx.h), used by wedge
 * serve to run sandboxes as user-level threads.
 * System V AMD64 ABI.  Three entry points:
 *
 * void rt_ctx_switch(void **save_sp, void *load_sp)
 *   Cooperative switch.  Pushes what the ABI says a callee must preserve
 *   (rbx, rbp, r12-r15, plus the MXCSR control bits and the x87 control
 *   word), stores the resulting stack pointer in *save_sp, loads load_sp
 *   and pops the same frame from it.  Caller-saved registers need no saving:
 *   the C caller already assumes the call clobbers them.  The frame layout
 *   (from the saved sp upwards) is:
 *       [mxcsr:4 | x87cw:2 | pad:2] r15 r14 r13 r12 rbx rbp <return address>
 *   rt_ctx_make() in rt_ctx.c builds the same frame on a fresh stack so
 *   that the first switch to it "returns" into rt_ctx_start.
 *
 * rt_ctx_start
 *   First code of a new context: calls r12(r13) with a 16-byte aligned
 *   stack.  The entry function must never return (it switches away for
 *   good); if it does, ud2 crashes loudly rather than running off the stack.
 *
 * rt_ctx_preempt_entry
 *   Where a preempted sandbox continues after the timer signal handler has
 *   rewritten its interrupted context (wedge serve: on_tick in srv_worker.c).  The handler
 *   pushed the interrupted rip 128 bytes below the interrupted rsp (the red
 *   zone of a leaf function must survive), so on entry:
 *       rsp -> interrupted rip, rsp+8+128 == interrupted rsp.
 *   Nothing else has been changed: every register still holds the guest's
 *   value.  We save them all (flags, the 15 other general registers and the
 *   SSE/x87 state via fxsave — guest code is built without AVX, and the
 *   upper halves of ymm registers are caller-saved at every call, so no
 *   live value can sit there), call the function in rt_ctx_preempt_fn (plain C, on this
 *   stack, which switches to the worker's scheduler), and when the sandbox
 *   is resumed we restore everything and `ret $128` to the interrupted rip,
 *   which pops the return address and skips the red zone again.
 */
    .text
    .globl rt_ctx_switch
    .hidden rt_ctx_switch
    .type rt_ctx_switch, @function
    .p2align 4
rt_ctx_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size rt_ctx_switch, .-rt_ctx_switch

    .globl rt_ctx_start
    .hidden rt_ctx_start
    .type rt_ctx_start, @function
    .p2align 4
rt_ctx_start:
    .cfi_startproc
    .cfi_undefined %rip
    movq %r13, %rdi
    andq $-16, %rsp
    callq *%r12
    ud2
    .cfi_endproc
    .size rt_ctx_start, .-rt_ctx_start

    .globl rt_ctx_preempt_entry
    .hidden rt_ctx_preempt_entry
    .type rt_ctx_preempt_entry, @function
    .p2align 4
rt_ctx_preempt_entry:
    .cfi_startproc
    pushfq
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rbx             /* callee-saved: survives the call */
    subq $512, %rsp
    andq $-16, %rsp             /* fxsave needs 16-byte alignment, so does the call */
    fxsave64 (%rsp)
    cld                         /* the ABI wants DF clear at calls; popfq restores it */
    callq *rt_ctx_preempt_fn(%rip)
    fxrstor64 (%rsp)
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    popfq
    ret $128
    .cfi_endproc
    .size rt_ctx_preempt_entry, .-rt_ctx_preempt_entry

/* void (*rt_ctx_preempt_fn)(void): what rt_ctx_preempt_entry calls; set by
 * the scheduler (kept here, not as a direct call, so the runtime library
 * links without the serve library). */
    .data
    .globl rt_ctx_preempt_fn
    .hidden rt_ctx_preempt_fn
    .type rt_ctx_preempt_fn, @object
    .p2align 3
rt_ctx_preempt_fn:
    .quad 0
    .size rt_ctx_preempt_fn, 8

    .section .note.GNU-stack, "", @progbits
