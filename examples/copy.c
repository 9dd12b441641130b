/*
 * copy.c — copy SRC to DST with stdio, then list DIR (default: the
 * directory of DST) sorted by name.  Exercises path_open, fd_read,
 * fd_write, fd_close and fd_readdir under a pre-opened directory.
 *
 *   copy SRC DST [DIR]
 *
 * Exit codes: 0 ok, 1 usage, 2 SRC cannot be opened, 3 DST cannot be
 * created, 4 read/write error, 5 DIR cannot be listed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "copy: cannot list %s: %s\n", dir, strerror(errno));
        return 5;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL && n < sizeof names / sizeof names[0]) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        names[n] = strdup(ent->d_name);
        if (!names[n])
            break;
        n++;
    }
    closedir(d);
    /* readdir order is the file system's; sort so the output is stable. */
    qsort(names, n, sizeof names[0], cmp_names);
    for (size_t i = 0; i < n; i++) {
        printf("entry %s\n", names[i]);
        free(names[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: copy SRC DST [DIR]\n");
        return 1;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        fprintf(stderr, "copy: cannot open %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "copy: cannot create %s: %s\n", argv[2], strerror(errno));
        fclose(in);
        return 3;
    }
    /* An odd buffer size, so the copy crosses stdio's buffer boundaries. */
    char buf[1000];
    size_t total = 0, got;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, got, out) != got) {
            fprintf(stderr, "copy: write error on %s\n", argv[2]);
            return 4;
        }
        total += got;
    }
    if (ferror(in)) {
        fprintf(stderr, "copy: read error on %s\n", argv[1]);
        return 4;
    }
    fclose(in);
    if (fclose(out) != 0) {
        fprintf(stderr, "copy: cannot close %s\n", argv[2]);
        return 4;
    }
    printf("copied %zu bytes\n", total);

    char dirbuf[512];
    const char *dir = argc > 3 ? argv[3] : NULL;
    if (!dir) {
        const char *slash = strrchr(argv[2], '/');
        if (!slash) {
            dir = ".";
        } else {
            size_t len = (size_t)(slash - argv[2]);
            if (len == 0)
                len = 1;            /* "/x" lists "/" */
            if (len >= sizeof dirbuf)
                len = sizeof dirbuf - 1;
            memcpy(dirbuf, argv[2], len);
            dirbuf[len] = '\0';
            dir = dirbuf;
        }
    }
    return list_dir(dir);
}
