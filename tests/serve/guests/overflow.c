/* overflow — unbounded recursion through a volatile function pointer (no
 * tail call, no loop the compiler could make of it): the guest's native
 * stack runs into its guard region, which must be a trap, not a crash. */
#include <stdio.h>

static int down(int n);
static int (*volatile next)(int) = down;

static int down(int n) { return next(n + 1) + 1; }

int main(void)
{
    printf("%d\n", next(0));
    return 0;
}
