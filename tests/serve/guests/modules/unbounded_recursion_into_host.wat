;; Unbounded recursion that calls a host function (fd_write of nothing)
;; at every level: when the guest stack runs out, the host call itself is
;; near the guard, and must end in a trap, never a crash of the server.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $f (param i32) (result i32)
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 8)))
    (i32.add (call $f (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "_start") (drop (call $f (i32.const 0)))))
