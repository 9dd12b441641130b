;; Guard mode: a load whose value feeds the address of another access
;; needs no WOP_KEEP barrier (src/compile/cg_keep.c) -- but only when cc
;; truly cannot do without it.  Each function here uses a load in an
;; address where cc could fold it away (x & 0, a byte >> 8, x - x' of two
;; loads of one address, a store or branch in between), so the
;; out-of-bounds load must still trap; and the cases where the barrier is
;; left out must still trap out of bounds and read the right values.
(module
  (memory 1)
  (data (i32.const 0) "\08\00\00\00\2a\00\00\00\04\00\00\00")
  (func (export "and_zero") (param i32) (result i32)
    (i32.load (i32.and (i32.load (local.get 0)) (i32.const 0))))
  (func (export "byte_shifted_out") (param i32) (result i32)
    (i32.load (i32.shr_u (i32.load8_u (local.get 0)) (i32.const 8))))
  (func (export "same_address_sub") (param i32) (result i32)
    (i32.load (i32.sub (i32.load (local.get 0)) (i32.load (local.get 0)))))
  (func (export "across_branch") (param i32) (result i32)
    (local.set 0 (i32.load (local.get 0)))
    (block (br_if 0 (i32.const 1)))
    (i32.load (i32.and (local.get 0) (i32.const 0))))
  ;; Barrier left out: the loaded value is the next load's address.
  (func (export "chase") (param i32) (result i32)
    (i32.load (i32.load (local.get 0))))
  (func (export "table") (param i32) (result i32)
    (i32.load (i32.shl (i32.and (i32.load8_u (local.get 0)) (i32.const 3)) (i32.const 2))))
  (func (export "store_at") (param i32)
    (i32.store (i32.load (local.get 0)) (i32.const 99)))
  (func (export "read") (param i32) (result i32) (i32.load (local.get 0)))
)
(assert_trap (invoke "and_zero" (i32.const 65535)) "out of bounds memory access")
(assert_return (invoke "and_zero" (i32.const 4)) (i32.const 8))
(assert_trap (invoke "byte_shifted_out" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "byte_shifted_out" (i32.const 4)) (i32.const 8))
(assert_trap (invoke "same_address_sub" (i32.const 65533)) "out of bounds memory access")
(assert_return (invoke "same_address_sub" (i32.const 4)) (i32.const 8))
(assert_trap (invoke "across_branch" (i32.const -4)) "out of bounds memory access")
(assert_return (invoke "across_branch" (i32.const 8)) (i32.const 8))
(assert_trap (invoke "chase" (i32.const 65534)) "out of bounds memory access")
(assert_return (invoke "chase" (i32.const 0)) (i32.const 4))
(assert_return (invoke "chase" (i32.const 8)) (i32.const 42))
(assert_trap (invoke "table" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "table" (i32.const 8)) (i32.const 8))
(assert_return (invoke "table" (i32.const 4)) (i32.const 4))
(assert_trap (invoke "store_at" (i32.const 65533)) "out of bounds memory access")
(invoke "store_at" (i32.const 8))
(assert_return (invoke "read" (i32.const 4)) (i32.const 99))
