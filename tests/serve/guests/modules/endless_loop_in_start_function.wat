;; Spins forever in the module's start function, i.e. during
;; instantiation, before _start: the timeout must reach it there too.
(module
  (memory (export "memory") 1)
  (func $spin (loop $l (br $l)))
  (start $spin)
  (func (export "_start")))
