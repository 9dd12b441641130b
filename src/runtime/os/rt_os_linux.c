/*
 * rt_os_linux.c — Linux specifics of the runtime: address-space
 * reservations (mmap/mprotect), the SIGSEGV/SIGBUS/SIGFPE handlers and the
 * per-thread alternate signal stack.  The handlers call nothing above
 * this layer by name: rt_init hands them the trap layer's classifier.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt_internal.h"

void *rt_os_reserve(uint64_t len)
{
    /* MAP_NORESERVE: a guard reservation is 8 GiB of address space that is
     * never meant to be backed; it must not count against overcommit. */
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

bool rt_os_commit(void *addr, uint64_t len)
{
    return len == 0 || mprotect(addr, len, PROT_READ | PROT_WRITE) == 0;
}

bool rt_os_decommit(void *addr, uint64_t len)
{
    if (len == 0)
        return true;
    /* Replacing the pages drops their contents and their memory charge. */
    void *p = mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return p != MAP_FAILED;
}

bool rt_os_zero(void *addr, uint64_t len)
{
    /* Private anonymous pages read as zero after MADV_DONTNEED, and their
     * memory goes back to the system: cheaper than memset for large,
     * sparsely touched memories. */
    return len == 0 || madvise(addr, len, MADV_DONTNEED) == 0;
}

void rt_os_release(void *addr, uint64_t len)
{
    if (addr)
        munmap(addr, len);
}

/* ---- copy-on-write memory images ------------------------------------------ */

int rt_os_image_create_parts(const char *name, uint64_t len, const rt_os_image_part *parts, size_t nparts)
{
    /* A memfd, written once and sealed against writes and resizing: every
     * instance maps it MAP_PRIVATE, so a guest's writes go to its own
     * copies of the pages and the image itself can never change.  What no
     * part covers is a hole: it reads as zero and takes no memory. */
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)len) != 0)
        goto fail;
    for (size_t k = 0; k < nparts; k++) {
        const rt_os_image_part *pt = &parts[k];
        if (pt->off > len || pt->len > len - pt->off)
            goto fail;
        for (uint64_t done = 0; done < pt->len;) {
            ssize_t n = pwrite(fd, pt->bytes + done, pt->len - done, (off_t)(pt->off + done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                goto fail;
            done += (uint64_t)n;
        }
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

int rt_os_image_create(const char *name, const uint8_t *bytes, uint64_t len)
{
    rt_os_image_part whole = {0, bytes, len};
    return rt_os_image_create_parts(name, len, &whole, 1);
}

const uint8_t *rt_os_image_view(int fd, uint64_t len)
{
    void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

bool rt_os_image_revert(void *addr, uint64_t len)
{
    /* On a private file mapping, MADV_DONTNEED drops the process's own
     * copies of pages: the next access reads the file again.  The cost is
     * the pages present in the range, whatever its size. */
    return len == 0 || madvise(addr, len, MADV_DONTNEED) == 0;
}

bool rt_os_image_map(void *addr, uint64_t len, int fd)
{
    void *p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
    return p != MAP_FAILED;
}

bool rt_os_anon_rw(void *addr, uint64_t len)
{
    void *p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                   -1, 0);
    return p != MAP_FAILED;
}

void rt_os_image_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* ---- signals --------------------------------------------------------------- */

static struct sigaction rt_os_old_segv, rt_os_old_bus, rt_os_old_fpe;
static rt_os_fault_fn rt_os_classify;   /* set once, before the handlers */

static struct sigaction *rt_os_old_action(int sig)
{
    return sig == SIGSEGV ? &rt_os_old_segv : sig == SIGBUS ? &rt_os_old_bus : &rt_os_old_fpe;
}

static void rt_os_on_fault(int sig, siginfo_t *si, void *uctx)
{
    int saved_errno = errno;
    /* si_code <= 0: sent by kill()/raise(), not a fault of this thread. */
    if (si->si_code > 0) {
        if (sig != SIGFPE)
            rt_os_classify(RT_OS_FAULT_ACCESS, (uintptr_t)si->si_addr);
        else if (si->si_code == FPE_INTDIV)
            rt_os_classify(RT_OS_FAULT_INT_DIV, (uintptr_t)si->si_addr);
        else if (si->si_code == FPE_INTOVF)
            rt_os_classify(RT_OS_FAULT_INT_OVERFLOW, (uintptr_t)si->si_addr);
    }
    /* Not a guest trap: a real crash stays a crash.  Put back whatever
     * handled the signal before us (default action, or a sanitizer's
     * reporter) and let it happen again. */
    sigaction(sig, rt_os_old_action(sig), NULL);
    if (si->si_code <= 0)
        raise(sig);
    errno = saved_errno;
    (void)uctx;
}

bool rt_os_install_fault_handlers(rt_os_fault_fn classify)
{
    rt_os_classify = classify;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = rt_os_on_fault;
    /* SA_ONSTACK: guest-stack exhaustion leaves no stack to run on.
     * SA_NODEFER: the handler leaves by longjmp (not siglongjmp), so the
     * signal must not be blocked while it runs or it would stay blocked. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGSEGV, &sa, &rt_os_old_segv) == 0 && sigaction(SIGBUS, &sa, &rt_os_old_bus) == 0 &&
           sigaction(SIGFPE, &sa, &rt_os_old_fpe) == 0;
}

/* The alternate signal stack of a thread, freed when the thread exits. */
#define RT_ALTSTACK_SIZE ((size_t)64 << 10)
#define RT_ALTSTACK_GUARD ((size_t)4 << 10)

static pthread_key_t rt_os_altstack_key;
static pthread_once_t rt_os_altstack_once = PTHREAD_ONCE_INIT;
static __thread uint8_t *rt_os_altstack;

static void rt_os_altstack_release(void *p)
{
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(p, RT_ALTSTACK_SIZE + RT_ALTSTACK_GUARD);
}

static void rt_os_altstack_key_init(void)
{
    (void)pthread_key_create(&rt_os_altstack_key, rt_os_altstack_release);
}

bool rt_os_thread_altstack(void)
{
    if (rt_os_altstack)
        return true;
    /* Keep an alternate stack someone else (a sanitizer, an embedder)
     * already gave this thread if it is big enough for our handler. */
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= RT_ALTSTACK_SIZE / 2) {
        rt_os_altstack = cur.ss_sp;
        return true;
    }
    pthread_once(&rt_os_altstack_once, rt_os_altstack_key_init);
    uint8_t *p = mmap(NULL, RT_ALTSTACK_SIZE + RT_ALTSTACK_GUARD, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    /* A guard page below, so an overflowing handler crashes instead of
     * scribbling over a neighbour mapping. */
    if (mprotect(p, RT_ALTSTACK_GUARD, PROT_NONE) != 0) {
        munmap(p, RT_ALTSTACK_SIZE + RT_ALTSTACK_GUARD);
        return false;
    }
    stack_t ss = {.ss_sp = p + RT_ALTSTACK_GUARD, .ss_size = RT_ALTSTACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(p, RT_ALTSTACK_SIZE + RT_ALTSTACK_GUARD);
        return false;
    }
    /* Without the key (pthread_key_create failed, or no memory for the
     * slot) nothing would free the stack at thread exit: refuse it. */
    if (pthread_setspecific(rt_os_altstack_key, p) != 0) {
        rt_os_altstack_release(p);
        return false;
    }
    rt_os_altstack = p;
    return true;
}
