/*
 * cg_file.c — a module file to the .so to load: the one path both
 * `wedge run` and `wedge serve` take (see compile.h); and the file's hash,
 * which binds snapshots to it.
 *
 * Why here and not above compile + runtime: the job ends at a path.  It
 * needs the cache and its file index (this component) and nothing of the
 * runtime; each caller then loads the path with rt_module_load, whose
 * errors are the runtime's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cg_internal.h"
#include "util/util.h"

bool cg_module_file_so(const char *path, const cg_options *o, char *so, size_t cap, cg_err *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return cg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    uint8_t magic[4] = {0};
    ssize_t n = read(fd, magic, sizeof magic);
    struct stat st;
    bool have_st = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    if (n == 4 && memcmp(magic, "\0asm", 4) == 0) {
        /* Seen before, unchanged: no need to read and hash it again. */
        if (have_st && cg_cache_lookup_file(&st, o, so, cap))
            return true;
        if (!have_st)
            return cg_fail(err, "%s: not a regular file", path);
        size_t len;
        uint8_t *wasm = ut_read_file(path, SIZE_MAX, &len);
        if (wasm == NULL)
            return cg_fail(err, "%s: cannot read: %s", path, strerror(errno));
        struct timespec read_at;
        clock_gettime(CLOCK_REALTIME, &read_at);
        /* The index entry names the identity seen before the read; enter it
         * only if the file still has it, so the bytes are that file's. */
        struct stat after;
        bool same = stat(path, &after) == 0 && after.st_ino == st.st_ino && after.st_dev == st.st_dev &&
                    after.st_size == st.st_size && (size_t)st.st_size == len &&
                    after.st_mtim.tv_sec == st.st_mtim.tv_sec && after.st_mtim.tv_nsec == st.st_mtim.tv_nsec &&
                    after.st_ctim.tv_sec == st.st_ctim.tv_sec && after.st_ctim.tv_nsec == st.st_ctim.tv_nsec;
        bool ok = cg_compile_cached(wasm, len, path, o, so, cap, err);
        free(wasm);
        if (ok && same)
            cg_cache_remember_file(&st, (int64_t)read_at.tv_sec * 1000000000 + read_at.tv_nsec, o, so);
        return ok;
    }
    if (n == 4 && memcmp(magic, "\177ELF", 4) == 0) {
        if ((size_t)snprintf(so, cap, "%s", path) >= cap)
            return cg_fail(err, "%s: path too long", path);
        return true;
    }
    return cg_fail(err, "%s: not a WebAssembly module or a compiled .so", path);
}

bool cg_module_file_hash(const char *path, uint8_t out[32], cg_err *err)
{
    size_t len;
    uint8_t *bytes = ut_read_file(path, SIZE_MAX, &len);
    if (bytes == NULL)
        return cg_fail(err, "%s: cannot read: %s", path, strerror(errno));
    cg_module_hash(bytes, len, out);
    free(bytes);
    return true;
}
