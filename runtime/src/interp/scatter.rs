//! `scatter`, as XLA's evaluator computes it: updates apply one by one in the
//! order of the scatter indices (row-major over the updates' scatter
//! dimensions), each window's elements inside (row-major over its dimensions),
//! so duplicate indices all apply; a window that does not fit in the operand
//! at its start index is dropped whole (no clamping).

use omelet_compiler::hlo::{Computation, ScatterDims, region};

use super::flat::{Flat, indices, integer};
use crate::array::Array;

pub fn scatter(
    operand: &Array,
    scatter_indices: &Array,
    updates: &Array,
    d: &ScatterDims,
    update_region: &Computation,
) -> Array {
    let element = operand.element_type();
    let mut out = Flat::of(operand);
    let idx = Flat::of(scatter_indices);
    let upd = Flat::of(updates);
    let rank = out.dims.len();
    // Operand dimensions the window spans, in order; the update dimensions
    // that are scatter dimensions, in order.
    let window_operand_dims: Vec<usize> = (0..rank)
        .filter(|o| !d.inserted_window_dims.contains(o) && !d.input_batching_dims.contains(o))
        .collect();
    let update_scatter_dims: Vec<usize> = (0..upd.dims.len())
        .filter(|u| !d.update_window_dims.contains(u))
        .collect();
    // The window's size along each operand dimension (1 where inserted or batching).
    let mut window_size = vec![1usize; rank];
    for (&u, &o) in d.update_window_dims.iter().zip(&window_operand_dims) {
        window_size[o] = upd.dims[u];
    }
    // Index dimension `i` (not the index vector's) is scatter position `pos(i)`.
    let pos = |i: usize| if i < d.index_vector_dim { i } else { i - 1 };
    let has_vector = d.index_vector_dim < idx.dims.len();
    let sizes = |dims: &[usize]| -> Vec<usize> { dims.iter().map(|&u| upd.dims[u]).collect() };
    let window_sizes = sizes(&d.update_window_dims);
    for scatter in indices(&sizes(&update_scatter_dims)) {
        // The start of the window in the operand.
        let mut start = vec![0i64; rank];
        for (k, &o) in d.scatter_dims_to_operand_dims.iter().enumerate() {
            let mut at: Vec<i64> = scatter.iter().map(|&s| s as i64).collect();
            if has_vector {
                at.insert(d.index_vector_dim, k as i64);
            }
            let i = idx
                .offset(&at)
                .expect("the shape rule ties indices to updates");
            start[o] = integer(idx.values[i]);
        }
        for (&o, &i) in d
            .input_batching_dims
            .iter()
            .zip(&d.scatter_indices_batching_dims)
        {
            start[o] = scatter[pos(i)] as i64;
        }
        let fits = (0..rank)
            .all(|o| start[o] >= 0 && start[o] <= out.dims[o] as i64 - window_size[o] as i64);
        if !fits {
            continue;
        }
        let mut u = vec![0i64; upd.dims.len()];
        for (&s, &c) in update_scatter_dims.iter().zip(&scatter) {
            u[s] = c as i64;
        }
        for window in indices(&window_sizes) {
            let mut at = start.clone();
            for ((&w, &o), &c) in d
                .update_window_dims
                .iter()
                .zip(&window_operand_dims)
                .zip(&window)
            {
                at[o] += c as i64;
                u[w] = c as i64;
            }
            let target = out.offset(&at).expect("a window that fits");
            let update = upd.values[upd.offset(&u).expect("an update inside its array")];
            out.values[target] = region::apply(update_region, &[out.values[target], update])[0];
        }
    }
    out.into_array(element)
}
