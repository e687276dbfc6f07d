//! `bitcast` is the one op whose meaning depends on layouts, and XLA refuses to run
//! it before its own layout assignment, so these expectations are worked out by
//! hand from the definition: read the operand in its physical order, write the
//! result in its own.

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::import::parse_module;
use omelet_runtime::{Array, interp};

fn bitcast(from: &str, to: &str, input: ArrayD<f32>) -> ArrayD<f32> {
    let text = format!(
        "HloModule m\nENTRY main {{\n  x = {from} parameter(0)\n  ROOT y = {to} bitcast(x)\n}}\n"
    );
    let module = parse_module(&text).unwrap();
    match interp::run(&module, &[Array::F32(input)])
        .unwrap()
        .remove(0)
    {
        Array::F32(a) => a,
        other => panic!("expected f32, got {other}"),
    }
}

fn array(dims: &[usize], values: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(dims), values.to_vec()).unwrap()
}

#[test]
fn column_major_to_row_major_is_a_transpose() {
    let x = array(&[2, 3], &[0., 1., 2., 3., 4., 5.]);
    let y = bitcast("f32[2,3]{0,1}", "f32[3,2]{1,0}", x);
    assert_eq!(y, array(&[3, 2], &[0., 3., 1., 4., 2., 5.]));
}

#[test]
fn row_major_to_flat_keeps_the_order() {
    let x = array(&[2, 3], &[0., 1., 2., 3., 4., 5.]);
    assert_eq!(
        bitcast("f32[2,3]{1,0}", "f32[6]{0}", x),
        array(&[6], &[0., 1., 2., 3., 4., 5.])
    );
}

#[test]
fn flat_to_column_major_fills_columns_first() {
    let x = array(&[6], &[0., 1., 2., 3., 4., 5.]);
    let y = bitcast("f32[6]{0}", "f32[2,3]{0,1}", x);
    assert_eq!(y, array(&[2, 3], &[0., 2., 4., 1., 3., 5.]));
}

#[test]
fn three_dimensional_layouts_compose() {
    // {0,2,1}: dimension 1 is the most major, then 2, then 0 (the most minor).
    let x = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |i| {
        (i[0] * 100 + i[1] * 10 + i[2]) as f32
    });
    let y = bitcast("f32[2,3,4]{0,2,1}", "f32[24]{0}", x);
    let expected: Vec<f32> = (0..3)
        .flat_map(|j| (0..4).flat_map(move |k| (0..2).map(move |i| (i * 100 + j * 10 + k) as f32)))
        .collect();
    assert_eq!(y, array(&[24], &expected));
}
