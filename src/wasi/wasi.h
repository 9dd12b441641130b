/*
 * wasi.h — WASI preview1 for guests (wasi_snapshot_preview1).
 *
 * WASI is a host module (runtime.h): register wasi_host_module in a linker
 * with a wasi_config, and every instance that imports from
 * wasi_snapshot_preview1 gets its own wasi_ctx, made from that config (or
 * the one passed for that instantiation) and freed with the instance.
 * A wasi_ctx holds one guest's view of the world: args, environment,
 * stdio backends, pre-opened directories and its open file table.
 * wasi_ctx_new copies every string it is given, so a config need only
 * live until instantiation returns.
 *
 * Jail: every path a guest names is resolved under a pre-opened directory
 * with openat2(RESOLVE_BENEATH) semantics (no "..", absolute path or
 * symbolic link may leave it).
 */
#ifndef WEDGE_WASI_H
#define WEDGE_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"

typedef struct wasi_ctx wasi_ctx;

typedef struct wasi_preopen {
    const char *host_path;
    const char *guest_path;
    /* No right that changes anything beneath it (write, create, truncate,
     * rename, unlink, link, symlink, set times): serve's route "dirs" by
     * default.  false (zero) = `wedge run --dir`'s full rights. */
    bool readonly;
} wasi_preopen;

/* A stdio stream: a host descriptor, or memory (serve: request body in,
 * response body out). */
typedef struct wasi_stdio {
    int host_fd;                 /* >= 0: use this descriptor (not closed by wasi) */
    const uint8_t *in_buf;       /* host_fd < 0, input: bytes to read */
    size_t in_len;
    size_t out_limit;            /* host_fd < 0, output: max bytes kept (0 = unlimited) */
} wasi_stdio;

typedef struct wasi_config {
    int argc;           const char *const *argv;
    int envc;           const char *const *envp;   /* "NAME=VALUE" */
    int npreopens;      const wasi_preopen *preopens;
    wasi_stdio stdio[3];
    /* TCP sockets to listen on, "IPV4:PORT" or "[IPV6]:PORT" (numeric
     * addresses; port 0 picks a free one), each pre-opened after the directories
     * as a SOCKET_STREAM descriptor the guest may sock_accept on (wasmtime's
     * --tcplisten). */
    int nlisten;        const char *const *tcplisten;
    uint64_t deadline_ns;        /* wasi_ctx_set_deadline from the start (0 = none) */
    /* Non-NULL: poll_oneoff waits in slices of at most UT_WAIT_SLICE_NS
     * (util.h) and calls this between them, so the host may run other work
     * on this thread meanwhile (serve: srv_sched_wait_yield); it returns
     * when the guest may go on.  NULL (`wedge run`): one wait. */
    void (*wait_yield)(void);
} wasi_config;

/* NULL on error with a one-line message in err (a socket that cannot be
 * bound is such an error, naming the address). */
wasi_ctx *wasi_ctx_new(const wasi_config *cfg, char *err, size_t errlen);
void wasi_ctx_free(wasi_ctx *ctx);

/* Output captured for a memory-backed stdout/stderr (fd 1 or 2). */
const uint8_t *wasi_ctx_output(const wasi_ctx *ctx, int fd, size_t *len, bool *truncated);

/* A guest may not sleep past `monotonic_ns` (CLOCK_MONOTONIC nanoseconds;
 * 0 = no deadline): poll_oneoff wakes up then (however it yields) and ends
 * the guest call with a WEDGE_TRAP_TIMEOUT trap.  For `wedge serve`'s request deadlines. */
void wasi_ctx_set_deadline(wasi_ctx *ctx, uint64_t monotonic_ns);

/* The host module "wasi_snapshot_preview1".  Its config is a wasi_config;
 * NULL means no args, no environment, no directories and the host's
 * descriptors 0-2 as stdio.  No snapshot hooks: a restored instance gets a
 * fresh context from its own run's config. */
extern const rt_host_module wasi_host_module;

/* The WASI context of an instance, or NULL if it imports nothing from
 * WASI.  It lives as long as the instance. */
static inline wasi_ctx *wasi_instance_ctx(const wedge_instance *inst)
{
    return (wasi_ctx *)rt_host_ctx(inst, &wasi_host_module);
}

#endif
