//! The index arithmetic of the window ops (`reduce-window`,
//! `select-and-scatter`), as the interpreter's `interp/window.rs` defines it:
//! offset `k` of the window at output position `o` covers, along each
//! dimension, position `p = o * stride + k * window_dilation - pad_low` of the
//! operand dilated by `base_dilation`; a position in the padding or between
//! dilated elements holds no operand element and is skipped.

use omelet_compiler::hlo::WindowDim;

use super::{Conditions, IndexArith};

/// Coordinates and the condition that they name an element (`None`: always).
pub type Guarded<I, C> = (Vec<I>, Option<C>);

/// Whether a window dimension keeps its coordinate: one element at a time,
/// without padding or dilation, so that output, operand and source
/// coordinates agree (a batch or channel dimension of a pooling).
pub fn keeps_coordinate(w: &WindowDim) -> bool {
    w.size == 1 && w.stride == 1 && w.pad_low == 0 && w.pad_high == 0 && w.base_dilation == 1
}

/// The operand coordinates that offset `k` of the window at output position
/// `o` reads, and the condition that it reads an element (not padding or a
/// hole). `operand` and `out` are the operand's and the output's dimensions,
/// none of them empty. Where the condition fails the coordinates may be out
/// of bounds: the caller reads only where it holds.
pub fn window_operand<A: IndexArith>(
    a: &mut A,
    window: &[WindowDim],
    operand: &[usize],
    out: &[usize],
    o: &[A::Index],
    k: &[A::Index],
) -> Guarded<A::Index, A::Cond> {
    let mut cond = Conditions::default();
    let mut coords = Vec::with_capacity(window.len());
    for (d, w) in window.iter().enumerate() {
        if keeps_coordinate(w) {
            coords.push(o[d].clone());
            continue;
        }
        let start = a.affine(&o[d], w.stride as i64, -(w.pad_low as i64));
        let p = a.mul_add(&k[d], w.window_dilation, &start);
        // The dilated operand's extent, and the furthest position a window reaches.
        let span = (operand[d] - 1) * w.base_dilation + 1;
        let reach = (out[d] - 1) * w.stride + (w.size - 1) * w.window_dilation;
        if w.pad_low > 0 || reach >= span {
            let inside = a.below(&p, span);
            cond.require(a, inside);
        }
        if w.base_dilation > 1 {
            let on_element = a.divisible(&p, w.base_dilation);
            cond.require(a, on_element);
            coords.push(a.div(&p, w.base_dilation));
        } else {
            coords.push(p);
        }
    }
    (coords, cond.all)
}

/// The output position of the window whose offset `k` reads operand element
/// `i`, and the condition that there is one: the inverse of
/// [`window_operand`] (`i * base_dilation + pad_low - k * window_dilation`
/// a multiple of the stride, inside the output of dimensions `out`, none of
/// them empty). Where the condition fails the coordinates may be out of
/// bounds.
pub fn window_at<A: IndexArith>(
    a: &mut A,
    window: &[WindowDim],
    out: &[usize],
    i: &[A::Index],
    k: &[A::Index],
) -> Guarded<A::Index, A::Cond> {
    let mut cond = Conditions::default();
    let mut coords = Vec::with_capacity(window.len());
    for (d, w) in window.iter().enumerate() {
        if keeps_coordinate(w) {
            coords.push(i[d].clone());
            continue;
        }
        let p = a.affine(&i[d], w.base_dilation as i64, w.pad_low as i64);
        let reach = a.affine(&k[d], w.window_dilation as i64, 0);
        // Below zero where the offset reaches before the operand: then it
        // wraps, and no output position is below the wrapped value.
        let t = a.sub(&p, &reach);
        let o = if w.stride > 1 {
            let on_stride = a.divisible(&t, w.stride);
            cond.require(a, on_stride);
            a.div(&t, w.stride)
        } else {
            t
        };
        let inside = a.below(&o, out[d]);
        cond.require(a, inside);
        coords.push(o);
    }
    (coords, cond.all)
}
