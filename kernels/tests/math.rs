//! `math::emit` through the JIT, against f64 references: each function's error
//! bound over dense grids, log-spaced sweeps and random samples, its IEEE special
//! cases, and the scalar and vector forms agreeing bit for bit.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Type, types};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};
use omelet_kernels::math::{self, ErrorBound, MathFn, TRIG_EXACT_LIMIT};

type Kernel = extern "C" fn(*const f32, *const f32, *mut f32, usize);

/// A JIT-compiled `dst[i] = f(src[i])` (or `f(src[i], src2[i])` for a binary
/// function) over n elements, `ty`'s lanes at a time.
struct Compiled {
    _module: JITModule,
    kernel: Kernel,
}

fn compile(f: MathFn, ty: Type) -> Compiled {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").unwrap();
    let isa = cranelift_native::builder()
        .unwrap()
        .finish(settings::Flags::new(flags))
        .unwrap();
    let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
    let ptr = module.target_config().pointer_type();
    let mut ctx = module.make_context();
    for _ in 0..4 {
        ctx.func.signature.params.push(AbiParam::new(ptr));
    }
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let (entry, head, body, exit) = (
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
    );
    b.append_block_params_for_function_params(entry);
    b.append_block_param(head, ptr);
    b.switch_to_block(entry);
    let [src, src2, dst, n] = b.block_params(entry).try_into().unwrap();
    let zero = b.ins().iconst(ptr, 0);
    b.ins().jump(head, &[zero.into()]);
    b.switch_to_block(head);
    let i = b.block_params(head)[0];
    let more = b.ins().icmp(IntCC::UnsignedLessThan, i, n);
    b.ins().brif(more, body, &[], exit, &[]);
    b.switch_to_block(body);
    let offset = b.ins().ishl_imm_u(i, 2);
    let (from, to) = (b.ins().iadd(src, offset), b.ins().iadd(dst, offset));
    let x = b.ins().load(ty, MemFlagsData::trusted(), from, 0);
    let y = if f.arity() == 2 {
        let from2 = b.ins().iadd(src2, offset);
        let x2 = b.ins().load(ty, MemFlagsData::trusted(), from2, 0);
        math::emit2(&mut b, f, x, x2)
    } else {
        math::emit(&mut b, f, x)
    };
    b.ins().store(MemFlagsData::trusted(), y, to, 0);
    let next = b.ins().iadd_imm_u(i, i64::from(ty.lane_count()));
    b.ins().jump(head, &[next.into()]);
    b.switch_to_block(exit);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(module.target_config());
    let id = module
        .declare_function("kernel", Linkage::Local, &ctx.func.signature)
        .unwrap();
    module.define_function(id, &mut ctx).unwrap();
    module.finalize_definitions().unwrap();
    let code = module.get_finalized_function(id);
    // SAFETY: the function was built with exactly this signature.
    let kernel = unsafe { std::mem::transmute::<*const u8, Kernel>(code) };
    Compiled {
        _module: module,
        kernel,
    }
}

/// `f` over `xs` by the vector kernel, after checking the scalar one agrees bit for bit.
fn apply(f: MathFn, xs: &[f32]) -> Vec<f32> {
    apply2(f, xs, xs)
}

/// `f` over pairs of `xs` and `ys` (a unary `f` reads `xs` only).
fn apply2(f: MathFn, xs: &[f32], ys: &[f32]) -> Vec<f32> {
    let mut xs = xs.to_vec();
    xs.resize(xs.len().next_multiple_of(4), 0.0);
    let mut ys = ys.to_vec();
    ys.resize(xs.len(), 0.0);
    let run = |ty| {
        let compiled = compile(f, ty);
        let mut out = vec![0.0f32; xs.len()];
        (compiled.kernel)(xs.as_ptr(), ys.as_ptr(), out.as_mut_ptr(), xs.len());
        out
    };
    let (vector, scalar) = (run(types::F32X4), run(types::F32));
    for ((x, v), s) in xs.iter().zip(&vector).zip(&scalar) {
        assert_eq!(
            v.to_bits(),
            s.to_bits(),
            "{f:?}({x:e}): f32x4 {v:e}, f32 {s:e}"
        );
    }
    vector
}

/// The f32 spacing around `v` (2^-149 among subnormals; overflowing values sit
/// on the lattice continued past `f32::MAX`).
fn ulp(v: f64) -> f64 {
    let exponent = v.abs().log2().floor().max(-126.0);
    (exponent - 23.0).exp2()
}

/// The worst error of `f` over `xs`, in the bound's unit, and where it happens.
/// Asserts NaN exactly where the reference is NaN and infinities where it is.
fn measure(f: MathFn, xs: &[f32]) -> (f64, f32) {
    let got = apply(f, xs);
    let mut worst = (0.0, 0.0);
    for (&x, &y) in xs.iter().zip(&got) {
        let want = f.reference(f64::from(x));
        assert_eq!(
            y.is_nan(),
            want.is_nan(),
            "{f:?}({x:e}) = {y:e}, want {want:e}"
        );
        if want.is_nan() || y == want as f32 {
            continue;
        }
        assert!(want.is_finite(), "{f:?}({x:e}) = {y:e}, want {want:e}");
        // A result past f32::MAX is as wrong as its distance on that lattice.
        let y = if y.is_infinite() {
            f64::from(y.signum()) * 2f64.powi(128)
        } else {
            f64::from(y)
        };
        let error = match f.error_bound() {
            ErrorBound::Ulps(_) => (y - want).abs() / ulp(want),
            ErrorBound::Absolute(_) => (y - want).abs(),
        };
        if error > worst.0 {
            worst = (error, x);
        }
    }
    worst
}

/// Asserts `f`'s error bound over `grids` and the special values; for sin and cos
/// only up to their exact range.
fn check(f: MathFn, grids: &[Grid]) {
    let limit = match f {
        MathFn::Sin | MathFn::Cos | MathFn::Tan => TRIG_EXACT_LIMIT,
        _ => f32::INFINITY,
    };
    let xs = grids.iter().flat_map(Grid::points).chain(SPECIAL);
    let xs: Vec<f32> = xs.filter(|x| x.abs() <= limit || !x.is_finite()).collect();
    let (error, at) = measure(f, &xs);
    let bound = match f.error_bound() {
        ErrorBound::Ulps(b) | ErrorBound::Absolute(b) => f64::from(b),
    };
    eprintln!(
        "{f:?}: worst error {error:.3e} at {at:e} over {} inputs",
        xs.len()
    );
    assert!(
        error <= bound,
        "{f:?}({at:e}) is off by {error:e}, bound {bound:e}"
    );
}

const SPECIAL: [f32; 8] = [
    0.0,
    -0.0,
    f32::INFINITY,
    -f32::INFINITY,
    f32::NAN,
    f32::MAX,
    -f32::MAX,
    1e-45,
];

enum Grid {
    /// n points evenly spaced on [lo, hi].
    Linear(f32, f32, usize),
    /// n points log-spaced on [lo, hi] (evenly spaced bit patterns), and their negations.
    Log(f32, f32, usize),
    /// n uniform samples on [lo, hi] from a fixed xorshift, so failures reproduce.
    Random(f32, f32, usize),
}

impl Grid {
    fn points(&self) -> Vec<f32> {
        match *self {
            Grid::Linear(lo, hi, n) => {
                let (lo, hi) = (f64::from(lo), f64::from(hi));
                (0..n)
                    .map(|i| (lo + (hi - lo) * i as f64 / (n - 1) as f64) as f32)
                    .collect()
            }
            Grid::Log(lo, hi, n) => {
                let (lo, hi) = (u64::from(lo.to_bits()), u64::from(hi.to_bits()));
                let bits = (0..n as u64).map(|i| (lo + (hi - lo) * i / (n as u64 - 1)) as u32);
                bits.flat_map(|b| [f32::from_bits(b), -f32::from_bits(b)])
                    .collect()
            }
            Grid::Random(lo, hi, n) => {
                let mut state = 0x9e37_79b9_7f4a_7c15u64;
                let (lo, hi) = (f64::from(lo), f64::from(hi));
                let mut next = || {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 11) as f64 / (1u64 << 53) as f64
                };
                (0..n).map(|_| (lo + (hi - lo) * next()) as f32).collect()
            }
        }
    }
}

use Grid::{Linear, Log, Random};

#[test]
fn exp() {
    let grids = [
        Linear(-104.0, 89.0, 200_000),
        Random(-110.0, 90.0, 100_000),
        Log(1e-30, 1.0, 20_000),
    ];
    check(MathFn::Exp, &grids);
}

#[test]
fn expm1() {
    let grids = [
        Linear(-30.0, 89.0, 200_000),
        Log(1e-38, 2.0, 100_000),
        Random(-2.0, 2.0, 50_000),
    ];
    check(MathFn::Expm1, &grids);
}

#[test]
fn log() {
    let grids = [
        Log(1e-45, f32::MAX, 300_000),
        Linear(0.5, 2.0, 100_000),
        Random(-1.0, 1e3, 20_000),
    ];
    check(MathFn::Log, &grids);
}

#[test]
fn log1p() {
    let grids = [
        Log(1e-38, f32::MAX, 200_000),
        Linear(-1.0, 10.0, 100_000),
        Random(-1.5, 1.0, 50_000),
    ];
    check(MathFn::Log1p, &grids);
}

#[test]
fn tanh() {
    let grids = [
        Linear(-20.0, 20.0, 200_000),
        Log(1e-38, 20.0, 100_000),
        // Every f32 of ±[7, 7.1], around the worst input found (7.037449, 5.11 ulps).
        Log(7.0, 7.1, 210_000),
    ];
    check(MathFn::Tanh, &grids);
    // Exactly odd and never past ±1: the grid holds each x beside −x.
    let xs = Log(1e-38, 20.0, 100_000).points();
    for (x, y) in xs.chunks(2).zip(apply(MathFn::Tanh, &xs).chunks(2)) {
        assert_eq!(y[1].to_bits(), (-y[0]).to_bits(), "tanh(±{:e})", x[0]);
        assert!(y[0].abs() <= 1.0, "tanh({:e}) = {:e}", x[0], y[0]);
    }
}

#[test]
fn logistic() {
    let grids = [
        Linear(-20.0, 20.0, 200_000),
        Linear(-110.0, 110.0, 100_000),
        Log(1e-38, 1.0, 20_000),
    ];
    check(MathFn::Logistic, &grids);
}

#[test]
fn erf() {
    let grids = [
        Linear(-20.0, 20.0, 200_000),
        Linear(-4.0, 4.0, 100_000),
        Log(1e-38, 20.0, 100_000),
    ];
    check(MathFn::Erf, &grids);
}

const TRIG: [Grid; 3] = [
    Linear(-1e4, 1e4, 400_000),
    Random(-TRIG_EXACT_LIMIT, TRIG_EXACT_LIMIT, 100_000),
    Log(1e-38, 4.0, 50_000),
];

#[test]
fn sin() {
    check(MathFn::Sin, &TRIG);
}

#[test]
fn cos() {
    check(MathFn::Cos, &TRIG);
}

#[test]
fn tan() {
    check(MathFn::Tan, &TRIG);
}

#[test]
fn cbrt() {
    let grids = [
        Log(1e-45, f32::MAX, 300_000),
        Linear(-10.0, 10.0, 100_000),
        Random(-1e3, 1e3, 50_000),
    ];
    check(MathFn::Cbrt, &grids);
}

/// atan2 over pairs: every angle on circles of many radii, and mixed scales.
#[test]
fn atan2() {
    let angles = Linear(-3.2, 3.2, 20_000).points();
    let mut ys = Vec::new();
    let mut xs = Vec::new();
    for radius in [1e-30f64, 1e-3, 1.0, 7.5, 1e5, 1e30] {
        for &a in &angles {
            ys.push((radius * f64::from(a).sin()) as f32);
            xs.push((radius * f64::from(a).cos()) as f32);
        }
    }
    let scales = Random(-1e4, 1e4, 100_000).points();
    ys.extend(scales.iter().map(|s| s * 1e-3));
    xs.extend(scales.iter().rev());
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f32::INFINITY,
        -f32::INFINITY,
        1e-45,
        f32::MAX,
    ];
    for &y in &specials {
        for &x in &specials {
            ys.push(y);
            xs.push(x);
        }
    }
    let got = apply2(MathFn::Atan2, &ys, &xs);
    let mut worst = (0.0, 0.0, 0.0);
    for ((&y, &x), &r) in ys.iter().zip(&xs).zip(&got) {
        let want = MathFn::Atan2.reference2(f64::from(y), f64::from(x));
        if r as f64 == want || r == want as f32 {
            continue;
        }
        let error = (f64::from(r) - want).abs() / ulp(want);
        if error > worst.0 {
            worst = (error, y, x);
        }
    }
    eprintln!(
        "Atan2: worst error {:.3e} at ({:e}, {:e})",
        worst.0, worst.1, worst.2
    );
    let ErrorBound::Ulps(bound) = MathFn::Atan2.error_bound() else {
        unreachable!("atan2's bound is in ulps")
    };
    assert!(worst.0 <= f64::from(bound), "atan2{:?}", (worst.1, worst.2));
    // NaN in either operand gives NaN; signed zeros give ±0 and ±π exactly.
    let nan = f32::NAN;
    let r = apply2(
        MathFn::Atan2,
        &[nan, 1.0, -0.0, 0.0, -0.0],
        &[1.0, nan, 1.0, -0.0, -1.0],
    );
    assert!(r[0].is_nan() && r[1].is_nan());
    assert_eq!(r[2].to_bits(), (-0.0f32).to_bits());
    assert_eq!(r[3], std::f32::consts::PI);
    assert_eq!(r[4], -std::f32::consts::PI);
}

#[test]
fn trig_stays_bounded_past_its_exact_range() {
    let xs = Log(TRIG_EXACT_LIMIT, f32::MAX, 50_000).points();
    for f in [MathFn::Sin, MathFn::Cos] {
        for (x, y) in xs.iter().zip(apply(f, &xs)) {
            assert!(
                y.abs() <= 1.0 || (y.is_nan() && !x.is_finite()),
                "{f:?}({x:e}) = {y:e}"
            );
        }
    }
}

/// The IEEE edges, exactly: saturation, signed zeros, infinities and NaN.
#[test]
fn special_values() {
    let (inf, nan) = (f32::INFINITY, f32::NAN);
    #[rustfmt::skip]
    let cases: &[(MathFn, f32, f32)] = &[
        (MathFn::Exp, inf, inf), (MathFn::Exp, -inf, 0.0), (MathFn::Exp, 89.0, inf),
        (MathFn::Exp, -104.0, 0.0), (MathFn::Exp, 0.0, 1.0), (MathFn::Exp, -0.0, 1.0),
        (MathFn::Expm1, inf, inf), (MathFn::Expm1, -inf, -1.0), (MathFn::Expm1, -0.0, -0.0),
        (MathFn::Expm1, 1e-30, 1e-30),
        (MathFn::Log, 0.0, -inf), (MathFn::Log, -0.0, -inf), (MathFn::Log, -1.0, nan),
        (MathFn::Log, -inf, nan), (MathFn::Log, inf, inf), (MathFn::Log, 1.0, 0.0),
        (MathFn::Log1p, -1.0, -inf), (MathFn::Log1p, -2.0, nan), (MathFn::Log1p, inf, inf),
        (MathFn::Log1p, -0.0, -0.0), (MathFn::Log1p, 1e-30, 1e-30),
        (MathFn::Tanh, inf, 1.0), (MathFn::Tanh, -inf, -1.0), (MathFn::Tanh, -0.0, -0.0),
        (MathFn::Tanh, 10.0, 1.0), (MathFn::Tanh, -1e-30, -1e-30), (MathFn::Tanh, 8.5, 1.0),
        (MathFn::Tanh, -f32::MAX, -1.0), (MathFn::Tanh, 1e-45, 1e-45), (MathFn::Tanh, 1e-5, 1e-5),
        (MathFn::Logistic, inf, 1.0), (MathFn::Logistic, -inf, 0.0), (MathFn::Logistic, 0.0, 0.5),
        (MathFn::Erf, inf, 1.0), (MathFn::Erf, -inf, -1.0), (MathFn::Erf, -0.0, -0.0),
        (MathFn::Erf, 5.0, 1.0),
        (MathFn::Sin, -0.0, -0.0), (MathFn::Sin, inf, nan), (MathFn::Cos, 0.0, 1.0),
        (MathFn::Cos, -inf, nan),
        (MathFn::Tan, -0.0, -0.0), (MathFn::Tan, inf, nan), (MathFn::Tan, 0.0, 0.0),
        (MathFn::Cbrt, -0.0, -0.0), (MathFn::Cbrt, inf, inf), (MathFn::Cbrt, -inf, -inf),
        (MathFn::Cbrt, 8.0, 2.0), (MathFn::Cbrt, -27.0, -3.0), (MathFn::Cbrt, 0.0, 0.0),
    ];
    for &(f, x, want) in cases {
        let got = apply(f, &[x])[0];
        let same = got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
        assert!(same, "{f:?}({x:e}) = {got:e}, want {want:e}");
    }
    for f in MathFn::ALL.into_iter().filter(|f| f.arity() == 1) {
        assert!(apply(f, &[nan])[0].is_nan(), "{f:?}(NaN)");
    }
    let sigma = apply(MathFn::Logistic, &Linear(-200.0, 200.0, 10_000).points());
    assert!(sigma.iter().all(|s| (0.0..=1.0).contains(s)));
}

/// Every `stride`-th `f32` bit pattern (sin and cos only up to their exact range),
/// for the bounds `MathFn::error_bound` states; slow unoptimized, so run with
/// `cargo test --release -p omelet-kernels --test math -- --ignored`.
#[test]
#[ignore = "about a minute in release mode"]
fn scan_bit_patterns() {
    for f in MathFn::ALL.into_iter().filter(|f| f.arity() == 1) {
        let stride = match f {
            MathFn::Sin | MathFn::Cos | MathFn::Tan => 13,
            _ => 47,
        };
        let limit = match f {
            MathFn::Sin | MathFn::Cos | MathFn::Tan => TRIG_EXACT_LIMIT,
            _ => f32::INFINITY,
        };
        let mut worst = (0.0, 0.0);
        let bits: Vec<u32> = (0..=u32::MAX).step_by(stride).collect();
        for chunk in bits.chunks(1 << 22) {
            let xs: Vec<f32> = chunk
                .iter()
                .map(|&b| f32::from_bits(b))
                .filter(|x| x.abs() <= limit || !x.is_finite())
                .collect();
            let (error, at) = measure(f, &xs);
            if error > worst.0 {
                worst = (error, at);
            }
        }
        let bound = match f.error_bound() {
            ErrorBound::Ulps(b) | ErrorBound::Absolute(b) => f64::from(b),
        };
        eprintln!("{f:?}: worst error {:.3e} at {:e}", worst.0, worst.1);
        assert!(
            worst.0 <= bound,
            "{f:?}({:e}) is off by {:e}",
            worst.1,
            worst.0
        );
    }
}
