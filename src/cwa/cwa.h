/*
 * cwa.h — CommonWA for guests (Olin's `cwa` ABI; import module "cwa", also
 * answering "env" as Olin did).  The whole function list of SPEC §5:
 *
 *   resource_open(url_ptr, url_len) -> fd    resource_close(fd)
 *   resource_read(fd, ptr, len) -> n         resource_write(fd, ptr, len) -> n
 *   resource_flush(fd) -> r
 *   io_get_stdin() / io_get_stdout() / io_get_stderr() -> fd
 *   log_write(level, ptr, len)               (1 error, 3 warning, 6 info)
 *   env_get(key_ptr, key_len, val_ptr, val_len) -> n
 *   runtime_exit(status)                     runtime_msleep(ms)
 *   runtime_spec_major() -> 0                runtime_spec_minor() -> 1
 *   runtime_name(ptr, len) -> n              ("wedge")
 *   startup_arg_len() -> n                   startup_arg_at(i, ptr, len) -> n
 *   time_now() -> i64 (Unix seconds)         random_i32() -> i32, random_i64() -> i64
 *                                            (non-negative, as Olin's Int31/Int63)
 *
 * Resources are Dagger's streams (dagger.h: the same descriptor table and
 * stream layer) with CommonWA's schemes: log://?prefix=P, random://,
 * null://, zero://, and http(s):// once Dagger has them; Dagger's stdin://,
 * stdout://, stderr:// and file:// (inside the pre-opened directories)
 * work too.  resource_read returns 0 at the end of a stream.
 *
 * env_get: the value's length when it fits (written), the length needed
 * when it does not (nothing written), CWA_ENOTFOUND without the key.
 * startup_arg_at: the bytes written, truncated to the buffer.  argv and the
 * environment are the ones a WASI function gets in the same run.
 * runtime_msleep never sleeps past the instance's deadline: it traps with
 * WEDGE_TRAP_TIMEOUT there, as WASI's poll_oneoff does; with the streams'
 * wait_yield it sleeps in slices and calls it between them, as poll_oneoff.
 *
 * Ownership: one cwa_ctx per instance that imports from "cwa" (runtime.h
 * contexts), made from a cwa_config it copies what it keeps from (the
 * config need only live until instantiation returns).
 * Errors: calls return the codes below and never trap on guest input;
 * calls without a result (log_write, resource_close) ignore bad input.
 * Threads: a context belongs to its instance's thread.
 */
#ifndef WEDGE_CWA_H
#define WEDGE_CWA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dagger/dagger.h"
#include "runtime/runtime.h"

typedef enum cwa_error {
    CWA_EUNKNOWN = -1,          /* none of the below (host I/O failed, too many resources) */
    CWA_EINVAL = -2,            /* bad argument: pointer/length outside memory, bad URL or fd, unknown scheme */
    CWA_EPERM = -3,             /* not allowed: outside the directories, reading a write-only stream */
    CWA_ENOTFOUND = -4,         /* no such environment variable, file, or stream */
    CWA_EEOF = -5,              /* the other end is gone (a write to a closed pipe) */
} cwa_error;

#define CWA_SPEC_MAJOR 0
#define CWA_SPEC_MINOR 1
#define CWA_RUNTIME_NAME "wedge"

typedef struct cwa_config {
    int argc;           const char *const *argv;
    int envc;           const char *const *envp;   /* "NAME=VALUE" */
    dagger_config streams;      /* .schemes is set to DAGGER_SCHEMES_CWA; its deadline_ns
                                 * bounds runtime_msleep too */
} cwa_config;

/* The host module "cwa".  Register it with rt_linker_add_host and
 * rt_linker_alias(lk, "env", &cwa_host_module).  NULL config: no args, no
 * environment, the host's descriptors 0-2, no directories. */
extern const rt_host_module cwa_host_module;

/* Output kept for a memory-backed stdout (1) or stderr (2) of inst's
 * CommonWA context (serve); NULL if it has none.  Lives as long as inst. */
const uint8_t *cwa_instance_output(const wedge_instance *inst, int k, size_t *len, bool *truncated);

/* True if inst is a CommonWA guest: it imports from CommonWA (under
 * either name) or exports cwa_main.  Such a guest runs with cwa_run_main. */
bool cwa_instance_is_guest(wedge_instance *inst);

/* Runs a CommonWA guest's entry: export cwa_main() -> i32, else _start.
 * A non-zero result becomes RT_ERR_EXIT with that exit code (as
 * runtime_exit does).  RT_OK if there is no entry at all. */
RT_WARN_UNUSED rt_status cwa_run_main(wedge_instance *inst, rt_result *res);

#endif
