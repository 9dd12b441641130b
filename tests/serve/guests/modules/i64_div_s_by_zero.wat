;; i64.div_s (division) by zero: integer divide by zero.  The operands come from mutable
;; globals so the C compiler cannot fold them.
(module
  (memory (export "memory") 1)
  (global $a (mut i64) (i64.const 1))
  (global $b (mut i64) (i64.const 0))
  (func (export "_start")
    (drop (i64.div_s (global.get $a) (global.get $b)))))
