//! Ops that create or move data: constant, iota, broadcast, reshape, transpose,
//! slice, concatenate, bitcast.

use ndarray::{ArrayD, Axis, IxDyn, Slice};
use omelet_compiler::hlo::{ArrayShape, Element, Literal, Number, SliceDim};
use omelet_compiler::with_element_type;

use crate::array::{Array, ArrayElement, typed};

/// Applies one generic expression to whichever element type `x` holds, giving
/// an array of the same type.
macro_rules! each {
    ($x:expr, $a:ident => $body:expr) => {
        $crate::each_array!($x, $a => Array::from($body))
    };
}

pub fn constant(literal: &Literal, shape: &ArrayShape) -> Array {
    let dims = IxDyn(&shape.dims);
    let fail = "the verifier checks the literal's length";
    with_element_type!(shape.element, T => {
        Array::from(ArrayD::from_shape_vec(dims, literal.values::<T>().collect()).expect(fail))
    })
}

pub fn iota(shape: &ArrayShape, dimension: usize) -> Array {
    let dims = IxDyn(&shape.dims);
    with_element_type!(shape.element, T => Array::from(ArrayD::from_shape_fn(dims, |i| {
        <T as Element>::from_number(Number::Int(i[dimension] as i128))
    })))
}

/// Operand dimension `i` becomes result dimension `dimensions[i]`; the others repeat.
pub fn broadcast(x: &Array, dimensions: &[usize], dims: &[usize]) -> Array {
    // Order the operand's axes as they appear in the result, give the missing
    // dimensions size 1, then let ndarray repeat them.
    let mut order: Vec<usize> = (0..dimensions.len()).collect();
    order.sort_by_key(|&i| dimensions[i]);
    let mut with_ones = vec![1; dims.len()];
    for &i in &order {
        with_ones[dimensions[i]] = dims[dimensions[i]];
    }
    each!(x, a => {
        let ordered = a.view().permuted_axes(order.clone()).as_standard_layout().into_owned();
        let expanded = ordered.into_shape_with_order(IxDyn(&with_ones)).expect("sizes agree");
        expanded.broadcast(IxDyn(dims)).expect("the verifier checks broadcast dimensions").to_owned()
    })
}

/// Reshape in logical row-major order, whatever the layouts.
pub fn reshape(x: &Array, dims: &[usize]) -> Array {
    each!(x, a => a.as_standard_layout().into_owned().into_shape_with_order(IxDyn(dims)).expect("element counts agree"))
}

/// Result dimension `i` is operand dimension `permutation[i]`.
pub fn transpose(x: &Array, permutation: &[usize]) -> Array {
    each!(x, a => a.view().permuted_axes(permutation.to_vec()).as_standard_layout().into_owned())
}

pub fn slice(x: &Array, dims: &[SliceDim]) -> Array {
    let cut = |d: ndarray::AxisDescription| {
        let s = dims[d.axis.index()];
        Slice::new(s.start as isize, Some(s.limit as isize), s.stride as isize)
    };
    each!(x, a => a.slice_each_axis(cut).to_owned())
}

pub fn concatenate(operands: &[&Array], dimension: usize) -> Array {
    each!(operands[0], first => {
        let views: Vec<_> = operands.iter().map(|o| typed_like(first, o).view()).collect();
        ndarray::concatenate(Axis(dimension), &views).expect("the verifier checks shapes")
    })
}

fn typed_like<'a, T: ArrayElement>(_: &ArrayD<T>, x: &'a Array) -> &'a ArrayD<T>
where
    Array: From<ArrayD<T>>,
{
    typed(x)
}

/// Reinterprets the operand's elements in physical order: read them as the
/// operand's layout lays them out, write them as the result's layout does.
pub fn bitcast(x: &Array, from: &ArrayShape, to: &ArrayShape) -> Array {
    each!(x, a => from_physical(physical(a, from), to))
}

fn major_to_minor(shape: &ArrayShape) -> Vec<usize> {
    shape.minor_to_major.iter().rev().copied().collect()
}

pub(crate) fn physical<T: Clone>(a: &ArrayD<T>, shape: &ArrayShape) -> Vec<T> {
    a.view()
        .permuted_axes(major_to_minor(shape))
        .iter()
        .cloned()
        .collect()
}

pub(crate) fn from_physical<T: Clone>(data: Vec<T>, shape: &ArrayShape) -> ArrayD<T> {
    let order = major_to_minor(shape);
    let physical_dims: Vec<usize> = order.iter().map(|&d| shape.dims[d]).collect();
    let stored = ArrayD::from_shape_vec(IxDyn(&physical_dims), data).expect("element counts agree");
    let logical: Vec<usize> = (0..order.len())
        .map(|d| {
            order
                .iter()
                .position(|&o| o == d)
                .expect("a layout is a permutation")
        })
        .collect();
    stored
        .permuted_axes(logical)
        .as_standard_layout()
        .into_owned()
}
