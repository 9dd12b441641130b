;; Address 0 with the largest offset immediate (0xFFFFFFFF): the effective
;; address is just under 4 GiB, far past a 1-page memory.
(module
  (memory (export "memory") 1)
  (global $z (mut i32) (i32.const 0))
  (func (export "_start")
    (drop (i32.load offset=0xffffffff (global.get $z)))))
