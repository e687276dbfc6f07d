//! The Cranelift emitter: one function per kernel, generating each output element
//! from the body's elemental definitions (XLA's elemental IR emitter, in
//! Cranelift).
//!
//! A value's element at an [`Idx`] is generated on demand: views turn into index
//! arithmetic, parameters into loads through their layout, elementwise ops into
//! instructions on the operands' elements. The innermost physical dimension of
//! each loop nest runs four lanes at a time (`f32x4`), then a scalar tail. Within
//! one element, each (value, index) is generated once.
//!
//! The generated function has the signature
//! `extern "C" fn(args: *const *mut u8, begin: i64, end: i64, scratch: *mut u8)`:
//! `args` holds the kernel's inputs then its outputs, `[begin, end)` is the part of
//! the parallel dimension to compute, and `scratch` holds the materialized rows
//! (see [`Schedule::Rows`]) of one thread, laid out by [`Kernel::scratch`].
//! A sort kernel's function is its comparator, called with the same signature
//! (`sort.rs`).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    BlockArg, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value, types,
};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::FunctionBuilder;
use omelet_compiler::hlo::{
    ArrayShape, BinaryOp, ElementType, InstrId, Kind, Literal, Op, ReduceOp,
};
use rustc_hash::FxHashMap;

mod contract;
mod elements;
mod loops;
mod memory;
mod region;
mod scatter;
mod schedule;
mod sort;
mod window;

use super::lower::{self, Helpers};
use crate::elemental::{self, DotMap, IndexArith, Side, Source};
use crate::kernel::{Kernel, RowConsumer, RowProduct, Schedule, physical_order, strides};

/// A logical index into a value, for `lanes` consecutive elements along `lane`
/// (when `lane` is `None`, every lane reads the same element).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Idx {
    coords: Vec<Value>,
    lane: Option<usize>,
    lanes: u32,
}

impl Idx {
    fn scalar(coords: Vec<Value>) -> Idx {
        Idx {
            coords,
            lane: None,
            lanes: 1,
        }
    }

    /// The operand index of a broadcast's elements at this index.
    fn through_broadcast(&self, dimensions: &[usize]) -> Idx {
        Idx {
            coords: elemental::broadcast_operand(dimensions, &self.coords),
            lane: self
                .lane
                .and_then(|l| dimensions.iter().position(|&d| d == l)),
            lanes: self.lanes,
        }
    }
}

/// A loop body carrying values: (counter, carried) → next carried.
type Carried<'a, E> = dyn FnMut(&mut E, Value, &[Value]) -> Vec<Value> + 'a;
/// A loop body over several counters carrying accumulators.
type Accumulating<'a, E> = dyn FnMut(&mut E, Vec<Value>, Vec<Value>) -> Vec<Value> + 'a;
/// The operand pairs of multiply-adds at the given contraction counters.
type Operands<'a, E> = dyn FnMut(&mut E, Vec<Value>) -> Vec<(Value, Value)> + 'a;

/// The part `[begin, end)` of dimension `dim` that one thread computes.
#[derive(Clone, Copy, Debug)]
struct Range {
    dim: usize,
    begin: Value,
    end: Value,
}

/// Independent vector accumulators of a reduction or a contraction loop: enough
/// to cover the latency of `addps`/`vfmadd` (4 cycles) at one per cycle.
const UNROLL: usize = 4;

/// Vector accumulators a dot row keeps in registers (x64 has 16 in all).
const DOT_ROW_VECTORS: usize = 8;

/// The longest dot row computed in register-blocked groups (code grows with it).
const DOT_ROW_MAX: usize = 256;

/// Rows of a matrix a column reduction combines in registers per update of its
/// accumulators.
const COLUMN_ROWS: usize = 4;

/// The side of the square tiles a transposing loop kernel walks.
const TILE: i64 = 16;

/// The widest vector the emitter uses: 128 bits of 32-bit elements.
pub const LANES: u32 = 4;

pub struct Emitter<'k, 'f> {
    pub b: FunctionBuilder<'f>,
    kernel: &'k Kernel,
    /// Each input's base address, then each output's.
    bases: Vec<Value>,
    scratch: Value,
    /// Byte offsets in scratch of the values materialized one row at a time.
    rows: FxHashMap<InstrId, (usize, Vec<usize>)>,
    /// Values computed once per row (at `row_coords`), pinned by [`Self::pin`].
    cached: FxHashMap<InstrId, Value>,
    /// Reciprocals of the cached values that divide others.
    reciprocals: FxHashMap<InstrId, Value>,
    row_coords: Vec<Value>,
    memo: FxHashMap<(InstrId, Idx), Value>,
    helpers: Helpers<'k>,
    /// Array constants, embedded by address; the compiled kernel keeps them alive.
    constants: &'k [(InstrId, Box<[u8]>)],
    target: TargetFrontendConfig,
    /// The row kernel's product computed by the GEMM, if any.
    product: Option<RowProduct>,
    /// The row kernel's output dot the GEMM computes from scratch, if any.
    consumer: Option<RowConsumer>,
    /// The vector width: `LANES` when every value of the kernel has a 4-lane
    /// register form (`f32`, `s32`, `pred`), else 1.
    lanes: u32,
}

impl<'k, 'f> Emitter<'k, 'f> {
    pub fn new(
        mut b: FunctionBuilder<'f>,
        kernel: &'k Kernel,
        helpers: Helpers<'k>,
        constants: &'k [(InstrId, Box<[u8]>)],
        target: TargetFrontendConfig,
    ) -> Emitter<'k, 'f> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let count = kernel.body.parameters.len() + kernel.outputs.len();
        let bases = (0..count)
            .map(|i| {
                b.ins().load(
                    types::I64,
                    MemFlagsData::trusted(),
                    params[0],
                    (i * 8) as i32,
                )
            })
            .collect();
        Emitter {
            b,
            kernel,
            bases,
            scratch: params[3],
            rows: FxHashMap::default(),
            cached: FxHashMap::default(),
            reciprocals: FxHashMap::default(),
            row_coords: Vec::new(),
            memo: FxHashMap::default(),
            helpers,
            constants,
            target,
            product: None,
            consumer: None,
            lanes: vector_width(kernel),
        }
    }

    /// Emits the whole function body and finalizes it.
    pub fn emit(mut self) {
        let entry = self.b.current_block().expect("the entry block");
        let params = self.b.block_params(entry).to_vec();
        let (begin, end) = (params[1], params[2]);
        match &self.kernel.schedule {
            Schedule::Loop => {
                let shape = self.shape(self.kernel.outputs[0]).clone();
                let outputs: Vec<usize> = (0..self.kernel.outputs.len()).collect();
                let order = physical_order(&shape);
                let range = order.first().map(|&dim| Range { dim, begin, end });
                let body = &mut |e: &mut Self, idx| e.store_outputs(&outputs, &idx);
                if reads_transposed(self.kernel) && order.len() >= 2 {
                    self.tiled_nest(&shape, &order, range, body);
                } else {
                    self.nest(&shape, &order, range, &[], body);
                }
            }
            Schedule::Rows {
                outer,
                product,
                consumer,
            } => {
                self.product = product.clone();
                self.consumer = consumer.clone();
                self.rows(outer, begin, end)
            }
            Schedule::Gemm(_) | Schedule::Products(_) => {
                unreachable!("the GEMM driver runs products; only epilogues are emitted")
            }
            Schedule::Columns => self.columns(begin, end),
            Schedule::Scatter { owned } => self.scatter(owned, begin, end),
            Schedule::Sort(_) => self.comparator(),
        }
        self.b.ins().return_(&[]);
        self.b.seal_all_blocks();
        self.b.finalize(self.target);
    }

    fn shape(&self, id: InstrId) -> &'k ArrayShape {
        self.kernel.body.instr(id).array_shape()
    }

    fn element(&self, id: InstrId) -> ElementType {
        self.shape(id).element
    }

    fn iconst(&mut self, v: usize) -> Value {
        self.b.ins().iconst(types::I64, v as i64)
    }
}

/// `LANES` when every value the kernel computes or reads, and every value of
/// the regions it inlines, vectorizes, else 1: the other types are computed
/// one element at a time.
fn vector_width(kernel: &Kernel) -> u32 {
    let all = std::iter::once(&kernel.body)
        .chain(kernel.regions.values())
        .flat_map(|comp| &comp.instructions)
        .all(|instr| {
            instr
                .shape
                .arrays()
                .iter()
                .all(|a| lower::vectorizes(a.element))
        });
    if all { LANES } else { 1 }
}

/// Whether a kernel reads some value across its memory order (a transpose that
/// moves the innermost dimension, or a bitcast), which tiling helps.
fn reads_transposed(kernel: &Kernel) -> bool {
    let live = kernel.body.live();
    kernel
        .body
        .ids()
        .filter(|id| live[id.index()])
        .any(|id| match &kernel.body.instr(id).op {
            Op::Transpose { permutation } => permutation.last() != Some(&(permutation.len() - 1)),
            Op::Bitcast => true,
            _ => false,
        })
}

/// Strides of a value kept in scratch for one index of its first dimension:
/// row-major over the rest, the first not varying.
fn block_strides(dims: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; dims.len()];
    let mut step = 1;
    for d in (1..dims.len()).rev() {
        strides[d] = step;
        step *= dims[d];
    }
    strides
}

/// Strides of a value's row in scratch: row-major over the dimensions after
/// `outer`, which the row does not vary.
fn scratch_strides(shape: &ArrayShape, outer: usize) -> Vec<usize> {
    let row = ArrayShape::new(shape.element, shape.dims[outer..].to_vec());
    std::iter::repeat_n(0, outer).chain(strides(&row)).collect()
}
