/*
 * srv_access.c — JSON-lines request log.  Targets come from clients, so
 * they are escaped byte by byte (non-ASCII as \u00XX, which keeps every
 * line valid JSON whatever the client sent).
 */
#include "srv_access.h"

#include <sys/time.h>
#include <time.h>

static void put_json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void srv_access_write(FILE *f, const srv_access_entry *e)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    /* One line at a time: every event loop writes to this FILE. */
    flockfile(f);
    fprintf(f, "{\"id\":%llu,\"time\":\"%s.%03ldZ\",\"port\":%u,\"route\":", (unsigned long long)e->id, when,
            (long)(tv.tv_usec / 1000), e->port);
    if (e->route)
        put_json_string(f, e->route, __builtin_strlen(e->route));
    else
        fputs("null", f);
    fputs(",\"method\":", f);
    if (e->method) {
        put_json_string(f, e->method, __builtin_strlen(e->method));
        fputs(",\"target\":", f);
        put_json_string(f, e->target, e->target_len);
    } else {
        fputs("null,\"target\":null", f);
    }
    fprintf(f, ",\"status\":%d,\"bytes\":%zu,\"latency_us\":%llu}\n", e->status, e->bytes,
            (unsigned long long)e->latency_us);
    funlockfile(f);
}
