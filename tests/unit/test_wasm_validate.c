/*
 * test_wasm_validate.c — the validator on small hand-made modules: typing
 * of instructions (SIMD included), the polymorphic stack and module-level
 * rules.
 */
#include "wasm_builder.h"

static const uint8_t I32_[] = { WASM_I32 }, I64_[] = { WASM_I64 }, F64_[] = { WASM_F64 };

/* One function [params] -> [results] with the given body (locals included). */
static bool check_func(const uint8_t *p, uint32_t np, const uint8_t *r, uint32_t nr,
                       const uint8_t *body, size_t n, wasm_err *err)
{
    wb m;
    bool decoded;
    wb_one_func(&m, p, np, r, nr, body, n);
    bool ok = wb_check(&m, err, &decoded);
    cr_assert(decoded, "body did not decode: %s", err->msg);
    return ok;
}

#define EXPECT_VALID(p, np, r, nr, ...)                                            \
    do {                                                                           \
        static const uint8_t b_[] = { __VA_ARGS__ };                               \
        wasm_err e_;                                                               \
        cr_expect(check_func(p, np, r, nr, b_, sizeof b_, &e_), "rejected: %s", e_.msg); \
    } while (0)

#define EXPECT_INVALID(want, p, np, r, nr, ...)                                     \
    do {                                                                           \
        static const uint8_t b_[] = { __VA_ARGS__ };                               \
        wasm_err e_;                                                               \
        cr_expect(!check_func(p, np, r, nr, b_, sizeof b_, &e_), "accepted body expecting \"%s\"", want); \
        cr_expect(strstr(e_.msg, want) != NULL, "message \"%s\" lacks \"%s\"", e_.msg, want); \
        cr_expect(!e_.malformed);                                                  \
    } while (0)

Test(wasm_validate, arithmetic_typing)
{
    EXPECT_VALID(NULL, 0, I32_, 1, 0, 0x41, 1, 0x41, 2, 0x6A, 0x0B);
    EXPECT_INVALID("type mismatch: expected i32, got f64", NULL, 0, I32_, 1,
                   0, 0x41, 1, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x6A, 0x0B);
    EXPECT_INVALID("type mismatch", NULL, 0, I32_, 1, 0, 0x6A, 0x0B);              /* empty stack */
    EXPECT_INVALID("type mismatch", NULL, 0, NULL, 0, 0, 0x41, 1, 0x0B);          /* value left over */
    EXPECT_INVALID("type mismatch", NULL, 0, I64_, 1, 0, 0x41, 1, 0x0B);          /* wrong result */
    EXPECT_VALID(NULL, 0, I64_, 1, 0, 0x41, 1, 0xAC, 0x0B);                       /* i64.extend_i32_s */
    EXPECT_VALID(NULL, 0, I64_, 1, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xFC, 0x06, 0x0B); /* trunc_sat */
}

Test(wasm_validate, locals_and_globals)
{
    EXPECT_VALID(I32_, 1, I32_, 1, 1, 1, 0x7E, 0x20, 0, 0x0B);
    EXPECT_INVALID("unknown local 2", I32_, 1, I32_, 1, 1, 1, 0x7E, 0x20, 2, 0x0B);
    EXPECT_INVALID("type mismatch", I32_, 1, I32_, 1, 1, 1, 0x7E, 0x20, 1, 0x0B);
    EXPECT_INVALID("unknown global 0", NULL, 0, I32_, 1, 0, 0x23, 0, 0x0B);
}

Test(wasm_validate, polymorphic_stack)
{
    /* after unreachable anything pops */
    EXPECT_VALID(NULL, 0, I32_, 1, 0, 0x00, 0x6A, 0x0B);
    EXPECT_VALID(NULL, 0, I32_, 1, 0, 0x00, 0x1B, 0x0B);                  /* select on nothing */
    /* but what is pushed still has to fit */
    EXPECT_INVALID("type mismatch", NULL, 0, I32_, 1, 0, 0x00, 0x42, 0, 0x6A, 0x0B);
    /* br makes the rest of the block unreachable */
    EXPECT_VALID(NULL, 0, I32_, 1, 0, 0x02, 0x7F, 0x41, 1, 0x0C, 0, 0x6A, 0x0B, 0x0B);
    /* return too */
    EXPECT_VALID(NULL, 0, I32_, 1, 0, 0x41, 1, 0x0F, 0x1A, 0x1A, 0x0B);
}

Test(wasm_validate, blocks_and_branches)
{
    EXPECT_INVALID("unknown label 1", NULL, 0, NULL, 0, 0, 0x0C, 1, 0x0B);
    /* if without else must not change the stack type */
    EXPECT_INVALID("type mismatch", NULL, 0, I32_, 1, 0, 0x41, 1, 0x04, 0x7F, 0x41, 1, 0x0B, 0x0B);
    EXPECT_VALID(NULL, 0, I32_, 1, 0, 0x41, 1, 0x04, 0x7F, 0x41, 1, 0x05, 0x41, 2, 0x0B, 0x0B);
    /* br_table targets of different arities */
    EXPECT_INVALID("type mismatch", NULL, 0, I32_, 1,
                   0, 0x02, 0x40, 0x41, 1, 0x41, 0, 0x0E, 1, 0, 1, 0x0B, 0x00, 0x0B);
    EXPECT_VALID(NULL, 0, I32_, 1,
                 0, 0x02, 0x7F, 0x41, 1, 0x41, 0, 0x0E, 1, 0, 1, 0x0B, 0x0B);
    /* loop labels take the loop's parameters (none here) */
    EXPECT_VALID(NULL, 0, NULL, 0, 0, 0x03, 0x40, 0x41, 0, 0x0D, 0, 0x0B, 0x0B);
    EXPECT_INVALID("else without matching if", NULL, 0, NULL, 0, 0, 0x02, 0x40, 0x05, 0x0B, 0x0B);
}

Test(wasm_validate, select_and_references)
{
    /* untyped select is only for numbers */
    EXPECT_INVALID("type mismatch", NULL, 0, NULL, 0,
                   0, 0xD0, 0x70, 0xD0, 0x70, 0x41, 0, 0x1B, 0x1A, 0x0B);
    EXPECT_VALID(NULL, 0, NULL, 0,
                 0, 0xD0, 0x70, 0xD0, 0x70, 0x41, 0, 0x1C, 1, 0x70, 0x1A, 0x0B);
    EXPECT_INVALID("invalid result arity", NULL, 0, NULL, 0,
                   0, 0x41, 0, 0x41, 0, 0x41, 0, 0x1C, 2, 0x7F, 0x7F, 0x1A, 0x0B);
    EXPECT_INVALID("type mismatch", NULL, 0, NULL, 0, 0, 0x41, 0, 0xD1, 0x1A, 0x0B);   /* ref.is_null i32 */
    /* ref.func needs the function to be declared outside function bodies */
    EXPECT_INVALID("undeclared function reference", NULL, 0, NULL, 0, 0, 0xD2, 0, 0x1A, 0x0B);
}

Test(wasm_validate, ref_func_declared_by_export)
{
    wb m;
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x60, 0, 0);
    WB_SECTION(&m, 3, 1, 0);
    WB_SECTION(&m, 7, 1, 1, 'f', 0x00, 0);
    WB_SECTION(&m, 10, 1, 5, 0, 0xD2, 0, 0x1A, 0x0B);
    wasm_err err;
    bool decoded;
    cr_expect(wb_check(&m, &err, &decoded), "%s", err.msg);
}

Test(wasm_validate, memory_rules)
{
    wb m;
    wasm_err err;
    bool decoded;
    /* alignment larger than natural */
    static const uint8_t body[] = { 0, 0x41, 0, 0x28, 3, 0, 0x1A, 0x0B };
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x60, 0, 0);
    WB_SECTION(&m, 3, 1, 0);
    WB_SECTION(&m, 5, 1, 0, 1);
    wb s = { .n = 0 };
    wb_leb(&s, 1);
    wb_leb(&s, sizeof body);
    wb_bytes(&s, body, sizeof body);
    wb_section(&m, 10, &s);
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "alignment must not be larger than natural"), "%s", err.msg);

    /* loads without a memory */
    static const uint8_t load[] = { 0, 0x41, 0, 0x28, 2, 0, 0x1A, 0x0B };
    wb_one_func(&m, NULL, 0, NULL, 0, load, sizeof load);
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "unknown memory"), "%s", err.msg);

    wb_header(&m);
    WB_SECTION(&m, 5, 2, 0, 1, 0, 1);
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "multiple memories"), "%s", err.msg);

    wb_header(&m);
    WB_SECTION(&m, 5, 1, 0, 0x81, 0x80, 0x04);            /* 65537 pages */
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "65536 pages"), "%s", err.msg);

    wb_header(&m);
    WB_SECTION(&m, 5, 1, 1, 2, 1);                          /* min > max */
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "size minimum must not be greater than maximum"), "%s", err.msg);
}

Test(wasm_validate, module_rules)
{
    wb m;
    wasm_err err;
    bool decoded;

    /* start function must be [] -> [] */
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x60, 1, 0x7F, 0);
    WB_SECTION(&m, 3, 1, 0);
    WB_SECTION(&m, 8, 0);
    WB_SECTION(&m, 10, 1, 2, 0, 0x0B);
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "start function"), "%s", err.msg);

    /* duplicate export names */
    wb_header(&m);
    WB_SECTION(&m, 1, 1, 0x60, 0, 0);
    WB_SECTION(&m, 3, 1, 0);
    WB_SECTION(&m, 7, 2, 1, 'a', 0, 0, 1, 'a', 0, 0);
    WB_SECTION(&m, 10, 1, 2, 0, 0x0B);
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "duplicate export name"), "%s", err.msg);
    cr_expect_eq(err.offset, 25, "points at the second export (got 0x%zx)", err.offset);

    /* constant expressions: global.get of a defined global is unknown in 2.0 */
    wb_header(&m);
    WB_SECTION(&m, 6, 2, 0x7F, 0, 0x41, 0, 0x0B, 0x7F, 0, 0x23, 0, 0x0B);
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "unknown global 0"), "%s", err.msg);

}

Test(wasm_validate, constant_expressions)
{
    wb m;
    wasm_err err;
    bool decoded;
    wb_header(&m);
    WB_SECTION(&m, 6, 1, 0x7F, 0, 0x41, 0, 0x41, 0, 0x6A, 0x0B);
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(decoded, "non-constant initializers are a validation error: %s", err.msg);
    cr_expect(strstr(err.msg, "constant expression required"), "%s", err.msg);

    wb_header(&m);
    WB_SECTION(&m, 6, 1, 0x7F, 0, 0x0B);                  /* empty */
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(decoded);
    cr_expect(strstr(err.msg, "type mismatch"), "%s", err.msg);

    wb_header(&m);
    WB_SECTION(&m, 6, 1, 0x7E, 0, 0x41, 0, 0x0B);         /* i64 global, i32 init */
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "type mismatch"), "%s", err.msg);
}

Test(wasm_validate, simd_typing)
{
    static const uint8_t V128_[] = { WASM_V128 };
    /* v128 params, locals, results; i32x4.splat; v128.any_true */
    EXPECT_VALID(V128_, 1, V128_, 1, 1, 1, 0x7B, 0x20, 0, 0x21, 1, 0x20, 1, 0x0B);
    EXPECT_VALID(NULL, 0, I32_, 1, 0, 0x41, 1, 0xFD, 0x11, 0xFD, 0x53, 0x0B);
    /* v128.const, i8x16.shuffle with indices up to 31, i32x4.extract_lane 3 */
    EXPECT_VALID(V128_, 1, I32_, 1, 0, 0xFD, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                 0x20, 0, 0xFD, 0x0D, 0, 31, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                 0xFD, 0x1B, 3, 0x0B);
    /* shifts take an i32 count; bitselect three vectors; untyped select on v128 */
    EXPECT_VALID(V128_, 1, V128_, 1, 0, 0x20, 0, 0x41, 9, 0xFD, 0x6B, 0x0B);
    EXPECT_VALID(V128_, 1, V128_, 1, 0, 0x20, 0, 0x20, 0, 0x20, 0, 0xFD, 0x52, 0x0B);
    EXPECT_VALID(V128_, 1, V128_, 1, 0, 0x20, 0, 0x20, 0, 0x41, 0, 0x1B, 0x0B);
    /* i64x2.replace_lane wants an i64 */
    EXPECT_VALID(V128_, 1, V128_, 1, 0, 0x20, 0, 0x42, 7, 0xFD, 0x1E, 1, 0x0B);
    EXPECT_INVALID("type mismatch: expected i64, got i32", V128_, 1, V128_, 1, 0, 0x20, 0, 0x41, 7, 0xFD, 0x1E, 1, 0x0B);
    /* lane indices */
    EXPECT_INVALID("invalid lane index 4", NULL, 0, I32_, 1, 0, 0x41, 1, 0xFD, 0x11, 0xFD, 0x1B, 4, 0x0B);
    EXPECT_INVALID("invalid lane index 2", V128_, 1, V128_, 1, 0, 0x20, 0, 0x42, 7, 0xFD, 0x1E, 2, 0x0B);
    EXPECT_INVALID("invalid lane index 32", V128_, 1, V128_, 1, 0, 0x20, 0, 0x20, 0, 0xFD, 0x0D,
                   0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 32, 0x0B);
    /* operand types */
    EXPECT_INVALID("type mismatch: expected v128, got i32", NULL, 0, I32_, 1, 0, 0x41, 1, 0x41, 2, 0xFD, 0xAE, 0x01, 0x0B);
    EXPECT_INVALID("type mismatch", V128_, 1, I32_, 1, 0, 0x20, 0, 0x0B);
    /* memory instructions need a memory */
    EXPECT_INVALID("unknown memory 0", NULL, 0, V128_, 1, 0, 0x41, 0, 0xFD, 0x00, 4, 0, 0x0B);
    (void)F64_;
}

Test(wasm_validate, simd_memory_alignment_and_globals)
{
    wb m;
    wasm_err err;
    bool decoded;
    /* type () -> (), memory 1, one function with one v128 access */
#define ACCESS_MODULE(op, align)                                                         \
    do {                                                                                 \
        wb_header(&m);                                                                   \
        WB_SECTION(&m, 1, 1, 0x60, 0, 0);                                                \
        WB_SECTION(&m, 3, 1, 0);                                                         \
        WB_SECTION(&m, 5, 1, 0, 1);                                                      \
        WB_SECTION(&m, 10, 1, 9, 0, 0x41, 0, 0xFD, op, align, 0, 0x1A, 0x0B);            \
    } while (0)
    ACCESS_MODULE(0x00, 4);     /* v128.load align=16: natural */
    cr_expect(wb_check(&m, &err, &decoded), "%s", err.msg);
    ACCESS_MODULE(0x00, 5);     /* align=32 */
    cr_expect(!wb_check(&m, &err, &decoded) && decoded);
    cr_expect(strstr(err.msg, "alignment must not be larger than natural"), "%s", err.msg);
    ACCESS_MODULE(0x07, 1);     /* v128.load8_splat align=2 */
    cr_expect(!wb_check(&m, &err, &decoded) && decoded);
    cr_expect(strstr(err.msg, "alignment must not be larger than natural"), "%s", err.msg);
    ACCESS_MODULE(0x01, 3);     /* v128.load8x8_s align=8: natural */
    cr_expect(wb_check(&m, &err, &decoded), "%s", err.msg);
#undef ACCESS_MODULE
    /* a v128 global initialised by v128.const */
    wb_header(&m);
    WB_SECTION(&m, 6, 1, 0x7B, 0, 0xFD, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x0B);
    cr_expect(wb_check(&m, &err, &decoded), "%s", err.msg);
    wb_header(&m);
    WB_SECTION(&m, 6, 1, 0x7F, 0, 0xFD, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x0B);
    cr_expect(!wb_check(&m, &err, &decoded));
    cr_expect(strstr(err.msg, "type mismatch: expected i32, got v128"), "%s", err.msg);
}

Test(wasm_validate, implementation_limits)
{
    /* 1000 parameters are fine, 1001 are not (the JS embedding's limit,
     * which keeps validation linear in the module size) */
    static uint8_t params[1001];
    memset(params, WASM_I32, sizeof params);
    static const uint8_t body[] = { 0, 0x0B };
    wasm_err err;
    cr_expect(check_func(params, 1000, NULL, 0, body, sizeof body, &err), "%s", err.msg);
    cr_expect(!check_func(params, 1001, NULL, 0, body, sizeof body, &err));
    cr_expect(strstr(err.msg, "more than 1000 parameters"), "%s", err.msg);
    cr_expect(!check_func(NULL, 0, params, 1001, body, sizeof body, &err));
    cr_expect(strstr(err.msg, "more than 1000 results"), "%s", err.msg);
}

Test(wasm_validate, wide_br_table_stays_fast)
{
    /* block (type 0: [] -> [1000 x i32]) with 1000 values, then a br_table
     * of 20000 targets to it: checked once per distinct label type. */
    static uint8_t results[1000];
    memset(results, WASM_I32, sizeof results);
    static wb m;
    wb s = { .n = 0 };
    wb_header(&m);
    wb_leb(&s, 2);
    wb_u8(&s, 0x60); wb_leb(&s, 0); wb_leb(&s, 1000); wb_bytes(&s, results, 1000);
    wb_u8(&s, 0x60); wb_leb(&s, 0); wb_leb(&s, 0);
    wb_section(&m, 1, &s);
    WB_SECTION(&m, 3, 1, 1);
    static wb body;
    body.n = 0;
    wb_u8(&body, 0);                      /* no locals */
    wb_u8(&body, 0x02); wb_u8(&body, 0x00);   /* block (type 0) */
    for (int i = 0; i < 1000; i++) {
        wb_u8(&body, 0x41); wb_u8(&body, 0);
    }
    wb_u8(&body, 0x41); wb_u8(&body, 0);      /* index */
    wb_u8(&body, 0x0E); wb_leb(&body, 20000);
    for (int i = 0; i < 20000; i++)
        wb_u8(&body, 0);
    wb_u8(&body, 0);                      /* default */
    wb_u8(&body, 0x0B);                   /* end block */
    for (int i = 0; i < 1000; i++)
        wb_u8(&body, 0x1A);               /* drop */
    wb_u8(&body, 0x0B);
    s.n = 0;
    wb_leb(&s, 1);
    wb_leb(&s, (uint32_t)body.n);
    wb_bytes(&s, body.b, body.n);
    wb_section(&m, 10, &s);
    wasm_err err;
    bool decoded;
    cr_expect(wb_check(&m, &err, &decoded), "%s", err.msg);
}
