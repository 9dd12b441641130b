/*
 * dagger.h — the guest side of Dagger streams, for C programs built with
 * `clang --target=wasm32 -nostdlib` (no WASI, no libc): every I/O is a
 * stream opened by URL.  See src/dagger/dagger.h in wedge for the schemes
 * and the error codes.
 *
 *   int sd = dagger_open("stdout://", 0);
 *   dagger_write(sd, "hello\n", 6);
 *
 * A length of 0 means a NUL-terminated URL.  Errors are negative.  Export
 * `int dagger_main(void)` (or `int main(void)`): its result is the exit
 * status.
 */
#ifndef DAGGER_H
#define DAGGER_H

#define DAGGER_IMPORT(name) __attribute__((import_module("dagger"), import_name(name)))

DAGGER_IMPORT("open") int dagger_open(const char *url, int url_len);
DAGGER_IMPORT("close") int dagger_close(int sd);
DAGGER_IMPORT("read") int dagger_read(int sd, void *buf, int len);
DAGGER_IMPORT("write") int dagger_write(int sd, const void *buf, int len);
DAGGER_IMPORT("flush") int dagger_flush(int sd);

enum {
    DAGGER_EURL = -1,           /* malformed URL */
    DAGGER_EOPEN = -2,          /* cannot open */
    DAGGER_ESCHEME = -3,        /* unknown scheme */
    DAGGER_EPERM = -4,          /* not allowed */
    DAGGER_EBADF = -5,          /* not an open descriptor */
    DAGGER_EEOS = -6,           /* the other end is gone */
    DAGGER_EIO = -7,            /* host I/O error */
    DAGGER_EMFILE = -8,         /* too many open streams */
    DAGGER_EFAULT = -9,         /* pointer/length outside memory */
};

#endif
