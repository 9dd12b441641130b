/*
 * wasi_host.h — the wasi_snapshot_preview1 host functions, callable
 * directly (tests, embedders).  Each has the wedge_funcref C signature of
 * its Wasm type: the importing instance first (its WASI context is
 * wasi_instance_ctx(inst)), then i32 -> uint32_t, i64 -> uint64_t.  All
 * return a WASI errno except proc_exit.
 *
 * WASI_HOST_FUNCS lists them once, with their Wasm signatures: the host
 * module's function table (wasi_resolve.c) and the SLEdge-named wrappers
 * (sledge_abi__wasi_snapshot_preview1_<name>, same parameters without the
 * instance, using sledge_abi__current_wasm_module_instance) are made from it.
 *
 * Guest pointers: every (pointer, length) is checked against the memory's
 * current size in 64-bit arithmetic before use; a bad one returns EFAULT
 * (21) with nothing done, never a trap.  A context-less instance (no
 * WASI context) gets EBADF from fd calls and ENOSYS from args/environ.
 *
 * Deliberately unsupported (documented answers):
 *   proc_raise                       ENOSYS (52): no signals in the sandbox
 *   fd_fdstat_set_flags with DSYNC/RSYNC/SYNC on a host file
 *                                    ENOTSUP: Linux cannot change them after open
 *   fd_seek/fd_tell on memory-backed stdio and other streams   ESPIPE (70)
 * Sockets: the guest gets the listening sockets of wasi_config.tcplisten
 * (after the pre-opened directories) and the connections sock_accept makes
 * from them; sock_* on a bad fd is EBADF, on anything else ENOTSOCK.
 *
 * Rights (wasi_internal.h has the sets): a pre-opened directory has the
 * directory rights as base and directory + file rights as inheriting.
 * path_open trims what it is asked for to the directory's inheriting
 * rights, then the base rights to those of the type opened (a directory
 * never has FD_SEEK or FD_WRITE; a file opened read-only has no right that
 * needs write access).  Every call checks its descriptor's rights:
 * fd_* calls the right of their name (fd_read FD_READ, fd_pread FD_READ +
 * FD_SEEK, fd_tell FD_TELL or FD_SEEK, ...; EBADF without it), path_*
 * calls the directory's PATH_* right (path_open: PATH_OPEN, plus
 * PATH_CREATE_FILE for O_CREAT and PATH_FILESTAT_SET_SIZE for O_TRUNC;
 * EPERM without it).  These are the errnos of the current wasi-testsuite;
 * fd_fdstat_set_rights asked to add a right stays ENOTCAPABLE.
 * A more precise errno comes first: EISDIR for I/O on a directory, ESPIPE
 * for seeking a stream.  fd_fdstat_set_rights may only drop rights.
 * path_open of a directory with O_DIRECTORY asking for FD_WRITE (or
 * O_TRUNC, or append) is EISDIR, as the wasi-testsuite expects.
 *
 * X(name, "sig", (typed params after inst), (argument names));
 * sched_yield (no parameters) and proc_exit (no result) are declared
 * separately.
 */
#ifndef WEDGE_WASI_HOST_H
#define WEDGE_WASI_HOST_H

#include <stdint.h>

#include "abi/wedge_abi.h"

#define WASI_HOST_FUNCS(X) \
    X(args_get, "ii:i", (uint32_t argv, uint32_t buf), (argv, buf)) \
    X(args_sizes_get, "ii:i", (uint32_t argc, uint32_t size), (argc, size)) \
    X(environ_get, "ii:i", (uint32_t env, uint32_t buf), (env, buf)) \
    X(environ_sizes_get, "ii:i", (uint32_t count, uint32_t size), (count, size)) \
    X(clock_res_get, "ii:i", (uint32_t id, uint32_t res), (id, res)) \
    X(clock_time_get, "iIi:i", (uint32_t id, uint64_t precision, uint32_t time), (id, precision, time)) \
    X(fd_advise, "iIIi:i", (uint32_t fd, uint64_t off, uint64_t len, uint32_t advice), (fd, off, len, advice)) \
    X(fd_allocate, "iII:i", (uint32_t fd, uint64_t off, uint64_t len), (fd, off, len)) \
    X(fd_close, "i:i", (uint32_t fd), (fd)) \
    X(fd_datasync, "i:i", (uint32_t fd), (fd)) \
    X(fd_fdstat_get, "ii:i", (uint32_t fd, uint32_t buf), (fd, buf)) \
    X(fd_fdstat_set_flags, "ii:i", (uint32_t fd, uint32_t flags), (fd, flags)) \
    X(fd_fdstat_set_rights, "iII:i", (uint32_t fd, uint64_t base, uint64_t inh), (fd, base, inh)) \
    X(fd_filestat_get, "ii:i", (uint32_t fd, uint32_t buf), (fd, buf)) \
    X(fd_filestat_set_size, "iI:i", (uint32_t fd, uint64_t size), (fd, size)) \
    X(fd_filestat_set_times, "iIIi:i", (uint32_t fd, uint64_t atim, uint64_t mtim, uint32_t fst), (fd, atim, mtim, fst)) \
    X(fd_pread, "iiiIi:i", (uint32_t fd, uint32_t iovs, uint32_t niovs, uint64_t off, uint32_t nread), (fd, iovs, niovs, off, nread)) \
    X(fd_prestat_get, "ii:i", (uint32_t fd, uint32_t buf), (fd, buf)) \
    X(fd_prestat_dir_name, "iii:i", (uint32_t fd, uint32_t path, uint32_t len), (fd, path, len)) \
    X(fd_pwrite, "iiiIi:i", (uint32_t fd, uint32_t iovs, uint32_t niovs, uint64_t off, uint32_t nwritten), (fd, iovs, niovs, off, nwritten)) \
    X(fd_read, "iiii:i", (uint32_t fd, uint32_t iovs, uint32_t niovs, uint32_t nread), (fd, iovs, niovs, nread)) \
    X(fd_readdir, "iiiIi:i", (uint32_t fd, uint32_t buf, uint32_t len, uint64_t cookie, uint32_t used), (fd, buf, len, cookie, used)) \
    X(fd_renumber, "ii:i", (uint32_t fd, uint32_t to), (fd, to)) \
    X(fd_seek, "iIii:i", (uint32_t fd, uint64_t off, uint32_t whence, uint32_t newoff), (fd, off, whence, newoff)) \
    X(fd_sync, "i:i", (uint32_t fd), (fd)) \
    X(fd_tell, "ii:i", (uint32_t fd, uint32_t off), (fd, off)) \
    X(fd_write, "iiii:i", (uint32_t fd, uint32_t iovs, uint32_t niovs, uint32_t nwritten), (fd, iovs, niovs, nwritten)) \
    X(path_create_directory, "iii:i", (uint32_t fd, uint32_t path, uint32_t len), (fd, path, len)) \
    X(path_filestat_get, "iiiii:i", (uint32_t fd, uint32_t flags, uint32_t path, uint32_t len, uint32_t buf), (fd, flags, path, len, buf)) \
    X(path_filestat_set_times, "iiiiIIi:i", (uint32_t fd, uint32_t flags, uint32_t path, uint32_t len, uint64_t atim, uint64_t mtim, uint32_t fst), (fd, flags, path, len, atim, mtim, fst)) \
    X(path_link, "iiiiiii:i", (uint32_t ofd, uint32_t oflags, uint32_t opath, uint32_t olen, uint32_t nfd, uint32_t npath, uint32_t nlen), (ofd, oflags, opath, olen, nfd, npath, nlen)) \
    X(path_open, "iiiiiIIii:i", (uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t len, uint32_t oflags, uint64_t base, uint64_t inh, uint32_t fdflags, uint32_t out), (fd, dirflags, path, len, oflags, base, inh, fdflags, out)) \
    X(path_readlink, "iiiiii:i", (uint32_t fd, uint32_t path, uint32_t len, uint32_t buf, uint32_t buflen, uint32_t used), (fd, path, len, buf, buflen, used)) \
    X(path_remove_directory, "iii:i", (uint32_t fd, uint32_t path, uint32_t len), (fd, path, len)) \
    X(path_rename, "iiiiii:i", (uint32_t fd, uint32_t opath, uint32_t olen, uint32_t nfd, uint32_t npath, uint32_t nlen), (fd, opath, olen, nfd, npath, nlen)) \
    X(path_symlink, "iiiii:i", (uint32_t opath, uint32_t olen, uint32_t fd, uint32_t npath, uint32_t nlen), (opath, olen, fd, npath, nlen)) \
    X(path_unlink_file, "iii:i", (uint32_t fd, uint32_t path, uint32_t len), (fd, path, len)) \
    X(poll_oneoff, "iiii:i", (uint32_t in, uint32_t out, uint32_t nsubs, uint32_t nevents), (in, out, nsubs, nevents)) \
    X(proc_raise, "i:i", (uint32_t sig), (sig)) \
    X(random_get, "ii:i", (uint32_t buf, uint32_t len), (buf, len)) \
    X(sock_accept, "iii:i", (uint32_t fd, uint32_t flags, uint32_t out), (fd, flags, out)) \
    X(sock_recv, "iiiiii:i", (uint32_t fd, uint32_t iovs, uint32_t niovs, uint32_t flags, uint32_t len, uint32_t oflags), (fd, iovs, niovs, flags, len, oflags)) \
    X(sock_send, "iiiii:i", (uint32_t fd, uint32_t iovs, uint32_t niovs, uint32_t flags, uint32_t len), (fd, iovs, niovs, flags, len)) \
    X(sock_shutdown, "ii:i", (uint32_t fd, uint32_t how), (fd, how))

#define WASI_EXPAND_(...) __VA_ARGS__

#define WASI_DECLARE_(name, sig, params, args) \
    uint32_t wasi_##name(wedge_instance *inst, WASI_EXPAND_ params); \
    uint32_t sledge_abi__wasi_snapshot_preview1_##name params;
WASI_HOST_FUNCS(WASI_DECLARE_)
#undef WASI_DECLARE_

/* The two that do not fit the list's shape. */
uint32_t wasi_sched_yield(wedge_instance *inst);
uint32_t sledge_abi__wasi_snapshot_preview1_sched_yield(void);
WEDGE_NORETURN void wasi_proc_exit(wedge_instance *inst, uint32_t code);
WEDGE_NORETURN void sledge_abi__wasi_snapshot_preview1_proc_exit(uint32_t code);

#endif
