/*
 * test_wasm_decode.c — the binary decoder and the instruction reader on
 * hand-made byte arrays: the corner cases of the binary format that the
 * spec suite covers only in passing (huge counts, LEB128 limits, every
 * segment encoding, index-space layout).
 */
#include "wasm_builder.h"

#include <stdlib.h>

static wasm_module *decode(const wb *m, wasm_err *err)
{
    return wasm_decode(m->b, m->n, err);
}

static void expect_malformed(const wb *m, const char *substr)
{
    wasm_err err;
    wasm_module *mod = decode(m, &err);
    cr_assert_null(mod, "decoded a module that should be malformed (%s)", substr);
    cr_expect(err.malformed, "error not flagged malformed: %s", err.msg);
    cr_expect(strstr(err.msg, substr) != NULL, "message \"%s\" lacks \"%s\"", err.msg, substr);
}

Test(wasm_decode, empty_module)
{
    wb m;
    wb_header(&m);
    wasm_err err;
    wasm_module *mod = decode(&m, &err);
    cr_assert_not_null(mod, "%s", err.msg);
    cr_expect_eq(mod->nfuncs, 0);
    cr_expect(wasm_validate(mod, &err));
    wasm_module_free(mod);
}

Test(wasm_decode, bad_magic_version_and_truncation)
{
    wb m = { .n = 0 };
    wb_bytes(&m, "\0asn\1\0\0\0", 8);
    expect_malformed(&m, "magic");
    m.n = 0;
    wb_bytes(&m, "\0asm\2\0\0\0", 8);
    expect_malformed(&m, "version");
    m.n = 0;
    wb_bytes(&m, "\0as", 3);
    expect_malformed(&m, "unexpected end");
    m.n = 0;
    wb_bytes(&m, "\0asm\1\0", 6);
    expect_malformed(&m, "unexpected end");
}

Test(wasm_decode, overlong_and_too_large_leb)
{
    wb m;
    wb_header(&m);
    /* custom section whose size is a 6-byte LEB */
    wb_bytes(&m, "\0\x80\x80\x80\x80\x80\x00", 7);
    expect_malformed(&m, "integer representation too long");

    wb_header(&m);
    /* 5-byte LEB with bits beyond 32 set */
    wb_bytes(&m, "\0\x81\x80\x80\x80\x10", 6);
    expect_malformed(&m, "integer too large");

    /* The same value with the unused bits clear is a fine (if overlong)
     * encoding of size 1: a custom section with an empty name. */
    wb_header(&m);
    wb_bytes(&m, "\0\x81\x80\x80\x80\x00\x00", 7);
    wasm_err err;
    wasm_module *mod = decode(&m, &err);
    cr_expect_not_null(mod, "%s", err.msg);
    wasm_module_free(mod);
}

Test(wasm_decode, huge_counts_do_not_allocate)
{
    /* type section claiming 2^32-1 types with 3 bytes left */
    wb m;
    wb_header(&m);
    WB_SECTION(&m, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x60, 0x00, 0x00);
    expect_malformed(&m, "unexpected end");

    /* br_table with 2^32-1 targets */
    static const uint8_t body[] = { 0x00, 0x41, 0x00, 0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x0B };
    wb_one_func(&m, NULL, 0, NULL, 0, body, sizeof body);
    expect_malformed(&m, "unexpected end");

    /* local groups summing past 2^32 */
    static const uint8_t locals[] = { 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F,
                                      0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x0B };
    wb_one_func(&m, NULL, 0, NULL, 0, locals, sizeof locals);
    expect_malformed(&m, "too many locals");
}

Test(wasm_decode, locals_limit)
{
    wb m;
    uint8_t body[16];
    size_t n = 0;
    body[n++] = 1;
    body[n++] = 0xD0; body[n++] = 0x86; body[n++] = 0x03;   /* 50000 */
    body[n++] = 0x7E;
    body[n++] = 0x0B;
    wb_one_func(&m, NULL, 0, NULL, 0, body, n);
    wasm_err err;
    wasm_module *mod = decode(&m, &err);
    cr_assert_not_null(mod, "%s", err.msg);
    cr_expect_eq(mod->funcs[0].nlocals, 50000);
    cr_expect_eq(mod->funcs[0].locals[49999], WASM_I64);
    wasm_module_free(mod);

    body[1] = 0xD1;                                            /* 50001 */
    wb_one_func(&m, NULL, 0, NULL, 0, body, n);
    expect_malformed(&m, "too many locals");
}

Test(wasm_decode, section_rules)
{
    wb m;
    wb_header(&m);
    WB_SECTION(&m, 3, 0);
    WB_SECTION(&m, 1, 0);
    expect_malformed(&m, "unexpected content after last section");   /* out of order */

    wb_header(&m);
    WB_SECTION(&m, 1, 0);
    WB_SECTION(&m, 1, 0);
    expect_malformed(&m, "unexpected content after last section");   /* duplicate */

    wb_header(&m);
    WB_SECTION(&m, 14, 0);
    expect_malformed(&m, "malformed section id");

    wb_header(&m);
    WB_SECTION(&m, 1, 0, 0);          /* one byte too many */
    expect_malformed(&m, "section size mismatch");

    wb_header(&m);
    wb_bytes(&m, "\x01\x05\x00", 3);  /* size beyond the end of the file */
    expect_malformed(&m, "unexpected end");

    /* custom sections may come anywhere, but their names must be UTF-8 */
    wb_header(&m);
    WB_SECTION(&m, 0, 1, 'a', 1, 2, 3);
    WB_SECTION(&m, 1, 0);
    WB_SECTION(&m, 0, 0);
    WB_SECTION(&m, 12, 0);
    WB_SECTION(&m, 0, 2, 0xC3, 0xA9);
    wasm_err err;
    wasm_module *mod = decode(&m, &err);
    cr_expect_not_null(mod, "%s", err.msg);
    wasm_module_free(mod);

    wb_header(&m);
    WB_SECTION(&m, 0, 2, 0xC0, 0x80);  /* overlong NUL */
    expect_malformed(&m, "malformed UTF-8");
    wb_header(&m);
    WB_SECTION(&m, 0, 3, 0xED, 0xA0, 0x80);  /* surrogate */
    expect_malformed(&m, "malformed UTF-8");
}

Test(wasm_decode, count_mismatches)
{
    wb m;
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x60, 0, 0);
    WB_SECTION(&m, 3, 2, 0, 0);
    WB_SECTION(&m, 10, 1, 2, 0, 0x0B);
    expect_malformed(&m, "function and code section have inconsistent lengths");

    wb_header(&m);
    WB_SECTION(&m, 12, 2);
    WB_SECTION(&m, 11, 1, 1, 0);
    expect_malformed(&m, "data count and data section have inconsistent lengths");

    /* memory.init without a data count section is a binary-format error */
    static const uint8_t body[] = { 0x00, 0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 0x08, 0x00, 0x00, 0x0B };
    wb_one_func(&m, NULL, 0, NULL, 0, body, sizeof body);
    expect_malformed(&m, "data count section required");
}

Test(wasm_decode, index_spaces_join_imports_and_definitions)
{
    wb m;
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x60, 0, 0);
    WB_SECTION(&m, 2, 3,
               1, 'm', 1, 'f', 0x00, 0x00,                 /* func type 0 */
               1, 'm', 1, 'g', 0x03, 0x7E, 0x00,           /* global i64 const */
               1, 'm', 1, 't', 0x01, 0x6F, 0x01, 1, 5);    /* table externref 1..5 */
    WB_SECTION(&m, 3, 2, 0, 0);
    WB_SECTION(&m, 4, 1, 0x70, 0x00, 2);
    WB_SECTION(&m, 6, 2, 0x7F, 0x01, 0x41, 0x7F, 0x0B,    /* (mut i32) = -1 */
               0x7E, 0x00, 0x23, 0x00, 0x0B);              /* i64 = global.get 0 */
    WB_SECTION(&m, 10, 2, 2, 0, 0x0B, 4, 1, 1, 0x7D, 0x0B);
    wasm_err err;
    wasm_module *mod = decode(&m, &err);
    cr_assert_not_null(mod, "%s", err.msg);
    cr_expect_eq(mod->nfuncs, 3);
    cr_expect_eq(mod->nimported_funcs, 1);
    cr_expect_eq(mod->func_import[0], 0);
    cr_expect_eq(mod->func_import[1], UINT32_MAX);
    cr_expect_eq(mod->funcs[2].nlocals, 1);
    cr_expect_eq(mod->funcs[2].locals[0], WASM_F32);
    cr_expect_eq(mod->funcs[2].code_len, 1);
    cr_expect_eq(mod->funcs[2].code[0], 0x0B);
    cr_expect_eq((size_t)(mod->funcs[2].code - m.b), mod->funcs[2].code_offset);
    cr_expect_eq(mod->ntables, 2);
    cr_expect_eq(mod->tables[0].elemtype, WASM_EXTERNREF);
    cr_expect(mod->tables[0].limits.has_max);
    cr_expect_eq(mod->tables[0].limits.max, 5);
    cr_expect_eq(mod->tables[1].elemtype, WASM_FUNCREF);
    cr_expect_eq(mod->nglobals, 3);
    cr_expect_eq(mod->globals[2].init.op, WASM_CE_GLOBAL_GET);
    cr_expect_eq(mod->globals[2].init.type, WASM_I64, "global.get gets the global's type");
    cr_expect_eq(mod->globals[0].type.valtype, WASM_I64);
    cr_expect(mod->globals[1].type.mut);
    cr_expect_eq(mod->globals[1].init.op, WASM_CE_I32);
    cr_expect_eq(mod->globals[1].init.bits, 0xFFFFFFFFu);
    cr_expect(wasm_validate(mod, &err), "%s", err.msg);
    wasm_module_free(mod);
}

Test(wasm_decode, all_element_segment_encodings)
{
    wb m;
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x60, 0, 0);
    WB_SECTION(&m, 3, 1, 0);
    WB_SECTION(&m, 4, 2, 0x70, 0, 1, 0x70, 0, 1);
    WB_SECTION(&m, 9, 8,
               0, 0x41, 0, 0x0B, 1, 0,                     /* 0: active t0, funcidx */
               1, 0x00, 1, 0,                              /* 1: passive, elemkind */
               2, 1, 0x41, 0, 0x0B, 0x00, 1, 0,            /* 2: active t1, elemkind */
               3, 0x00, 1, 0,                              /* 3: declarative */
               4, 0x41, 0, 0x0B, 1, 0xD2, 0, 0x0B,         /* 4: active t0, exprs */
               5, 0x70, 2, 0xD0, 0x70, 0x0B, 0xD2, 0, 0x0B,/* 5: passive, exprs */
               6, 1, 0x41, 0, 0x0B, 0x70, 1, 0xD2, 0, 0x0B,/* 6: active t1, exprs */
               7, 0x70, 1, 0xD2, 0, 0x0B);                 /* 7: declarative, exprs */
    WB_SECTION(&m, 10, 1, 2, 0, 0x0B);
    wasm_err err;
    wasm_module *mod = decode(&m, &err);
    cr_assert_not_null(mod, "%s", err.msg);
    cr_assert_eq(mod->nelems, 8);
    static const uint8_t modes[8] = { WASM_SEG_ACTIVE, WASM_SEG_PASSIVE, WASM_SEG_ACTIVE,
                                      WASM_SEG_DECLARATIVE, WASM_SEG_ACTIVE, WASM_SEG_PASSIVE,
                                      WASM_SEG_ACTIVE, WASM_SEG_DECLARATIVE };
    static const uint32_t tables[8] = { 0, 0, 1, 0, 0, 0, 1, 0 };
    static const uint32_t counts[8] = { 1, 1, 1, 1, 1, 2, 1, 1 };
    for (int i = 0; i < 8; i++) {
        cr_expect_eq(mod->elems[i].mode, modes[i], "segment %d", i);
        cr_expect_eq(mod->elems[i].elemtype, WASM_FUNCREF, "segment %d", i);
        cr_expect_eq(mod->elems[i].count, counts[i], "segment %d", i);
        if (modes[i] == WASM_SEG_ACTIVE) {
            cr_expect_eq(mod->elems[i].table, tables[i], "segment %d", i);
            cr_expect_eq(mod->elems[i].offset.op, WASM_CE_I32, "segment %d", i);
        }
    }
    cr_expect_eq(mod->elems[5].items[0].op, WASM_CE_REF_NULL);
    cr_expect_eq(mod->elems[5].items[1].op, WASM_CE_REF_FUNC);
    cr_expect_eq(mod->elems[0].items[0].op, WASM_CE_REF_FUNC);
    cr_expect(wasm_validate(mod, &err), "%s", err.msg);
    wasm_module_free(mod);

    wb_header(&m);
    WB_SECTION(&m, 9, 1, 8, 0x00, 0);
    expect_malformed(&m, "malformed elements segment kind");
}

Test(wasm_decode, data_segment_encodings)
{
    wb m;
    wb_header(&m);
    WB_SECTION(&m, 5, 1, 0, 1);
    WB_SECTION(&m, 12, 3);
    WB_SECTION(&m, 11, 3,
               0, 0x41, 8, 0x0B, 2, 'h', 'i',
               1, 3, 'a', 'b', 'c',
               2, 0, 0x41, 0, 0x0B, 0);
    wasm_err err;
    wasm_module *mod = decode(&m, &err);
    cr_assert_not_null(mod, "%s", err.msg);
    cr_expect_eq(mod->datas[0].mode, WASM_SEG_ACTIVE);
    cr_expect_eq(mod->datas[0].offset.bits, 8);
    cr_expect_eq(mod->datas[0].len, 2);
    cr_expect(memcmp(mod->datas[0].bytes, "hi", 2) == 0);
    cr_expect_eq(mod->datas[1].mode, WASM_SEG_PASSIVE);
    cr_expect_eq(mod->datas[1].len, 3);
    cr_expect_eq(mod->datas[2].mode, WASM_SEG_ACTIVE);
    cr_expect_eq(mod->datas[2].len, 0);
    cr_expect(mod->has_datacount);
    cr_expect(wasm_validate(mod, &err), "%s", err.msg);
    wasm_module_free(mod);

    wb_header(&m);
    WB_SECTION(&m, 11, 1, 1, 0x10, 'a');   /* length beyond the section */
    expect_malformed(&m, "unexpected end");
}

Test(wasm_reader, immediates)
{
    static const uint8_t code[] = {
        0x41, 0x7F,                                 /* i32.const -1 */
        0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F, /* i64.const INT64_MIN */
        0x43, 0x00, 0x00, 0x80, 0x3F,               /* f32.const 1.0 */
        0x0E, 0x02, 0x00, 0x01, 0x02,               /* br_table 0 1 (default 2) */
        0x28, 0x02, 0x10,                           /* i32.load align=2 offset=16 */
        0x02, 0x7E,                                 /* block (result i64) */
        0x02, 0x05,                                 /* block (type 5) */
        0xFC, 0x0E, 0x01, 0x02,                     /* table.copy 1 2 */
        0x1C, 0x01, 0x6F,                           /* select (result externref) */
        0xD0, 0x70,                                 /* ref.null func */
        0x0B,
    };
    wasm_reader r;
    wasm_reader_init(&r, code, code, sizeof code);
    wasm_insn in;
    wasm_err err;
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.op, OP_i32_const);
    cr_expect_eq(in.u.i32, 0xFFFFFFFFu);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.u.i64, 0x8000000000000000ull);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.u.f32, 0x3F800000u);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.op, OP_br_table);
    cr_expect_eq(in.offset, 18);
    cr_expect_eq(in.u.br_table.count, 2);
    cr_expect_eq(r.targets[0], 0);
    cr_expect_eq(r.targets[1], 1);
    cr_expect_eq(in.u.br_table.dflt, 2);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.u.mem.align, 2);
    cr_expect_eq(in.u.mem.offset, 16);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.u.block.kind, WASM_BT_VAL);
    cr_expect_eq(in.u.block.valtype, WASM_I64);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.u.block.kind, WASM_BT_TYPE);
    cr_expect_eq(in.u.block.typeidx, 5);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.op, WASM_OP_PREFIX_FC | FC_table_copy);
    cr_expect_eq(in.u.two.a, 1);
    cr_expect_eq(in.u.two.b, 2);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.op, OP_select_t);
    cr_expect_eq(in.select_nt, 1);
    cr_expect_eq(in.u.reftype, WASM_EXTERNREF);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.u.reftype, WASM_FUNCREF);
    cr_assert(wasm_reader_next(&r, &in, &err));
    cr_expect_eq(in.op, OP_end);
    cr_expect(wasm_reader_done(&r));
    cr_expect(!wasm_reader_next(&r, &in, &err));
    cr_expect(err.malformed);
    wasm_reader_fini(&r);
}

Test(wasm_reader, malformed_encodings)
{
    static const struct { uint8_t code[8]; uint32_t len; const char *msg; } cases[] = {
        { { 0x3F, 0x80, 0x00 }, 3, "zero byte expected" },     /* memory.size with LEB 0 */
        { { 0x27 }, 1, "illegal opcode" },
        { { 0xFC, 0x12 }, 2, "illegal opcode" },
        { { 0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x4F }, 6, "integer too large" },
        { { 0x44, 0, 0, 0 }, 4, "unexpected end" },
        { { 0xD0, 0x7F }, 2, "malformed reference type" },
        { { 0x02, 0x80, 0x7F }, 3, "malformed value type" },   /* negative s33 block type */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wasm_reader r;
        wasm_reader_init(&r, cases[i].code, cases[i].code, cases[i].len);
        wasm_insn in;
        wasm_err err;
        cr_expect(!wasm_reader_next(&r, &in, &err), "case %zu accepted", i);
        cr_expect(err.malformed, "case %zu", i);
        cr_expect(strstr(err.msg, cases[i].msg) != NULL, "case %zu: \"%s\"", i, err.msg);
        wasm_reader_fini(&r);
    }
}

Test(wasm_decode, load_file_reports_missing_file)
{
    uint8_t *buf;
    size_t len;
    wasm_err err;
    cr_expect_null(wasm_load_file("/nonexistent/x.wasm", &buf, &len, &err));
    cr_expect_null(buf);
    cr_expect(strstr(err.msg, "cannot open") != NULL);
}

/* ---- post-2.0 proposals are refused by name ------------------------------- */

static void expect_body_proposal(const uint8_t *body, size_t n, const char *substr)
{
    wb m;
    wb_one_func(&m, NULL, 0, NULL, 0, body, n);
    expect_malformed(&m, substr);
}

Test(wasm_decode, post2_proposals_named)
{
    wb m;
    /* exception handling: tag section (id 13), try, throw, tag import */
    wb_header(&m);
    WB_SECTION(&m, 13, 1, 0, 0);
    expect_malformed(&m, "exception handling proposal not supported (tag section)");
    static const uint8_t try_[] = { 0, 0x06, 0x40, 0x0B, 0x0B };
    expect_body_proposal(try_, sizeof try_, "exception handling proposal not supported");
    static const uint8_t throw_[] = { 0, 0x08, 0, 0x0B };
    expect_body_proposal(throw_, sizeof throw_, "exception handling proposal not supported");
    wb_header(&m);
    WB_SECTION(&m, 2, 1, 1, 'm', 1, 't', 4, 0, 0);
    expect_malformed(&m, "exception handling proposal not supported (tag import)");
    /* tail calls */
    static const uint8_t rc[] = { 0, 0x12, 0, 0x0B };
    expect_body_proposal(rc, sizeof rc, "tail call proposal not supported");
    static const uint8_t rci[] = { 0, 0x41, 0, 0x13, 0, 0, 0x0B };
    expect_body_proposal(rci, sizeof rci, "tail call proposal not supported");
    /* function references and GC */
    static const uint8_t cr[] = { 0, 0x14, 0, 0x0B };
    expect_body_proposal(cr, sizeof cr, "function references proposal not supported");
    static const uint8_t gc[] = { 0, 0xFB, 0, 0, 0x0B };
    expect_body_proposal(gc, sizeof gc, "GC proposal not supported");
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x5F, 0, 0);
    expect_malformed(&m, "GC proposal not supported (struct type)");
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x60, 1, 0x64, 0x70, 0);
    expect_malformed(&m, "function references proposal not supported");
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x60, 1, 0x6E, 0);
    expect_malformed(&m, "GC proposal not supported");
    /* threads: shared memory, atomics */
    wb_header(&m);
    WB_SECTION(&m, 5, 1, 3, 1, 1);
    expect_malformed(&m, "threads proposal not supported (shared memory)");
    static const uint8_t atomic[] = { 0, 0xFE, 3, 0, 0x0B };
    expect_body_proposal(atomic, sizeof atomic, "threads proposal not supported");
    /* memory64 */
    wb_header(&m);
    WB_SECTION(&m, 5, 1, 4, 1);
    expect_malformed(&m, "memory64 proposal not supported");
    /* multi-memory: a memory index in a memarg or a memory instruction */
    static const uint8_t mm1[] = { 0, 0x41, 0, 0x28, 0x42, 1, 0, 0x1A, 0x0B };
    expect_body_proposal(mm1, sizeof mm1, "multi-memory proposal not supported");
    static const uint8_t mm2[] = { 0, 0x3F, 1, 0x1A, 0x0B };
    expect_body_proposal(mm2, sizeof mm2, "multi-memory proposal");
    /* relaxed SIMD: sub-opcodes above 0xFF */
    static const uint8_t rs[] = { 0, 0xFD, 0x80, 0x02, 0x0B };
    expect_body_proposal(rs, sizeof rs, "relaxed SIMD proposal not supported");
    /* a SIMD code that no proposal assigns stays plainly illegal */
    static const uint8_t ill[] = { 0, 0xFD, 0x9A, 0x01, 0x0B };
    expect_body_proposal(ill, sizeof ill, "illegal opcode 0xfd 154");
}

Test(wasm_decode, multiple_memories_named_at_validation)
{
    wb m;
    wb_header(&m);
    WB_SECTION(&m, 5, 2, 0, 1, 0, 1);
    wasm_err err;
    wasm_module *mod = decode(&m, &err);
    cr_assert_not_null(mod, "%s", err.msg);
    cr_expect(!wasm_validate(mod, &err));
    cr_expect(strstr(err.msg, "multiple memories (multi-memory proposal not supported)"), "%s", err.msg);
    wasm_module_free(mod);
}

Test(wasm_decode, simd_immediates_are_decoded)
{
    /* v128.const's 16 bytes and shuffle's 16 lanes are skipped correctly:
     * the `end` after them is found, and a body cut inside them is
     * "unexpected end". */
    static const uint8_t ok[] = { 0, 0xFD, 0x0C, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B,
                                  0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x0B, 0x1A, 0x0B };
    wb m;
    wb_one_func(&m, NULL, 0, NULL, 0, ok, sizeof ok);
    wasm_err err;
    wasm_module *mod = decode(&m, &err);
    cr_assert_not_null(mod, "%s", err.msg);
    cr_expect(wasm_validate(mod, &err), "%s", err.msg);
    wasm_module_free(mod);
    static const uint8_t cut[] = { 0, 0xFD, 0x0C, 1, 2, 3, 0x0B };
    expect_body_proposal(cut, sizeof cut, "unexpected end");
}
