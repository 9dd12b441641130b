/*
 * cwa_internal.h — what the files of src/cwa/ share: the per-instance
 * context (cwa_ctx.c) the calls (cwa_module.c) work on.
 *
 * Error idiom of this layer: calls return a cwa_error (negative) or a
 * count / descriptor (>= 0), as the guest sees them.
 */
#ifndef WEDGE_CWA_INTERNAL_H
#define WEDGE_CWA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cwa.h"

typedef struct cwa_ctx {
    uint32_t argc, envc;
    char **argv, **envp;        /* [argc], [envc]: pointers into strs */
    char *strs;                 /* every string, back to back with its NUL */
    dagger_ctx *streams;
    int32_t stdio_fd[3];        /* io_get_*: the descriptor given out, -1 before */
    uint64_t deadline_ns;
    void (*wait_yield)(void);   /* the streams config's: runtime_msleep yields between slices */
} cwa_ctx;

void *cwa_ctx_new(const void *config, wedge_instance *inst, char *err, size_t errlen);
void cwa_ctx_free(void *ctx);

/* Dagger's error as CommonWA's. */
int32_t cwa_error_from_dagger(int32_t rc);

#endif
