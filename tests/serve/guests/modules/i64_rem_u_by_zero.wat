;; i64.rem_u (remainder) by zero: integer divide by zero.  The operands come from mutable
;; globals so the C compiler cannot fold them.
(module
  (memory (export "memory") 1)
  (global $a (mut i64) (i64.const 7))
  (global $b (mut i64) (i64.const 0))
  (func (export "_start")
    (drop (i64.rem_u (global.get $a) (global.get $b)))))
