;; call_indirect through a table entry that was never initialised.
(module
  (type $v (func))
  (memory (export "memory") 1)
  (table 4 funcref)
  (elem (i32.const 0) $nothing)
  (global $i (mut i32) (i32.const 2))
  (func $nothing (type $v))
  (func (export "_start") (call_indirect (type $v) (global.get $i))))
