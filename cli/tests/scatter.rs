//! Scatter on the CPU and GPU backends where the fixtures do not reach, each
//! bit for bit against the interpreter on pseudo-random inputs whose indices
//! run past both ends of the operand (windows dropped whole), with duplicates:
//! scalar and vector index forms, windows narrower than the operand (split over
//! threads), window dimensions before scatter dimensions in the updates,
//! batching dimensions, several index components, empty updates and operands,
//! and element types other than `f32`.
//!
//! Trials: `cpu::NAME` and `gpu::NAME` (ignored without an adapter, with the
//! reason printed; a failure where `OMELET_REQUIRE_TOOLS` is set). Programs of
//! 64-bit types run on the CPU only.

mod support;

use libtest_mimic::{Arguments, Failed, Trial};
use omelet_compiler::hlo::{ElementType, Module, Number, Scalar};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, cpu, gpu, interp};

use support::{compare, gpu_device, has_64_bit_values, ignore_gpu_trials};

/// The regions the programs apply.
const REGIONS: &str = "
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] add(a, b)
}
set {
  a = f32[] parameter(0)
  ROOT b = f32[] parameter(1)
}
max {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] maximum(a, b)
}
";

/// (name, entry computation, the range integer inputs are drawn from).
const PROGRAMS: &[(&str, &str, (i64, i64))] = &[
    (
        // A one-hot gradient added to a computed array: the optimizer makes it
        // a scatter into that array, which the CPU updates in place.
        "one_hot_added_to_a_kernel_output",
        "x = f32[40,70] parameter(0)
  e = f32[40,70] multiply(x, x)
  zero = f32[] constant(0)
  z = f32[40,70] broadcast(zero), dimensions={}
  i = s32[40,1] parameter(1)
  u = f32[40] parameter(2)
  s = f32[40,70] scatter(z, i, u), update_window_dims={}, inserted_window_dims={1}, scatter_dims_to_operand_dims={1}, input_batching_dims={0}, scatter_indices_batching_dims={0}, index_vector_dim=1, to_apply=add
  ROOT r = f32[40,70] add(e, s)",
        (-3, 73),
    ),
    (
        // The operand is also a result, and read after the scatter: never
        // updated in place.
        "operand_read_after_the_scatter",
        "x = f32[30,20] parameter(0)
  e = f32[30,20] multiply(x, x)
  i = s32[25,1] parameter(1)
  u = f32[25,20] parameter(2)
  s = f32[30,20] scatter(e, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add
  n = f32[30,20] negate(e)
  m = f32[30,20] multiply(s, n)
  ROOT t = (f32[30,20], f32[30,20], f32[30,20]) tuple(m, e, s)",
        (-2, 32),
    ),
    (
        // Two scatters in a row, each updating the last one's output in place.
        "scatters_chained_in_place",
        "x = f32[30,20] parameter(0)
  e = f32[30,20] multiply(x, x)
  i = s32[25,1] parameter(1)
  u = f32[25,20] parameter(2)
  s = f32[30,20] scatter(e, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add
  ROOT s2 = f32[30,20] scatter(s, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=set",
        (-2, 32),
    ),
    (
        // The gradient of an embedding lookup: its zeros are computed in the
        // scatter's kernel ([`ONE_KERNEL`]).
        "embedding_gradient_into_zeros",
        "zero = f32[] constant(0)
  x = f32[50,70] broadcast(zero), dimensions={}
  i = s32[90,1] parameter(0)
  u = f32[90,70] parameter(1)
  ROOT s = f32[50,70] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add",
        (-5, 55),
    ),
    (
        "vector_add_duplicates_out_of_bounds",
        "x = f32[10] parameter(0)
  i = s32[40,1] parameter(1)
  u = f32[40] parameter(2)
  ROOT s = f32[10] scatter(x, i, u), update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add",
        (-3, 13),
    ),
    (
        "scalar_indices_set_last_wins",
        "x = f32[10] parameter(0)
  i = s32[30] parameter(1)
  u = f32[30] parameter(2)
  ROOT s = f32[10] scatter(x, i, u), update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=set",
        (-2, 12),
    ),
    (
        "partial_windows_set_overlapping",
        "x = f32[6,37] parameter(0)
  i = s32[5,1] parameter(1)
  u = f32[5,2,37] parameter(2)
  ROOT s = f32[6,37] scatter(x, i, u), update_window_dims={1,2}, inserted_window_dims={}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=set",
        (-1, 7),
    ),
    (
        // Threads split the 1030 columns; the windows cover 1000 of them.
        "window_narrower_than_split_dimension",
        "x = f32[700,1030] parameter(0)
  i = s32[64,1] parameter(1)
  u = f32[64,1000] parameter(2)
  ROOT s = f32[700,1030] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add",
        (-2, 702),
    ),
    (
        // Windows overlap: XLA applies them scatter position by position.
        "window_dimension_before_scatter_dimension",
        "x = f32[7,6] parameter(0)
  i = s32[4,2] parameter(1)
  u = f32[3,4] parameter(2)
  ROOT s = f32[7,6] scatter(x, i, u), update_window_dims={0}, inserted_window_dims={1}, scatter_dims_to_operand_dims={0,1}, index_vector_dim=1, to_apply=set",
        (-1, 7),
    ),
    (
        "batching_dimension",
        "x = f32[3,10] parameter(0)
  i = s32[3,4,1] parameter(1)
  u = f32[3,4] parameter(2)
  ROOT s = f32[3,10] scatter(x, i, u), update_window_dims={}, inserted_window_dims={1}, scatter_dims_to_operand_dims={1}, input_batching_dims={0}, scatter_indices_batching_dims={0}, index_vector_dim=2, to_apply=add",
        (-2, 12),
    ),
    (
        "batching_dimension_inside_indices",
        "x = f32[3,10] parameter(0)
  i = s32[4,3,1] parameter(1)
  u = f32[4,3] parameter(2)
  ROOT s = f32[3,10] scatter(x, i, u), update_window_dims={}, inserted_window_dims={1}, scatter_dims_to_operand_dims={1}, input_batching_dims={0}, scatter_indices_batching_dims={1}, index_vector_dim=2, to_apply=set",
        (-2, 12),
    ),
    (
        "two_index_components_max",
        "x = f32[4,5,6] parameter(0)
  i = s32[9,2] parameter(1)
  u = f32[9,5] parameter(2)
  ROOT s = f32[4,5,6] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0,2}, scatter_dims_to_operand_dims={0,2}, index_vector_dim=1, to_apply=max",
        (-1, 7),
    ),
    (
        "empty_updates",
        "x = f32[5,3] parameter(0)
  i = s32[0,1] parameter(1)
  u = f32[0,3] parameter(2)
  ROOT s = f32[5,3] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add",
        (0, 5),
    ),
    (
        "empty_operand",
        "x = f32[0,4] parameter(0)
  i = s32[3,1] parameter(1)
  u = f32[3,4] parameter(2)
  ROOT s = f32[0,4] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add",
        (-1, 2),
    ),
    (
        // A region that is no single op: half the old value plus the update.
        "computed_region",
        "x = f32[16,8] parameter(0)
  i = s32[20,1] parameter(1)
  u = f32[20,8] parameter(2)
  ROOT s = f32[16,8] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=half_plus",
        (-1, 17),
    ),
    (
        "s32_minimum_u8_indices",
        "x = s32[9] parameter(0)
  i = u8[30,1] parameter(1)
  u = s32[30] parameter(2)
  ROOT s = s32[9] scatter(x, i, u), update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=min_s32",
        (0, 12),
    ),
    (
        "f16_add_rows",
        "x = f16[8,5] parameter(0)
  i = s32[12,1] parameter(1)
  u = f16[12,5] parameter(2)
  ROOT s = f16[8,5] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add_f16",
        (-1, 9),
    ),
    (
        "s8_multiply_wraps",
        "x = s8[6] parameter(0)
  i = s16[25,1] parameter(1)
  u = s8[25] parameter(2)
  ROOT s = s8[6] scatter(x, i, u), update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=mul_s8",
        (-1, 7),
    ),
    (
        "pred_or",
        "x = pred[6] parameter(0)
  i = s32[8,1] parameter(1)
  u = pred[8] parameter(2)
  ROOT s = pred[6] scatter(x, i, u), update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=or_pred",
        (-1, 7),
    ),
    (
        "f64_add_s64_indices",
        "x = f64[5,3] parameter(0)
  i = s64[9,1] parameter(1)
  u = f64[9,3] parameter(2)
  ROOT s = f64[5,3] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add_f64",
        (-2, 7),
    ),
];

/// Regions of other types.
const TYPED_REGIONS: &str = "
half_plus {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  h = f32[] constant(0.5)
  m = f32[] multiply(a, h)
  ROOT c = f32[] add(m, b)
}
min_s32 {
  a = s32[] parameter(0)
  b = s32[] parameter(1)
  ROOT c = s32[] minimum(a, b)
}
add_f16 {
  a = f16[] parameter(0)
  b = f16[] parameter(1)
  ROOT c = f16[] add(a, b)
}
mul_s8 {
  a = s8[] parameter(0)
  b = s8[] parameter(1)
  ROOT c = s8[] multiply(a, b)
}
or_pred {
  a = pred[] parameter(0)
  b = pred[] parameter(1)
  ROOT c = pred[] or(a, b)
}
add_f64 {
  a = f64[] parameter(0)
  b = f64[] parameter(1)
  ROOT c = f64[] add(a, b)
}
";

/// Programs whose scatter computes its operand element by element: one kernel.
const ONE_KERNEL: &[&str] = &["embedding_gradient_into_zeros"];

fn main() {
    let args = Arguments::from_args();
    let no_gpu = ignore_gpu_trials();
    let mut trials = Vec::new();
    for &(name, entry, range) in PROGRAMS {
        let text = format!("HloModule m\n{REGIONS}{TYPED_REGIONS}\nENTRY e {{\n  {entry}\n}}\n");
        let module = parse_module(&text).expect("the programs parse");
        let on_gpu = !has_64_bit_values(&module);
        let m = module.clone();
        trials.push(Trial::test(format!("cpu::{name}"), move || {
            matches_interpreter(&m, range, Backend::Cpu)
        }));
        if on_gpu {
            trials.push(
                Trial::test(format!("gpu::{name}"), move || {
                    matches_interpreter(&module, range, Backend::Gpu)
                })
                .with_ignored_flag(no_gpu),
            );
        }
    }
    for name in ONE_KERNEL {
        let (_, entry, _) = PROGRAMS.iter().find(|p| p.0 == *name).expect("a program");
        let text = format!("HloModule m\n{REGIONS}\nENTRY e {{\n  {entry}\n}}\n");
        trials.push(Trial::test(format!("one_kernel::{name}"), move || {
            let module = parse_module(&text).map_err(|e| format!("{e:?}"))?;
            let fused = compile(module, Stage::Fused).module;
            match omelet_compiler::cost::kernels(&fused).len() {
                1 => Ok(()),
                n => Err(format!(
                    "{n} kernels:\n{}",
                    omelet_compiler::hlo::print_module(&fused)
                )
                .into()),
            }
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}

#[derive(Clone, Copy)]
enum Backend {
    Cpu,
    Gpu,
}

fn matches_interpreter(module: &Module, range: (i64, i64), backend: Backend) -> Result<(), Failed> {
    let inputs = inputs(module, range);
    let expected = interp::run(module, &inputs).map_err(|e| e.to_string())?;
    let fused = compile(module.clone(), Stage::Fused).module;
    let results = match backend {
        Backend::Cpu => cpu::Executable::new(&fused).and_then(|x| x.run(&inputs)),
        Backend::Gpu => gpu::Executable::new(&fused, gpu_device()?).and_then(|x| x.run(&inputs)),
    }
    .map_err(|e| e.to_string())?;
    Ok(compare(&results, &expected, 0.0, 0.0)?)
}

/// Each parameter's elements from a fixed linear congruential sequence:
/// integers in `range` (indices past both ends), floats in [-2, 2) in steps
/// of 1/8 (exact in `f16`), `pred`s either way.
fn inputs(module: &Module, (low, high): (i64, i64)) -> Vec<Array> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    module
        .parameter_shapes()
        .iter()
        .map(|s| {
            let shape = s.as_array().expect("array parameters");
            let element = shape.element;
            let bytes: Vec<u8> = (0..shape.element_count())
                .flat_map(|_| {
                    let r = next();
                    let scalar = match element {
                        _ if element.is_float() => {
                            let x = (r % 32) as f64 / 8.0 - 2.0;
                            Scalar::from_number(element, Number::Float(x))
                        }
                        ElementType::Pred => Scalar::from_number(element, Number::Bool(r % 2 == 1)),
                        _ => Scalar::int(element, low + (r % (high - low) as u64) as i64),
                    };
                    scalar.bits.to_le_bytes()[..element.byte_size()].to_vec()
                })
                .collect();
            Array::from_bytes(shape, &bytes)
        })
        .collect()
}
