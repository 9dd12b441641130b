/* report.h — shared by the WASI cases: one "name=errno" line per host call
 * on stdout, written with fd_write itself and without stdio (printf would
 * triple each module, and the time wedge takes to compile it). */
#ifndef HOSTILE_REPORT_H
#define HOSTILE_REPORT_H

#include <stdint.h>
#include <string.h>
#include <wasi/api.h>

static __wasi_size_t nw;

static void report(const char *name, int e)
{
    char line[160];
    size_t n = strlen(name);
    if (n > 140)
        n = 140;
    memcpy(line, name, n);
    line[n++] = '=';
    char digits[12];
    int k = 0;
    unsigned u = (unsigned)e;
    do
        digits[k++] = (char)('0' + u % 10);
    while ((u /= 10) && k < 11);
    while (k)
        line[n++] = digits[--k];
    line[n++] = '\n';
    __wasi_ciovec_t v = { (const uint8_t *)line, n };
    (void)__wasi_fd_write(1, &v, 1, &nw);
}

/* The size of linear memory in bytes: the first address past its end. */
static inline uintptr_t mem_end(void)
{
    return __builtin_wasm_memory_size(0) * 65536;
}

#endif
