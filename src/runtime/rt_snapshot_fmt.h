/*
 * rt_snapshot_fmt.h — the snapshot file format (docs/snapshot-format.md):
 * decoding with every length and offset checked, the streaming writer and
 * the checksum.  Internal to the runtime (and its unit and fuzz tests);
 * embedders use rt_snapshot_* in runtime.h.
 *
 * Ownership: a decoded view points into the caller's buffer and lives as
 * long as it.  Errors: false + a one-line reason in the caller's buffer
 * (no file name: the caller adds it); nothing is allocated.
 */
#ifndef WEDGE_RT_SNAPSHOT_FMT_H
#define WEDGE_RT_SNAPSHOT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RT_SNAP_MAGIC "WEDGSNAP"
#define RT_SNAP_FORMAT 1u
#define RT_SNAP_HEADER 64u              /* magic, format, ABI, module hash, file length, checksum */
#define RT_SNAP_HASH_BYTES 32u
#define RT_SNAP_OFF_CHECKSUM 56u
#define RT_SNAP_GLOBAL_BYTES 24u        /* valtype, 7 zero bytes, 16 value bytes */
#define RT_SNAP_NULL_FUNC UINT32_MAX    /* a null reference in a table or global */

/* The checksum (not cryptographic: it catches corruption, the module hash
 * binds the file to its module): four 64-bit multiply-rotate lanes over
 * 32-byte blocks, then a final mix with the length. */
typedef struct rt_snap_sum {
    uint64_t lane[4];
    uint8_t buf[32];
    size_t nbuf;
    uint64_t total;
} rt_snap_sum;
void rt_snap_sum_init(rt_snap_sum *s);
void rt_snap_sum_update(rt_snap_sum *s, const void *data, size_t n);
uint64_t rt_snap_sum_final(rt_snap_sum *s);
/* The checksum of a whole file: the body, then the header up to the checksum. */
uint64_t rt_snap_checksum(const uint8_t *file, size_t len);
/* Rewrites the file-length and checksum fields of a file in memory (tests
 * make altered files with it). */
void rt_snap_seal(uint8_t *file, size_t len);

/* A decoded file: counts and where each section's entries start.  Entries
 * are walked with the iterators below, which trust a view that
 * rt_snap_decode accepted. */
typedef struct rt_snap_view {
    uint32_t format, abi;
    uint8_t module_hash[RT_SNAP_HASH_BYTES];
    uint32_t nglobals;
    const uint8_t *globals;             /* nglobals * RT_SNAP_GLOBAL_BYTES */
    uint32_t ntables;
    const uint8_t *tables;
    uint32_t ndatas, nelems;
    const uint8_t *data_dropped, *elem_dropped;   /* one byte (0/1) per segment */
    uint32_t nhosts;                    /* host modules' own state (rt_host_module.snapshot) */
    const uint8_t *hosts;
    bool has_mem;
    uint32_t pages;
    uint32_t nextents;
    const uint8_t *extents;
    uint64_t image_len;                 /* end of the last extent, rounded up to an OS page */
} rt_snap_view;

/* Checks everything the file alone can tell: magic, format version, length,
 * checksum, ABI version (against `abi`), then every section.  Module-
 * dependent checks (counts, types, indices) are the loader's. */
bool rt_snap_decode(const uint8_t *buf, size_t len, uint32_t abi, rt_snap_view *v, char *why, size_t whylen);

typedef struct rt_snap_table_it {
    uint8_t elemtype;
    uint32_t size;
    const uint8_t *idx;                 /* size little-endian u32 function indices */
} rt_snap_table_it;
/* *p starts at view.tables; each call reads one table and advances. */
void rt_snap_next_table(const uint8_t **p, rt_snap_table_it *t);
uint32_t rt_snap_u32(const uint8_t *p);
uint64_t rt_snap_u64(const uint8_t *p);
/* *p starts at view.hosts. */
void rt_snap_next_host(const uint8_t **p, const char **name, uint32_t *name_len, const uint8_t **bytes,
                       uint64_t *len);
/* *p starts at view.extents. */
void rt_snap_next_extent(const uint8_t **p, uint64_t *off, uint64_t *len, const uint8_t **bytes);

/* rt_snapshot_load from bytes in memory (`name` for messages): the fuzz
 * target's entry. */
typedef struct rt_snapshot rt_snapshot;
typedef struct rt_module rt_module;
typedef struct rt_result rt_result;
rt_snapshot *rt_snapshot_from_bytes(const uint8_t *bytes, size_t len, const char *name, rt_module *m,
                                    const uint8_t module_hash[RT_SNAP_HASH_BYTES], rt_result *res);

/* Writing: the body goes out as it is made (checksummed on the way), the
 * header last, at offset 0.  Any write error sticks in `err`. */
typedef struct rt_snap_writer {
    FILE *f;
    rt_snap_sum sum;
    uint64_t len;
    bool err;
} rt_snap_writer;
void rt_snap_begin(rt_snap_writer *w, FILE *f);
void rt_snap_put(rt_snap_writer *w, const void *p, size_t n);
void rt_snap_put_u32(rt_snap_writer *w, uint32_t v);
void rt_snap_put_u64(rt_snap_writer *w, uint64_t v);
void rt_snap_pad8(rt_snap_writer *w);
/* Writes the header; false if any write failed. */
bool rt_snap_finish(rt_snap_writer *w, uint32_t abi, const uint8_t module_hash[RT_SNAP_HASH_BYTES]);

#endif
