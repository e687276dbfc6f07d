//! `dot` with general dimension numbers, as a batch of matrix products.

use ndarray::{Array2, ArrayD, Axis, IxDyn, LinalgScalar};
use omelet_compiler::hlo::{BinaryOp, DotDims, Element, ElementType, Number};

use super::elementwise::convert;
use crate::array::{Array, typed};
use crate::each_array;

/// Floats multiply with ndarray's GEMM; `f16` and `bf16` in f32, rounded once at
/// the end (as XLA:CPU computes them); integers wrap, element by element.
pub fn dot(lhs: &Array, rhs: &Array, dims: &DotDims) -> Array {
    match (lhs, rhs) {
        (Array::F32(a), Array::F32(b)) => Array::F32(general_dot(a, b, dims)),
        (Array::F64(a), Array::F64(b)) => Array::F64(general_dot(a, b, dims)),
        (Array::F16(_) | Array::Bf16(_), _) => {
            let wide = |x: &Array| match convert(x, ElementType::F32) {
                Array::F32(a) => a,
                _ => unreachable!("converted to f32"),
            };
            let product = Array::F32(general_dot(&wide(lhs), &wide(rhs), dims));
            convert(&product, lhs.element_type())
        }
        _ => {
            each_array!(lhs, a => Array::from(general_dot(&Wrapping::wrap(a), &Wrapping::wrap(typed(rhs)), dims).mapv(|w| w.0)))
        }
    }
}

/// An integer whose arithmetic wraps, as XLA's does, so that ndarray's GEMM
/// computes XLA's integer dot.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
struct Wrapping<T>(T);

impl<T: Element> Wrapping<T> {
    fn wrap(a: &ArrayD<T>) -> ArrayD<Wrapping<T>> {
        a.mapv(Wrapping)
    }
}

macro_rules! wrapping_ops {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl<T: Element> std::ops::$trait for Wrapping<T> {
            type Output = Wrapping<T>;
            fn $method(self, other: Wrapping<T>) -> Wrapping<T> {
                Wrapping(T::binary(BinaryOp::$op, self.0, other.0))
            }
        }
    )*};
}

wrapping_ops!(Add add Add, Sub sub Subtract, Mul mul Multiply, Div div Divide);

impl<T: Element> num_traits::Zero for Wrapping<T> {
    fn zero() -> Self {
        Wrapping(T::from_number(Number::Int(0)))
    }
    fn is_zero(&self) -> bool {
        *self == Self::zero()
    }
}

impl<T: Element> num_traits::One for Wrapping<T> {
    fn one() -> Self {
        Wrapping(T::from_number(Number::Int(1)))
    }
}

/// Brings the lhs to `[batch, m, k]` and the rhs to `[batch, k, n]` (batch,
/// free and contracting dimensions each flattened), multiplies each batch with
/// ndarray's blocked GEMM, and unflattens to XLA's result order: batch, lhs free,
/// rhs free.
fn general_dot<T: LinalgScalar>(lhs: &ArrayD<T>, rhs: &ArrayD<T>, d: &DotDims) -> ArrayD<T> {
    let lhs_free = free_dims(lhs.ndim(), &d.lhs_batch, &d.lhs_contracting);
    let rhs_free = free_dims(rhs.ndim(), &d.rhs_batch, &d.rhs_contracting);
    let size =
        |a: &ArrayD<T>, dims: &[usize]| dims.iter().map(|&i| a.shape()[i]).product::<usize>();
    let (batch, m, k, n) = (
        size(lhs, &d.lhs_batch),
        size(lhs, &lhs_free),
        size(lhs, &d.lhs_contracting),
        size(rhs, &rhs_free),
    );
    let lhs3 = grouped(
        lhs,
        [&d.lhs_batch, &lhs_free, &d.lhs_contracting],
        [batch, m, k],
    );
    let rhs3 = grouped(
        rhs,
        [&d.rhs_batch, &d.rhs_contracting, &rhs_free],
        [batch, k, n],
    );
    let mut out = ndarray::Array3::<T>::zeros((batch, m, n));
    for (b, mut out_b) in out.axis_iter_mut(Axis(0)).enumerate() {
        let l: Array2<T> = lhs3
            .index_axis(Axis(0), b)
            .to_owned()
            .into_dimensionality()
            .expect("rank 2");
        let r: Array2<T> = rhs3
            .index_axis(Axis(0), b)
            .to_owned()
            .into_dimensionality()
            .expect("rank 2");
        out_b.assign(&l.dot(&r));
    }
    let mut dims: Vec<usize> = d.lhs_batch.iter().map(|&i| lhs.shape()[i]).collect();
    dims.extend(lhs_free.iter().map(|&i| lhs.shape()[i]));
    dims.extend(rhs_free.iter().map(|&i| rhs.shape()[i]));
    out.into_shape_with_order(IxDyn(&dims))
        .expect("element counts agree")
}

fn free_dims(rank: usize, batch: &[usize], contracting: &[usize]) -> Vec<usize> {
    (0..rank)
        .filter(|i| !batch.contains(i) && !contracting.contains(i))
        .collect()
}

/// Permutes `a` so the three groups of dimensions come in order, then flattens
/// each group into one dimension.
fn grouped<T: Clone>(a: &ArrayD<T>, groups: [&[usize]; 3], sizes: [usize; 3]) -> ArrayD<T> {
    let order: Vec<usize> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    a.view()
        .permuted_axes(order)
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(&sizes))
        .expect("element counts agree")
}
