/*
 * srv_log.c — stderr diagnostics.  One fprintf per line so lines from
 * several threads do not interleave (stdio locks the stream per call).
 */
#include "srv_log.h"

#include <stdarg.h>
#include <stdio.h>

static srv_log_level current = SRV_LOG_INFO;

void srv_log_set_level(srv_log_level level)
{
    current = level;
}

void srv_log(srv_log_level level, const char *fmt, ...)
{
    if (level > current)
        return;
    static const char *const names[] = { "error", "warn", "info", "debug" };
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "wedge serve: %s: %s\n", names[level], line);
}
