//! The CPU backend against the interpreter on every element type: each
//! elementwise op, compare, select, convert and bitcast-convert over every pair
//! of a type's edge values (zeros, ±1, MIN, MAX, shift amounts around the width,
//! NaN, ±inf, subnormals, -0.0), fused into one multi-output loop kernel per
//! type; reductions over rows and columns and dots on every numeric type.
//!
//! Integer ops, conversions and exact float ops must match bit for bit;
//! transcendentals within a few ulps of the type. The CPU runs with subnormals
//! flushed to zero (see ARCHITECTURE.md): where an operand or the exact result
//! is an `f32`/`f64`/`bf16` subnormal, only the flushed result's size is checked.

use omelet_compiler::hlo::{
    ArrayShape, BinaryOp, Direction, ElementType, Kind, Module, Number, ReduceOp, Scalar, UnaryOp,
};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, cpu, interp};

const TYPES: [ElementType; 13] = [
    ElementType::Pred,
    ElementType::S8,
    ElementType::S16,
    ElementType::S32,
    ElementType::S64,
    ElementType::U8,
    ElementType::U16,
    ElementType::U32,
    ElementType::U64,
    ElementType::F16,
    ElementType::Bf16,
    ElementType::F32,
    ElementType::F64,
];

/// The edge values of `t`, as bits.
fn edges(t: ElementType) -> Vec<u64> {
    let int = |i: i128| Scalar::from_number(t, Number::Int(i)).bits;
    let float = |x: f64| Scalar::from_number(t, Number::Float(x)).bits;
    match t.kind() {
        Kind::Pred => vec![0, 1],
        Kind::Signed | Kind::Unsigned => {
            let w = t.bit_width() as i128;
            let (min, max) = if t.kind() == Kind::Signed {
                (-(1 << (w - 1)), (1 << (w - 1)) - 1)
            } else {
                (0, (1 << w) - 1)
            };
            [
                0,
                1,
                -1,
                2,
                3,
                -7,
                min,
                max,
                min + 1,
                max - 1,
                w - 1,
                w,
                w + 1,
                100,
            ]
            .into_iter()
            .map(int)
            .collect()
        }
        Kind::Float => {
            let mut v: Vec<u64> = [
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                2.5,
                -3.5,
                0.1,
                -7.75,
                100.0,
                300.0,
                65504.0,
                70000.0,
                3e9,
                -1e19,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
            ]
            .into_iter()
            .map(float)
            .collect();
            // The least subnormal and the least normal of the type.
            v.push(1);
            let normal = match t {
                ElementType::F16 => 6.103_515_625e-5,
                ElementType::F64 => f64::MIN_POSITIVE,
                _ => f32::MIN_POSITIVE as f64,
            };
            v.push(float(normal));
            v
        }
    }
}

fn array(t: ElementType, bits: &[u64]) -> Array {
    shaped(t, bits, &[bits.len()])
}

fn shaped(t: ElementType, bits: &[u64], dims: &[usize]) -> Array {
    let shape = ArrayShape::new(t, dims.to_vec());
    let bytes: Vec<u8> = bits
        .iter()
        .flat_map(|b| b.to_le_bytes().into_iter().take(t.byte_size()))
        .collect();
    Array::from_bytes(&shape, &bytes)
}

/// Each element's bits, in row-major order.
fn bits(a: &Array, shape: &[usize]) -> Vec<u64> {
    let t = a.element_type();
    let shape = ArrayShape::new(t, shape.to_vec());
    a.to_bytes(&shape)
        .chunks(t.byte_size())
        .map(|c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(w)
        })
        .collect()
}

fn value(t: ElementType, b: u64) -> f64 {
    Scalar {
        element: t,
        bits: b,
    }
    .as_float()
    .unwrap_or(f64::NAN)
}

/// Whether `b` is a value the CPU flushes to zero (a subnormal of f32's range).
fn flushed(t: ElementType, b: u64) -> bool {
    let x = value(t, b).abs();
    match t {
        ElementType::F32 | ElementType::Bf16 => x != 0.0 && x < f32::MIN_POSITIVE as f64,
        ElementType::F64 => x != 0.0 && x < f64::MIN_POSITIVE,
        _ => false,
    }
}

/// Compares one result, `ulps` of tolerance for floats (0: bit for bit, but
/// any NaN equals any NaN).
fn agree(t: ElementType, want: u64, got: u64, ulps: f64, operands_flushed: bool) -> bool {
    if want == got {
        return true;
    }
    if operands_flushed {
        // The CPU reads an f32-range subnormal as zero (DAZ): any result goes.
        return true;
    }
    if !t.is_float() {
        return false;
    }
    let (w, g) = (value(t, want), value(t, got));
    if w.is_nan() || g.is_nan() {
        return w.is_nan() && g.is_nan();
    }
    let tiny = match t {
        ElementType::F64 => f64::MIN_POSITIVE,
        ElementType::F16 => 0.0,
        _ => f32::MIN_POSITIVE as f64,
    };
    // Around the least normal, FTZ also flushes subnormal intermediates.
    let near_zero = |x: f64| x.abs() <= 2.0 * tiny;
    if operands_flushed || flushed(t, want) || (near_zero(w) && near_zero(g)) {
        // Flushed operands change results by their size; only sizes are checked.
        return true;
    }
    if w.is_infinite() || g.is_infinite() {
        return ulps > 0.0 && w.is_infinite() == g.is_infinite() && w.signum() == g.signum()
            || w == g;
    }
    let mantissa = match t {
        ElementType::F16 => 10,
        ElementType::Bf16 => 7,
        ElementType::F32 => 23,
        _ => 52,
    };
    let ulp = (w.abs().max(tiny)).log2().floor();
    let ulp = 2f64.powf(ulp - mantissa as f64);
    (w - g).abs() <= ulps * ulp
}

fn run_both(text: &str, inputs: &[Array]) -> (Vec<Array>, Vec<Array>) {
    let (want, got, _) = run_with_clif(text, inputs);
    (want, got)
}

/// The interpreter's results, the CPU's, and the CPU's kernels' IR.
fn run_with_clif(text: &str, inputs: &[Array]) -> (Vec<Array>, Vec<Array>, String) {
    let module: Module = parse_module(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let want = interp::run(&module, inputs).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let fused = compile(module, Stage::Fused).module;
    let exe = cpu::Executable::new(&fused).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let got = exe.run(inputs).unwrap();
    let clif = exe.clif().iter().map(|(_, c)| *c).collect();
    (want, got, clif)
}

/// One elementwise result to check: its name, type and tolerance in ulps.
struct Out {
    name: String,
    element: ElementType,
    ulps: f64,
}

/// The ulps a float result of `op` may be off: transcendentals by a few ulps
/// of f32 (of their type for f16 and bf16, which round that once more), and
/// f64 ones not at all (they call Rust's f64 functions, as the interpreter does).
fn unary_ulps(op: UnaryOp, t: ElementType) -> f64 {
    use UnaryOp::*;
    let exact = matches!(
        op,
        Negate | Abs | Sign | Sqrt | Rsqrt | Floor | Ceil | RoundNearestEven | IsFinite
    );
    match t {
        _ if exact || !t.is_float() || t == ElementType::F64 => 0.0,
        ElementType::F32 => 8.0,
        _ => 1.0,
    }
}

#[test]
fn every_elementwise_op_on_every_type_matches_the_interpreter() {
    let checked: usize = TYPES.into_iter().map(|t| elementwise(t, &TYPES)).sum();
    eprintln!("{checked} elements compared");
    assert!(checked > 50_000, "only {checked} elements checked");
}

/// The same on f32 and s32 with only the types of four-lane registers in the
/// kernel, so that it runs on `f32x4`/`i32x4` vectors.
#[test]
fn vector_kernels_match_the_interpreter() {
    let vector = [ElementType::F32, ElementType::S32, ElementType::Pred];
    let checked: usize = vector.into_iter().map(|t| elementwise(t, &vector)).sum();
    eprintln!("{checked} elements compared");
    assert!(checked > 10_000, "only {checked} elements checked");
}

/// Every elementwise op, compare, select and conversion (to `targets`) on pairs
/// of `t`'s edge values, in one multi-output kernel; returns how many elements
/// it compared.
fn elementwise(t: ElementType, targets: &[ElementType]) -> usize {
    let mut checked = 0;
    {
        let e = edges(t);
        let n = e.len() * e.len();
        let xs: Vec<u64> = e.iter().flat_map(|&a| e.iter().map(move |_| a)).collect();
        let ys: Vec<u64> = e.iter().flat_map(|_| e.iter().copied()).collect();
        let p: Vec<u64> = (0..n as u64).map(|i| (i * 7 / 3) % 2).collect();
        let zs: Vec<u64> = ys.iter().rev().copied().collect();
        let mut body = format!(
            "  x = {t}[{n}] parameter(0)\n  y = {t}[{n}] parameter(1)\n  p = pred[{n}] parameter(2)\n  \
             z = {t}[{n}] parameter(3)\n"
        );
        let mut outs = Vec::new();
        let mut add = |body: &mut String, name: String, rt: ElementType, expr: String, ulps| {
            body.push_str(&format!("  {name} = {rt}[{n}] {expr}\n"));
            outs.push(Out {
                name,
                element: rt,
                ulps,
            });
        };
        for &op in UnaryOp::ALL {
            if op.domain().contains(t) {
                let rt = op.result_type(t);
                let name = format!("u_{}", op.opcode().replace('-', "_"));
                add(
                    &mut body,
                    name,
                    rt,
                    format!("{}(x)", op.opcode()),
                    unary_ulps(op, t),
                );
            }
        }
        for &op in BinaryOp::ALL {
            if op.domain().contains(t) {
                let name = format!("b_{}", op.opcode().replace('-', "_"));
                let ulps = match op {
                    BinaryOp::Power | BinaryOp::Atan2 if t == ElementType::F32 => 8.0,
                    BinaryOp::Atan2 if t != ElementType::F64 => 1.0,
                    _ => 0.0,
                };
                add(&mut body, name, t, format!("{}(x, y)", op.opcode()), ulps);
            }
        }
        for d in Direction::ALL {
            let name = format!("c_{}", d.name());
            let expr = format!("compare(x, y), direction={}", d.name());
            add(&mut body, name, ElementType::Pred, expr, 0.0);
        }
        add(&mut body, "sel".into(), t, "select(p, x, y)".into(), 0.0);
        if t != ElementType::Pred {
            add(&mut body, "clamp".into(), t, "clamp(x, y, z)".into(), 0.0);
        }
        for &to in targets {
            let name = format!("cv_{to}");
            add(&mut body, name, to, "convert(x)".into(), 0.0);
            if to != t && to.bit_width() == t.bit_width() {
                let name = format!("bc_{to}");
                add(&mut body, name, to, "bitcast-convert(x)".into(), 0.0);
            }
        }
        let names: Vec<&str> = outs.iter().map(|o| o.name.as_str()).collect();
        let tuple_shape: Vec<String> = outs.iter().map(|o| format!("{}[{n}]", o.element)).collect();
        let text = format!(
            "HloModule types_{t}\n\nENTRY main {{\n{body}  ROOT out = ({}) tuple({})\n}}\n",
            tuple_shape.join(", "),
            names.join(", ")
        );
        let inputs = [
            array(t, &xs),
            array(t, &ys),
            array(ElementType::Pred, &p),
            array(t, &zs),
        ];
        let (want, got, clif) = run_with_clif(&text, &inputs);
        let vectors = clif.contains("f32x4") || clif.contains("i32x4");
        let all_vector = targets
            .iter()
            .all(|t| matches!(t, ElementType::F32 | ElementType::S32 | ElementType::Pred));
        assert_eq!(
            vectors, all_vector,
            "{t}: vector code only where every type has it"
        );
        let mut failures = Vec::new();
        for (k, out) in outs.iter().enumerate() {
            let (w, g) = (bits(&want[k], &[n]), bits(&got[k], &[n]));
            for i in 0..n {
                let operands_flushed = flushed(t, xs[i]) || flushed(t, ys[i]) || flushed(t, zs[i]);
                // sin, cos and tan leave their bounds past TRIG_EXACT_LIMIT in f32.
                let trig = ["u_sine", "u_cosine", "u_tan"].contains(&out.name.as_str());
                if trig && t != ElementType::F64 && value(t, xs[i]).abs() > 12867.0 {
                    continue;
                }
                if !agree(out.element, w[i], g[i], out.ulps, operands_flushed) {
                    failures.push(format!(
                        "{t} {}: x={:#x} y={:#x}: interpreter {:#x}, cpu {:#x}",
                        out.name, xs[i], ys[i], w[i], g[i]
                    ));
                }
                checked += 1;
            }
        }
        // The first mismatch of each output.
        let mut seen = std::collections::BTreeMap::new();
        for f in &failures {
            let key = f.split(':').next().unwrap_or_default().to_owned();
            seen.entry(key).or_insert_with(|| f.clone());
        }
        assert!(
            failures.is_empty(),
            "{} mismatches, the first of each output:\n{}",
            failures.len(),
            seen.values().cloned().collect::<Vec<_>>().join("\n")
        );
    }
    checked
}

/// Small integers (exact in every type, in any order of summation).
fn small(t: ElementType, count: usize, seed: u64) -> Vec<u64> {
    (0..count as u64)
        .map(|i| {
            let v = ((i * 7 + seed * 13) % 9) as i128 - 3;
            let v = if t.kind() == Kind::Unsigned {
                v.abs()
            } else {
                v
            };
            match t.kind() {
                Kind::Float => Scalar::from_number(t, Number::Float(v as f64)).bits,
                Kind::Pred => (v > 0) as u64,
                _ => Scalar::from_number(t, Number::Int(v)).bits,
            }
        })
        .collect()
}

#[test]
fn reductions_and_dots_on_every_type_match_the_interpreter() {
    let (r, c) = (6, 37);
    for t in TYPES {
        let x = small(t, r * c, 1);
        let y = small(t, r * c, 2);
        let reducers: Vec<ReduceOp> = ReduceOp::ALL
            .into_iter()
            .filter(|op| op.combiner().domain().contains(t))
            .collect();
        for op in reducers {
            let init_text = match op.identity(t).to_number() {
                Number::Bool(b) => b.to_string(),
                Number::Int(i) => i.to_string(),
                Number::Float(x) if x.is_infinite() => {
                    if x > 0.0 {
                        "inf".into()
                    } else {
                        "-inf".into()
                    }
                }
                Number::Float(x) => x.to_string(),
            };
            // Products round differently in another order.
            let ulps = if op == ReduceOp::Multiply { 64.0 } else { 0.0 };
            let combine = match t {
                ElementType::Pred => "or",
                _ if op == ReduceOp::Multiply => "maximum",
                _ => "add",
            };
            let text = format!(
                "HloModule reduce\n\n\
                 red {{\n  a = {t}[] parameter(0)\n  b = {t}[] parameter(1)\n  ROOT c = {t}[] {}(a, b)\n}}\n\n\
                 ENTRY main {{\n  x = {t}[{r},{c}] parameter(0)\n  y = {t}[{r},{c}] parameter(1)\n  \
                 s = {t}[{r},{c}] {combine}(x, y)\n  z = {t}[] constant({init_text})\n  \
                 rows = {t}[{r}] reduce(s, z), dimensions={{1}}, to_apply=red\n  \
                 cols = {t}[{c}] reduce(s, z), dimensions={{0}}, to_apply=red\n  \
                 all = {t}[] reduce(x, z), dimensions={{0,1}}, to_apply=red\n  \
                 ROOT out = ({t}[{r}], {t}[{c}], {t}[]) tuple(rows, cols, all)\n}}\n",
                op.combiner().opcode()
            );
            let (want, got) = run_both(&text, &[shaped(t, &x, &[r, c]), shaped(t, &y, &[r, c])]);
            for (k, dims) in [vec![r], vec![c], vec![]].iter().enumerate() {
                let (w, g) = (bits(&want[k], dims), bits(&got[k], dims));
                for i in 0..w.len() {
                    assert!(
                        agree(t, w[i], g[i], ulps, false),
                        "{t} reduce {op:?} output {k} element {i}: interpreter {:#x}, cpu {:#x}\n{text}",
                        w[i],
                        g[i]
                    );
                }
            }
        }
        if t == ElementType::Pred {
            continue;
        }
        let (m, k, n) = (5, 37, 6);
        let a = small(t, m * k, 3);
        let b = small(t, k * n, 4);
        let text = format!(
            "HloModule dot\n\nENTRY main {{\n  a = {t}[{m},{k}] parameter(0)\n  b = {t}[{k},{n}] parameter(1)\n  \
             d = {t}[{m},{n}] dot(a, b), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}\n  \
             ROOT e = {t}[{m},{n}] add(d, d)\n}}\n"
        );
        let (want, got) = run_both(&text, &[shaped(t, &a, &[m, k]), shaped(t, &b, &[k, n])]);
        let (w, g) = (bits(&want[0], &[m, n]), bits(&got[0], &[m, n]));
        assert_eq!(w, g, "{t} dot\n{text}");
    }
}

#[test]
fn shapes_of_every_type_come_back_intact() {
    // A copy through a transpose: loads and stores of each width.
    for t in TYPES {
        let e = edges(t);
        let n = e.len();
        let text = format!(
            "HloModule copy\n\nENTRY main {{\n  x = {t}[2,{n}] parameter(0)\n  \
             ROOT y = {t}[{n},2] transpose(x), dimensions={{1,0}}\n}}\n"
        );
        let x: Vec<u64> = e.iter().chain(e.iter().rev()).copied().collect();
        let (want, got) = run_both(&text, &[shaped(t, &x, &[2, n])]);
        let (w, g) = (bits(&want[0], &[n, 2]), bits(&got[0], &[n, 2]));
        for i in 0..w.len() {
            assert!(agree(t, w[i], g[i], 0.0, false), "{t} copy {i}");
        }
    }
}

/// A softmax in each float type (a row kernel: the row's maximum and sum once
/// per row, `exp` kept in scratch), and the same shape of program on integers
/// (`abs` for `exp`), plus an iota and an array constant of the type.
#[test]
fn row_kernels_iota_and_constants_on_every_type() {
    let (r, c) = (5, 11);
    for t in TYPES.into_iter().filter(|&t| t != ElementType::Pred) {
        let (f, max_init) = if t.is_float() {
            ("exponential", "-inf".to_string())
        } else if t.kind() == Kind::Signed {
            ("abs", (-(1i128 << (t.bit_width() - 1))).to_string())
        } else {
            ("abs", "0".to_string())
        };
        let constant: Vec<String> = (0..c).map(|i| ((i * 3) % 5).to_string()).collect();
        let text = format!(
            "HloModule rows\n\n\
             mx {{\n  a = {t}[] parameter(0)\n  b = {t}[] parameter(1)\n  ROOT c = {t}[] maximum(a, b)\n}}\n\n\
             sum {{\n  a = {t}[] parameter(0)\n  b = {t}[] parameter(1)\n  ROOT c = {t}[] add(a, b)\n}}\n\n\
             ENTRY main {{\n  x = {t}[{r},{c}] parameter(0)\n  lo = {t}[] constant({max_init})\n  \
             m = {t}[{r}] reduce(x, lo), dimensions={{1}}, to_apply=mx\n  \
             mb = {t}[{r},{c}] broadcast(m), dimensions={{0}}\n  d = {t}[{r},{c}] subtract(x, mb)\n  \
             e = {t}[{r},{c}] {f}(d)\n  zero = {t}[] constant(0)\n  \
             s = {t}[{r}] reduce(e, zero), dimensions={{1}}, to_apply=sum\n  \
             sb = {t}[{r},{c}] broadcast(s), dimensions={{0}}\n  q = {t}[{r},{c}] divide(e, sb)\n  \
             i = {t}[{r},{c}] iota(), iota_dimension=1\n  k = {t}[{c}] constant({{{}}})\n  \
             kb = {t}[{r},{c}] broadcast(k), dimensions={{1}}\n  ik = {t}[{r},{c}] add(i, kb)\n  \
             ROOT out = ({t}[{r},{c}], {t}[{r},{c}]) tuple(q, ik)\n}}\n",
            constant.join(", ")
        );
        let x = small(t, r * c, 5);
        let (want, got) = run_both(&text, &[shaped(t, &x, &[r, c])]);
        for k in 0..2 {
            let (w, g) = (bits(&want[k], &[r, c]), bits(&got[k], &[r, c]));
            // exp is within a few ulps of f32; f16 and bf16 round that once more,
            // and the division is by the reciprocal only in f32; sums of floats
            // run in another order than the interpreter's pairs.
            let ulps = match t {
                ElementType::F32 => 16.0,
                ElementType::F64 => 4.0,
                ElementType::F16 | ElementType::Bf16 => 2.0,
                _ => 0.0,
            };
            for i in 0..w.len() {
                assert!(
                    agree(t, w[i], g[i], ulps, false),
                    "{t} output {k} element {i}: interpreter {:#x}, cpu {:#x}\n{text}",
                    w[i],
                    g[i]
                );
            }
        }
    }
}
