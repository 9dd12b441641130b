;; Declares a minimum of 128 pages (8 MiB) under a route limit of 4 MiB:
;; the instance cannot be made at all, every request fails, the server
;; stays up.
(module
  (memory (export "memory") 128)
  (func (export "_start")))
