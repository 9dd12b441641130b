/*
 * test_serve_scratch.c — the per-thread blocks a request's strings live
 * in (srv_scratch.h): a block given back is handed out again (no heap call
 * per request), a bigger request grows a cached block, an oversized one is
 * refused, and another thread's cache is its own and freed at its exit.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "serve/srv_scratch.h"

Test(srv_scratch, a_given_block_is_taken_again)
{
    char *a = srv_scratch_take(100);
    cr_assert_not_null(a);
    memset(a, 'x', 100);
    srv_scratch_give(a);
    char *b = srv_scratch_take(200);
    cr_assert_eq(b, a, "the cached block was not reused");
    /* Two alive at once are two blocks. */
    char *c = srv_scratch_take(200);
    cr_assert_not_null(c);
    cr_assert_neq(c, b);
    srv_scratch_give(b);
    srv_scratch_give(c);
}

Test(srv_scratch, a_bigger_request_grows_a_block_and_keeps_it)
{
    char *a = srv_scratch_take(100 << 10);
    cr_assert_not_null(a);
    memset(a, 1, 100 << 10);            /* all of it is usable */
    srv_scratch_give(a);
    char *b = srv_scratch_take(100 << 10);
    cr_assert_not_null(b);
    memset(b, 2, 100 << 10);
    srv_scratch_give(b);
    char *c = srv_scratch_take(SRV_SCRATCH_MAX);
    cr_assert_not_null(c);
    c[SRV_SCRATCH_MAX - 1] = 3;
    srv_scratch_give(c);
}

Test(srv_scratch, more_than_the_maximum_is_refused)
{
    cr_assert_null(srv_scratch_take(SRV_SCRATCH_MAX + 1));
    cr_assert_null(srv_scratch_take((size_t)-1));
}

static void *other_thread(void *arg)
{
    char *mine = srv_scratch_take(64);
    srv_scratch_give(arg);               /* a block from the main thread joins this cache */
    srv_scratch_give(mine);
    return NULL;                          /* both freed at exit (ASan's leak check sees it) */
}

Test(srv_scratch, blocks_may_be_given_back_on_another_thread)
{
    char *a = srv_scratch_take(64);
    cr_assert_not_null(a);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, other_thread, a), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
}
