;; i32.rem_s of INT_MIN by -1 is 0 in Wasm (no trap, unlike x86's idiv):
;; prints "ok" when the result is 0.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ok\n")
  (global $a (mut i32) (i32.const -2147483648))
  (global $b (mut i32) (i32.const -1))
  (func (export "_start")
    (if (i32.ne (i32.rem_s (global.get $a) (global.get $b)) (i32.const 0)) (then unreachable))
    (if (i64.ne (i64.rem_s (i64.extend_i32_s (global.get $a)) (i64.const -1)) (i64.const 0)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
