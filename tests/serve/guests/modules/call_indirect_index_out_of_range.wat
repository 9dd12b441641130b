;; call_indirect with an index one past the table's end.
(module
  (type $v (func))
  (memory (export "memory") 1)
  (table 4 funcref)
  (elem (i32.const 0) $nothing $nothing $nothing $nothing)
  (global $i (mut i32) (i32.const 4))
  (func $nothing (type $v))
  (func (export "_start") (call_indirect (type $v) (global.get $i))))
