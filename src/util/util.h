/*
 * util.h — the few jobs every component of wedge needs and none owns:
 * reading a whole file and the monotonic clock.  The lowest layer: it
 * depends on libc only, and every other component (wasm, compile,
 * runtime, wasi, serve, cli, the tests) may use it.
 *
 * Ownership: ut_read_file returns a malloc'd buffer the caller frees.
 * Errors: the C library's idiom, NULL and errno, so that each caller
 * words the one-line message of its own layer (cg_err, srv_err, ...)
 * without a second buffer in between.
 * Threads: every function is safe to call from any thread.
 */
#ifndef WEDGE_UTIL_H
#define WEDGE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The whole of `path` (a regular file, a pipe or a device) in a malloc'd
 * buffer with a NUL byte after its `*len` bytes, so text can be parsed in
 * place.  NULL and errno: fopen's errno; EFBIG when the file holds more
 * than `max` bytes (SIZE_MAX: no limit); ENOMEM; EIO (or the read's errno)
 * on a read error. */
__attribute__((warn_unused_result)) uint8_t *ut_read_file(const char *path, size_t max, size_t *len);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ut_mono_ns(void);

#endif
