/*
 * cli_store.c — `wedge store`: a store node serving DIR's modules and
 * snapshots over the store protocol (docs/store-protocol.md), and
 * `wedge store push`, publishing a module (and its snapshot) to a store
 * node or to Redis.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "store/st_transport.h"
#include "util/util.h"

static void store_usage(FILE *f)
{
    fputs("Usage: wedge store [OPTIONS] DIR\n"
          "       wedge store push [--redis redis://HOST:PORT | wedge://HOST:PORT] [--key-file F] NAME APP.wasm "
          "[APP.snap]\n"
          "       wedge store pull [--key-file F] wedge://HOST:PORT/NAME OUT.wasm [OUT.snap]\n"
          "\n"
          "Serve the modules DIR/NAME.wasm (with their snapshots DIR/NAME.snap) and what is pushed to\n"
          "DIR, to running nodes (`wedge run wedge://HOST:PORT/NAME`); or publish one.\n"
          "\n"
          "Options:\n"
          "  --listen ADDR:PORT   where to listen (default 127.0.0.1:7070; port 0: any free port)\n"
          "  --key-file F         the pre-shared key (16..1024 bytes); required for wedge://,\n"
          "                       the Redis password for redis://\n"
          "  --timeout MS         per socket operation (default 5000)\n"
          "  --max-conns N        concurrent sessions (default 256)\n"
          "  -h, --help           show this help\n",
          f);
}

static volatile int stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int parse_ms(const char *v, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 3600000)
        return -1;
    *out = (int)n;
    return 0;
}

static int store_push_main(int argc, char **argv)
{
    const char *redis = NULL, *keyfile = NULL, *pos[4];
    int npos = 0, timeout = ST_TIMEOUT_MS_DEFAULT;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            store_usage(stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--redis", &bad))) {
            redis = v;
        } else if ((v = cli_opt(argc, argv, &i, "--key-file", &bad))) {
            keyfile = v;
        } else if ((v = cli_opt(argc, argv, &i, "--timeout", &bad))) {
            if (parse_ms(v, &timeout)) {
                cli_error("store push: --timeout %s: expected milliseconds, 1..3600000", v);
                return CLI_EXIT_USER;
            }
        } else if (bad) {
            return CLI_EXIT_USER;
        } else if (a[0] == '-' && a[1]) {
            cli_error("store push: unknown option %s (see wedge store --help)", a);
            return CLI_EXIT_USER;
        } else if (npos < 4) {
            pos[npos++] = a;
        } else {
            cli_error("store push: too many arguments");
            return CLI_EXIT_USER;
        }
    }
    if (bad)
        return CLI_EXIT_USER;
    const char *target = redis;
    int first = 0;
    if (!target && npos > 0 && st_url_is_store(pos[0]))
        target = pos[first++];
    if (!target || npos - first < 2 || npos - first > 3) {
        cli_error("store push: expected [--redis URL | wedge://HOST:PORT] NAME APP.wasm [APP.snap]");
        return CLI_EXIT_USER;
    }
    char err[ST_ERR_LEN];
    st_url u;
    if (st_url_parse(target, 0, &u, err) != 0) {
        cli_error("store push: %s", err);
        return CLI_EXIT_USER;
    }
    if (redis && strncmp(redis, "redis://", 8) != 0) {
        cli_error("store push: --redis %s: expected redis://HOST:PORT", redis);
        return CLI_EXIT_USER;
    }
    const char *name = pos[first];
    if (!st_name_ok(name, strlen(name))) {
        cli_error("store push: %s: bad name (1..128 of A-Z a-z 0-9 . _ -, not starting with '.')", name);
        return CLI_EXIT_USER;
    }
    st_key key = {0};
    if (keyfile) {
        const char *e = st_key_load(keyfile, &key);
        if (e) {
            cli_error("%s: %s", keyfile, e);
            return CLI_EXIT_USER;
        }
    } else if (u.t == &st_tcp_transport) {
        cli_error("store push: --key-file F is required for wedge://");
        return CLI_EXIT_USER;
    }
    st_conn *c = st_connect(&u, &key, timeout, err);
    if (!c) {
        cli_error("%s", err);
        return CLI_EXIT_USER;
    }
    int rc = 0;
    for (int k = first + 1; k < npos && rc == 0; k++) {
        size_t len;
        uint8_t *data = ut_read_file(pos[k], SIZE_MAX, &len);
        if (!data) {
            cli_error("%s: cannot read", pos[k]);
            rc = CLI_EXIT_USER;
            break;
        }
        st_blob_kind which = k == first + 1 ? ST_BLOB_MODULE : ST_BLOB_SNAP;
        if (st_push(c, name, which, data, len, err) != 0) {
            cli_error("%s", err);
            rc = CLI_EXIT_USER;
        } else {
            uint8_t sha[ST_SHA_LEN];
            char hex[2 * ST_SHA_LEN + 1];
            st_sha256(data, len, sha);
            st_sha_hex(sha, hex);
            printf("pushed %s %s (%zu bytes, sha256 %s)\n", name, which == ST_BLOB_MODULE ? "module" : "snapshot",
                   len, hex);
        }
        free(data);
    }
    st_close(c);
    return rc;
}

/* `wedge store pull URL/NAME OUT.wasm [OUT.snap]`: a blob's fetch and
 * checks, without running it (operators, and the tests of each backend's
 * client half). */
static int store_pull_main(int argc, char **argv)
{
    const char *keyfile = NULL, *pos[3];
    int npos = 0;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if ((v = cli_opt(argc, argv, &i, "--key-file", &bad))) {
            keyfile = v;
        } else if (bad) {
            return CLI_EXIT_USER;
        } else if (a[0] == '-' && a[1]) {
            cli_error("store pull: unknown option %s (see wedge store --help)", a);
            return CLI_EXIT_USER;
        } else if (npos < 3) {
            pos[npos++] = a;
        } else {
            npos = 4;
        }
    }
    if (bad || npos < 2 || npos > 3) {
        cli_error("store pull: expected URL/NAME OUT.wasm [OUT.snap]");
        return CLI_EXIT_USER;
    }
    char err[ST_ERR_LEN];
    st_url u;
    st_key key = {0};
    const char *e;
    if (st_url_parse(pos[0], 1, &u, err) != 0) {
        cli_error("store pull: %s", err);
        return CLI_EXIT_USER;
    }
    if (keyfile && (e = st_key_load(keyfile, &key))) {
        cli_error("%s: %s", keyfile, e);
        return CLI_EXIT_USER;
    }
    st_conn *c = st_connect(&u, &key, ST_TIMEOUT_MS_DEFAULT, err);
    if (!c) {
        cli_error("%s", err);
        return CLI_EXIT_USER;
    }
    st_manifest m = {0};
    int rc = st_manifest_get(c, u.name, &m, err) == 0 ? 0 : CLI_EXIT_USER;
    for (int k = 1; k < npos && rc == 0; k++) {
        const st_blob_ref *b = k == 1 ? &m.module : &m.snap;
        rc = CLI_EXIT_USER;
        if (k == 2 && !m.has_snap) {
            snprintf(err, sizeof err, "%s has no snapshot", u.name);
            break;
        }
        uint8_t *buf = malloc(b->size ? b->size : 1);
        if (!buf) {
            snprintf(err, sizeof err, "out of memory");
            break;
        }
        if (st_fetch_blob(c, b, buf, err) == 0) {
            FILE *f = fopen(pos[k], "wb");
            int ok = f && fwrite(buf, 1, b->size, f) == b->size;
            if (f && fclose(f) != 0)
                ok = 0;
            if (ok) {
                printf("pulled %s (%llu bytes)\n", pos[k], (unsigned long long)b->size);
                rc = 0;
            } else {
                snprintf(err, sizeof err, "%s: cannot write", pos[k]);
            }
        }
        free(buf);
    }
    st_manifest_free(&m);
    st_close(c);
    if (rc)
        cli_error("%s", err);
    return rc;
}

int cli_store_main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "push"))
        return store_push_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "pull"))
        return store_pull_main(argc - 1, argv + 1);
    const char *listen = "127.0.0.1:7070", *keyfile = NULL, *dir = NULL;
    int timeout = ST_TIMEOUT_MS_DEFAULT, max_conns = 256;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            store_usage(stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--listen", &bad))) {
            listen = v;
        } else if ((v = cli_opt(argc, argv, &i, "--key-file", &bad))) {
            keyfile = v;
        } else if ((v = cli_opt(argc, argv, &i, "--timeout", &bad))) {
            if (parse_ms(v, &timeout)) {
                cli_error("store: --timeout %s: expected milliseconds, 1..3600000", v);
                return CLI_EXIT_USER;
            }
        } else if ((v = cli_opt(argc, argv, &i, "--max-conns", &bad))) {
            if (parse_ms(v, &max_conns) || max_conns > 65536) {
                cli_error("store: --max-conns %s: expected 1..65536", v);
                return CLI_EXIT_USER;
            }
        } else if (bad) {
            return CLI_EXIT_USER;
        } else if (a[0] == '-' && a[1]) {
            cli_error("store: unknown option %s (see wedge store --help)", a);
            return CLI_EXIT_USER;
        } else if (!dir) {
            dir = a;
        } else {
            cli_error("store: one DIR expected (see wedge store --help)");
            return CLI_EXIT_USER;
        }
    }
    if (bad)
        return CLI_EXIT_USER;
    if (!dir) {
        store_usage(stderr);
        return CLI_EXIT_USER;
    }
    if (!keyfile) {
        cli_error("store: --key-file F is required (a store without a key would serve anyone)");
        return CLI_EXIT_USER;
    }
    st_key key;
    const char *e = st_key_load(keyfile, &key);
    if (e) {
        cli_error("%s: %s", keyfile, e);
        return CLI_EXIT_USER;
    }
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    st_server_config cfg = {
        .dir = dir, .listen = listen, .key = &key, .timeout_ms = timeout, .max_conns = max_conns, .stop = &stop_flag};
    char err[ST_ERR_LEN];
    if (st_serve(&cfg, err) != 0) {
        cli_error("store: %s", err);
        return CLI_EXIT_USER;
    }
    return 0;
}
