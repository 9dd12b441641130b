;; After growing from 1 to 3 pages, the first byte of page 3 is still out
;; of bounds (software mode must use the new size, not a stale or a
;; rounded-up one; guard mode must not leave the next page open).
(module
  (memory (export "memory") 1)
  (global $z (mut i32) (i32.const 0))
  (func (export "_start")
    (if (i32.ne (memory.grow (i32.const 2)) (i32.const 1)) (then unreachable))
    (i32.store8 (i32.add (global.get $z) (i32.const 196607)) (i32.const 1))
    (i32.store8 (i32.add (global.get $z) (i32.const 196608)) (i32.const 1))))
