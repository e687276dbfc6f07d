//! The elemental layer both emitters share (XLA's `elemental_ir_emitter`): which
//! operand element each element of a view, an index op, a dot or a reduction
//! is, written once as index arithmetic over an emitter's own integer values
//! ([`IndexArith`]: Cranelift `i64` values on the CPU, WGSL `u32` expressions
//! on the GPU).
//!
//! An emitter asks for an operand's coordinates and generates that operand's
//! element itself: what an element *is* (a load, an instruction, a WGSL
//! expression) stays in the emitter; where it comes from is decided here.

use omelet_compiler::hlo::{ArrayShape, Computation, DotDims, GatherDims, InstrId, Op, PadDim};

use crate::kernel::physical_order;

pub mod window;

/// The integer arithmetic the index maps are written in. Indices are
/// non-negative and below the element count of the array they index, except
/// the differences of [`IndexArith::affine`] and [`IndexArith::sub`] that only
/// conditions read: those may wrap below zero.
pub trait IndexArith {
    type Index: Clone;
    /// A condition on indices.
    type Cond;
    fn constant(&mut self, n: usize) -> Self::Index;
    /// `a * scale + offset`.
    fn affine(&mut self, a: &Self::Index, scale: i64, offset: i64) -> Self::Index;
    /// `a * n + b`.
    fn mul_add(&mut self, a: &Self::Index, n: usize, b: &Self::Index) -> Self::Index;
    /// `a / n` and `a % n`, for `n > 1`.
    fn div(&mut self, a: &Self::Index, n: usize) -> Self::Index;
    fn rem(&mut self, a: &Self::Index, n: usize) -> Self::Index;
    fn add(&mut self, a: &Self::Index, b: &Self::Index) -> Self::Index;
    fn sub(&mut self, a: &Self::Index, b: &Self::Index) -> Self::Index;
    /// `a < n`, reading `a` as unsigned: a difference that wrapped below zero
    /// is below no `n`.
    fn below(&mut self, a: &Self::Index, n: usize) -> Self::Cond;
    /// `a % n == 0`, for `n > 1`.
    fn divisible(&mut self, a: &Self::Index, n: usize) -> Self::Cond;
    fn and(&mut self, x: Self::Cond, y: Self::Cond) -> Self::Cond;
    /// The integer element of `array` at `coords` clamped to `[0, max]`: a
    /// dynamic start index, clamped as XLA clamps them.
    fn start_index(&mut self, array: InstrId, coords: &[Self::Index], max: usize) -> Self::Index;
    /// The integer element of `array` at `coords`, unclamped: a scatter's
    /// start index. A negative one wraps to one that no `below` accepts.
    fn index_value(&mut self, array: InstrId, coords: &[Self::Index]) -> Self::Index;
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

/// Where an element of a view or an index op comes from.
pub enum Source<I, C> {
    /// Operand `.0`'s element at `.1`.
    Read(usize, Vec<I>),
    /// `then` where `cond` holds, `otherwise` elsewhere; an emitter reads
    /// only the one chosen (the other's coordinates may be out of bounds).
    Choose {
        cond: C,
        then: (usize, Vec<I>),
        otherwise: (usize, Vec<I>),
    },
}

/// Where the element at `coords` of `id`, a view or an index op of `body`,
/// comes from; `None` for any other op.
pub fn source<A: IndexArith>(
    a: &mut A,
    body: &Computation,
    id: InstrId,
    coords: &[A::Index],
) -> Option<Source<A::Index, A::Cond>> {
    let instr = body.instr(id);
    let shape = instr.array_shape();
    let operand = |i: usize| body.instr(instr.operands[i]).array_shape();
    let read = |coords| Some(Source::Read(0, coords));
    match &instr.op {
        Op::Broadcast { dimensions } => read(broadcast_operand(dimensions, coords)),
        Op::Transpose { permutation } => read(transpose_operand(permutation, coords)),
        // A reshape keeps row-major positions, a bitcast physical ones.
        Op::Reshape => {
            let from = operand(0);
            let linear = linearize(a, coords, &shape.dims, &row_major(shape.rank()));
            read(delinearize(a, &linear, &from.dims, &row_major(from.rank())))
        }
        Op::Bitcast => {
            let from = operand(0);
            let linear = linearize(a, coords, &shape.dims, &physical_order(shape));
            read(delinearize(a, &linear, &from.dims, &physical_order(from)))
        }
        Op::Slice { dims } => read(
            coords
                .iter()
                .zip(dims)
                .zip(&shape.dims)
                .map(|((c, d), &size)| match size {
                    // One element: its start alone (the stride may not even fit an index).
                    0 | 1 => a.constant(d.start),
                    _ => a.affine(c, d.stride as i64, d.start as i64),
                })
                .collect(),
        ),
        Op::Reverse { dimensions } => read(
            coords
                .iter()
                .zip(&shape.dims)
                .enumerate()
                .map(|(d, (c, &n))| match dimensions.contains(&d) && n > 1 {
                    true => a.affine(c, -1, n as i64 - 1),
                    false => c.clone(),
                })
                .collect(),
        ),
        Op::Pad { config } => Some(pad(a, config, &operand(0).dims, coords)),
        Op::DynamicSlice { sizes } => {
            let from = operand(0);
            let starts = &instr.operands[1..];
            let coords = coords
                .iter()
                .enumerate()
                .map(|(d, c)| {
                    let start = start_index(a, starts[d], &[], from.dims[d] - sizes[d]);
                    start.map_or_else(|| c.clone(), |s| a.add(c, &s))
                })
                .collect();
            read(coords)
        }
        Op::DynamicUpdateSlice => {
            let update = &operand(1).dims;
            let starts = &instr.operands[2..];
            let mut cond = Conditions::default();
            let mut inner = Vec::with_capacity(coords.len());
            for (d, c) in coords.iter().enumerate() {
                if update[d] == 0 {
                    // An empty update changes nothing.
                    return read(coords.to_vec());
                }
                // Where the update spans the dimension, its start is 0.
                let Some(start) = start_index(a, starts[d], &[], shape.dims[d] - update[d]) else {
                    inner.push(c.clone());
                    continue;
                };
                let t = a.sub(c, &start);
                let inside = a.below(&t, update[d]);
                cond.require(a, inside);
                inner.push(t);
            }
            Some(match cond.all {
                None => Source::Read(1, inner),
                Some(cond) => Source::Choose {
                    cond,
                    then: (1, inner),
                    otherwise: (0, coords.to_vec()),
                },
            })
        }
        Op::Gather(g) => read(gather(
            a,
            g,
            operand(0),
            instr.operands[1],
            operand(1),
            coords,
        )),
        _ => None,
    }
}

/// A dynamic start index of `array` (at `coords`), or `None` where the slice
/// spans its dimension and the start is always 0.
fn start_index<A: IndexArith>(
    a: &mut A,
    array: InstrId,
    coords: &[A::Index],
    max: usize,
) -> Option<A::Index> {
    (max > 0).then(|| a.start_index(array, coords, max))
}

/// A pad's element: the operand's at the position `(c - low) / (interior + 1)`
/// of each dimension where that divides and is inside, the pad value elsewhere.
fn pad<A: IndexArith>(
    a: &mut A,
    config: &[PadDim],
    dims: &[usize],
    coords: &[A::Index],
) -> Source<A::Index, A::Cond> {
    let mut cond = Conditions::default();
    let mut inner = Vec::with_capacity(coords.len());
    for ((p, c), &n) in config.iter().zip(coords).zip(dims) {
        if n == 0 {
            // Nothing to read: every element is the pad value.
            return Source::Read(1, Vec::new());
        }
        if p.is_identity() {
            inner.push(c.clone());
            continue;
        }
        let step = p.interior + 1;
        let t = a.affine(c, 1, -p.low);
        // Without positive padding every `t` is inside.
        if p.low > 0 || p.high > 0 {
            let span = (n - 1) * step + 1;
            let inside = a.below(&t, span);
            cond.require(a, inside);
        }
        if step > 1 {
            let on_element = a.divisible(&t, step);
            cond.require(a, on_element);
            inner.push(a.div(&t, step));
        } else {
            inner.push(t);
        }
    }
    match cond.all {
        None => Source::Read(0, inner),
        Some(cond) => Source::Choose {
            cond,
            then: (0, inner),
            otherwise: (1, Vec::new()),
        },
    }
}

/// A gather's operand coordinates (XLA's `gather` semantics): the result's
/// batch coordinates pick a start vector from `indices`, each start clamped so
/// that the slice is inside, and the offset coordinates walk the slice.
fn gather<A: IndexArith>(
    a: &mut A,
    g: &GatherDims,
    operand: &ArrayShape,
    indices_id: InstrId,
    indices: &ArrayShape,
    coords: &[A::Index],
) -> Vec<A::Index> {
    let zero = a.constant(0);
    let mut batch = coords
        .iter()
        .enumerate()
        .filter(|(d, _)| !g.offset_dims.contains(d))
        .map(|(_, c)| c.clone());
    let mut at = vec![zero.clone(); indices.rank()];
    for d in g.batch_dims(indices.rank()) {
        at[d] = batch
            .next()
            .expect("the shape rule counts batch dimensions");
    }
    let mut inner: Vec<Option<A::Index>> = vec![None; operand.rank()];
    for (k, &d) in g.start_index_map.iter().enumerate() {
        if g.index_vector_dim < indices.rank() {
            at[g.index_vector_dim] = a.constant(k);
        }
        let max = operand.dims[d] - g.slice_sizes[d];
        inner[d] = start_index(a, indices_id, &at, max);
    }
    for (&od, &id) in g
        .operand_batching_dims
        .iter()
        .zip(&g.start_indices_batching_dims)
    {
        inner[od] = Some(at[id].clone());
    }
    let offsets = g.offset_dims.iter().map(|&d| &coords[d]);
    for (d, offset) in g.offset_operand_dims(operand.rank()).zip(offsets) {
        inner[d] = Some(match inner[d].take() {
            None => offset.clone(),
            Some(start) => a.add(&start, offset),
        });
    }
    inner
        .into_iter()
        .map(|c| c.unwrap_or_else(|| zero.clone()))
        .collect()
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

/// A conjunction built up one condition at a time.
pub(crate) struct Conditions<C> {
    pub all: Option<C>,
}

impl<C> Default for Conditions<C> {
    fn default() -> Self {
        Conditions { all: None }
    }
}

impl<C> Conditions<C> {
    pub fn require<A: IndexArith<Cond = C>>(&mut self, a: &mut A, c: C) {
        self.all = Some(match self.all.take() {
            None => c,
            Some(all) => a.and(all, c),
        });
    }
}
