/*
 * test_store_client.c — the running node's client helpers that need no
 * store: st_connect_retry's back-off against a port nobody listens on
 * (fetches against real stores: tests/store/store_e2e.py,
 * tests/serve/lazy_e2e.py).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "store/st_transport.h"
#include "util/util.h"

/* A loopback port that was free a moment ago (bound, then closed). */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

Test(store_client, connect_retry_backs_off_then_reports_the_last_failure)
{
    char url[64], err[ST_ERR_LEN];
    snprintf(url, sizeof url, "wedge://127.0.0.1:%d/x", dead_port());
    st_url u;
    cr_assert_eq(st_url_parse(url, 1, &u, err), 0, "%s", err);
    st_key key = {.len = 16};
    memcpy(key.bytes, "0123456789abcdef", 16);
    uint64_t t0 = ut_mono_ns();
    st_conn *c = st_connect_retry(&u, &key, 2000, 3, err);
    uint64_t dt = ut_mono_ns() - t0;
    cr_assert_null(c);
    cr_assert(strstr(err, "connection refused"), "%s", err);
    /* Three refused attempts: two back-offs of 100 and 200 ms between them. */
    cr_assert_geq(dt, 290000000ull, "took %llu ns", (unsigned long long)dt);
    /* One attempt: no back-off at all. */
    t0 = ut_mono_ns();
    cr_assert_null(st_connect_retry(&u, &key, 2000, 1, err));
    cr_assert_lt(ut_mono_ns() - t0, 290000000ull);
}
