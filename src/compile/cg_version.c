/*
 * cg_version.c — the compiler's identity: the version string that keys
 * every cache entry and names the support folder.  A leaf: it uses only
 * SHA-256 and the build-time hash of the compiler sources, so the cache,
 * the compile driver and the emitter all depend on it and it on none of
 * them.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cg_internal.h"

#ifndef WEDGE_VERSION
#define WEDGE_VERSION "0"
#endif

static char cg_version[128];
static pthread_once_t cg_version_once = PTHREAD_ONCE_INIT;

static void cg_version_init(void)
{
    cg_sha256 s;
    uint8_t h[32];
    char hex[65];
    cg_sha256_init(&s);
    cg_sha256_update(&s, CG_CODEGEN_REV, strlen(CG_CODEGEN_REV));
    /* The compiler's own sources and the ABI headers and libsledge it
     * embeds, hashed at build time: any codegen change is a new key. */
    cg_sha256_update(&s, wedge_codegen_hash, strlen(wedge_codegen_hash));
    cg_sha256_final(&s, h);
    cg_hex(h, 8, hex);
    snprintf(cg_version, sizeof cg_version, "wedge-%s-%s-%s", WEDGE_VERSION, CG_CODEGEN_REV, hex);
}

const char *cg_compiler_version(void)
{
    pthread_once(&cg_version_once, cg_version_init);
    return cg_version;
}
