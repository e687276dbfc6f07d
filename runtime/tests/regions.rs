//! The interpreter's region ops on shapes with nothing to compute.

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::import::parse_module;
use omelet_runtime::{Array, interp};

/// Sorting along an empty dimension of an array whose other dimensions are
/// not empty gives the (empty) array back, never a read of its element 0.
#[test]
fn a_sort_along_an_empty_dimension_gives_the_empty_array() {
    let text = "HloModule m\n\
        less {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT lt = pred[] compare(a, b), direction=LT\n}\n\
        ENTRY main {\n  x = f32[3,0]{1,0} parameter(0)\n  ROOT s = f32[3,0]{1,0} sort(x), dimensions={1}, to_apply=less\n}\n";
    let module = parse_module(text).unwrap();
    let x = Array::F32(ArrayD::zeros(IxDyn(&[3, 0])));
    let out = interp::run(&module, &[x]).unwrap();
    assert_eq!(out[0].dims(), [3, 0]);
}
