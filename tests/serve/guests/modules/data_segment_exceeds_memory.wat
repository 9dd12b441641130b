;; An active data segment that runs 4 bytes past the end of its memory:
;; instantiation fails (out of bounds memory access) on every request.
(module
  (memory (export "memory") 1)
  (data (i32.const 65530) "0123456789")
  (func (export "_start")))
