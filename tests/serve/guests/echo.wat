;; echo — the request body (stdin) back as the response body (stdout).
;; For http_e2e.py, which needs a route that returns what it was sent.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  ;; 0: read iovec, 16: bytes read, 32: write iovec, 48: bytes written,
  ;; 65536..131071: the buffer
  (memory (export "memory") 2)
  (func (export "_start") (local $n i32) (local $off i32) (local $w i32)
    (block $done
      (loop $more
        (i32.store (i32.const 0) (i32.const 65536))
        (i32.store (i32.const 4) (i32.const 65536))
        (br_if $done (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
        (local.set $n (i32.load (i32.const 16)))
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $off (i32.const 65536))
        (loop $write_more
          (i32.store (i32.const 32) (local.get $off))
          (i32.store (i32.const 36) (local.get $n))
          (br_if $done (call $write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 48)))
          (local.set $w (i32.load (i32.const 48)))
          (br_if $done (i32.eqz (local.get $w)))
          (local.set $off (i32.add (local.get $off) (local.get $w)))
          (local.set $n (i32.sub (local.get $n) (local.get $w)))
          (br_if $write_more (local.get $n)))
        (br $more)))))
