//! `reduce` over any set of dimensions, combining in pairs.

use ndarray::{ArrayD, Axis, IxDyn};
use omelet_compiler::hlo::ReduceOp;

use super::elementwise::{max_f32, min_f32};
use crate::array::Array;

pub fn reduce(x: &Array, init: &Array, dimensions: &[usize], reducer: ReduceOp) -> Array {
    match (x, init) {
        (Array::F32(a), Array::F32(i)) => Array::F32(reduce_with(
            a,
            i[[]],
            dimensions,
            match reducer {
                ReduceOp::Add => |p, q| p + q,
                ReduceOp::Multiply => |p, q| p * q,
                ReduceOp::Maximum => max_f32,
                ReduceOp::Minimum => min_f32,
                ReduceOp::And | ReduceOp::Or => unreachable!("not defined on f32"),
            },
        )),
        (Array::S32(a), Array::S32(i)) => Array::S32(reduce_with(
            a,
            i[[]],
            dimensions,
            match reducer {
                ReduceOp::Add => i32::wrapping_add,
                ReduceOp::Multiply => i32::wrapping_mul,
                ReduceOp::Maximum => |p, q| p.max(q),
                ReduceOp::Minimum => |p, q| p.min(q),
                ReduceOp::And => |p, q| p & q,
                ReduceOp::Or => |p, q| p | q,
            },
        )),
        (Array::Pred(a), Array::Pred(i)) => Array::Pred(reduce_with(
            a,
            i[[]],
            dimensions,
            match reducer {
                ReduceOp::And | ReduceOp::Minimum => |p, q| p & q,
                ReduceOp::Or | ReduceOp::Maximum => |p, q| p | q,
                ReduceOp::Add | ReduceOp::Multiply => {
                    unreachable!("the verifier rejects these on pred")
                }
            },
        )),
        _ => unreachable!("the verifier checks reduce's types"),
    }
}

/// Moves the reduced dimensions last, flattens them, and folds each row.
fn reduce_with<T: Copy>(
    a: &ArrayD<T>,
    init: T,
    dimensions: &[usize],
    f: fn(T, T) -> T,
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
fn pairwise<T: Copy>(xs: &[T], f: fn(T, T) -> T) -> T {
    if xs.len() <= 8 {
        return xs[1..].iter().fold(xs[0], |acc, &x| f(acc, x));
    }
    let (left, right) = xs.split_at(xs.len() / 2);
    f(pairwise(left, f), pairwise(right, f))
}
