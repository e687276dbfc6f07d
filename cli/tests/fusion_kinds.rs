//! Hand-written fusions, run as written (not re-fused by the pipeline): each is
//! rejected by the verifier with a message that names the culprit, refused by
//! the backends with an `Unsupported` error, or compiled and run to the
//! interpreter's numbers. None may write out of its buffers.

mod support;

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::hlo::{ArrayShape, ComputationId, ElementType, Module, Op, verify};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, RuntimeErrorKind, cpu, gpu, interp};

const ADD: &str =
    "add {\n  l = f32[] parameter(0)\n  r = f32[] parameter(1)\n  ROOT s = f32[] add(l, r)\n}\n";

/// A module whose entry passes its parameters to one fusion of `kind` calling
/// `fused` (the text of a computation named `fused`), with the fusion's shape.
fn module(fused: &str, params: &[&str], shape: &str, kind: &str) -> String {
    let params_text: String = params
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  x{i} = {p} parameter({i})\n"))
        .collect();
    let operands: Vec<String> = (0..params.len()).map(|i| format!("x{i}")).collect();
    format!(
        "HloModule m\n\n{ADD}\n{fused}\nENTRY main {{\n{params_text}  ROOT f = {shape} fusion({}), kind={kind}, calls=fused\n}}\n",
        operands.join(", ")
    )
}

/// The verifier rejects `text`, saying `expected`.
fn rejected(text: &str, expected: &str) {
    let e = parse_module(text).expect_err("the verifier rejects the fusion");
    assert!(e.span.is_some(), "the error has no location: {e}");
    assert!(e.to_string().contains(expected), "{e}");
}

/// `module` as written compiles on the CPU (and the GPU, where there is one)
/// and runs to the interpreter's numbers.
fn runs_as_written(module: &Module) {
    verify(module).expect("the module verifies");
    let inputs = inputs(module);
    let expected = interp::run(module, &inputs).expect("the interpreter runs it");
    let actual = cpu::Executable::new(module)
        .expect("the cpu backend compiles it")
        .run(&inputs)
        .expect("the cpu backend runs it");
    support::compare_normwise(&actual, &expected, 1e-5).expect("cpu matches the interpreter");
    if let Some(device) = support::gpu_if_present() {
        let actual = gpu::Executable::new(module, device)
            .expect("the gpu backend compiles it")
            .run(&inputs)
            .expect("the gpu backend runs it");
        support::compare_normwise(&actual, &expected, 1e-5).expect("gpu matches the interpreter");
    }
}

/// The backends refuse `module` as written, saying `expected`.
fn refused(module: &Module, expected: &str) {
    let e = cpu::Executable::new(module)
        .err()
        .expect("the cpu backend refuses it");
    assert_eq!(e.kind, RuntimeErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains(expected), "{e}");
    if let Some(device) = support::gpu_if_present() {
        let e = gpu::Executable::new(module, device)
            .err()
            .expect("the gpu backend refuses it");
        assert_eq!(e.kind, RuntimeErrorKind::Unsupported, "{e}");
    }
}

/// The module re-fused by the pipeline (as `omelet run` does) runs correctly.
fn runs_refused(module: &Module) {
    let fused = compile(module.clone(), Stage::Fused).module;
    let inputs = inputs(module);
    let expected = interp::run(module, &inputs).expect("the interpreter runs it");
    let actual = cpu::Executable::new(&fused)
        .expect("the cpu backend compiles the re-fused module")
        .run(&inputs)
        .expect("the cpu backend runs it");
    support::compare_normwise(&actual, &expected, 1e-5).expect("cpu matches the interpreter");
}

fn inputs(module: &Module) -> Vec<Array> {
    module
        .parameter_shapes()
        .iter()
        .map(|s| input(s.as_array().expect("array parameters")))
        .collect()
}

fn input(shape: &ArrayShape) -> Array {
    let dims = IxDyn(&shape.dims);
    let n = shape.element_count();
    assert_eq!(shape.element, ElementType::F32, "f32 inputs only");
    let v = |i: usize| ((i * 7 % 11) as f32 - 5.0) * 0.25;
    Array::F32(ArrayD::from_shape_vec(dims, (0..n).map(v).collect()).unwrap())
}

/// The fusion instruction of the entry, to change by hand what the text cannot
/// (the verifier would reject it).
fn fusion_op(module: &mut Module) -> &mut Op {
    let entry = module.entry.index();
    let comp = &mut module.computations[entry];
    let root = comp.root.index();
    &mut comp.instructions[root].op
}

const LOOP_OF_TWO_SIZES: &str = "fused {
  p = f32[1024] parameter(0)
  q = f32[4] parameter(1)
  a = f32[1024] negate(p)
  b = f32[4] negate(q)
  ROOT t = (f32[1024], f32[4]) tuple(a, b)
}
";

#[test]
fn loop_fusion_results_of_different_dimensions() {
    // The loop emitter walked the first result's 1024 elements for both results
    // and wrote 4 KiB into the second's 16 bytes.
    let text = module(
        LOOP_OF_TWO_SIZES,
        &["f32[1024]", "f32[4]"],
        "(f32[1024], f32[4])",
        "kLoop",
    );
    rejected(
        &text,
        "a kLoop fusion iterates one index space, but its results a (f32[1024]) and b (f32[4]) have different dimensions",
    );
    // Results of a nested fusion's tuple are named by their position.
    let nested = "inner {
  p = f32[1024] parameter(0)
  q = f32[4] parameter(1)
  ROOT t = (f32[1024], f32[4]) tuple(p, q)
}

fused {
  p = f32[1024] parameter(0)
  q = f32[4] parameter(1)
  ROOT f = (f32[1024], f32[4]) fusion(p, q), kind=kCustom, calls=inner
}
";
    rejected(
        &module(
            nested,
            &["f32[1024]", "f32[4]"],
            "(f32[1024], f32[4])",
            "kLoop",
        ),
        "its results f#0 (f32[1024]) and f#1 (f32[4]) have different dimensions",
    );
    // Built by hand past the verifier, the backends refuse it.
    let mut m = parse_module(&text.replace("kLoop", "kCustom")).unwrap();
    let Op::Fusion { kind, .. } = fusion_op(&mut m) else {
        unreachable!()
    };
    *kind = omelet_compiler::hlo::FusionKind::Loop;
    refused(&m, "different dimensions");
    // As kCustom (no rule on its results), it runs.
    runs_as_written(&parse_module(&text.replace("kLoop", "kCustom")).unwrap());
}

#[test]
fn omelet_run_rejects_a_bad_fusion_with_exit_status_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_omelet"))
        .current_dir(support::root())
        .args([
            "run",
            "tests/errors/fusion_loop_dimensions.hlo",
            "--random",
            "0",
        ])
        .output()
        .expect("omelet runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("fusion_loop_dimensions.hlo:14:8") && stderr.contains("kLoop"),
        "{stderr}"
    );
}

#[test]
fn loop_fusion_results_of_different_layouts_run() {
    let fused = "fused {
  p = f32[3,5] parameter(0)
  a = f32[3,5]{1,0} negate(p)
  b = f32[3,5]{0,1} exponential(p)
  ROOT t = (f32[3,5]{1,0}, f32[3,5]{0,1}) tuple(a, b)
}
";
    let text = module(
        fused,
        &["f32[3,5]"],
        "(f32[3,5]{1,0}, f32[3,5]{0,1})",
        "kLoop",
    );
    runs_as_written(&parse_module(&text).unwrap());
}

#[test]
fn input_fusion_without_a_reduction() {
    let fused = "fused {
  p = f32[8] parameter(0)
  ROOT n = f32[8] negate(p)
}
";
    let text = module(fused, &["f32[8]"], "f32[8]", "kInput");
    rejected(&text, "a kInput fusion has a reduction as its hero");
    let text = module(fused, &["f32[8]"], "f32[8]", "kOutput");
    rejected(&text, "a kOutput fusion has a dot as its hero");
}

#[test]
fn dot_and_reduce_inside_a_loop_fusion_run_element_by_element() {
    let fused = "fused {
  a = f32[4,8] parameter(0)
  b = f32[8,3] parameter(1)
  d = f32[4,3] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  ROOT e = f32[4,3] tanh(d)
}
";
    let text = module(fused, &["f32[4,8]", "f32[8,3]"], "f32[4,3]", "kLoop");
    runs_as_written(&parse_module(&text).unwrap());
    let fused = "fused {
  a = f32[4,8] parameter(0)
  c = f32[4] parameter(1)
  z = f32[] constant(0)
  r = f32[4] reduce(a, z), dimensions={1}, to_apply=add
  n = f32[4] negate(c)
  ROOT t = (f32[4], f32[4]) tuple(r, n)
}
";
    let text = module(fused, &["f32[4,8]", "f32[4]"], "(f32[4], f32[4])", "kLoop");
    runs_as_written(&parse_module(&text).unwrap());
}

#[test]
fn input_fusion_reading_a_row_value_across_rows() {
    // `e` is kept one row at a time (an expensive value read twice); the
    // transpose read it at other rows' indices and got the last row's values.
    let fused = "fused {
  x = f32[3,8] parameter(0)
  e = f32[3,8] exponential(x)
  z = f32[] constant(0)
  s = f32[3] reduce(e, z), dimensions={1}, to_apply=add
  t = f32[8,3] transpose(e), dimensions={1,0}
  ROOT r = (f32[3], f32[8,3]) tuple(s, t)
}
";
    let text = module(fused, &["f32[3,8]"], "(f32[3], f32[8,3])", "kInput");
    runs_as_written(&parse_module(&text).unwrap());
}

#[test]
fn output_fusion_with_a_computed_right_operand() {
    // `exp(w)` was kept one row at a time, and the dot read its row `i` for
    // every row of the contraction.
    let fused = "fused {
  x = f32[4,4] parameter(0)
  w = f32[4,4] parameter(1)
  e = f32[4,4] exponential(w)
  ROOT d = f32[4,4] dot(x, e), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}
";
    let text = module(fused, &["f32[4,4]", "f32[4,4]"], "f32[4,4]", "kOutput");
    runs_as_written(&parse_module(&text).unwrap());
}

#[test]
fn tuples_and_nested_fusions_inside_a_fusion() {
    // The emitters compute arrays only: they panicked on these.
    let fused = "fused {
  a = f32[4] parameter(0)
  b = f32[4] parameter(1)
  t = (f32[4], f32[4]) tuple(a, b)
  g = f32[4] get-tuple-element(t), index=1
  ROOT n = f32[4] negate(g)
}
";
    let m = parse_module(&module(fused, &["f32[4]", "f32[4]"], "f32[4]", "kLoop")).unwrap();
    refused(&m, "t ((f32[4]{0}, f32[4]{0}) tuple) is not compiled");
    runs_refused(&m);
    let fused = "inner {
  p = f32[4] parameter(0)
  ROOT n = f32[4] negate(p)
}

fused {
  a = f32[4] parameter(0)
  f = f32[4] fusion(a), kind=kLoop, calls=inner
  ROOT e = f32[4] exponential(f)
}
";
    let m = parse_module(&module(fused, &["f32[4]"], "f32[4]", "kLoop")).unwrap();
    refused(&m, "f (f32[4]{0} fusion) is not compiled");
    runs_refused(&m);
}

#[test]
fn a_module_that_does_not_verify_is_not_compiled() {
    // The entry's parameter shrunk to 4 elements under a fusion that reads 1024:
    // the kernel read 4 KiB from the input's 16 bytes.
    let fused = "fused {
  p = f32[1024] parameter(0)
  ROOT n = f32[1024] negate(p)
}
";
    let mut m = parse_module(&module(fused, &["f32[1024]"], "f32[1024]", "kLoop")).unwrap();
    let entry = m.entry.index();
    m.computations[entry].instructions[0].shape =
        omelet_compiler::hlo::Shape::Array(ArrayShape::new(ElementType::F32, vec![4]));
    refused(&m, "the module does not verify");
}

#[test]
fn fusion_of_no_results() {
    // The loop emitter and the thread split indexed the first output.
    let fused = "fused {
  p = f32[4] parameter(0)
  ROOT t = () tuple()
}
";
    for kind in ["kLoop", "kCustom"] {
        let m = parse_module(&module(fused, &["f32[4]"], "()", kind)).unwrap();
        refused(&m, "computes no array");
    }
}

#[test]
fn fusion_calling_the_entry() {
    let fused = "fused {
  p = f32[4] parameter(0)
  ROOT n = f32[4] negate(p)
}
";
    let mut m = parse_module(&module(fused, &["f32[4]"], "f32[4]", "kLoop")).unwrap();
    let entry = m.entry;
    let Op::Fusion { computation, .. } = fusion_op(&mut m) else {
        unreachable!()
    };
    *computation = entry;
    let e = verify(&m).expect_err("a fusion calls the entry");
    assert!(e.to_string().contains("called by a fusion"), "{e}");
    // A cycle between two fused computations.
    let text = "HloModule m\n\na {\n  p = f32[4] parameter(0)\n  ROOT f = f32[4] fusion(p), kind=kLoop, calls=b\n}\n\nb {\n  p = f32[4] parameter(0)\n  ROOT n = f32[4] negate(p)\n}\n\nENTRY main {\n  x = f32[4] parameter(0)\n  ROOT f = f32[4] fusion(x), kind=kLoop, calls=a\n}\n";
    let mut m = parse_module(text).unwrap();
    let b = (0..m.computations.len())
        .find(|&c| m.computations[c].name == "b")
        .unwrap();
    let a = (0..m.computations.len())
        .find(|&c| m.computations[c].name == "a")
        .unwrap();
    let comp = &mut m.computations[b];
    let root = comp.root.index();
    comp.instructions[root] = omelet_compiler::hlo::Instruction {
        op: Op::Fusion {
            kind: omelet_compiler::hlo::FusionKind::Loop,
            computation: ComputationId::new(a),
        },
        ..comp.instructions[root].clone()
    };
    let e = verify(&m).expect_err("a and b call each other");
    assert!(e.to_string().contains("cycle of fusions"), "{e}");
}
