//! The interpreter's loops: a `while` runs until its condition fails, and one
//! whose condition never fails stops at the iteration limit with an error that
//! names the loop, never a hang.

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::import::parse_module;
use omelet_runtime::{Array, RuntimeErrorKind, interp};

/// A loop adding 1 to a counter while it is below `limit`.
fn counting(limit: i32) -> String {
    format!(
        "HloModule m\n\
         cond {{\n  c = s32[] parameter(0)\n  n = s32[] constant({limit})\n  ROOT lt = pred[] compare(c, n), direction=LT\n}}\n\
         body {{\n  c = s32[] parameter(0)\n  one = s32[] constant(1)\n  ROOT next = s32[] add(c, one)\n}}\n\
         ENTRY main {{\n  x = s32[] parameter(0)\n  ROOT w = s32[] while(x), condition=cond, body=body\n}}\n"
    )
}

fn start(value: i32) -> Array {
    Array::S32(ArrayD::from_elem(IxDyn(&[]), value))
}

#[test]
fn a_loop_runs_until_its_condition_fails() {
    let module = parse_module(&counting(5)).unwrap();
    let out = interp::run_bounded(&module, &[start(0)], 5).unwrap();
    assert_eq!(out[0].to_f64_vec(), [5.0]);
    // Already past the limit: the body never runs.
    let out = interp::run_bounded(&module, &[start(9)], 5).unwrap();
    assert_eq!(out[0].to_f64_vec(), [9.0]);
}

#[test]
fn a_loop_past_the_iteration_limit_is_an_error() {
    let module = parse_module(&counting(i32::MAX)).unwrap();
    let e = interp::run_bounded(&module, &[start(0)], 100).unwrap_err();
    assert_eq!(e.kind, RuntimeErrorKind::Input);
    assert!(
        e.to_string()
            .contains("the loop w ran 100 iterations without its condition cond failing"),
        "{e}"
    );
}
