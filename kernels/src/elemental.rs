//! The elemental layer both emitters share (XLA's `elemental_ir_emitter`): which
//! operand element each element of a view, a dot or a reduction is, written once
//! as index arithmetic over an emitter's own integer values ([`IndexArith`]:
//! Cranelift `i64` values on the CPU, WGSL `u32` expressions on the GPU).
//!
//! An emitter asks for an operand's coordinates and generates that operand's
//! element itself: what an element *is* (a load, an instruction, a WGSL
//! expression) stays in the emitter; where it comes from is decided here.

use omelet_compiler::hlo::{ArrayShape, DotDims, Op};

use crate::kernel::physical_order;

/// The integer arithmetic the index maps are written in. Indices are
/// non-negative and below the element count of the array they index.
pub trait IndexArith {
    type Index: Clone;
    fn constant(&mut self, n: usize) -> Self::Index;
    /// `a * scale + offset`; the result is a valid index.
    fn affine(&mut self, a: &Self::Index, scale: i64, offset: i64) -> Self::Index;
    /// `a * n + b`.
    fn mul_add(&mut self, a: &Self::Index, n: usize, b: &Self::Index) -> Self::Index;
    /// `a / n` and `a % n`, for `n > 1`.
    fn div(&mut self, a: &Self::Index, n: usize) -> Self::Index;
    fn rem(&mut self, a: &Self::Index, n: usize) -> Self::Index;
}

/// The position of `coords` when `dims` are laid out in `order` (major first).
/// Dimensions of size 1 contribute nothing: their coordinate is always 0.
pub fn linearize<A: IndexArith>(
    a: &mut A,
    coords: &[A::Index],
    dims: &[usize],
    order: &[usize],
) -> A::Index {
    let mut linear: Option<A::Index> = None;
    for &d in order.iter().filter(|&&d| dims[d] != 1) {
        linear = Some(match linear {
            None => coords[d].clone(),
            Some(l) => a.mul_add(&l, dims[d], &coords[d]),
        });
    }
    linear.unwrap_or_else(|| a.constant(0))
}

/// The coordinates of position `linear` over `dims` laid out in `order`, the
/// inverse of [`linearize`] for positions inside the array. An empty dimension
/// divides as if of size 1: no element of an empty array is ever asked for.
pub fn delinearize<A: IndexArith>(
    a: &mut A,
    linear: &A::Index,
    dims: &[usize],
    order: &[usize],
) -> Vec<A::Index> {
    let zero = a.constant(0);
    let mut coords = vec![zero; dims.len()];
    let significant: Vec<usize> = order.iter().copied().filter(|&d| dims[d] > 1).collect();
    let mut rest = linear.clone();
    for (i, &d) in significant.iter().enumerate().rev() {
        if i == 0 {
            coords[d] = rest.clone();
        } else {
            coords[d] = a.rem(&rest, dims[d]);
            rest = a.div(&rest, dims[d]);
        }
    }
    coords
}

/// The coordinates of the operand element that the view op `op` (of result
/// `shape`, operand `from`) holds at `coords`, or `None` for an op that is not
/// a single-operand view.
pub fn view_operand<A: IndexArith>(
    a: &mut A,
    op: &Op,
    shape: &ArrayShape,
    from: &ArrayShape,
    coords: &[A::Index],
) -> Option<Vec<A::Index>> {
    Some(match op {
        Op::Broadcast { dimensions } => broadcast_operand(dimensions, coords),
        Op::Transpose { permutation } => transpose_operand(permutation, coords),
        // A reshape keeps row-major positions, a bitcast physical ones.
        Op::Reshape => {
            let linear = linearize(a, coords, &shape.dims, &row_major(shape.rank()));
            delinearize(a, &linear, &from.dims, &row_major(from.rank()))
        }
        Op::Bitcast => {
            let linear = linearize(a, coords, &shape.dims, &physical_order(shape));
            delinearize(a, &linear, &from.dims, &physical_order(from))
        }
        Op::Slice { dims } => coords
            .iter()
            .zip(dims)
            .zip(&shape.dims)
            .map(|((c, d), &size)| match size {
                // One element: its start alone (the stride may not even fit an index).
                0 | 1 => a.constant(d.start),
                _ => a.affine(c, d.stride as i64, d.start as i64),
            })
            .collect(),
        _ => return None,
    })
}

/// The operand coordinates of a broadcast's element at `coords`.
pub fn broadcast_operand<I: Clone>(dimensions: &[usize], coords: &[I]) -> Vec<I> {
    dimensions.iter().map(|&d| coords[d].clone()).collect()
}

/// The operand coordinates of a transpose's element at `coords`.
pub fn transpose_operand<I: Clone>(permutation: &[usize], coords: &[I]) -> Vec<I> {
    let mut inner = coords.to_vec();
    for (i, &p) in permutation.iter().enumerate() {
        inner[p] = coords[i].clone();
    }
    inner
}

/// A dot's operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Lhs,
    Rhs,
}

/// Where a dot's result dimensions come from: for each result dimension, the
/// lhs and the rhs dimension it indexes (batch dimensions index both).
pub struct DotMap<'d> {
    dims: &'d DotDims,
    lhs_of: Vec<Option<usize>>,
    rhs_of: Vec<Option<usize>>,
    ranks: [usize; 2],
}

impl<'d> DotMap<'d> {
    /// Result dimensions are XLA's: batch, then the lhs's free, then the rhs's free.
    pub fn new(dims: &'d DotDims, lhs_rank: usize, rhs_rank: usize) -> DotMap<'d> {
        let free = |rank: usize, batch: &[usize], contracting: &[usize]| -> Vec<usize> {
            (0..rank)
                .filter(|i| !batch.contains(i) && !contracting.contains(i))
                .collect()
        };
        let lhs_free = free(lhs_rank, &dims.lhs_batch, &dims.lhs_contracting);
        let rhs_free = free(rhs_rank, &dims.rhs_batch, &dims.rhs_contracting);
        let nb = dims.lhs_batch.len();
        let batch = || (0..nb).map(Some);
        let none = |n: usize| std::iter::repeat_n(None, n);
        let lhs_of = batch()
            .map(|i| i.map(|i| dims.lhs_batch[i]))
            .chain(lhs_free.iter().copied().map(Some))
            .chain(none(rhs_free.len()))
            .collect();
        let rhs_of = batch()
            .map(|i| i.map(|i| dims.rhs_batch[i]))
            .chain(none(lhs_free.len()))
            .chain(rhs_free.iter().copied().map(Some))
            .collect();
        DotMap {
            dims,
            lhs_of,
            rhs_of,
            ranks: [lhs_rank, rhs_rank],
        }
    }

    /// The dimension of `side` that result dimension `d` indexes, if any.
    pub fn operand_dim(&self, side: Side, d: usize) -> Option<usize> {
        match side {
            Side::Lhs => self.lhs_of[d],
            Side::Rhs => self.rhs_of[d],
        }
    }

    pub fn contracting(&self, side: Side) -> &'d [usize] {
        match side {
            Side::Lhs => &self.dims.lhs_contracting,
            Side::Rhs => &self.dims.rhs_contracting,
        }
    }

    /// The coordinates in `side` of the product at result `coords` and
    /// contraction counters `k` (one per contracting dimension).
    pub fn operand<I: Clone>(&self, side: Side, coords: &[I], k: &[I]) -> Vec<I> {
        let rank = self.ranks[side as usize];
        let mut inner = vec![None; rank];
        for (r, c) in coords.iter().enumerate() {
            if let Some(o) = self.operand_dim(side, r) {
                inner[o] = Some(c.clone());
            }
        }
        for (&c, k) in self.contracting(side).iter().zip(k) {
            inner[c] = Some(k.clone());
        }
        inner
            .into_iter()
            .map(|c| c.expect("a dot indexes every operand dimension"))
            .collect()
    }
}

/// A reduction's reduced dimensions in its operand's memory order, the order
/// its loops run in.
pub fn reduced_in_memory_order(from: &ArrayShape, dimensions: &[usize]) -> Vec<usize> {
    physical_order(from)
        .into_iter()
        .filter(|d| dimensions.contains(d))
        .collect()
}

/// The operand coordinates of a reduction: `kept` (the result's coordinates)
/// for the dimensions it keeps, `reduced[i]` for dimension `order[i]`.
pub fn reduce_operand<I: Clone>(rank: usize, order: &[usize], kept: &[I], reduced: &[I]) -> Vec<I> {
    let mut kept = kept.iter();
    (0..rank)
        .map(|d| match order.iter().position(|&r| r == d) {
            Some(i) => reduced[i].clone(),
            None => kept
                .next()
                .expect("one result coordinate per kept dimension")
                .clone(),
        })
        .collect()
}

pub fn row_major(rank: usize) -> Vec<usize> {
    (0..rank).collect()
}
