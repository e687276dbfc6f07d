//! `gpu::types::TYPE::OP`: every element type the GPU backend takes, each op
//! on it, against the interpreter, on edge values (0, ±1, MIN, MAX, NaN, ±inf,
//! subnormals, -0.0, shift amounts around the width, values at the
//! conversion bounds) and pseudo-random ones: unary ops on every edge value,
//! binary ops and comparisons on every pair, conversions to every type,
//! bitcasts to every type of the width, and fused programs (chains of ops,
//! iota, constants, row and column reductions, dots).
//!
//! Integer ops, conversions, bitcasts and the float ops IEEE rounds exactly
//! must give the interpreter's bits (a NaN matching any NaN); transcendentals,
//! division, remainder, power and square roots on floats are within a few
//! units in the last place of their type, as the CPU's math is.
//! `gpu::types::refused::*`: the 64-bit types are refused before running,
//! naming the instruction. `wgsl::types::TYPE`: naga validates every shader
//! of those programs, where there is no GPU too.

use libtest_mimic::{Failed, Trial};
use omelet_compiler::hlo::{
    ArrayShape, BinaryOp, Direction, ElementType, Kind, Number, Scalar, UnaryOp,
};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, RuntimeErrorKind, gpu, interp};

use crate::support::{gpu_device, gpu_device_without_subgroups};

/// The types the GPU computes with.
const TYPES: [ElementType; 10] = [
    ElementType::Pred,
    ElementType::S8,
    ElementType::S16,
    ElementType::S32,
    ElementType::U8,
    ElementType::U16,
    ElementType::U32,
    ElementType::F16,
    ElementType::Bf16,
    ElementType::F32,
];

const DIRECTIONS: [(Direction, &str); 6] = [
    (Direction::Eq, "EQ"),
    (Direction::Ne, "NE"),
    (Direction::Lt, "LT"),
    (Direction::Le, "LE"),
    (Direction::Gt, "GT"),
    (Direction::Ge, "GE"),
];

/// How closely the GPU must match.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Match {
    Bits,
    /// Bits, but a zero of either sign for a zero: the interpreter's
    /// `maximum(0.0, -0.0)` is Rust's `f32::max`, which leaves the sign
    /// unspecified (its f16 and bf16 paths give different ones).
    ZeroSign,
    /// Within this many units in the last place of the result type.
    Ulps(f64),
}

/// One program and its inputs.
#[derive(Clone)]
struct Case {
    text: String,
    inputs: Vec<Vec<Scalar>>,
    matching: Match,
}

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for t in TYPES {
        let name = t.name();
        for &op in UnaryOp::ALL {
            if op.domain().contains(t) {
                trials.push(trial(
                    format!("gpu::types::{name}::{}", op.opcode()),
                    move || unary_case(t, op),
                ));
            }
        }
        for &op in BinaryOp::ALL {
            if op.domain().contains(t) {
                trials.push(trial(
                    format!("gpu::types::{name}::{}", op.opcode()),
                    move || binary_case(t, op),
                ));
            }
        }
        trials.push(trial(format!("gpu::types::{name}::compare"), move || {
            compare_case(t)
        }));
        trials.push(trial(format!("gpu::types::{name}::convert"), move || {
            convert_case(t)
        }));
        trials.push(trial(
            format!("gpu::types::{name}::bitcast-convert"),
            move || bitcast_case(t),
        ));
        trials.push(trial(format!("gpu::types::{name}::fused"), move || {
            fused_case(t)
        }));
    }
    for t in [ElementType::S64, ElementType::U64, ElementType::F64] {
        trials.push(Trial::test(
            format!("gpu::types::refused::{}", t.name()),
            move || refused(t),
        ));
    }
    trials
}

/// `wgsl::types::TYPE`: naga parses and validates every shader of every
/// case (as generated for WebGPU's default limits), with no GPU.
pub fn wgsl_trials() -> Vec<Trial> {
    TYPES
        .into_iter()
        .map(|t| {
            Trial::test(format!("wgsl::types::{}", t.name()), move || {
                let mut cases = Vec::new();
                for &op in UnaryOp::ALL.iter().filter(|op| op.domain().contains(t)) {
                    cases.extend(unary_case(t, op));
                }
                for &op in BinaryOp::ALL.iter().filter(|op| op.domain().contains(t)) {
                    cases.extend(binary_case(t, op));
                }
                cases.extend(compare_case(t));
                cases.extend(convert_case(t));
                cases.extend(bitcast_case(t));
                cases.extend(fused_case(t));
                for case in cases
                    .iter()
                    .flat_map(|c| [lanes(c, 1), lanes(c, 4)])
                    .flatten()
                {
                    validate(&case)?;
                }
                Ok(())
            })
        })
        .collect()
}

fn validate(case: &Case) -> Result<(), String> {
    let count = case.inputs.first().map_or(0, Vec::len);
    let text = case.text.replace("COUNT", &count.to_string());
    let module = parse_module(&text).map_err(|e| format!("{e:?}"))?;
    let fused = compile(module, Stage::Fused).module;
    for (name, wgsl) in gpu::wgsl(&fused).map_err(|e| e.to_string())? {
        let parsed = naga::front::wgsl::parse_str(&wgsl)
            .map_err(|e| format!("kernel {name}: {}\n{wgsl}", e.emit_to_string(&wgsl)))?;
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&parsed)
        .map_err(|e| format!("kernel {name}: {}\n{wgsl}", e.emit_to_string(&wgsl)))?;
    }
    Ok(())
}

/// A trial running each case a closure makes.
fn trial(name: String, cases: impl Fn() -> Vec<Case> + Send + 'static) -> Trial {
    Trial::test(name, move || {
        for case in cases() {
            // An odd count runs one element per thread; a multiple of four
            // runs four per thread, in vec4 words.
            for case in [lanes(&case, 1), lanes(&case, 4)].into_iter().flatten() {
                let count = case.inputs.first().map_or(0, Vec::len).to_string();
                check(&case).map_err(|e| {
                    format!("{e}\nprogram:\n{}", case.text.replace("COUNT", &count))
                })?;
            }
        }
        Ok(())
    })
}

/// `case` with its inputs cut to an odd count (`lanes` 1) or a multiple of
/// four (`lanes` 4); `case` itself once where its shapes are fixed.
fn lanes(case: &Case, lanes: usize) -> Option<Case> {
    if !case.text.contains("COUNT") {
        return (lanes == 1).then(|| case.clone());
    }
    let count = case.inputs.first().map_or(0, Vec::len);
    let wanted = match lanes {
        1 => count - (1 - count % 2),
        _ => count - count % lanes,
    };
    Some(Case {
        inputs: case.inputs.iter().map(|v| v[..wanted].to_vec()).collect(),
        ..case.clone()
    })
}

/// Whether `op` on floats is rounded exactly by IEEE 754 (and so must match
/// bit for bit).
fn exact_unary(op: UnaryOp) -> bool {
    matches!(
        op,
        UnaryOp::Negate
            | UnaryOp::Abs
            | UnaryOp::Sign
            | UnaryOp::Floor
            | UnaryOp::Ceil
            | UnaryOp::RoundNearestEven
            | UnaryOp::IsFinite
            | UnaryOp::Not
            | UnaryOp::PopulationCount
            | UnaryOp::CountLeadingZeros
    )
}

fn exact_binary(op: BinaryOp) -> bool {
    !matches!(op, BinaryOp::Divide | BinaryOp::Power | BinaryOp::Atan2)
}

/// The matching a float result of an inexact op needs: the polynomials' few
/// f32 ulps (tan's 24 near its poles), which rounding to a narrower type can
/// turn into one of its ulps.
fn approximate(t: ElementType, tan: bool) -> Match {
    match t {
        ElementType::F32 if tan => Match::Ulps(24.0),
        ElementType::F32 => Match::Ulps(8.0),
        _ => Match::Ulps(1.0),
    }
}

fn unary_case(t: ElementType, op: UnaryOp) -> Vec<Case> {
    let mut xs = edges(t);
    xs.extend(randoms(t, 64, 1));
    // The trigonometric polynomials hold within their exact range only.
    if matches!(op, UnaryOp::Sin | UnaryOp::Cos | UnaryOp::Tan) {
        xs.retain(|x| {
            x.as_float()
                .is_some_and(|v| v.abs() <= 12867.0 || v.is_nan())
        });
    }
    let result = op.result_type(t);
    let matching = if !t.is_float() || exact_unary(op) {
        Match::Bits
    } else {
        approximate(t, op == UnaryOp::Tan)
    };
    vec![Case {
        text: elementwise(&[t], result, &format!("{}(p0)", op.opcode())),
        inputs: vec![xs],
        matching,
    }]
}

fn binary_case(t: ElementType, op: BinaryOp) -> Vec<Case> {
    let (xs, ys) = pairs(t);
    let matching = if matches!(op, BinaryOp::Maximum | BinaryOp::Minimum) && t.is_float() {
        Match::ZeroSign
    } else if op == BinaryOp::Power && t == ElementType::F32 {
        // exp(y·log x): the product's rounding, 2^-24 relative, grows to
        // |y·log x| (at most 89 short of overflow) times that in the result.
        Match::Ulps(256.0)
    } else if !t.is_float() || exact_binary(op) {
        Match::Bits
    } else {
        approximate(t, false)
    };
    vec![Case {
        text: elementwise(&[t, t], t, &format!("{}(p0, p1)", op.opcode())),
        inputs: vec![xs, ys],
        matching,
    }]
}

fn compare_case(t: ElementType) -> Vec<Case> {
    let (xs, ys) = pairs(t);
    DIRECTIONS
        .iter()
        .map(|(_, d)| Case {
            text: elementwise(
                &[t, t],
                ElementType::Pred,
                &format!("compare(p0, p1), direction={d}"),
            ),
            inputs: vec![xs.clone(), ys.clone()],
            matching: Match::Bits,
        })
        .collect()
}

fn convert_case(t: ElementType) -> Vec<Case> {
    let mut xs = edges(t);
    xs.extend(randoms(t, 64, 2));
    TYPES
        .iter()
        .filter(|&&u| u != t)
        .map(|&u| Case {
            text: elementwise(&[t], u, "convert(p0)"),
            inputs: vec![xs.clone()],
            matching: Match::Bits,
        })
        .collect()
}

fn bitcast_case(t: ElementType) -> Vec<Case> {
    // Computed NaNs have no fixed payload; input NaNs keep theirs.
    let mut xs = edges(t);
    xs.extend(randoms(t, 64, 3));
    TYPES
        .iter()
        .filter(|&&u| u.bit_width() == t.bit_width())
        .map(|&u| Case {
            text: elementwise(&[t], u, "bitcast-convert(p0)"),
            inputs: vec![xs.clone()],
            matching: Match::Bits,
        })
        .collect()
}

/// Fused programs: a chain of ops (each of which must wrap or round on its
/// own), iota and constants, and where the type is numeric row and column
/// reductions, a dot, a transposed read and an f32 product converted back
/// (the GEMM's epilogue storing the type), on small integers whose sums are
/// exact in every type and order.
fn fused_case(t: ElementType) -> Vec<Case> {
    let n = t.name();
    let mut cases = Vec::new();
    let (xs, ys) = pairs(t);
    let count = xs.len();
    if t == ElementType::Pred {
        cases.push(Case {
            text: format!(
                "HloModule m
ENTRY e {{
  p0 = pred[{count}] parameter(0)
  p1 = pred[{count}] parameter(1)
  a = pred[{count}] xor(p0, p1)
  b = pred[{count}] and(a, p0)
  c = pred[{count}] not(b)
  s = s32[{count}] convert(c)
  ROOT r = (pred[{count}], s32[{count}]) tuple(c, s)
}}
"
            ),
            inputs: vec![xs, ys],
            matching: Match::Bits,
        });
        return cases;
    }
    let float = t.is_float();
    let chain = if float {
        "multiply(a, p0)"
    } else {
        "shift-left(a, p1)"
    };
    cases.push(Case {
        text: format!(
            "HloModule m
ENTRY e {{
  p0 = {n}[{count}] parameter(0)
  p1 = {n}[{count}] parameter(1)
  a = {n}[{count}] add(p0, p1)
  b = {n}[{count}] {chain}
  c = {n}[{count}] subtract(b, p1)
  d = {n}[{count}] multiply(c, c)
  lt = pred[{count}] compare(d, p0), direction=LT
  m = {n}[{count}] select(lt, d, p1)
  k = {n}[] constant(100)
  kb = {n}[{count}] broadcast(k), dimensions={{}}
  lo = {n}[] constant(3)
  cl = {n}[{count}] clamp(lo, m, kb)
  ROOT r = ({n}[{count}], {n}[{count}]) tuple(m, cl)
}}
"
        ),
        inputs: vec![xs, ys],
        matching: Match::Bits,
    });
    // Iota past every narrow type's range (wrapping, or rounding in bf16),
    // and an array constant.
    cases.push(Case {
        text: format!(
            "HloModule m
ENTRY e {{
  p0 = {n}[3] parameter(0)
  i = {n}[300] iota(), iota_dimension=0
  k = {n}[3] constant({{1, 0, 7}})
  s = {n}[3] add(p0, k)
  ROOT r = ({n}[300], {n}[3]) tuple(i, s)
}}
"
        ),
        inputs: vec![edges(t).into_iter().take(3).collect()],
        matching: Match::Bits,
    });
    let small = |seed| small_integers(t, 16 * 33, seed);
    cases.push(Case {
        text: format!(
            "HloModule m
add {{
  a = {n}[] parameter(0)
  b = {n}[] parameter(1)
  ROOT c = {n}[] add(a, b)
}}
max {{
  a = {n}[] parameter(0)
  b = {n}[] parameter(1)
  ROOT c = {n}[] maximum(a, b)
}}
ENTRY e {{
  p0 = {n}[16,33] parameter(0)
  p1 = {n}[33,8] parameter(1)
  z = {n}[] constant(0)
  rows = {n}[16] reduce(p0, z), dimensions={{1}}, to_apply=add
  rb = {n}[16,33] broadcast(rows), dimensions={{0}}
  centred = {n}[16,33] subtract(p0, rb)
  columns = {n}[33] reduce(p0, z), dimensions={{0}}, to_apply=add
{lowest}  top = {n}[16] reduce(p0, {low}), dimensions={{1}}, to_apply=max
  d = {n}[16,8] dot(p0, p1), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  tr = {n}[33,16] transpose(p0), dimensions={{1,0}}
  square = {n}[33,16] multiply(tr, tr)
  wide0 = f32[16,33] convert(p0)
  wide1 = f32[33,8] convert(p1)
  fd = f32[16,8] dot(wide0, wide1), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  back = {n}[16,8] convert(fd)
  ROOT r = ({n}[16,33], {n}[33], {n}[16], {n}[16,8], {n}[33,16], {n}[16,8]) tuple(centred, columns, top, d, square, back)
}}
",
            low = if float { "lowest" } else { "z" },
            lowest = if float {
                format!("  lowest = {n}[] constant(-inf)\n")
            } else {
                String::new()
            },
        ),
        inputs: vec![small(4), small_integers(t, 33 * 8, 5)],
        matching: Match::Bits,
    });
    cases
}

/// A one-op program of `count`-element parameters of `inputs` types.
fn elementwise(inputs: &[ElementType], result: ElementType, op: &str) -> String {
    let mut text = String::from("HloModule m\nENTRY e {\n");
    for (i, t) in inputs.iter().enumerate() {
        text.push_str(&format!("  p{i} = {}[COUNT] parameter({i})\n", t.name()));
    }
    text.push_str(&format!("  ROOT r = {}[COUNT] {op}\n}}\n", result.name()));
    text
}

/// Every pair of edge values, then pseudo-random pairs.
fn pairs(t: ElementType) -> (Vec<Scalar>, Vec<Scalar>) {
    let e = edges(t);
    let mut xs: Vec<Scalar> = e.iter().flat_map(|&x| e.iter().map(move |_| x)).collect();
    let mut ys: Vec<Scalar> = e.iter().flat_map(|_| e.iter().copied()).collect();
    xs.extend(randoms(t, 64, 6));
    ys.extend(randoms(t, 64, 7));
    (xs, ys)
}

/// Values at the edges of `t`.
fn edges(t: ElementType) -> Vec<Scalar> {
    let width = t.bit_width() as i64;
    match t.kind() {
        Kind::Pred => vec![Scalar::new(false), Scalar::new(true)],
        Kind::Signed | Kind::Unsigned => {
            let half = 1i128 << (width - 1);
            let mut values: Vec<i128> = vec![
                0,
                1,
                -1,
                2,
                -2,
                3,
                7,
                100,
                -100,
                (width - 1).into(),
                width.into(),
                (width + 1).into(),
                (2 * width).into(),
                -half,
                -half + 1,
                half - 1,
                half - 2,
                half,
                0x5a5a_5a5a,
                // Integers that f32, f16 and bf16 round: ties to even and not.
                (1 << 24) + (1 << 16) + 1,
                (1 << 24) + 1,
                257,
                2049,
            ];
            values.dedup();
            values
                .into_iter()
                .map(|v| Scalar::from_number(t, Number::Int(v)))
                .collect()
        }
        Kind::Float => {
            let mut values: Vec<Scalar> = [
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                1.5,
                2.5,
                -2.5,
                3.0,
                100.25,
                1.0 / 3.0,
                1e-3,
                127.9,
                -128.5,
                255.5,
                -32768.7,
                65504.0,
                65520.0,
                1e5,
                2147483648.0,
                -2147483904.0,
                4.3e9,
                3e38,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ]
            .into_iter()
            .map(|v| Scalar::from_number(t, Number::Float(v)))
            .collect();
            // Subnormals (the smallest, the largest) and the smallest normal.
            let mantissa = match t {
                ElementType::F16 => 10,
                ElementType::Bf16 => 7,
                _ => 23,
            };
            for bits in [1u64, (1 << mantissa) - 1, 1 << mantissa] {
                values.push(Scalar { element: t, bits });
                let sign = 1u64 << (t.bit_width() - 1);
                values.push(Scalar {
                    element: t,
                    bits: bits | sign,
                });
            }
            values
        }
    }
}

/// `n` pseudo-random values of `t` (any bits, so NaNs too).
fn randoms(t: ElementType, n: usize, seed: u64) -> Vec<Scalar> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
    let mask = if t.bit_width() >= 64 {
        u64::MAX
    } else {
        (1u64 << t.bit_width()) - 1
    };
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bits = (state >> 16) & mask;
            Scalar { element: t, bits }
        })
        .collect()
}

/// `n` integers in [-4, 4] (in [0, 4] for unsigned types) as `t`.
fn small_integers(t: ElementType, n: usize, seed: u64) -> Vec<Scalar> {
    randoms(ElementType::U32, n, seed)
        .into_iter()
        .map(|r| {
            let v = (r.bits % 9) as i128 - 4;
            let v = if t.kind() == Kind::Unsigned {
                v.abs()
            } else {
                v
            };
            Scalar::from_number(t, Number::Int(v))
        })
        .collect()
}

fn array(shape: &ArrayShape, values: &[Scalar]) -> Array {
    let size = shape.element.byte_size();
    let bytes: Vec<u8> = values
        .iter()
        .flat_map(|s| s.bits.to_le_bytes().into_iter().take(size))
        .collect();
    Array::from_bytes(shape, &bytes)
}

/// Each element's bits.
fn scalars(a: &Array) -> Vec<Scalar> {
    let shape = a.shape();
    let size = shape.element.byte_size();
    a.to_bytes(&shape)
        .chunks_exact(size)
        .map(|c| {
            let mut word = [0u8; 8];
            word[..size].copy_from_slice(c);
            Scalar {
                element: shape.element,
                bits: u64::from_le_bytes(word),
            }
        })
        .collect()
}

/// The GPU's results against the interpreter's.
fn check(case: &Case) -> Result<(), String> {
    let count = case.inputs.first().map_or(0, Vec::len);
    let text = case.text.replace("COUNT", &count.to_string());
    let module = parse_module(&text).map_err(|e| format!("{e:?}"))?;
    let inputs: Vec<Array> = module
        .parameter_shapes()
        .iter()
        .zip(&case.inputs)
        .map(|(s, values)| array(s.as_array().expect("array parameters"), values))
        .collect();
    let expected = interp::run(&module, &inputs).map_err(|e| e.to_string())?;
    let fused = compile(module, Stage::Fused).module;
    // With subgroup reductions where the adapter has them, and without.
    let devices = std::iter::once(gpu_device()?).chain(gpu_device_without_subgroups());
    for device in devices {
        let executable = gpu::Executable::new(&fused, device).map_err(|e| e.to_string())?;
        let results = executable.run(&inputs).map_err(|e| e.to_string())?;
        compare(case, &results, &expected)?;
    }
    Ok(())
}

fn compare(case: &Case, results: &[Array], expected: &[Array]) -> Result<(), String> {
    for (r, (got, want)) in results.iter().zip(expected).enumerate() {
        let (got, want) = (scalars(got), scalars(want));
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            if !agree(g, w, case.matching) {
                let operands: Vec<String> = case
                    .inputs
                    .iter()
                    .filter_map(|v| v.get(i))
                    .map(|s| show(*s))
                    .collect();
                return Err(format!(
                    "result {r}[{i}] on ({}): got {}, want {}",
                    operands.join(", "),
                    show(g),
                    show(w)
                ));
            }
        }
    }
    Ok(())
}

fn show(s: Scalar) -> String {
    format!("{:?} ({:#x})", s.to_number(), s.bits)
}

fn agree(got: Scalar, want: Scalar, matching: Match) -> bool {
    if got == want {
        return true;
    }
    let (Some(g), Some(w)) = (got.as_float(), want.as_float()) else {
        return false;
    };
    if g.is_nan() && w.is_nan() || matching == Match::ZeroSign && g == 0.0 && w == 0.0 {
        return true;
    }
    let Match::Ulps(ulps) = matching else {
        return false;
    };
    if g.is_infinite() || w.is_infinite() || g.is_nan() || w.is_nan() {
        return false;
    }
    let (mantissa, min_exponent) = match got.element {
        ElementType::F16 => (10, -14),
        ElementType::Bf16 => (7, -126),
        _ => (23, -126),
    };
    let exponent = w.abs().log2().floor().max(f64::from(min_exponent));
    let ulp = (exponent - f64::from(mantissa)).exp2();
    (g - w).abs() <= ulps * ulp
}

/// A 64-bit type is refused before running, naming the instruction.
fn refused(t: ElementType) -> Result<(), Failed> {
    let n = t.name();
    let text = format!(
        "HloModule m\nENTRY e {{\n  x = f32[4] parameter(0)\n  wide = {n}[4] convert(x)\n  ROOT back = f32[4] convert(wide)\n}}\n"
    );
    let module = compile(
        parse_module(&text).map_err(|e| format!("{e:?}"))?,
        Stage::Fused,
    )
    .module;
    match gpu::Executable::new(&module, gpu_device()?) {
        Ok(_) => Err(format!("{n} compiled").into()),
        Err(e) if e.kind == RuntimeErrorKind::Unsupported && e.message.contains("wide") => Ok(()),
        Err(e) => Err(format!("{n}: {:?}: {}", e.kind, e.message).into()),
    }
}
