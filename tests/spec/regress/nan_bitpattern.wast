;; float_exprs.wast:2349-2361 through the i32/i64 reinterpret path: the same
;; sNaN folds as snan_fold.wast, seen as bit patterns.
(module
  (func (export "f32.no_fold_mul_one") (param $x i32) (result i32)
    (i32.and (i32.reinterpret_f32 (f32.mul (f32.reinterpret_i32 (local.get $x)) (f32.const 1.0)))
             (i32.const 0x7fc00000))))
(assert_return (invoke "f32.no_fold_mul_one" (i32.const 0x7fa00000)) (i32.const 0x7fc00000))
