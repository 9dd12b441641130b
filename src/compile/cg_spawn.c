/*
 * cg_spawn.c — starting one C compiler child under resource limits.
 *
 * A module can make cc run for minutes or take gigabytes (see
 * CG_MAX_FUNC_BODY in cg_cc.c), and `wedge serve` compiles its routes'
 * modules itself, so every cc child gets RLIMIT_CPU and RLIMIT_AS.  They
 * are set in the child between fork and exec (posix_spawn cannot set
 * limits, and setting them in the parent would limit the whole process);
 * the driver's own children (cc1, as, ld) inherit them.  Between fork and
 * exec the child makes only async-signal-safe calls (the parent may have
 * other threads): the program's path is resolved in the parent, the child
 * does setrlimit, open, dup2 and execve.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cg_internal.h"

extern char **environ;

/* Parses a positive decimal environment value, else returns dflt. */
static unsigned env_unsigned(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    if (v == NULL || *v == 0)
        return dflt;
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || *end || n == 0 || n > 1u << 30)
        return dflt;
    return (unsigned)n;
}

void cg_cc_limits_get(cg_cc_limits *l)
{
    l->cpu_seconds = env_unsigned("WEDGE_CC_CPU_SECONDS", CG_CC_CPU_SECONDS);
    l->memory_mb = env_unsigned("WEDGE_CC_MEMORY_MB", CG_CC_MEMORY_MB);
}

/* argv0 found along $PATH (or as given when it holds a '/'), into out. */
static bool resolve(const char *argv0, char *out, size_t cap)
{
    if (strchr(argv0, '/')) {
        if (strlen(argv0) >= cap)
            return false;
        memcpy(out, argv0, strlen(argv0) + 1);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (path == NULL || *path == 0)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;; ) {
        const char *colon = strchr(p, ':');
        size_t dl = colon ? (size_t)(colon - p) : strlen(p);
        /* An empty entry is the current folder. */
        int n = dl ? snprintf(out, cap, "%.*s/%s", (int)dl, p, argv0) : snprintf(out, cap, "%s", argv0);
        if (n > 0 && (size_t)n < cap && access(out, X_OK) == 0)
            return true;
        if (!colon)
            return false;
        p = colon + 1;
    }
}

/* The limit as requested, but never above the hard limit we already have
 * (raising it needs privilege, and setrlimit would fail). */
static struct rlimit clamp(int resource, rlim_t want, rlim_t slack)
{
    struct rlimit cur, r = { want, want + slack };
    if (getrlimit(resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
        if (r.rlim_max > cur.rlim_max)
            r.rlim_max = cur.rlim_max;
        if (r.rlim_cur > r.rlim_max)
            r.rlim_cur = r.rlim_max;
    }
    return r;
}

/* Child side: async-signal-safe calls only, never returns. */
static _Noreturn void child(const char *exe, char *const *argv, const char *outpath, const struct rlimit *cpu,
                            const struct rlimit *as, const sigset_t *mask)
{
    int fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        _exit(127);
    if (fd > 2)
        close(fd);
    int nul = open("/dev/null", O_RDONLY);
    if (nul < 0 || dup2(nul, 0) < 0)
        _exit(127);
    if (nul > 2)
        close(nul);
    static const char limit_msg[] = "wedge: cannot set the C compiler's resource limits\n";
    if (setrlimit(RLIMIT_CPU, cpu) != 0 || setrlimit(RLIMIT_AS, as) != 0) {
        if (write(2, limit_msg, sizeof limit_msg - 1) < 0) {
        }
        _exit(127);
    }
    sigprocmask(SIG_SETMASK, mask, NULL);
    execve(exe, argv, environ);
    static const char exec_msg[] = "wedge: cannot execute the C compiler\n";
    if (write(2, exec_msg, sizeof exec_msg - 1) < 0) {
    }
    _exit(127);
}

bool cg_spawn_limited(const char *const *argv, const char *outpath, const cg_cc_limits *l, pid_t *pid, cg_err *err)
{
    char exe[CG_PATH_MAX];
    if (!resolve(argv[0], exe, sizeof exe))
        return cg_fail(err, "cannot run C compiler '%s': not found or not executable (set WEDGE_CC)", argv[0]);
    /* CPU: SIGXCPU at the soft limit, SIGKILL one second later for a child
     * that ignores it.  Address space in bytes. */
    struct rlimit cpu = clamp(RLIMIT_CPU, (rlim_t)l->cpu_seconds, 1);
    struct rlimit as = clamp(RLIMIT_AS, (rlim_t)l->memory_mb << 20, 0);
    /* No signal handler of the parent runs in the child before exec. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t p = fork();
    int fork_errno = errno;
    if (p == 0)
        child(exe, (char *const *)argv, outpath, &cpu, &as, &old);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p < 0)
        return cg_fail(err, "cannot run C compiler '%s': fork: %s", argv[0], strerror(fork_errno));
    *pid = p;
    return true;
}
