;; A function that calls itself forever (in tail position: the compiler
;; must not make a loop of it): call stack exhausted.
(module
  (memory (export "memory") 1)
  (func $f (call $f))
  (func (export "_start") (call $f)))
