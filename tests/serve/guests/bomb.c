/* bomb — grows linear memory 1 MiB at a time and touches every new page
 * until memory.grow refuses, then reports how far it got and exits 3. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    unsigned long mib = 0;
    for (;;) {
        long old = __builtin_wasm_memory_grow(0, 16);
        if (old < 0)
            break;
        volatile unsigned char *p = (unsigned char *)(old * 65536);
        for (unsigned long off = 0; off < (1ul << 20); off += 4096)
            p[off] = 1;
        mib++;
    }
    fprintf(stderr, "bomb: memory.grow refused after %lu MiB\n", mib);
    return 3;
}
