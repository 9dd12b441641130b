/*
 * dagger.h — Dagger streams for guests (import module "dagger", also
 * answering "env" as Dagger's original hosts did): "everything is a
 * stream".  Five calls, all i32:
 *
 *   open(url_ptr, url_len) -> sd    close(sd) -> r
 *   read(sd, ptr, len) -> n         write(sd, ptr, len) -> n
 *   flush(sd) -> r                  (sync: the same as flush)
 *
 * A URL is read up to url_len bytes or its first NUL; url_len 0 means a
 * NUL-terminated string (Dagger's 2018 `open(const char *url, int flags)`
 * with flags 0 runs unchanged).  Descriptors are indices from 0, the lowest
 * free one reused; nothing is open at start.  read returns 0 at the end of
 * a stream.  Errors are negative (dagger_error below).
 *
 * Schemes: stdin://, stdout://, stderr:// and fd://0, fd://1, fd://2 (no
 * other host descriptor); log://?prefix=P (one line per write, on the
 * host's stderr as "P: text"); random:// (OS randomness, read only);
 * file:///path inside a pre-opened directory (the WASI jail: the same
 * escapes refused), ?mode=r (default) | w (create/truncate) | a (append).
 * http:// and https:// are not supported yet: -3.
 *
 * Ownership: the host module makes one dagger_ctx per instance that imports
 * from it (runtime.h contexts) from a dagger_config it copies what it
 * needs from; the context owns the streams it opened.
 * Errors: host functions return the codes below, never trap on guest
 * input; bad pointers and lengths give DAGGER_EFAULT.
 * Threads: a context belongs to its instance's thread.
 */
#ifndef WEDGE_DAGGER_H
#define WEDGE_DAGGER_H

#include "../runtime/runtime.h"
#include "../wasi/wasi.h"

typedef enum dagger_error {
    DAGGER_EURL = -1,           /* malformed URL (no "scheme://", bad query, too long) */
    DAGGER_EOPEN = -2,          /* the stream cannot be opened (no such file, fd://3...) */
    DAGGER_ESCHEME = -3,        /* unknown or unsupported scheme */
    DAGGER_EPERM = -4,          /* not allowed: outside the directories, read of a write-only stream... */
    DAGGER_EBADF = -5,          /* not an open descriptor */
    DAGGER_EEOS = -6,           /* the other end is gone (a write to a closed pipe) */
    DAGGER_EIO = -7,            /* the host's I/O failed */
    DAGGER_EMFILE = -8,         /* too many open streams (DAGGER_MAX_STREAMS) */
    DAGGER_EFAULT = -9,         /* a pointer/length outside the guest's memory */
} dagger_error;

#define DAGGER_MAX_STREAMS 1024
#define DAGGER_URL_MAX 4096

/* Which URL schemes a stream table opens: Dagger's, or those plus
 * CommonWA's null:// (reads end at once, writes vanish) and zero://
 * (reads give zero bytes, writes vanish). */
typedef enum dagger_schemes { DAGGER_SCHEMES_DAGGER = 0, DAGGER_SCHEMES_CWA = 1 } dagger_schemes;

/* What a Dagger guest may reach: host descriptors for its stdio streams
 * and the directories file:// URLs resolve in (guest path -> host path,
 * as `wedge run --dir`; a read-only one refuses ?mode=w|a). */
typedef struct dagger_config {
    int stdio_fd[3];            /* host descriptors for stdin/stdout/stderr (not closed) */
    int log_fd;                 /* where log:// lines go */
    int npreopens;
    const wasi_preopen *preopens;
    dagger_schemes schemes;     /* zero: Dagger's own */
} dagger_config;

/* ---- the stream table, for host modules built on Dagger's streams ------------
 * (CommonWA's resource_* calls run on it.)  A dagger_ctx is one guest's
 * descriptor table; the calls below take buffers already in host memory
 * (the caller checked the guest's pointers) and return what the guest
 * sees: a count or descriptor >= 0, or a dagger_error. */
typedef struct dagger_ctx dagger_ctx;

/* NULL config: the host's descriptors 0-2, log lines to 2, no directories.
 * Copies what it keeps.  NULL + a one-line err when memory runs out. */
dagger_ctx *dagger_ctx_new(const dagger_config *cfg, char *err, size_t errlen);
void dagger_ctx_free(dagger_ctx *ctx);
/* url[0..n) exactly (no NUL rule here: that is the Dagger call's). */
int32_t dagger_sd_open(dagger_ctx *ctx, const char *url, size_t n);
int32_t dagger_sd_close(dagger_ctx *ctx, int32_t sd);
int32_t dagger_sd_read(dagger_ctx *ctx, int32_t sd, uint8_t *buf, uint32_t len);
int32_t dagger_sd_write(dagger_ctx *ctx, int32_t sd, const uint8_t *buf, uint32_t len);
int32_t dagger_sd_flush(dagger_ctx *ctx, int32_t sd);
/* One log line "prefix: text", as a write to log://?prefix=P does. */
int32_t dagger_log_line(dagger_ctx *ctx, const char *prefix, const uint8_t *buf, uint32_t len);

/* The host module "dagger".  Register it with rt_linker_add_host and, for
 * 2018-era binaries, rt_linker_alias(lk, "env", &dagger_host_module). */
extern const rt_host_module dagger_host_module;

/* Runs a Dagger guest's entry: export dagger_main() -> i32, else
 * main() -> i32, else _start.  A non-zero result becomes RT_ERR_EXIT with
 * that exit code.  RT_OK if there is no entry at all. */
RT_WARN_UNUSED rt_status dagger_run_main(wedge_instance *inst, rt_result *res);

#endif
