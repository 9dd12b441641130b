;; call_indirect.wast:585-586 (and call.wast's runaway): a function whose
;; last act is calling itself must exhaust the stack and trap "call stack
;; exhausted".  At -O2 gcc turned the self tail call into a jump, and the
;; runner hung in an endless loop (fixed by -fno-optimize-sibling-calls).
(module
  (type $proc (func))
  (table funcref (elem $runaway $mutual-a $mutual-b))
  (func $runaway (export "runaway") (call_indirect (type $proc) (i32.const 0)))
  (func $mutual-a (export "mutual") (call_indirect (type $proc) (i32.const 2)))
  (func $mutual-b (call_indirect (type $proc) (i32.const 1)))
  (func $direct (export "direct") (call $direct)))
(assert_exhaustion (invoke "runaway") "call stack exhausted")
(assert_exhaustion (invoke "mutual") "call stack exhausted")
(assert_exhaustion (invoke "direct") "call stack exhausted")
