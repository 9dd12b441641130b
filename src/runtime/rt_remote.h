/*
 * rt_remote.h — the runtime's part in remote instantiation (SPEC section 7):
 * reading where a snapshot file keeps its memory, and the snapshot without
 * its memory (the "small state" a lazy node restores before its memory is
 * filled by page faults, rt_uffd.h).  Code: rt_snapshot_remote.c.
 *
 * Ownership: callers own every buffer.  Errors: false (+ one line in why).
 * Threads: reentrant.
 */
#ifndef WEDGE_RT_REMOTE_H
#define WEDGE_RT_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called per memory extent, in order: its offset in linear memory, the
 * offset of its bytes in the file, its length. */
typedef void (*rt_snapshot_file_extent_fn)(void *arg, uint64_t mem_off, uint64_t file_off, uint64_t len);

/* Checks a whole snapshot file as rt_snapshot_load does (format, checksum,
 * sections; not against a module) and reports its memory size in 64 KiB
 * pages and its extents. */
__attribute__((warn_unused_result)) bool rt_snapshot_file_extents(const uint8_t *file, size_t len,
                                                             rt_snapshot_file_extent_fn fn, void *arg, uint32_t *pages,
                                                             char *why, size_t whylen);

/* out (mem_section + 16 bytes) = the file's first mem_section bytes (up to
 * its memory section) and a memory section of `pages` pages with no
 * extents, sealed (length, checksum): a snapshot whose memory reads as zero.
 * False when mem_section cannot be a section's start. */
__attribute__((warn_unused_result)) bool rt_snapshot_small_state(const uint8_t *prefix, size_t mem_section,
                                                                 uint32_t pages, uint8_t *out);

#endif
