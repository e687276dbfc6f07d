//! The window ops (`reduce-window`, `select-and-scatter`) and variadic
//! `reduce` on the CPU and GPU backends, against the interpreter, where the
//! JAX fixtures do not reach: padding on both sides, base and window
//! dilation, windows entirely in the padding, empty operands and sources,
//! windows too large to unroll, integer and 16-bit types, ties, reductions
//! over leading, trailing and all dimensions, empty reduced dimensions, long
//! rows. Inputs are few distinct values (many ties, exact sums), so that the
//! results must match bit for bit.

mod support;

use ndarray::ArrayD;
use omelet_compiler::hlo::{ElementType, Module};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, cpu, gpu, interp};

use support::{compare, gpu_if_present};

const ADD: &str =
    "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT r = f32[] add(a, b)\n}\n";
const MAX: &str = "max {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT r = f32[] maximum(a, b)\n}\n";
const GE: &str = "ge {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT r = pred[] compare(a, b), direction=GE\n}\n";

/// A module of `regions` and an entry computing `root` from `params`.
fn module(regions: &[&str], params: &[&str], root: &str) -> String {
    let mut text = String::from("HloModule m\n\n");
    for r in regions {
        text.push_str(r);
        text.push('\n');
    }
    text.push_str("ENTRY main {\n");
    for (i, p) in params.iter().enumerate() {
        text.push_str(&format!("  p{i} = {p} parameter({i})\n"));
    }
    text.push_str(&format!("  {root}\n}}\n"));
    text
}

/// Runs `text` on the CPU and, where there is an adapter, the GPU, and
/// checks both against the interpreter.
fn check(text: &str) {
    let module = parse_module(text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let inputs = inputs(&module);
    let expected = interp::run(&module, &inputs).expect("the interpreter runs it");
    let fused = compile(module, Stage::Fused).module;
    let on_cpu = cpu::Executable::new(&fused)
        .and_then(|e| e.run(&inputs))
        .unwrap_or_else(|e| panic!("cpu: {e}\n{text}"));
    compare(&on_cpu, &expected, 0.0, 0.0).unwrap_or_else(|e| panic!("cpu: {e}\n{text}"));
    if let Some(device) = gpu_if_present() {
        let on_gpu = gpu::Executable::new(&fused, device)
            .and_then(|e| e.run(&inputs))
            .unwrap_or_else(|e| panic!("gpu: {e}\n{text}"));
        compare(&on_gpu, &expected, 0.0, 0.0).unwrap_or_else(|e| panic!("gpu: {e}\n{text}"));
    }
}

/// Inputs from a fixed linear congruential sequence: the first of few
/// distinct values (multiples of 1/2 in [-4, 4) for floats, integers in
/// [-8, 8)), with ties to break; the others' floats of many magnitudes, whose
/// sums depend on their order.
fn inputs(module: &Module) -> Vec<Array> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) % 16) as i32 - 8
    };
    module
        .parameter_shapes()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let shape = s.as_array().expect("array parameters");
            let dims = shape.dims.clone();
            let n = shape.element_count();
            match shape.element {
                ElementType::F32 => {
                    let v = (0..n)
                        .map(|_| match i {
                            0 => next() as f32 / 2.0,
                            _ => next() as f32 * 1.37f32.powi(next()),
                        })
                        .collect();
                    Array::F32(ArrayD::from_shape_vec(dims, v).expect("sized"))
                }
                ElementType::F16 => {
                    let bytes: Vec<u8> = (0..n)
                        .flat_map(|_| half_bits(next() as f32 / 2.0).to_le_bytes())
                        .collect();
                    Array::from_bytes(shape, &bytes)
                }
                ElementType::S32 => {
                    let v = (0..n).map(|_| next()).collect();
                    Array::S32(ArrayD::from_shape_vec(dims, v).expect("sized"))
                }
                other => panic!("no inputs of {other:?}"),
            }
        })
        .collect()
}

/// The bits of `x` as an `f16`, for the few values `inputs` makes (exact in
/// `f16`, normal or zero).
fn half_bits(x: f32) -> u16 {
    if x == 0.0 {
        return 0;
    }
    let bits = x.to_bits();
    let sign = (bits >> 16) & 0x8000;
    let exponent = ((bits >> 23) & 0xff) + 15 - 127;
    (sign | exponent << 10 | (bits >> 13) & 0x3ff) as u16
}

#[test]
fn max_pool_same_with_odd_sizes() {
    check(&module(
        &[MAX],
        &["f32[2,9,9,5]"],
        "init = f32[] constant(-inf)\n  ROOT r = f32[2,5,5,5] reduce-window(p0, init), \
         window={size=1x3x3x1 stride=1x2x2x1 pad=0_0x1_1x1_1x0_0}, to_apply=max",
    ));
}

#[test]
fn windows_with_dilations_and_uneven_padding() {
    check(&module(
        &[ADD],
        &["f32[5,7]"],
        "init = f32[] constant(0.5)\n  ROOT r = f32[5,8] reduce-window(p0, init), \
         window={size=3x2 stride=2x1 pad=2_1x0_3 lhs_dilate=2x1 rhs_dilate=1x2}, to_apply=add",
    ));
}

#[test]
fn windows_entirely_in_the_padding_give_the_init() {
    check(&module(
        &[ADD],
        &["f32[4]"],
        "init = f32[] constant(3)\n  ROOT r = f32[6] reduce-window(p0, init), \
         window={size=2 pad=3_0}, to_apply=add",
    ));
}

#[test]
fn an_empty_operand_gives_the_init() {
    check(&module(
        &[ADD],
        &["f32[3,0]"],
        "init = f32[] constant(2)\n  ROOT r = f32[3,2] reduce-window(p0, init), \
         window={size=1x1 pad=0_0x0_2}, to_apply=add",
    ));
}

#[test]
fn long_windows_loop_cumulative_sums_both_ways() {
    check(&module(
        &[ADD],
        &["f32[3,40]"],
        "init = f32[] constant(0)\n  \
         a = f32[3,40] reduce-window(p0, init), window={size=1x40 pad=0_0x39_0}, to_apply=add\n  \
         b = f32[3,40] reduce-window(p0, init), window={size=1x40 pad=0_0x0_39}, to_apply=add\n  \
         ROOT r = (f32[3,40], f32[3,40]) tuple(a, b)",
    ));
}

#[test]
fn integer_and_half_windows() {
    let min = "min {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n  ROOT r = s32[] minimum(a, b)\n}\n";
    check(&module(
        &[min],
        &["s32[6,10]"],
        "init = s32[] constant(5)\n  ROOT r = s32[3,10] reduce-window(p0, init), \
         window={size=3x3 stride=2x1 pad=1_0x1_1}, to_apply=min",
    ));
    let add = "add {\n  a = f16[] parameter(0)\n  b = f16[] parameter(1)\n  ROOT r = f16[] add(a, b)\n}\n";
    check(&module(
        &[add],
        &["f16[7,6]"],
        "init = f16[] constant(0)\n  ROOT r = f16[4,6] reduce-window(p0, init), \
         window={size=2x3 stride=2x1 pad=1_0x1_1}, to_apply=add",
    ));
}

#[test]
fn max_pool_gradient_with_ties_and_overlaps() {
    check(&module(
        &[GE, ADD],
        &["f32[2,9,9,6]", "f32[2,5,5,6]"],
        "init = f32[] constant(0.1)\n  ROOT r = f32[2,9,9,6] select-and-scatter(p0, p1, init), \
         window={size=1x3x3x1 stride=1x2x2x1 pad=0_0x1_1x1_1x0_0}, select=ge, scatter=add",
    ));
}

#[test]
fn select_and_scatter_with_long_windows_loops() {
    check(&module(
        &[GE, ADD],
        &["f32[40]", "f32[4]"],
        "init = f32[] constant(1)\n  ROOT r = f32[40] select-and-scatter(p0, p1, init), \
         window={size=20 stride=10 pad=5_5}, select=ge, scatter=add",
    ));
}

#[test]
fn select_and_scatter_of_minima_into_maxima() {
    let le = "le {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n  ROOT r = pred[] compare(a, b), direction=LE\n}\n";
    let max = "max {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n  ROOT r = s32[] maximum(a, b)\n}\n";
    check(&module(
        &[le, max],
        &["s32[7,5]", "s32[3,5]"],
        "init = s32[] constant(-3)\n  ROOT r = s32[7,5] select-and-scatter(p0, p1, init), \
         window={size=3x2 stride=2x1 pad=0_0x1_0}, select=le, scatter=max",
    ));
}

#[test]
fn select_and_scatter_without_windows_gives_the_init() {
    check(&module(
        &[GE, ADD],
        &["f32[3,4]", "f32[3,0]"],
        "init = f32[] constant(7)\n  ROOT r = f32[3,4] select-and-scatter(p0, p1, init), \
         window={size=1x5}, select=ge, scatter=add",
    ));
}

/// JAX's max-pool gradient (the operand padded, the result sliced back) and
/// a cumulative sum read by an elementwise op: each window op joins its
/// producers and consumers in one kernel, and still matches the interpreter.
#[test]
fn window_ops_fuse_with_their_producers_and_consumers() {
    let pool_grad = module(
        &[GE, ADD],
        &["f32[2,8,8,3]", "f32[2,4,4,3]"],
        "ninf = f32[] constant(-inf)\n  \
         padded = f32[2,9,9,3] pad(p0, ninf), padding=0_0x0_1x0_1x0_0\n  \
         zero = f32[] constant(0)\n  \
         s = f32[2,9,9,3] select-and-scatter(padded, p1, zero), \
         window={size=1x3x3x1 stride=1x2x2x1}, select=ge, scatter=add\n  \
         ROOT r = f32[2,8,8,3] slice(s), slice={[0:2], [0:8], [0:8], [0:3]}",
    );
    let cumsum_scaled = module(
        &[ADD],
        &["f32[5,33]"],
        "zero = f32[] constant(0)\n  \
         c = f32[5,33] reduce-window(p0, zero), window={size=1x33 pad=0_0x32_0}, to_apply=add\n  \
         ROOT r = f32[5,33] multiply(c, p0)",
    );
    for text in [pool_grad, cumsum_scaled] {
        let fused = compile(parse_module(&text).unwrap(), Stage::Fused).module;
        let kernels = omelet_compiler::cost::kernels(&fused);
        assert_eq!(
            kernels.len(),
            1,
            "{}",
            omelet_compiler::hlo::print_module(&fused)
        );
        check(&text);
    }
}

/// JAX's argmax region: the greater value, the smaller index among equals.
const ARGMAX: &str = "argmax {\n  a = f32[] parameter(0)\n  i = s32[] parameter(1)\n  \
    b = f32[] parameter(2)\n  j = s32[] parameter(3)\n  \
    gt = pred[] compare(a, b), direction=GT\n  nan = pred[] compare(a, a), direction=NE\n  \
    first = pred[] or(gt, nan)\n  eq = pred[] compare(a, b), direction=EQ\n  \
    lt = pred[] compare(i, j), direction=LT\n  tie = pred[] and(eq, lt)\n  \
    pick = pred[] or(first, tie)\n  v = f32[] select(pick, a, b)\n  \
    k = s32[] select(pick, i, j)\n  ROOT r = (f32[], s32[]) tuple(v, k)\n}\n";

/// An argmax of `p0` (of `dims`) over `reduced`, giving `out`.
fn argmax(dims: &str, iota_dim: usize, reduced: &str, out: &str) -> String {
    module(
        &[ARGMAX],
        &[&format!("f32[{dims}]")],
        &format!(
            "ids = s32[{dims}] iota(), iota_dimension={iota_dim}\n  \
             low = f32[] constant(-inf)\n  zero = s32[] constant(0)\n  \
             ROOT r = (f32[{out}], s32[{out}]) reduce(p0, ids, low, zero), \
             dimensions={{{reduced}}}, to_apply=argmax"
        ),
    )
}

#[test]
fn argmax_over_trailing_leading_and_all_dimensions() {
    check(&argmax("5,37", 1, "1", "5"));
    check(&argmax("37,6", 0, "0", "6"));
    check(&argmax("3,4,5", 2, "0,2", "4"));
    check(&argmax("6,7", 1, "0,1", ""));
}

#[test]
fn argmax_over_an_empty_dimension_gives_the_inits() {
    check(&argmax("3,0", 1, "1", "3"));
}

#[test]
fn argmax_over_long_rows() {
    check(&argmax("7,1000", 1, "1", "7"));
}
