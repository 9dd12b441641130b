;; address.wast:201-211,496-510,559-560,609-610 and traps.wast:78-91, guard
;; mode only: a load whose value is dropped is dead C code, cc deletes it, and
;; the out-of-bounds access that had to trap never happens.
(module
  (memory 1)
  (func (export "f") (param $i i32)
    (drop (i32.load8_u offset=4294967295 (local.get $i))))
  (func (export "g") (param $i i32)
    (drop (i64.load (local.get $i)))))
(assert_trap (invoke "f" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "g" (i32.const 65536)) "out of bounds memory access")
