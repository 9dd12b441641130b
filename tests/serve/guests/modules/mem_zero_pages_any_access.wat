;; A memory of 0 pages: even address 0 is out of bounds.
(module
  (memory (export "memory") 0)
  (global $z (mut i32) (i32.const 0))
  (func (export "_start")
    (drop (i32.load8_u (global.get $z)))))
