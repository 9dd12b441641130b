/*
 * rt_uffd_linux.c — lazy memory through Linux userfaultfd (rt_uffd.h): a
 * handler thread per registered range serves missing-page faults by
 * calling the fetch callback for the grain-sized block around the fault and
 * copying in the pages of that block still missing (UFFDIO_COPY, which also
 * wakes the faulting thread).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt_uffd.h"

struct rt_uffd {
    int fd, stopfd;
    uint8_t *base;
    size_t len, grain;
    rt_uffd_fetch_fn fetch;
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu;         /* present, touched, stats */
    uint8_t *present;           /* per page: 1 present, 2 faulted (recorded) */
    uint32_t *touched;
    uint32_t ntouched;
    int record;
    uint8_t *buf;               /* one grain, for the callback */
    volatile int failed;
    rt_uffd_stats st;
};

/* A userfaultfd: the system call, else /dev/userfaultfd (kernels >= 6.1
 * let its owner hand it out when vm.unprivileged_userfaultfd is 0). */
static int uffd_new(char *err, size_t cap)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0)
        return fd;
    int e = errno;
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (dev >= 0) {
#ifdef USERFAULTFD_IOC_NEW
        fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
#endif
        close(dev);
        if (fd >= 0)
            return fd;
    }
    snprintf(err, cap, "userfaultfd not available (%s; see sysctl vm.unprivileged_userfaultfd and /dev/userfaultfd)",
             strerror(e));
    return -1;
}

int rt_uffd_probe(char *why, size_t whycap)
{
    int fd = uffd_new(why, whycap);
    if (fd < 0)
        return 0;
    struct uffdio_api api = {.api = UFFD_API};
    int ok = ioctl(fd, UFFDIO_API, &api) == 0;
    if (!ok)
        snprintf(why, whycap, "userfaultfd API handshake refused (%s)", strerror(errno));
    close(fd);
    return ok;
}

/* Copies the missing pages of [off, off+n) from src; caller holds u->mu. */
static int copy_missing(rt_uffd *u, uint64_t off, const uint8_t *src, size_t n)
{
    size_t p0 = off / RT_UFFD_PAGE, np = n / RT_UFFD_PAGE;
    for (size_t i = 0; i < np;) {
        if (u->present[p0 + i] & 1) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < np && !(u->present[p0 + j] & 1))
            j++;
        struct uffdio_copy c = {
            .dst = (uintptr_t)(u->base + (p0 + i) * RT_UFFD_PAGE),
            .src = (uintptr_t)(src + i * RT_UFFD_PAGE),
            .len = (j - i) * RT_UFFD_PAGE,
            .mode = 0,
        };
        while (ioctl(u->fd, UFFDIO_COPY, &c) != 0) {
            if (errno == EAGAIN && c.copy > 0) {
                /* Partly done (the mapping changed under us): go on after it. */
                c.dst += (uint64_t)c.copy;
                c.src += (uint64_t)c.copy;
                c.len -= (uint64_t)c.copy;
                c.copy = 0;
                continue;
            }
            if (errno != EEXIST)
                return -1;
            break; /* already there: fine, the waiter was woken by whoever put it */
        }
        for (size_t k = i; k < j; k++)
            u->present[p0 + k] |= 1;
        u->st.pages_installed += j - i;
        i = j;
    }
    return 0;
}

/* Closes the range off and wakes everyone: accesses now trap or EFAULT. */
static void fail_closed(rt_uffd *u)
{
    u->failed = 1;
    mprotect(u->base, u->len, PROT_NONE);
    struct uffdio_range r = {(uintptr_t)u->base, u->len};
    ioctl(u->fd, UFFDIO_WAKE, &r);
}

static void serve_fault(rt_uffd *u, uint64_t addr)
{
    uint64_t off = (addr - (uintptr_t)u->base) & ~(uint64_t)(RT_UFFD_PAGE - 1);
    pthread_mutex_lock(&u->mu);
    u->st.faults++;
    size_t page = off / RT_UFFD_PAGE;
    /* Several threads may fault on one page before it is served: record
     * it once. */
    if (u->record && !u->present[page])
        u->touched[u->ntouched++] = (uint32_t)page;
    if (u->present[page] & 1) {
        /* Installed meanwhile (a prefetch): just wake the waiter. */
        struct uffdio_range r = {(uintptr_t)u->base + off, RT_UFFD_PAGE};
        ioctl(u->fd, UFFDIO_WAKE, &r);
        pthread_mutex_unlock(&u->mu);
        return;
    }
    u->present[page] |= 2;
    pthread_mutex_unlock(&u->mu);
    uint64_t start = off - off % u->grain;
    size_t n = u->len - start < u->grain ? u->len - start : u->grain;
    int ok = u->fetch(u->arg, start, u->buf, n) == 0;
    pthread_mutex_lock(&u->mu);
    u->st.fetch_calls++;
    u->st.bytes_fetched += n;
    if (ok)
        ok = copy_missing(u, start, u->buf, n) == 0;
    pthread_mutex_unlock(&u->mu);
    if (!ok)
        fail_closed(u);
}

static void *handler(void *arg)
{
    rt_uffd *u = arg;
    for (;;) {
        struct pollfd p[2] = {{u->fd, POLLIN, 0}, {u->stopfd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        struct uffd_msg msg[16];
        ssize_t k = read(u->fd, msg, sizeof msg);
        if (k < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            break;
        }
        for (ssize_t i = 0; i < k / (ssize_t)sizeof msg[0]; i++)
            if (msg[i].event == UFFD_EVENT_PAGEFAULT && !u->failed)
                serve_fault(u, msg[i].arg.pagefault.address);
    }
    return NULL;
}

rt_uffd *rt_uffd_open(void *base, size_t len, size_t grain, int record, rt_uffd_fetch_fn fetch, void *arg, char *err,
                      size_t errcap)
{
    if (((uintptr_t)base | len | grain) % RT_UFFD_PAGE || len == 0) {
        snprintf(err, errcap, "lazy memory: range not page-aligned");
        return NULL;
    }
    if (grain == 0 || grain > len)
        grain = len;
    rt_uffd *u = calloc(1, sizeof *u);
    size_t pages = len / RT_UFFD_PAGE;
    if (!u || !(u->present = calloc(pages, 1)) || (record && !(u->touched = malloc(pages * sizeof *u->touched))) ||
        !(u->buf = malloc(grain))) {
        snprintf(err, errcap, "lazy memory: out of memory");
        goto fail_mem;
    }
    u->fd = uffd_new(err, errcap);
    u->stopfd = -1;
    if (u->fd < 0)
        goto fail_mem;
    struct uffdio_api api = {.api = UFFD_API};
    struct uffdio_register reg = {.range = {(uintptr_t)base, len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (ioctl(u->fd, UFFDIO_API, &api) != 0 || ioctl(u->fd, UFFDIO_REGISTER, &reg) != 0) {
        snprintf(err, errcap, "userfaultfd cannot register the memory (%s)", strerror(errno));
        goto fail_fd;
    }
    u->stopfd = eventfd(0, EFD_CLOEXEC);
    u->base = base;
    u->len = len;
    u->grain = grain;
    u->fetch = fetch;
    u->arg = arg;
    u->record = record;
    pthread_mutex_init(&u->mu, NULL);
    if (u->stopfd < 0 || pthread_create(&u->thread, NULL, handler, u) != 0) {
        snprintf(err, errcap, "lazy memory: cannot start the fault handler");
        pthread_mutex_destroy(&u->mu);
        ioctl(u->fd, UFFDIO_UNREGISTER, &reg.range);
        goto fail_fd;
    }
    return u;
fail_fd:
    if (u->stopfd >= 0)
        close(u->stopfd);
    close(u->fd);
fail_mem:
    if (u) {
        free(u->present);
        free(u->touched);
        free(u->buf);
        free(u);
    }
    return NULL;
}

int rt_uffd_install(rt_uffd *u, uint64_t off, const uint8_t *data, size_t len)
{
    if ((off | len) % RT_UFFD_PAGE || off > u->len || len > u->len - off)
        return -1;
    pthread_mutex_lock(&u->mu);
    int r = copy_missing(u, off, data, len);
    pthread_mutex_unlock(&u->mu);
    return r;
}

int rt_uffd_mark_present(rt_uffd *u, uint64_t off, size_t len)
{
    if ((off | len) % RT_UFFD_PAGE || off > u->len || len > u->len - off)
        return -1;
    pthread_mutex_lock(&u->mu);
    for (size_t p = off / RT_UFFD_PAGE, e = (off + len) / RT_UFFD_PAGE; p < e; p++)
        u->present[p] |= 1;
    pthread_mutex_unlock(&u->mu);
    return 0;
}

int rt_uffd_failed(const rt_uffd *u) { return u->failed; }

void rt_uffd_get_stats(const rt_uffd *u, rt_uffd_stats *out)
{
    pthread_mutex_lock((pthread_mutex_t *)&u->mu);
    *out = u->st;
    pthread_mutex_unlock((pthread_mutex_t *)&u->mu);
}

const uint32_t *rt_uffd_touched(const rt_uffd *u, uint32_t *n)
{
    *n = u->ntouched;
    return u->touched;
}

void rt_uffd_close(rt_uffd *u)
{
    if (!u)
        return;
    uint64_t one = 1;
    if (write(u->stopfd, &one, sizeof one) != sizeof one)
        pthread_cancel(u->thread);
    pthread_join(u->thread, NULL);
    struct uffdio_range r = {(uintptr_t)u->base, u->len};
    ioctl(u->fd, UFFDIO_UNREGISTER, &r);
    close(u->stopfd);
    close(u->fd);
    pthread_mutex_destroy(&u->mu);
    free(u->present);
    free(u->touched);
    free(u->buf);
    free(u);
}
