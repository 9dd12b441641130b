/*
 * fuzz_compile.c — libFuzzer target for the code generator: every module
 * that decodes and validates must turn into C (cg_emit_c) without a crash,
 * a sanitizer report or an error.  Whether that C also compiles is checked
 * outside the fuzzer (compile_check.sh runs `wedge compile` on a corpus),
 * since running cc per input would make the fuzzer a thousand times slower.
 *
 * Inputs that start with "\0asm" are modules.  Anything else is wrapped as
 * the body (locals + code) of a function in a fixed module that has a bit of
 * everything the generator handles (imports, memory, two tables, globals of
 * every type, passive segments, multi-value types), because random whole
 * modules almost never validate.  The first byte of a body input picks the
 * options: bounds mode and the number of C parts.
 */
#include "compile/compile.h"
#include "wasm/wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the wrapping module ------------------------------------------------ */

typedef struct fc_buf {
    uint8_t *p;
    size_t len, cap;
} fc_buf;

static void fc_put(fc_buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (np == NULL)
            abort();            /* the harness itself: out of memory is fatal */
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void fc_leb(fc_buf *b, uint32_t v)
{
    do {
        uint8_t c = v & 0x7F;
        v >>= 7;
        if (v)
            c |= 0x80;
        fc_put(b, &c, 1);
    } while (v);
}

static void fc_section(fc_buf *b, uint8_t id, const uint8_t *content, size_t n)
{
    fc_put(b, &id, 1);
    fc_leb(b, (uint32_t)n);
    fc_put(b, content, n);
}

#define FC_SEC(b, id, ...)                                  \
    do {                                                    \
        static const uint8_t c_[] = {__VA_ARGS__};          \
        fc_section(b, id, c_, sizeof c_);                   \
    } while (0)

/* Function 1 (the fuzzed body) has type 2: (i32 i64 f32 f64) -> (i32 i64),
 * so its locals and results cover every number type. */
static void fc_wrap(fc_buf *b, const uint8_t *body, size_t n)
{
    static const uint8_t magic[] = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00};
    fc_put(b, magic, sizeof magic);
    FC_SEC(b, 1, 0x05,
           0x60, 0x00, 0x00,                                        /* 0: [] -> [] */
           0x60, 0x01, 0x7F, 0x01, 0x7F,                            /* 1: [i32] -> [i32] */
           0x60, 0x04, 0x7F, 0x7E, 0x7D, 0x7C, 0x02, 0x7F, 0x7E,    /* 2 */
           0x60, 0x00, 0x04, 0x7F, 0x7E, 0x7D, 0x7C,                /* 3: [] -> [i32 i64 f32 f64] */
           0x60, 0x00, 0x02, 0x7F, 0x7E);                           /* 4: [] -> [i32 i64] */
    FC_SEC(b, 2, 0x02,
           0x01, 'm', 0x01, 'f', 0x00, 0x01,                        /* func m.f type 1 */
           0x01, 'm', 0x01, 'g', 0x03, 0x7F, 0x00);                 /* global m.g i32 */
    FC_SEC(b, 3, 0x02, 0x02, 0x03);                                 /* funcs 1 (type 2), 2 (type 3) */
    FC_SEC(b, 4, 0x02, 0x70, 0x01, 0x01, 0x0A, 0x6F, 0x00, 0x00);    /* funcref 1..10, externref 0.. */
    FC_SEC(b, 5, 0x01, 0x01, 0x01, 0x02);                           /* memory 1..2 */
    FC_SEC(b, 6, 0x04,
           0x7E, 0x01, 0x42, 0x00, 0x0B,                            /* mut i64 */
           0x7D, 0x01, 0x43, 0x00, 0x00, 0x00, 0x00, 0x0B,          /* mut f32 */
           0x7C, 0x01, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0B,          /* mut f64 */
           0x70, 0x01, 0xD2, 0x02, 0x0B);                           /* mut funcref = ref.func 2 */
    FC_SEC(b, 7, 0x02, 0x01, 'e', 0x00, 0x01, 0x01, 'h', 0x00, 0x02);
    FC_SEC(b, 9, 0x02,
           0x00, 0x41, 0x00, 0x0B, 0x02, 0x01, 0x02,                /* active: table 0 [1, 2] */
           0x01, 0x00, 0x01, 0x00);                                 /* passive funcref [0] */
    FC_SEC(b, 12, 0x01);                                            /* one data segment */

    static const uint8_t helper[] = {
        0x00, 0x41, 0x01, 0x42, 0x02, 0x43, 0x00, 0x00, 0x80, 0x3F,
        0x44, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x0B,
    };
    fc_buf code = {0};
    fc_leb(&code, 2);
    fc_leb(&code, (uint32_t)n);
    if (n)
        fc_put(&code, body, n);
    fc_leb(&code, sizeof helper);
    fc_put(&code, helper, sizeof helper);
    fc_section(b, 10, code.p, code.len);
    free(code.p);
    FC_SEC(b, 11, 0x01, 0x01, 0x03, 'x', 'y', 'z');                 /* passive data */
}

/* ---- the target ----------------------------------------------------------- */

static char fc_paths[4][64];

static void fc_remove_paths(void)
{
    for (int i = 0; i < 4; i++)
        unlink(fc_paths[i]);
}

static void fc_init_paths(void)
{
    if (fc_paths[0][0])
        return;
    atexit(fc_remove_paths);
    /* /dev/shm keeps the writes off the disk; fall back to /tmp. */
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    for (int i = 0; i < 4; i++)
        snprintf(fc_paths[i], sizeof fc_paths[i], "%s/fuzz_compile.%d.%d.c", dir, (int)getpid(), i);
}

/* FUZZ_COMPILE_DUMP=DIR: write every module that validates (body inputs
 * after wrapping) to DIR/<hash>.wasm, so compile_check.sh can run the
 * whole `wedge compile`, cc included, on what the fuzzer found. */
static void fc_dump(const uint8_t *wasm, size_t len)
{
    const char *dir = getenv("FUZZ_COMPILE_DUMP");
    if (dir == NULL)
        return;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ wasm[i]) * 1099511628211ull;
    char path[4096];
    snprintf(path, sizeof path, "%s/%016llx.wasm", dir, (unsigned long long)h);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return;
    fwrite(wasm, 1, len, f);
    fclose(f);
}

static void fc_emit(const uint8_t *wasm, size_t len, uint8_t knobs)
{
    wasm_err werr;
    werr.msg[0] = 0;
    wasm_module *m = wasm_decode(wasm, len, &werr);
    if (m == NULL)
        return;
    if (!wasm_validate(m, &werr)) {
        wasm_module_free(m);
        return;
    }
    fc_dump(wasm, len);
    cg_options o;
    cg_options_default(&o);
    o.quiet = true;
    o.bounds = (knobs & 1) ? WEDGE_BOUNDS_SOFTWARE : WEDGE_BOUNDS_GUARD;
    int nparts = 1 + ((knobs >> 1) & 3);
    const char *paths[4] = {fc_paths[0], fc_paths[1], fc_paths[2], fc_paths[3]};
    cg_err cerr;
    cerr.msg[0] = 0;
    if (!cg_emit_c(m, &o, nparts, paths, &cerr)) {
        /* A validated module must always become C; the only refusals the
         * generator may make are implementation limits it names. */
        if (strstr(cerr.msg, "too many") == NULL && strstr(cerr.msg, "out of memory") == NULL) {
            fprintf(stderr, "cg_emit_c refused a valid module: %s\n", cerr.msg);
            abort();
        }
    }
    wasm_module_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fc_init_paths();
    if (size >= 4 && memcmp(data, "\0asm", 4) == 0) {
        fc_emit(data, size, (uint8_t)(size & 7));
        return 0;
    }
    if (size < 1 || size > 65536)
        return 0;
    fc_buf b = {0};
    fc_wrap(&b, data + 1, size - 1);
    fc_emit(b.p, b.len, data[0]);
    free(b.p);
    return 0;
}
