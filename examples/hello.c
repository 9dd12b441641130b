/* hello.c — the smallest WASI command: one line on stdout, exit 0. */
#include <stdio.h>

int main(void)
{
    printf("hello, world\n");
    return 0;
}
