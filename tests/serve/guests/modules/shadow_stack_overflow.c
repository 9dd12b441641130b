/* shadow_stack_overflow — C recursion with a 64 KiB array per frame.  The
 * array lives on clang's stack in linear memory (the "shadow stack"), not
 * on the native stack: the stack pointer runs below address 0, wraps, and
 * the next store is out of bounds: a trap, not a crash and not a write
 * into anything outside the sandbox. */
#include <string.h>

static int down(int n);
static int (*volatile next)(int) = down;

static int down(int n)
{
    volatile char big[65536];
    memset((char *)big, n, sizeof big);
    return next(n + 1) + big[n & 0xffff];
}

int main(void)
{
    return next(0);
}
