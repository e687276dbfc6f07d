//! The index ops: pad, reverse, dynamic-slice, dynamic-update-slice and gather.
//! Each result element is found by walking back to the operand index it shows,
//! with the index arithmetic of `hlo::index_ops` (XLA's clamping of start
//! indices included), so the interpreter and the code generators share one
//! definition of which element lands where.

use ndarray::{ArrayD, Dimension, IxDyn, Slice};
use omelet_compiler::hlo::index_ops::clamp_start;
use omelet_compiler::hlo::{Element, GatherDims, Number, PadDim};

use crate::array::{Array, typed};
use crate::each_array;

/// `pad(x, value)`: the pad value wherever a result position shows no operand
/// element (before, after, between), negative padding dropping elements.
pub fn pad(x: &Array, value: &Array, config: &[PadDim], dims: &[usize]) -> Array {
    each_array!(x, a => {
        let fill = typed(value)[IxDyn(&[])];
        let size = a.shape().to_vec();
        Array::from(ArrayD::from_shape_fn(IxDyn(dims), |out| {
            let source: Option<Vec<usize>> = (0..dims.len())
                .map(|d| config[d].source(out[d], size[d]))
                .collect();
            source.map_or(fill, |i| a[IxDyn(&i)])
        }))
    })
}

/// Result index `i` along a reversed dimension shows operand index `n - 1 - i`.
pub fn reverse(x: &Array, dimensions: &[usize]) -> Array {
    each_array!(x, a => {
        let mut v = a.view();
        for &d in dimensions {
            v.invert_axis(ndarray::Axis(d));
        }
        Array::from(v.to_owned())
    })
}

/// The start indices, one scalar operand per dimension, each clamped so that
/// `lens[d]` elements from it stay inside `dims[d]`.
fn starts(indices: &[&Array], dims: &[usize], lens: &[usize]) -> Vec<usize> {
    indices
        .iter()
        .enumerate()
        .map(|(d, s)| clamp_start(scalar_index(s), dims[d], lens[d]))
        .collect()
}

fn scalar_index(s: &Array) -> i128 {
    each_array!(s, a => integer(a[IxDyn(&[])]))
}

fn integer<T: Element>(x: T) -> i128 {
    match x.to_number() {
        Number::Int(i) => i,
        _ => unreachable!("the shape rules admit integer start indices only"),
    }
}

pub fn dynamic_slice(x: &Array, indices: &[&Array], sizes: &[usize]) -> Array {
    let start = starts(indices, x.dims(), sizes);
    each_array!(x, a => Array::from(ArrayD::from_shape_fn(IxDyn(sizes), |out| {
        let i: Vec<usize> = (0..sizes.len()).map(|d| start[d] + out[d]).collect();
        a[IxDyn(&i)]
    })))
}

pub fn dynamic_update_slice(x: &Array, update: &Array, indices: &[&Array]) -> Array {
    let mut result = x.clone();
    update_slice(&mut result, update, indices);
    result
}

/// Writes `update` into `x` at `indices`, clamped as XLA clamps them: a
/// loop's `dynamic-update-slice` of its own state, done in place.
pub fn update_slice(x: &mut Array, update: &Array, indices: &[&Array]) {
    let start = starts(indices, x.dims(), update.dims());
    each_array!(x, a => {
        let u = typed(update);
        a.slice_each_axis_mut(|axis| {
            let d = axis.axis.index();
            Slice::from(start[d]..start[d] + u.shape()[d])
        })
        .assign(u);
    })
}

pub fn gather(x: &Array, indices: &Array, g: &GatherDims, dims: &[usize]) -> Array {
    let starts: ArrayD<i128> = each_array!(indices, a => a.mapv(integer));
    let operand_dims = x.dims().to_vec();
    let index = |coords: &[usize]| starts[IxDyn(coords)];
    each_array!(x, a => Array::from(ArrayD::from_shape_fn(IxDyn(dims), |out| {
        let i = g.operand_index(&operand_dims, starts.shape(), out.slice(), index);
        a[IxDyn(&i)]
    })))
}
