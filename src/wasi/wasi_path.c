/*
 * wasi_path.c — the path jail (see wasi_path.h for the contract and the
 * errno of every refusal).
 */
#define _GNU_SOURCE
#include "wasi_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi_internal.h"

#define JAIL_MAX_LINKS 40     /* as Linux's MAXSYMLINKS */
#define JAIL_MAX_DEPTH 256    /* directories held open by the walk */

int wasi_jail_force_walk;

/* 0 unknown, 1 openat2 works, -1 it does not (ENOSYS, or a seccomp filter
 * answering EPERM). */
static int jail_have_openat2;

static bool is_dot(const char *s, size_t n) { return n == 1 && s[0] == '.'; }
static bool is_dotdot(const char *s, size_t n) { return n == 2 && s[0] == '.' && s[1] == '.'; }

static long jail_sys_openat2(int root, const char *path, int flags, mode_t mode)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;   /* the kernel insists on 0 otherwise */
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long r;
    /* EAGAIN: a concurrent rename raced a ".." lookup; the kernel asks us
     * to retry rather than risk a wrong answer. */
    for (int i = 0; i < 16; i++) {
        r = syscall(SYS_openat2, root, path, &how, sizeof how);
        if (r >= 0 || (errno != EAGAIN && errno != EINTR))
            break;
    }
    return r;
}

static bool jail_use_openat2(void)
{
    if (wasi_jail_force_walk)
        return false;
    int have = __atomic_load_n(&jail_have_openat2, __ATOMIC_RELAXED);
    if (have == 0) {
        long fd = jail_sys_openat2(AT_FDCWD, ".", O_PATH | O_DIRECTORY, 0);
        have = fd >= 0 ? 1 : (errno == ENOSYS || errno == EPERM) ? -1 : 1;
        if (fd >= 0)
            close((int)fd);
        __atomic_store_n(&jail_have_openat2, have, __ATOMIC_RELAXED);
    }
    return have > 0;
}

static uint32_t jail_errno(int e)
{
    /* RESOLVE_BENEATH reports every escape as EXDEV. */
    return e == EXDEV ? WASI_ENOTCAPABLE : wasi_errno_from_host(e);
}

/* ---- the portable walk ---------------------------------------------------- */

static bool jail_is_symlink(int dir, const char *name)
{
    struct stat st;
    return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

/* Replace buf[0..rest) with the target of symlink dir/name: buf becomes
 * target + ("/" + buf[rest..] if keep_slash).  WASI errno. */
static uint32_t jail_expand(char *buf, size_t rest, bool keep_slash, int dir, const char *name)
{
    char target[WASI_PATH_MAX + 1];
    ssize_t n = readlinkat(dir, name, target, sizeof target);
    if (n < 0)
        return wasi_errno_from_host(errno);
    if ((size_t)n >= sizeof target)
        return WASI_ENAMETOOLONG;
    if (n == 0)
        return WASI_ENOENT;
    if (target[0] == '/')
        return WASI_ENOTCAPABLE;
    size_t restlen = keep_slash ? strlen(buf + rest) : 0;
    size_t total = (size_t)n + (keep_slash ? 1 + restlen : 0);
    if (total > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    if (keep_slash) {
        memmove(buf + n + 1, buf + rest, restlen + 1);
        buf[n] = '/';
    } else {
        buf[n] = '\0';
    }
    memcpy(buf, target, (size_t)n);
    return 0;
}

/* Opens the walk's last step (`name` in `dir`) with the caller's flags:
 * the one place the walk hands a descriptor out. */
static uint32_t jail_open_last(int dir, const char *name, int flags, mode_t mode, int *out)
{
    int fd = openat(dir, name, flags, mode);
    if (fd < 0)
        return wasi_errno_from_host(errno);
    *out = fd;
    return 0;
}

static uint32_t jail_walk(int root, const char *path, int flags, mode_t mode, int *out)
{
    char buf[WASI_PATH_MAX + 1];
    char comp[NAME_MAX + 1];
    int stack[JAIL_MAX_DEPTH];
    int depth = 0, nlinks = 0;
    /* O_CREAT | O_EXCL never follows a final link (POSIX): it fails EEXIST. */
    bool follow_final = !(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
    int final_flags = flags | O_NOFOLLOW | O_CLOEXEC;
    uint32_t rc;

    size_t len = strlen(path);
    if (len > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    memcpy(buf, path, len + 1);
    if (buf[0] == '\0')
        return WASI_ENOENT;

    size_t pos = 0;
    for (;;) {
        int cur = depth ? stack[depth - 1] : root;
        while (buf[pos] == '/')
            pos++;
        size_t start = pos;
        while (buf[pos] && buf[pos] != '/')
            pos++;
        size_t clen = pos - start;
        bool slash_after = buf[pos] == '/';
        size_t next = pos;
        while (buf[next] == '/')
            next++;
        bool last = buf[next] == '\0';

        if (clen == 0) {            /* only reachable for a path of slashes */
            rc = WASI_ENOTCAPABLE;
            goto fail;
        }
        if (clen > NAME_MAX) {
            rc = WASI_ENAMETOOLONG;
            goto fail;
        }
        memcpy(comp, buf + start, clen);
        comp[clen] = '\0';

        if (is_dot(comp, clen) || is_dotdot(comp, clen)) {
            if (is_dotdot(comp, clen)) {
                if (depth == 0) {
                    rc = WASI_ENOTCAPABLE;
                    goto fail;
                }
                close(stack[--depth]);
                cur = depth ? stack[depth - 1] : root;
            }
            if (last) {
                rc = jail_open_last(cur, ".", final_flags, mode, out);
                goto done;
            }
            pos = next;
            continue;
        }

        if (!last || slash_after) {
            /* A directory to go through ("x/" means "x/."). */
            if (jail_is_symlink(cur, comp)) {
                if (++nlinks > JAIL_MAX_LINKS) {
                    rc = WASI_ELOOP;
                    goto fail;
                }
                rc = jail_expand(buf, next, true, cur, comp);
                if (rc)
                    goto fail;
                pos = 0;
                continue;
            }
            if (depth == JAIL_MAX_DEPTH) {
                rc = WASI_ENAMETOOLONG;
                goto fail;
            }
            /* O_NOFOLLOW: if the name became a symlink since we looked,
             * this fails instead of following it. */
            int fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                rc = wasi_errno_from_host(errno);
                goto fail;
            }
            stack[depth++] = fd;
            if (last) {
                rc = jail_open_last(fd, ".", final_flags, mode, out);
                goto done;
            }
            pos = next;
            continue;
        }

        /* The final component. */
        if (follow_final && jail_is_symlink(cur, comp)) {
            if (++nlinks > JAIL_MAX_LINKS) {
                rc = WASI_ELOOP;
                goto fail;
            }
            rc = jail_expand(buf, next, false, cur, comp);
            if (rc)
                goto fail;
            pos = 0;
            continue;
        }
        rc = jail_open_last(cur, comp, final_flags, mode, out);
        goto done;
    }

fail:
done:
    while (depth > 0)
        close(stack[--depth]);
    return rc;
}

/* ---- public -------------------------------------------------------------- */

uint32_t wasi_jail_open(int root, const char *path, int flags, mode_t mode, int *out)
{
    *out = -1;
    if (path[0] == '/')
        return WASI_ENOTCAPABLE;
    if (strlen(path) > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    if (!jail_use_openat2())
        return jail_walk(root, path, flags, mode, out);
    long fd = jail_sys_openat2(root, path, flags, mode);
    if (fd < 0)
        return jail_errno(errno);
    *out = (int)fd;
    return 0;
}

uint32_t wasi_jail_parent(int root, const char *path, int *parent, const char **name)
{
    *parent = -1;
    *name = NULL;
    size_t len = strlen(path);
    if (len == 0)
        return WASI_ENOENT;
    if (path[0] == '/')
        return WASI_ENOTCAPABLE;
    if (len > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;

    size_t end = len;
    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (is_dot(path + start, end - start) || is_dotdot(path + start, end - start))
        return WASI_ENOTCAPABLE;

    int fd;
    if (start == 0) {
        fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            return wasi_errno_from_host(errno);
    } else {
        char dir[WASI_PATH_MAX + 1];
        memcpy(dir, path, start);
        dir[start] = '\0';
        uint32_t rc = wasi_jail_open(root, dir, O_PATH | O_DIRECTORY, 0, &fd);
        if (rc)
            return rc;
    }
    *parent = fd;
    *name = path + start;
    return 0;
}

uint32_t wasi_jail_check_link_target(const char *target, const char *linkpath)
{
    if (target[0] == '\0')
        return WASI_ENOENT;
    if (target[0] == '/' || linkpath[0] == '/')
        return WASI_ENOTCAPABLE;

    /* Depth of the link's directory below root. */
    long depth = 0;
    size_t end = strlen(linkpath);
    while (end > 0 && linkpath[end - 1] == '/')
        end--;
    while (end > 0 && linkpath[end - 1] != '/')
        end--;                                  /* drop the last component */
    for (size_t i = 0; i < end;) {
        size_t s = i;
        while (i < end && linkpath[i] != '/')
            i++;
        if (is_dotdot(linkpath + s, i - s))
            depth--;
        else if (i > s && !is_dot(linkpath + s, i - s))
            depth++;
        if (depth < 0)
            return WASI_ENOTCAPABLE;
        while (i < end && linkpath[i] == '/')
            i++;
    }
    for (size_t i = 0; target[i];) {
        size_t s = i;
        while (target[i] && target[i] != '/')
            i++;
        if (is_dotdot(target + s, i - s))
            depth--;
        else if (i > s && !is_dot(target + s, i - s))
            depth++;
        if (depth < 0)
            return WASI_ENOTCAPABLE;
        while (target[i] == '/')
            i++;
    }
    return 0;
}
