/*
 * wasi_proc.c — process-level WASI calls: args, environ, clocks, random,
 * exit, yield, poll_oneoff.  The socket calls are in wasi_sock.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>

#include "wasi_host.h"
#include "wasi_internal.h"
#include "util/util.h"

/* ---- args / environ --------------------------------------------------------
 * Layout the guest expects: an array of `count` u32 pointers at `vec`, each
 * pointing into the packed strings copied to `buf`. */

static uint32_t put_strings(wedge_instance *inst, uint32_t count, const char *packed, size_t packed_len,
                            uint32_t vec, uint32_t buf)
{
    uint8_t *v = wasi_mem(inst, vec, (uint64_t)count * 4);
    uint8_t *b = wasi_mem(inst, buf, packed_len);
    if (!v || !b)
        return WASI_EFAULT;
    memcpy(b, packed, packed_len);
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t p = buf + (uint32_t)off;       /* fits: buf + packed_len <= mem size */
        memcpy(v + (size_t)i * 4, &p, 4);
        off += strlen(packed + off) + 1;
    }
    return 0;
}

static uint32_t put_sizes(wedge_instance *inst, uint32_t count, size_t len, uint32_t pcount, uint32_t psize)
{
    if (!wasi_mem(inst, pcount, 4) || !wasi_mem(inst, psize, 4))
        return WASI_EFAULT;
    wasi_put_u32(inst, pcount, count);
    wasi_put_u32(inst, psize, (uint32_t)len);
    return 0;
}

uint32_t wasi_args_get(wedge_instance *inst, uint32_t argv, uint32_t buf)
{
    wasi_ctx *ctx = wasi_ctx_of(inst);
    if (!ctx)
        return WASI_ENOSYS;
    return put_strings(inst, ctx->argc, ctx->argbuf, ctx->argbuf_len, argv, buf);
}

uint32_t wasi_args_sizes_get(wedge_instance *inst, uint32_t argc, uint32_t size)
{
    wasi_ctx *ctx = wasi_ctx_of(inst);
    if (!ctx)
        return WASI_ENOSYS;
    return put_sizes(inst, ctx->argc, ctx->argbuf_len, argc, size);
}

uint32_t wasi_environ_get(wedge_instance *inst, uint32_t env, uint32_t buf)
{
    wasi_ctx *ctx = wasi_ctx_of(inst);
    if (!ctx)
        return WASI_ENOSYS;
    return put_strings(inst, ctx->envc, ctx->envbuf, ctx->envbuf_len, env, buf);
}

uint32_t wasi_environ_sizes_get(wedge_instance *inst, uint32_t count, uint32_t size)
{
    wasi_ctx *ctx = wasi_ctx_of(inst);
    if (!ctx)
        return WASI_ENOSYS;
    return put_sizes(inst, ctx->envc, ctx->envbuf_len, count, size);
}

/* ---- clocks ----------------------------------------------------------------- */

static bool clock_host(uint32_t id, clockid_t *out)
{
    switch (id) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}

static uint64_t ts_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts_ns(&ts);
}

uint32_t wasi_clock_res_get(wedge_instance *inst, uint32_t id, uint32_t res)
{
    clockid_t c;
    struct timespec ts;
    if (!clock_host(id, &c))
        return WASI_EINVAL;
    if (clock_getres(c, &ts) != 0)
        return wasi_errno_from_host(errno);
    return wasi_put_u64(inst, res, ts_ns(&ts)) ? 0 : WASI_EFAULT;
}

uint32_t wasi_clock_time_get(wedge_instance *inst, uint32_t id, uint64_t precision, uint32_t time)
{
    clockid_t c;
    struct timespec ts;
    if (!clock_host(id, &c))
        return WASI_EINVAL;
    if (clock_gettime(c, &ts) != 0)
        return wasi_errno_from_host(errno);
    return wasi_put_u64(inst, time, ts_ns(&ts)) ? 0 : WASI_EFAULT;
}

/* ---- random ----------------------------------------------------------------- */

uint32_t wasi_random_get(wedge_instance *inst, uint32_t buf, uint32_t len)
{
    uint8_t *p = wasi_mem(inst, buf, len);
    if (!p)
        return WASI_EFAULT;
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return wasi_errno_from_host(errno);
        }
        done += (size_t)n;
    }
    return 0;
}

/* ---- process ---------------------------------------------------------------- */

void wasi_proc_exit(wedge_instance *inst, uint32_t code)
{
    rt_exit((int)code);
}

uint32_t wasi_proc_raise(wedge_instance *inst, uint32_t sig)
{
    return WASI_ENOSYS;         /* signals are not part of the sandbox */
}

uint32_t wasi_sched_yield(wedge_instance *inst)
{
    sched_yield();
    return 0;
}

/* ---- poll_oneoff --------------------------------------------------------------
 * subscription (48 bytes): userdata u64 @0, tag u8 @8, then
 *   clock: id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40
 *   fd_read / fd_write: fd u32 @16
 * event (32 bytes): userdata u64 @0, error u16 @8, type u8 @10,
 *   nbytes u64 @16, flags u16 @24
 *
 * Clock subscriptions sleep (relative or absolute); fd subscriptions on
 * host descriptors are polled, memory streams are always ready.  The wait
 * is ut_wait_until's: with the context's wait_yield hook (serve) in 1 ms
 * slices that give the thread to other guests; never past the deadline. */

#define SUB_SIZE 48u
#define EVENT_SIZE 32u

static void put_event(uint8_t *ev, uint64_t userdata, uint16_t error, uint8_t type, uint64_t nbytes)
{
    memset(ev, 0, EVENT_SIZE);
    memcpy(ev, &userdata, 8);
    memcpy(ev + 8, &error, 2);
    ev[10] = type;
    memcpy(ev + 16, &nbytes, 8);
}

uint32_t wasi_poll_oneoff(wedge_instance *inst, uint32_t in, uint32_t out, uint32_t nsubs, uint32_t nevents)
{
    wasi_ctx *ctx = wasi_ctx_of(inst);
    if (nsubs == 0)
        return WASI_EINVAL;
    const uint8_t *subs = wasi_mem(inst, in, (uint64_t)nsubs * SUB_SIZE);
    uint8_t *evs = wasi_mem(inst, out, (uint64_t)nsubs * EVENT_SIZE);
    if (!subs || !evs || !wasi_mem(inst, nevents, 4))
        return WASI_EFAULT;

    /* The earliest clock deadline, on the monotonic clock. */
    uint64_t start = ut_mono_ns();
    uint64_t deadline = UINT64_MAX;
    uint32_t npoll = 0;
    for (uint32_t i = 0; i < nsubs; i++) {
        const uint8_t *s = subs + (size_t)i * SUB_SIZE;
        if (s[8] == WASI_EVENTTYPE_CLOCK) {
            uint32_t id;
            uint64_t timeout;
            uint16_t flags;
            clockid_t c;
            memcpy(&id, s + 16, 4);
            memcpy(&timeout, s + 24, 8);
            memcpy(&flags, s + 40, 2);
            if (!clock_host(id, &c))
                continue;                       /* reported as EINVAL below */
            uint64_t rel = timeout;
            if (flags & WASI_SUBCLOCK_ABSTIME) {
                uint64_t now = now_ns(c);
                rel = timeout > now ? timeout - now : 0;
            }
            uint64_t d = rel > UINT64_MAX - start ? UINT64_MAX : start + rel;
            if (d < deadline)
                deadline = d;
        } else if (s[8] == WASI_EVENTTYPE_FD_READ || s[8] == WASI_EVENTTYPE_FD_WRITE) {
            npoll++;
        }
    }

    /* The sandbox's own deadline bounds every sleep. */
    uint64_t hard = ctx && ctx->deadline_ns ? ctx->deadline_ns : UINT64_MAX;
    uint64_t wake = deadline < hard ? deadline : hard;

    struct pollfd *pfd = NULL;
    if (npoll) {
        pfd = calloc(npoll, sizeof *pfd);
        if (!pfd)
            return WASI_ENOMEM;
    }

    uint32_t n;
    for (;;) {
        /* Fill host pollfds; anything that is ready without waiting (memory
         * streams, bad fds, bad clocks) makes this pass non-blocking. */
        bool immediate = false;
        uint32_t k = 0;
        for (uint32_t i = 0; i < nsubs; i++) {
            const uint8_t *s = subs + (size_t)i * SUB_SIZE;
            if (s[8] == WASI_EVENTTYPE_CLOCK) {
                uint32_t id;
                clockid_t c;
                memcpy(&id, s + 16, 4);
                if (!clock_host(id, &c))
                    immediate = true;
                continue;
            }
            if (s[8] != WASI_EVENTTYPE_FD_READ && s[8] != WASI_EVENTTYPE_FD_WRITE) {
                immediate = true;
                continue;
            }
            uint32_t fd;
            memcpy(&fd, s + 16, 4);
            wasi_fd_entry *e = wasi_fd_get(ctx, fd);
            pfd[k].fd = -1;
            pfd[k].revents = 0;
            if (e && e->kind == WASI_FD_HOST) {
                pfd[k].fd = e->host;
                pfd[k].events = s[8] == WASI_EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
            } else {
                immediate = true;
            }
            k++;
        }

        if (ut_wait_until(pfd, npoll, immediate ? 0 : wake, ctx ? ctx->wait_yield : NULL) < 0) {
            free(pfd);
            return wasi_errno_from_host(errno);
        }
        uint64_t now = ut_mono_ns();

        n = 0;
        k = 0;
        for (uint32_t i = 0; i < nsubs; i++) {
            const uint8_t *s = subs + (size_t)i * SUB_SIZE;
            uint64_t userdata;
            memcpy(&userdata, s, 8);
            uint8_t *ev = evs + (size_t)n * EVENT_SIZE;
            if (s[8] == WASI_EVENTTYPE_CLOCK) {
                uint32_t id;
                clockid_t c;
                memcpy(&id, s + 16, 4);
                if (!clock_host(id, &c))
                    put_event(ev, userdata, WASI_EINVAL, WASI_EVENTTYPE_CLOCK, 0), n++;
                else if (now >= deadline)
                    put_event(ev, userdata, 0, WASI_EVENTTYPE_CLOCK, 0), n++;
                continue;
            }
            if (s[8] != WASI_EVENTTYPE_FD_READ && s[8] != WASI_EVENTTYPE_FD_WRITE) {
                put_event(ev, userdata, WASI_EINVAL, s[8], 0), n++;
                continue;
            }
            uint32_t fd;
            memcpy(&fd, s + 16, 4);
            wasi_fd_entry *e = wasi_fd_get(ctx, fd);
            struct pollfd *p = &pfd[k++];
            if (!e) {
                put_event(ev, userdata, WASI_EBADF, s[8], 0), n++;
            } else if (e->kind == WASI_FD_MEM_IN) {
                uint64_t avail = s[8] == WASI_EVENTTYPE_FD_READ ? ctx->in_len - ctx->in_pos : 0;
                put_event(ev, userdata, 0, s[8], avail), n++;
            } else if (e->kind != WASI_FD_HOST) {
                put_event(ev, userdata, 0, s[8], 0), n++;
            } else if (p->revents & (POLLERR | POLLNVAL)) {
                put_event(ev, userdata, p->revents & POLLNVAL ? WASI_EBADF : WASI_EIO, s[8], 0), n++;
            } else if (p->revents) {
                int avail = 0;
                if (s[8] == WASI_EVENTTYPE_FD_READ && ioctl(e->host, FIONREAD, &avail) != 0)
                    avail = 0;
                put_event(ev, userdata, 0, s[8], avail > 0 ? (uint64_t)avail : 0), n++;
                if (p->revents & POLLHUP)
                    ev[24] = 1;                 /* __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP */
            }
        }
        if (n > 0)
            break;
        if (now >= hard) {
            free(pfd);
            rt_trap(WEDGE_TRAP_TIMEOUT);
        }
    }
    free(pfd);
    wasi_put_u32(inst, nevents, n);
    return 0;
}
