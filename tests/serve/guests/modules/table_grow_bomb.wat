;; The table bomb: table.grow by huge deltas must return -1 (0x7FFFFFFF,
;; 0xFFFFFFFF); then grow by 1,000,000 entries (each a real function
;; reference, so every entry is written) until refused, and exit with the
;; number of successful grows.  Whatever the cap, the server's memory must
;; come back afterwards.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (elem declare func $f)
  (func $f)
  (func (export "_start")
    (local $n i32)
    (if (i32.ne (table.grow $t (ref.func $f) (i32.const 0x7fffffff)) (i32.const -1)) (then unreachable))
    (if (i32.ne (table.grow $t (ref.func $f) (i32.const -1)) (i32.const -1)) (then unreachable))
    (block $done
      (loop $l
        (br_if $done (i32.eq (table.grow $t (ref.func $f) (i32.const 1000000)) (i32.const -1)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $n) (i32.const 5000)))))
    (call $exit (local.get $n))))
