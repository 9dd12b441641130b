/*
 * ut_file.c — reading a whole file (see util.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "util.h"

/* First buffer for a file whose size fstat does not tell (a pipe). */
#define UT_READ_CHUNK ((size_t)64 << 10)

uint8_t *ut_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    /* A regular file is read at its size, with room for one byte more so
     * that the read which finds the end needs no second buffer; anything
     * else (or a file that grows meanwhile) by doubling. */
    struct stat st;
    size_t cap = UT_READ_CHUNK;
    int err = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0) {
        if ((uint64_t)st.st_size > max || (uint64_t)st.st_size > SIZE_MAX - 2)
            err = EFBIG;
        cap = (size_t)st.st_size + 2;
    }
    uint8_t *buf = err ? NULL : malloc(cap);
    size_t n = 0;
    if (buf == NULL && !err)
        err = ENOMEM;
    while (!err) {
        if (n == cap - 1) {     /* full but for the NUL */
            uint8_t *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (nb == NULL) {
                err = ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        errno = 0;
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (n > max)
            err = EFBIG;
        else if (got == 0 && ferror(f))
            err = errno ? errno : EIO;
        else if (got == 0)
            break;
    }
    fclose(f);
    if (err) {
        free(buf);
        errno = err;
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}
