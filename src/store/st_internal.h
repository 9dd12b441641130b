/*
 * st_internal.h — inside src/store: the store node's content (st_repo.c),
 * shared by every server backend, and framed socket I/O with timeouts
 * (st_tcp.c) for the TCP backend's client and server halves.
 *
 * Ownership: the repo owns its file mappings for its whole life (a blob
 * replaced by a push stays mapped until st_repo_close, so a range being
 * sent is never unmapped under a reader).  st_repo_answer returns a
 * malloc'd frame the caller frees.
 * Errors: static strings / caller buffers as in store.h and st_transport.h.
 * Threads: a repo is shared by all connection threads (one mutex); a push
 * state belongs to its connection.
 */
#ifndef WEDGE_ST_INTERNAL_H
#define WEDGE_ST_INTERNAL_H

#include <stdio.h>

#include "st_transport.h"

typedef struct st_repo st_repo;

/* One connection's push in progress (pieces arrive in order). */
typedef struct st_push_state {
    int fd;                     /* -1: none */
    char tmp[4096];
    char name[ST_NAME_MAX + 1];
    uint8_t which;
    uint8_t sha[ST_SHA_LEN];
    uint64_t total, next;
} st_push_state;

st_repo *st_repo_open(const char *dir, char *err);
void st_repo_close(st_repo *r);

/* The reply frame to one authenticated request (an ERROR frame on
 * failure); NULL only when out of memory.  `peer` names the client in log
 * lines.  ST_RANGES_REQ and ST_BLOB_REQ are answered from the mapping
 * instead (st_repo_ranges_view, st_repo_blob_view). */
uint8_t *st_repo_answer(st_repo *r, const st_msg *req, st_push_state *ps, const char *peer, size_t *len);
void st_push_abort(st_push_state *ps);
/* ST_BLOB_REQ: where its bytes are (mapped, valid until st_repo_close), so
 * the reply is sent from the mapping without a copy; NULL, or why not
 * (ST_E_NOTFOUND for an unknown blob, else ST_E_RANGE). */
const char *st_repo_blob_view(st_repo *r, const st_msg *req, const uint8_t **data);

/* ST_RANGES_REQ: the blob's mapping in *data (valid until st_repo_close)
 * and, in *heads (malloc'd, *heads_len bytes; the caller frees), each
 * item's head as an ST_RANGES reply carries it: offset, length, zero and
 * its chunk hashes, taken from a table computed when a snapshot is first
 * mapped (memory pages) or else computed now.  The reply is then sent as
 * the 36-byte prefix and, per item, its head and its bytes from the
 * mapping: no frame built, no copy.  NULL, or why not (ST_E_NOTFOUND for
 * an unknown blob, "out of memory", else ST_E_RANGE). */
const char *st_repo_ranges_view(st_repo *r, const st_msg *req, const uint8_t **data, uint8_t **heads,
                                size_t *heads_len);

/* An encoded ERROR frame in buf (ST_HEAD_SIZE + 4 + ST_TEXT_MAX bytes). */
size_t st_error_frame(uint16_t code, const char *text, uint8_t *buf, size_t cap);

/* Decoded store-side content of a name (also what the Redis push writes). */
typedef struct st_entry {
    st_manifest man;
    const uint8_t *module;      /* mapped bytes */
    const uint8_t *snap;        /* NULL without a snapshot */
} st_entry;

/* Fills man's memory extents from a snapshot file's bytes (docs/snapshot-
 * format.md, memory section); 0 extents when the format is not known. */
void st_snap_extents(const uint8_t *snap, size_t len, st_manifest *man);

void st_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
