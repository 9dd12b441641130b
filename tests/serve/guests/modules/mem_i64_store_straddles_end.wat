;; An 8-byte store that begins at the last valid byte: out of bounds.
(module
  (memory (export "memory") 1)
  (global $z (mut i32) (i32.const 0))
  (func (export "_start")
    (i64.store offset=65535 (global.get $z) (i64.const -1))))
