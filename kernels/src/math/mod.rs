//! Transcendental functions, for `f32` scalars and `f32x4` vectors from one code
//! path: range reduction, then a polynomial. No libm call per element, as in XLA's
//! CPU backend, which also inlines polynomials.
//!
//! Every function is branch-free: special inputs (±inf, NaN, ±0, out of range) are
//! handled by clamping or by a final select, so vector lanes never diverge, and the
//! scalar and vector forms compute bit-identical results. The coefficients are
//! Cephes' single-precision minimax fits (S. L. Moshier, 1992) and, for erf and
//! tanh, Eigen's rational fits (erf's is also XLA's). [`MathFn::error_bound`] is what
//! `tests/math.rs` measures against an f64 reference.
//!
//! Each algorithm is written once, generic over `Arith`, an instruction builder
//! with two implementations: `cranelift` emits inline Cranelift IR for the CPU
//! ([`emit`]), and `wgsl` writes the same operations, in the same order, as a WGSL
//! function for the GPU ([`wgsl`], [`wgsl_prelude`]).

mod cranelift;
mod wgsl;

pub use cranelift::{emit, emit2};
pub use wgsl::{wgsl, wgsl_prelude};

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
    Tan,
    Cbrt,
    /// atan2(x, y): the angle of the point (y, x), as `hlo`'s `atan2` (binary).
    Atan2,
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
    pub const ALL: [MathFn; 12] = [
        MathFn::Exp,
        MathFn::Expm1,
        MathFn::Log,
        MathFn::Log1p,
        MathFn::Tanh,
        MathFn::Logistic,
        MathFn::Erf,
        MathFn::Sin,
        MathFn::Cos,
        MathFn::Tan,
        MathFn::Cbrt,
        MathFn::Atan2,
    ];

    /// How many operands the function takes (1, or 2 for atan2).
    pub fn arity(self) -> usize {
        if self == MathFn::Atan2 { 2 } else { 1 }
    }

    /// The exact value, in f64, that the error bounds are measured against.
    pub fn reference(self, x: f64) -> f64 {
        match self {
            MathFn::Exp => x.exp(),
            MathFn::Expm1 => x.exp_m1(),
            MathFn::Log => x.ln(),
            MathFn::Log1p => x.ln_1p(),
            MathFn::Tanh => x.tanh(),
            MathFn::Logistic if x < 0.0 => x.exp() / (1.0 + x.exp()),
            MathFn::Logistic => 1.0 / (1.0 + (-x).exp()),
            MathFn::Erf => libm::erf(x),
            MathFn::Sin => x.sin(),
            MathFn::Cos => x.cos(),
            MathFn::Tan => x.tan(),
            MathFn::Cbrt => x.cbrt(),
            MathFn::Atan2 => unreachable!("atan2 takes two operands: see reference2"),
        }
    }

    /// The exact value of a binary function, in f64.
    pub fn reference2(self, x: f64, y: f64) -> f64 {
        match self {
            MathFn::Atan2 => x.atan2(y),
            f => unreachable!("{f:?} takes one operand"),
        }
    }

    /// The bound the tests assert. On the CPU, scans of every 47th `f32` bit
    /// pattern (every 13th for sin and cos) measured at most: exp 0.87 (1.01
    /// before Horner ran to the end), expm1 1.44, log 0.80, log1p 2.37, logistic
    /// 2.40 and erf 5.61 ulps (Eigen's fit: 1.4 for tiny x, 3.7 near 0.1, the
    /// rest just below saturation); sin and cos 7.1e-8 absolute for
    /// |x| ≤ [`TRIG_EXACT_LIMIT`]. tanh, over every `f32` (it is exactly odd):
    /// 5.11 ulps at 7.037449, about 2.6 for |x| < 1 and 1.9 for |x| < 0.01;
    /// where tanh nears 1, each rounding in P and Q costs about an ulp. The
    /// GPU's WGSL meets the same bounds (`cli/tests/gpu.rs` measures it).
    pub fn error_bound(self) -> ErrorBound {
        match self {
            MathFn::Exp => ErrorBound::Ulps(1.5),
            MathFn::Log => ErrorBound::Ulps(1.0),
            MathFn::Expm1 => ErrorBound::Ulps(2.0),
            MathFn::Log1p | MathFn::Logistic => ErrorBound::Ulps(3.0),
            MathFn::Tanh | MathFn::Erf => ErrorBound::Ulps(6.0),
            MathFn::Sin | MathFn::Cos => ErrorBound::Absolute(1e-7),
            MathFn::Tan => ErrorBound::Ulps(TAN_ULPS),
            MathFn::Cbrt => ErrorBound::Ulps(CBRT_ULPS),
            MathFn::Atan2 => ErrorBound::Ulps(ATAN2_ULPS),
        }
    }
}

/// `f(args)` in `e`'s instructions: the one place both builders pick the
/// algorithm. `args` holds [`MathFn::arity`] values.
fn apply<A: Arith>(e: &mut A, f: MathFn, args: &[A::V]) -> A::V {
    let x = args[0];
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
        MathFn::Tan => tan(e, x),
        MathFn::Cbrt => cbrt(e, x),
        MathFn::Atan2 => atan2(e, x, args[1]),
    }
}

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

/// log1p's near range, [√½ − 1, √2 − 1): there log's core runs on x itself.
const LOG1P_NEAR: (f32, f32) = (-0.292_893_2, 0.414_213_57);

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

fn exp<A: Arith>(e: &mut A, x: A::V) -> A::V {
    // Beyond [-104, 89] e^x rounds to 0 or inf; clamping (which lets NaN through)
    // keeps n in the range the two-step scaling below covers.
    let x = e.clamp(x, -104.0, 89.0);
    let (n, r, p) = exp_reduced(e, x);
    // e^r = (P·r + 1)·r + 1, by Horner to the end: each constant is an fma's
    // addend, which no compiler reassociates.
    let one = e.float(1.0);
    let p = e.fma(p, r, one);
    let p = e.fma(p, r, one);
    // 2^n for n in [-150, 128] is not always a normal float, but 2^(n/2) is: scale
    // twice, so subnormal results round once and overflow gives inf.
    let half = e.sshr_imm(n, 1);
    let rest = e.isub(n, half);
    let (s1, s2) = (e.pow2(half, 127), e.pow2(rest, 127));
    let p = e.fmul(p, s1);
    e.fmul(p, s2)
}

fn expm1<A: Arith>(e: &mut A, x: A::V) -> A::V {
    // Below -30 e^x − 1 rounds to −1, above 89 to inf.
    let xc = e.clamp(x, -30.0, 89.0);
    let (n, r, p) = exp_reduced(e, xc);
    let r2 = e.fmul(r, r);
    let q = e.fma(r2, p, r);
    // e^x − 1 = 2^n·(1 + q) − 1 = 2·(s·q + (s − ½)) with s = 2^(n−1): exactly q when
    // n = 0, so small x keeps its relative accuracy, and s stays normal up to
    // n = 128, where the doubling overflows to inf as it should.
    let s = e.pow2(n, 126);
    let offset = e.add_const(s, -0.5);
    let t = e.fma(s, q, offset);
    let r = e.fadd(t, t);
    e.keep_zero(x, r)
}

/// The Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, shared by exp and
/// expm1, with P(r) where e^r = 1 + r + r²·P(r). Returns n as an integer, r and
/// P(r). `x` must have |x| < 2^21.
fn exp_reduced<A: Arith>(e: &mut A, x: A::V) -> (A::V, A::V, A::V) {
    let (n, n_int) = e.round_scaled(x, LOG2_E);
    let r = e.cody_waite(x, (n, n_int), &[LN2_HI, LN2_LO]);
    let p = e.poly(r, &EXP_P);
    (n_int, r, p)
}

fn log<A: Arith>(e: &mut A, x: A::V) -> A::V {
    // A subnormal's exponent field says nothing: scale it by 2^23 into the normals
    // first and take the 23 back from the exponent.
    let tiny = e.cmp_const(Cmp::Less, x, f32::MIN_POSITIVE);
    let scaled = e.mul_const(x, 8_388_608.0);
    let xs = e.select(tiny, scaled, x);
    let (taken, none) = (e.float(23.0), e.float(0.0));
    let bias = e.select(tiny, taken, none);
    // xs = 2^k·m with m in [√½, √2), by integer arithmetic on the bits as musl's
    // logf: offsetting by 1 − √½ makes the exponent field carry k.
    let bits = e.as_int(xs);
    let ix = e.iadd_const(bits, 0x3f80_0000 - 0x3f35_04f3);
    let k = e.sshr_imm(ix, 23);
    let k = e.iadd_const(k, 127u32.wrapping_neg());
    let m = e.band_const(ix, 0x007f_ffff);
    let m = e.iadd_const(m, 0x3f35_04f3);
    let m = e.as_float(m);
    let k = e.int_to_float(k);
    let k = e.fsub(k, bias);
    // f = m − 1 is exact (Sterbenz), so log near 1 is relative-accurate.
    let f = e.add_const(m, -1.0);
    let r = log_reduced(e, f, k);
    // The bit arithmetic is meaningless for +inf, NaN, 0 and negatives.
    let not_finite = e.cmp_const(Cmp::UnorderedOrGreaterOrEqual, x, f32::INFINITY);
    let r = e.select(not_finite, x, r);
    let negative = e.cmp_const(Cmp::Less, x, 0.0);
    let nan = e.float(f32::NAN);
    let r = e.select(negative, nan, r);
    let is_zero = e.cmp_const(Cmp::Equal, x, 0.0);
    let neg_inf = e.float(f32::NEG_INFINITY);
    e.select(is_zero, neg_inf, r)
}

/// Cephes logf's core: log(2^k·(1 + f)) for f in [√½ − 1, √2 − 1).
fn log_reduced<A: Arith>(e: &mut A, f: A::V, k: A::V) -> A::V {
    let z = e.fmul(f, f);
    let p = e.poly(f, &LOG_P);
    let fz = e.fmul(f, z);
    let y = e.fmul(fz, p);
    let y = e.fma_const(k, LN2_LO, y);
    let y = e.fma_const(z, -0.5, y);
    let r = e.fadd(f, y);
    e.fma_const(k, LN2_HI, r)
}

fn log1p<A: Arith>(e: &mut A, x: A::V) -> A::V {
    // Where 1 + x lies in [√½, √2), log's core takes f = x itself, so nothing
    // rounds. Elsewhere |log(1 + x)| > 0.34, and rounding 1 + x costs at most
    // half an ulp of it. (Kahan's trick, dividing by (1 + x) − 1, would be
    // shorter, but shader compilers fold (x + 1) − 1 to x.)
    let zero = e.float(0.0);
    let near = log_reduced(e, x, zero);
    let u = e.add_const(x, 1.0);
    let far = log(e, u);
    let below = e.cmp_const(Cmp::Less, x, LOG1P_NEAR.0);
    let above = e.cmp_const(Cmp::GreaterOrEqual, x, LOG1P_NEAR.1);
    let r = e.select(below, far, near);
    let r = e.select(above, far, r);
    // −0 stays −0 (NaN fails both compares and stays NaN through the core).
    e.keep_zero(x, r)
}

fn tanh<A: Arith>(e: &mut A, x: A::V) -> A::V {
    // The fit is exactly ±1 at ±TANH_CLAMP, so clamping saturates large |x| and
    // ±inf with no select after; NaN passes through. Every step is odd in x, so
    // the result is too, bit for bit.
    let x = e.clamp(x, -TANH_CLAMP, TANH_CLAMP);
    let x2 = e.fmul(x, x);
    let x3 = e.fmul(x2, x);
    let p = e.poly(x2, &TANH_P);
    // x + x³·P rather than x·(1 + x²·P): below about 2^-12 it rounds to x and Q
    // to 1, so tiny x (−0 included) comes back exact, with no select for it.
    let p = e.fma(x3, p, x);
    let q = e.poly(x2, &TANH_Q);
    let r = e.fdiv(p, q);
    e.saturate(x, r, TANH_CLAMP)
}

fn logistic<A: Arith>(e: &mut A, x: A::V) -> A::V {
    // 1/(1 + e^−x) for x ≥ 0 and e^x/(1 + e^x) for x < 0 share t = e^−|x| in (0, 1]:
    // nothing overflows, and very negative x keeps its relative accuracy down into
    // the subnormals.
    let a = e.fabs(x);
    let minus_a = e.fneg(a);
    let t = exp(e, minus_a);
    let negative = e.cmp_const(Cmp::Less, x, 0.0);
    let one = e.float(1.0);
    let num = e.select(negative, t, one);
    let den = e.add_const(t, 1.0);
    e.fdiv(num, den)
}

fn erf<A: Arith>(e: &mut A, x: A::V) -> A::V {
    let x2 = e.fmul(x, x);
    let p = e.poly(x2, &ERF_P);
    let p = e.fmul(x, p);
    let q = e.poly(x2, &ERF_Q);
    let r = e.fdiv(p, q);
    // NaN fails the compare and stays NaN; ±inf (inf/inf above) saturates.
    let a = e.fabs(x);
    let saturated = e.cmp_const(Cmp::GreaterOrEqual, a, ERF_SATURATION);
    let one = e.float(1.0);
    let one = e.with_sign_of(one, x);
    e.select(saturated, one, r)
}

/// sin x, or cos x = sin(x + π/2) with `quadrant` 1.
fn sin_cos<A: Arith>(e: &mut A, x: A::V, quadrant: u32) -> A::V {
    // Cody–Waite: x = j·π/2 + r. The first two steps are exact for j < 2^13, so r
    // carries only the last fma's rounding.
    let (j, j_int) = e.round_scaled(x, FRAC_2_PI);
    let r = e.cody_waite(x, (j, j_int), &[PIO2_1, PIO2_2, PIO2_3]);
    let r = e.clamp(r, -TRIG_MAX_R, TRIG_MAX_R);
    let z = e.fmul(r, r);
    let rz = e.fmul(r, z);
    let s = e.poly(z, &SIN_P);
    let s = e.fma(rz, s, r);
    let c = e.poly(z, &COS_P);
    let minus_half = e.float(-0.5);
    let c = e.fma(z, c, minus_half);
    let one = e.float(1.0);
    let c = e.fma(z, c, one);
    // sin x is sin r, cos r, −sin r, −cos r as j mod 4 is 0, 1, 2, 3.
    let q = e.iadd_const(j_int, quadrant);
    let odd = e.band_const(q, 1);
    let zero = e.int(0);
    let odd = e.icmp_ne(odd, zero);
    let v = e.select(odd, c, s);
    let negate = e.band_const(q, 2);
    let sign = e.ishl_imm(negate, 30);
    let v = e.as_int(v);
    let v = e.bxor(v, sign);
    let v = e.as_float(v);
    // r + r³·S is +0 for r = −0, and sin is odd.
    if quadrant == 0 { e.keep_zero(x, v) } else { v }
}

/// tan, cbrt and atan2's bounds. Measured over `tests/math.rs`'s grids and a
/// scan of every 1031st `f32` bit pattern: cbrt 0.73 ulps, atan2 2.73 (over
/// circles of radii 1e-30 to 1e30 and mixed scales), tan 18.7 at -11188.8 on
/// |x| ≤ [`TRIG_EXACT_LIMIT`]: near a pole tan x = −1/r for a small reduced r,
/// whose absolute error (the Cody–Waite split's) becomes relative there; for
/// small |x| it stays within a few ulps.
const TAN_ULPS: f32 = 24.0;
const CBRT_ULPS: f32 = 1.0;
const ATAN2_ULPS: f32 = 3.0;

/// Cephes `tanf` on |r| ≤ π/4: tan r = r + r³·P(r²).
const TAN_P: [f32; 6] = [
    9.385_401e-3,
    3.119_922_3e-3,
    2.443_013_6e-2,
    5.341_128e-2,
    1.333_879_9e-1,
    3.333_315_7e-1,
];

/// Cephes `atanf` on |t| ≤ tan(π/8): atan t = t + t³·P(t²).
const ATAN_P: [f32; 4] = [
    8.053_744_5e-2,
    -1.387_768_5e-1,
    1.997_771_1e-1,
    -3.333_295e-1,
];

/// A cubic fit of ∛t on [½, 4) (relative error under 2%), where Newton's
/// steps start.
const CBRT_GUESS: [f32; 4] = [0.010_886_45, -0.110_290_26, 0.522_202_4, 0.572_544_3];

fn tan<A: Arith>(e: &mut A, x: A::V) -> A::V {
    // The reduction of sin and cos: x = j·π/2 + r, then tan x is tan r for even
    // j and −1/tan r for odd j.
    let (j, j_int) = e.round_scaled(x, FRAC_2_PI);
    let r = e.cody_waite(x, (j, j_int), &[PIO2_1, PIO2_2, PIO2_3]);
    let r = e.clamp(r, -TRIG_MAX_R, TRIG_MAX_R);
    let z = e.fmul(r, r);
    let rz = e.fmul(r, z);
    let p = e.poly(z, &TAN_P);
    let t = e.fma(rz, p, r);
    let minus_one = e.float(-1.0);
    let cot = e.fdiv(minus_one, t);
    let odd = e.band_const(j_int, 1);
    let zero = e.int(0);
    let odd = e.icmp_ne(odd, zero);
    let v = e.select(odd, cot, t);
    e.keep_zero(x, v)
}

fn cbrt<A: Arith>(e: &mut A, x: A::V) -> A::V {
    // |x| = 2^(3q + s)·m with m in [1, 2) and s in {-1, 0, 1}: ∛|x| = 2^q·∛(2^s·m).
    // Subnormals scale by 2^24 into the normals first (8 off q).
    let a = e.fabs(x);
    let tiny = e.cmp_const(Cmp::Less, a, f32::MIN_POSITIVE);
    let scaled = e.mul_const(a, 16_777_216.0);
    let a = e.select(tiny, scaled, a);
    let bits = e.as_int(a);
    let k = e.sshr_imm(bits, 23);
    let k = e.iadd_const(k, 127u32.wrapping_neg());
    let k = e.int_to_float(k);
    let (eight, none) = (e.float(24.0), e.float(0.0));
    let bias = e.select(tiny, eight, none);
    let k = e.fsub(k, bias);
    let (q, q_int) = e.round_scaled(k, 1.0 / 3.0);
    let s = e.fma_const(q, -3.0, k);
    let m = e.band_const(bits, 0x007f_ffff);
    let m = e.iadd_const(m, 0x3f80_0000);
    let m = e.as_float(m);
    // 2^s for s in {-1, 0, 1}.
    let half = e.float(0.5);
    let two = e.float(2.0);
    let one = e.float(1.0);
    let below = e.cmp_const(Cmp::Less, s, -0.5);
    let above = e.cmp_const(Cmp::GreaterOrEqual, s, 0.5);
    let scale = e.select(below, half, one);
    let scale = e.select(above, two, scale);
    let t = e.fmul(m, scale);
    // Three Newton steps y ← y − (y³ − t)/(3y²) from the fit.
    let mut y = e.poly(t, &CBRT_GUESS);
    for _ in 0..3 {
        let y2 = e.fmul(y, y);
        let neg_t = e.fneg(t);
        let residual = e.fma(y2, y, neg_t);
        let den = e.mul_const(y2, 3.0);
        let step = e.fdiv(residual, den);
        y = e.fsub(y, step);
    }
    let r = e.pow2(q_int, 127);
    let r = e.fmul(y, r);
    let r = e.with_sign_of(r, x);
    // ±0, ±inf and NaN are their own cube roots.
    let special = e.cmp_const(Cmp::UnorderedOrGreaterOrEqual, a, f32::INFINITY);
    let r = e.select(special, x, r);
    e.keep_zero(x, r)
}

/// atan2(y, x) (XLA's operand order: `atan2(lhs, rhs)` is the angle of (rhs, lhs)).
fn atan2<A: Arith>(e: &mut A, y: A::V, x: A::V) -> A::V {
    // atan of t = min/max of |x| and |y| in [0, 1]; past tan(π/8), Cephes
    // reduces by atan t = π/4 + atan((t − 1)/(t + 1)).
    let ax = e.fabs(x);
    let ay = e.fabs(y);
    let steep = e.fcmp(Cmp::Less, ax, ay);
    let num = e.select(steep, ax, ay);
    let den = e.select(steep, ay, ax);
    let t = e.fdiv(num, den);
    // 0/0 (both zero) is 0 and inf/inf (both infinite) is 1; a NaN operand stays.
    let zero = e.float(0.0);
    let one = e.float(1.0);
    let num_zero = e.cmp_const(Cmp::Equal, num, 0.0);
    let zeros = e.select(num_zero, zero, t);
    let den_zero = e.cmp_const(Cmp::Equal, den, 0.0);
    let t = e.select(den_zero, zeros, t);
    let num_inf = e.cmp_const(Cmp::Equal, num, f32::INFINITY);
    let infs = e.select(num_inf, one, t);
    let den_inf = e.cmp_const(Cmp::Equal, den, f32::INFINITY);
    let t = e.select(den_inf, infs, t);
    let far = e.cmp_const(Cmp::GreaterOrEqual, t, 0.414_213_57);
    let tm = e.add_const(t, -1.0);
    let tp = e.add_const(t, 1.0);
    let reduced = e.fdiv(tm, tp);
    let u = e.select(far, reduced, t);
    let z = e.fmul(u, u);
    let uz = e.fmul(u, z);
    let p = e.poly(z, &ATAN_P);
    let r = e.fma(uz, p, u);
    let quarter = e.float(std::f32::consts::FRAC_PI_4);
    let shifted = e.fadd(r, quarter);
    let r = e.select(far, shifted, r);
    // Back to the octant: π/2 − r where |y| > |x|, then π − r where x < 0
    // (−0 included), and the sign of y.
    let half_pi = e.float(std::f32::consts::FRAC_PI_2);
    let flipped = e.fsub(half_pi, r);
    let r = e.select(steep, flipped, r);
    let pi = e.float(std::f32::consts::PI);
    let mirrored = e.fsub(pi, r);
    let xbits = e.as_int(x);
    let xsign = e.band_const(xbits, 0x8000_0000);
    let izero = e.int(0);
    let left = e.icmp_ne(xsign, izero);
    let r = e.select(left, mirrored, r);
    let r = e.fabs(r);
    e.with_sign_of(r, y)
}

/// A float comparison, true or false per lane: Cranelift's `FloatCC` of the same
/// name, only those the algorithms use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Less,
    Equal,
    GreaterOrEqual,
    /// Also true where either side is NaN.
    UnorderedOrGreaterOrEqual,
}

/// The instructions the algorithms above are written in, each one Cranelift
/// instruction of the same name (or the nearest), over values of three kinds: f32
/// lanes ("floats"), i32 lanes ("ints") and comparison results ("masks"), all of
/// one shape. A builder makes constants at that shape, so each function is written
/// once for `F32` and `F32X4` in Cranelift and for `f32` in WGSL. The provided
/// methods are the algorithms' shared building blocks; implementors supply only the
/// required ones, and must emit them in the order called (the Cranelift IR, and so
/// the generated code, depends on it).
trait Arith {
    /// A float, int or mask value.
    type V: Copy;

    /// The float constant `v`.
    fn float(&mut self, v: f32) -> Self::V;
    /// The int constant with bits `v`.
    fn int(&mut self, v: u32) -> Self::V;
    /// A float's bits as an int.
    fn as_int(&mut self, x: Self::V) -> Self::V;
    /// An int's bits as a float.
    fn as_float(&mut self, x: Self::V) -> Self::V;
    /// The signed int `x` converted to the nearest float.
    fn int_to_float(&mut self, x: Self::V) -> Self::V;

    fn fadd(&mut self, x: Self::V, y: Self::V) -> Self::V;
    fn fsub(&mut self, x: Self::V, y: Self::V) -> Self::V;
    fn fmul(&mut self, x: Self::V, y: Self::V) -> Self::V;
    fn fdiv(&mut self, x: Self::V, y: Self::V) -> Self::V;
    /// a·b + c, rounded once.
    fn fma(&mut self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    fn fabs(&mut self, x: Self::V) -> Self::V;
    fn fneg(&mut self, x: Self::V) -> Self::V;
    /// The mask of `x cc y`.
    fn fcmp(&mut self, cc: Cmp, x: Self::V, y: Self::V) -> Self::V;
    /// `mask ? x : y` per lane, for floats or ints.
    fn select(&mut self, mask: Self::V, x: Self::V, y: Self::V) -> Self::V;

    /// Wrapping int addition.
    fn iadd(&mut self, x: Self::V, y: Self::V) -> Self::V;
    /// Wrapping int subtraction.
    fn isub(&mut self, x: Self::V, y: Self::V) -> Self::V;
    fn band(&mut self, x: Self::V, y: Self::V) -> Self::V;
    fn bor(&mut self, x: Self::V, y: Self::V) -> Self::V;
    fn bxor(&mut self, x: Self::V, y: Self::V) -> Self::V;
    /// The mask of ints `x ≠ y`.
    fn icmp_ne(&mut self, x: Self::V, y: Self::V) -> Self::V;
    /// `x` shifted right by `bits` (< 32), copying the sign bit in.
    fn sshr_imm(&mut self, x: Self::V, bits: u32) -> Self::V;
    /// `x` shifted left by `bits` (< 32).
    fn ishl_imm(&mut self, x: Self::V, bits: u32) -> Self::V;

    /// `x` clamped to [lo, hi], NaN passing through.
    fn clamp(&mut self, x: Self::V, lo: f32, hi: f32) -> Self::V {
        let x = self.min(x, hi);
        let lo = self.float(lo);
        let below = self.fcmp(Cmp::Less, x, lo);
        self.select(below, lo, x)
    }

    /// The lesser of `x` and `hi`, NaN passing through. Written as compare-and-select
    /// rather than `fmin`, whose ±0 and NaN rules cost a branch (scalar) or seven
    /// instructions (vector) on x86: this shape lowers to one `minss`/`minps`, and
    /// `clamp`'s other half to one `maxps`.
    fn min(&mut self, x: Self::V, hi: f32) -> Self::V {
        let hi = self.float(hi);
        let above = self.fcmp(Cmp::Less, hi, x);
        self.select(above, hi, x)
    }

    fn fma_const(&mut self, a: Self::V, b: f32, c: Self::V) -> Self::V {
        let b = self.float(b);
        self.fma(a, b, c)
    }

    fn add_const(&mut self, x: Self::V, c: f32) -> Self::V {
        let c = self.float(c);
        self.fadd(x, c)
    }

    fn mul_const(&mut self, x: Self::V, c: f32) -> Self::V {
        let c = self.float(c);
        self.fmul(x, c)
    }

    fn cmp_const(&mut self, cc: Cmp, x: Self::V, c: f32) -> Self::V {
        let c = self.float(c);
        self.fcmp(cc, x, c)
    }

    fn iadd_const(&mut self, x: Self::V, c: u32) -> Self::V {
        let c = self.int(c);
        self.iadd(x, c)
    }

    fn band_const(&mut self, x: Self::V, c: u32) -> Self::V {
        let c = self.int(c);
        self.band(x, c)
    }

    /// `r`, but `x` where `x` is ±0: for odd functions whose last sum makes −0 +0.
    fn keep_zero(&mut self, x: Self::V, r: Self::V) -> Self::V {
        let is_zero = self.cmp_const(Cmp::Equal, x, 0.0);
        self.select(is_zero, x, r)
    }

    /// Horner's rule with fma, highest degree first.
    fn poly(&mut self, x: Self::V, coefficients: &[f32]) -> Self::V {
        let mut acc = self.float(coefficients[0]);
        for &c in &coefficients[1..] {
            let c = self.float(c);
            acc = self.fma(acc, x, c);
        }
        acc
    }

    /// The integer nearest x·scale, as a float and as an int; needs
    /// |x·scale| < 2^22. Each back end rounds its own way (see the impls).
    fn round_scaled(&mut self, x: Self::V, scale: f32) -> (Self::V, Self::V);

    /// `r`, an odd function's value at `x`, made exactly ±1 where |x| reaches
    /// `limit`. With a fused `fma`, the fits are exactly ±1 there already.
    fn saturate(&mut self, x: Self::V, r: Self::V, limit: f32) -> Self::V {
        let _ = (x, limit);
        r
    }

    /// x − n·(c₀ + c₁ + …) for n = (float, int) from [`Arith::round_scaled`],
    /// each step exact but the last: every part but the last has few enough
    /// significant bits that n·cᵢ is exact, and then so is the subtraction
    /// (Sterbenz).
    fn cody_waite(&mut self, x: Self::V, n: (Self::V, Self::V), parts: &[f32]) -> Self::V {
        parts.iter().fold(x, |r, &c| self.fma_const(n.0, -c, r))
    }

    /// 2^(n + bias − 127) for an int n with n + bias in [1, 254].
    fn pow2(&mut self, n: Self::V, bias: u32) -> Self::V {
        let biased = self.iadd_const(n, bias);
        let bits = self.ishl_imm(biased, 23);
        self.as_float(bits)
    }

    /// `x`, which must have a clear sign bit, with the sign of `sign`.
    fn with_sign_of(&mut self, x: Self::V, sign: Self::V) -> Self::V {
        let sign = self.as_int(sign);
        let sign = self.band_const(sign, 0x8000_0000);
        let x = self.as_int(x);
        let x = self.bor(x, sign);
        self.as_float(x)
    }
}
