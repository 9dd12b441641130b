;; memory.copy whose source runs 1 byte past the end (after a fill that
;; ends exactly at the end, which must work).
(module
  (memory (export "memory") 1)
  (global $z (mut i32) (i32.const 0))
  (func (export "_start")
    (memory.fill (i32.add (global.get $z) (i32.const 65280)) (i32.const 1) (i32.const 256))
    (memory.copy (i32.const 0) (i32.add (global.get $z) (i32.const 65281)) (i32.const 256))))
