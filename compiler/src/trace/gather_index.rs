//! NumPy indexing with index arrays, as JAX lowers it (`_index_to_gather`):
//! `x[...]` as one `gather`, and `x.at[...]` as one `scatter` with the same
//! dimension numbers.
//!
//! Integer arrays (and, beside one of rank 1 or more, integers) are NumPy's
//! advanced indices: they broadcast together, and their dimensions replace
//! the indexed axes where those are adjacent, or come first where slices or
//! `None` separate them. A negative index counts from the end once; a gather
//! clamps an index still out of range, a scatter drops its update.

use crate::error::ErrorKind;
use crate::hlo::{
    BinaryOp, ComputationId, ElementType, GatherDims, Number, Op, Scalar, ScatterDims, SliceDim,
};

use super::arith;
use super::graph::{Failure, Graph, OpResult};
use super::index_builtins::wrap_negative;
use super::value::{Tensor, user_type};

/// One resolved index: what the script wrote, against the axis it indexes.
pub enum Index {
    /// A compile-time integer, in range and counted from the start.
    Int(i64),
    /// An integer array, or an integer scalar known at run time.
    Tensor(Tensor),
    Slice(SliceDim),
    /// `None`: a new axis of 1.
    NewAxis,
}

/// A gather (or scatter) of `x` that computes an indexing.
pub struct Indexer {
    /// `s32` index vectors along the last dimension.
    indices: Tensor,
    dims: GatherDims,
    /// The result's shape, new axes included.
    pub slice_shape: Vec<usize>,
    /// Where the result has `None`'s new axes.
    newaxis_dims: Vec<usize>,
    /// No advanced index: each element is written once, in order.
    unique: bool,
}

impl Indexer {
    /// Plans `x[index]` for indices that name at most `x`'s rank axes (the
    /// rest taken whole). Fails with the position of the offending index.
    pub fn new(g: &mut Graph, x: &Tensor, index: &[Index]) -> Result<Indexer, (usize, Failure)> {
        let named = index
            .iter()
            .filter(|i| !matches!(i, Index::NewAxis))
            .count();
        let full = |n| {
            Index::Slice(SliceDim {
                start: 0,
                limit: n,
                stride: 1,
            })
        };
        let mut items: Vec<&Index> = index.iter().collect();
        let tail: Vec<Index> = x.dims()[named.min(x.rank())..]
            .iter()
            .map(|&n| full(n))
            .collect();
        items.extend(&tail);
        let advanced_any = items
            .iter()
            .any(|i| matches!(i, Index::Tensor(t) if t.rank() > 0));
        let is_advanced = |i: &Index| advanced_any && matches!(i, Index::Tensor(_) | Index::Int(_));
        let advanced_positions: Vec<usize> = (0..items.len())
            .filter(|&p| is_advanced(items[p]))
            .collect();
        let contiguous = advanced_positions.windows(2).all(|w| w[1] == w[0] + 1);
        // The advanced indices' x axes, normalized and broadcast together.
        let mut advanced = Vec::new();
        let mut x_axis = 0;
        for (p, item) in items.iter().enumerate() {
            if matches!(item, Index::NewAxis) {
                continue;
            }
            if is_advanced(item) {
                let n = x.dims()[x_axis];
                let t = match item {
                    Index::Int(i) => int_scalar(g, *i).map_err(|f| (p, f))?,
                    Index::Tensor(t) => wrap_negative(g, t, n).map_err(|f| (p, f))?,
                    _ => unreachable!("advanced indices are integers"),
                };
                advanced.push((p, x_axis, t));
            }
            x_axis += 1;
        }
        let mut broadcast: Vec<usize> = Vec::new();
        for (p, _, t) in &advanced {
            broadcast = arith::broadcast_dims(&broadcast, t.dims()).ok_or_else(|| {
                (
                    *p,
                    (
                        ErrorKind::Shape,
                        format!(
                            "index {} does not broadcast with the other index arrays (to [{}])",
                            user_type(&t.shape),
                            broadcast
                                .iter()
                                .map(usize::to_string)
                                .collect::<Vec<_>>()
                                .join(",")
                        ),
                    ),
                )
            })?;
        }

        let mut gather_indices: Vec<(Tensor, usize)> = Vec::new();
        let mut gather_indices_shape: Vec<usize> = Vec::new();
        let mut dims = GatherDims::default();
        let mut slice_shape = Vec::new();
        let mut newaxis_dims = Vec::new();
        let (mut x_axis, mut y_axis, mut collapsed_y_axis) = (0, 0, 0);
        for (p, item) in items.iter().enumerate() {
            let first_advanced = match contiguous {
                true => advanced_positions.first() == Some(&p),
                false => p == 0 && !advanced.is_empty(),
            };
            if first_advanced {
                let start = gather_indices_shape.len();
                for (q, axis, t) in &advanced {
                    let t = g.broadcast_to(t, &broadcast).map_err(|f| (*q, f))?;
                    gather_indices.push((t, start));
                    dims.start_index_map.push(*axis);
                    dims.collapsed_slice_dims.push(*axis);
                }
                gather_indices_shape.extend(&broadcast);
                slice_shape.extend(&broadcast);
                y_axis += broadcast.len();
                collapsed_y_axis += broadcast.len();
            }
            if is_advanced(item) {
                x_axis += 1;
                dims.slice_sizes.push(1);
                continue;
            }
            match item {
                Index::NewAxis => {
                    slice_shape.push(1);
                    newaxis_dims.push(y_axis);
                    y_axis += 1;
                }
                Index::Int(_) | Index::Tensor(_) => {
                    // A lone integer beside slices: one start, its axis dropped.
                    let n = x.dims()[x_axis];
                    let t = match item {
                        Index::Int(i) => int_scalar(g, *i),
                        Index::Tensor(t) => wrap_negative(g, t, n),
                        _ => unreachable!("an integer"),
                    }
                    .map_err(|f| (p, f))?;
                    gather_indices.push((t, gather_indices_shape.len()));
                    dims.collapsed_slice_dims.push(x_axis);
                    dims.slice_sizes.push(1);
                    dims.start_index_map.push(x_axis);
                    x_axis += 1;
                }
                Index::Slice(s) => {
                    let size = s.len();
                    slice_shape.push(size);
                    if s.stride == 1 {
                        if size != x.dims()[x_axis] {
                            let start = int_scalar(g, s.start as i64).map_err(|f| (p, f))?;
                            gather_indices.push((start, gather_indices_shape.len()));
                            dims.start_index_map.push(x_axis);
                        }
                        dims.slice_sizes.push(size);
                        dims.offset_dims.push(collapsed_y_axis);
                    } else {
                        let starts = strided(g, s).map_err(|f| (p, f))?;
                        gather_indices.push((starts, gather_indices_shape.len()));
                        gather_indices_shape.push(size);
                        dims.slice_sizes.push(1);
                        dims.start_index_map.push(x_axis);
                        dims.collapsed_slice_dims.push(x_axis);
                    }
                    collapsed_y_axis += 1;
                    y_axis += 1;
                    x_axis += 1;
                }
            }
        }
        let indices = match &gather_indices[..] {
            [] => g.full(Scalar::int(ElementType::S32, 0), &[0]),
            [(t, _)] => {
                let mut shape = t.dims().to_vec();
                shape.push(1);
                g.reshape(t, &shape)
            }
            parts => {
                let mut shape = gather_indices_shape.clone();
                shape.push(1);
                let last = shape.len() - 1;
                let spread = parts
                    .iter()
                    .map(|(t, i)| {
                        g.emit_shaped(
                            Op::Broadcast {
                                dimensions: (*i..*i + t.rank()).collect(),
                            },
                            &[t],
                            ElementType::S32,
                            shape.clone(),
                        )
                    })
                    .collect::<OpResult<Vec<_>>>()
                    .map_err(|f| (0, f))?;
                let refs: Vec<&Tensor> = spread.iter().collect();
                g.concatenate(&refs, last)
            }
        }
        .map_err(|f| (0, f))?;
        dims.collapsed_slice_dims.sort_unstable();
        dims.index_vector_dim = indices.rank() - 1;
        Ok(Indexer {
            indices,
            dims,
            slice_shape,
            newaxis_dims,
            unique: advanced.is_empty(),
        })
    }

    /// `x[index]`: the gather, then `None`'s new axes.
    pub fn gather(&self, g: &mut Graph, x: &Tensor) -> OpResult<Tensor> {
        let mut dims = self.dims.clone();
        dims.indices_are_sorted = self.unique;
        let gathered = g.emit(Op::Gather(dims), &[x, &self.indices])?;
        g.reshape(&gathered, &self.slice_shape)
    }

    /// `x.at[index]` combined with `updates` (of `x`'s type, already of
    /// [`Self::slice_shape`]) by the region `update`.
    pub fn scatter(
        &self,
        g: &mut Graph,
        x: &Tensor,
        updates: &Tensor,
        update: ComputationId,
    ) -> OpResult<Tensor> {
        if self.slice_shape.contains(&0) {
            return Ok(x.clone());
        }
        let kept: Vec<usize> = (0..self.slice_shape.len())
            .filter(|d| !self.newaxis_dims.contains(d))
            .map(|d| self.slice_shape[d])
            .collect();
        let updates = g.reshape(updates, &kept)?;
        let dims = ScatterDims {
            update_window_dims: self.dims.offset_dims.clone(),
            inserted_window_dims: self.dims.collapsed_slice_dims.clone(),
            scatter_dims_to_operand_dims: self.dims.start_index_map.clone(),
            index_vector_dim: self.dims.index_vector_dim,
            ..ScatterDims::default()
        };
        g.emit(
            Op::Scatter {
                dims,
                update,
                indices_are_sorted: self.unique,
                unique_indices: self.unique,
            },
            &[x, &self.indices, &updates],
        )
    }
}

fn int_scalar(g: &mut Graph, i: i64) -> OpResult<Tensor> {
    g.scalar(Scalar::from_number(
        ElementType::S32,
        Number::Int(i as i128),
    ))
}

/// The starts of a strided slice: `start + stride * iota`.
fn strided(g: &mut Graph, s: &SliceDim) -> OpResult<Tensor> {
    let n = s.len();
    let iota = g.iota(ElementType::S32, vec![n], 0)?;
    let stride = g.full(Scalar::int(ElementType::S32, s.stride as i64), &[n])?;
    let start = g.full(Scalar::int(ElementType::S32, s.start as i64), &[n])?;
    let scaled = g.emit(Op::Binary(BinaryOp::Multiply), &[&iota, &stride])?;
    g.emit(Op::Binary(BinaryOp::Add), &[&start, &scaled])
}
