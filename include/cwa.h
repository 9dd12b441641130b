/*
 * cwa.h — the guest side of CommonWA (Olin's `cwa` ABI), for C programs
 * built with `clang --target=wasm32 -nostdlib` (no WASI, no libc).  See
 * src/cwa/cwa.h in wedge for what each call returns and the schemes.
 *
 *   int out = io_get_stdout();
 *   resource_write(out, "hello\n", 6);
 *
 * Export `int cwa_main(void)`: its result is the exit status.  Errors are
 * negative (CWA_E* below).  Resources: log://?prefix=P, random://, null://,
 * zero://, http(s):// (on the allow-list), file:///path (inside the
 * pre-opened directories), stdin://, stdout://, stderr://.
 */
#ifndef CWA_H
#define CWA_H

#define CWA_IMPORT(name) __attribute__((import_module("cwa"), import_name(name)))

/* Resources: descriptors from resource_open or io_get_*. */
CWA_IMPORT("resource_open") int resource_open(const char *url, int url_len);
CWA_IMPORT("resource_read") int resource_read(int fd, void *buf, int len);
CWA_IMPORT("resource_write") int resource_write(int fd, const void *buf, int len);
CWA_IMPORT("resource_flush") int resource_flush(int fd);
CWA_IMPORT("resource_close") void resource_close(int fd);
CWA_IMPORT("io_get_stdin") int io_get_stdin(void);
CWA_IMPORT("io_get_stdout") int io_get_stdout(void);
CWA_IMPORT("io_get_stderr") int io_get_stderr(void);

/* Logging: level 1 error, 3 warning, 6 info. */
CWA_IMPORT("log_write") void log_write(int level, const char *text, int len);

/* The value's length (written if it fits, else only the size needed), or
 * CWA_ENOTFOUND. */
CWA_IMPORT("env_get") int env_get(const char *key, int key_len, char *value, int value_len);

CWA_IMPORT("runtime_exit") __attribute__((noreturn)) void runtime_exit(int status);
CWA_IMPORT("runtime_spec_major") int runtime_spec_major(void);
CWA_IMPORT("runtime_spec_minor") int runtime_spec_minor(void);
CWA_IMPORT("runtime_name") int runtime_name(char *out, int len);
CWA_IMPORT("runtime_msleep") void runtime_msleep(int ms);

CWA_IMPORT("startup_arg_len") int startup_arg_len(void);
CWA_IMPORT("startup_arg_at") int startup_arg_at(int i, char *out, int len);

CWA_IMPORT("time_now") long long time_now(void);          /* Unix seconds */
CWA_IMPORT("random_i32") int random_i32(void);            /* non-negative */
CWA_IMPORT("random_i64") long long random_i64(void);      /* non-negative */

enum {
    CWA_EUNKNOWN = -1,          /* anything else (host I/O, too many resources) */
    CWA_EINVAL = -2,            /* bad argument, URL, scheme or descriptor */
    CWA_EPERM = -3,             /* not allowed */
    CWA_ENOTFOUND = -4,         /* no such variable, file or stream */
    CWA_EEOF = -5,              /* the other end is gone */
};

#endif
