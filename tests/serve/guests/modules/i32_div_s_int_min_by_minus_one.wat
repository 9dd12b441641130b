;; i32.div_s (division) of INT_MIN by -1: integer overflow.  The operands come from mutable
;; globals so the C compiler cannot fold them.
(module
  (memory (export "memory") 1)
  (global $a (mut i32) (i32.const -2147483648))
  (global $b (mut i32) (i32.const -1))
  (func (export "_start")
    (drop (i32.div_s (global.get $a) (global.get $b)))))
