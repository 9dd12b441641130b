/*
 * wasm_arena.c — the bump allocator that owns every array of a decoded
 * module, so that wasm_module_free() is one walk over a chunk list and the
 * decoder never has to unwind partial allocations on its error paths.
 */
#include "wasm_internal.h"

#include <stdlib.h>
#include <string.h>

enum { ARENA_CHUNK = 64 * 1024 };

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_chunk;

struct wasm_arena {
    arena_chunk *head;
};

wasm_arena *wasm_arena_new(void)
{
    return calloc(1, sizeof(wasm_arena));
}

void *wasm_arena_alloc(wasm_arena *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = (n * size + 7) & ~(size_t)7;
    if (bytes == 0)
        bytes = 8;      /* distinct non-NULL pointer for empty arrays */
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < bytes) {
        size_t cap = bytes > ARENA_CHUNK / 4 ? bytes : ARENA_CHUNK;
        if (cap > SIZE_MAX - sizeof(arena_chunk))
            return NULL;
        arena_chunk *nc = malloc(sizeof(arena_chunk) + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (cap == bytes && c) {
            /* A large block gets its own chunk behind the current one, so
             * the current chunk's free tail stays usable. */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += bytes;
    memset(p, 0, bytes);
    return p;
}

void wasm_arena_free(wasm_arena *a)
{
    if (!a)
        return;
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}
