;; Address 0xFFFFFFFF plus offset 0xFFFFFFFF, 8 bytes: the effective
;; address is 8 GiB - 2, beyond anything a 32-bit sum could reach.  A
;; store, so a wrong mask or a 32-bit wrap would write somewhere.
(module
  (memory (export "memory") 1)
  (global $a (mut i32) (i32.const -1))
  (func (export "_start")
    (i64.store offset=0xffffffff (global.get $a) (i64.const -1))))
