;; table.get one past the end of a table: out of bounds table access.
(module
  (memory (export "memory") 1)
  (table 3 funcref)
  (global $i (mut i32) (i32.const 3))
  (func (export "_start") (drop (table.get 0 (global.get $i)))))
