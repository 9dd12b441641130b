/* trap — always traps (`unreachable`): the server answers 500 and keeps
 * serving. */
#include <stdio.h>

int main(void)
{
    puts("about to trap");
    __builtin_trap();
}
