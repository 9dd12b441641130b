;; The table bomb times 16: sixteen tables, each grown by 1,000,000 real
;; function references until refused.  The table limit (10,000,000
;; entries) must cap all of an instance's tables together, not each one:
;; per table it let one request take 16 x 80 MB = 1.25 GB.  Exits with the
;; number of successful grows (10 with the limit for all tables).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (table $t0 0 funcref)
  (table $t1 0 funcref)
  (table $t2 0 funcref)
  (table $t3 0 funcref)
  (table $t4 0 funcref)
  (table $t5 0 funcref)
  (table $t6 0 funcref)
  (table $t7 0 funcref)
  (table $t8 0 funcref)
  (table $t9 0 funcref)
  (table $t10 0 funcref)
  (table $t11 0 funcref)
  (table $t12 0 funcref)
  (table $t13 0 funcref)
  (table $t14 0 funcref)
  (table $t15 0 funcref)
  (elem declare func $f)
  (func $f)
  (func (export "_start") (local $n i32)
    (block $d0 (loop $l0
      (br_if $d0 (i32.eq (table.grow $t0 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l0)))
    (block $d1 (loop $l1
      (br_if $d1 (i32.eq (table.grow $t1 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l1)))
    (block $d2 (loop $l2
      (br_if $d2 (i32.eq (table.grow $t2 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l2)))
    (block $d3 (loop $l3
      (br_if $d3 (i32.eq (table.grow $t3 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l3)))
    (block $d4 (loop $l4
      (br_if $d4 (i32.eq (table.grow $t4 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l4)))
    (block $d5 (loop $l5
      (br_if $d5 (i32.eq (table.grow $t5 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l5)))
    (block $d6 (loop $l6
      (br_if $d6 (i32.eq (table.grow $t6 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l6)))
    (block $d7 (loop $l7
      (br_if $d7 (i32.eq (table.grow $t7 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l7)))
    (block $d8 (loop $l8
      (br_if $d8 (i32.eq (table.grow $t8 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l8)))
    (block $d9 (loop $l9
      (br_if $d9 (i32.eq (table.grow $t9 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l9)))
    (block $d10 (loop $l10
      (br_if $d10 (i32.eq (table.grow $t10 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l10)))
    (block $d11 (loop $l11
      (br_if $d11 (i32.eq (table.grow $t11 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l11)))
    (block $d12 (loop $l12
      (br_if $d12 (i32.eq (table.grow $t12 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l12)))
    (block $d13 (loop $l13
      (br_if $d13 (i32.eq (table.grow $t13 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l13)))
    (block $d14 (loop $l14
      (br_if $d14 (i32.eq (table.grow $t14 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l14)))
    (block $d15 (loop $l15
      (br_if $d15 (i32.eq (table.grow $t15 (ref.func $f) (i32.const 1000000)) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l15)))
    (call $exit (local.get $n))))
