/* hello — the smallest HTTP function: a fixed greeting on stdout. */
#include <stdio.h>

int main(void)
{
    puts("Hello from wedge!");
    return 0;
}
