/*
 * rt_os_tick_linux.c — rt_tick_timer (rt_ctx.h) on Linux: a POSIX timer
 * whose signal goes to one thread (SIGEV_THREAD_ID).
 *
 * The thread id goes in a sigevent field that glibc names
 * sigev_notify_thread_id (the name timer_create(2) documents) only in
 * recent versions; older ones have it only as the private _sigev_un._tid.
 * Without the documented name, the timer is made with the raw system
 * calls and the kernel's own sigevent layout
 * (include/uapi/asm-generic/siginfo.h), and then set and deleted through
 * them too: glibc's timer_t is not a kernel timer id.  x86-64 only (as the
 * runtime): there the kernel's itimerspec is the C library's.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../rt_ctx.h"

static struct itimerspec rt_tick_spec(uint64_t period_ns)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(period_ns / 1000000000u);
    its.it_value.tv_nsec = (long)(period_ns % 1000000000u);
    its.it_interval = its.it_value;
    return its;
}

#ifdef sigev_notify_thread_id

bool rt_tick_timer_create(rt_tick_timer *t, int signo)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = signo;
    sev.sigev_notify_thread_id = gettid();
    return timer_create(CLOCK_MONOTONIC, &sev, &t->timer) == 0;
}

bool rt_tick_timer_set(rt_tick_timer *t, uint64_t period_ns)
{
    struct itimerspec its = rt_tick_spec(period_ns);
    return timer_settime(t->timer, 0, &its, NULL) == 0;
}

void rt_tick_timer_delete(rt_tick_timer *t) { (void)timer_delete(t->timer); }

#else

/* The kernel's struct sigevent: 64 bytes, the thread id right after the
 * value, the signal number and the notification kind. */
#define RT_KSIGEV_SIZE 64
typedef struct rt_ksigevent {
    union sigval value;
    int signo;
    int notify;
    union {
        int pad[(RT_KSIGEV_SIZE - sizeof(union sigval) - 2 * sizeof(int)) / sizeof(int)];
        int tid;
    } u;
} rt_ksigevent;
_Static_assert(sizeof(rt_ksigevent) == RT_KSIGEV_SIZE, "kernel sigevent layout");

bool rt_tick_timer_create(rt_tick_timer *t, int signo)
{
    rt_ksigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.notify = SIGEV_THREAD_ID;
    sev.signo = signo;
    sev.u.tid = gettid();
    int id = -1;
    if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id) != 0)
        return false;
    t->kernel_id = id;
    return true;
}

bool rt_tick_timer_set(rt_tick_timer *t, uint64_t period_ns)
{
    struct itimerspec its = rt_tick_spec(period_ns);
    return syscall(SYS_timer_settime, t->kernel_id, 0, &its, NULL) == 0;
}

void rt_tick_timer_delete(rt_tick_timer *t) { (void)syscall(SYS_timer_delete, t->kernel_id); }

#endif
