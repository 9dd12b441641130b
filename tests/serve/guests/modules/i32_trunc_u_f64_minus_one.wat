;; i32.trunc_f64_u of -1.0: integer overflow (-0.9 would truncate to 0).
(module
  (memory (export "memory") 1)
  (global $x (mut f64) (f64.const -1))
  (func (export "_start") (drop (i32.trunc_f64_u (global.get $x)))))
