/*
 * wasi_fd.c — the fd_* calls: I/O on open descriptors, memory-backed
 * stdio, stat, directory reading, pre-open discovery.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi_host.h"
#include "wasi_internal.h"

/* iovecs are translated in batches of this many (keeps stack use small). */
#define IOV_BATCH 32u

/* ---- guest iovec arrays -------------------------------------------------------
 * Each guest iovec is { u32 buf, u32 len }.  The whole array and every
 * buffer is checked before any I/O happens, so a bad pointer is EFAULT with
 * nothing done. */

uint32_t wasi_iovs_check(wedge_instance *inst, uint32_t iovs, uint32_t n, uint64_t *total)
{
    const uint8_t *a = wasi_mem(inst, iovs, (uint64_t)n * 8);
    if (!a)
        return WASI_EFAULT;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf, len;
        memcpy(&buf, a + (size_t)i * 8, 4);
        memcpy(&len, a + (size_t)i * 8 + 4, 4);
        if (!wasi_mem(inst, buf, len))
            return WASI_EFAULT;
        sum += len;
    }
    *total = sum;
    return 0;
}

/* Translate iovecs [first, first+n) into host iovecs (already checked). */
static void iovs_host(wedge_instance *inst, uint32_t iovs, uint32_t first, uint32_t n, struct iovec *out)
{
    const uint8_t *a = inst->mem->base + iovs;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf, len;
        memcpy(&buf, a + (size_t)(first + i) * 8, 4);
        memcpy(&len, a + (size_t)(first + i) * 8 + 4, 4);
        out[i].iov_base = inst->mem->base + buf;
        out[i].iov_len = len;
    }
}

/* Scatter/gather I/O on a host descriptor, batch by batch.  `off` < 0:
 * use and move the file position.  A short transfer ends the call; an error
 * after some bytes moved reports the bytes (POSIX readv/writev semantics).
 * Writes to a socket go through sendmsg(MSG_NOSIGNAL): a peer that hung up
 * is EPIPE for the guest, never a SIGPIPE for wedge.  `msgflags`: more
 * recvmsg/sendmsg flags (sock_recv's MSG_PEEK/MSG_WAITALL; sockets only). */
uint32_t wasi_host_rw(wedge_instance *inst, int fd, bool write, bool sock, int msgflags, uint32_t iovs,
                      uint32_t n, int64_t off, uint64_t *done)
{
    struct iovec v[IOV_BATCH];
    uint64_t total = 0;
    for (uint32_t first = 0; first < n; first += IOV_BATCH) {
        uint32_t cnt = n - first < IOV_BATCH ? n - first : IOV_BATCH;
        iovs_host(inst, iovs, first, cnt, v);
        size_t want = 0;
        for (uint32_t i = 0; i < cnt; i++)
            want += v[i].iov_len;
        ssize_t r;
        if (sock) {
            struct msghdr mh;
            memset(&mh, 0, sizeof mh);
            mh.msg_iov = v;
            mh.msg_iovlen = cnt;
            r = write ? sendmsg(fd, &mh, msgflags | MSG_NOSIGNAL) : recvmsg(fd, &mh, msgflags);
        } else if (off < 0)
            r = write ? writev(fd, v, (int)cnt) : readv(fd, v, (int)cnt);
        else
            r = write ? pwritev(fd, v, (int)cnt, off + (int64_t)total) : preadv(fd, v, (int)cnt, off + (int64_t)total);
        if (r < 0) {
            if (total == 0)
                return wasi_errno_from_host(errno);
            break;
        }
        total += (uint64_t)r;
        /* Overlapping iovecs can ask for more than the u32 result holds:
         * stop at 2 GiB (Linux's own per-call cap); a short count is legal. */
        if ((size_t)r < want || total >= 0x80000000u)
            break;
    }
    *done = total;
    return 0;
}

static void mem_out_append(wasi_out_buf *o, const uint8_t *p, size_t len)
{
    size_t keep = len;
    if (o->limit && o->len + keep > o->limit) {
        keep = o->limit > o->len ? o->limit - o->len : 0;
        o->truncated = true;
    }
    if (keep == 0)
        return;
    if (o->len + keep > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + keep)
            cap *= 2;
        if (o->limit && cap > o->limit)
            cap = o->limit;
        uint8_t *d = realloc(o->data, cap);
        if (!d) {                       /* keep what we have; say it is incomplete */
            o->truncated = true;
            return;
        }
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, p, keep);
    o->len += keep;
}

static uint32_t do_rw(wedge_instance *inst, uint32_t fd, bool write, uint32_t iovs, uint32_t n, int64_t off,
                      uint32_t result)
{
    wasi_ctx *ctx = wasi_ctx_of(inst);
    wasi_fd_entry *e = wasi_fd_get(ctx, fd);
    if (!e)
        return WASI_EBADF;
    wasi_stack_check();
    uint64_t total;
    uint32_t rc = wasi_iovs_check(inst, iovs, n, &total);
    if (rc)
        return rc;
    if (!wasi_mem(inst, result, 4))
        return WASI_EFAULT;
    if (e->filetype == WASI_FILETYPE_DIRECTORY)
        return WASI_EISDIR;
    if (off >= 0 && e->kind != WASI_FD_HOST)
        return WASI_ESPIPE;         /* memory streams have no position (and no FD_SEEK right) */
    uint64_t need = write ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ;
    if (off >= 0 && e->filetype != WASI_FILETYPE_CHARACTER_DEVICE && !wasi_is_socket(e))
        need |= WASI_RIGHT_FD_SEEK; /* pread/pwrite move no position, but need a seekable file */
    if ((rc = wasi_need(e, need)))
        return rc;

    uint64_t done = 0;
    const uint8_t *a = n ? inst->mem->base + iovs : NULL;
    switch (e->kind) {
    case WASI_FD_MEM_OUT:
        if (!write)
            return WASI_EBADF;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t buf, len;
            memcpy(&buf, a + (size_t)i * 8, 4);
            memcpy(&len, a + (size_t)i * 8 + 4, 4);
            if (done + len > UINT32_MAX)
                break;              /* overlapping iovecs: report what fits in the u32 result */
            mem_out_append(&ctx->out[e->stream], inst->mem->base + buf, len);
            done += len;            /* dropped bytes count as written: the guest must not retry */
        }
        break;
    case WASI_FD_MEM_IN:
        if (write)
            return WASI_EBADF;
        for (uint32_t i = 0; i < n && ctx->in_pos < ctx->in_len; i++) {
            uint32_t buf, len;
            memcpy(&buf, a + (size_t)i * 8, 4);
            memcpy(&len, a + (size_t)i * 8 + 4, 4);
            size_t k = ctx->in_len - ctx->in_pos < len ? ctx->in_len - ctx->in_pos : len;
            memcpy(inst->mem->base + buf, ctx->in_data + ctx->in_pos, k);
            ctx->in_pos += k;
            done += k;
        }
        break;
    case WASI_FD_HOST:
        rc = wasi_host_rw(inst, e->host, write, off < 0 && wasi_is_socket(e), 0, iovs, n, off, &done);
        if (rc)
            return rc;
        break;
    default:
        return WASI_EBADF;
    }
    /* A single call moves at most the guest's memory size (< 4 GiB + 1) */
    wasi_put_u32(inst, result, done > UINT32_MAX ? UINT32_MAX : (uint32_t)done);
    return 0;
}

uint32_t wasi_fd_write(wedge_instance *inst, uint32_t fd, uint32_t iovs, uint32_t niovs, uint32_t nwritten)
{
    return do_rw(inst, fd, true, iovs, niovs, -1, nwritten);
}

uint32_t wasi_fd_read(wedge_instance *inst, uint32_t fd, uint32_t iovs, uint32_t niovs, uint32_t nread)
{
    return do_rw(inst, fd, false, iovs, niovs, -1, nread);
}

uint32_t wasi_fd_pwrite(wedge_instance *inst, uint32_t fd, uint32_t iovs, uint32_t niovs, uint64_t off,
                        uint32_t nwritten)
{
    if (off > INT64_MAX)
        return WASI_EINVAL;
    return do_rw(inst, fd, true, iovs, niovs, (int64_t)off, nwritten);
}

uint32_t wasi_fd_pread(wedge_instance *inst, uint32_t fd, uint32_t iovs, uint32_t niovs, uint64_t off,
                       uint32_t nread)
{
    if (off > INT64_MAX)
        return WASI_EINVAL;
    return do_rw(inst, fd, false, iovs, niovs, (int64_t)off, nread);
}

/* ---- positions ------------------------------------------------------------------ */

static wasi_fd_entry *host_entry(wedge_instance *inst, uint32_t fd, uint32_t *rc)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    if (!e) {
        *rc = WASI_EBADF;
        return NULL;
    }
    if (e->kind != WASI_FD_HOST) {
        *rc = WASI_ESPIPE;          /* memory streams: no position, no inode */
        return NULL;
    }
    return e;
}

uint32_t wasi_fd_seek(wedge_instance *inst, uint32_t fd, uint64_t off, uint32_t whence, uint32_t newoff)
{
    uint32_t rc;
    int w;
    switch (whence) {
    case WASI_WHENCE_SET: w = SEEK_SET; break;
    case WASI_WHENCE_CUR: w = SEEK_CUR; break;
    case WASI_WHENCE_END: w = SEEK_END; break;
    default: return WASI_EINVAL;
    }
    if (!wasi_mem(inst, newoff, 8))
        return WASI_EFAULT;
    wasi_fd_entry *e = host_entry(inst, fd, &rc);
    if (!e)
        return rc;
    if (e->filetype == WASI_FILETYPE_DIRECTORY)
        return WASI_EBADF;
    /* fd_tell (and seeking nowhere from here) is enough with FD_TELL. */
    bool tell = whence == WASI_WHENCE_CUR && off == 0;
    if (wasi_need(e, WASI_RIGHT_FD_SEEK) && (!tell || wasi_need(e, WASI_RIGHT_FD_TELL))) {
        /* Streams lack the right because they cannot seek: say so. */
        if (e->filetype == WASI_FILETYPE_CHARACTER_DEVICE || e->filetype == WASI_FILETYPE_UNKNOWN ||
            wasi_is_socket(e))
            return WASI_ESPIPE;
        return WASI_EBADF;
    }
    off_t r = lseek(e->host, (off_t)(int64_t)off, w);     /* the offset is signed in WASI */
    if (r < 0)
        return wasi_errno_from_host(errno);
    wasi_put_u64(inst, newoff, (uint64_t)r);
    return 0;
}

uint32_t wasi_fd_tell(wedge_instance *inst, uint32_t fd, uint32_t out)
{
    return wasi_fd_seek(inst, fd, 0, WASI_WHENCE_CUR, out);
}

/* ---- lifetime ---------------------------------------------------------------- */

uint32_t wasi_fd_close(wedge_instance *inst, uint32_t fd)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    if (!e)
        return WASI_EBADF;
    wasi_fd_release(e);
    return 0;
}

uint32_t wasi_fd_renumber(wedge_instance *inst, uint32_t fd, uint32_t to)
{
    wasi_ctx *ctx = wasi_ctx_of(inst);
    wasi_fd_entry *from = wasi_fd_get(ctx, fd);
    wasi_fd_entry *dst = wasi_fd_get(ctx, to);
    if (!from || !dst)
        return WASI_EBADF;
    if (fd == to)
        return 0;
    wasi_fd_release(dst);
    *dst = *from;
    memset(from, 0, sizeof *from);
    from->kind = WASI_FD_FREE;
    return 0;
}

uint32_t wasi_fd_sync(wedge_instance *inst, uint32_t fd)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    if (!e)
        return WASI_EBADF;
    if (wasi_need(e, WASI_RIGHT_FD_SYNC))
        return WASI_EBADF;
    if (e->kind != WASI_FD_HOST)
        return 0;
    return fsync(e->host) == 0 ? 0 : wasi_errno_from_host(errno);
}

uint32_t wasi_fd_datasync(wedge_instance *inst, uint32_t fd)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    if (!e)
        return WASI_EBADF;
    if (wasi_need(e, WASI_RIGHT_FD_DATASYNC))
        return WASI_EBADF;
    if (e->kind != WASI_FD_HOST)
        return 0;
    return fdatasync(e->host) == 0 ? 0 : wasi_errno_from_host(errno);
}

/* ---- fdstat ------------------------------------------------------------------------
 * fdstat (24 bytes): filetype u8 @0, flags u16 @2, rights_base u64 @8,
 * rights_inheriting u64 @16. */

uint32_t wasi_fd_fdstat_get(wedge_instance *inst, uint32_t fd, uint32_t buf)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    uint8_t *p = wasi_mem(inst, buf, 24);
    if (!p)
        return WASI_EFAULT;
    if (!e)
        return WASI_EBADF;
    memset(p, 0, 24);
    p[0] = e->filetype;
    memcpy(p + 2, &e->fdflags, 2);
    memcpy(p + 8, &e->rights_base, 8);
    memcpy(p + 16, &e->rights_inheriting, 8);
    return 0;
}

uint32_t wasi_fd_fdstat_set_flags(wedge_instance *inst, uint32_t fd, uint32_t flags)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    if (!e)
        return WASI_EBADF;
    if (flags & ~(uint32_t)0x1f)
        return WASI_EINVAL;
    if (wasi_need(e, WASI_RIGHT_FD_FDSTAT_SET_FLAGS))
        return WASI_EBADF;
    if (e->kind != WASI_FD_HOST) {
        e->fdflags = (uint16_t)flags;
        return 0;
    }
    /* Linux can change only O_APPEND and O_NONBLOCK after open. */
    if (flags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC))
        return WASI_ENOTSUP;
    int fl = fcntl(e->host, F_GETFL);
    if (fl < 0)
        return wasi_errno_from_host(errno);
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (flags & WASI_FDFLAG_APPEND)
        fl |= O_APPEND;
    if (flags & WASI_FDFLAG_NONBLOCK)
        fl |= O_NONBLOCK;
    if (fcntl(e->host, F_SETFL, fl) != 0)
        return wasi_errno_from_host(errno);
    e->fdflags = (uint16_t)flags;
    return 0;
}

uint32_t wasi_fd_fdstat_set_rights(wedge_instance *inst, uint32_t fd, uint64_t base, uint64_t inh)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    if (!e)
        return WASI_EBADF;
    /* Rights may only shrink. */
    if ((base & ~e->rights_base) || (inh & ~e->rights_inheriting))
        return WASI_ENOTCAPABLE;
    e->rights_base = base;
    e->rights_inheriting = inh;
    return 0;
}

/* ---- filestat ------------------------------------------------------------------ */

uint32_t wasi_fd_filestat_get(wedge_instance *inst, uint32_t fd, uint32_t buf)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    if (!wasi_mem(inst, buf, 64))
        return WASI_EFAULT;
    if (!e)
        return WASI_EBADF;
    if (wasi_need(e, WASI_RIGHT_FD_FILESTAT_GET))
        return WASI_EBADF;
    struct stat st;
    if (e->kind == WASI_FD_HOST) {
        if (fstat(e->host, &st) != 0)
            return wasi_errno_from_host(errno);
    } else {
        memset(&st, 0, sizeof st);
        st.st_mode = S_IFCHR;
        st.st_nlink = 1;
    }
    return wasi_put_filestat(inst, buf, &st);
}

uint32_t wasi_fd_filestat_set_size(wedge_instance *inst, uint32_t fd, uint64_t size)
{
    uint32_t rc;
    wasi_fd_entry *e = host_entry(inst, fd, &rc);
    if (!e)
        return rc == WASI_ESPIPE ? WASI_EINVAL : rc;
    if (e->filetype == WASI_FILETYPE_DIRECTORY)
        return WASI_EISDIR;
    if ((rc = wasi_need(e, WASI_RIGHT_FD_FILESTAT_SET_SIZE)))
        return rc;
    if (size > INT64_MAX)
        return WASI_EFBIG;
    return ftruncate(e->host, (off_t)size) == 0 ? 0 : wasi_errno_from_host(errno);
}

/* Build utimensat times from WASI (atim, mtim, fstflags). */
uint32_t wasi_times_from(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec *ts)
{
    if (((fst & WASI_FSTFLAG_ATIM) && (fst & WASI_FSTFLAG_ATIM_NOW)) ||
        ((fst & WASI_FSTFLAG_MTIM) && (fst & WASI_FSTFLAG_MTIM_NOW)) || (fst & ~(uint32_t)0xf))
        return WASI_EINVAL;
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1] = ts[0];
    if (fst & WASI_FSTFLAG_ATIM) {
        ts[0].tv_sec = (time_t)(atim / 1000000000u);
        ts[0].tv_nsec = (long)(atim % 1000000000u);
    } else if (fst & WASI_FSTFLAG_ATIM_NOW) {
        ts[0].tv_nsec = UTIME_NOW;
    }
    if (fst & WASI_FSTFLAG_MTIM) {
        ts[1].tv_sec = (time_t)(mtim / 1000000000u);
        ts[1].tv_nsec = (long)(mtim % 1000000000u);
    } else if (fst & WASI_FSTFLAG_MTIM_NOW) {
        ts[1].tv_nsec = UTIME_NOW;
    }
    return 0;
}

uint32_t wasi_fd_filestat_set_times(wedge_instance *inst, uint32_t fd, uint64_t atim, uint64_t mtim,
                                    uint32_t fst)
{
    uint32_t rc;
    struct timespec ts[2];
    wasi_fd_entry *e = host_entry(inst, fd, &rc);
    if (!e)
        return rc == WASI_ESPIPE ? WASI_EINVAL : rc;
    if ((rc = wasi_need(e, WASI_RIGHT_FD_FILESTAT_SET_TIMES)))
        return rc;
    if ((rc = wasi_times_from(atim, mtim, fst, ts)))
        return rc;
    return futimens(e->host, ts) == 0 ? 0 : wasi_errno_from_host(errno);
}

uint32_t wasi_fd_advise(wedge_instance *inst, uint32_t fd, uint64_t off, uint64_t len, uint32_t advice)
{
    static const int adv[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                              POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    uint32_t rc;
    if (advice >= sizeof adv / sizeof adv[0])
        return WASI_EINVAL;
    wasi_fd_entry *e = host_entry(inst, fd, &rc);
    if (!e)
        return rc;
    if (e->filetype == WASI_FILETYPE_DIRECTORY)
        return WASI_EBADF;
    if ((rc = wasi_need(e, WASI_RIGHT_FD_ADVISE)))
        return rc;
    if (off > INT64_MAX || len > INT64_MAX)
        return WASI_EINVAL;
    int r = posix_fadvise(e->host, (off_t)off, (off_t)len, adv[advice]);
    return r == 0 || r == ESPIPE ? 0 : wasi_errno_from_host(r);    /* advice is only advice */
}

uint32_t wasi_fd_allocate(wedge_instance *inst, uint32_t fd, uint64_t off, uint64_t len)
{
    uint32_t rc;
    wasi_fd_entry *e = host_entry(inst, fd, &rc);
    if (!e)
        return rc;
    if (e->filetype == WASI_FILETYPE_DIRECTORY)
        return WASI_EBADF;
    if ((rc = wasi_need(e, WASI_RIGHT_FD_ALLOCATE)))
        return rc;
    if (off > INT64_MAX || len > INT64_MAX || off + len > INT64_MAX)
        return WASI_EFBIG;
    int r = posix_fallocate(e->host, (off_t)off, (off_t)len);
    return r == 0 ? 0 : wasi_errno_from_host(r);
}

/* ---- pre-opens ---------------------------------------------------------------------
 * prestat (8 bytes): tag u8 @0 (0 = directory), name length u32 @4. */

uint32_t wasi_fd_prestat_get(wedge_instance *inst, uint32_t fd, uint32_t buf)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    uint8_t *p = wasi_mem(inst, buf, 8);
    if (!p)
        return WASI_EFAULT;
    if (!e || !e->preopen)
        return WASI_EBADF;      /* wasi-libc stops scanning pre-opens at EBADF */
    uint32_t len = (uint32_t)e->preopen_len;
    memset(p, 0, 8);
    memcpy(p + 4, &len, 4);
    return 0;
}

uint32_t wasi_fd_prestat_dir_name(wedge_instance *inst, uint32_t fd, uint32_t path, uint32_t len)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    uint8_t *p = wasi_mem(inst, path, len);
    if (!p)
        return WASI_EFAULT;
    if (!e || !e->preopen)
        return WASI_EBADF;
    if (len < e->preopen_len)
        return WASI_ENAMETOOLONG;
    memcpy(p, e->preopen, e->preopen_len);
    return 0;
}

/* ---- readdir -------------------------------------------------------------------------
 * dirent (24 bytes + name): d_next u64 @0, d_ino u64 @8, d_namlen u32 @16,
 * d_type u8 @20.  The cookie of an entry is the kernel's d_off (position of
 * the next entry), which seekdir() accepts, so no state is kept between
 * calls.  Entries are written until the buffer is full, the last one
 * possibly cut short: a full buffer tells the guest to ask again. */

static uint8_t dt_filetype(unsigned char t)
{
    switch (t) {
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

uint32_t wasi_fd_readdir(wedge_instance *inst, uint32_t fd, uint32_t buf, uint32_t len, uint64_t cookie,
                         uint32_t used)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    uint8_t *out = wasi_mem(inst, buf, len);
    if (!out || !wasi_mem(inst, used, 4))
        return WASI_EFAULT;
    if (!e)
        return WASI_EBADF;
    if (e->kind != WASI_FD_HOST || e->filetype != WASI_FILETYPE_DIRECTORY)
        return WASI_ENOTDIR;
    uint32_t rc = wasi_need(e, WASI_RIGHT_FD_READDIR);
    if (rc)
        return rc;
    if (cookie > LONG_MAX)
        return WASI_EINVAL;
    if (!e->dir) {
        /* fdopendir takes the descriptor: give it a copy of ours. */
        int d = openat(e->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0)
            return wasi_errno_from_host(errno);
        e->dir = fdopendir(d);
        if (!e->dir) {
            uint32_t rc = wasi_errno_from_host(errno);
            close(d);
            return rc;
        }
    }
    if (cookie == 0)
        rewinddir(e->dir);
    else
        seekdir(e->dir, (long)cookie);

    uint32_t pos = 0;
    while (pos < len) {
        errno = 0;
        struct dirent *d = readdir(e->dir);
        if (!d) {
            if (errno)
                return wasi_errno_from_host(errno);
            break;
        }
        uint8_t hdr[24];
        size_t namlen = strlen(d->d_name);
        uint64_t next = (uint64_t)d->d_off, ino = (uint64_t)d->d_ino;
        uint32_t nl = (uint32_t)namlen;
        memset(hdr, 0, sizeof hdr);
        memcpy(hdr, &next, 8);
        memcpy(hdr + 8, &ino, 8);
        memcpy(hdr + 16, &nl, 4);
        hdr[20] = dt_filetype(d->d_type);
        uint32_t k = len - pos < sizeof hdr ? len - pos : (uint32_t)sizeof hdr;
        memcpy(out + pos, hdr, k);
        pos += k;
        k = len - pos < namlen ? len - pos : (uint32_t)namlen;
        memcpy(out + pos, d->d_name, k);
        pos += k;
    }
    wasi_put_u32(inst, used, pos);
    return 0;
}
