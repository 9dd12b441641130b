/* loop — never ends, with no calls into the host: only preemption and the
 * route's timeout (504) can get the core back. */
#include <stdio.h>

int main(void)
{
    volatile unsigned long long spin = 0;
    for (;;)
        spin++;
}
