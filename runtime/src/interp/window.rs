//! The window ops: `reduce-window` and `select-and-scatter`. A window position
//! `o` covers, along each dimension, the positions `o * stride + k *
//! window_dilation - pad_low` of the operand dilated by `base_dilation`;
//! positions in the padding or between dilated elements hold the init value,
//! which leaves the reduction unchanged, so they are skipped (XLA's evaluator).

use omelet_compiler::hlo::{Computation, Direction, ReduceOp, Scalar, WindowDim, region};

use super::flat::{Flat, indices};
use crate::array::Array;

/// The operand element each window offset `k` of position `o` reads, or
/// `None` where it reads padding or a hole.
fn source_index(
    window: &[WindowDim],
    dims: &[usize],
    o: &[usize],
    k: &[usize],
) -> Option<Vec<i64>> {
    let mut index = Vec::with_capacity(dims.len());
    for (d, w) in window.iter().enumerate() {
        let p = (o[d] * w.stride + k[d] * w.window_dilation) as i64 - w.pad_low as i64;
        let base = w.base_dilation as i64;
        if p < 0 || p % base != 0 || p / base >= dims[d] as i64 {
            return None;
        }
        index.push(p / base);
    }
    Some(index)
}

/// Each window folds its elements, in row-major window order, into `init`
/// by `to_apply` (the accumulator first), as XLA's evaluator does.
pub fn reduce_window(
    x: &Array,
    init: &Array,
    window: &[WindowDim],
    to_apply: &Computation,
    out_dims: &[usize],
) -> Array {
    let operand = Flat::of(x);
    let init = Flat::of(init).values[0];
    let sizes: Vec<usize> = window.iter().map(|w| w.size).collect();
    let values = indices(out_dims)
        .map(|o| {
            indices(&sizes)
                .filter_map(|k| source_index(window, &operand.dims, &o, &k))
                .map(|i| operand.values[operand.offset(&i).expect("inside the operand")])
                .fold(init, |acc, v| region::apply(to_apply, &[acc, v])[0])
        })
        .collect();
    Flat {
        dims: out_dims.to_vec(),
        values,
    }
    .into_array(x.element_type())
}

/// Each window picks its first element that `select` prefers to every later
/// one (`select(current, candidate)` false switches to the candidate, so of
/// equal maxima under `GE` the first wins); the window's source element
/// combines by `scatter` into the result, which starts as `init` everywhere.
pub fn select_and_scatter(
    x: &Array,
    source: &Array,
    init: &Array,
    window: &[WindowDim],
    select: Direction,
    scatter: ReduceOp,
) -> Array {
    let operand = Flat::of(x);
    let source = Flat::of(source);
    let init = Flat::of(init).values[0];
    let mut out = Flat::filled(&operand.dims, init);
    let sizes: Vec<usize> = window.iter().map(|w| w.size).collect();
    for (s, o) in indices(&source.dims).enumerate() {
        let mut selected: Option<usize> = None;
        for k in indices(&sizes) {
            let Some(i) = source_index(window, &operand.dims, &o, &k) else {
                continue;
            };
            let candidate = operand.offset(&i).expect("inside the operand");
            selected = match selected {
                Some(current)
                    if Scalar::compare(
                        select,
                        operand.values[current],
                        operand.values[candidate],
                    )
                    .bits
                        != 0 =>
                {
                    Some(current)
                }
                _ => Some(candidate),
            };
        }
        if let Some(target) = selected {
            out.values[target] =
                Scalar::binary(scatter.combiner(), out.values[target], source.values[s]);
        }
    }
    out.into_array(init.element)
}
