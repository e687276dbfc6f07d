//! The index ops: `gather`, `dynamic-slice`, `dynamic-update-slice`, `pad` and
//! `reverse`, whose every result element is one operand element chosen by index
//! arithmetic (or the pad value). Their attributes and shape rules live here,
//! with the checks of XLA's shape inference (`InferGatherShape`,
//! `InferPadShape`, ...), and so does the index arithmetic itself
//! ([`GatherDims::operand_index`], [`PadDim::source`], [`clamp_start`]), which the
//! interpreter uses and the code generators will.

use super::shape::ArrayShape;

type Rule<T> = Result<T, String>;

/// One dimension of a `pad`: `low` elements before, `high` after (negative:
/// that many removed) and `interior` between every two operand elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PadDim {
    pub low: i64,
    pub high: i64,
    pub interior: usize,
}

impl PadDim {
    /// The padded length of a dimension of `size`, negative when the negative
    /// padding removes more than there is.
    pub fn padded(&self, size: usize) -> i128 {
        // In i128: an interior of 2^40 between 2^31 elements overflows i64.
        let interior = size.saturating_sub(1) as i128 * self.interior as i128;
        self.low as i128 + size as i128 + interior + self.high as i128
    }

    /// The operand position that result position `i` shows, or `None` where it
    /// shows the pad value.
    pub fn source(&self, i: usize, size: usize) -> Option<usize> {
        let p = i as i64 - self.low;
        let step = self.interior as i64 + 1;
        (p >= 0 && p % step == 0 && p / step < size as i64).then(|| (p / step) as usize)
    }

    /// Whether this dimension is left as it is.
    pub fn is_identity(&self) -> bool {
        self.low == 0 && self.high == 0 && self.interior == 0
    }
}

/// `gather`'s dimension numbers, as XLA names them. A result index splits into
/// batch dimensions (those not in `offset_dims`), which pick a start index from
/// `start_indices`, and offset dimensions, which walk the slice from there.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GatherDims {
    /// The result dimensions that index into the slice.
    pub offset_dims: Vec<usize>,
    /// Operand dimensions of slice size 1 that the result drops.
    pub collapsed_slice_dims: Vec<usize>,
    /// Start index component `k` is the start of operand dimension
    /// `start_index_map[k]`.
    pub start_index_map: Vec<usize>,
    /// The dimension of `start_indices` that holds each index vector; its rank
    /// when every index is a scalar.
    pub index_vector_dim: usize,
    /// Operand dimensions that follow the batch dimension
    /// `start_indices_batching_dims[i]` of the indices (vmap's batching).
    pub operand_batching_dims: Vec<usize>,
    pub start_indices_batching_dims: Vec<usize>,
    pub slice_sizes: Vec<usize>,
    /// A promise of the producer, kept for the printer.
    pub indices_are_sorted: bool,
}

impl GatherDims {
    /// The dimensions of `start_indices` that are batch dimensions: all but
    /// `index_vector_dim`, in order.
    pub fn batch_dims(&self, indices_rank: usize) -> impl Iterator<Item = usize> + '_ {
        (0..indices_rank).filter(move |&d| d != self.index_vector_dim)
    }

    /// The operand dimensions the result keeps as offset dimensions, in order.
    pub fn offset_operand_dims(&self, operand_rank: usize) -> impl Iterator<Item = usize> + '_ {
        (0..operand_rank).filter(move |d| {
            !self.collapsed_slice_dims.contains(d) && !self.operand_batching_dims.contains(d)
        })
    }

    /// The operand index that result index `out` reads. `index(coords)` gives
    /// the start index at `coords` of `start_indices`, whose dimensions are
    /// `indices_dims`; each start is clamped so that the slice is in bounds,
    /// as XLA does.
    pub fn operand_index(
        &self,
        operand_dims: &[usize],
        indices_dims: &[usize],
        out: &[usize],
        index: impl Fn(&[usize]) -> i128,
    ) -> Vec<usize> {
        let mut batch = out
            .iter()
            .enumerate()
            .filter(|(d, _)| !self.offset_dims.contains(d))
            .map(|(_, &i)| i);
        let mut coords = vec![0; indices_dims.len()];
        for d in self.batch_dims(indices_dims.len()) {
            coords[d] = batch
                .next()
                .expect("the shape rule counts batch dimensions");
        }
        let mut result = vec![0; operand_dims.len()];
        for (k, &d) in self.start_index_map.iter().enumerate() {
            if self.index_vector_dim < indices_dims.len() {
                coords[self.index_vector_dim] = k;
            }
            result[d] = clamp_start(index(&coords), operand_dims[d], self.slice_sizes[d]);
        }
        for (&od, &id) in self
            .operand_batching_dims
            .iter()
            .zip(&self.start_indices_batching_dims)
        {
            result[od] = coords[id];
        }
        let offsets = self.offset_dims.iter().map(|&d| out[d]);
        for (d, offset) in self.offset_operand_dims(operand_dims.len()).zip(offsets) {
            result[d] += offset;
        }
        result
    }
}

/// XLA's clamp of a dynamic start index: the slice of `len` elements stays
/// inside the `size` of its dimension (a negative start becomes 0).
pub fn clamp_start(start: i128, size: usize, len: usize) -> usize {
    start.clamp(0, size.saturating_sub(len) as i128) as usize
}

pub fn pad(operand: &ArrayShape, value: &ArrayShape, config: &[PadDim]) -> Rule<ArrayShape> {
    if value.rank() != 0 || value.element != operand.element {
        return Err(format!(
            "pad's padding value {value} must be a scalar of {operand}'s type"
        ));
    }
    if config.len() != operand.rank() {
        return Err(format!(
            "padding= has {} dimensions for {operand}",
            config.len()
        ));
    }
    let mut dims = Vec::with_capacity(config.len());
    for (d, (p, &size)) in config.iter().zip(&operand.dims).enumerate() {
        let padded = p.padded(size);
        if padded < 0 || padded > usize::MAX as i128 {
            return Err(format!(
                "padding {}_{}_{} of dimension {d} (size {size}) gives the size {padded}",
                p.low, p.high, p.interior
            ));
        }
        dims.push(padded as usize);
    }
    Ok(ArrayShape::new(operand.element, dims))
}

pub fn reverse(operand: &ArrayShape, dimensions: &[usize]) -> Rule<ArrayShape> {
    distinct_in_range(dimensions, operand.rank(), "reverse dimension")?;
    Ok(ArrayShape::new(operand.element, operand.dims.clone()))
}

/// `dynamic-slice(operand, start_0, ..., start_r-1)`.
pub fn dynamic_slice(operands: &[&ArrayShape], sizes: &[usize]) -> Rule<ArrayShape> {
    let (operand, starts) = operands
        .split_first()
        .ok_or("dynamic-slice takes operands")?;
    start_indices(operand, starts, "dynamic-slice")?;
    if sizes.len() != operand.rank() {
        return Err(format!(
            "dynamic_slice_sizes has {} sizes for {operand}",
            sizes.len()
        ));
    }
    for (d, (&size, &dim)) in sizes.iter().zip(&operand.dims).enumerate() {
        if size > dim {
            return Err(format!(
                "slice size {size} exceeds dimension {d} of {operand}"
            ));
        }
    }
    Ok(ArrayShape::new(operand.element, sizes.to_vec()))
}

/// `dynamic-update-slice(operand, update, start_0, ..., start_r-1)`.
pub fn dynamic_update_slice(operands: &[&ArrayShape]) -> Rule<ArrayShape> {
    let [operand, update, starts @ ..] = operands else {
        return Err("dynamic-update-slice takes an operand, an update and start indices".into());
    };
    start_indices(operand, starts, "dynamic-update-slice")?;
    let fits = update.element == operand.element
        && update.rank() == operand.rank()
        && update.dims.iter().zip(&operand.dims).all(|(u, o)| u <= o);
    if !fits {
        return Err(format!(
            "the update {update} does not fit in the operand {operand}"
        ));
    }
    Ok(ArrayShape::new(operand.element, operand.dims.clone()))
}

/// One scalar integer start index per dimension, all of one type (the form JAX
/// emits; XLA's older single-vector form is refused by the importer).
fn start_indices(operand: &ArrayShape, starts: &[&ArrayShape], op: &str) -> Rule<()> {
    if starts.len() != operand.rank() {
        return Err(format!(
            "{op} of {operand} takes {} scalar start indices, not {}",
            operand.rank(),
            starts.len()
        ));
    }
    for (d, start) in starts.iter().enumerate() {
        if start.rank() != 0 || !start.element.is_integer() || start.element != starts[0].element {
            return Err(format!(
                "{op}'s start index {d} is {start}: start indices are integer scalars of one type"
            ));
        }
    }
    Ok(())
}

pub fn gather(operand: &ArrayShape, indices: &ArrayShape, g: &GatherDims) -> Rule<ArrayShape> {
    if !indices.element.is_integer() {
        return Err(format!("gather's start indices {indices} must be integers"));
    }
    let ivd = g.index_vector_dim;
    if ivd > indices.rank() {
        return Err(format!(
            "index_vector_dim={ivd} is out of range for the start indices {indices}"
        ));
    }
    let vector_len = indices.dims.get(ivd).copied().unwrap_or(1);
    if g.start_index_map.len() != vector_len {
        return Err(format!(
            "start_index_map has {} dimensions but the index vectors of {indices} have {vector_len} components",
            g.start_index_map.len()
        ));
    }
    if g.slice_sizes.len() != operand.rank() {
        return Err(format!(
            "slice_sizes has {} sizes for the operand {operand}",
            g.slice_sizes.len()
        ));
    }
    for (d, (&size, &dim)) in g.slice_sizes.iter().zip(&operand.dims).enumerate() {
        if size > dim {
            return Err(format!(
                "slice size {size} exceeds dimension {d} of the operand {operand}"
            ));
        }
    }
    let rank = operand.rank();
    sorted_distinct(&g.collapsed_slice_dims, rank, "collapsed_slice_dims")?;
    sorted_distinct(&g.operand_batching_dims, rank, "operand_batching_dims")?;
    distinct_in_range(&g.start_index_map, rank, "start_index_map")?;
    distinct_in_range(
        &g.start_indices_batching_dims,
        indices.rank(),
        "start_indices_batching_dims",
    )?;
    for &d in g
        .collapsed_slice_dims
        .iter()
        .chain(&g.operand_batching_dims)
    {
        if g.slice_sizes[d] > 1 {
            return Err(format!(
                "operand dimension {d} is collapsed or batched but its slice size is {}",
                g.slice_sizes[d]
            ));
        }
    }
    if let Some(d) = g
        .collapsed_slice_dims
        .iter()
        .find(|d| g.operand_batching_dims.contains(d))
    {
        return Err(format!(
            "operand dimension {d} is both collapsed and a batching dimension"
        ));
    }
    if let Some(d) = g
        .start_index_map
        .iter()
        .find(|d| g.operand_batching_dims.contains(d))
    {
        return Err(format!(
            "operand dimension {d} is both in start_index_map and a batching dimension"
        ));
    }
    if g.operand_batching_dims.len() != g.start_indices_batching_dims.len() {
        return Err(
            "operand_batching_dims and start_indices_batching_dims differ in length".into(),
        );
    }
    for (&od, &id) in g
        .operand_batching_dims
        .iter()
        .zip(&g.start_indices_batching_dims)
    {
        if id == ivd || indices.dims[id] != operand.dims[od] {
            return Err(format!(
                "batching dimension {id} of the indices {indices} does not match dimension {od} of the operand {operand}"
            ));
        }
    }
    let offset_sizes: Vec<usize> = g
        .offset_operand_dims(rank)
        .map(|d| g.slice_sizes[d])
        .collect();
    if offset_sizes.len() != g.offset_dims.len() {
        return Err(format!(
            "offset_dims has {} dimensions but the slice keeps {} of the operand {operand}",
            g.offset_dims.len(),
            offset_sizes.len()
        ));
    }
    let batch: Vec<usize> = g
        .batch_dims(indices.rank())
        .map(|d| indices.dims[d])
        .collect();
    let out_rank = g.offset_dims.len() + batch.len();
    sorted_distinct(&g.offset_dims, out_rank, "offset_dims")?;
    let (mut offsets, mut batches) = (offset_sizes.into_iter(), batch.into_iter());
    let dims = (0..out_rank)
        .map(|d| match g.offset_dims.contains(&d) {
            true => offsets.next(),
            false => batches.next(),
        })
        .collect::<Option<Vec<usize>>>()
        .expect("the counts agree");
    Ok(ArrayShape::new(operand.element, dims))
}

fn sorted_distinct(dims: &[usize], rank: usize, what: &str) -> Rule<()> {
    if dims.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!("{what} must be sorted and distinct"));
    }
    distinct_in_range(dims, rank, what)
}

fn distinct_in_range(dims: &[usize], rank: usize, what: &str) -> Rule<()> {
    for (i, &d) in dims.iter().enumerate() {
        if d >= rank {
            return Err(format!("{what} {d} is out of range for rank {rank}"));
        }
        if dims[..i].contains(&d) {
            return Err(format!("{what} {d} appears twice"));
        }
    }
    Ok(())
}
