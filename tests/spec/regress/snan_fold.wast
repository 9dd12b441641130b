;; float_exprs.wast:75/106/136/148/160/172/638/2349-2361: x-0.0, x*1.0, x/1.0,
;; x/-1.0, -0.0-x, -1.0*x and demote(promote(x)) must turn a signalling NaN
;; into a quiet one; cc may not fold them to x (or -x).
(module
  (func (export "sub0") (param $x f32) (result f32) (f32.sub (local.get $x) (f32.const 0.0)))
  (func (export "mul1") (param $x f64) (result f64) (f64.mul (local.get $x) (f64.const 1.0)))
  (func (export "divm1") (param $x f32) (result f32) (f32.div (local.get $x) (f32.const -1.0)))
  (func (export "promdem") (param $x f32) (result f32) (f32.demote_f64 (f64.promote_f32 (local.get $x)))))
(assert_return (invoke "sub0" (f32.const nan:0x200000)) (f32.const nan:arithmetic))
(assert_return (invoke "mul1" (f64.const nan:0x4000000000000)) (f64.const nan:arithmetic))
(assert_return (invoke "divm1" (f32.const nan:0x200000)) (f32.const nan:arithmetic))
(assert_return (invoke "promdem" (f32.const nan:0x200000)) (f32.const nan:arithmetic))
