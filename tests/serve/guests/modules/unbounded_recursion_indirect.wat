;; Unbounded recursion through call_indirect, with an argument that grows.
(module
  (type $t (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $f)
  (func $f (type $t)
    (i32.add (call_indirect (type $t) (i32.add (local.get 0) (i32.const 1)) (i32.const 0)) (i32.const 1)))
  (func (export "_start") (drop (call $f (i32.const 0)))))
