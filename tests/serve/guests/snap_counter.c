/*
 * snap_counter.c — a snapshot guest for `wedge serve` (a WASI reactor):
 * init fills an 8 MiB table; the handler (export "handle") counts its
 * requests and checks the whole table, so any state a previous request
 * left behind shows in the answer.  The query string picks a misbehaviour:
 * "dirty" scribbles over the table and the counter then traps, "spin"
 * does the same then loops until the server preempts and kills it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORDS (2u << 20)            /* 8 MiB of uint32_t */

static uint32_t *table;
static uint32_t requests;

__attribute__((export_name("wizer.initialize"))) void init(void)
{
    table = malloc(WORDS * sizeof *table);
    for (uint32_t i = 0; i < WORDS; i++)
        table[i] = i * 2654435761u + 1;
}

static void scribble(void)
{
    for (uint32_t i = 0; i < WORDS; i += 7)
        table[i] = 0xDEADBEEF;
    requests += 100;
}

__attribute__((export_name("handle"))) void handle(void)
{
    const char *q = getenv("QUERY_STRING");
    requests++;
    if (q && !strcmp(q, "dirty")) {
        scribble();
        __builtin_trap();
    }
    if (q && !strcmp(q, "spin")) {
        scribble();
        for (volatile uint32_t n = 0;; n++)
            ;
    }
    uint32_t bad = 0;
    for (uint32_t i = 0; table && i < WORDS; i++)
        bad += table[i] != i * 2654435761u + 1;
    printf("requests=%u table=%s bad=%u\n", requests, table && !bad ? "pristine" : "CHANGED", bad);
}
