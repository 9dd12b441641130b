/*
 * cli_util.c — option parsing and error printing shared by the
 * subcommands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/wedge_abi.h"
#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *cli_opt(int argc, char **argv, int *i, const char *name, bool *bad)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=' && name[1] == '-')
        return a + n + 1;
    if (a[n] != 0) {
        /* -O2 / -j4: a one-letter option glued to its value. */
        if (name[1] != '-' && n == 2)
            return a + n;
        return NULL;
    }
    if (*i + 1 >= argc) {
        cli_error("option %s needs a value", name);
        *bad = true;
        return NULL;
    }
    *i += 1;
    return argv[*i];
}

int cli_parse_bounds(const char *s)
{
    if (strcmp(s, "guard") == 0)
        return WEDGE_BOUNDS_GUARD;
    if (strcmp(s, "software") == 0)
        return WEDGE_BOUNDS_SOFTWARE;
    if (strcmp(s, "none") == 0)
        return WEDGE_BOUNDS_NONE;
    return -1;
}
