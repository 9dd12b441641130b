;; slow — sleeps 200 ms (poll_oneoff, a relative monotonic clock
;; subscription), then answers "slept\n".  For http_e2e.py: a request that
;; is still in flight while the client pipelines, disconnects, or the
;; server is told to stop.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "slept\n")
  ;; subscription at 0: userdata 0, tag 0 (clock), clock id 1 (monotonic),
  ;; timeout 200 ms, precision 0, flags 0 (relative); events at 512;
  ;; iovec at 768, bytes written at 784
  (func (export "_start")
    (i64.store (i32.const 0) (i64.const 0))
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 200000000))
    (i64.store (i32.const 32) (i64.const 0))
    (i32.store16 (i32.const 40) (i32.const 0))
    (drop (call $poll (i32.const 0) (i32.const 512) (i32.const 1) (i32.const 560)))
    (i32.store (i32.const 768) (i32.const 1024))
    (i32.store (i32.const 772) (i32.const 6))
    (drop (call $write (i32.const 1) (i32.const 768) (i32.const 1) (i32.const 784)))))
