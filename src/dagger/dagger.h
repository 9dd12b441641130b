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

/* What a Dagger guest may reach: host descriptors for its stdio streams
 * and the directories file:// URLs resolve in (guest path -> host path,
 * as `wedge run --dir`). */
typedef struct dagger_config {
    int stdio_fd[3];            /* host descriptors for stdin/stdout/stderr (not closed) */
    int log_fd;                 /* where log:// lines go */
    int npreopens;
    const wasi_preopen *preopens;
} dagger_config;

/* The host module "dagger".  Register it with rt_linker_add_host and, for
 * 2018-era binaries, rt_linker_alias(lk, "env", &dagger_host_module). */
extern const rt_host_module dagger_host_module;

/* Runs a Dagger guest's entry: export dagger_main() -> i32, else
 * main() -> i32, else _start.  A non-zero result becomes RT_ERR_EXIT with
 * that exit code.  RT_OK if there is no entry at all. */
RT_WARN_UNUSED rt_status dagger_run_main(wedge_instance *inst, rt_result *res);

#endif
