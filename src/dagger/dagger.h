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
 *
 * http:// and https:// (libcurl, real TLS): open checks the URL against
 * the allow-list (no list: every URL refused, DAGGER_EPERM); the guest
 * writes a raw HTTP/1.1 request ("GET /path HTTP/1.1", header lines, a
 * blank line, the body); flush (or the first read) sends it and waits for
 * the whole response; read returns it raw: status line, headers, body
 * (a chunked body arrives de-chunked).  The request goes to the origin of
 * the open URL with the request line's target when that starts with '/'
 * (else to the open URL itself); that final URL is checked again.
 * Allow-list patterns are shell globs (fnmatch) matched against the
 * canonical URL "scheme://host[:port]/path[?query]" (scheme and host in
 * lower case, the default port left out); a pattern with no path
 * ("https://api.example.com") allows every path of that origin.  Ports in
 * deny_ports (serve: the admin port and every served port) are refused
 * unless the pattern that matched names the port (":8080") itself.
 * Redirects are never followed (the guest reads the 3xx); proxies from the
 * environment are not used.  Limits: DAGGER_HTTP_REQ_MAX bytes written,
 * DAGGER_HTTP_RESP_MAX bytes received (DAGGER_ETOOBIG), http_timeout_ms
 * per request (DAGGER_ETIMEDOUT) and the instance's deadline_ns (a
 * WEDGE_TRAP_TIMEOUT trap, as WASI's poll_oneoff).  While a request is in
 * flight the calling thread waits in curl_multi_poll, at most until the
 * earlier of the two; with wait_yield, at most DAGGER_HTTP_POLL_MS at a
 * time, offering the thread to other work between waits.
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
    DAGGER_ETIMEDOUT = -10,     /* an http(s) request took longer than its time limit */
    DAGGER_ETOOBIG = -11,       /* an http(s) request or response past its size limit */
} dagger_error;
/* Where the http(s) codes come from: open: EURL (not a URL curl accepts,
 * user:password@ in it), EPERM (not on the allow-list, a denied port);
 * write: EPERM (after the request was sent), ETOOBIG; flush: EOPEN (a
 * malformed request, cannot resolve/connect, TLS verification failed),
 * EPERM (the request line's target is off the allow-list), ETIMEDOUT,
 * ETOOBIG, EIO (any other transfer error). */

#define DAGGER_MAX_STREAMS 1024
#define DAGGER_URL_MAX 4096
#define DAGGER_HTTP_REQ_MAX ((size_t)1 << 20)          /* bytes of one raw request */
#define DAGGER_HTTP_RESP_MAX ((size_t)16 << 20)        /* bytes of one raw response */
#define DAGGER_HTTP_TIMEOUT_MS 30000u                  /* one request, when the config says 0 */

/* One log:// line (no newline), for hosts that log elsewhere (serve). */
typedef void (*dagger_log_fn)(void *arg, const char *line, size_t len);

/* Which URL schemes a stream table opens: Dagger's, or those plus
 * CommonWA's null:// (reads end at once, writes vanish) and zero://
 * (reads give zero bytes, writes vanish). */
typedef enum dagger_schemes { DAGGER_SCHEMES_DAGGER = 0, DAGGER_SCHEMES_CWA = 1 } dagger_schemes;

/* What a Dagger guest may reach: host descriptors for its stdio streams
 * (or memory), the directories file:// URLs resolve in (guest path ->
 * host path, as `wedge run --dir`; a read-only one refuses ?mode=w|a) and
 * the URLs http(s):// may fetch.  Every pointer is borrowed: it must stay
 * valid as long as the instance (the directory list is copied). */
typedef struct dagger_config {
    int stdio_fd[3];            /* host descriptors for stdin/stdout/stderr (not closed); -1: memory */
    int log_fd;                 /* where log:// lines go (without log_fn) */
    int npreopens;
    const wasi_preopen *preopens;
    const uint8_t *in_buf;      /* stdio_fd[0] == -1: what stdin:// reads */
    size_t in_len;
    size_t out_limit[3];        /* [1], [2]: stdio_fd[k] == -1: bytes of it kept, 0 = no limit */
    dagger_log_fn log_fn;       /* non-NULL: log:// lines go here ("prefix: text") */
    void *log_arg;
    int nallow_http;            /* http(s):// allow-list patterns (none: all refused) */
    const char *const *allow_http;
    const char *ca_file;        /* PEM CA bundle for https (NULL: the system's) */
    int ndeny_ports;            /* ports refused unless a matching pattern names them */
    const uint16_t *deny_ports;
    uint64_t deadline_ns;       /* CLOCK_MONOTONIC; 0 = none */
    uint32_t http_timeout_ms;   /* per request; 0 = DAGGER_HTTP_TIMEOUT_MS */
    dagger_schemes schemes;     /* zero: Dagger's own */
    /* Non-NULL: called every DAGGER_HTTP_POLL_MS while an http(s) request
     * is in flight, to let the host run other work on this thread meanwhile
     * (serve: srv_sched_wait_yield); it returns when the guest may go on.
     * A CommonWA context (cwa.h) also calls it between runtime_msleep's
     * slices. */
    void (*wait_yield)(void);
} dagger_config;
#define DAGGER_HTTP_POLL_MS 1

/* Output kept for a memory-backed stdout (1) or stderr (2) of inst's
 * Dagger context; NULL if it has none.  Lives as long as the instance. */
const uint8_t *dagger_instance_output(const wedge_instance *inst, int k, size_t *len, bool *truncated);

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
/* What a memory-backed stdout (1) or stderr (2) kept; NULL if none. */
const uint8_t *dagger_ctx_output(const dagger_ctx *ctx, int k, size_t *len, bool *truncated);
/* One log line "prefix: text", as a write to log://?prefix=P does. */
int32_t dagger_log_line(dagger_ctx *ctx, const char *prefix, const uint8_t *buf, uint32_t len);

/* The host module "dagger".  Register it with rt_linker_add_host and, for
 * 2018-era binaries, rt_linker_alias(lk, "env", &dagger_host_module). */
extern const rt_host_module dagger_host_module;

/* True if inst is a Dagger guest: it imports from Dagger (under either
 * name) or exports dagger_main.  Such a guest runs with dagger_run_main. */
bool dagger_instance_is_guest(wedge_instance *inst);

/* Runs a Dagger guest's entry: export dagger_main() -> i32, else
 * main() -> i32, else _start.  A non-zero result becomes RT_ERR_EXIT with
 * that exit code.  RT_OK if there is no entry at all. */
RT_WARN_UNUSED rt_status dagger_run_main(wedge_instance *inst, rt_result *res);

#endif
