;; Address 0xFFFFFFFF plus offset 1 is exactly 4 GiB: it must trap, not
;; wrap around to address 0 (which is in bounds).
(module
  (memory (export "memory") 1)
  (global $a (mut i32) (i32.const -1))
  (func (export "_start")
    (drop (i32.load8_u offset=1 (global.get $a)))))
