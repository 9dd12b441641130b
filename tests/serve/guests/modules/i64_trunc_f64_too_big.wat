;; i64.trunc_f64_s of 2^63 (one past INT64_MAX): integer overflow.
(module
  (memory (export "memory") 1)
  (global $x (mut f64) (f64.const 9223372036854775808))
  (func (export "_start") (drop (i64.trunc_f64_s (global.get $x)))))
