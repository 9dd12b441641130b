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
 *
 * http:// and https://: write a raw HTTP/1.1 request ("GET /path
 * HTTP/1.1\r\n", header lines, a blank line, the body), flush sends it,
 * read returns the raw response (status line, headers, body).  The host
 * refuses URLs its allow-list does not match (DAGGER_EPERM at open, or at
 * flush when the request line's path is off the list) and follows no
 * redirects.
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
    DAGGER_EPERM = -4,          /* permission denied: outside the directories, off the allow-list */
    DAGGER_EBADF = -5,          /* not an open descriptor */
    DAGGER_EEOS = -6,           /* the other end is gone */
    DAGGER_EIO = -7,            /* host I/O error */
    DAGGER_EMFILE = -8,         /* too many open streams */
    DAGGER_EFAULT = -9,         /* pointer/length outside memory */
    DAGGER_ETIMEDOUT = -10,     /* http(s): no whole response within the time limit */
    DAGGER_ETOOBIG = -11,       /* http(s): request (1 MiB) or response (16 MiB) too big */
};
/* http(s) streams: open: EURL, EPERM (not allowed); write: EPERM (already
 * sent), ETOOBIG; flush: EOPEN (malformed request, cannot connect, TLS
 * verification failed), EPERM, ETIMEDOUT, ETOOBIG, EIO; a read after a
 * failed flush returns the same code. */

#endif
