;; The memory bomb of memory_bomb_grow_loop on a route WITHOUT max-memory-mb:
;; the server's --max-memory-mb (default 256) stops it, so it exits with
;; 4095 (4096 pages - the first) instead of growing to 4 GiB.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $old i32) (local $n i32) (local $off i32)
    (block $done
      (loop $grow
        (local.set $old (memory.grow (i32.const 1)))
        (br_if $done (i32.eq (local.get $old) (i32.const -1)))
        (local.set $off (i32.const 0))
        (loop $touch
          (i32.store8 (i32.add (i32.shl (local.get $old) (i32.const 16)) (local.get $off)) (i32.const 1))
          (local.set $off (i32.add (local.get $off) (i32.const 4096)))
          (br_if $touch (i32.lt_u (local.get $off) (i32.const 65536))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $grow)))
    (call $exit (local.get $n))))
