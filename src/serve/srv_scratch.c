/*
 * srv_scratch.c — per-thread reusable blocks for a request's strings (see
 * srv_scratch.h).
 *
 * Why: every request needs a few KiB for its argv, environment and WAGI
 * header copy, for as long as its outcome lives (the response is written
 * from it).  A malloc and free per request for that was one of the
 * per-request heap calls; a worker has only a few requests alive at once,
 * so up to SRV_SCRATCH_KEEP blocks stay cached per thread and are handed
 * out again.  A block too small for a request is grown (realloc) once and
 * stays that size in the cache.
 */
#include "srv_scratch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define SRV_SCRATCH_KEEP 8
#define SRV_SCRATCH_MIN ((size_t)16 << 10)

/* Each block starts with this header; callers see what follows it. */
typedef struct blk {
    struct blk *next;
    size_t cap;                  /* bytes after the header */
    max_align_t align_[];
} blk;

typedef struct cache {
    blk *head;
    unsigned n;
    bool registered;             /* with exit_key, for cache_free */
} cache;

static _Thread_local cache tls_cache;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* A thread that exits frees its cache (the main thread's stays reachable
 * until the process ends). */
static void cache_free(void *arg)
{
    cache *c = arg;
    while (c->head) {
        blk *b = c->head;
        c->head = b->next;
        free(b);
    }
    c->n = 0;
}

static void exit_key_make(void) { (void)pthread_key_create(&exit_key, cache_free); }

char *srv_scratch_take(size_t want)
{
    if (want > SRV_SCRATCH_MAX)
        return NULL;
    cache *c = &tls_cache;
    blk **pp = &c->head;
    while (*pp && (*pp)->cap < want)
        pp = &(*pp)->next;
    blk *b = *pp;
    if (b) {
        *pp = b->next;
        c->n--;
        return (char *)(b + 1);
    }
    size_t cap = want < SRV_SCRATCH_MIN ? SRV_SCRATCH_MIN : want;
    /* None big enough: grow a cached one (it comes back this size). */
    b = c->head;
    if (b) {
        c->head = b->next;
        c->n--;
    }
    blk *nb = realloc(b, sizeof *nb + cap);
    if (!nb) {
        free(b);
        return NULL;
    }
    nb->cap = cap;
    return (char *)(nb + 1);
}

void srv_scratch_give(char *block)
{
    if (!block)
        return;
    blk *b = (blk *)block - 1;
    cache *c = &tls_cache;
    if (!c->registered) {
        pthread_once(&exit_once, exit_key_make);
        c->registered = pthread_setspecific(exit_key, c) == 0;
    }
    if (c->n >= SRV_SCRATCH_KEEP || !c->registered) {
        free(b);
        return;
    }
    b->next = c->head;
    c->head = b;
    c->n++;
}
