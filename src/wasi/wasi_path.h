/*
 * wasi_path.h — the path jail: resolve a guest path under a pre-opened
 * directory so that nothing it names lies outside that directory.
 *
 * All functions take a host directory descriptor `root` (the jail: a
 * pre-opened directory or a directory opened beneath one) and a guest path
 * as a NUL-terminated string, and return a WASI errno (0 = success).
 * Descriptors they hand back are owned by the caller and close-on-exec.
 *
 * Errno chosen for each escape attempt (tests/unit/test_wasi_jail.c checks
 * every one):
 *   absolute path ("/etc/passwd")                         ENOTCAPABLE (76)
 *   ".." that climbs above root ("../x", "a/../../x")     ENOTCAPABLE
 *   symbolic link to an absolute path ("-> /etc")         ENOTCAPABLE
 *   symbolic link that climbs above root ("-> ..")        ENOTCAPABLE
 *   last component "." or ".." for an operation on a
 *     name (unlink, rmdir, mkdir, rename, link, symlink)  ENOTCAPABLE
 *   path_symlink target that is absolute or would climb
 *     above root from the link's directory                ENOTCAPABLE
 *   more than 40 symbolic links in one resolution         ELOOP (32)
 *   a path containing a NUL byte                          EILSEQ (25)
 *   empty path                                            ENOENT (44)
 *
 * Mechanism: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the
 * kernel has it (Linux >= 5.6); otherwise a component-by-component walk
 * that opens every directory with O_NOFOLLOW, expands symbolic links itself
 * (refusing absolute targets) and handles ".." by popping its own stack of
 * directory descriptors, so it never asks the kernel to look up "..".
 * Operations on a final name open its parent beneath root and use the
 * *at() call with the last component, which the kernel never follows for
 * unlink/rmdir/mkdir/rename/symlink/link.
 */
#ifndef WEDGE_WASI_PATH_H
#define WEDGE_WASI_PATH_H

#include <stdint.h>
#include <sys/types.h>

/* Longest guest path accepted (bytes, without the NUL). */
#define WASI_PATH_MAX 4095

/* Open `path` beneath root with open(2) `flags` (O_NOFOLLOW: do not follow
 * a final symbolic link; O_PATH allowed) and `mode` (with O_CREAT). */
uint32_t wasi_jail_open(int root, const char *path, int flags, mode_t mode, int *out);

/* Open the directory that holds the last component of `path` beneath
 * root; *name points into `path` at that component (possibly followed by
 * slashes).  Refuses a last component of "." or "..". */
uint32_t wasi_jail_parent(int root, const char *path, int *parent, const char **name);

/* May a symbolic link at `linkpath` (relative to root) hold `target`?
 * Refuses absolute targets and ones that climb above root, judged
 * lexically (following is jailed anyway; this keeps the tree clean). */
uint32_t wasi_jail_check_link_target(const char *target, const char *linkpath);

/* 0: openat2 when the kernel has it (default); 1: always the portable walk
 * (tests use this to exercise the fallback). */
extern int wasi_jail_force_walk;

#endif
