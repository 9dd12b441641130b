/*
 * srv_access.h — the JSON-lines request log (--access-log): one object per
 * answered request, written by the listener thread only.
 */
#ifndef WEDGE_SRV_ACCESS_H
#define WEDGE_SRV_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct srv_access_entry {
    uint64_t id;                /* request id, as in the server log */
    uint16_t port;
    const char *route;          /* route name, NULL when none matched or no request parsed */
    const char *method;         /* NULL when no request was parsed (400, 408, ...) */
    const char *target;
    size_t target_len;
    int status;
    size_t bytes;               /* response bytes, headers included */
    uint64_t latency_us;        /* request complete → response queued */
} srv_access_entry;

/* Appends one line to f (buffered; the caller flushes). */
void srv_access_write(FILE *f, const srv_access_entry *e);

#endif
