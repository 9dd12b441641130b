;; Run with max-memory-mb 4 (64 pages).  Grows from 1 page to exactly the
;; limit (must succeed, and the last byte must be usable), then every grow
;; past it must return -1 (not trap, not crash, not change the size):
;; by 1 page, by 0x8000, by 65536 and by 0xFFFFFFFF.  Prints "ok" when all
;; of that held; an unexpected result is `unreachable` (a 500).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ok\n")
  (func $expect (param i32 i32)
    (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
  (func (export "_start")
    (call $expect (memory.grow (i32.const 63)) (i32.const 1))
    (i32.store8 (i32.const 4194303) (i32.const 9))
    (call $expect (i32.load8_u (i32.const 4194303)) (i32.const 9))
    (call $expect (memory.grow (i32.const 1)) (i32.const -1))
    (call $expect (memory.grow (i32.const 0x8000)) (i32.const -1))
    (call $expect (memory.grow (i32.const 65536)) (i32.const -1))
    (call $expect (memory.grow (i32.const -1)) (i32.const -1))
    (call $expect (memory.size) (i32.const 64))
    (call $expect (memory.grow (i32.const 0)) (i32.const 64))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
