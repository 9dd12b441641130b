/*
 * util.h — the few jobs every component of wedge needs and none owns:
 * reading a whole file, the monotonic clock, decimal digits without
 * printf, and waiting until a time
 * without holding the thread (a host that runs other work meanwhile).  The lowest layer: it
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

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/* The whole of `path` (a regular file, a pipe or a device) in a malloc'd
 * buffer with a NUL byte after its `*len` bytes, so text can be parsed in
 * place.  NULL and errno: fopen's errno; EFBIG when the file holds more
 * than `max` bytes (SIZE_MAX: no limit); ENOMEM; EIO (or the read's errno)
 * on a read error. */
__attribute__((warn_unused_result)) uint8_t *ut_read_file(const char *path, size_t max, size_t *len);

/* Writes v in decimal at p (at most UT_U64_DIGITS bytes, no NUL) and
 * returns the byte after the last digit. */
#define UT_U64_DIGITS 20
char *ut_put_u64(char *p, uint64_t v);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ut_mono_ns(void);

/* The longest a ut_wait_until slice sleeps when the caller yields. */
#define UT_WAIT_SLICE_NS 1000000u

/* Waits until one of the n descriptors in pfd is ready (ppoll; n may be 0:
 * a plain sleep) or CLOCK_MONOTONIC reaches wake_ns (UINT64_MAX: no time
 * limit; 0 or the past: one look without waiting).  yield NULL: one wait
 * for the whole time.  yield non-NULL: slices of at most UT_WAIT_SLICE_NS
 * with yield() called between them, so that a host running several guests
 * on one thread (serve's srv_sched_wait_yield) runs the others meanwhile;
 * yield returns when the caller may go on.  A signal (serve's tick) ends
 * a slice like its time does.  Returns ppoll's count (> 0, revents set)
 * when a descriptor is ready, 0 once wake_ns has passed (after a last look
 * at the descriptors), -1 with errno for ppoll's other errors (EINVAL,
 * ENOMEM, EFAULT). */
int ut_wait_until(struct pollfd *pfd, nfds_t n, uint64_t wake_ns, void (*yield)(void));

#endif
