;; A 1-byte load of the first byte past a 1-page memory: out of bounds.
(module
  (memory (export "memory") 1)
  (global $z (mut i32) (i32.const 0))
  (func (export "_start")
    (drop (i32.load8_u (i32.add (global.get $z) (i32.const 65536))))))
