//! The backend-neutral kernel description: what one fused kernel computes and how
//! its iteration space is walked. Fusion outlines each kernel as a computation;
//! this adds the schedule a code generator needs. The CPU (Cranelift) emitter
//! consumes it, and so does the GPU (WGSL) emitter.
//!
//! The body stays an HLO computation: every value in it is defined *elementally*
//! (its element at a logical index is a function of operand elements at derived
//! indices), so an emitter generates the outputs' elements and reads operands
//! through their layouts. Views (broadcast, transpose, reshape, slice, bitcast)
//! become index arithmetic, never copies.

use omelet_compiler::cost::single_op_kind;
use omelet_compiler::fusion::kernel_outer_dims;
use std::collections::BTreeMap;

use crate::scatter::{self, Owned, ScatterMap};

pub use crate::sort::{Sort, SortOrder};
use omelet_compiler::hlo::{
    ArrayShape, Computation, ComputationId, ElementType, FusionKind, InstrId, Instruction, Module,
    Op, Shape, check_fusion,
};

/// The module computations a kernel's region ops apply per element (a sort's
/// comparator, a scatter's update, a reduce-window's region, ...), scalar
/// computations that the emitters inline where the op combines elements.
pub type Regions = BTreeMap<ComputationId, Computation>;

/// One fused kernel: its body, the values it writes, and its schedule.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub name: String,
    /// The fused computation; `parameter(i)` is the kernel's input `i`.
    pub body: Computation,
    /// The body values written to memory, in the order of the kernel's results.
    pub outputs: Vec<InstrId>,
    pub schedule: Schedule,
    /// What one thread keeps in its scratch memory (row kernels only).
    pub scratch: ScratchLayout,
    /// The regions of the body's region ops, by the ids the ops name.
    pub regions: Regions,
}

/// A row kernel's per-thread scratch, in bytes from its start: one layout that
/// the CPU emitter places values by, the runtime sizes scratch by and points
/// the GEMMs at. Every element takes 4 bytes (`f32`, `s32`, a `pred` mask, the
/// narrower types in a 32-bit slot), or 8 for 64-bit types.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScratchLayout {
    /// The [`RowProduct`] for one index of the first dimension: its batches'
    /// `m × n` matrices one after another, row-major.
    pub product: Option<Region>,
    /// The [`RowConsumer`]'s left operand for one index of the first
    /// dimension: its batches' `m × k` matrices one after another, row-major.
    pub consumer: Option<Region>,
    /// One row (row-major over the dimensions after the outer ones) of each
    /// other value [`Kernel::materialized`], in body order.
    pub rows: Vec<(InstrId, Region)>,
    /// The whole scratch one thread needs.
    pub bytes: usize,
}

/// `bytes` bytes at `offset` in scratch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub offset: usize,
    pub bytes: usize,
}

impl Region {
    /// Where the `i`th of the region's consecutive `f32` matrices of `len`
    /// elements starts, in `f32`s from the start of scratch.
    pub fn matrix(&self, i: usize, len: usize) -> usize {
        assert!(
            (i + 1) * len * 4 <= self.bytes,
            "matrix {i} of {len} elements lies outside its scratch region"
        );
        self.offset / 4 + i * len
    }
}

impl ScratchLayout {
    /// The layout of `kernel`'s scratch: the product, the consumer's operand,
    /// then a row of each other materialized value.
    fn of(kernel: &Kernel) -> ScratchLayout {
        let Schedule::Rows {
            outer,
            product,
            consumer,
        } = &kernel.schedule
        else {
            return ScratchLayout::default();
        };
        let dims = |id: InstrId| &kernel.body.instr(id).array_shape().dims;
        let mut layout = ScratchLayout::default();
        let mut place = |elements: usize, size: usize| {
            let region = Region {
                offset: layout.bytes,
                bytes: elements * size,
            };
            layout.bytes += region.bytes;
            region
        };
        // A block: everything under one index of the first dimension.
        let block = |id: InstrId| dims(id).iter().skip(1).product::<usize>();
        let slot = |id: InstrId| {
            kernel
                .body
                .instr(id)
                .array_shape()
                .element
                .byte_size()
                .max(4)
        };
        let product_region = product.as_ref().map(|p| place(block(p.dot), 4));
        let consumer_region = consumer.as_ref().map(|c| place(block(c.lhs), 4));
        let special = |id: InstrId| {
            product.as_ref().is_some_and(|p| p.dot == id)
                || consumer.as_ref().is_some_and(|c| c.lhs == id)
        };
        let rows: Vec<(InstrId, Region)> = kernel
            .materialized(outer)
            .into_iter()
            .filter(|&m| !special(m))
            .map(|m| (m, place(dims(m)[outer.len()..].iter().product(), slot(m))))
            .collect();
        ScratchLayout {
            product: product_region,
            consumer: consumer_region,
            rows,
            ..layout
        }
    }
}

/// How the iteration space is walked.
#[derive(Clone, Debug)]
pub enum Schedule {
    /// Element by element over the outputs' shape (they share one), in the first
    /// output's physical order; the outermost dimension splits across threads.
    Loop,
    /// For each index of the leading dimensions `outer` (their sizes; a *row*):
    /// the reductions over the row, then the row of every dot that other values
    /// read, then the outputs' rows. Rows split across threads. Outputs of other
    /// shapes (views of the inputs) are written whole, by the first part.
    Rows {
        outer: Vec<usize>,
        product: Option<RowProduct>,
        consumer: Option<RowConsumer>,
    },
    /// Reductions over leading dimensions: each output accumulates in one pass
    /// over its operand, in the operand's physical order.
    Columns,
    /// One matrix product of (transposed) inputs, by the packed GEMM, then an
    /// elementwise epilogue on each block of finished rows.
    Gemm(Gemm),
    /// Sibling products of inputs (attention's q, k and v projections): output
    /// `i` is `products[i]`, each by the packed GEMM.
    Products(Vec<Gemm>),
    /// A scatter, the kernel's one output ([`crate::scatter`]): the operand
    /// copied (on the CPU, unless the plan gave the output the operand's own
    /// buffer), then every update applied in order. Threads own ranges of the
    /// `owned` operand dimensions, each copying and updating only its part
    /// (the CPU splits the largest, [`scatter::split`]); without one, one
    /// thread does it all.
    Scatter { owned: Vec<Owned> },
    /// A sort or topk alone: each row along the sorted dimension sorted on
    /// its own; rows split across threads.
    Sort(Sort),
}

/// A product `C[b] = A[b] · B[b]` of strided views of the kernel's inputs.
#[derive(Clone, Debug)]
pub struct Gemm {
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    /// `A[b][i][p]` and `B[b][p][j]`, read in place.
    pub lhs: MatrixView,
    pub rhs: MatrixView,
    /// The kernel's body with the product as its last input, computing the
    /// outputs from it element by element (in place over the product); `None`
    /// when the product is the output.
    pub epilogue: Option<Box<Kernel>>,
}

/// A dot of a row kernel over `[batch, row]` that the GEMM computes per batch
/// (an `m × n` matrix in each thread's scratch, [`ScratchLayout::product`])
/// before the batch's rows run; the row code reads it there.
#[derive(Clone, Debug)]
pub struct RowProduct {
    pub dot: InstrId,
    pub gemm: Gemm,
}

/// The output dot of a row kernel over `[batch, row]` whose left operand the
/// rows compute (attention's probabilities times `v`): the rows write that
/// operand for a whole batch (`m × k`, row-major in scratch,
/// [`ScratchLayout::consumer`]), then the GEMM multiplies it by `rhs` into the
/// output.
#[derive(Clone, Debug)]
pub struct RowConsumer {
    pub dot: InstrId,
    pub lhs: InstrId,
    pub rhs: MatrixView,
    /// Batches in all (the product of the leading outer dimensions).
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

/// A batched matrix view of one kernel input (strides in elements): batch `b`
/// (row-major over `batch`, each an (extent, stride) pair) starts at
/// [`MatrixView::offset`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixView {
    pub input: usize,
    pub batch: Vec<(usize, usize)>,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl MatrixView {
    /// Where batch `b` (a flat index) starts, in elements.
    pub fn offset(&self, mut b: usize) -> usize {
        let mut offset = 0;
        for &(extent, stride) in self.batch.iter().rev() {
            offset += b % extent * stride;
            b /= extent;
        }
        offset
    }
}

impl Kernel {
    /// Describes the fused computation `body`, of kind `kind`; or says why the
    /// backends cannot compile it. A module's fusions passed the verifier
    /// ([`check_fusion`]); the body must also compute arrays only (a tuple only
    /// as its root). Fusion forms row kernels whose values are computed one row
    /// at a time (`fusion/model.rs`); a hand-written kernel that reads a value
    /// across rows runs as one row instead, which is always correct.
    pub fn new(
        name: &str,
        body: &Computation,
        kind: FusionKind,
        regions: Regions,
    ) -> Result<Kernel, String> {
        arrays_only(body).map_err(|e| format!("fusion {name} ({}): {e}", body.name))?;
        check_fusion(body, kind).map_err(|e| format!("fusion {name} ({}): {e}", body.name))?;
        let root = body.root_instr();
        let outputs = match root.op {
            Op::Tuple => root.operands.clone(),
            _ => vec![body.root],
        };
        let trailing_reductions = body.instructions.iter().all(|i| match &i.op {
            Op::Reduce { dimensions, .. } => {
                let rank = body.instr(i.operands[0]).array_shape().rank();
                dimensions.iter().copied().eq(rank - dimensions.len()..rank)
            }
            _ => true,
        });
        let scatter = scatter_owned(body, &outputs)
            .map_err(|e| format!("fusion {name} ({}): {e}", body.name))?;
        let sort = Sort::of(body, &outputs).map_err(|e| format!("fusion {name}: {e}"))?;
        let schedule = match kind {
            _ if let Some(owned) = scatter => Schedule::Scatter { owned },
            _ if let Some(sort) = sort => Schedule::Sort(sort),
            FusionKind::Loop => Schedule::Loop,
            FusionKind::Output if let Some(gemm) = gemm(name, body, &outputs) => {
                Schedule::Gemm(gemm)
            }
            FusionKind::Output if let Some(products) = products(body, &outputs) => {
                Schedule::Products(products)
            }
            _ if !trailing_reductions => Schedule::Columns,
            _ => rows(body, &outputs),
        };
        let mut kernel = Kernel {
            name: name.to_string(),
            body: body.clone(),
            outputs,
            schedule,
            scratch: ScratchLayout::default(),
            regions,
        };
        kernel.scratch = ScratchLayout::of(&kernel);
        Ok(kernel)
    }

    /// A kernel of one instruction of `module`'s entry that fusion left on its
    /// own. An op that gives a tuple (a variadic reduce, a sort of several
    /// operands) has each element as an output, through `get-tuple-element`s.
    pub fn single(module: &Module, id: InstrId) -> Result<Kernel, String> {
        let comp = module.entry();
        let instr = comp.instr(id);
        let mut instructions: Vec<Instruction> = instr
            .operands
            .iter()
            .enumerate()
            .map(|(i, &o)| Instruction {
                name: format!("param_{i}"),
                op: Op::Parameter(i),
                operands: Vec::new(),
                shape: comp.instr(o).shape.clone(),
            })
            .collect();
        let parameters = (0..instructions.len()).map(InstrId::new).collect();
        instructions.push(Instruction {
            operands: (0..instr.operands.len()).map(InstrId::new).collect(),
            ..instr.clone()
        });
        if let Shape::Tuple(elements) = &instr.shape {
            let op = InstrId::new(instructions.len() - 1);
            for (index, shape) in elements.iter().enumerate() {
                instructions.push(Instruction {
                    name: format!("{}.{index}", instr.name),
                    op: Op::GetTupleElement { index },
                    operands: vec![op],
                    shape: Shape::Array(shape.clone()),
                });
            }
            let first = op.index() + 1;
            instructions.push(Instruction {
                name: format!("{}.outputs", instr.name),
                op: Op::Tuple,
                operands: (first..first + elements.len()).map(InstrId::new).collect(),
                shape: instr.shape.clone(),
            });
        }
        let body = Computation {
            name: instr.name.clone(),
            root: InstrId::new(instructions.len() - 1),
            instructions,
            parameters,
        };
        let regions = regions_of(module, &body);
        Kernel::new(&instr.name, &body, single_op_kind(&instr.op), regions)
    }

    /// For a column kernel whose outputs all reduce operands of one shape over
    /// the same leading dimensions, keeping the operands' innermost (last, in
    /// memory) dimension, into row-major outputs: that dimension's size, which
    /// threads split. Such kernels accumulate in one pass over their operands.
    pub fn column_split(&self) -> Option<usize> {
        let mut operand_dims = None;
        for &o in &self.outputs {
            let instr = self.body.instr(o);
            let Op::Reduce { dimensions, .. } = &instr.op else {
                return None;
            };
            let operand = self.body.instr(instr.operands[0]).array_shape();
            let last = operand.rank().checked_sub(1)?;
            let fits = operand.minor_to_major.first() == Some(&last)
                && !dimensions.contains(&last)
                && instr.array_shape().has_default_layout();
            let key = (operand.dims.clone(), dimensions.clone());
            if !fits || operand_dims.get_or_insert(key.clone()) != &key {
                return None;
            }
        }
        operand_dims.map(|(dims, _)| dims[dims.len() - 1])
    }

    pub fn input_shapes(&self) -> Vec<&ArrayShape> {
        self.body
            .parameters
            .iter()
            .map(|&p| self.body.instr(p).array_shape())
            .collect()
    }

    pub fn output_shapes(&self) -> Vec<&ArrayShape> {
        self.outputs
            .iter()
            .map(|&o| self.body.instr(o).array_shape())
            .collect()
    }

    /// Members of a row kernel computed once per row into memory (CPU scratch,
    /// GPU workgroup memory): dots that other
    /// members read, computed operands of dots (read once per output column), and
    /// expensive values read more than once.
    pub fn materialized(&self, outer: &[usize]) -> Vec<InstrId> {
        let body = &self.body;
        let is_view = |op: &Op| {
            matches!(
                op,
                Op::Parameter(_)
                    | Op::Constant(_)
                    | Op::Iota { .. }
                    | Op::Broadcast { .. }
                    | Op::Transpose { .. }
                    | Op::Reshape
                    | Op::Bitcast
                    | Op::Slice { .. }
            )
        };
        let live = body.live();
        // Each live value's readers, found in one pass (a reader appears once).
        let mut users: Vec<Vec<&Op>> = vec![Vec::new(); body.instructions.len()];
        for u in body.ids().filter(|u| live[u.index()]) {
            let mut operands = body.instr(u).operands.clone();
            operands.sort();
            operands.dedup();
            for o in operands {
                users[o.index()].push(&body.instr(u).op);
            }
        }
        body.ids()
            .filter(|&id| live[id.index()])
            .filter(|&id| {
                let shape = body.instr(id).shape.as_array();
                shape.is_some_and(|s| s.rank() > outer.len() && s.dims.starts_with(outer))
            })
            .filter(|&id| {
                let instr = body.instr(id);
                let users = &users[id.index()];
                let read_inside = users.iter().any(|op| !matches!(op, Op::Tuple));
                let expensive = match instr.op {
                    Op::Unary(u) => u.is_expensive(),
                    Op::Binary(b) => b.is_expensive(),
                    _ => false,
                };
                match instr.op {
                    Op::Dot(_) => read_inside,
                    // Read by a reduction and again after it (softmax's exp): computed
                    // once per element, not once per pass.
                    _ if expensive && users.len() > 1 => true,
                    _ => !is_view(&instr.op) && users.iter().any(|op| matches!(op, Op::Dot(_))),
                }
            })
            .collect()
    }

    /// The extent of the dimension that threads split: `[0, extent)` is the
    /// kernel's parallel range.
    pub fn parallel_extent(&self) -> usize {
        let first = self.body.instr(self.outputs[0]).array_shape();
        match &self.schedule {
            Schedule::Loop => physical_order(first).first().map_or(1, |&d| first.dims[d]),
            Schedule::Rows { outer, .. } => outer.first().copied().unwrap_or(1),
            Schedule::Columns => self.column_split().unwrap_or(1),
            Schedule::Gemm(_) | Schedule::Products(_) => 1,
            Schedule::Scatter { owned } => {
                scatter::split(owned, &first.dims).map_or(1, |o| first.dims[o.operand])
            }
            Schedule::Sort(sort) => sort.rows(&self.body),
        }
    }
}

/// The row schedule of a body: over the leading dimensions its reductions and
/// dots agree on, when every value computed from others the kernel computes is
/// computed row by row ([`row_by_row`]); else over no dimensions (one part,
/// each output written whole), which any body computes correctly.
fn rows(body: &Computation, outputs: &[InstrId]) -> Schedule {
    let outer = kernel_outer_dims(body);
    let product = row_product(body, outputs, &outer);
    let consumer = row_consumer(body, outputs, &outer);
    // What the emitter keeps for the row in scratch besides computed values.
    let kept: Vec<InstrId> = product
        .iter()
        .map(|p| p.dot)
        .chain(consumer.iter().map(|c| c.lhs))
        .collect();
    if row_by_row(body, &outer, &kept) {
        Schedule::Rows {
            outer,
            product,
            consumer,
        }
    } else {
        Schedule::Rows {
            outer: Vec::new(),
            product: None,
            consumer: None,
        }
    }
}

/// Whether a row kernel over `outer` computes `body` correctly: whatever it
/// keeps per row (pinned, in scratch) is read only at the row's own index.
/// That holds when every reader of a value computed in the kernel (or `kept`)
/// reads it row by row, as fusion's model (`fusion/model.rs`) allows: an
/// elementwise op, broadcast or reshape whose result is laid out in rows; a
/// reduction; a dot whose left operand has its rows first and whose right
/// operand is not computed. Inputs, constants and data movement of those alone
/// are read in place, at any index.
fn row_by_row(body: &Computation, outer: &[usize], kept: &[InstrId]) -> bool {
    if outer.is_empty() {
        return true;
    }
    let live = body.live();
    let mut computed = vec![false; body.instructions.len()];
    for id in body.ids() {
        let instr = body.instr(id);
        let from_computed = instr.operands.iter().any(|o| computed[o.index()]);
        computed[id.index()] = kept.contains(&id)
            || match instr.op {
                Op::Parameter(_) | Op::Constant(_) | Op::Tuple => false,
                Op::Broadcast { .. }
                | Op::Reshape
                | Op::Transpose { .. }
                | Op::Slice { .. }
                | Op::Bitcast
                | Op::Iota { .. } => from_computed,
                _ => true,
            };
    }
    let row_shaped = |id: InstrId| body.instr(id).array_shape().dims.starts_with(outer);
    body.ids().filter(|&id| live[id.index()]).all(|id| {
        let instr = body.instr(id);
        if matches!(instr.op, Op::Tuple) || !instr.operands.iter().any(|o| computed[o.index()]) {
            return true;
        }
        match &instr.op {
            Op::Reduce { .. } => true,
            Op::Dot(d) => {
                let (lhs, rhs) = (instr.operands[0], instr.operands[1]);
                let rank = body.instr(lhs).array_shape().rank();
                let nb = d.lhs_batch.len();
                let rows_first = d.lhs_batch.iter().copied().eq(0..nb)
                    && d.lhs_contracting
                        .iter()
                        .copied()
                        .eq(rank - d.lhs_contracting.len()..rank);
                !computed[rhs.index()] && (rows_first || !computed[lhs.index()])
            }
            Op::Broadcast { dimensions } => {
                let keeps_rows = dimensions
                    .iter()
                    .take(outer.len())
                    .copied()
                    .eq(0..outer.len());
                keeps_rows && row_shaped(id)
            }
            Op::Reshape => row_shaped(instr.operands[0]) && row_shaped(id),
            op if op.is_elementwise() => row_shaped(id),
            _ => false,
        }
    })
}

/// Checks that `body` computes arrays, as the emitters do: at least one, from
/// array parameters, with no tuple (but the root), `get-tuple-element`,
/// nested fusion or control flow.
fn arrays_only(body: &Computation) -> Result<(), String> {
    if body.root_instr().shape.arrays().is_empty() {
        return Err("the fused computation computes no array".into());
    }
    // Ops of several results, whose elements the emitters compute together.
    let multi_output = |id: InstrId| {
        matches!(
            body.instr(id).op,
            Op::ReduceTuple { .. } | Op::Sort { .. } | Op::TopK { .. }
        )
    };
    for id in body.ids() {
        let instr = body.instr(id);
        let refused = match instr.op {
            Op::Tuple => id != body.root,
            Op::GetTupleElement { .. } => !multi_output(instr.operands[0]),
            _ if matches!(instr.shape, Shape::Tuple(_)) => !multi_output(id),
            Op::Fusion { .. } | Op::While { .. } | Op::Conditional { .. } => true,
            Op::Parameter(_) => instr.shape.as_array().is_none(),
            _ => false,
        };
        if refused {
            return Err(format!(
                "{} ({} {}) is not compiled: the backends compile fused computations of arrays, a tuple only as the root",
                instr.name,
                instr.shape,
                instr.op.opcode()
            ));
        }
    }
    Ok(())
}

/// The operand dimensions threads can own in a scatter kernel; `None` for a
/// kernel without a scatter, an error for one whose scatter is not its only
/// output (its elements would be read before every update has landed).
fn scatter_owned(body: &Computation, outputs: &[InstrId]) -> Result<Option<Vec<Owned>>, String> {
    let live = body.live();
    let Some(id) = body
        .ids()
        .find(|id| live[id.index()] && matches!(body.instr(*id).op, Op::Scatter { .. }))
    else {
        return Ok(None);
    };
    let instr = body.instr(id);
    let Op::Scatter { dims, .. } = &instr.op else {
        unreachable!("found as a scatter")
    };
    if outputs != [id] {
        return Err(format!(
            "{} (scatter) must be its kernel's only output, and read by nothing in it",
            instr.name
        ));
    }
    // Its operands are computed element by element where they are read.
    let contraction = body.ids().find(|id| {
        live[id.index()] && matches!(body.instr(*id).op, Op::Dot(_) | Op::Reduce { .. })
    });
    if let Some(c) = contraction {
        return Err(format!(
            "{} ({}) cannot share a kernel with a scatter",
            body.instr(c).name,
            body.instr(c).op.opcode()
        ));
    }
    let shape = |i: usize| body.instr(instr.operands[i]).array_shape();
    Ok(Some(ScatterMap::new(dims, shape(0), shape(1)).owned()))
}

/// The regions that `body`'s ops apply, copied out of `module`.
pub fn regions_of(module: &Module, body: &Computation) -> Regions {
    body.instructions
        .iter()
        .filter_map(|i| i.op.region())
        .map(|id| (id, module.computation(id).clone()))
        .collect()
}

/// The GEMM schedule of a body with one `f32` dot of (transposed) inputs with at
/// most one batch, one free and one contracting dimension per side, whose single
/// row-major output is the dot or elementwise ops reading it at the same index.
fn gemm(name: &str, body: &Computation, outputs: &[InstrId]) -> Option<Gemm> {
    let live = body.live();
    let is_live = |id: &InstrId| live[id.index()];
    let dots: Vec<InstrId> = body
        .ids()
        .filter(is_live)
        .filter(|&id| matches!(body.instr(id).op, Op::Dot(_)))
        .collect();
    let reduces = body
        .ids()
        .filter(is_live)
        .any(|id| matches!(body.instr(id).op, Op::Reduce { .. }));
    let ([dot], [out], false) = (dots.as_slice(), outputs, reduces) else {
        return None;
    };
    let out_shape = body.instr(*out).array_shape();
    let fits = out_shape.same_logical(body.instr(*dot).array_shape())
        && out_shape.has_default_layout()
        && elementwise_readers(body, *dot);
    let mut gemm = product(body, *dot).filter(|_| fits)?;
    let epilogue = match *out != *dot {
        false => None,
        true => {
            let mut epilogue = body.clone();
            let parameter = epilogue.parameters.len();
            epilogue.instructions[dot.index()] = Instruction {
                name: "product".to_string(),
                op: Op::Parameter(parameter),
                operands: Vec::new(),
                shape: body.instr(*dot).shape.clone(),
            };
            epilogue.parameters.push(*dot);
            // An epilogue the backends cannot compile leaves the product to the rows.
            Some(Box::new(
                Kernel::new(name, &epilogue, FusionKind::Loop, Regions::new()).ok()?,
            ))
        }
    };
    gemm.epilogue = epilogue;
    Some(gemm)
}

/// Several outputs that are each a product of views of the inputs.
fn products(body: &Computation, outputs: &[InstrId]) -> Option<Vec<Gemm>> {
    outputs
        .iter()
        .map(|&o| product(body, o))
        .collect::<Option<Vec<Gemm>>>()
        .filter(|p| p.len() > 1)
}

/// `dot` as a product of strided views of the kernel's inputs (no epilogue):
/// an `f32` dot of (transposed, reshaped) inputs into a row-major result, with
/// one contracting dimension, any batch dimensions, and free dimensions that
/// merge into one per side.
fn product(body: &Computation, dot: InstrId) -> Option<Gemm> {
    let instr = body.instr(dot);
    let Op::Dot(d) = &instr.op else {
        return None;
    };
    let shape = instr.array_shape();
    let simple = shape.element == ElementType::F32
        && shape.has_default_layout()
        && d.lhs_contracting.len() == 1;
    let lhs = view(body, instr.operands[0])?;
    let rhs = view(body, instr.operands[1])?;
    let (ls, rs) = (
        body.instr(instr.operands[0]).array_shape(),
        body.instr(instr.operands[1]).array_shape(),
    );
    let free = |rank: usize, batch: &[usize], contracting: &[usize]| -> Vec<usize> {
        (0..rank)
            .filter(|i| !batch.contains(i) && !contracting.contains(i))
            .collect()
    };
    let (lf, rf) = (
        free(ls.rank(), &d.lhs_batch, &d.lhs_contracting),
        free(rs.rank(), &d.rhs_batch, &d.rhs_contracting),
    );
    // Several free dimensions on a side merge into one when they are laid out
    // as one (`x @ w` with `x` of rank 3): `(extent, stride)`.
    let merged = |free: &[usize], dims: &[usize], strides: &[usize]| -> Option<(usize, usize)> {
        let contiguous = free
            .windows(2)
            .all(|w| strides[w[0]] == strides[w[1]] * dims[w[1]]);
        let extent = free.iter().map(|&f| dims[f]).product();
        contiguous.then(|| (extent, free.last().map_or(0, |&f| strides[f])))
    };
    let (m, row_stride) = merged(&lf, &ls.dims, &lhs.1)?;
    let (n, col_stride) = merged(&rf, &rs.dims, &rhs.1)?;
    if !simple {
        return None;
    }
    Some(Gemm {
        batch: d.lhs_batch.iter().map(|&b| ls.dims[b]).product(),
        m,
        n,
        k: ls.dims[d.lhs_contracting[0]],
        lhs: MatrixView {
            input: lhs.0,
            batch: d
                .lhs_batch
                .iter()
                .map(|&b| (ls.dims[b], lhs.1[b]))
                .collect(),
            row_stride,
            col_stride: lhs.1[d.lhs_contracting[0]],
        },
        rhs: MatrixView {
            input: rhs.0,
            batch: d
                .rhs_batch
                .iter()
                .map(|&b| (rs.dims[b], rhs.1[b]))
                .collect(),
            row_stride: rhs.1[d.rhs_contracting[0]],
            col_stride,
        },
        epilogue: None,
    })
}

/// In a row kernel over `[batches.., row]`, a batched product that other
/// members read across its rows (attention's scores): the GEMM computes it for
/// each index of the first dimension into scratch before those rows run.
fn row_product(body: &Computation, outputs: &[InstrId], outer: &[usize]) -> Option<RowProduct> {
    let live = body.live();
    let (rows, batches) = outer.split_last().filter(|(_, b)| !b.is_empty())?;
    body.ids()
        .filter(|&id| live[id.index()] && !outputs.contains(&id))
        .filter(|&id| matches!(body.instr(id).op, Op::Dot(_)))
        .find_map(|dot| {
            let gemm = product(body, dot)?;
            let dims = &body.instr(dot).array_shape().dims;
            let fits = dims.starts_with(batches)
                && dims.len() == outer.len() + 1
                && gemm.batch == batches.iter().product::<usize>()
                && gemm.m == *rows;
            fits.then_some(RowProduct { dot, gemm })
        })
}

/// See [`RowConsumer`]: the single output is a batched dot of a value computed
/// row by row (`[batch, row, k]`, contracted last) and a (transposed) input.
fn row_consumer(body: &Computation, outputs: &[InstrId], outer: &[usize]) -> Option<RowConsumer> {
    let [dot] = outputs else {
        return None;
    };
    let (rows, batches) = outer.split_last().filter(|(_, b)| !b.is_empty())?;
    let nb = batches.len();
    let instr = body.instr(*dot);
    let Op::Dot(d) = &instr.op else {
        return None;
    };
    let (lhs, rhs) = (instr.operands[0], instr.operands[1]);
    let (ls, rs) = (body.instr(lhs).array_shape(), body.instr(rhs).array_shape());
    let shape = instr.array_shape();
    let rhs_view = view(body, rhs)?;
    let rhs_free: Vec<usize> = (0..rs.rank())
        .filter(|i| !d.rhs_batch.contains(i) && !d.rhs_contracting.contains(i))
        .collect();
    let fits = shape.element == ElementType::F32
        && shape.has_default_layout()
        && view(body, lhs).is_none()
        && ls.rank() == nb + 2
        && ls.dims[..=nb] == *outer
        && d.lhs_batch.iter().copied().eq(0..nb)
        && d.lhs_contracting == [nb + 1]
        && d.rhs_batch.len() == nb
        && d.rhs_contracting.len() == 1
        && rhs_free.len() == 1;
    fits.then(|| RowConsumer {
        dot: *dot,
        lhs,
        rhs: MatrixView {
            input: rhs_view.0,
            batch: d
                .rhs_batch
                .iter()
                .map(|&b| (rs.dims[b], rhs_view.1[b]))
                .collect(),
            row_stride: rhs_view.1[d.rhs_contracting[0]],
            col_stride: rhs_view.1[rhs_free[0]],
        },
        batch: batches.iter().product(),
        m: *rows,
        n: rs.dims[rhs_free[0]],
        k: ls.dims[nb + 1],
    })
}

/// A kernel input read through transposes and reshapes: its index and, per
/// logical dimension of `id`, the stride in the input's memory.
fn view(body: &Computation, id: InstrId) -> Option<(usize, Vec<usize>)> {
    let instr = body.instr(id);
    match &instr.op {
        Op::Parameter(i) => Some((*i, strides(instr.array_shape()))),
        Op::Transpose { permutation } => {
            let (input, inner) = view(body, instr.operands[0])?;
            Some((input, permutation.iter().map(|&p| inner[p]).collect()))
        }
        Op::Reshape => {
            let (input, inner) = view(body, instr.operands[0])?;
            let from = &body.instr(instr.operands[0]).array_shape().dims;
            let strides = reshape_strides(from, &inner, &instr.array_shape().dims)?;
            Some((input, strides))
        }
        _ => None,
    }
}

/// The strides of a reshape of a strided array, when it needs no copy (as NumPy
/// decides): each group of dimensions whose sizes multiply to the same number on
/// both sides must be contiguous within itself on the input side.
fn reshape_strides(from: &[usize], strides: &[usize], to: &[usize]) -> Option<Vec<usize>> {
    // Size-1 dimensions carry no stride: drop them, and give any stride back.
    let kept: Vec<(usize, usize)> = from
        .iter()
        .zip(strides)
        .filter(|&(&d, _)| d != 1)
        .map(|(&d, &s)| (d, s))
        .collect();
    let mut out = vec![0; to.len()];
    let (mut i, mut j) = (0, 0);
    while j < to.len() {
        if to[j] == 1 {
            j += 1;
            continue;
        }
        // One group: input dimensions [i, i2) and output dimensions [j, j2).
        let (mut i2, mut j2) = (i + 1, j + 1);
        let (mut a, mut b) = (kept.get(i)?.0, to[j]);
        while a != b {
            if a < b {
                a *= kept.get(i2)?.0;
                i2 += 1;
            } else {
                b *= *to.get(j2)?;
                j2 += 1;
            }
        }
        if (i..i2 - 1).any(|k| kept[k].1 != kept[k + 1].1 * kept[k + 1].0) {
            return None;
        }
        let mut stride = kept[i2 - 1].1;
        for k in (j..j2).rev() {
            out[k] = stride;
            stride *= to[k];
        }
        i = i2;
        j = j2;
    }
    (i == kept.len()).then_some(out)
}

/// Whether every reader of `dot` is an elementwise op of its shape, so the
/// epilogue reads each product element at its own index only.
pub(crate) fn elementwise_readers(body: &Computation, dot: InstrId) -> bool {
    let live = body.live();
    body.ids().filter(|id| live[id.index()]).all(|id| {
        let instr = body.instr(id);
        !instr.operands.contains(&dot)
            || instr.op.is_elementwise()
                && instr.array_shape().dims == body.instr(dot).array_shape().dims
    })
}

/// Dimensions from the most major to the most minor in memory.
pub fn physical_order(shape: &ArrayShape) -> Vec<usize> {
    shape.minor_to_major.iter().rev().copied().collect()
}

/// Each dimension's stride in elements under the shape's layout.
pub fn strides(shape: &ArrayShape) -> Vec<usize> {
    let mut strides = vec![0; shape.rank()];
    let mut step = 1;
    for &d in &shape.minor_to_major {
        strides[d] = step;
        step *= shape.dims[d];
    }
    strides
}

#[cfg(test)]
mod tests {
    use omelet_compiler::hlo::Op;
    use omelet_compiler::import::parse_module;

    use super::{Kernel, Region, Schedule, reshape_strides};

    #[test]
    fn attention_scratch_holds_the_scores_the_probabilities_and_a_row_of_exp() {
        let module = parse_module(include_str!("../../tests/golden/suite/attention.hlo")).unwrap();
        let Op::Fusion { kind, computation } = module.entry().root_instr().op else {
            panic!("attention is one fusion")
        };
        let kernel = Kernel::new(
            "fusion.1",
            module.computation(computation),
            kind,
            Default::default(),
        )
        .unwrap();
        assert!(matches!(
            kernel.schedule,
            Schedule::Rows {
                product: Some(_),
                consumer: Some(_),
                ..
            }
        ));
        let block = 512 * 512 * 4;
        let layout = &kernel.scratch;
        assert_eq!(
            layout.product,
            Some(Region {
                offset: 0,
                bytes: block
            })
        );
        assert_eq!(
            layout.consumer,
            Some(Region {
                offset: block,
                bytes: block
            })
        );
        // The scores and probabilities live in their blocks only; exp's row
        // (read by the sum and the division) follows.
        let rows: Vec<(&str, Region)> = layout
            .rows
            .iter()
            .map(|&(m, r)| (kernel.body.instr(m).name.as_str(), r))
            .collect();
        assert_eq!(
            rows,
            [(
                "exponential.12",
                Region {
                    offset: 2 * block,
                    bytes: 512 * 4
                }
            )]
        );
        assert_eq!(layout.bytes, 2 * block + 512 * 4);
    }

    #[test]
    fn reshapes_of_strided_arrays_need_no_copy_only_when_numpy_says_so() {
        // Splitting and merging a row-major array's dimensions.
        assert_eq!(
            reshape_strides(&[6, 4], &[4, 1], &[2, 3, 4]),
            Some(vec![12, 4, 1])
        );
        assert_eq!(
            reshape_strides(&[2, 3, 4], &[12, 4, 1], &[6, 4]),
            Some(vec![4, 1])
        );
        // Size-1 dimensions come and go.
        assert_eq!(reshape_strides(&[1, 8], &[8, 1], &[8, 1]), Some(vec![1, 0]));
        // A transposed [4, 6] (strides [1, 4]) splits its leading dimension...
        assert_eq!(
            reshape_strides(&[4, 6], &[1, 4], &[2, 2, 6]),
            Some(vec![2, 1, 4])
        );
        // ...but cannot merge its two dimensions without a copy.
        assert_eq!(reshape_strides(&[4, 6], &[1, 4], &[24]), None);
        // Regrouping a contiguous array is free; a transposed one is not.
        assert_eq!(reshape_strides(&[4, 6], &[6, 1], &[3, 8]), Some(vec![8, 1]));
        assert_eq!(reshape_strides(&[4, 6], &[1, 4], &[3, 8]), None);
    }
}
