;; Loads and stores that end exactly at the last byte of a 1-page memory
;; must work (no off-by-one in either bounds mode): 1-, 2-, 4- and 8-byte
;; accesses ending at 65535, also through an offset immediate, then "ok".
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $z (mut i32) (i32.const 0))
  (data (i32.const 16) "ok\n")
  (func (export "_start")
    (i32.store8 (i32.add (global.get $z) (i32.const 65535)) (i32.const 7))
    (i32.store16 (i32.add (global.get $z) (i32.const 65534)) (i32.const 7))
    (i32.store (i32.add (global.get $z) (i32.const 65532)) (i32.const 7))
    (i64.store (i32.add (global.get $z) (i32.const 65528)) (i64.const 0x0706050403020100))
    (i64.store offset=65527 (i32.add (global.get $z) (i32.const 1)) (i64.const 0x0706050403020100))
    (f64.store offset=65528 (global.get $z) (f64.const 1.5))
    (if (i32.ne (i32.load8_u (i32.add (global.get $z) (i32.const 65535))) (i32.const 0x3f))  ;; top byte of 1.5
      (then unreachable))
    (drop (i64.load offset=65528 (global.get $z)))
    (drop (i32.load16_u offset=0xfffe (global.get $z)))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
