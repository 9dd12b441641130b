;; call_indirect with index 0xFFFFFFFF (a sign or 32-bit wrap bug would
;; make it -1 or index the table from its end).
(module
  (type $v (func))
  (memory (export "memory") 1)
  (table 4 funcref)
  (elem (i32.const 0) $nothing $nothing $nothing $nothing)
  (global $i (mut i32) (i32.const -1))
  (func $nothing (type $v))
  (func (export "_start") (call_indirect (type $v) (global.get $i))))
