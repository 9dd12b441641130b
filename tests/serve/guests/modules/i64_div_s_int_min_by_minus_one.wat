;; i64.div_s (division) of INT_MIN by -1: integer overflow.  The operands come from mutable
;; globals so the C compiler cannot fold them.
(module
  (memory (export "memory") 1)
  (global $a (mut i64) (i64.const -9223372036854775808))
  (global $b (mut i64) (i64.const -1))
  (func (export "_start")
    (drop (i64.div_s (global.get $a) (global.get $b)))))
