//! A scatter's geometry, which both emitters share (XLA:CPU's `ScatterThunk`):
//! which operand element each update element lands on, whether an update's
//! window fits in the operand, and which operand dimensions threads can own
//! without ever writing the same element.
//!
//! Updates apply in XLA's order: scatter positions (the update dimensions that
//! are not window dimensions) row-major, and within each position its window
//! row-major. A window that does not fit at its start is dropped whole.

use omelet_compiler::hlo::{ArrayShape, InstrId, ScatterDims};

use crate::elemental::{Conditions, IndexArith};

/// An operand dimension whose coordinate is an update coordinate: an update
/// element at coordinate `c` of update dimension `update` lands at coordinate
/// `c` of operand dimension `operand`. A thread that owns a range of such an
/// operand dimension applies exactly the updates in that range of the update
/// dimension, and no other thread writes its elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owned {
    pub operand: usize,
    pub update: usize,
}

/// The owned dimension the CPU splits over threads: the largest.
pub fn split(owned: &[Owned], operand: &[usize]) -> Option<Owned> {
    owned.iter().copied().max_by_key(|o| operand[o.operand])
}

/// A scatter's dimension numbers resolved against its shapes.
pub struct ScatterMap<'d> {
    dims: &'d ScatterDims,
    operand: Vec<usize>,
    indices_rank: usize,
    /// The update dimensions that pick a window (its scatter position), in order.
    pub scatter_dims: Vec<usize>,
    /// The update dimensions inside a window, in order.
    pub window_dims: Vec<usize>,
    /// For each operand dimension, the update dimension that walks it inside
    /// a window (`None` for inserted and batching dimensions).
    window_of: Vec<Option<usize>>,
}

/// Where one update's window starts in the operand, and whether it fits.
pub struct Window<A: IndexArith> {
    /// Each operand dimension's start; `None` where it is always 0.
    pub starts: Vec<Option<A::Index>>,
    /// Whether the whole window lies inside the operand; `None` where it
    /// always does.
    pub fits: Option<A::Cond>,
}

impl<'d> ScatterMap<'d> {
    pub fn new(dims: &'d ScatterDims, operand: &ArrayShape, indices: &ArrayShape) -> Self {
        let update_rank = dims.update_window_dims.len() + indices.rank()
            - usize::from(dims.index_vector_dim < indices.rank());
        let scatter_dims = (0..update_rank)
            .filter(|u| !dims.update_window_dims.contains(u))
            .collect();
        let mut windows = dims.update_window_dims.iter().copied();
        let window_of = (0..operand.rank())
            .map(|o| {
                let spanned = !dims.inserted_window_dims.contains(&o)
                    && !dims.input_batching_dims.contains(&o);
                spanned.then(|| {
                    windows
                        .next()
                        .expect("the shape rule counts window dimensions")
                })
            })
            .collect();
        ScatterMap {
            dims,
            operand: operand.dims.clone(),
            indices_rank: indices.rank(),
            scatter_dims,
            window_dims: dims.update_window_dims.clone(),
            window_of,
        }
    }

    /// The operand dimensions threads can own, in dimension order: window
    /// dimensions that no index component starts (their start is 0, so the
    /// window coordinate is the operand's), and batching dimensions (the
    /// scatter coordinate is the operand's).
    pub fn owned(&self) -> Vec<Owned> {
        let d = self.dims;
        (0..self.operand.len())
            .filter_map(|o| {
                let update = match self.window_of[o] {
                    Some(w) if !d.scatter_dims_to_operand_dims.contains(&o) => w,
                    Some(_) => return None,
                    None => {
                        let b = d.input_batching_dims.iter().position(|&b| b == o)?;
                        self.update_of_index_dim(d.scatter_indices_batching_dims[b])
                    }
                };
                Some(Owned { operand: o, update })
            })
            .collect()
    }

    /// The update dimension of index dimension `i` (not the index vector's).
    fn update_of_index_dim(&self, i: usize) -> usize {
        let position = i - usize::from(i > self.dims.index_vector_dim);
        self.scatter_dims[position]
    }

    /// Whether any update can land: none in an empty operand, where even an
    /// inserted dimension's window (of size 1, never checked when no index
    /// starts it) does not fit.
    pub fn lands_anywhere(&self) -> bool {
        self.operand.iter().all(|&n| n > 0)
    }

    /// The operand dimension that update dimension `u` walks inside a window.
    pub fn operand_of_window(&self, u: usize) -> Option<usize> {
        self.window_of.iter().position(|&w| w == Some(u))
    }

    /// The window of the update at scatter coordinates `scatter` (one per
    /// [`Self::scatter_dims`]), its starts read from `indices`. A start is
    /// read unclamped: a negative one wraps to one that fails `below`.
    pub fn window<A: IndexArith>(
        &self,
        a: &mut A,
        indices: InstrId,
        updates: &[usize],
        scatter: &[A::Index],
    ) -> Window<A> {
        let d = self.dims;
        let mut at: Vec<A::Index> = scatter.to_vec();
        let vector = d.index_vector_dim < self.indices_rank;
        if vector {
            at.insert(d.index_vector_dim, a.constant(0));
        }
        let mut starts: Vec<Option<A::Index>> = vec![None; self.operand.len()];
        let mut fits = Conditions::default();
        for (k, &o) in d.scatter_dims_to_operand_dims.iter().enumerate() {
            if vector {
                at[d.index_vector_dim] = a.constant(k);
            }
            let start = a.index_value(indices, &at);
            let window = self.window_of[o].map_or(1, |u| updates[u]);
            // Starts from 0 to `operand - window` fit; `operand + 1 - window`
            // is 0 where nothing fits (an empty operand dimension).
            let inside = a.below(&start, self.operand[o] + 1 - window);
            fits.require(a, inside);
            starts[o] = Some(start);
        }
        for (&o, &i) in d
            .input_batching_dims
            .iter()
            .zip(&d.scatter_indices_batching_dims)
        {
            starts[o] = Some(at[i].clone());
        }
        Window {
            starts,
            fits: fits.all,
        }
    }

    /// The operand coordinates of the update element at `coords` (all of the
    /// update's coordinates) in a window starting at `starts`.
    pub fn operand_coords<A: IndexArith>(
        &self,
        a: &mut A,
        starts: &[Option<A::Index>],
        coords: &[A::Index],
    ) -> Vec<A::Index> {
        (0..self.operand.len())
            .map(|o| match (&starts[o], self.window_of[o]) {
                (Some(s), Some(u)) => a.add(s, &coords[u]),
                (Some(s), None) => s.clone(),
                (None, Some(u)) => coords[u].clone(),
                (None, None) => a.constant(0),
            })
            .collect()
    }
}
