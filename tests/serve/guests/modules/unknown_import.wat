;; Imports a function no host module provides: the route is refused when
;; serve loads it (one log line naming the import), answers 503, and the
;; other routes keep serving.
(module
  (import "env" "missing" (func $missing (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $missing (i32.const 1))))
