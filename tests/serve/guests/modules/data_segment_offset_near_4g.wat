;; An active data segment at offset 0xFFFFFFFF: a 32-bit wrap of
;; offset + length would place it at the start of memory.
(module
  (memory (export "memory") 1)
  (data (i32.const -1) "xy")
  (func (export "_start")))
