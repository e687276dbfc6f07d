//! `reduce` over any set of dimensions, combining in pairs.

use ndarray::{ArrayD, Axis, IxDyn};
use omelet_compiler::hlo::ReduceOp;

use omelet_compiler::hlo::Element;

use crate::array::{Array, typed};
use crate::each_array;

pub fn reduce(x: &Array, init: &Array, dimensions: &[usize], reducer: ReduceOp) -> Array {
    let combiner = reducer.combiner();
    each_array!(x, a => {
        let init = typed(init)[[]];
        Array::from(reduce_with(a, init, dimensions, |p, q| Element::binary(combiner, p, q)))
    })
}

/// Moves the reduced dimensions last, flattens them, and folds each row.
fn reduce_with<T: Copy>(
    a: &ArrayD<T>,
    init: T,
    dimensions: &[usize],
    f: impl Fn(T, T) -> T + Copy,
) -> ArrayD<T> {
    let kept: Vec<usize> = (0..a.ndim()).filter(|d| !dimensions.contains(d)).collect();
    let kept_dims: Vec<usize> = kept.iter().map(|&d| a.shape()[d]).collect();
    let rows: usize = kept_dims.iter().product();
    let row_len: usize = dimensions.iter().map(|&d| a.shape()[d]).product();
    let order: Vec<usize> = kept.iter().chain(dimensions).copied().collect();
    let grouped = a
        .view()
        .permuted_axes(order)
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((rows, row_len))
        .expect("element counts agree");
    let values: Vec<T> = grouped
        .axis_iter(Axis(0))
        .map(|row| {
            let row = row.to_vec();
            if row.is_empty() {
                init
            } else {
                f(init, pairwise(&row, f))
            }
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(&kept_dims), values).expect("one value per row")
}

/// Combines in a balanced tree, as NumPy sums: rounding error grows with the log of
/// the length rather than the length.
fn pairwise<T: Copy>(xs: &[T], f: impl Fn(T, T) -> T + Copy) -> T {
    if xs.len() <= 8 {
        return xs[1..].iter().fold(xs[0], |acc, &x| f(acc, x));
    }
    let (left, right) = xs.split_at(xs.len() / 2);
    f(pairwise(left, f), pairwise(right, f))
}
