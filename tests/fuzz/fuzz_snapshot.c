/*
 * fuzz_snapshot.c — libFuzzer target for the snapshot loader
 * (src/runtime/rt_snapshot_fmt.c, rt_snapshot_file.c): any bytes must be
 * refused with a message or loaded into a snapshot that restores cleanly,
 * never crash or leak.
 *
 * Input: one control byte, then the file.  With the control byte's low bit
 * set, the harness writes the expected module hash and ABI version into
 * the header and reseals the file (length and checksum), so mutations
 * reach the section decoder and the module checks instead of all dying at
 * the checksum.  The module is the runtime unit tests' hand-written one
 * (tests/unit/test_runtime_module.h); seeds in corpus/snapshot/ are its
 * snapshots.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_runtime_module.h"
#include "runtime/rt_internal.h"
#include "runtime/rt_snapshot_fmt.h"

static const uint8_t HASH[32] = {1, 2, 3, 4, 5, 6, 7, 8};
static wedge_module_desc D;
static rt_module *M;

static void host_act(wedge_instance *inst, uint32_t what) { (void)inst, (void)what; }

/* "env" with a context and a restore hook, so that host state the loader
 * accepted reaches a hook (which takes up to 64 bytes, refuses more). */
static void *env_ctx_new(const void *config, wedge_instance *inst, char *err, size_t errlen)
{
    (void)config, (void)inst, (void)err, (void)errlen;
    return calloc(1, 64);
}
static bool env_restore(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    if (len > 64) {
        snprintf(err, errlen, "%zu bytes of state, at most 64", len);
        return false;
    }
    memcpy(ctx, buf, len);
    return true;
}
static const rt_host_fn env_fns[] = {{"act", "i:", (void (*)(void))host_act}};
static const rt_host_module env = {.name = "env", .funcs = env_fns, .nfuncs = 1, .ctx_new = env_ctx_new,
                                   .ctx_free = free, .restore = env_restore};
static rt_linker *LK;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_result res;
    if (!M) {
        D = tm_desc();
        if (!rt_init(&res) || !(M = rt_module_wrap(&D, "fuzz.so", &res)) || !(LK = rt_linker_new(&res)) ||
            rt_linker_add_host(LK, &env, NULL, &res) < 0)
            abort();
    }
    if (size < 1)
        return 0;
    size_t len = size - 1;
    uint8_t *b = malloc(len ? len : 1);
    if (!b)
        return 0;
    memcpy(b, data + 1, len);
    if ((data[0] & 1) && len >= RT_SNAP_HEADER) {
        memcpy(b + 16, HASH, sizeof HASH);
        for (int i = 0; i < 4; i++)
            b[12 + i] = (uint8_t)(WEDGE_ABI_VERSION >> (8 * i));
        rt_snap_seal(b, len);
    }
    rt_snapshot *s = rt_snapshot_from_bytes(b, len, "fuzz.snap", M, HASH, &res);
    if (s) {
        wedge_instance *inst = NULL;
        if (rt_snapshot_instantiate(s, NULL, LK, NULL, NULL, &inst, &res) == RT_OK) {
            /* Touch what was restored. */
            volatile uint8_t sink = 0;
            for (uint64_t off = 0; off < inst->mem->size; off += 4096)
                sink ^= inst->mem->base[off];
            for (uint32_t j = 0; j < inst->tables[0]->size; j++)
                sink ^= inst->tables[0]->elems[j] != NULL;
            (void)sink;
        }
        rt_instance_free(inst);
        rt_snapshot_free(s);
    } else if (!res.msg[0] || strchr(res.msg, '\n')) {
        abort();   /* every refusal is one non-empty line */
    }
    free(b);
    return 0;
}
