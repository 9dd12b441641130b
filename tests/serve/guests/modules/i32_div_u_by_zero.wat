;; i32.div_u (division) by zero: integer divide by zero.  The operands come from mutable
;; globals so the C compiler cannot fold them.
(module
  (memory (export "memory") 1)
  (global $a (mut i32) (i32.const 1))
  (global $b (mut i32) (i32.const 0))
  (func (export "_start")
    (drop (i32.div_u (global.get $a) (global.get $b)))))
