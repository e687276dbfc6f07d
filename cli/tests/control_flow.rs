//! Loops and branches on the CPU and GPU backends, against the interpreter:
//! a counted loop whose state is used before, inside and after it, a loop
//! that never runs its body, nested loops, a body with an op of several
//! results, a scan's stacked outputs (updated in place by the driver, with
//! starts past the end clamped), and `conditional` by predicate and by index
//! (out-of-range indices run the last branch), with tuple and array operands. Inputs are
//! small integers, so that results match bit for bit.

mod support;

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::hlo::{ElementType, Module};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, cpu, gpu, interp};

use support::{compare, gpu_if_present};

/// Runs `text` on `inputs` on the CPU and, where there is an adapter, the
/// GPU, and checks both against the interpreter.
fn check(text: &str, inputs: &[Array]) {
    let module: Module = parse_module(text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let expected = interp::run(&module, inputs).expect("the interpreter runs it");
    let fused = compile(module, Stage::Fused).module;
    let on_cpu = cpu::Executable::new(&fused)
        .and_then(|e| e.run(inputs))
        .unwrap_or_else(|e| panic!("cpu: {e}\n{text}"));
    compare(&on_cpu, &expected, 0.0, 0.0).unwrap_or_else(|e| panic!("cpu: {e}\n{text}"));
    if let Some(device) = gpu_if_present() {
        let on_gpu = gpu::Executable::new(&fused, device)
            .and_then(|e| e.run(inputs))
            .unwrap_or_else(|e| panic!("gpu: {e}\n{text}"));
        compare(&on_gpu, &expected, 0.0, 0.0).unwrap_or_else(|e| panic!("gpu: {e}\n{text}"));
    }
}

fn f32s(dims: &[usize]) -> Array {
    let n: usize = dims.iter().product();
    let values = (0..n).map(|i| ((i * 7 + 3) % 11) as f32 - 5.0).collect();
    Array::F32(ArrayD::from_shape_vec(IxDyn(dims), values).unwrap())
}

fn scalar(element: ElementType, value: i32) -> Array {
    match element {
        ElementType::S32 => Array::S32(ArrayD::from_elem(IxDyn(&[]), value)),
        ElementType::Pred => Array::Pred(ArrayD::from_elem(IxDyn(&[]), value != 0)),
        _ => unreachable!("selectors are pred or s32"),
    }
}

/// `fori_loop(0, n, lambda i, (x, acc): (x * 0.5 + w, acc + sum(x)))` with `w`
/// computed before the loop and `x` and `acc` used after it.
const FORI_LOOP: &str = "HloModule m

add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}

cond {
  s = (s32[], s32[], f32[4,3], f32[], f32[4,3]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] get-tuple-element(s), index=1
  ROOT lt = pred[] compare(i, n), direction=LT
}

body {
  s = (s32[], s32[], f32[4,3], f32[], f32[4,3]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] get-tuple-element(s), index=1
  x = f32[4,3] get-tuple-element(s), index=2
  acc = f32[] get-tuple-element(s), index=3
  w = f32[4,3] get-tuple-element(s), index=4
  one = s32[] constant(1)
  next = s32[] add(i, one)
  half = f32[] constant(0.5)
  halves = f32[4,3] broadcast(half), dimensions={}
  scaled = f32[4,3] multiply(x, halves)
  x2 = f32[4,3] add(scaled, w)
  zero = f32[] constant(0)
  total = f32[] reduce(x, zero), dimensions={0,1}, to_apply=add
  acc2 = f32[] add(acc, total)
  ROOT t = (s32[], s32[], f32[4,3], f32[], f32[4,3]) tuple(next, n, x2, acc2, w)
}

ENTRY main {
  x = f32[4,3] parameter(0)
  n = s32[] parameter(1)
  w = f32[4,3] negate(x)
  zero = s32[] constant(0)
  fzero = f32[] constant(0)
  init = (s32[], s32[], f32[4,3], f32[], f32[4,3]) tuple(zero, n, x, fzero, w)
  loop = (s32[], s32[], f32[4,3], f32[], f32[4,3]) while(init), condition=cond, body=body
  out = f32[4,3] get-tuple-element(loop), index=2
  acc = f32[] get-tuple-element(loop), index=3
  both = f32[4,3] add(out, w)
  ROOT r = (f32[4,3], f32[], s32[]) tuple(both, acc, n)
}
";

#[test]
fn a_counted_loop_uses_values_from_before_and_after_it() {
    for n in [0, 1, 5] {
        check(FORI_LOOP, &[f32s(&[4, 3]), scalar(ElementType::S32, n)]);
    }
}

/// An outer loop of `n` steps, each running an inner loop that doubles `x`
/// `i` times (the inner trip count changes with the outer counter), and
/// whose body sorts two operands together (an op of several results).
#[test]
fn nested_loops_with_a_sort_in_the_body() {
    let text = "HloModule m

less {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  c = s32[] parameter(2)
  d = s32[] parameter(3)
  ROOT lt = pred[] compare(a, b), direction=LT
}

inner_cond {
  s = (s32[], s32[], f32[6]) parameter(0)
  j = s32[] get-tuple-element(s), index=0
  m = s32[] get-tuple-element(s), index=1
  ROOT lt = pred[] compare(j, m), direction=LT
}

inner_body {
  s = (s32[], s32[], f32[6]) parameter(0)
  j = s32[] get-tuple-element(s), index=0
  m = s32[] get-tuple-element(s), index=1
  x = f32[6] get-tuple-element(s), index=2
  one = s32[] constant(1)
  j2 = s32[] add(j, one)
  x2 = f32[6] add(x, x)
  ROOT t = (s32[], s32[], f32[6]) tuple(j2, m, x2)
}

outer_cond {
  s = (s32[], s32[], f32[6], s32[6]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] get-tuple-element(s), index=1
  ROOT lt = pred[] compare(i, n), direction=LT
}

outer_body {
  s = (s32[], s32[], f32[6], s32[6]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] get-tuple-element(s), index=1
  x = f32[6] get-tuple-element(s), index=2
  k = s32[6] get-tuple-element(s), index=3
  zero = s32[] constant(0)
  init = (s32[], s32[], f32[6]) tuple(zero, i, x)
  inner = (s32[], s32[], f32[6]) while(init), condition=inner_cond, body=inner_body
  doubled = f32[6] get-tuple-element(inner), index=2
  neg = f32[6] negate(doubled)
  sorted = (f32[6], s32[6]) sort(neg, k), dimensions={0}, is_stable=true, to_apply=less
  x2 = f32[6] get-tuple-element(sorted), index=0
  k2 = s32[6] get-tuple-element(sorted), index=1
  one = s32[] constant(1)
  i2 = s32[] add(i, one)
  ROOT t = (s32[], s32[], f32[6], s32[6]) tuple(i2, n, x2, k2)
}

ENTRY main {
  x = f32[6] parameter(0)
  n = s32[] parameter(1)
  k = s32[6] iota(), iota_dimension=0
  zero = s32[] constant(0)
  init = (s32[], s32[], f32[6], s32[6]) tuple(zero, n, x, k)
  loop = (s32[], s32[], f32[6], s32[6]) while(init), condition=outer_cond, body=outer_body
  xs = f32[6] get-tuple-element(loop), index=2
  ks = s32[6] get-tuple-element(loop), index=3
  ROOT r = (f32[6], s32[6]) tuple(xs, ks)
}
";
    for n in [0, 3] {
        check(text, &[f32s(&[6]), scalar(ElementType::S32, n)]);
    }
}

/// `lax.switch` of three branches on a tuple operand, and `lax.cond` on an
/// array operand, a value from before the branch used after it.
#[test]
fn branches_by_index_and_by_predicate() {
    let switch = "HloModule m

first {
  p = (f32[5], f32[5]) parameter(0)
  a = f32[5] get-tuple-element(p), index=0
  b = f32[5] get-tuple-element(p), index=1
  ROOT s = f32[5] add(a, b)
}

second {
  p = (f32[5], f32[5]) parameter(0)
  a = f32[5] get-tuple-element(p), index=0
  b = f32[5] get-tuple-element(p), index=1
  ROOT s = f32[5] multiply(a, b)
}

third {
  p = (f32[5], f32[5]) parameter(0)
  a = f32[5] get-tuple-element(p), index=0
  ROOT s = f32[5] negate(a)
}

ENTRY main {
  x = f32[5] parameter(0)
  i = s32[] parameter(1)
  y = f32[5] abs(x)
  ops = (f32[5], f32[5]) tuple(x, y)
  c = f32[5] conditional(i, ops, ops, ops), branch_computations={first, second, third}
  ROOT r = f32[5] subtract(c, y)
}
";
    for i in [-1, 0, 1, 2, 7] {
        check(switch, &[f32s(&[5]), scalar(ElementType::S32, i)]);
    }
    let cond = "HloModule m

yes {
  a = f32[2,3] parameter(0)
  ROOT e = f32[2,3] add(a, a)
}

no {
  b = f32[2,3] parameter(0)
  ROOT n = f32[2,3] negate(b)
}

ENTRY main {
  x = f32[2,3] parameter(0)
  p = pred[] parameter(1)
  c = f32[2,3] conditional(p, x, x), true_computation=yes, false_computation=no
  ROOT r = (f32[2,3], f32[2,3]) tuple(c, x)
}
";
    for p in [0, 1] {
        check(cond, &[f32s(&[2, 3]), scalar(ElementType::Pred, p)]);
    }
}

/// `lax.scan` as JAX lowers it: the body slices row `i` of the inputs and
/// writes row `i + offset` of two stacks (the driver updates them in place);
/// with an offset the rows past the end clamp onto the last, as XLA clamps.
#[test]
fn a_scan_stacks_its_outputs() {
    let scan = |offset: i32| {
        format!(
            "HloModule m

cond {{
  s = (s32[], f32[3], f32[5,3], f32[5,3], f32[5,3]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] constant(5)
  ROOT lt = pred[] compare(i, n), direction=LT
}}

body {{
  s = (s32[], f32[3], f32[5,3], f32[5,3], f32[5,3]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  carry = f32[3] get-tuple-element(s), index=1
  xs = f32[5,3] get-tuple-element(s), index=2
  ys = f32[5,3] get-tuple-element(s), index=3
  zs = f32[5,3] get-tuple-element(s), index=4
  zero = s32[] constant(0)
  row = f32[1,3] dynamic-slice(xs, i, zero), dynamic_slice_sizes={{1,3}}
  x = f32[3] reshape(row)
  carry2 = f32[3] add(carry, x)
  y = f32[1,3] reshape(carry2)
  offset = s32[] constant({offset})
  at = s32[] add(i, offset)
  ys2 = f32[5,3] dynamic-update-slice(ys, y, at, zero)
  z = f32[1,3] negate(y)
  zs2 = f32[5,3] dynamic-update-slice(zs, z, i, zero)
  one = s32[] constant(1)
  next = s32[] add(i, one)
  ROOT t = (s32[], f32[3], f32[5,3], f32[5,3], f32[5,3]) tuple(next, carry2, xs, ys2, zs2)
}}

ENTRY main {{
  xs = f32[5,3] parameter(0)
  zero = s32[] constant(0)
  fzero = f32[] constant(0)
  carry = f32[3] broadcast(fzero), dimensions={{}}
  stack = f32[5,3] broadcast(fzero), dimensions={{}}
  init = (s32[], f32[3], f32[5,3], f32[5,3], f32[5,3]) tuple(zero, carry, xs, stack, stack)
  loop = (s32[], f32[3], f32[5,3], f32[5,3], f32[5,3]) while(init), condition=cond, body=body
  last = f32[3] get-tuple-element(loop), index=1
  ys = f32[5,3] get-tuple-element(loop), index=3
  zs = f32[5,3] get-tuple-element(loop), index=4
  ROOT r = (f32[3], f32[5,3], f32[5,3], f32[5,3]) tuple(last, ys, zs, xs)
}}
"
        )
    };
    for offset in [0, 2] {
        check(&scan(offset), &[f32s(&[5, 3])]);
    }
}
