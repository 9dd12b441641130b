/*
 * srv_scratch.h — the block a request's strings live in (its argv and
 * CGI environment, the copy of its WAGI headers): reused from a small
 * per-thread cache, so that a request in the steady state takes nothing
 * from the general heap for them.
 *
 * Ownership: srv_scratch_take returns a block of at least `want` bytes
 * the caller owns until srv_scratch_give (on any thread: the block joins
 * that thread's cache, or is freed when the cache is full).
 * Errors: NULL when want is above SRV_SCRATCH_MAX or memory is short.
 * Threads: any; each thread has its own cache (freed when it exits).
 */
#ifndef WEDGE_SRV_SCRATCH_H
#define WEDGE_SRV_SCRATCH_H

#include <stddef.h>

/* The largest block: a request whose strings need more is refused (431). */
#define SRV_SCRATCH_MAX ((size_t)1 << 20)

char *srv_scratch_take(size_t want);
void srv_scratch_give(char *block);

#endif
