;; A 1-byte store to the first byte past a 1-page memory: out of bounds.
(module
  (memory (export "memory") 1)
  (global $z (mut i32) (i32.const 0))
  (func (export "_start")
    (i32.store8 (i32.add (global.get $z) (i32.const 65536)) (i32.const 1))))
