/*
 * wasi_internal.h — what the files of src/wasi/ share: the context layout,
 * the WASI preview1 constants (numbers fixed by the witx definitions), and
 * the guest-memory accessors every host function goes through.
 *
 * Error idiom of this layer: host functions return a WASI errno (uint32_t,
 * 0 = success) and never trap on bad guest input; internal helpers return
 * the same kind of value.  Host errno values are translated once, by
 * wasi_errno_from_host().
 */
#ifndef WEDGE_WASI_INTERNAL_H
#define WEDGE_WASI_INTERNAL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "runtime/rt_guest.h"
#include "wasi.h"

/* ---- errno (wasi_snapshot_preview1 numbering) --------------------------- */
enum {
    WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EADDRINUSE = 3, WASI_EADDRNOTAVAIL = 4,
    WASI_EAFNOSUPPORT = 5, WASI_EAGAIN = 6, WASI_EALREADY = 7, WASI_EBADF = 8, WASI_EBADMSG = 9,
    WASI_EBUSY = 10, WASI_ECANCELED = 11, WASI_ECHILD = 12, WASI_ECONNABORTED = 13,
    WASI_ECONNREFUSED = 14, WASI_ECONNRESET = 15, WASI_EDEADLK = 16, WASI_EDESTADDRREQ = 17,
    WASI_EDOM = 18, WASI_EDQUOT = 19, WASI_EEXIST = 20, WASI_EFAULT = 21, WASI_EFBIG = 22,
    WASI_EHOSTUNREACH = 23, WASI_EIDRM = 24, WASI_EILSEQ = 25, WASI_EINPROGRESS = 26,
    WASI_EINTR = 27, WASI_EINVAL = 28, WASI_EIO = 29, WASI_EISCONN = 30, WASI_EISDIR = 31,
    WASI_ELOOP = 32, WASI_EMFILE = 33, WASI_EMLINK = 34, WASI_EMSGSIZE = 35, WASI_EMULTIHOP = 36,
    WASI_ENAMETOOLONG = 37, WASI_ENETDOWN = 38, WASI_ENETRESET = 39, WASI_ENETUNREACH = 40,
    WASI_ENFILE = 41, WASI_ENOBUFS = 42, WASI_ENODEV = 43, WASI_ENOENT = 44, WASI_ENOEXEC = 45,
    WASI_ENOLCK = 46, WASI_ENOLINK = 47, WASI_ENOMEM = 48, WASI_ENOMSG = 49, WASI_ENOPROTOOPT = 50,
    WASI_ENOSPC = 51, WASI_ENOSYS = 52, WASI_ENOTCONN = 53, WASI_ENOTDIR = 54, WASI_ENOTEMPTY = 55,
    WASI_ENOTRECOVERABLE = 56, WASI_ENOTSOCK = 57, WASI_ENOTSUP = 58, WASI_ENOTTY = 59,
    WASI_ENXIO = 60, WASI_EOVERFLOW = 61, WASI_EOWNERDEAD = 62, WASI_EPERM = 63, WASI_EPIPE = 64,
    WASI_EPROTO = 65, WASI_EPROTONOSUPPORT = 66, WASI_EPROTOTYPE = 67, WASI_ERANGE = 68,
    WASI_EROFS = 69, WASI_ESPIPE = 70, WASI_ESRCH = 71, WASI_ESTALE = 72, WASI_ETIMEDOUT = 73,
    WASI_ETXTBSY = 74, WASI_EXDEV = 75, WASI_ENOTCAPABLE = 76,
};

/* ---- file types, flags, rights ------------------------------------------ */
enum {
    WASI_FILETYPE_UNKNOWN = 0, WASI_FILETYPE_BLOCK_DEVICE = 1, WASI_FILETYPE_CHARACTER_DEVICE = 2,
    WASI_FILETYPE_DIRECTORY = 3, WASI_FILETYPE_REGULAR_FILE = 4, WASI_FILETYPE_SOCKET_DGRAM = 5,
    WASI_FILETYPE_SOCKET_STREAM = 6, WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

enum { WASI_FDFLAG_APPEND = 1, WASI_FDFLAG_DSYNC = 2, WASI_FDFLAG_NONBLOCK = 4,
       WASI_FDFLAG_RSYNC = 8, WASI_FDFLAG_SYNC = 16 };
enum { WASI_O_CREAT = 1, WASI_O_DIRECTORY = 2, WASI_O_EXCL = 4, WASI_O_TRUNC = 8 };
enum { WASI_LOOKUP_SYMLINK_FOLLOW = 1 };
enum { WASI_FSTFLAG_ATIM = 1, WASI_FSTFLAG_ATIM_NOW = 2, WASI_FSTFLAG_MTIM = 4, WASI_FSTFLAG_MTIM_NOW = 8 };
enum { WASI_WHENCE_SET = 0, WASI_WHENCE_CUR = 1, WASI_WHENCE_END = 2 };
enum { WASI_CLOCK_REALTIME = 0, WASI_CLOCK_MONOTONIC = 1, WASI_CLOCK_PROCESS_CPUTIME = 2,
       WASI_CLOCK_THREAD_CPUTIME = 3 };
enum { WASI_EVENTTYPE_CLOCK = 0, WASI_EVENTTYPE_FD_READ = 1, WASI_EVENTTYPE_FD_WRITE = 2 };
enum { WASI_SUBCLOCK_ABSTIME = 1 };

#define WASI_RIGHT(n) ((uint64_t)1 << (n))
#define WASI_RIGHT_FD_DATASYNC            WASI_RIGHT(0)
#define WASI_RIGHT_FD_READ                WASI_RIGHT(1)
#define WASI_RIGHT_FD_SEEK                WASI_RIGHT(2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS    WASI_RIGHT(3)
#define WASI_RIGHT_FD_SYNC                WASI_RIGHT(4)
#define WASI_RIGHT_FD_TELL                WASI_RIGHT(5)
#define WASI_RIGHT_FD_WRITE               WASI_RIGHT(6)
#define WASI_RIGHT_FD_ADVISE              WASI_RIGHT(7)
#define WASI_RIGHT_FD_ALLOCATE            WASI_RIGHT(8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY  WASI_RIGHT(9)
#define WASI_RIGHT_PATH_CREATE_FILE       WASI_RIGHT(10)
#define WASI_RIGHT_PATH_LINK_SOURCE       WASI_RIGHT(11)
#define WASI_RIGHT_PATH_LINK_TARGET       WASI_RIGHT(12)
#define WASI_RIGHT_PATH_OPEN              WASI_RIGHT(13)
#define WASI_RIGHT_FD_READDIR             WASI_RIGHT(14)
#define WASI_RIGHT_PATH_READLINK          WASI_RIGHT(15)
#define WASI_RIGHT_PATH_RENAME_SOURCE     WASI_RIGHT(16)
#define WASI_RIGHT_PATH_RENAME_TARGET     WASI_RIGHT(17)
#define WASI_RIGHT_PATH_FILESTAT_GET      WASI_RIGHT(18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE WASI_RIGHT(19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES WASI_RIGHT(20)
#define WASI_RIGHT_FD_FILESTAT_GET        WASI_RIGHT(21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE   WASI_RIGHT(22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES  WASI_RIGHT(23)
#define WASI_RIGHT_PATH_SYMLINK           WASI_RIGHT(24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY  WASI_RIGHT(25)
#define WASI_RIGHT_PATH_UNLINK_FILE       WASI_RIGHT(26)
#define WASI_RIGHT_POLL_FD_READWRITE      WASI_RIGHT(27)
#define WASI_RIGHT_SOCK_SHUTDOWN          WASI_RIGHT(28)
#define WASI_RIGHT_SOCK_ACCEPT            WASI_RIGHT(29)
#define WASI_RIGHTS_ALL                   (WASI_RIGHT(30) - 1)
/* What a guest may not seek/tell on (wasi-libc's isatty() looks for this). */
#define WASI_RIGHTS_TTY (WASI_RIGHTS_ALL & ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL))

/* Rights that mean something on each kind of descriptor (witx: "fewer
 * rights than asked for ... if those rights do not apply to the type of
 * file being opened").  path_open trims a new descriptor's base rights to
 * the set of its type, so a directory never reports FD_SEEK or FD_WRITE and
 * a file never reports PATH_* rights. */
#define WASI_RIGHTS_DIR                                                                                   \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_READDIR | \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE | WASI_RIGHT_PATH_LINK_SOURCE |        \
     WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN | WASI_RIGHT_PATH_READLINK |                      \
     WASI_RIGHT_PATH_RENAME_SOURCE | WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET |       \
     WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES | WASI_RIGHT_FD_FILESTAT_GET |  \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK | WASI_RIGHT_PATH_REMOVE_DIRECTORY |       \
     WASI_RIGHT_PATH_UNLINK_FILE)
#define WASI_RIGHTS_FILE                                                                                  \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_FDSTAT_SET_FLAGS |   \
     WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE |                \
     WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |               \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
/* Rights that need the host file opened for writing (ftruncate, fallocate
 * and write fail on an O_RDONLY descriptor): a file opened read-only never
 * reports them. */
#define WASI_RIGHTS_NEED_WRITE (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE)
/* Every right that changes the file system: what a read-only pre-opened
 * directory (wasi_preopen.readonly) neither holds nor hands down. */
#define WASI_RIGHTS_MODIFY                                                                                \
    (WASI_RIGHTS_NEED_WRITE | WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_FILESTAT_SET_TIMES |                 \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE | WASI_RIGHT_PATH_LINK_SOURCE |        \
     WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_RENAME_SOURCE | WASI_RIGHT_PATH_RENAME_TARGET |         \
     WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK |    \
     WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE)
/* A listening socket from `wedge run --tcplisten`, and a connection
 * sock_accept made from it. */
#define WASI_RIGHTS_SOCK_LISTEN                                                                           \
    (WASI_RIGHT_SOCK_ACCEPT | WASI_RIGHT_POLL_FD_READWRITE | WASI_RIGHT_FD_FDSTAT_SET_FLAGS |             \
     WASI_RIGHT_FD_FILESTAT_GET)
#define WASI_RIGHTS_SOCK_CONN                                                                             \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE | WASI_RIGHT_SOCK_SHUTDOWN | WASI_RIGHT_POLL_FD_READWRITE | \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_FILESTAT_GET)

/* ---- the context ---------------------------------------------------------- */

typedef enum wasi_fd_kind {
    WASI_FD_FREE = 0,
    WASI_FD_HOST,        /* a host descriptor (file, directory, stdio fd) */
    WASI_FD_MEM_IN,      /* memory-backed stdin */
    WASI_FD_MEM_OUT,     /* memory-backed stdout/stderr (index in ctx->out) */
} wasi_fd_kind;

typedef struct wasi_fd_entry {
    wasi_fd_kind kind;
    int host;                /* WASI_FD_HOST: the host descriptor */
    bool owned;              /* close `host` when the guest closes it */
    uint8_t filetype;        /* WASI_FILETYPE_* */
    uint16_t fdflags;        /* WASI_FDFLAG_* */
    uint64_t rights_base, rights_inheriting;
    bool readonly;           /* a directory beneath a read-only pre-open: opening for writing is EROFS */
    int stream;              /* WASI_FD_MEM_OUT: index into ctx->out */
    char *preopen;           /* guest name if this is a pre-opened directory */
    size_t preopen_len;
    DIR *dir;                /* lazily made by fd_readdir (owns a dup of host) */
} wasi_fd_entry;

typedef struct wasi_out_buf {
    uint8_t *data;
    size_t len, cap;
    size_t limit;            /* 0 = unlimited */
    bool truncated;
} wasi_out_buf;

struct wasi_ctx {
    /* args and environ, each packed as NUL-terminated strings back to back */
    uint32_t argc, envc;
    char *argbuf, *envbuf;
    size_t argbuf_len, envbuf_len;

    const uint8_t *in_data;  /* copy of the memory-backed stdin */
    size_t in_len, in_pos;
    wasi_out_buf out[3];     /* memory-backed fd 1 and 2 (index = original fd) */

    uint64_t deadline_ns;    /* CLOCK_MONOTONIC; 0 = none (poll_oneoff traps there) */
    void (*wait_yield)(void); /* wasi_config's: called between poll_oneoff's wait slices */

    wasi_fd_entry *fds;
    uint32_t nfds;           /* allocated slots */
    wasi_fd_entry *fds_inline; /* the first WASI_INLINE_FDS, in the context's block (not freed alone) */
};
#define WASI_INLINE_FDS 8u

/* ---- guest memory ----------------------------------------------------------
 * Every pointer a guest passes is checked here, in 64-bit arithmetic so that
 * ptr + len cannot wrap. */

static inline uint8_t *wasi_mem(wedge_instance *inst, uint32_t ptr, uint64_t len)
{
    if (!inst || !inst->mem || !inst->mem->base)
        return NULL;
    if ((uint64_t)ptr + len > inst->mem->size)
        return NULL;
    return inst->mem->base + ptr;
}

static inline bool wasi_put_u32(wedge_instance *inst, uint32_t ptr, uint32_t v)
{
    uint8_t *p = wasi_mem(inst, ptr, 4);
    if (!p)
        return false;
    memcpy(p, &v, 4);            /* Wasm memory is little-endian, like the hosts we run on */
    return true;
}

static inline bool wasi_put_u64(wedge_instance *inst, uint32_t ptr, uint64_t v)
{
    uint8_t *p = wasi_mem(inst, ptr, 8);
    if (!p)
        return false;
    memcpy(p, &v, 8);
    return true;
}

/* Host functions that need real stack (path buffers, the jail's walk: up to
 * ~24 KiB) first make sure the guest stack has the runtime's margin left;
 * if not the call traps "call stack exhausted" instead of overrunning the
 * guard.  A no-op off guest stacks (unit tests, embedders). */
static inline void wasi_stack_check(void)
{
    rt_stack_check_margin(RT_STACK_HOST_MARGIN);
}

static inline wasi_ctx *wasi_ctx_of(wedge_instance *inst)
{
    return wasi_instance_ctx(inst);
}

/* ---- shared helpers -------------------------------------------------------- */

/* Host errno -> WASI errno (wasi_errno.c). */
uint32_t wasi_errno_from_host(int err);

/* The entry for guest fd `fd`, or NULL if it is not open. */
wasi_fd_entry *wasi_fd_get(wasi_ctx *ctx, uint32_t fd);
/* Put a host descriptor into the lowest free slot; *out gets the guest fd. */
uint32_t wasi_fd_insert(wasi_ctx *ctx, const wasi_fd_entry *e, uint32_t *out);
/* Release the slot (closing what it owns). */
void wasi_fd_release(wasi_fd_entry *e);

/* 0 if descriptor `e` holds every right in `need`, else EBADF: the
 * descriptor is not open for that operation, as POSIX answers a read on a
 * write-only descriptor.  The current wasi-testsuite expects EBADF here
 * (path_open_read_without_rights, directory_seek) where older revisions
 * and the witx text said ENOTCAPABLE, which wasi-libc turned into EBADF
 * for C programs anyway.  Each call checks its rights after the checks
 * that say what is wrong more precisely (EISDIR, ESPIPE, ENOTSOCK). */
static inline uint32_t wasi_need(const wasi_fd_entry *e, uint64_t need)
{
    return (e->rights_base & need) == need ? 0 : WASI_EBADF;
}

/* Is this descriptor a socket (a --tcplisten listener, a connection it
 * accepted, or a socket the host gave as stdio)? */
static inline bool wasi_is_socket(const wasi_fd_entry *e)
{
    return e->kind == WASI_FD_HOST &&
           (e->filetype == WASI_FILETYPE_SOCKET_STREAM || e->filetype == WASI_FILETYPE_SOCKET_DGRAM);
}

/* Scatter/gather I/O between guest iovecs (already checked by the caller)
 * and host descriptor `fd` (wasi_fd.c); `sock`: use recvmsg/sendmsg with
 * `msgflags`; `off` >= 0: positional.  *done gets the bytes moved. */
uint32_t wasi_host_rw(wedge_instance *inst, int fd, bool write, bool sock, int msgflags, uint32_t iovs,
                      uint32_t n, int64_t off, uint64_t *done);
/* Check a guest iovec array (n entries at iovs) and every buffer in it;
 * *total gets the sum of lengths.  EFAULT if any is out of bounds. */
uint32_t wasi_iovs_check(wedge_instance *inst, uint32_t iovs, uint32_t n, uint64_t *total);

/* Make a listening TCP socket (close-on-exec, SO_REUSEADDR) for "IPV4:PORT"
 * or "[IPV6]:PORT", numeric addresses only (wasi_sock.c).  false with a one-line message in err. */
bool wasi_sock_listen(const char *addr, int *fd, char *err, size_t errlen);

/* stat mode -> WASI file type. */
uint8_t wasi_filetype_from_mode(unsigned mode);
/* Write a 64-byte WASI filestat for `st` (a struct stat *) at guest ptr. */
uint32_t wasi_put_filestat(wedge_instance *inst, uint32_t ptr, const void *st);

/* utimensat() times from WASI (atim, mtim, fstflags); WASI errno. */
uint32_t wasi_times_from(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec *ts);

/* Copy a guest path (ptr, len) into buf as a C string; WASI errno. */
uint32_t wasi_path_copy(wedge_instance *inst, uint32_t ptr, uint32_t len, char *buf, size_t bufsize);

#endif
