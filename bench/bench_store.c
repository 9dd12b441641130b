/*
 * bench_store.c — eager fetch from a store node over loopback against the
 * loopback TCP bandwidth measured in the same run (issue 9's baseline for
 * eager restore).  A store node (st_serve) runs in a thread on a temporary
 * directory holding a SIZE_MIB blob of random bytes; the client fetches it
 * whole (st_fetch_blob: BLOB frames of 8 MiB, 4 in flight, received in
 * place and hashed once as they arrive, checked whole at the end) and, for
 * comparison, as 4 MiB RANGES (each hashed by the store and checked by the
 * node: what lazy faults use).  Prints a table; asserts nothing.
 *
 * Usage: bench_store [SIZE_MIB (64)] [RUNS (5)]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "store/st_transport.h"
#include "util/util.h"

static volatile int stop;
static volatile int port;

static void on_listen(int p, void *arg)
{
    (void)arg;
    port = p;
}

static void *server(void *arg)
{
    st_server_config *cfg = arg;
    char err[ST_ERR_LEN];
    if (st_serve(cfg, err) != 0)
        fprintf(stderr, "bench_store: %s\n", err);
    return NULL;
}

/* Loopback TCP: one connection, `bytes` sent in 1 MiB writes. */
static void *sink(void *arg)
{
    int fd = *(int *)arg;
    static char b[1 << 20];
    while (read(fd, b, sizeof b) > 0)
        ;
    return NULL;
}

static double loopback_mib_s(size_t bytes)
{
    int sv[2];
    /* A real TCP connection (not a socketpair): through the loopback device. */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1) ||
        getsockname(ls, (struct sockaddr *)&a, &al))
        return 0;
    sv[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(sv[0], (struct sockaddr *)&a, sizeof a))
        return 0;
    sv[1] = accept(ls, NULL, NULL);
    pthread_t t;
    pthread_create(&t, NULL, sink, &sv[1]);
    static char b[1 << 20];
    memset(b, 7, sizeof b);
    uint64_t t0 = ut_mono_ns();
    for (size_t done = 0; done < bytes;) {
        ssize_t k = write(sv[0], b, sizeof b);
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    close(sv[0]);
    pthread_join(t, NULL);
    uint64_t t1 = ut_mono_ns();
    close(sv[1]);
    close(ls);
    return (double)bytes / (1 << 20) / ((double)(t1 - t0) / 1e9);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 64;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (mib < 1 || runs < 1 || runs > 100)
        return 2;
    char dir[] = "/tmp/wedge-bench-store-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    size_t len = mib << 20;
    uint8_t *blob = malloc(len), *dst = malloc(len);
    for (size_t i = 0; i < len; i++)
        blob[i] = (uint8_t)(i * 2654435761u >> 13);
    char path[256];
    snprintf(path, sizeof path, "%s/big.wasm", dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(blob, 1, len, f) != len || fclose(f))
        return 1;
    st_key key = {.len = 16};
    memcpy(key.bytes, "bench-key-bench!", 16);
    st_server_config cfg = {.dir = dir, .listen = "127.0.0.1:0", .key = &key, .timeout_ms = 5000,
                            .max_conns = 8, .on_listen = on_listen, .stop = &stop};
    pthread_t t;
    pthread_create(&t, NULL, server, &cfg);
    while (!port)
        usleep(1000);
    st_url u;
    char err[ST_ERR_LEN], url[64];
    snprintf(url, sizeof url, "wedge://127.0.0.1:%d/big", port);
    if (st_url_parse(url, 1, &u, err))
        return 1;
    double whole[100], ranges[100], conn[100];
    for (int r = 0; r < runs; r++) {
        uint64_t t0 = ut_mono_ns();
        st_conn *c = st_connect(&u, &key, 5000, err);
        st_manifest m;
        if (!c || st_manifest_get(c, "big", &m, err)) {
            fprintf(stderr, "bench_store: %s\n", err);
            return 1;
        }
        uint64_t t1 = ut_mono_ns();
        if (st_fetch_blob(c, &m.module, dst, err)) {
            fprintf(stderr, "bench_store: %s\n", err);
            return 1;
        }
        uint64_t t2 = ut_mono_ns();
        enum { PIECE = 4u << 20 };
        uint32_t n = (uint32_t)((len + PIECE - 1) / PIECE);
        st_range rs[1024];
        uint8_t *ds[1024];
        for (uint32_t i = 0; i < n; i++) {
            rs[i] = (st_range){(uint64_t)i * PIECE, PIECE, NULL};
            ds[i] = dst + (size_t)i * PIECE;
        }
        rs[n - 1].len = (uint32_t)(len - (size_t)(n - 1) * PIECE);
        if (st_fetch_ranges(c, &m.module, rs, n, ds, err)) {
            fprintf(stderr, "bench_store: %s\n", err);
            return 1;
        }
        uint64_t t3 = ut_mono_ns();
        conn[r] = (double)(t1 - t0) / 1e6;
        whole[r] = (double)(t2 - t1) / 1e6;
        ranges[r] = (double)(t3 - t2) / 1e6;
        st_manifest_free(&m);
        st_close(c);
    }
    if (memcmp(dst, blob, len) != 0) {
        fprintf(stderr, "bench_store: fetched bytes differ\n");
        return 1;
    }
    double bw = loopback_mib_s((size_t)4 * len);
    qsort(whole, (size_t)runs, sizeof whole[0], cmp);
    qsort(ranges, (size_t)runs, sizeof ranges[0], cmp);
    qsort(conn, (size_t)runs, sizeof conn[0], cmp);
    double wm = whole[runs / 2], rm = ranges[runs / 2];
    printf("blob %zu MiB, %d runs, medians\n", mib, runs);
    printf("| what | time | MiB/s | vs loopback |\n|---|---:|---:|---:|\n");
    printf("| loopback TCP, one connection | | %.0f | 100%% |\n", bw);
    printf("| connect + handshake + manifest | %.2f ms | | |\n", conn[runs / 2]);
    printf("| eager fetch (streamed BLOB frames, one whole-blob SHA-256) | %.1f ms | %.0f | %.0f%% |\n", wm,
           (double)mib / (wm / 1e3), 100.0 * ((double)mib / (wm / 1e3)) / bw);
    printf("| the same as RANGES, each range hashed and checked | %.1f ms | %.0f | %.0f%% |\n", rm,
           (double)mib / (rm / 1e3), 100.0 * ((double)mib / (rm / 1e3)) / bw);
    stop = 1;
    pthread_join(t, NULL);
    unlink(path);
    rmdir(dir);
    free(blob);
    free(dst);
    return 0;
}
