/*
 * st_cache.c — a running node's cache of blobs fetched from a store,
 * content-addressed by SHA-256: DIR/HEX.EXT.  Only a blob fetched whole
 * and checked against its hash is ever renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_internal.h"

static _Atomic unsigned long cache_seq;

int st_cache_blob(st_conn *c, const st_blob_ref *blob, const char *dir, const char *ext, char *out, size_t cap,
                  char *err)
{
    char hex[2 * ST_SHA_LEN + 1];
    st_sha_hex(blob->sha, hex);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, ST_ERR_LEN, "%s: cannot create the store cache", dir);
        return -1;
    }
    int n = snprintf(out, cap, "%s/%s%s", dir, hex, ext);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, ST_ERR_LEN, "store cache path too long");
        return -1;
    }
    struct stat st;
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == blob->size)
        return 0;
    uint8_t *buf = malloc(blob->size ? blob->size : 1);
    if (!buf) {
        snprintf(err, ST_ERR_LEN, "out of memory for a %llu-byte blob", (unsigned long long)blob->size);
        return -1;
    }
    if (st_fetch_blob(c, blob, buf, err) != 0) {
        free(buf);
        return -1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld-%lu", out, (long)getpid(), cache_seq++);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t done = 0;
    while (fd >= 0 && done < blob->size) {
        ssize_t k = write(fd, buf + done, blob->size - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    free(buf);
    int ok = fd >= 0 && done == blob->size;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, out) != 0) {
        if (fd >= 0)
            unlink(tmp);
        snprintf(err, ST_ERR_LEN, "%s: cannot write the store cache", dir);
        return -1;
    }
    return 0;
}
