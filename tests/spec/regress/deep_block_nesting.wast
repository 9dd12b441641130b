;; block.wast:3, loop.wast:3 under AddressSanitizer: more than 16 nested
;; blocks with a value-type result made the compiler's frame stack grow
;; (realloc) while each frame's `results` pointed at its own `bt_val`
;; field, so the `end`s read the freed old array (heap-use-after-free in
;; cg_emit_func.c emit_end).  Without ASan it passed by luck.
(module
  (func (export "deep") (result i32)
    (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (block (result i32) (i32.const 7))))))))))))))))))))))
  (func (export "deep-loop") (result i64)
    (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (loop (result i64) (i64.const 9)))))))))))))))))))))))
(assert_return (invoke "deep") (i32.const 7))
(assert_return (invoke "deep-loop") (i64.const 9))
