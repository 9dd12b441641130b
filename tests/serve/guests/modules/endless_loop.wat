;; Spins forever: ends only by the route's timeout-us (504).
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $l (br $l))))
