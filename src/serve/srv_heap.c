/*
 * srv_heap.c — the scheduler's queues: a binary min-heap of jobs ordered by
 * (key, seq).  The caller locks (srv_sched.mu); nothing here knows about
 * workers or the scheduler.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srv_sched_internal.h"

static bool job_less(const srv_job *a, const srv_job *b)
{
    return a->key != b->key ? a->key < b->key : a->seq < b->seq;
}

static void heap_swap(srv_heap *h, size_t i, size_t k)
{
    srv_job *t = h->v[i];
    h->v[i] = h->v[k];
    h->v[k] = t;
}

static void heap_up(srv_heap *h, size_t i)
{
    while (i > 0 && job_less(h->v[i], h->v[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(srv_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && job_less(h->v[l], h->v[m]))
            m = l;
        if (r < h->n && job_less(h->v[r], h->v[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

bool srv_heap_push(srv_heap *h, srv_job *j)
{
    if (h->n == h->cap) {
        if (h->cap > SIZE_MAX / 2 / sizeof *h->v)
            return false;
        size_t cap = h->cap ? h->cap * 2 : 64;
        srv_job **v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return false;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = j;
    heap_up(h, h->n - 1);
    return true;
}

srv_job *srv_heap_top(const srv_heap *h) { return h->n ? h->v[0] : NULL; }

srv_job *srv_heap_remove(srv_heap *h, size_t i)
{
    if (i >= h->n)
        return NULL;
    srv_job *j = h->v[i];
    h->v[i] = h->v[--h->n];
    if (i < h->n) {
        heap_up(h, i);
        heap_down(h, i);
    }
    return j;
}

void srv_heap_free(srv_heap *h)
{
    free(h->v);
    memset(h, 0, sizeof *h);
}

