/*
 * x86_64.S — the only assembly in the runtime: run a function on another
 * stack.  System V AMD64 ABI.
 *
 * void rt_arch_stack_call(void *stack_top, void (*fn)(void *), void *arg)
 *   Saves the caller's stack pointer in rbp (callee-saved, so fn preserves
 *   it), moves rsp to stack_top (rounded down to 16 bytes so fn sees the
 *   ABI's alignment after the call pushes its return address), calls
 *   fn(arg), then restores rsp.  The CFI describes the frame through rbp,
 *   so debuggers and unwinders walk from the guest stack back to the host
 *   stack.  A trap leaves fn with longjmp to a scope set up on the caller's
 *   stack; that never returns here, which is fine: nothing is left to undo.
 *
 * void *rt_arch_stack_pointer(void)
 *   The caller's stack pointer (approximately: the value just after the
 *   call), for "which stack am I on" and margin checks.
 */
    .text
    .globl rt_arch_stack_call
    .hidden rt_arch_stack_call
    .type rt_arch_stack_call, @function
    .p2align 4
rt_arch_stack_call:
    .cfi_startproc
    pushq %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq %rsp, %rbp
    .cfi_def_cfa_register %rbp
    andq $-16, %rdi
    movq %rdi, %rsp
    movq %rdx, %rdi
    callq *%rsi
    movq %rbp, %rsp
    popq %rbp
    .cfi_def_cfa %rsp, 8
    ret
    .cfi_endproc
    .size rt_arch_stack_call, .-rt_arch_stack_call

    .globl rt_arch_stack_pointer
    .hidden rt_arch_stack_pointer
    .type rt_arch_stack_pointer, @function
    .p2align 4
rt_arch_stack_pointer:
    .cfi_startproc
    leaq 8(%rsp), %rax
    ret
    .cfi_endproc
    .size rt_arch_stack_pointer, .-rt_arch_stack_pointer

    .section .note.GNU-stack, "", @progbits
