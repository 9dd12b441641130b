/*
 * test_runtime_snapshot.c — snapshots (src/runtime/rt_snapshot*.c): a
 * capture written, loaded and restored gives back the memory, globals,
 * tables (as this instance's functions) and dropped segments; restores are
 * copy-on-write and independent; a pooled memory released after a dirtying
 * request is the snapshot again; and every damaged or foreign file is
 * refused with one line naming the file and the reason.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/rt_internal.h"
#include "runtime/rt_mempool.h"
#include "runtime/rt_snapshot_fmt.h"
#include "test_runtime_module.h"

static wedge_module_desc D;
static uint8_t HASH[32] = {1, 2, 3, 4, 5, 6, 7, 8};
static char path[64];

static void host_act(wedge_instance *inst, uint32_t what) { (void)inst, (void)what; }

/* "env" as a host module with a context: a counter its snapshot hook
 * saves as 4 bytes and its restore hook takes back (refusing any other
 * length).  ctx_new counts the contexts made. */
typedef struct env_ctx {
    uint32_t value;
    bool restored;
} env_ctx;
static int ctx_made;
static void *env_ctx_new(const void *config, wedge_instance *inst, char *err, size_t errlen)
{
    (void)config, (void)inst, (void)err, (void)errlen;
    ctx_made++;
    return calloc(1, sizeof(env_ctx));
}
static void env_ctx_free(void *ctx) { free(ctx); }
static size_t env_snapshot(const void *ctx, uint8_t *buf, size_t cap)
{
    const env_ctx *c = ctx;
    if (!c->value)
        return 0;
    if (cap >= 4)
        memcpy(buf, &c->value, 4);
    return 4;
}
static bool env_restore(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    env_ctx *c = ctx;
    if (len != 4) {
        snprintf(err, errlen, "%zu bytes, not 4", len);
        return false;
    }
    memcpy(&c->value, buf, 4);
    c->restored = true;
    return true;
}
static const rt_host_fn env_fns[] = {{"act", "i:", (void (*)(void))host_act}};
static const rt_host_module env_plain = {.name = "env", .funcs = env_fns, .nfuncs = 1};
static const rt_host_module env_fresh = {.name = "env", .funcs = env_fns, .nfuncs = 1, .ctx_new = env_ctx_new,
                                         .ctx_free = env_ctx_free};
static const rt_host_module env_state = {.name = "env", .funcs = env_fns, .nfuncs = 1, .ctx_new = env_ctx_new,
                                         .ctx_free = env_ctx_free, .snapshot = env_snapshot,
                                         .restore = env_restore};

/* The linker of every instance below (env_plain unless a test swaps it). */
static rt_linker *LK;

static void use_host(const rt_host_module *hm)
{
    rt_linker_free(LK);
    LK = tm_linker(hm, NULL, 0);
}

static void unload(rt_module *m)
{
    rt_linker_free(LK);
    LK = NULL;
    rt_module_unload(m);
}

static rt_module *load_module(void)
{
    D = tm_desc();
    rt_result res;
    rt_module *m = rt_module_wrap(&D, "snap.so", &res);
    cr_assert_not_null(m, "wrap: %s", res.msg);
    snprintf(path, sizeof path, "/tmp/wedge-snap-test-%d.snap", (int)getpid());
    use_host(&env_plain);
    return m;
}

static wedge_instance *inst_new(rt_module *m)
{
    wedge_instance *inst = NULL;
    rt_result res;
    cr_assert_eq(rt_instantiate(m, NULL, LK, NULL, &inst, &res), RT_OK, "%s", res.msg);
    return inst;
}

static wedge_instance *restore(const rt_snapshot *s, rt_mempool *pool)
{
    wedge_instance *inst = NULL;
    rt_result res;
    rt_status st = rt_snapshot_instantiate(s, NULL, LK, NULL, pool, &inst, &res);
    cr_assert_eq(st, RT_OK, "restore: %s", res.msg);
    return inst;
}

/* "init": grows memory to 3 pages and writes two separate runs, sets the
 * mutable global, grows the table and rearranges it, drops the data
 * segment's flag by hand (memory.init's data.drop). */
static void fake_init(wedge_instance *inst)
{
    cr_assert_eq(wedge_rt_memory_grow(inst, inst->mem, 2), 1);
    for (int i = 0; i < 5000; i++)
        inst->mem->base[100 + i] = (uint8_t)(i * 31 + 7) | 1;
    memset(inst->mem->base + 2 * 65536 + 12345, 0xAB, 7000);
    inst->globals[0].i32 = 0xC0FFEE;
    wedge_table *t = inst->tables[0];
    cr_assert_eq(wedge_rt_table_grow(inst, t, inst->funcs[3], 3), 2);
    t->elems[0] = NULL;
    t->elems[1] = inst->funcs[0];          /* the imported host function */
    inst->elem_dropped[0] = 1;
}

static rt_snapshot *capture_and_save(rt_module *m, uint8_t **bytes, size_t *len)
{
    wedge_instance *inst = inst_new(m);
    fake_init(inst);
    rt_result res;
    rt_snapshot *s = rt_snapshot_capture(inst, HASH, &res);
    cr_assert_not_null(s, "capture: %s", res.msg);
    rt_instance_free(inst);
    cr_assert(rt_snapshot_save(s, path, &res), "save: %s", res.msg);
    if (bytes) {
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f);
        fseek(f, 0, SEEK_END);
        *len = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        *bytes = malloc(*len);
        cr_assert_eq(fread(*bytes, 1, *len, f), *len);
        fclose(f);
    }
    return s;
}

/* The state fake_init left, seen in `inst`. */
static void check_state(wedge_instance *inst)
{
    cr_assert_eq(inst->mem->pages, 3);
    uint8_t *want = calloc(1, 3 * 65536);
    memcpy(want + 8, (uint8_t[]){0x2a, 0, 0, 0}, 4);   /* the data segment, applied before init */
    for (int i = 0; i < 5000; i++)
        want[100 + i] = (uint8_t)(i * 31 + 7) | 1;
    memset(want + 2 * 65536 + 12345, 0xAB, 7000);
    cr_assert(memcmp(inst->mem->base, want, 3 * 65536) == 0, "restored memory differs");
    free(want);
    cr_assert_eq(inst->globals[0].i32, 0xC0FFEE);
    cr_assert_eq(inst->globals[1].i64, 0x123456789ull);
    wedge_table *t = inst->tables[0];
    cr_assert_eq(t->size, 5);
    cr_assert_null(t->elems[0]);
    cr_assert_eq(t->elems[1], inst->funcs[0], "host function bound to the restored instance");
    for (int j = 2; j < 5; j++)
        cr_assert_eq(t->elems[j], inst->funcs[3], "table element %d is not this instance's func 3", j);
    cr_assert_eq(((wedge_funcref *)t->elems[2])->inst, inst);
    cr_assert(inst->elem_dropped[0] && inst->data_dropped[0]);
}

Test(rt_snapshot, capture_save_load_restore_round_trip)
{
    rt_module *m = load_module();
    rt_snapshot *cap = capture_and_save(m, NULL, NULL);
    rt_result res;
    rt_snapshot *s = rt_snapshot_load(path, m, HASH, &res);
    cr_assert_not_null(s, "load: %s", res.msg);
    cr_assert_eq(rt_snapshot_pages(s), 3);
    wedge_instance *a = restore(s, NULL), *b = restore(cap, NULL);
    check_state(a);
    check_state(b);
    /* A call through the restored table runs in the restored instance. */
    rt_extern add;
    cr_assert(rt_instance_export(a, "add", 3, &add));
    wedge_value args[2] = {{.i32 = 2}, {.i32 = 40}}, r[1];
    cr_assert_eq(rt_call(&add, args, r, &res), RT_OK);
    cr_assert_eq(r[0].i32, 42);
    rt_instance_free(a);
    rt_instance_free(b);
    rt_snapshot_free(s);
    rt_snapshot_free(cap);
    unlink(path);
    unload(m);
}

Test(rt_snapshot, restores_are_copy_on_write_and_independent)
{
    rt_module *m = load_module();
    rt_snapshot *s = capture_and_save(m, NULL, NULL);
    wedge_instance *a = restore(s, NULL), *b = restore(s, NULL);
    cr_assert_gt(rt_mem_priv(a->mem)->image_len, 0, "memory is mapped from the image");
    memset(a->mem->base, 0x55, 3 * 65536);
    a->globals[0].i32 = 1;
    a->tables[0]->elems[3] = NULL;
    check_state(b);
    rt_instance_free(a);
    wedge_instance *c = restore(s, NULL);
    check_state(c);
    rt_instance_free(b);
    rt_instance_free(c);
    rt_snapshot_free(s);
    unlink(path);
    unload(m);
}

Test(rt_snapshot, pooled_memory_returns_to_the_snapshot)
{
    rt_module *m = load_module();
    rt_snapshot *s = capture_and_save(m, NULL, NULL);
    rt_mempool *pool = rt_mempool_new(2);
    wedge_instance *a = restore(s, pool);
    uint8_t *base = a->mem->base;
    /* Dirty inside the image, past it, and grow. */
    memset(a->mem->base + 50, 0x11, 20000);
    memset(a->mem->base + 2 * 65536 + 40000, 0x22, 9000);
    cr_assert_eq(wedge_rt_memory_grow(a, a->mem, 1), 3);
    a->mem->base[3 * 65536 + 1] = 9;
    rt_instance_free(a);
    cr_assert_eq(rt_mempool_count(pool), 1);
    wedge_instance *b = restore(s, pool);
    cr_assert_eq(b->mem->base, base, "the pooled memory was reused");
    check_state(b);
    rt_instance_free(b);
    /* The same pool then serves the module without the snapshot: the
     * module's own initial memory, not the snapshot's. */
    wedge_instance *c = NULL;
    rt_result res;
    cr_assert_eq(rt_instantiate_pooled(m, NULL, LK, NULL, pool, &c, &res), RT_OK, "%s", res.msg);
    cr_assert_eq(c->mem->pages, 1);
    for (uint32_t i = 0; i < 65536; i++)
        cr_assert_eq(c->mem->base[i], i >= 8 && i < 12 ? (i == 8 ? 0x2a : 0) : 0, "byte %u", i);
    rt_instance_free(c);
    rt_mempool_free(pool);
    rt_snapshot_free(s);
    unlink(path);
    unload(m);
}

/* Writes `bytes` to the path, loads it, expects a refusal mentioning `why`. */
static void expect_refused(rt_module *m, const uint8_t *bytes, size_t len, const uint8_t *hash, const char *why)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    fclose(f);
    rt_result res;
    memset(&res, 0, sizeof res);
    rt_snapshot *s = rt_snapshot_load(path, m, hash ? hash : HASH, &res);
    cr_assert_null(s, "a damaged snapshot (%s) was accepted", why);
    cr_assert(strstr(res.msg, path) == res.msg, "message does not start with the file: %s", res.msg);
    cr_assert(strchr(res.msg, '\n') == NULL, "message is not one line: %s", res.msg);
    if (why)
        cr_assert(strstr(res.msg, why), "message '%s' lacks '%s'", res.msg, why);
}

Test(rt_snapshot, refuses_truncated_files)
{
    rt_module *m = load_module();
    uint8_t *b;
    size_t len;
    rt_snapshot_free(capture_and_save(m, &b, &len));
    for (size_t cut = 0; cut < len; cut += cut < 80 ? 1 : 97)
        expect_refused(m, b, cut, NULL, cut < 8 ? "not a wedge snapshot" : cut < 64 ? "truncated" : "truncated");
    free(b);
    unlink(path);
    unload(m);
}

Test(rt_snapshot, refuses_every_bit_flip)
{
    rt_module *m = load_module();
    uint8_t *b;
    size_t len;
    rt_snapshot_free(capture_and_save(m, &b, &len));
    for (size_t i = 0; i < len; i += i < 512 ? 1 : 37) {
        b[i] ^= (uint8_t)(1u << (i % 8));
        expect_refused(m, b, len, NULL, NULL);
        b[i] ^= (uint8_t)(1u << (i % 8));
    }
    free(b);
    unlink(path);
    unload(m);
}

Test(rt_snapshot, refuses_another_module_abi_or_format)
{
    rt_module *m = load_module();
    uint8_t *b;
    size_t len;
    rt_snapshot_free(capture_and_save(m, &b, &len));
    uint8_t other[32] = {9};
    expect_refused(m, b, len, other, "made from another module");
    b[12] ^= 0x40;   /* ABI version */
    rt_snap_seal(b, len);
    expect_refused(m, b, len, NULL, "ABI version");
    b[12] ^= 0x40;
    b[8] = 2;        /* format version */
    rt_snap_seal(b, len);
    expect_refused(m, b, len, NULL, "format version 2");
    b[8] = 1;
    rt_snap_seal(b, len);
    memcpy(b, "WEDGSNAQ", 8);
    expect_refused(m, b, len, NULL, "not a wedge snapshot");
    free(b);
    unlink(path);
    unload(m);
}

/* Patches a u64 at `off` and reseals. */
static void patch64(uint8_t *b, size_t len, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
    rt_snap_seal(b, len);
}

Test(rt_snapshot, refuses_bad_extents_and_indices)
{
    rt_module *m = load_module();
    uint8_t *b;
    size_t len;
    rt_snapshot_free(capture_and_save(m, &b, &len));
    rt_snap_view v;
    char why[200];
    cr_assert(rt_snap_decode(b, len, WEDGE_ABI_VERSION, &v, why, sizeof why), "%s", why);
    cr_assert_eq(v.nextents, 2, "two separate non-zero runs");
    size_t e0 = (size_t)(v.extents - b);
    uint64_t off0 = rt_snap_u64(b + e0), len0 = rt_snap_u64(b + e0 + 8);
    size_t e1 = e0 + 16 + ((len0 + 7) & ~7ull);
    uint64_t off1 = rt_snap_u64(b + e1), len1 = rt_snap_u64(b + e1 + 8);
    uint8_t *orig = malloc(len);
    memcpy(orig, b, len);

    patch64(b, len, e1, off0 + 1);                      /* overlaps extent 0 */
    expect_refused(m, b, len, NULL, "overlaps or precedes");
    memcpy(b, orig, len);
    patch64(b, len, e1, 0);                             /* before extent 0's end: out of order */
    expect_refused(m, b, len, NULL, "overlaps or precedes");
    memcpy(b, orig, len);
    patch64(b, len, e1, 3 * 65536 - len1 + 1);          /* one byte past the memory */
    expect_refused(m, b, len, NULL, "outside the memory");
    memcpy(b, orig, len);
    patch64(b, len, e1, UINT64_MAX - 2);                /* offset + length wraps */
    expect_refused(m, b, len, NULL, "outside the memory");
    memcpy(b, orig, len);
    patch64(b, len, e1 + 8, UINT64_MAX);                /* length past the file */
    expect_refused(m, b, len, NULL, "outside the memory");
    memcpy(b, orig, len);
    patch64(b, len, e0 + 8, 0);                         /* empty extent */
    expect_refused(m, b, len, NULL, "empty");
    memcpy(b, orig, len);
    (void)off1;

    /* Memory size: 5 pages is past the module's max of 4. */
    size_t mh = e0 - 16;
    b[mh + 4] = 5;
    rt_snap_seal(b, len);
    expect_refused(m, b, len, NULL, "outside the module's limits");
    memcpy(b, orig, len);
    b[mh + 8] = 200;                                    /* extent count past the file */
    rt_snap_seal(b, len);
    expect_refused(m, b, len, NULL, "extent");
    memcpy(b, orig, len);

    /* A table element naming function 7 (the module has 7: 0..6). */
    size_t t0 = (size_t)(v.tables - b);
    patch64(b, len, t0 + 8, 7);
    expect_refused(m, b, len, NULL, "function index 7 out of range");
    memcpy(b, orig, len);
    /* A global of the wrong type. */
    size_t g0 = (size_t)(v.globals - b);
    b[g0] = 0x7E;
    rt_snap_seal(b, len);
    expect_refused(m, b, len, NULL, "global 0 has type");
    memcpy(b, orig, len);
    /* A dropped flag that is not 0 or 1. */
    size_t d0 = (size_t)(v.data_dropped - b);
    b[d0] = 2;
    rt_snap_seal(b, len);
    expect_refused(m, b, len, NULL, "dropped flag");
    memcpy(b, orig, len);
    /* Trailing garbage. */
    uint8_t *longer = calloc(1, len + 8);
    memcpy(longer, b, len);
    rt_snap_seal(longer, len + 8);
    expect_refused(m, longer, len + 8, NULL, "unexpected bytes");
    free(longer);
    free(orig);
    free(b);
    unlink(path);
    unload(m);
}

Test(rt_snapshot, host_contexts_are_fresh_and_hooks_keep_state)
{
    rt_module *m = load_module();
    rt_result res;
    /* Without a snapshot hook: nothing of the context is kept, and each
     * restore gets a context of its own from ctx_new. */
    use_host(&env_fresh);
    wedge_instance *a = inst_new(m);
    ((env_ctx *)rt_host_ctx(a, &env_fresh))->value = 7;
    rt_snapshot *s = rt_snapshot_capture(a, HASH, &res);
    cr_assert_not_null(s, "capture: %s", res.msg);
    cr_assert_eq(s->nhosts, 0);
    rt_instance_free(a);
    ctx_made = 0;
    wedge_instance *b = restore(s, NULL);
    cr_assert_eq(ctx_made, 1, "the restore made no fresh context");
    env_ctx *bc = rt_host_ctx(b, &env_fresh);
    cr_assert(bc && bc->value == 0 && !bc->restored);
    rt_instance_free(b);
    rt_snapshot_free(s);

    /* With hooks: the saved bytes go through the file to the restore hook
     * of the restored instance's fresh context. */
    use_host(&env_state);
    a = inst_new(m);
    ((env_ctx *)rt_host_ctx(a, &env_state))->value = 0xBEEF;
    s = rt_snapshot_capture(a, HASH, &res);
    cr_assert_not_null(s, "capture: %s", res.msg);
    rt_instance_free(a);
    cr_assert(rt_snapshot_save(s, path, &res), "save: %s", res.msg);
    rt_snapshot *l = rt_snapshot_load(path, m, HASH, &res);
    cr_assert_not_null(l, "load: %s", res.msg);
    for (int k = 0; k < 2; k++) {
        b = restore(k ? l : s, NULL);
        bc = rt_host_ctx(b, &env_state);
        cr_assert(bc && bc->restored && bc->value == 0xBEEF, "host state not restored (%s)", k ? "loaded" : "captured");
        rt_instance_free(b);
    }
    /* A linker whose "env" cannot restore, or has no context: refused. */
    for (int k = 0; k < 2; k++) {
        use_host(k ? &env_plain : &env_fresh);
        wedge_instance *c = NULL;
        memset(&res, 0, sizeof res);
        rt_status st = rt_snapshot_instantiate(l, NULL, LK, NULL, NULL, &c, &res);
        rt_instance_free(c);
        cr_assert_eq(st, RT_ERR_HOST);
        cr_assert(strstr(res.msg, "host module 'env'") && strstr(res.msg, k ? "not linked" : "cannot restore"), "%s",
                  res.msg);
    }
    /* A restore hook that refuses the bytes: its reason is passed on. */
    use_host(&env_state);
    l->hosts[0].len = 3;
    wedge_instance *c = NULL;
    cr_assert_eq(rt_snapshot_instantiate(l, NULL, LK, NULL, NULL, &c, &res), RT_ERR_HOST);
    rt_instance_free(c);
    cr_assert(strstr(res.msg, "refused") && strstr(res.msg, "3 bytes, not 4"), "%s", res.msg);
    rt_snapshot_free(l);
    rt_snapshot_free(s);
    unlink(path);
    unload(m);
}

Test(rt_snapshot, host_state_of_a_module_not_linked_is_refused)
{
    rt_module *m = load_module();
    uint8_t *b;
    size_t len;
    rt_snapshot_free(capture_and_save(m, &b, &len));
    rt_snap_view v;
    char why[200];
    cr_assert(rt_snap_decode(b, len, WEDGE_ABI_VERSION, &v, why, sizeof why), "%s", why);
    cr_assert_eq(v.nhosts, 0);
    /* One host entry "wasi" with 3 bytes of state, spliced in. */
    size_t at = (size_t)(v.hosts - b);
    static const uint8_t entry[] = {4, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
                                    'w', 'a', 's', 'i', 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0};
    uint8_t *c = malloc(len + sizeof entry);
    memcpy(c, b, at);
    memcpy(c + at, entry, sizeof entry);
    memcpy(c + at + sizeof entry, b + at, len - at);
    c[at - 8] = 1;
    rt_snap_seal(c, len + sizeof entry);
    cr_assert(rt_snap_decode(c, len + sizeof entry, WEDGE_ABI_VERSION, &v, why, sizeof why), "%s", why);
    cr_assert_eq(v.nhosts, 1);
    /* Loaded (the loader does not know the linker), refused on restore. */
    rt_result res;
    rt_snapshot *s = rt_snapshot_from_bytes(c, len + sizeof entry, "spliced", m, HASH, &res);
    cr_assert_not_null(s, "%s", res.msg);
    wedge_instance *inst = NULL;
    cr_assert_eq(rt_snapshot_instantiate(s, NULL, LK, NULL, NULL, &inst, &res), RT_ERR_HOST);
    rt_instance_free(inst);
    cr_assert(strstr(res.msg, "host module 'wasi'") && strstr(res.msg, "not linked"), "%s", res.msg);
    rt_snapshot_free(s);
    c[at + 16] = 1;     /* an unprintable name */
    rt_snap_seal(c, len + sizeof entry);
    expect_refused(m, c, len + sizeof entry, NULL, "not printable");
    free(c);
    free(b);
    unlink(path);
    unload(m);
}

Test(rt_snapshot, refuses_to_capture_what_it_cannot_restore)
{
    rt_module *m = load_module();
    wedge_instance *a = inst_new(m), *b = inst_new(m);
    a->tables[0]->elems[0] = b->funcs[2];            /* another instance's function */
    rt_result res;
    cr_assert_null(rt_snapshot_capture(a, HASH, &res));
    cr_assert(strstr(res.msg, "another instance"), "%s", res.msg);
    rt_instance_free(a);
    rt_instance_free(b);
    unload(m);
}
