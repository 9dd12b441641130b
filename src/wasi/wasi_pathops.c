/*
 * wasi_pathops.c — the path_* calls.  Every path goes through the jail
 * (wasi_path.c): either opened beneath the directory fd, or split into a
 * parent opened beneath it plus a last component for the *at() call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_host.h"
#include "wasi_internal.h"
#include "wasi_path.h"

/* The guest directory fd `fd` if it holds the rights `need` (EBADF,
 * ENOTDIR, EPERM otherwise: a missing PATH_* right is an operation the
 * directory does not permit, which is what the current wasi-testsuite's
 * truncation_rights expects). */
static uint32_t dir_of(wedge_instance *inst, uint32_t fd, uint64_t need, wasi_fd_entry **out)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    if (!e)
        return WASI_EBADF;
    if (e->kind != WASI_FD_HOST || e->filetype != WASI_FILETYPE_DIRECTORY)
        return WASI_ENOTDIR;
    if ((e->rights_base & need) != need)
        return WASI_EPERM;
    *out = e;
    return 0;
}

/* dir fd (holding rights `need`) + guest path -> host dir and C path. */
static uint32_t dir_path(wedge_instance *inst, uint32_t fd, uint64_t need, uint32_t ptr, uint32_t len, char *buf,
                         int *dir)
{
    wasi_fd_entry *e;
    wasi_stack_check();
    uint32_t rc = wasi_path_copy(inst, ptr, len, buf, WASI_PATH_MAX + 1);
    if (rc)
        return rc;
    if ((rc = dir_of(inst, fd, need, &e)))
        return rc;
    *dir = e->host;
    return 0;
}

/* The real inode behind an O_PATH descriptor, as a path the kernel follows
 * (for calls that have no fd form accepting O_PATH). */
static void proc_fd_path(int fd, char *buf, size_t len)
{
    snprintf(buf, len, "/proc/self/fd/%d", fd);
}

uint32_t wasi_path_open(wedge_instance *inst, uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t len,
                        uint32_t oflags, uint64_t base, uint64_t inh, uint32_t fdflags, uint32_t out)
{
    char p[WASI_PATH_MAX + 1];
    int dir;
    /* The directory's rights for what this open does to a path: create
     * (O_CREAT) and truncate (O_TRUNC) are path operations of their own. */
    uint64_t need = WASI_RIGHT_PATH_OPEN;
    if (oflags & WASI_O_CREAT)
        need |= WASI_RIGHT_PATH_CREATE_FILE;
    if (oflags & WASI_O_TRUNC)
        need |= WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
    uint32_t rc = dir_path(inst, fd, need, path, len, p, &dir);
    if (rc)
        return rc;
    if (!wasi_mem(inst, out, 4))
        return WASI_EFAULT;
    if ((oflags & ~(uint32_t)0xf) || (fdflags & ~(uint32_t)0x1f))
        return WASI_EINVAL;

    /* A descriptor gets no right its directory may not hand down: the
     * rights asked for are trimmed to the directory's inheriting rights
     * (trimmed, not refused, as wasi-libc asks for "everything allowed"). */
    const wasi_fd_entry *parent = wasi_fd_get(wasi_ctx_of(inst), fd);
    /* Beneath a read-only directory, asking to write is refused rather
     * than trimmed into a descriptor that can do nothing the guest asked. */
    if (parent->readonly && ((base & WASI_RIGHTS_NEED_WRITE) || (fdflags & WASI_FDFLAG_APPEND)))
        return WASI_EROFS;
    base &= parent->rights_inheriting;
    inh &= parent->rights_inheriting;

    /* Access mode from the rights asked for: wasi-libc derives them from
     * O_RDONLY/O_WRONLY/O_RDWR.  With O_DIRECTORY, write access is asked
     * for by FD_WRITE (or O_TRUNC/append) only, and the kernel refuses it
     * on a directory with EISDIR, as the wasi-testsuite expects. */
    const uint64_t rd = WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR;
    bool want_w = (fdflags & WASI_FDFLAG_APPEND) ||
                  (base & ((oflags & WASI_O_DIRECTORY) ? WASI_RIGHT_FD_WRITE : WASI_RIGHTS_NEED_WRITE));
    bool want_r = (base & rd) != 0;
    int flags;
    if (want_w)
        flags = want_r ? O_RDWR : O_WRONLY;
    else
        flags = O_RDONLY;
    if (oflags & WASI_O_DIRECTORY)
        flags |= O_DIRECTORY;
    if (oflags & WASI_O_CREAT)
        flags |= O_CREAT;
    if (oflags & WASI_O_EXCL)
        flags |= O_EXCL;
    if (oflags & WASI_O_TRUNC)
        flags |= O_TRUNC;
    if (fdflags & WASI_FDFLAG_APPEND)
        flags |= O_APPEND;
    if (fdflags & WASI_FDFLAG_DSYNC)
        flags |= O_DSYNC;
    if (fdflags & WASI_FDFLAG_SYNC)
        flags |= O_SYNC;
    if (fdflags & WASI_FDFLAG_RSYNC)
        flags |= O_RSYNC;
    if (fdflags & WASI_FDFLAG_NONBLOCK)
        flags |= O_NONBLOCK;
    if (!(dirflags & WASI_LOOKUP_SYMLINK_FOLLOW))
        flags |= O_NOFOLLOW;
    flags |= O_NOCTTY;

    int hfd;
    rc = wasi_jail_open(dir, p, flags, 0666, &hfd);
    /* A directory opened without O_DIRECTORY but with write rights (some
     * toolchains ask for everything): open it read-only instead.  Asked
     * for as a directory (O_DIRECTORY) with FD_WRITE, it stays EISDIR. */
    if (rc == WASI_EISDIR && !(oflags & (WASI_O_CREAT | WASI_O_TRUNC | WASI_O_DIRECTORY)) &&
        !(fdflags & WASI_FDFLAG_APPEND))
        rc = wasi_jail_open(dir, p, O_RDONLY | O_DIRECTORY | (flags & O_NOFOLLOW), 0, &hfd);
    if (rc)
        return rc;

    struct stat st;
    if (fstat(hfd, &st) != 0) {
        rc = wasi_errno_from_host(errno);
        close(hfd);
        return rc;
    }
    wasi_fd_entry e;
    memset(&e, 0, sizeof e);
    e.kind = WASI_FD_HOST;
    e.host = hfd;
    e.owned = true;
    e.filetype = wasi_filetype_from_mode(st.st_mode);
    e.fdflags = (uint16_t)fdflags;
    e.readonly = parent->readonly;
    /* Only the rights that apply to what was opened, and no write right on
     * a descriptor the host opened read-only. */
    if (e.filetype == WASI_FILETYPE_DIRECTORY) {
        e.rights_base = base & WASI_RIGHTS_DIR;
        e.rights_inheriting = inh & (WASI_RIGHTS_DIR | WASI_RIGHTS_FILE);
    } else {
        e.rights_base = base & WASI_RIGHTS_FILE;
        if (!want_w)
            e.rights_base &= ~WASI_RIGHTS_NEED_WRITE;
        if (e.filetype == WASI_FILETYPE_CHARACTER_DEVICE || e.filetype == WASI_FILETYPE_UNKNOWN)
            e.rights_base &= ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);   /* a device or a FIFO */
        e.rights_inheriting = inh;
    }
    uint32_t gfd;
    rc = wasi_fd_insert(wasi_ctx_of(inst), &e, &gfd);
    if (rc) {
        close(hfd);
        return rc;
    }
    wasi_put_u32(inst, out, gfd);
    return 0;
}

uint32_t wasi_path_filestat_get(wedge_instance *inst, uint32_t fd, uint32_t flags, uint32_t path, uint32_t len,
                                uint32_t buf)
{
    char p[WASI_PATH_MAX + 1];
    int dir, hfd;
    uint32_t rc = dir_path(inst, fd, WASI_RIGHT_PATH_FILESTAT_GET, path, len, p, &dir);
    if (rc)
        return rc;
    if (!wasi_mem(inst, buf, 64))
        return WASI_EFAULT;
    /* O_PATH | O_NOFOLLOW gives the link itself, so lstat needs no parent. */
    int of = O_PATH | ((flags & WASI_LOOKUP_SYMLINK_FOLLOW) ? 0 : O_NOFOLLOW);
    if ((rc = wasi_jail_open(dir, p, of, 0, &hfd)))
        return rc;
    struct stat st;
    if (fstat(hfd, &st) != 0)
        rc = wasi_errno_from_host(errno);
    else
        rc = wasi_put_filestat(inst, buf, &st);
    close(hfd);
    return rc;
}

uint32_t wasi_path_filestat_set_times(wedge_instance *inst, uint32_t fd, uint32_t flags, uint32_t path,
                                      uint32_t len, uint64_t atim, uint64_t mtim, uint32_t fst)
{
    char p[WASI_PATH_MAX + 1], proc[64];
    struct timespec ts[2];
    int dir, hfd;
    uint32_t rc = dir_path(inst, fd, WASI_RIGHT_PATH_FILESTAT_SET_TIMES, path, len, p, &dir);
    if (rc)
        return rc;
    if ((rc = wasi_times_from(atim, mtim, fst, ts)))
        return rc;
    bool follow = flags & WASI_LOOKUP_SYMLINK_FOLLOW;
    if ((rc = wasi_jail_open(dir, p, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, &hfd)))
        return rc;
    struct stat st;
    if (fstat(hfd, &st) != 0) {
        rc = wasi_errno_from_host(errno);
    } else if (S_ISLNK(st.st_mode)) {
        /* The link itself: through its parent, never following. */
        int parent;
        const char *name;
        if (!(rc = wasi_jail_parent(dir, p, &parent, &name))) {
            if (utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) != 0)
                rc = wasi_errno_from_host(errno);
            close(parent);
        }
    } else {
        proc_fd_path(hfd, proc, sizeof proc);
        if (utimensat(AT_FDCWD, proc, ts, 0) != 0)
            rc = wasi_errno_from_host(errno);
    }
    close(hfd);
    return rc;
}

/* Operations on a last component: parent beneath the jail + *at(). */
enum name_op { OP_MKDIR, OP_RMDIR, OP_UNLINK };

static uint32_t name_op(wedge_instance *inst, uint32_t fd, uint32_t path, uint32_t len, enum name_op op)
{
    char p[WASI_PATH_MAX + 1];
    int dir, parent;
    const char *name;
    static const uint64_t need[] = {[OP_MKDIR] = WASI_RIGHT_PATH_CREATE_DIRECTORY,
                                    [OP_RMDIR] = WASI_RIGHT_PATH_REMOVE_DIRECTORY,
                                    [OP_UNLINK] = WASI_RIGHT_PATH_UNLINK_FILE};
    uint32_t rc = dir_path(inst, fd, need[op], path, len, p, &dir);
    if (rc)
        return rc;
    if ((rc = wasi_jail_parent(dir, p, &parent, &name)))
        return rc;
    int r;
    switch (op) {
    case OP_MKDIR: r = mkdirat(parent, name, 0777); break;
    case OP_RMDIR: r = unlinkat(parent, name, AT_REMOVEDIR); break;
    default: r = unlinkat(parent, name, 0); break;
    }
    if (r != 0)
        rc = wasi_errno_from_host(errno);
    close(parent);
    return rc;
}

uint32_t wasi_path_create_directory(wedge_instance *inst, uint32_t fd, uint32_t path, uint32_t len)
{
    return name_op(inst, fd, path, len, OP_MKDIR);
}

uint32_t wasi_path_remove_directory(wedge_instance *inst, uint32_t fd, uint32_t path, uint32_t len)
{
    return name_op(inst, fd, path, len, OP_RMDIR);
}

uint32_t wasi_path_unlink_file(wedge_instance *inst, uint32_t fd, uint32_t path, uint32_t len)
{
    return name_op(inst, fd, path, len, OP_UNLINK);
}

uint32_t wasi_path_rename(wedge_instance *inst, uint32_t fd, uint32_t opath, uint32_t olen, uint32_t nfd,
                          uint32_t npath, uint32_t nlen)
{
    char op[WASI_PATH_MAX + 1], np[WASI_PATH_MAX + 1];
    int odir, ndir, oparent, nparent;
    const char *oname, *nname;
    uint32_t rc = dir_path(inst, fd, WASI_RIGHT_PATH_RENAME_SOURCE, opath, olen, op, &odir);
    if (rc || (rc = dir_path(inst, nfd, WASI_RIGHT_PATH_RENAME_TARGET, npath, nlen, np, &ndir)))
        return rc;
    if ((rc = wasi_jail_parent(odir, op, &oparent, &oname)))
        return rc;
    if ((rc = wasi_jail_parent(ndir, np, &nparent, &nname))) {
        close(oparent);
        return rc;
    }
    if (renameat(oparent, oname, nparent, nname) != 0)
        rc = wasi_errno_from_host(errno);
    close(oparent);
    close(nparent);
    return rc;
}

uint32_t wasi_path_readlink(wedge_instance *inst, uint32_t fd, uint32_t path, uint32_t len, uint32_t buf,
                            uint32_t buflen, uint32_t used)
{
    char p[WASI_PATH_MAX + 1];
    int dir, hfd;
    uint32_t rc = dir_path(inst, fd, WASI_RIGHT_PATH_READLINK, path, len, p, &dir);
    if (rc)
        return rc;
    uint8_t *out = wasi_mem(inst, buf, buflen);
    if (!out || !wasi_mem(inst, used, 4))
        return WASI_EFAULT;
    if ((rc = wasi_jail_open(dir, p, O_PATH | O_NOFOLLOW, 0, &hfd)))
        return rc;
    struct stat st;
    if (fstat(hfd, &st) != 0) {
        rc = wasi_errno_from_host(errno);
    } else if (!S_ISLNK(st.st_mode)) {
        rc = WASI_EINVAL;
    } else {
        /* Empty name + O_PATH fd of the link: read the link itself. */
        ssize_t n = readlinkat(hfd, "", (char *)out, buflen);
        if (n < 0)
            rc = wasi_errno_from_host(errno);
        else
            wasi_put_u32(inst, used, (uint32_t)n);    /* cut to buflen, as readlink(2) */
    }
    close(hfd);
    return rc;
}

uint32_t wasi_path_symlink(wedge_instance *inst, uint32_t opath, uint32_t olen, uint32_t fd, uint32_t npath,
                           uint32_t nlen)
{
    char target[WASI_PATH_MAX + 1], np[WASI_PATH_MAX + 1];
    int dir, parent;
    const char *name;
    wasi_stack_check();
    uint32_t rc = wasi_path_copy(inst, opath, olen, target, sizeof target);
    if (rc || (rc = dir_path(inst, fd, WASI_RIGHT_PATH_SYMLINK, npath, nlen, np, &dir)))
        return rc;
    if ((rc = wasi_jail_check_link_target(target, np)))
        return rc;
    if ((rc = wasi_jail_parent(dir, np, &parent, &name)))
        return rc;
    if (symlinkat(target, parent, name) != 0)
        rc = wasi_errno_from_host(errno);
    close(parent);
    return rc;
}

uint32_t wasi_path_link(wedge_instance *inst, uint32_t ofd, uint32_t oflags, uint32_t opath, uint32_t olen,
                        uint32_t nfd, uint32_t npath, uint32_t nlen)
{
    char op[WASI_PATH_MAX + 1], np[WASI_PATH_MAX + 1], proc[64];
    int odir, ndir, nparent;
    const char *nname;
    uint32_t rc = dir_path(inst, ofd, WASI_RIGHT_PATH_LINK_SOURCE, opath, olen, op, &odir);
    if (rc || (rc = dir_path(inst, nfd, WASI_RIGHT_PATH_LINK_TARGET, npath, nlen, np, &ndir)))
        return rc;
    if ((rc = wasi_jail_parent(ndir, np, &nparent, &nname)))
        return rc;
    if (oflags & WASI_LOOKUP_SYMLINK_FOLLOW) {
        /* Resolve the source (following links, jailed), then link the inode
         * through /proc: linkat(AT_EMPTY_PATH) would need CAP_DAC_READ_SEARCH. */
        int hfd;
        if (!(rc = wasi_jail_open(odir, op, O_PATH, 0, &hfd))) {
            proc_fd_path(hfd, proc, sizeof proc);
            if (linkat(AT_FDCWD, proc, nparent, nname, AT_SYMLINK_FOLLOW) != 0)
                rc = wasi_errno_from_host(errno);
            close(hfd);
        }
    } else {
        int oparent;
        const char *oname;
        if (!(rc = wasi_jail_parent(odir, op, &oparent, &oname))) {
            if (linkat(oparent, oname, nparent, nname, 0) != 0)
                rc = wasi_errno_from_host(errno);
            close(oparent);
        }
    }
    close(nparent);
    return rc;
}
