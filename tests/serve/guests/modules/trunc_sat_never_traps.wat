;; The saturating conversions never trap: NaN -> 0, +inf -> max, -1 -> 0
;; unsigned.  Prints "ok" when every result is right.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ok\n")
  (global $nan (mut f32) (f32.const nan))
  (global $inf (mut f64) (f64.const inf))
  (global $m1 (mut f64) (f64.const -1))
  (func (export "_start")
    (if (i32.ne (i32.trunc_sat_f32_s (global.get $nan)) (i32.const 0)) (then unreachable))
    (if (i64.ne (i64.trunc_sat_f64_s (global.get $inf)) (i64.const 0x7fffffffffffffff)) (then unreachable))
    (if (i32.ne (i32.trunc_sat_f64_u (global.get $m1)) (i32.const 0)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
