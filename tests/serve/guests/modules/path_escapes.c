/* path_escapes — tries to open files outside any sandbox: "..", absolute
 * paths, climbs through every descriptor number a guest could guess
 * (0-3 and 0xFFFFFFFF), and a path pointer outside linear memory.  `wedge
 * serve` pre-opens no directory, so every attempt must fail (EBADF,
 * ENOTDIR, ENOTCAPABLE or EFAULT), and no file content may come back.
 * One "name=errno" line per call, then the first bytes read from any
 * descriptor that did open (there must be none). */
#include "report.h"

/* The import itself, so pointer and length are not wasi-libc's to check. */
int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len, int32_t oflags, int64_t base,
                      int64_t inheriting, int32_t fdflags, int32_t fd_out)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")));

static void try_open(const char *name, __wasi_fd_t dir, const char *path)
{
    __wasi_fd_t fd = 0;
    int e = __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    report(name, e);
    if (e == 0) {
        static uint8_t buf[256];
        __wasi_iovec_t v = { buf, sizeof buf - 1 };
        __wasi_size_t n = 0;
        (void)__wasi_fd_read(fd, &v, 1, &n);
        report("LEAKED_BYTES", (int)n);
        __wasi_ciovec_t o = { buf, n };
        (void)__wasi_fd_write(1, &o, 1, &nw);
    }
}

int main(void)
{
    uintptr_t end = mem_end();
    __wasi_prestat_t ps;
    report("prestat_fd3", __wasi_fd_prestat_get(3, &ps));
    static const __wasi_fd_t fds[] = { 0, 1, 2, 3, 4, 0xFFFFFFFFu };
    static const char *const paths[] = { "../../../../../../etc/passwd", "/etc/passwd", "..", "/",
                                         "a/../../etc/passwd", "/proc/self/environ", "." };
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        for (size_t j = 0; j < sizeof paths / sizeof *paths; j++) {
            static const char *const fdnames[] = { "0", "1", "2", "3", "4", "4294967295" };
            char name[120] = "open_fd";
            strcat(name, fdnames[i]);
            strcat(name, "_");
            strcat(name, paths[j]);
            try_open(name, fds[i], paths[j]);
        }
    /* the raw import: a path pointer past the end and a 4 GiB length */
    __wasi_fd_t fd = 0;
    for (int32_t dir = 0; dir < 4; dir++) {
        char name[40];
        static const char *const fmt[] = { "path_ptr_past_end_fd?", "path_len_4g_fd?", "fd_out_past_end_fd?" };
        strcpy(name, fmt[0]);
        name[strlen(name) - 1] = (char)('0' + dir);
        report(name, raw_path_open(dir, 1, (int32_t)end, 8, 0, 2, 0, 0, (int32_t)(intptr_t)&fd));
        strcpy(name, fmt[1]);
        name[strlen(name) - 1] = (char)('0' + dir);
        report(name, raw_path_open(dir, 1, (int32_t)(intptr_t)"x", -1, 0, 2, 0, 0, (int32_t)(intptr_t)&fd));
        strcpy(name, fmt[2]);
        name[strlen(name) - 1] = (char)('0' + dir);
        report(name, raw_path_open(dir, 1, (int32_t)(intptr_t)".", 1, 0, 2, 0, 0, (int32_t)end));
    }
    report("done", 0);
    return 0;
}
