;; An 8-byte load whose first 4 bytes are in memory and last 4 are not.
(module
  (memory (export "memory") 1)
  (global $z (mut i32) (i32.const 0))
  (func (export "_start")
    (drop (i64.load (i32.add (global.get $z) (i32.const 65532))))))
