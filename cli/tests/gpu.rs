//! The GPU backend where the fixtures do not reach:
//! - `gpu::limits::NAME`: iteration spaces of more than 65535 workgroups in each
//!   schedule (elements, rows, GEMM tiles), which the shaders cover with
//!   grid-stride loops, and the GEMM's large tiles and computed operands,
//!   against the interpreter on pseudo-random inputs;
//! - `gpu::edges::NAME`: programs the fuzzers found the GPU wrong on (empty
//!   dimensions, huge slice strides, pow's special values, tanh's saturation),
//!   on the inputs that showed it;
//! - `gpu::math::NAME`: each transcendental over a sweep of the `f32` range,
//!   within the CPU's error bound of an f64 reference;
//! - `gpu::types::TYPE::OP` (`gpu_types/`): every element type the backend
//!   takes, each op on it, bit for bit against the interpreter on edge values;
//!   `gpu::types::refused::TYPE`: the 64-bit types refused by name;
//! - `gpu::bench`: `omelet bench --backends gpu,cpu` reports the GPU's kernel
//!   time (timestamps) apart from its end-to-end time.
//!
//! Without an adapter the trials are ignored, with the reason printed; where
//! `OMELET_REQUIRE_TOOLS` is set (`.ci/run`) that is a failure.

mod gpu_types;
mod support;

use libtest_mimic::{Arguments, Failed, Trial};
use ndarray::ArrayD;
use omelet_compiler::hlo::{ElementType, Module};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_kernels::math::{ErrorBound, MathFn, TRIG_EXACT_LIMIT};
use omelet_runtime::{Array, gpu, interp};

use support::{compare_normwise, gpu_device, ignore_gpu_trials};

/// (name, HLO text): each larger than 65535 workgroups of its schedule.
const PROGRAMS: &[(&str, &str)] = &[
    (
        // 16,810,000 elements: 65,665 workgroups of 256 threads.
        "elements_over_65535_groups",
        "HloModule m
ENTRY e {
  x = f32[4100,4100] parameter(0)
  y = f32[4100,4100] parameter(1)
  s = f32[4100,4100] add(x, y)
  ROOT t = f32[4100,4100] tanh(s)
}
",
    ),
    (
        // 70,000 rows, a workgroup each.
        "rows_over_65535_groups",
        "HloModule m
max {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] maximum(a, b)
}
ENTRY e {
  x = f32[70000,8] parameter(0)
  z = f32[] constant(-inf)
  s = f32[70000] reduce(x, z), dimensions={1}, to_apply=max
  b = f32[70000,8] broadcast(s), dimensions={0}
  ROOT d = f32[70000,8] subtract(x, b)
}
",
    ),
    (
        // 2,100,000 column sums, 32 to a workgroup: 65,625 workgroups.
        "columns_over_65535_groups",
        "HloModule m
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] add(a, b)
}
ENTRY e {
  x = f32[3,2100000] parameter(0)
  z = f32[] constant(0)
  ROOT s = f32[2100000] reduce(x, z), dimensions={0}, to_apply=add
}
",
    ),
    (
        // 70,000 batches of 3 × 3 products, a 64 × 64 tile each.
        "gemm_tiles_over_65535_groups",
        "HloModule m
ENTRY e {
  x = f32[70000,3,5] parameter(0)
  y = f32[70000,5,3] parameter(1)
  ROOT d = f32[70000,3,3] dot(x, y), lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}
}
",
    ),
    (
        // 128 × 128 tiles with ragged edges, a transposed right operand and an
        // epilogue (bias, then relu).
        "gemm_large_tiles_transposed_with_epilogue",
        "HloModule m
ENTRY e {
  x = f32[300,200] parameter(0)
  w = f32[260,200] parameter(1)
  b = f32[260] parameter(2)
  d = f32[300,260] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={1}
  bb = f32[300,260] broadcast(b), dimensions={1}
  s = f32[300,260] add(d, bb)
  z = f32[] constant(0)
  zb = f32[300,260] broadcast(z), dimensions={}
  ROOT r = f32[300,260] maximum(s, zb)
}
",
    ),
    (
        // A prologue: the tiles compute tanh(x) as they fill, per batch.
        "gemm_with_a_computed_operand",
        "HloModule m
ENTRY e {
  x = f32[2,70,50] parameter(0)
  w = f32[2,50,40] parameter(1)
  t = f32[2,70,50] tanh(x)
  d = f32[2,70,40] dot(t, w), lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}
  ROOT r = f32[2,70,40] multiply(d, d)
}
",
    ),
];

/// (name, HLO text, each input's values): programs the fuzzers found the GPU
/// backend wrong on, with the inputs that showed it.
const EDGES: &[(&str, &str, &[&[f32]])] = &[
    (
        // Empty dimensions: no division by the constant 0 in the shaders, no
        // empty workgroup arrays; a product over an empty k is zeros.
        "empty_dimensions",
        "HloModule m
ENTRY e {
  p = f32[2,0] parameter(0)
  q = f32[0,3] parameter(1)
  n = f32[2,0] negate(p)
  d = f32[2,3] dot(p, q), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  e = f32[0,2] dot(q, d), lhs_contracting_dims={1}, rhs_contracting_dims={1}
  ROOT t = (f32[2,0], f32[2,3], f32[0,2]) tuple(n, d, e)
}
",
        &[&[], &[]],
    ),
    (
        // A one-element slice whose stride does not fit a u32.
        "slice_stride_past_u32",
        "HloModule m
ENTRY e {
  v = f32[11] parameter(0)
  ROOT s = f32[1] slice(v), slice={[6:10:4224826609403331509]}
}
",
        &[&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]],
    ),
    (
        // C's pow for negative bases and infinite exponents.
        "power_of_negative_bases_to_infinities",
        "HloModule m
ENTRY e {
  x = f32[6] parameter(0)
  y = f32[6] parameter(1)
  ROOT p = f32[6] power(x, y)
}
",
        &[
            &[-2.0, -0.5, -1.0, -2.0, -0.5, -1.0],
            &[
                f32::INFINITY,
                f32::INFINITY,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
            ],
        ],
    ),
    (
        // tanh is exactly -1 past its clamp, so 1 + tanh(x) cancels to 0.
        "tanh_saturates_exactly",
        "HloModule m
ENTRY e {
  x = f32[3] parameter(0)
  t = f32[3] tanh(x)
  one = f32[] constant(1)
  ones = f32[3] broadcast(one), dimensions={}
  ROOT s = f32[3] add(t, ones)
}
",
        &[&[-2147483648.0, -9.0, -8.017734]],
    ),
    (
        // The mean over an empty batch is 0 / 0, NaN: shader compilers fold a
        // division by a constant zero (lavapipe to 0).
        "mean_over_empty_batch",
        "HloModule m
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] add(a, b)
}
ENTRY e {
  x = f32[0,4] parameter(0)
  z = f32[] constant(0)
  s = f32[4] reduce(x, z), dimensions={0}, to_apply=add
  n = f32[4] broadcast(z), dimensions={}
  ROOT m = f32[4] divide(s, n)
}
",
        &[&[]],
    ),
    (
        // Division and remainder by a constant zero, as `i / 0` traces (its
        // integers converted): ±inf by the signs, NaN for 0/0, NaN/0 and any
        // remainder by zero.
        "division_by_constant_zero",
        "HloModule m
ENTRY e {
  x = f32[6] parameter(0)
  z = f32[] constant(0)
  nz = f32[] constant(-0)
  zeros = f32[6] broadcast(z), dimensions={}
  negative_zeros = f32[6] broadcast(nz), dimensions={}
  d = f32[6] divide(x, zeros)
  dn = f32[6] divide(x, negative_zeros)
  r = f32[6] remainder(x, zeros)
  ROOT t = (f32[6], f32[6], f32[6]) tuple(d, dn, r)
}
",
        &[&[3.0, -2.0, 0.0, -0.0, f32::INFINITY, f32::NAN]],
    ),
];

fn main() {
    let args = Arguments::from_args();
    let ignored = ignore_gpu_trials();
    let limits = PROGRAMS.iter().map(|&(name, text)| {
        Trial::test(format!("gpu::limits::{name}"), move || {
            matches_interpreter(text)
        })
    });
    // tan, cbrt and atan2 join when the GPU backend compiles them (atan2, a
    // binary function, with a test of its own).
    let math = MathFn::ALL
        .into_iter()
        .filter(|f| !matches!(f, MathFn::Tan | MathFn::Cbrt | MathFn::Atan2))
        .map(|f| Trial::test(format!("gpu::math::{f:?}"), move || within_bound(f)));
    let edges = EDGES.iter().map(|&(name, text, values)| {
        Trial::test(format!("gpu::edges::{name}"), move || {
            matches_interpreter_on(text, Some(values))
        })
    });
    let bench = std::iter::once(Trial::test("gpu::bench", bench_reports_kernel_time));
    let trials = limits
        .chain(edges)
        .chain(gpu_types::trials())
        .chain(math)
        .chain(bench)
        .map(|t| t.with_ignored_flag(ignored))
        .chain(gpu_types::wgsl_trials())
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn matches_interpreter(text: &str) -> Result<(), Failed> {
    matches_interpreter_on(text, None)
}

/// The GPU against the interpreter on `values` (each input's, in order), else
/// on pseudo-random inputs.
fn matches_interpreter_on(text: &str, values: Option<&[&[f32]]>) -> Result<(), Failed> {
    let module = parse_module(text).map_err(|e| format!("{e:?}"))?;
    let inputs = match values {
        Some(values) => module
            .parameter_shapes()
            .iter()
            .zip(values)
            .map(|(s, v)| {
                let dims = s.as_array().expect("array parameters").dims.clone();
                Array::F32(ArrayD::from_shape_vec(dims, v.to_vec()).expect("sized"))
            })
            .collect(),
        None => inputs(&module),
    };
    let expected = interp::run(&module, &inputs).map_err(|e| e.to_string())?;
    let fused = compile(module, Stage::Fused).module;
    let executable = gpu::Executable::new(&fused, gpu_device()?).map_err(|e| e.to_string())?;
    let results = executable.run(&inputs).map_err(|e| e.to_string())?;
    // Normwise: a product's elements that cancel to near zero carry the
    // rounding of its largest terms, whatever the summation order.
    Ok(compare_normwise(&results, &expected, 1e-5)?)
}

/// Inputs in [-2, 2) from a fixed linear congruential sequence.
fn inputs(module: &Module) -> Vec<Array> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    module
        .parameter_shapes()
        .iter()
        .map(|s| {
            let shape = s.as_array().expect("array parameters");
            assert_eq!(shape.element, ElementType::F32);
            let values = (0..shape.element_count())
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
                })
                .collect();
            Array::F32(ArrayD::from_shape_vec(shape.dims.clone(), values).expect("sized"))
        })
        .collect()
}

/// The HLO op computing `f`.
fn opcode(f: MathFn) -> &'static str {
    match f {
        MathFn::Exp => "exponential",
        MathFn::Expm1 => "exponential-minus-one",
        MathFn::Log => "log",
        MathFn::Log1p => "log-plus-one",
        MathFn::Tanh => "tanh",
        MathFn::Logistic => "logistic",
        MathFn::Erf => "erf",
        MathFn::Sin => "sine",
        MathFn::Cos => "cosine",
        MathFn::Tan => "tan",
        MathFn::Cbrt => "cbrt",
        MathFn::Atan2 => "atan2",
    }
}

/// `f` on the GPU over every 4099th `f32` bit pattern (about a million inputs,
/// both signs, every exponent) and the special values, within the bound the
/// CPU's tests assert. Subnormal inputs and results are left out: a GPU may
/// flush them to zero (the CPU kernels do too).
fn within_bound(f: MathFn) -> Result<(), Failed> {
    if f.arity() == 2 {
        return within_bound2(f);
    }
    let limit = match f {
        MathFn::Sin | MathFn::Cos | MathFn::Tan => TRIG_EXACT_LIMIT,
        _ => f32::INFINITY,
    };
    let special = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    let xs: Vec<f32> = (0..u32::MAX / 4099)
        .map(|i| f32::from_bits(i * 4099))
        .filter(|x| x.is_normal() && x.abs() <= limit)
        .chain(special)
        .collect();
    let text = format!(
        "HloModule m\nENTRY e {{\n  x = f32[{n}] parameter(0)\n  ROOT y = f32[{n}] {}(x)\n}}\n",
        opcode(f),
        n = xs.len()
    );
    let module = compile(
        parse_module(&text).map_err(|e| format!("{e:?}"))?,
        Stage::Fused,
    )
    .module;
    let executable = gpu::Executable::new(&module, gpu_device()?).map_err(|e| e.to_string())?;
    let input = Array::F32(ArrayD::from_shape_vec(vec![xs.len()], xs.clone()).expect("sized"));
    let results = executable.run(&[input]).map_err(|e| e.to_string())?;
    let Array::F32(ys) = &results[0] else {
        return Err("an f32 result".into());
    };
    let (bound, relative) = match f.error_bound() {
        ErrorBound::Ulps(b) => (f64::from(b), true),
        ErrorBound::Absolute(b) => (f64::from(b), false),
    };
    let mut worst = (0.0, 0.0);
    for (&x, &y) in xs.iter().zip(ys.iter()) {
        let want = f.reference(f64::from(x));
        if want.is_nan() || y.is_nan() {
            if want.is_nan() != y.is_nan() {
                return Err(format!("{f:?}({x:e}) = {y:e}, want {want:e}").into());
            }
            continue;
        }
        if want.abs() < f64::from(f32::MIN_POSITIVE)
            && f64::from(y).abs() <= f64::from(f32::MIN_POSITIVE)
        {
            continue;
        }
        let wanted = want as f32;
        let error = if y == wanted {
            0.0
        } else if y.is_infinite() || wanted.is_infinite() {
            f64::INFINITY
        } else if relative {
            let ulp = (want.abs().log2().floor().max(-126.0) - 23.0).exp2();
            (f64::from(y) - want).abs() / ulp
        } else {
            (f64::from(y) - want).abs()
        };
        if error > bound {
            return Err(format!(
                "{f:?}({x:e}) = {y:e}, want {want:e}: off by {error:.3e}, bound {bound:e}"
            )
            .into());
        }
        if error > worst.0 {
            worst = (error, x);
        }
    }
    eprintln!(
        "{f:?} on the GPU: worst error {:.3e} at {:e} over {} inputs",
        worst.0,
        worst.1,
        xs.len()
    );
    Ok(())
}

fn bench_reports_kernel_time() -> Result<(), Failed> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_omelet"))
        .current_dir(support::root())
        .args([
            "bench",
            "benches/suite/softmax.om",
            "--random",
            "0",
            "--backends",
            "gpu,cpu",
            "--iters",
            "2",
            "--json",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let results = json["results"].as_array().ok_or("a results array")?;
    let (gpu, cpu) = (&results[0], &results[1]);
    if gpu["backend"] != "gpu" || cpu["backend"] != "cpu" || !cpu["kernel_s"].is_null() {
        return Err(format!("unexpected results: {json:#}").into());
    }
    // A kernel time exactly where the adapter has timestamps (no timing is
    // compared: the machine may be busy).
    let kernel = gpu["kernel_s"].as_f64();
    match (gpu_device()?.timestamps, kernel) {
        (true, Some(k)) if k > 0.0 => Ok(()),
        (false, None) => Ok(()),
        _ => Err(format!("kernel time {kernel:?}: {json:#}").into()),
    }
}

/// A binary `f` (atan2) on the GPU over a grid of both signs and every
/// exponent (every 4,194,319th bit pattern of each operand, with the special
/// values), within the CPU's bound of an f64 reference.
fn within_bound2(f: MathFn) -> Result<(), Failed> {
    let special = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    let axis: Vec<f32> = (0..u32::MAX / 4_194_319)
        .map(|i| f32::from_bits(i * 4_194_319))
        .filter(|x| x.is_normal())
        .chain(special)
        .collect();
    let xs: Vec<f32> = axis
        .iter()
        .flat_map(|&x| axis.iter().map(move |_| x))
        .collect();
    let ys: Vec<f32> = axis.iter().flat_map(|_| axis.iter().copied()).collect();
    let n = xs.len();
    let text = format!(
        "HloModule m\nENTRY e {{\n  x = f32[{n}] parameter(0)\n  y = f32[{n}] parameter(1)\n  ROOT r = f32[{n}] {}(x, y)\n}}\n",
        opcode(f)
    );
    let module = compile(
        parse_module(&text).map_err(|e| format!("{e:?}"))?,
        Stage::Fused,
    )
    .module;
    let executable = gpu::Executable::new(&module, gpu_device()?).map_err(|e| e.to_string())?;
    let array = |v: &[f32]| Array::F32(ArrayD::from_shape_vec(vec![n], v.to_vec()).expect("sized"));
    let results = executable
        .run(&[array(&xs), array(&ys)])
        .map_err(|e| e.to_string())?;
    let Array::F32(rs) = &results[0] else {
        return Err("an f32 result".into());
    };
    let ErrorBound::Ulps(bound) = f.error_bound() else {
        return Err("a bound in ulps".into());
    };
    for ((&x, &y), &r) in xs.iter().zip(&ys).zip(rs.iter()) {
        let want = f.reference2(f64::from(x), f64::from(y));
        if want.is_nan() || r.is_nan() {
            if want.is_nan() != r.is_nan() {
                return Err(format!("{f:?}({x:e}, {y:e}) = {r:e}, want {want:e}").into());
            }
            continue;
        }
        if want.abs() < f64::from(f32::MIN_POSITIVE) {
            if f64::from(r).abs() <= f64::from(f32::MIN_POSITIVE) {
                continue;
            }
            return Err(format!("{f:?}({x:e}, {y:e}) = {r:e}, want {want:e}").into());
        }
        let ulp = (want.abs().log2().floor().max(-126.0) - 23.0).exp2();
        let error = (f64::from(r) - want).abs() / ulp;
        if r != want as f32 && error > f64::from(bound) {
            return Err(format!(
                "{f:?}({x:e}, {y:e}) = {r:e}, want {want:e}: off by {error:.3} ulps, bound {bound}"
            )
            .into());
        }
    }
    Ok(())
}
