;; An active element segment that runs 1 entry past the end of its table.
(module
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 1) $f $f)
  (func $f)
  (func (export "_start")))
