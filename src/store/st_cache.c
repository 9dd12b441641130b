/*
 * st_cache.c — a running node's cache of blobs fetched from a store,
 * content-addressed by SHA-256: DIR/HEX.EXT.  Only a blob fetched whole
 * and checked against its hash is ever renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
    /* Fetched straight into the file's pages (no buffer, no write copy);
     * the space is allocated first, so a full disk is an error here and
     * never a SIGBUS on a store into the mapping. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld-%lu", out, (long)getpid(), cache_seq++);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    uint8_t *map = NULL;
    if (fd >= 0 && blob->size && (blob->size > SIZE_MAX || posix_fallocate(fd, 0, (off_t)blob->size) != 0 ||
                                  (map = mmap(NULL, blob->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
                                      MAP_FAILED)) {
        map = NULL;
        close(fd);
        unlink(tmp);
        fd = -1;
    }
    if (fd < 0) {
        snprintf(err, ST_ERR_LEN, "%s: cannot write the store cache", dir);
        return -1;
    }
    uint8_t empty[1];
    int ok = st_fetch_blob(c, blob, map ? map : empty, err) == 0;
    if (map)
        munmap(map, blob->size);
    if (close(fd) != 0 && ok) {
        ok = 0;
        snprintf(err, ST_ERR_LEN, "%s: cannot write the store cache", dir);
    }
    if (!ok) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, out) != 0) {
        unlink(tmp);
        snprintf(err, ST_ERR_LEN, "%s: cannot write the store cache", dir);
        return -1;
    }
    return 0;
}
