;; The runner's own test: commands that must pass, and commands built to
;; fail (each listed in expected-failures.txt).  run_spec.py fails if any
;; of the latter passes or any of the former fails, so a runner that
;; compares too loosely or too strictly is caught.

(module $M
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "print_i32" (func $print (param i32)))
  (global (export "g") i32 (global.get $g))
  (func (export "add") (param i32 i32) (result i32) (call $print (local.get 0)) (i32.add (local.get 0) (local.get 1)))
  (func (export "bits32") (param i32) (result f32) (f32.reinterpret_i32 (local.get 0)))
  (func (export "bits64") (param i64) (result f64) (f64.reinterpret_i64 (local.get 0)))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "null") (result funcref) (ref.null func))
  (func (export "two") (result i32 i64) (i32.const 1) (i64.const -1))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
)
(register "M" $M)

;; passes
(assert_return (get "g") (i32.const 666))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "bits32" (i32.const 0x7fc00000)) (f32.const nan:canonical))
(assert_return (invoke "bits32" (i32.const 0xffc00000)) (f32.const nan:canonical))
(assert_return (invoke "bits32" (i32.const 0x7fc00001)) (f32.const nan:arithmetic))
(assert_return (invoke "bits64" (i64.const 0x7ff8000000000001)) (f64.const nan:arithmetic))
(assert_return (invoke "bits32" (i32.const 0x80000000)) (f32.const -0.0))
(assert_return (invoke "id" (ref.extern 1)) (ref.extern 1))
(assert_return (invoke "id" (ref.extern 0)) (ref.extern 0))
(assert_return (invoke "id" (ref.null extern)) (ref.null extern))
(assert_return (invoke "null") (ref.null func))
(assert_return (invoke "two") (i32.const 1) (i64.const -1))
(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")

;; built to fail (line numbers in expected-failures.txt)
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))
(assert_return (invoke "bits32" (i32.const 0x7fc00001)) (f32.const nan:canonical))
(assert_return (invoke "bits32" (i32.const 0x7fa00000)) (f32.const nan:arithmetic))
(assert_return (invoke "bits32" (i32.const 0x00000000)) (f32.const -0.0))
(assert_return (invoke "bits64" (i64.const 0x7ff4000000000000)) (f64.const nan:arithmetic))
(assert_return (invoke "id" (ref.extern 1)) (ref.extern 2))
(assert_return (invoke "id" (ref.extern 0)) (ref.null extern))
(assert_return (invoke "two") (i32.const 1) (i64.const 1))
(assert_trap (invoke "div" (i32.const 0)) "unreachable")
(assert_trap (invoke "div" (i32.const 1)) "integer divide by zero")
(assert_return (invoke "div" (i32.const 0)) (i32.const 0))

;; a module importing from the registered one
(module
  (import "M" "add" (func $add (param i32 i32) (result i32)))
  (func (export "add3") (param i32) (result i32) (call $add (local.get 0) (i32.const 3))))
(assert_return (invoke "add3" (i32.const 4)) (i32.const 7))
(assert_unlinkable
  (module (import "M" "nope" (func)))
  "unknown import")
(assert_unlinkable
  (module (import "M" "add" (func)))
  "incompatible import type")
;; built to fail: this one links
(assert_unlinkable
  (module (import "M" "add" (func (param i32 i32) (result i32))))
  "unknown import")
