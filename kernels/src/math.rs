//! Transcendental functions as inline Cranelift IR, for `f32` scalars and `f32x4`
//! vectors from one code path: range reduction, then a polynomial. No libm call per
//! element, as in XLA's CPU backend, which also inlines polynomials.
//!
//! Every function is branch-free: special inputs (±inf, NaN, ±0, out of range) are
//! handled by clamping or by a final select, so vector lanes never diverge, and the
//! scalar and vector forms compute bit-identical results. The coefficients are
//! Cephes' single-precision minimax fits (S. L. Moshier, 1992) and, for erf and
//! tanh, Eigen's rational fits (erf's is also XLA's). [`MathFn::error_bound`] is what
//! `tests/math.rs` measures against an f64 reference.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_frontend::FunctionBuilder;
use std::f32::consts::{FRAC_2_PI, LOG2_E};

/// The transcendental functions the CPU emitter computes inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFn {
    Exp,
    Expm1,
    Log,
    Log1p,
    Tanh,
    Logistic,
    Erf,
    Sin,
    Cos,
}

/// The worst error of [`emit`] against the exact result, over every `f32` input
/// unless the function's bound says otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ErrorBound {
    /// Units in the last place of the exact result's `f32` neighbourhood; below
    /// `f32::MIN_POSITIVE` an ulp is the subnormal spacing 2^-149.
    Ulps(f32),
    /// Absolute error, where range reduction makes relative error meaningless
    /// near the function's zeros.
    Absolute(f32),
}

/// sin and cos meet their bound for |x| up to here: beyond, the quadrant count
/// outgrows the exact products of the Cody–Waite split (2^13 quadrants). Past it
/// the result is still in [-1, 1], NaN for ±inf and NaN.
pub const TRIG_EXACT_LIMIT: f32 = 12867.0;

impl MathFn {
    pub const ALL: [MathFn; 9] = [
        MathFn::Exp,
        MathFn::Expm1,
        MathFn::Log,
        MathFn::Log1p,
        MathFn::Tanh,
        MathFn::Logistic,
        MathFn::Erf,
        MathFn::Sin,
        MathFn::Cos,
    ];

    /// The bound the tests assert. Scans of every 61st and every 47th `f32` bit
    /// pattern (every 13th for sin and cos) measured at most: exp 1.01, expm1 1.44,
    /// log 0.81, log1p 2.47, logistic 2.40 and erf 5.65 ulps (Eigen's fit: 1.4 for
    /// tiny x, 3.7 near 0.1, the rest just below saturation); sin and cos 7.1e-8
    /// absolute for |x| ≤ [`TRIG_EXACT_LIMIT`]. tanh, over every `f32` (it is exactly
    /// odd): 5.11 ulps at 7.037449, about 2.6 for |x| < 1 and 1.9 for |x| < 0.01;
    /// where tanh nears 1, each rounding in P and Q costs about an ulp.
    pub fn error_bound(self) -> ErrorBound {
        match self {
            MathFn::Exp => ErrorBound::Ulps(1.5),
            MathFn::Log => ErrorBound::Ulps(1.0),
            MathFn::Expm1 => ErrorBound::Ulps(2.0),
            MathFn::Log1p | MathFn::Logistic => ErrorBound::Ulps(3.0),
            MathFn::Tanh | MathFn::Erf => ErrorBound::Ulps(6.0),
            MathFn::Sin | MathFn::Cos => ErrorBound::Absolute(1e-7),
        }
    }
}

/// Emits `f(x)` for an `F32` or `F32X4` value `x`, returning a value of the same type.
pub fn emit(b: &mut FunctionBuilder, f: MathFn, x: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    assert!(
        ty == types::F32 || ty == types::F32X4,
        "math::emit takes f32 or f32x4, not {ty}"
    );
    let e = &mut Lanes { b, ty };
    match f {
        MathFn::Exp => exp(e, x),
        MathFn::Expm1 => expm1(e, x),
        MathFn::Log => log(e, x),
        MathFn::Log1p => log1p(e, x),
        MathFn::Tanh => tanh(e, x),
        MathFn::Logistic => logistic(e, x),
        MathFn::Erf => erf(e, x),
        MathFn::Sin => sin_cos(e, x, 0),
        MathFn::Cos => sin_cos(e, x, 1),
    }
}

/// Adding 1.5·2^23 leaves a sum whose ulp is 1, so the FPU's round-to-nearest
/// rounds to an integer and the low mantissa bits hold it in two's complement.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// ln 2 = LN2_HI + LN2_LO (Cephes): LN2_HI has 9 significant bits, so n·LN2_HI is
/// exact for the |n| ≤ 150 that exp meets.
const LN2_HI: f32 = 355.0 / 512.0;
const LN2_LO: f32 = -2.121_944_4e-4;

/// Cephes `expf`: e^r = 1 + r + r²·P(r) on |r| ≤ ln2/2.
const EXP_P: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5,
];

/// Cephes `logf`: ln(1+f) = f − f²/2 + f³·P(f) on √½ − 1 ≤ f < √2 − 1.
const LOG_P: [f32; 9] = [
    7.037_683_6e-2,
    -1.151_461e-1,
    1.167_699_9e-1,
    -1.242_014_1e-1,
    1.424_932_3e-1,
    -1.666_805_8e-1,
    2.000_071_5e-1,
    -2.499_999_4e-1,
    3.333_333e-1,
];

/// Eigen's `generic_fast_erf_float` (also XLA's): erf x = x·P(x²)/Q(x²).
#[expect(
    clippy::approx_constant,
    reason = "the fit's own leading term, an ulp below 2/√π, is more accurate overall"
)]
const ERF_P: [f32; 5] = [
    2.290_506_6e-4,
    3.408_291e-3,
    5.095_569_5e-2,
    1.852_083_2e-1,
    1.128_379_1,
];
const ERF_Q: [f32; 7] = [
    -1.179_160_3e-7,
    2.354_796_6e-5,
    1.017_962_5e-3,
    1.407_047e-2,
    1.109_850_5e-1,
    4.974_692_4e-1,
    1.0,
];
/// erfinv(1 − 2^-24): from here erf x is within an ulp of ±1, and the rational fit
/// would overshoot 1.
const ERF_SATURATION: f32 = 3.832_507;

/// Eigen's `ptanh_float` (its `EIGEN_FAST_MATH` form; an rminimax [9/8] fit on
/// [-8.67, 8.67]): tanh x = (x + x³·P(x²))/Q(x²).
const TANH_P: [f32; 4] = [
    1.394_553_6e-8,
    2.102_733_6e-5,
    3.520_756_7e-3,
    1.340_216_1e-1,
];
const TANH_Q: [f32; 5] = [
    8.015_777e-7,
    3.326_951_4e-4,
    2.597_254_5e-2,
    4.673_548_3e-1,
    1.0,
];
/// Eigen's clamp for its FMA build: the least x at which the fit, evaluated with
/// fma as below, is exactly 1 (tanh x is then 1 − 3.6 ulps).
const TANH_CLAMP: f32 = 8.017_734;

/// π/2 = PIO2_1 + PIO2_2 + PIO2_3 (Cephes' π/4 split, doubled). PIO2_1 has 8 and
/// PIO2_2 11 significant bits, so j·PIO2_1 and j·PIO2_2 are exact for j < 2^13.
const PIO2_1: f32 = 201.0 / 128.0;
const PIO2_2: f32 = 2029.0 / 4_194_304.0;
const PIO2_3: f32 = 7.549_79e-8;
/// j rounds x·fl(2/π), so r may pass π/4 by j·2^-24·π/2 < 1e-3 within
/// TRIG_EXACT_LIMIT, where the polynomials are still accurate. Beyond it r drifts
/// anywhere, and clamping r here keeps |sin x|, |cos x| ≤ 1.
const TRIG_MAX_R: f32 = 0.8;

/// Cephes `sinf`/`cosf` on |r| ≤ π/4: sin r = r + r³·S(r²),
/// cos r = 1 − r²/2 + r⁴·C(r²).
const SIN_P: [f32; 3] = [-1.951_529_6e-4, 8.332_161e-3, -1.666_665_5e-1];
const COS_P: [f32; 3] = [2.443_315_7e-5, -1.388_731_6e-3, 4.166_664_6e-2];

fn exp(e: &mut Lanes, x: Value) -> Value {
    // Beyond [-104, 89] e^x rounds to 0 or inf; clamping (which lets NaN through)
    // keeps n in the range the two-step scaling below covers.
    let x = e.clamp(x, -104.0, 89.0);
    let (n, q) = exp_reduced(e, x);
    let p = e.add(q, 1.0);
    // 2^n for n in [-150, 128] is not always a normal float, but 2^(n/2) is: scale
    // twice, so subnormal results round once and overflow gives inf.
    let half = e.b.ins().sshr_imm_u(n, 1);
    let rest = e.b.ins().isub(n, half);
    let (s1, s2) = (e.pow2(half, 127), e.pow2(rest, 127));
    let p = e.b.ins().fmul(p, s1);
    e.b.ins().fmul(p, s2)
}

fn expm1(e: &mut Lanes, x: Value) -> Value {
    // Below -30 e^x − 1 rounds to −1, above 89 to inf.
    let xc = e.clamp(x, -30.0, 89.0);
    let (n, q) = exp_reduced(e, xc);
    // e^x − 1 = 2^n·(1 + q) − 1 = 2·(s·q + (s − ½)) with s = 2^(n−1): exactly q when
    // n = 0, so small x keeps its relative accuracy, and s stays normal up to
    // n = 128, where the doubling overflows to inf as it should.
    let s = e.pow2(n, 126);
    let offset = e.add(s, -0.5);
    let t = e.b.ins().fma(s, q, offset);
    let r = e.b.ins().fadd(t, t);
    e.keep_zero(x, r)
}

/// The Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, and q = e^r − 1, shared by
/// exp and expm1. Returns n as an integer, and q. `x` must have |x| < 2^21.
fn exp_reduced(e: &mut Lanes, x: Value) -> (Value, Value) {
    let (n, n_int) = e.round_scaled(x, LOG2_E);
    // Exact: n·LN2_HI is, and it is within a factor 2 of x (Sterbenz).
    let r = e.fma_const(n, -LN2_HI, x);
    let r = e.fma_const(n, -LN2_LO, r);
    let r2 = e.b.ins().fmul(r, r);
    let p = e.poly(r, &EXP_P);
    (n_int, e.b.ins().fma(r2, p, r))
}

fn log(e: &mut Lanes, x: Value) -> Value {
    // A subnormal's exponent field says nothing: scale it by 2^23 into the normals
    // first and take the 23 back from the exponent.
    let tiny = e.cmp(FloatCC::LessThan, x, f32::MIN_POSITIVE);
    let scaled = e.mul(x, 8_388_608.0);
    let xs = e.select(tiny, scaled, x);
    let (taken, none) = (e.float(23.0), e.float(0.0));
    let bias = e.select(tiny, taken, none);
    // xs = 2^k·m with m in [√½, √2), by integer arithmetic on the bits as musl's
    // logf: offsetting by 1 − √½ makes the exponent field carry k.
    let bits = e.as_int(xs);
    let ix = e.iadd(bits, 0x3f80_0000 - 0x3f35_04f3);
    let k = e.b.ins().sshr_imm_u(ix, 23);
    let k = e.iadd(k, 127u32.wrapping_neg());
    let m = e.band(ix, 0x007f_ffff);
    let m = e.iadd(m, 0x3f35_04f3);
    let m = e.as_float(m);
    let k = e.b.ins().fcvt_from_sint(e.ty, k);
    let k = e.b.ins().fsub(k, bias);
    // Cephes logf. f = m − 1 is exact (Sterbenz), so log near 1 is relative-accurate.
    let f = e.add(m, -1.0);
    let z = e.b.ins().fmul(f, f);
    let p = e.poly(f, &LOG_P);
    let fz = e.b.ins().fmul(f, z);
    let y = e.b.ins().fmul(fz, p);
    let y = e.fma_const(k, LN2_LO, y);
    let y = e.fma_const(z, -0.5, y);
    let r = e.b.ins().fadd(f, y);
    let r = e.fma_const(k, LN2_HI, r);
    // The bit arithmetic is meaningless for +inf, NaN, 0 and negatives.
    let not_finite = e.cmp(FloatCC::UnorderedOrGreaterThanOrEqual, x, f32::INFINITY);
    let r = e.select(not_finite, x, r);
    let negative = e.cmp(FloatCC::LessThan, x, 0.0);
    let nan = e.float(f32::NAN);
    let r = e.select(negative, nan, r);
    let is_zero = e.cmp(FloatCC::Equal, x, 0.0);
    let neg_inf = e.float(f32::NEG_INFINITY);
    e.select(is_zero, neg_inf, r)
}

fn log1p(e: &mut Lanes, x: Value) -> Value {
    let u = e.add(x, 1.0);
    let d = e.add(u, -1.0);
    let l = log(e, u);
    // Kahan's trick (Goldberg 1991, theorem 4): log(u)/(u − 1) varies slowly, so it
    // cancels the rounding error of u = 1 + x.
    let ratio = e.b.ins().fdiv(l, d);
    let r = e.b.ins().fmul(x, ratio);
    // inf/inf above; and for u = 1, log1p x rounds to x (which keeps −0).
    let is_inf = e.cmp(FloatCC::Equal, u, f32::INFINITY);
    let r = e.select(is_inf, u, r);
    let is_one = e.cmp(FloatCC::Equal, u, 1.0);
    e.select(is_one, x, r)
}

fn tanh(e: &mut Lanes, x: Value) -> Value {
    // The fit is exactly ±1 at ±TANH_CLAMP, so clamping saturates large |x| and
    // ±inf with no select after; NaN passes through. Every step is odd in x, so
    // the result is too, bit for bit.
    let x = e.clamp(x, -TANH_CLAMP, TANH_CLAMP);
    let x2 = e.b.ins().fmul(x, x);
    let x3 = e.b.ins().fmul(x2, x);
    let p = e.poly(x2, &TANH_P);
    // x + x³·P rather than x·(1 + x²·P): below about 2^-12 it rounds to x and Q
    // to 1, so tiny x (−0 included) comes back exact, with no select for it.
    let p = e.b.ins().fma(x3, p, x);
    let q = e.poly(x2, &TANH_Q);
    e.b.ins().fdiv(p, q)
}

fn logistic(e: &mut Lanes, x: Value) -> Value {
    // 1/(1 + e^−x) for x ≥ 0 and e^x/(1 + e^x) for x < 0 share t = e^−|x| in (0, 1]:
    // nothing overflows, and very negative x keeps its relative accuracy down into
    // the subnormals.
    let a = e.b.ins().fabs(x);
    let minus_a = e.b.ins().fneg(a);
    let t = exp(e, minus_a);
    let negative = e.cmp(FloatCC::LessThan, x, 0.0);
    let one = e.float(1.0);
    let num = e.select(negative, t, one);
    let den = e.add(t, 1.0);
    e.b.ins().fdiv(num, den)
}

fn erf(e: &mut Lanes, x: Value) -> Value {
    let x2 = e.b.ins().fmul(x, x);
    let p = e.poly(x2, &ERF_P);
    let p = e.b.ins().fmul(x, p);
    let q = e.poly(x2, &ERF_Q);
    let r = e.b.ins().fdiv(p, q);
    // NaN fails the compare and stays NaN; ±inf (inf/inf above) saturates.
    let a = e.b.ins().fabs(x);
    let saturated = e.cmp(FloatCC::GreaterThanOrEqual, a, ERF_SATURATION);
    let one = e.float(1.0);
    let one = e.with_sign_of(one, x);
    e.select(saturated, one, r)
}

/// sin x, or cos x = sin(x + π/2) with `quadrant` 1.
fn sin_cos(e: &mut Lanes, x: Value, quadrant: u32) -> Value {
    // Cody–Waite: x = j·π/2 + r. The first two steps are exact for j < 2^13, so r
    // carries only the last fma's rounding.
    let (j, j_int) = e.round_scaled(x, FRAC_2_PI);
    let r = e.fma_const(j, -PIO2_1, x);
    let r = e.fma_const(j, -PIO2_2, r);
    let r = e.fma_const(j, -PIO2_3, r);
    let r = e.clamp(r, -TRIG_MAX_R, TRIG_MAX_R);
    let z = e.b.ins().fmul(r, r);
    let rz = e.b.ins().fmul(r, z);
    let s = e.poly(z, &SIN_P);
    let s = e.b.ins().fma(rz, s, r);
    let c = e.poly(z, &COS_P);
    let minus_half = e.float(-0.5);
    let c = e.b.ins().fma(z, c, minus_half);
    let one = e.float(1.0);
    let c = e.b.ins().fma(z, c, one);
    // sin x is sin r, cos r, −sin r, −cos r as j mod 4 is 0, 1, 2, 3.
    let q = e.iadd(j_int, quadrant);
    let odd = e.band(q, 1);
    let zero = e.int(0);
    let odd = e.b.ins().icmp(IntCC::NotEqual, odd, zero);
    let v = e.select(odd, c, s);
    let negate = e.band(q, 2);
    let sign = e.b.ins().ishl_imm_u(negate, 30);
    let v = e.as_int(v);
    let v = e.b.ins().bxor(v, sign);
    let v = e.as_float(v);
    // r + r³·S is +0 for r = −0, and sin is odd.
    if quadrant == 0 { e.keep_zero(x, v) } else { v }
}

/// A builder that makes constants and masks at the type of the values it works
/// on, so each function above is written once for `F32` and `F32X4`.
struct Lanes<'a, 'f> {
    b: &'a mut FunctionBuilder<'f>,
    ty: Type,
}

impl Lanes<'_, '_> {
    fn splat(&mut self, ty: Type, scalar: Value) -> Value {
        if self.ty.is_vector() {
            self.b.ins().splat(ty, scalar)
        } else {
            scalar
        }
    }

    fn float(&mut self, v: f32) -> Value {
        let c = self.b.ins().f32const(v);
        self.splat(self.ty, c)
    }

    fn int(&mut self, v: u32) -> Value {
        let c = self.b.ins().iconst(types::I32, i64::from(v));
        self.splat(self.ty.as_int(), c)
    }

    // Same lane count and width on both sides, so no byte order is needed.
    fn as_int(&mut self, x: Value) -> Value {
        self.b
            .ins()
            .bitcast(self.ty.as_int(), MemFlagsData::new(), x)
    }

    fn as_float(&mut self, x: Value) -> Value {
        self.b.ins().bitcast(self.ty, MemFlagsData::new(), x)
    }

    /// `mask ? x : y` per lane. A scalar compare gives an `i8`, a vector one a lane
    /// mask of all-ones or zeros, which `bitselect` takes at the operands' type.
    fn select(&mut self, mask: Value, x: Value, y: Value) -> Value {
        if !self.ty.is_vector() {
            return self.b.ins().select(mask, x, y);
        }
        let ty = self.b.func.dfg.value_type(x);
        let mask = if self.b.func.dfg.value_type(mask) == ty {
            mask
        } else {
            self.b.ins().bitcast(ty, MemFlagsData::new(), mask)
        };
        self.b.ins().bitselect(mask, x, y)
    }

    /// `x` clamped to [lo, hi], NaN passing through.
    fn clamp(&mut self, x: Value, lo: f32, hi: f32) -> Value {
        let x = self.min(x, hi);
        let lo = self.float(lo);
        let below = self.b.ins().fcmp(FloatCC::LessThan, x, lo);
        self.select(below, lo, x)
    }

    /// The lesser of `x` and `hi`, NaN passing through. Written as compare-and-select
    /// rather than `fmin`, whose ±0 and NaN rules cost a branch (scalar) or seven
    /// instructions (vector) on x86: this shape lowers to one `minss`/`minps`, and
    /// `clamp`'s other half to one `maxps`.
    fn min(&mut self, x: Value, hi: f32) -> Value {
        let hi = self.float(hi);
        let above = self.b.ins().fcmp(FloatCC::LessThan, hi, x);
        self.select(above, hi, x)
    }

    fn fma_const(&mut self, a: Value, b: f32, c: Value) -> Value {
        let b = self.float(b);
        self.b.ins().fma(a, b, c)
    }

    fn add(&mut self, x: Value, c: f32) -> Value {
        let c = self.float(c);
        self.b.ins().fadd(x, c)
    }

    fn mul(&mut self, x: Value, c: f32) -> Value {
        let c = self.float(c);
        self.b.ins().fmul(x, c)
    }

    fn cmp(&mut self, cc: FloatCC, x: Value, c: f32) -> Value {
        let c = self.float(c);
        self.b.ins().fcmp(cc, x, c)
    }

    fn iadd(&mut self, x: Value, c: u32) -> Value {
        let c = self.int(c);
        self.b.ins().iadd(x, c)
    }

    fn band(&mut self, x: Value, c: u32) -> Value {
        let c = self.int(c);
        self.b.ins().band(x, c)
    }

    /// `r`, but `x` where `x` is ±0: for odd functions whose last sum makes −0 +0.
    fn keep_zero(&mut self, x: Value, r: Value) -> Value {
        let is_zero = self.cmp(FloatCC::Equal, x, 0.0);
        self.select(is_zero, x, r)
    }

    /// Horner's rule with fma, highest degree first.
    fn poly(&mut self, x: Value, coefficients: &[f32]) -> Value {
        let mut acc = self.float(coefficients[0]);
        for &c in &coefficients[1..] {
            let c = self.float(c);
            acc = self.b.ins().fma(acc, x, c);
        }
        acc
    }

    /// The integer nearest x·scale, as a float and as an integer; needs
    /// |x·scale| < 2^22.
    fn round_scaled(&mut self, x: Value, scale: f32) -> (Value, Value) {
        let magic = self.float(ROUND_MAGIC);
        let k = self.fma_const(x, scale, magic);
        let n = self.b.ins().fsub(k, magic);
        let k = self.as_int(k);
        let magic_bits = self.int(ROUND_MAGIC.to_bits());
        (n, self.b.ins().isub(k, magic_bits))
    }

    /// 2^(n + bias − 127) for an integer n with n + bias in [1, 254].
    fn pow2(&mut self, n: Value, bias: u32) -> Value {
        let biased = self.iadd(n, bias);
        let bits = self.b.ins().ishl_imm_u(biased, 23);
        self.as_float(bits)
    }

    /// `x`, which must have a clear sign bit, with the sign of `sign`.
    fn with_sign_of(&mut self, x: Value, sign: Value) -> Value {
        let sign = self.as_int(sign);
        let sign = self.band(sign, 0x8000_0000);
        let x = self.as_int(x);
        let x = self.b.ins().bor(x, sign);
        self.as_float(x)
    }
}
