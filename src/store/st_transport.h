/*
 * st_transport.h — reaching a store: a connection to a store named by URL
 * (`wedge://HOST:PORT` or `redis://HOST:PORT`), the requests a running node
 * makes of it, and the store node's server.  Which backend carries the
 * bytes (st_tcp.c, st_redis.c) is chosen here by the URL's scheme and is
 * known nowhere else.
 *
 * Ownership: st_connect returns a connection the caller closes with
 * st_close; a manifest owns its extents (st_manifest_free); fetched bytes
 * go to the caller's buffers.
 * Errors: every call returns 0 on success, -1 with one line in the
 * caller's `err` (ST_ERR_LEN bytes) naming the store and what went wrong;
 * nothing is allocated on the error path.  Every socket operation has a
 * timeout, so each call returns within a bounded time.
 * Threads: a connection belongs to one thread at a time; separate
 * connections are independent.
 */
#ifndef WEDGE_ST_TRANSPORT_H
#define WEDGE_ST_TRANSPORT_H

#include "runtime/rt_uffd.h"
#include "store.h"

#define ST_ERR_LEN 512
#define ST_TIMEOUT_MS_DEFAULT 5000
#define ST_CONNECT_ATTEMPTS 3           /* st_connect_retry for a fetch: ~0.3 s of back-off in all */

typedef struct st_manifest {
    char name[ST_NAME_MAX + 1];
    st_blob_ref module;
    int has_snap;
    st_blob_ref snap;
    uint32_t mem_pages;
    uint32_t n_extents;
    st_extent *extents;         /* malloc'd, n_extents */
} st_manifest;

typedef struct st_conn st_conn;

/* The backend's operations; a connection is a backend and its state. */
typedef struct st_transport {
    const char *scheme;
    int (*connect)(const char *hostport, const st_key *key, int timeout_ms, void **state, char *err);
    int (*manifest)(void *state, const char *name, st_manifest *out, char *err);
    /* Fills dst[i] with want[i].len bytes of the blob at want[i].off, each
     * range checked against its chunk hashes (SHA-256 per 4 KiB). */
    int (*ranges)(void *state, const st_blob_ref *blob, const st_range *want, uint32_t n, uint8_t *const *dst,
                  char *err);
    int (*push)(void *state, const char *name, st_blob_kind which, const uint8_t *data, size_t len, char *err);
    int (*wset_put)(void *state, const char *name, const uint8_t snap[ST_SHA_LEN], const uint32_t *pages,
                    uint32_t n, char *err);
    /* *pages malloc'd (NULL and *n 0 when the store has none). */
    int (*wset_get)(void *state, const char *name, const uint8_t snap[ST_SHA_LEN], uint32_t **pages, uint32_t *n,
                    char *err);
    /* Optional (NULL: st_fetch_blob uses ranges): the whole blob into
     * dst, streamed into place and hashed once as it arrives, checked
     * against blob->sha. */
    int (*blob)(void *state, const st_blob_ref *blob, uint8_t *dst, char *err);
    void (*close)(void *state);
} st_transport;

extern const st_transport st_tcp_transport;
extern const st_transport st_redis_transport;

/* A store URL split: scheme's backend, "HOST:PORT", and NAME after the
 * last '/' (NULL when the URL names no module). */
typedef struct st_url {
    const st_transport *t;
    char hostport[128];
    char name[ST_NAME_MAX + 1];
} st_url;

/* 1 when s starts with a store scheme (wedge:// or redis://). */
int st_url_is_store(const char *s);
__attribute__((warn_unused_result)) int st_url_parse(const char *s, int need_name, st_url *u, char *err);

__attribute__((warn_unused_result)) st_conn *st_connect(const st_url *u, const st_key *key, int timeout_ms,
                                                        char *err);
/* st_connect, tried up to `attempts` times: a failure that came back
 * fast (refused, reset: a store restarting) is tried again after a
 * back-off of 100 ms, then 200, 400, ... (at most 2 s); one that already
 * waited half the timeout (a stalled store) is not, so the whole call
 * stays within about one timeout plus the back-offs.  err: the last
 * failure. */
__attribute__((warn_unused_result)) st_conn *st_connect_retry(const st_url *u, const st_key *key, int timeout_ms,
                                                              int attempts, char *err);
void st_close(st_conn *c);
__attribute__((warn_unused_result)) int st_manifest_get(st_conn *c, const char *name, st_manifest *out, char *err);
void st_manifest_free(st_manifest *m);
__attribute__((warn_unused_result)) int st_fetch_ranges(st_conn *c, const st_blob_ref *blob, const st_range *want,
                                                        uint32_t n, uint8_t *const *dst, char *err);
/* The whole blob into dst (blob->size bytes), in frame-sized ranges, then
 * checked against blob->sha. */
__attribute__((warn_unused_result)) int st_fetch_blob(st_conn *c, const st_blob_ref *blob, uint8_t *dst, char *err);
__attribute__((warn_unused_result)) int st_push(st_conn *c, const char *name, st_blob_kind which, const uint8_t *data,
                                                size_t len, char *err);
__attribute__((warn_unused_result)) int st_wset_put(st_conn *c, const char *name, const uint8_t snap[ST_SHA_LEN],
                                                    const uint32_t *pages, uint32_t n, char *err);
__attribute__((warn_unused_result)) int st_wset_get(st_conn *c, const char *name, const uint8_t snap[ST_SHA_LEN],
                                                    uint32_t **pages, uint32_t *n, char *err);

/* Memory spans [offs[i], offs[i]+lens[i]) of the snapshot blob `snap`
 * whose memory extents are ext[0..n_ext) (a manifest's, sorted) into
 * dsts[i], zero where no extent lies, all in one pipelined batch
 * (st_mem.c).  Each range is checked against its chunk hashes; only the
 * parts no extent covers are zeroed (the rest is overwritten). */
__attribute__((warn_unused_result)) int st_fetch_mem(st_conn *c, const st_blob_ref *snap, const st_extent *ext,
                                                     uint32_t n_ext, const uint64_t *offs, const size_t *lens,
                                                     uint8_t *const *dsts, uint32_t k, char *err);

/* ---- a node's lazy start (st_lazy.c) ------------------------------------ */
/* The snapshot minus its memory (rt_snapshot_small_state: a memory that
 * reads as zero) as the node cache file DIR/HEX.small.snap, fetched with
 * one ranges request, written to a temporary name and renamed.  Path into
 * out.  0, or -1 (err). */
__attribute__((warn_unused_result)) int st_lazy_small_state(st_conn *c, const st_manifest *m, const char *dir,
                                                            char *out, size_t cap, char *err);

#define ST_WSET_PAGE 4096u              /* a working set counts 4 KiB pages */

/* Fetches memory spans into dsts (a caller's st_fetch_mem, with its own
 * retries and error report); 0, or -1. */
typedef int (*st_lazy_fetch_fn)(void *arg, const uint64_t *offs, const size_t *lens, uint8_t *const *dsts,
                                uint32_t k);
/* The spans a working set was put in (malloc'd; st_lazy_runs_free). */
typedef struct st_lazy_runs {
    uint64_t *offs;
    size_t *lens;
    uint32_t runs, pages;
} st_lazy_runs;
/* A working set (pages, first-touch order) fetched in one batch straight
 * into mem (mem_size bytes; pages outside it, from a stale set, are
 * skipped), as runs of consecutive pages, before mem is registered for
 * faults; then st_lazy_mark_present tells the fault handler.  0, or -1
 * (err; the fetch's own error is the caller's). */
__attribute__((warn_unused_result)) int st_lazy_prefetch(const uint32_t *pages, uint32_t n, uint8_t *mem,
                                                         uint64_t mem_size, st_lazy_fetch_fn fetch, void *arg,
                                                         st_lazy_runs *out, char *err);
__attribute__((warn_unused_result)) int st_lazy_mark_present(rt_uffd *u, const st_lazy_runs *r);
void st_lazy_runs_free(st_lazy_runs *r);

/* ---- the node-side cache (st_cache.c) ----------------------------------- */
/* The blob as the file DIR/HEX.EXT (HEX its SHA-256), fetched and checked
 * only when not there yet: content-addressed, so a hit needs no network and
 * two names sharing a blob share its file.  Written to a temporary name and
 * renamed, so a half-fetched blob is never found.  Path into out. */
__attribute__((warn_unused_result)) int st_cache_blob(st_conn *c, const st_blob_ref *blob, const char *dir,
                                                      const char *ext, char *out, size_t cap, char *err);

/* ---- a running node's fetch (st_node.c) --------------------------------- */
/* What a running node (`wedge run`, a `wedge serve` route) needs to start
 * from a store URL: the key (url's scheme decides whether one is needed)
 * and the fetch of NAME's module and snapshot into the node cache DIR. */

/* Parses url (with a NAME) and loads key_file (NULL: no key; an error for
 * wedge://, which always authenticates). */
__attribute__((warn_unused_result)) int st_node_open(const char *url, const char *key_file, st_url *u, st_key *key,
                                                     char *err);
/* Eager fetch: NAME's module, and its snapshot unless module_only (snap
 * gets "" when there is none), as files in the cache DIR, each checked
 * against its SHA-256 (st_cache_blob: a half-fetched blob is never found).
 * Blobs already cached cost only the manifest request.  Every socket
 * operation times out after timeout_ms; the connection is retried as
 * st_connect_retry (ST_CONNECT_ATTEMPTS). */
__attribute__((warn_unused_result)) int st_node_fetch(const st_url *u, const st_key *key, const char *dir,
                                                      int module_only, int timeout_ms, char *module, size_t cap,
                                                      char *snap, size_t snap_cap, char *err);

/* ---- the store node ---------------------------------------------------- */
typedef struct st_server_config {
    const char *dir;            /* NAME.wasm, NAME.snap, and what is pushed */
    const char *listen;         /* "ADDR:PORT" (port 0: any free port) */
    const st_key *key;
    int timeout_ms;             /* per socket operation */
    int max_conns;              /* concurrent connections; more are refused */
    /* Called once listening with the bound port (tests use port 0). */
    void (*on_listen)(int port, void *arg);
    void *arg;
    volatile int *stop;         /* the loop returns when *stop becomes non-zero */
} st_server_config;

/* Serves until *stop; logs one line per session error to stderr. */
__attribute__((warn_unused_result)) int st_serve(const st_server_config *cfg, char *err);

#endif
