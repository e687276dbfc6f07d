//! `sort` and `topk` on the CPU and GPU backends where the JAX fixtures do not
//! reach, against the interpreter bit for bit: comparators that are not strict
//! weak orders (a plain `compare` of floats with NaNs), sorts along a leading
//! dimension through a non-default layout, long rows of several operands,
//! zero-size dimensions, narrow and 16-bit types, topk of every order; and the
//! GPU's refusal of rows longer than its workgroup memory holds.

mod support;

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::half::f16;
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, RuntimeErrorKind, cpu, gpu, interp};

use support::gpu_if_present;

/// Pseudo-random values in `[0, range)` with repeats (ties), deterministic.
fn values(count: usize, range: u64, seed: u64) -> Vec<u64> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % range
        })
        .collect()
}

/// `f32`s with ties, negative zeros and NaNs of both signs.
fn floats(dims: &[usize], seed: u64) -> Array {
    let count = dims.iter().product();
    let data = values(count, 12, seed)
        .into_iter()
        .map(|v| match v {
            0 => f32::NAN,
            1 => -f32::NAN,
            2 => -0.0,
            3 => 0.0,
            v => v as f32 - 7.0,
        })
        .collect();
    Array::F32(ArrayD::from_shape_vec(IxDyn(dims), data).unwrap())
}

fn ints(dims: &[usize], seed: u64) -> Array {
    let count = dims.iter().product();
    let data = values(count, 9, seed)
        .into_iter()
        .map(|v| v as i32 - 4)
        .collect();
    Array::S32(ArrayD::from_shape_vec(IxDyn(dims), data).unwrap())
}

/// Runs `hlo` on the interpreter, the CPU and (where there is an adapter) the
/// GPU; the backends must give the interpreter's bits, or on the GPU, where
/// `gpu_permutes` (a comparator that is no strict weak order), some
/// permutation of each row.
fn check(hlo: &str, inputs: &[Array], gpu_permutes: bool) {
    let module = parse_module(hlo).unwrap_or_else(|e| panic!("{e}"));
    let expected = interp::run(&module, inputs).unwrap();
    let fused = compile(module, Stage::Fused).module;
    let on_cpu = cpu::Executable::new(&fused)
        .unwrap_or_else(|e| panic!("{e}"))
        .run(inputs)
        .unwrap();
    assert_same(&on_cpu, &expected, "cpu");
    let Some(device) = gpu_if_present() else {
        return;
    };
    let on_gpu = gpu::Executable::new(&fused, device)
        .unwrap_or_else(|e| panic!("{e}"))
        .run(inputs)
        .unwrap();
    if gpu_permutes {
        for (a, e) in on_gpu.iter().zip(&expected) {
            let (mut a, mut e) = (bits(a), bits(e));
            a.sort();
            e.sort();
            assert_eq!(a, e, "gpu: not a permutation of the interpreter's");
        }
    } else {
        assert_same(&on_gpu, &expected, "gpu");
    }
}

fn bits(a: &Array) -> Vec<u64> {
    a.bytes(&a.shape())
        .chunks(a.element_type().byte_size().max(1))
        .map(|c| c.iter().rev().fold(0, |w, &b| w << 8 | u64::from(b)))
        .collect()
}

fn assert_same(actual: &[Array], expected: &[Array], backend: &str) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(
            a.shape().dims,
            e.shape().dims,
            "{backend}: result {i}'s shape"
        );
        assert_eq!(bits(a), bits(e), "{backend}: result {i} differs");
    }
}

const LESS_PARTIAL: &str = "less {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT lt = pred[] compare(a, b), direction=LT
}
";

#[test]
fn a_partial_compare_with_nans_sorts_as_the_interpreter_does() {
    let hlo = format!(
        "HloModule m\n{LESS_PARTIAL}ENTRY e {{\n  x = f32[6,37] parameter(0)\n  \
         ROOT s = f32[6,37] sort(x), dimensions={{1}}, to_apply=less\n}}\n"
    );
    check(&hlo, &[floats(&[6, 37], 1)], true);
}

#[test]
fn a_leading_dimension_through_a_column_major_layout() {
    let hlo = "HloModule m
less {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  c = s32[] parameter(2)
  d = s32[] parameter(3)
  ROOT lt = pred[] compare(a, b), direction=GT, type=TOTALORDER
}
ENTRY e {
  x = f32[9,5]{0,1} parameter(0)
  y = s32[9,5] parameter(1)
  ROOT s = (f32[9,5]{0,1}, s32[9,5]) sort(x, y), dimensions={0}, is_stable=true, to_apply=less
}
";
    check(hlo, &[floats(&[9, 5], 2), ints(&[9, 5], 3)], false);
}

#[test]
fn long_rows_of_three_operands_with_two_keys() {
    // Rows of 3000 (not a multiple of any workgroup), an unstable sort that
    // sorts stably all the same.
    let hlo = "HloModule m
less {
  a = s32[] parameter(0)
  b = s32[] parameter(1)
  c = f32[] parameter(2)
  d = f32[] parameter(3)
  e = f16[] parameter(4)
  f = f16[] parameter(5)
  lt = pred[] compare(a, b), direction=LT
  eq = pred[] compare(a, b), direction=EQ
  lt2 = pred[] compare(c, d), direction=LT, type=TOTALORDER
  tie = pred[] and(eq, lt2)
  ROOT first = pred[] or(lt, tie)
}
ENTRY e {
  k = s32[3,3000] parameter(0)
  v = f32[3,3000] parameter(1)
  h = f16[3,3000] parameter(2)
  ROOT s = (s32[3,3000], f32[3,3000], f16[3,3000]) sort(k, v, h), dimensions={1}, to_apply=less
}
";
    let halves = values(9000, 1000, 4)
        .into_iter()
        .map(|v| f16::from_f32(v as f32 / 8.0))
        .collect();
    let h = Array::F16(ArrayD::from_shape_vec(IxDyn(&[3, 3000]), halves).unwrap());
    check(hlo, &[ints(&[3, 3000], 5), floats(&[3, 3000], 6), h], false);
}

#[test]
fn zero_size_dimensions_sort_nothing() {
    for dims in ["0,5", "4,0"] {
        let hlo = format!(
            "HloModule m\n{LESS_PARTIAL}ENTRY e {{\n  x = f32[{dims}] parameter(0)\n  \
             ROOT s = f32[{dims}] sort(x), dimensions={{1}}, to_apply=less\n}}\n"
        );
        let shape: Vec<usize> = dims.split(',').map(|d| d.parse().unwrap()).collect();
        check(&hlo, &[floats(&shape, 7)], false);
    }
}

#[test]
fn narrow_types_sort_by_their_own_order() {
    let hlo = "HloModule m
less {
  a = u8[] parameter(0)
  b = u8[] parameter(1)
  c = pred[] parameter(2)
  d = pred[] parameter(3)
  ROOT gt = pred[] compare(a, b), direction=GT
}
ENTRY e {
  x = u8[4,33] parameter(0)
  p = pred[4,33] parameter(1)
  ROOT s = (u8[4,33], pred[4,33]) sort(x, p), dimensions={1}, to_apply=less
}
";
    let bytes = values(132, 256, 8).into_iter().map(|v| v as u8).collect();
    let x = Array::U8(ArrayD::from_shape_vec(IxDyn(&[4, 33]), bytes).unwrap());
    let flags = values(132, 2, 9).into_iter().map(|v| v == 1).collect();
    let p = Array::Pred(ArrayD::from_shape_vec(IxDyn(&[4, 33]), flags).unwrap());
    check(hlo, &[x, p], false);
}

#[test]
fn topk_in_total_order_both_ways() {
    for (k, largest) in [(7, false), (1, true), (0, true), (300, true)] {
        let hlo = format!(
            "HloModule m\nENTRY e {{\n  x = f32[3,2,300] parameter(0)\n  \
             ROOT t = (f32[3,2,{k}], s32[3,2,{k}]) topk(x), k={k}, largest={largest}\n}}\n"
        );
        check(&hlo, &[floats(&[3, 2, 300], 10)], false);
    }
    let hlo = "HloModule m\nENTRY e {\n  x = s32[5,40] parameter(0)\n  \
               ROOT t = (s32[5,6], s32[5,6]) topk(x), k=6, largest=false\n}\n";
    check(hlo, &[ints(&[5, 40], 11)], false);
}

#[test]
fn topk_of_64_bit_integers_on_the_cpu() {
    // The GPU refuses 64-bit types; the CPU orders u64 above i64::MAX right.
    let hlo = "HloModule m\nENTRY e {\n  x = u64[2,50] parameter(0)\n  \
               ROOT t = (u64[2,5], s32[2,5]) topk(x), k=5, largest=true\n}\n";
    let data = values(100, 7, 12)
        .into_iter()
        .map(|v| v.wrapping_mul(0x3000_0000_0000_0000))
        .collect();
    let x = Array::U64(ArrayD::from_shape_vec(IxDyn(&[2, 50]), data).unwrap());
    let module = parse_module(hlo).unwrap();
    let expected = interp::run(&module, std::slice::from_ref(&x)).unwrap();
    let fused = compile(module, Stage::Fused).module;
    let actual = cpu::Executable::new(&fused).unwrap().run(&[x]).unwrap();
    assert_same(&actual, &expected, "cpu");
}

#[test]
fn the_gpu_refuses_rows_longer_than_its_workgroup_memory() {
    let Some(device) = gpu_if_present() else {
        return;
    };
    let n = device.limits.max_compute_workgroup_storage_size as usize;
    let hlo = format!(
        "HloModule m\n{LESS_PARTIAL}ENTRY e {{\n  x = f32[2,{n}] parameter(0)\n  \
         ROOT s = f32[2,{n}] sort(x), dimensions={{1}}, to_apply=less\n}}\n"
    );
    let fused = compile(parse_module(&hlo).unwrap(), Stage::Fused).module;
    let Err(e) = gpu::Executable::new(&fused, device) else {
        panic!("a row of {n} elements compiled")
    };
    assert_eq!(e.kind, RuntimeErrorKind::Unsupported);
    assert!(
        e.to_string()
            .contains("the GPU backend sorts a row in workgroup memory: at most"),
        "{e}"
    );
}
