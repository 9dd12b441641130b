;; call_indirect through a table entry whose function has another type.
(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $nothing $nothing)
  (global $i (mut i32) (i32.const 1))
  (func $nothing (type $v))
  (func (export "_start")
    (drop (call_indirect (type $ii) (i32.const 5) (global.get $i)))))
