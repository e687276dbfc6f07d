//! Elementwise ops: each element computed by `hlo::Element`, the semantics the
//! optimizer's folding shares.

use ndarray::{ArrayD, Zip};
use omelet_compiler::hlo::{
    BinaryOp, Direction, Element, ElementType, Scalar, UnaryOp, reduce_precision, region,
};
use omelet_compiler::with_element_type;

use crate::array::{Array, typed};
use crate::each_array;

pub fn unary(op: UnaryOp, x: &Array) -> Array {
    if op == UnaryOp::IsFinite {
        return Array::Pred(each_array!(x, a => a.mapv(|v| v.is_finite())));
    }
    each_array!(x, a => Array::from(a.mapv(|v| Element::unary(op, v))))
}

pub fn binary(op: BinaryOp, x: &Array, y: &Array) -> Array {
    each_array!(x, a => Array::from(zip(a, typed(y), |p, q| Element::binary(op, p, q))))
}

pub fn compare(direction: Direction, x: &Array, y: &Array) -> Array {
    Array::Pred(each_array!(x, a => zip(a, typed(y), |p, q| Element::compare(direction, p, q))))
}

/// `compare` with `type=TOTALORDER` (see `hlo::region::total_order_compare`).
pub fn compare_total_order(direction: Direction, x: &Array, y: &Array) -> Array {
    Array::Pred(each_array!(x, a => zip(a, typed(y), |p, q| {
        region::total_order_compare(direction, Scalar::new(p), Scalar::new(q)).bits != 0
    })))
}

/// `select(pred, on_true, on_false)`; a scalar predicate picks a whole operand.
pub fn select(pred: &Array, on_true: &Array, on_false: &Array) -> Array {
    let Array::Pred(p) = pred else {
        unreachable!("the verifier checks the predicate")
    };
    if p.ndim() == 0 {
        return if p[[]] {
            on_true.clone()
        } else {
            on_false.clone()
        };
    }
    each_array!(on_true, a => {
        let b = typed(on_false);
        Array::from(Zip::from(p).and(a).and(b).map_collect(|&p, &a, &b| if p { a } else { b }))
    })
}

/// `clamp(lo, x, hi) = min(max(x, lo), hi)`; the bounds may be scalars.
pub fn clamp(lo: &Array, x: &Array, hi: &Array) -> Array {
    each_array!(x, v => {
        let lo = typed(lo).broadcast(v.raw_dim()).expect("the verifier checks clamp bounds");
        let hi = typed(hi).broadcast(v.raw_dim()).expect("the verifier checks clamp bounds");
        Array::from(Zip::from(v).and(&lo).and(&hi).map_collect(|&x, &lo, &hi| {
            let above = Element::binary(BinaryOp::Maximum, x, lo);
            Element::binary(BinaryOp::Minimum, above, hi)
        }))
    })
}

/// XLA's `convert`: by value (see `hlo::Element::from_number`).
pub fn convert(x: &Array, to: ElementType) -> Array {
    each_array!(x, a => with_element_type!(to, T => {
        Array::from(a.mapv(|v| <T as Element>::from_number(v.to_number())))
    }))
}

/// XLA's `reduce-precision`, on each element's bits (`hlo::reduce_precision`).
pub fn reduce_precision(x: &Array, exponent_bits: u32, mantissa_bits: u32) -> Array {
    let element = x.element_type();
    each_array!(x, a => Array::from(a.mapv(|v| reduced(v, element, exponent_bits, mantissa_bits))))
}

fn reduced<T: Element>(v: T, element: ElementType, exponent_bits: u32, mantissa_bits: u32) -> T {
    let bits =
        reduce_precision::reduce_precision(v.to_bits(), element, exponent_bits, mantissa_bits);
    T::from_bits(bits)
}

/// XLA's `bitcast-convert` between types of equal width: the same bits.
pub fn bitcast_convert(x: &Array, to: ElementType) -> Array {
    each_array!(x, a => with_element_type!(to, T => {
        Array::from(a.mapv(|v| <T as Element>::from_bits(Element::to_bits(v))))
    }))
}

fn zip<A: Copy, B>(a: &ArrayD<A>, b: &ArrayD<A>, f: impl Fn(A, A) -> B) -> ArrayD<B> {
    Zip::from(a).and(b).map_collect(|&x, &y| f(x, y))
}
