//! Emitting HLO for traced arrays: the tracer's view of the computation builder.
//!
//! Every method takes and returns [`Tensor`]s and reports user-facing failures as
//! [`Failure`]s, which the tracer locates at the expression that caused them.

use crate::error::ErrorKind;
use crate::hlo::{
    ArrayShape, Computation, ComputationBuilder, ComputationId, Direction, DotDims, ElementType,
    InstrId, Literal, Op, ReduceOp, Scalar, Shape, SliceDim,
};
use crate::import::{MAX_ELEMENTS, MAX_RANK};

use super::value::{Tensor, user_type};

/// A failure without a location yet: its kind and message.
pub type Failure = (ErrorKind, String);
pub type OpResult<T> = Result<T, Failure>;

pub fn shape_error<T>(message: impl Into<String>) -> OpResult<T> {
    Err((ErrorKind::Shape, message.into()))
}

/// Tracing unrolls loops and inlines calls; past this many instructions a script is
/// surely runaway (a loop over a huge range), and tracing stops with an error
/// instead of exhausting memory. (Real programs trace to hundreds; tracing 100,000
/// takes a few tenths of a second.)
const MAX_INSTRUCTIONS: usize = 100_000;

/// Fails unless the HLO importer accepts an array of `dims` (`import::MAX_RANK`,
/// `import::MAX_ELEMENTS`): a traced module must print and parse back.
pub fn check_size(element: ElementType, dims: &[usize]) -> OpResult<()> {
    if dims.len() > MAX_RANK {
        return shape_error(format!(
            "an array of rank {} is too large: its rank is at most {MAX_RANK}",
            dims.len()
        ));
    }
    let too_large = |what: &str| {
        shape_error(format!(
            "the array {} is too large: {what}",
            user_type(&ArrayShape::new(element, dims.to_vec()))
        ))
    };
    // Counted as the importer counts: the dimensions of an empty array other than
    // its zeros must multiply to a valid size too.
    let count = dims.iter().fold(1u64, |n, &d| n.saturating_mul(d as u64));
    let extent = dims
        .iter()
        .fold(1u64, |n, &d| n.saturating_mul(d.max(1) as u64));
    if count > MAX_ELEMENTS {
        return too_large(&format!("it has more than {MAX_ELEMENTS} elements"));
    }
    if extent > MAX_ELEMENTS {
        return too_large(&format!(
            "its dimensions other than 0 multiply to more than {MAX_ELEMENTS}"
        ));
    }
    Ok(())
}

pub struct Graph {
    pub builder: ComputationBuilder,
    /// The regions the traced ops reference (comparators, combiners, scatter
    /// updates): the module's computations after the entry, each once.
    regions: Vec<Computation>,
    count: usize,
}

/// A region's scalar computation, written over the builder and its parameters.
pub type RegionBody<'a> = &'a dyn Fn(&mut RegionBuilder, &[InstrId]) -> Result<InstrId, String>;

/// Builds one region: scalar ops only, each named after its opcode.
pub struct RegionBuilder {
    builder: ComputationBuilder,
}

impl RegionBuilder {
    pub fn add(&mut self, op: Op, operands: &[InstrId]) -> Result<InstrId, String> {
        self.builder.add(op, operands.to_vec())
    }

    pub fn constant(&mut self, value: Scalar) -> Result<InstrId, String> {
        self.builder.add_with_shape(
            Op::Constant(Literal::scalar(value)),
            vec![],
            Shape::Array(ArrayShape::new(value.element, vec![])),
        )
    }
}

impl Graph {
    pub fn new(name: &str) -> Graph {
        Graph {
            builder: ComputationBuilder::new(name),
            regions: Vec::new(),
            count: 0,
        }
    }

    /// The traced module's computations: the entry (rooted at `root`) first,
    /// then the regions.
    pub fn finish(self, root: InstrId) -> Result<Vec<Computation>, String> {
        let mut computations = vec![self.builder.finish(root)?];
        computations.extend(self.regions);
        Ok(computations)
    }

    /// A region of scalar `params` computed by `body`, named `name.N`; a
    /// region equal to one already made is that one.
    pub fn region(
        &mut self,
        name: &str,
        params: &[ElementType],
        body: RegionBody,
    ) -> OpResult<ComputationId> {
        let internal = |e: String| (ErrorKind::Shape, format!("internal error: {e}"));
        let mut region = RegionBuilder {
            builder: ComputationBuilder::new(format!("{name}.{}", self.regions.len() + 1)),
        };
        let ids = params
            .iter()
            .enumerate()
            .map(|(i, &element)| {
                let shape = Shape::Array(ArrayShape::new(element, vec![]));
                region
                    .builder
                    .add_with_shape(Op::Parameter(i), vec![], shape)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        let root = body(&mut region, &ids).map_err(internal)?;
        let computation = region.builder.finish(root).map_err(internal)?;
        let same = |c: &Computation| {
            c.instructions == computation.instructions && c.root == computation.root
        };
        let index = match self.regions.iter().position(same) {
            Some(i) => i,
            None => {
                self.regions.push(computation);
                self.regions.len() - 1
            }
        };
        // The entry is computation 0.
        Ok(ComputationId::new(index + 1))
    }

    /// Appends an op that gives a tuple (a variadic reduce, a sort of several
    /// operands, `topk`), and returns its elements.
    pub fn emit_tuple(&mut self, op: Op, operands: &[&Tensor]) -> OpResult<Vec<Tensor>> {
        self.budget()?;
        let ids = operands.iter().map(|t| t.id).collect();
        let tuple = self
            .builder
            .add(op, ids)
            .map_err(|e| (ErrorKind::Shape, e))?;
        let count = self.builder.shape(tuple).arrays().len();
        (0..count)
            .map(|index| {
                self.budget()?;
                let id = self
                    .builder
                    .add(Op::GetTupleElement { index }, vec![tuple])
                    .map_err(|e| (ErrorKind::Shape, e))?;
                let t = self.tensor(id);
                check_size(t.element(), t.dims())?;
                Ok(t)
            })
            .collect()
    }

    fn tensor(&self, id: crate::hlo::InstrId) -> Tensor {
        let shape = self
            .builder
            .shape(id)
            .as_array()
            .expect("tracing builds arrays")
            .clone();
        Tensor { id, shape }
    }

    fn budget(&mut self) -> OpResult<()> {
        self.count += 1;
        if self.count > MAX_INSTRUCTIONS {
            return Err((
                ErrorKind::Value,
                format!("the program traces to more than {MAX_INSTRUCTIONS} instructions"),
            ));
        }
        Ok(())
    }

    /// Appends an op whose shape the shape rules derive.
    pub fn emit(&mut self, op: Op, operands: &[&Tensor]) -> OpResult<Tensor> {
        self.budget()?;
        let ids = operands.iter().map(|t| t.id).collect();
        let id = self
            .builder
            .add(op, ids)
            .map_err(|e| (ErrorKind::Shape, e))?;
        let t = self.tensor(id);
        // A concatenation or a dot can be larger than its operands.
        check_size(t.element(), t.dims())?;
        Ok(t)
    }

    /// Appends an op with a declared (row-major) result shape.
    pub fn emit_shaped(
        &mut self,
        op: Op,
        operands: &[&Tensor],
        element: ElementType,
        dims: Vec<usize>,
    ) -> OpResult<Tensor> {
        self.budget()?;
        check_size(element, &dims)?;
        let ids = operands.iter().map(|t| t.id).collect();
        let shape = Shape::Array(ArrayShape::new(element, dims));
        let id = self
            .builder
            .add_with_shape(op, ids, shape)
            .map_err(|e| (ErrorKind::Shape, e))?;
        Ok(self.tensor(id))
    }

    pub fn parameter(&mut self, index: usize, name: &str, shape: ArrayShape) -> OpResult<Tensor> {
        self.budget()?;
        let id = self
            .builder
            .push(name, Op::Parameter(index), Vec::new(), Shape::Array(shape))
            .map_err(|e| (ErrorKind::Input, e))?;
        Ok(self.tensor(id))
    }

    pub fn scalar(&mut self, value: Scalar) -> OpResult<Tensor> {
        self.emit_shaped(
            Op::Constant(Literal::scalar(value)),
            &[],
            value.element,
            vec![],
        )
    }

    /// An array of `dims` filled with `value`: a scalar constant, broadcast.
    pub fn full(&mut self, value: Scalar, dims: &[usize]) -> OpResult<Tensor> {
        let scalar = self.scalar(value)?;
        if dims.is_empty() {
            return Ok(scalar);
        }
        self.emit_shaped(
            Op::Broadcast { dimensions: vec![] },
            &[&scalar],
            scalar.element(),
            dims.to_vec(),
        )
    }

    pub fn convert(&mut self, t: &Tensor, element: ElementType) -> OpResult<Tensor> {
        if t.element() == element {
            return Ok(t.clone());
        }
        self.emit_shaped(Op::Convert, &[t], element, t.dims().to_vec())
    }

    pub fn reshape(&mut self, t: &Tensor, dims: &[usize]) -> OpResult<Tensor> {
        if t.dims() == dims {
            return Ok(t.clone());
        }
        let count = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if count != Some(t.shape.element_count()) {
            return shape_error(format!(
                "cannot reshape {} into [{}]",
                user_type(&t.shape),
                dims.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        self.emit_shaped(Op::Reshape, &[t], t.element(), dims.to_vec())
    }

    pub fn transpose(&mut self, t: &Tensor, permutation: &[usize]) -> OpResult<Tensor> {
        if permutation.iter().enumerate().all(|(i, &p)| i == p) {
            return Ok(t.clone());
        }
        self.emit(
            Op::Transpose {
                permutation: permutation.to_vec(),
            },
            &[t],
        )
    }

    /// NumPy broadcasting of `t` to `dims`: trailing dimensions align, and a
    /// dimension of 1 stretches. Emitted as XLA does: a reshape that drops the
    /// stretched 1s, then a `broadcast` that names where the rest go.
    pub fn broadcast_to(&mut self, t: &Tensor, dims: &[usize]) -> OpResult<Tensor> {
        if t.dims() == dims {
            return Ok(t.clone());
        }
        let offset = match dims.len().checked_sub(t.rank()) {
            Some(offset) => offset,
            None => {
                return shape_error(format!(
                    "cannot broadcast {} to rank {}",
                    user_type(&t.shape),
                    dims.len()
                ));
            }
        };
        let mut kept_dims = Vec::new();
        let mut kept = Vec::new();
        for (i, &d) in t.dims().iter().enumerate() {
            let target = dims[offset + i];
            if d == target {
                kept.push(offset + i);
                kept_dims.push(d);
            } else if d != 1 {
                return shape_error(format!(
                    "cannot broadcast {} to [{}]",
                    user_type(&t.shape),
                    dims.iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                ));
            }
        }
        let squeezed = self.reshape(t, &kept_dims)?;
        self.emit_shaped(
            Op::Broadcast { dimensions: kept },
            &[&squeezed],
            t.element(),
            dims.to_vec(),
        )
    }

    pub fn compare(&mut self, direction: Direction, a: &Tensor, b: &Tensor) -> OpResult<Tensor> {
        self.emit(Op::Compare(direction), &[a, b])
    }

    pub fn select(
        &mut self,
        pred: &Tensor,
        on_true: &Tensor,
        on_false: &Tensor,
    ) -> OpResult<Tensor> {
        self.emit(Op::Select, &[pred, on_true, on_false])
    }

    /// Reduces over `axes` (distinct, in range) with the combiner's identity as init.
    pub fn reduce(&mut self, t: &Tensor, axes: &[usize], reducer: ReduceOp) -> OpResult<Tensor> {
        let init = reducer.identity(t.element());
        let init = self.scalar(init)?;
        let mut dimensions = axes.to_vec();
        dimensions.sort_unstable();
        self.emit(
            Op::Reduce {
                dimensions,
                reducer,
            },
            &[t, &init],
        )
    }

    pub fn slice(&mut self, t: &Tensor, dims: Vec<SliceDim>) -> OpResult<Tensor> {
        if dims
            .iter()
            .zip(t.dims())
            .all(|(s, &n)| s.start == 0 && s.limit == n && s.stride == 1)
        {
            return Ok(t.clone());
        }
        self.emit(Op::Slice { dims }, &[t])
    }

    pub fn concatenate(&mut self, parts: &[&Tensor], dimension: usize) -> OpResult<Tensor> {
        self.emit(Op::Concatenate { dimension }, parts)
    }

    pub fn dot(&mut self, a: &Tensor, b: &Tensor, dims: DotDims) -> OpResult<Tensor> {
        self.emit(Op::Dot(dims), &[a, b])
    }

    pub fn iota(
        &mut self,
        element: ElementType,
        dims: Vec<usize>,
        dimension: usize,
    ) -> OpResult<Tensor> {
        self.emit_shaped(Op::Iota { dimension }, &[], element, dims)
    }
}
