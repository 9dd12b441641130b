/*
 * snap_hash.c — a snapshot guest (reactor) whose init builds a large hash
 * table (about 6 MiB of memory): the exports answer from it.  Built with
 * clang --target=wasm32-wasi -mexec-model=reactor by tests/cli/snapshot.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NKEYS 200000u
#define NSLOTS (1u << 19)

typedef struct slot {
    uint32_t key, value;
} slot;

static slot *table;
static uint32_t nkeys;
static int initialised;

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

__attribute__((export_name("wizer.initialize"))) void init(void)
{
    table = calloc(NSLOTS, sizeof *table);
    for (uint32_t i = 1; i <= NKEYS; i++) {
        uint32_t key = mix(i) | 1, h = mix(key) & (NSLOTS - 1);
        while (table[h].key && table[h].key != key)
            h = (h + 1) & (NSLOTS - 1);
        if (!table[h].key)
            nkeys++;
        table[h].key = key;
        table[h].value = i * 2654435761u;
    }
    initialised = 1;
}

/* The value of the i-th inserted key, or 0 if absent. */
__attribute__((export_name("lookup"))) uint32_t lookup(uint32_t i)
{
    if (!table)
        return 0xFFFFFFFFu;
    uint32_t key = mix(i) | 1, h = mix(key) & (NSLOTS - 1);
    while (table[h].key) {
        if (table[h].key == key)
            return table[h].value;
        h = (h + 1) & (NSLOTS - 1);
    }
    return 0;
}

__attribute__((export_name("count"))) uint32_t count(void) { return initialised ? nkeys : 0xFFFFFFFFu; }

__attribute__((export_name("checksum"))) uint64_t checksum(void)
{
    uint64_t s = 0;
    for (uint32_t h = 0; table && h < NSLOTS; h++)
        s = s * 31 + table[h].key + ((uint64_t)table[h].value << 7);
    return s;
}

/* Prints through WASI after a restore: stdout is the restore's own. */
__attribute__((export_name("report"))) void report(void)
{
    printf("keys %u first %u last %u\n", count(), lookup(1), lookup(NKEYS));
}

/* A request that dirties everything, then traps (pool tests). */
__attribute__((export_name("dirty_and_trap"))) void dirty_and_trap(void)
{
    for (uint32_t h = 0; h < NSLOTS; h++)
        table[h].key ^= 0x5A5A5A5A;
    nkeys = 7;
    __builtin_trap();
}
