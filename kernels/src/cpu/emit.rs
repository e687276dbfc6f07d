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
//! (see [`Schedule::Rows`]) of one thread.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    BlockArg, FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value, types,
};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::FunctionBuilder;
use omelet_compiler::hlo::{ArrayShape, BinaryOp, ElementType, InstrId, Literal, Op, ReduceOp};
use rustc_hash::FxHashMap;

use super::lower::{self, Helper};
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
    helpers: FxHashMap<Helper, FuncRef>,
    /// Array constants, embedded by address; the compiled kernel keeps them alive.
    constants: &'k [(InstrId, Box<[u8]>)],
    target: TargetFrontendConfig,
    /// The row kernel's product computed by the GEMM, if any.
    product: Option<RowProduct>,
    /// The row kernel's output dot the GEMM computes from scratch, if any.
    consumer: Option<RowConsumer>,
}

impl<'k, 'f> Emitter<'k, 'f> {
    pub fn new(
        mut b: FunctionBuilder<'f>,
        kernel: &'k Kernel,
        helpers: FxHashMap<Helper, FuncRef>,
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
            Schedule::Gemm(_) => {
                unreachable!("the GEMM driver runs products; only epilogues are emitted")
            }
            Schedule::Columns => self.columns(begin, end),
        }
        self.b.ins().return_(&[]);
        self.b.seal_all_blocks();
        self.b.finalize(self.target);
    }

    /// Bytes of scratch one thread needs: one row of each materialized value.
    pub fn scratch_bytes(kernel: &Kernel) -> usize {
        match &kernel.schedule {
            Schedule::Rows {
                outer,
                product,
                consumer,
            } => {
                let rows: usize = materialized(kernel, outer)
                    .iter()
                    .map(|&m| row_elements(kernel.body.instr(m).array_shape(), outer.len()) * 4)
                    .sum();
                rows + product.as_ref().map_or(0, |p| p.gemm.m * p.gemm.n * 4)
                    + consumer.as_ref().map_or(0, |c| c.m * c.k * 4)
            }
            _ => 0,
        }
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

    // ---- schedules ------------------------------------------------------------

    fn rows(&mut self, outer_dims: &[usize], begin: Value, end: Value) {
        let outer = outer_dims.len();
        let order: Vec<usize> = (0..outer).collect();
        let range = (outer > 0).then_some(Range { dim: 0, begin, end });
        let product_dot = self.product.as_ref().map(|p| p.dot);
        let mut steps: Vec<InstrId> = materialized(self.kernel, outer_dims)
            .into_iter()
            .filter(|&m| Some(m) != product_dot)
            .collect();
        if let Some(c) = self.consumer.as_ref().filter(|c| !steps.contains(&c.lhs)) {
            steps.push(c.lhs);
        }
        // Scratch: the product, then the consumer's operand for a whole batch,
        // then one row of each other materialized value.
        let mut offset = self.product.as_ref().map_or(0, |p| p.gemm.m * p.gemm.n * 4);
        if let Some(c) = &self.consumer {
            self.rows.insert(c.lhs, (offset, vec![0, c.k, 1]));
            offset += c.m * c.k * 4;
        }
        for &m in &steps {
            if !self.rows.contains_key(&m) {
                let strides = scratch_strides(self.shape(m), outer);
                self.rows.insert(m, (offset, strides));
                offset += row_elements(self.shape(m), outer) * 4;
            }
        }
        // Values with one element per row (reductions and what is computed from
        // them): each is computed once per row.
        let body = &self.kernel.body;
        let live = body.live();
        let per_row: Vec<InstrId> = body
            .ids()
            .filter(|&id| live[id.index()])
            .filter(|&id| !matches!(body.instr(id).op, Op::Constant(_) | Op::Parameter(_)))
            .filter(|&id| {
                body.instr(id)
                    .shape
                    .as_array()
                    .is_some_and(|s| s.dims == outer_dims)
            })
            .collect();
        // Per-row f32 values that divide others (softmax's sum).
        let divisors: Vec<InstrId> = body
            .ids()
            .filter(|&id| {
                live[id.index()] && matches!(body.instr(id).op, Op::Binary(BinaryOp::Divide))
            })
            .map(|id| {
                let mut d = body.instr(id).operands[1];
                while let Op::Broadcast { .. } = body.instr(d).op {
                    d = body.instr(d).operands[0];
                }
                d
            })
            .filter(|d| {
                per_row.contains(d) && body.instr(*d).array_shape().element == ElementType::F32
            })
            .collect();
        let (by_row, whole): (Vec<usize>, Vec<usize>) =
            (0..self.kernel.outputs.len()).partition(|&o| {
                self.shape(self.kernel.outputs[o])
                    .dims
                    .starts_with(outer_dims)
            });
        self.loops(
            outer_dims,
            &order,
            range,
            Vec::new(),
            &mut |e, outer_coords| {
                e.cached.clear();
                e.reciprocals.clear();
                e.row_coords = outer_coords.clone();
                // Per-row values and materialized rows, in dataflow order.
                for id in e.kernel.body.ids() {
                    if per_row.contains(&id) {
                        let v = e.element_at(id, &Idx::scalar(outer_coords.clone()));
                        let v = e.pin(v);
                        e.cached.insert(id, v);
                        if divisors.contains(&id) {
                            let one = e.b.ins().f32const(1.0);
                            let r = e.b.ins().fdiv(one, v);
                            let r = e.pin(r);
                            e.reciprocals.insert(id, r);
                        }
                    } else if steps.contains(&id) {
                        e.materialize(id, outer, &outer_coords);
                    }
                }
                for &o in &by_row {
                    if e.consumer
                        .as_ref()
                        .is_some_and(|c| c.dot == e.kernel.outputs[o])
                    {
                        continue;
                    }
                    if e.dot_row(o, outer, &outer_coords) {
                        continue;
                    }
                    let shape = e.shape(e.kernel.outputs[o]).clone();
                    let order: Vec<usize> = physical_order(&shape)
                        .into_iter()
                        .filter(|&d| d >= outer)
                        .collect();
                    e.nest(&shape, &order, None, &outer_coords, &mut |e, idx| {
                        e.store_outputs(&[o], &idx)
                    });
                }
            },
        );
        if whole.is_empty() {
            return;
        }
        // Outputs that do not iterate the rows (views of inputs fusion kept with
        // their siblings) are written once, by the part that starts at zero.
        let first_part = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(begin, done, &[], first_part, &[]);
        self.b.switch_to_block(first_part);
        self.b.seal_block(first_part);
        for o in whole {
            let shape = self.shape(self.kernel.outputs[o]).clone();
            self.nest(&shape, &physical_order(&shape), None, &[], &mut |e, idx| {
                e.store_outputs(&[o], &idx)
            });
        }
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// Reductions over leading dimensions. When they all reduce operands of one
    /// shape whose innermost dimension they keep ([`Kernel::column_split`]), one
    /// pass over the operands accumulates into the outputs (which stay in cache),
    /// threads splitting the kept dimension; otherwise each output element is
    /// its own reduction loop.
    fn columns(&mut self, begin: Value, end: Value) {
        let kernel = self.kernel;
        if kernel.column_split().is_none() {
            for o in 0..kernel.outputs.len() {
                let shape = self.shape(kernel.outputs[o]).clone();
                self.nest(&shape, &physical_order(&shape), None, &[], &mut |e, idx| {
                    e.store_outputs(&[o], &idx)
                });
            }
            return;
        }
        let first = self.shape(kernel.outputs[0]).clone();
        let out_range = Some(Range {
            dim: first.rank() - 1,
            begin,
            end,
        });
        let reduces: Vec<(InstrId, ReduceOp, InstrId, InstrId)> = kernel
            .outputs
            .iter()
            .map(|&o| {
                let instr = kernel.body.instr(o);
                let Op::Reduce { reducer, .. } = instr.op else {
                    unreachable!("column_split admits reductions only")
                };
                (o, reducer, instr.operands[0], instr.operands[1])
            })
            .collect();
        let Op::Reduce { dimensions, .. } = &kernel.body.instr(kernel.outputs[0]).op else {
            unreachable!("column_split admits reductions only")
        };
        let operand = self.shape(reduces[0].2).clone();
        let kept: Vec<usize> = (0..operand.rank())
            .filter(|d| !dimensions.contains(d))
            .collect();
        let out_order = physical_order(&first);
        let n_in = kernel.body.parameters.len();
        // Start every accumulator at the reduction's identity.
        for (o, &(id, reducer, _, _)) in reduces.iter().enumerate() {
            let element = self.element(id);
            self.nest(&first, &out_order, out_range, &[], &mut |e, idx| {
                let v = lower::constant(
                    &mut e.b,
                    element,
                    idx.lanes,
                    lower::identity(reducer, element),
                );
                let base = e.bases[n_in + o];
                e.write(base, element, &strides(&first), &idx, v);
            });
        }
        // One pass over the operands, in their physical order. A matrix reduced
        // over its rows combines `COLUMN_ROWS` rows in registers before each
        // update of the accumulators.
        let range = Range {
            dim: operand.rank() - 1,
            begin,
            end,
        };
        let update = |e: &mut Self, idx: &Idx, rows: usize| {
            let out_idx = Idx {
                coords: kept.iter().map(|&d| idx.coords[d]).collect(),
                lane: idx.lane.map(|_| kept.len() - 1),
                lanes: idx.lanes,
            };
            for (o, &(id, reducer, input, _)) in reduces.iter().enumerate() {
                let element = e.element(id);
                let mut xs: Vec<Value> = (0..rows)
                    .map(|r| {
                        let mut at = idx.clone();
                        at.coords[0] = e.b.ins().iadd_imm_s(idx.coords[0], r as i64);
                        e.element_at(input, &at)
                    })
                    .collect();
                while xs.len() > 1 {
                    xs = xs
                        .chunks(2)
                        .map(|p| match p {
                            [a, b] => lower::combine(&mut e.b, reducer, element, *a, *b),
                            [a] => *a,
                            _ => unreachable!("chunks of two"),
                        })
                        .collect();
                }
                let base = e.bases[n_in + o];
                let acc = e.read(base, element, &strides(&first), &out_idx);
                let v = lower::combine(&mut e.b, reducer, element, acc, xs[0]);
                e.write(base, element, &strides(&first), &out_idx, v);
            }
        };
        let matrix = operand.rank() == 2 && dimensions == &[0] && operand.has_default_layout();
        if matrix {
            let zero = self.iconst(0);
            let rows = self.iconst(operand.dims[0]);
            let dims = operand.dims.clone();
            let next = self.for_loop(zero, rows, COLUMN_ROWS as i64, &mut |e, i| {
                e.nest_one(&dims, 1, range, vec![i, begin], &mut |e, idx| {
                    update(e, &idx, COLUMN_ROWS)
                });
            });
            self.for_loop(next, rows, 1, &mut |e, i| {
                e.nest_one(&dims, 1, range, vec![i, begin], &mut |e, idx| {
                    update(e, &idx, 1)
                });
            });
        } else {
            self.nest(
                &operand,
                &physical_order(&operand),
                Some(range),
                &[],
                &mut |e, idx| update(e, &idx, 1),
            );
        }
        // Then fold in each reduction's init value.
        for (o, &(id, reducer, _, init)) in reduces.iter().enumerate() {
            let element = self.element(id);
            self.nest(&first, &out_order, out_range, &[], &mut |e, idx| {
                let base = e.bases[n_in + o];
                let acc = e.read(base, element, &strides(&first), &idx);
                let start = e.element_at(
                    init,
                    &Idx {
                        coords: Vec::new(),
                        lane: None,
                        lanes: idx.lanes,
                    },
                );
                let v = lower::combine(&mut e.b, reducer, element, start, acc);
                e.write(base, element, &strides(&first), &idx, v);
            });
        }
    }

    /// Writes output `o`'s row when it is a short row of a dot (at most
    /// `DOT_ROW_MAX` elements): `DOT_ROW_VECTORS` vectors of it at a time
    /// accumulate in one pass over the contraction. Returns whether it did.
    fn dot_row(&mut self, o: usize, outer: usize, outer_coords: &[Value]) -> bool {
        let id = self.kernel.outputs[o];
        let shape = self.shape(id).clone();
        let row = shape.dims[outer..].iter().product::<usize>();
        let fits = matches!(self.kernel.body.instr(id).op, Op::Dot(_))
            && shape.rank() == outer + 1
            && shape.has_default_layout()
            && row % LANES as usize == 0
            && row <= DOT_ROW_MAX;
        if !fits {
            return false;
        }
        let idxs: Vec<Idx> = (0..row / LANES as usize)
            .map(|c| {
                let mut coords = outer_coords.to_vec();
                coords.push(self.iconst(c * LANES as usize));
                Idx {
                    coords,
                    lane: Some(outer),
                    lanes: LANES,
                }
            })
            .collect();
        let base = self.bases[self.kernel.body.parameters.len() + o];
        for group in idxs.chunks(DOT_ROW_VECTORS) {
            let values = self.dots(id, group);
            for (idx, v) in group.iter().zip(values) {
                self.write(base, shape.element, &strides(&shape), idx, v);
            }
        }
        true
    }

    /// Passes `v` through a stack slot, so that the code using it sees a value
    /// loaded here. Cranelift's mid-end places pure instructions where they are
    /// used (and does not hoist them back out of our loops), so a row's values
    /// would otherwise be recomputed in the loops over that row.
    fn pin(&mut self, v: Value) -> Value {
        let ty = self.b.func.dfg.value_type(v);
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            ty.bytes(),
            ty.bytes().trailing_zeros() as u8,
        ));
        let addr = self.b.ins().stack_addr(types::I64, slot, 0);
        let flags = MemFlagsData::new().with_notrap();
        self.b.ins().store(flags, v, addr, 0);
        self.memo.clear();
        self.b.ins().load(ty, flags, addr, 0)
    }

    /// Computes one row of `id` into its scratch slot.
    fn materialize(&mut self, id: InstrId, outer: usize, outer_coords: &[Value]) {
        let shape = self.shape(id).clone();
        let order: Vec<usize> = (outer..shape.rank()).collect();
        let (offset, strides) = self.rows[&id].clone();
        // Generate the value itself here, not its scratch copy.
        let row = self.rows.remove(&id);
        self.nest(&shape, &order, None, outer_coords, &mut |e, idx| {
            let v = e.element_at(id, &idx);
            let base = e.b.ins().iadd_imm_s(e.scratch, offset as i64);
            e.write_register(base, &strides, &idx, v);
        });
        self.rows
            .insert(id, row.expect("materialized values have a slot"));
    }

    fn store_outputs(&mut self, outputs: &[usize], idx: &Idx) {
        for &o in outputs {
            let id = self.kernel.outputs[o];
            let v = self.element_at(id, idx);
            let shape = self.shape(id);
            let base = self.bases[self.kernel.body.parameters.len() + o];
            self.write(base, shape.element, &strides(shape), idx, v);
        }
    }

    /// Loops over the dimensions `order` of `shape` (major to minor), the
    /// dimensions `0..prefix.len()` fixed at `prefix`. The innermost dimension runs
    /// `LANES` at a time and then one at a time; `range` bounds one dimension.
    fn nest(
        &mut self,
        shape: &ArrayShape,
        order: &[usize],
        range: Option<Range>,
        prefix: &[Value],
        body: &mut dyn FnMut(&mut Self, Idx),
    ) {
        let Some((&inner, outer_dims)) = order.split_last() else {
            body(self, Idx::scalar(prefix.to_vec()));
            return;
        };
        let dims = shape.dims.clone();
        let outer_dims = outer_dims.to_vec();
        self.loops(&dims, &outer_dims, range, Vec::new(), &mut |e, counters| {
            let (begin, end) = e.bounds(range, inner, dims[inner]);
            let mut coords = prefix.to_vec();
            coords.resize(dims.len(), begin);
            for (&d, &c) in outer_dims.iter().zip(&counters) {
                coords[d] = c;
            }
            let inner_range = Range {
                dim: inner,
                begin,
                end,
            };
            e.nest_one(&dims, inner, inner_range, coords, body);
        });
    }

    /// Like `nest` over all of `shape`, with the two innermost dimensions walked
    /// in `TILE × TILE` tiles, so that an operand read across its rows (a
    /// transpose) touches few cache lines and pages per tile.
    fn tiled_nest(
        &mut self,
        shape: &ArrayShape,
        order: &[usize],
        range: Option<Range>,
        body: &mut dyn FnMut(&mut Self, Idx),
    ) {
        let (outer, tiled) = order.split_at(order.len() - 2);
        let (a, b) = (tiled[0], tiled[1]);
        let dims = shape.dims.clone();
        self.loops(&dims, outer, range, Vec::new(), &mut |e, counters| {
            let (a_start, a_end) = e.bounds(range, a, dims[a]);
            let (b_start, b_end) = e.bounds(range, b, dims[b]);
            e.tiles(a_start, a_end, &mut |e, a0, a1| {
                e.tiles(b_start, b_end, &mut |e, b0, b1| {
                    e.for_loop(a0, a1, 1, &mut |e, i| {
                        let mut prefix = vec![i; dims.len()];
                        for (&d, &c) in outer.iter().zip(&counters) {
                            prefix[d] = c;
                        }
                        prefix[a] = i;
                        let row = Range {
                            dim: b,
                            begin: b0,
                            end: b1,
                        };
                        // `nest` over `b` alone, the rest fixed by `prefix`.
                        e.nest_one(&dims, b, row, prefix, body);
                    });
                });
            });
        });
    }

    /// Calls `body(t0, t1)` for each tile `[t0, t1)` of `[start, end)`.
    fn tiles(&mut self, start: Value, end: Value, body: &mut dyn FnMut(&mut Self, Value, Value)) {
        let span = self.b.ins().isub(end, start);
        let rounded = self.b.ins().iadd_imm_s(span, TILE - 1);
        let count = self.b.ins().udiv_imm_s(rounded, TILE);
        let zero = self.iconst(0);
        self.for_loop(zero, count, 1, &mut |e, k| {
            let offset = e.b.ins().imul_imm_s(k, TILE);
            let t0 = e.b.ins().iadd(start, offset);
            let full = e.b.ins().iadd_imm_s(t0, TILE);
            let inside = e.b.ins().icmp(IntCC::SignedLessThan, full, end);
            let t1 = e.b.ins().select(inside, full, end);
            body(e, t0, t1);
        });
    }

    /// The innermost loop of a nest: dimension `d` over `range`, `LANES` at a
    /// time then one at a time, the other coordinates from `coords`.
    fn nest_one(
        &mut self,
        dims: &[usize],
        d: usize,
        range: Range,
        coords: Vec<Value>,
        body: &mut dyn FnMut(&mut Self, Idx),
    ) {
        let index = |i: Value, lanes: u32| {
            let mut c = coords.clone();
            c[d] = i;
            Idx {
                coords: c,
                lane: (lanes > 1).then_some(d),
                lanes,
            }
        };
        let next = if dims[d] >= LANES as usize {
            self.for_loop(range.begin, range.end, LANES as i64, &mut |e, i| {
                body(e, index(i, LANES))
            })
        } else {
            range.begin
        };
        self.for_loop(next, range.end, 1, &mut |e, i| body(e, index(i, 1)));
    }

    /// Nested counted loops over `dims` (sizes in `sizes`, `range` bounding one),
    /// calling `body` with `prefix` followed by the loop counters.
    fn loops(
        &mut self,
        sizes: &[usize],
        dims: &[usize],
        range: Option<Range>,
        prefix: Vec<Value>,
        body: &mut dyn FnMut(&mut Self, Vec<Value>),
    ) {
        let Some((&d, rest)) = dims.split_first() else {
            body(self, prefix);
            return;
        };
        let (start, end) = self.bounds(range, d, sizes[d]);
        self.for_loop(start, end, 1, &mut |e, i| {
            let mut counters = prefix.clone();
            counters.push(i);
            e.loops(sizes, rest, range, counters, body);
        });
    }

    /// The loop bounds of dimension `d` of size `size`.
    fn bounds(&mut self, range: Option<Range>, d: usize, size: usize) -> (Value, Value) {
        match range {
            Some(r) if r.dim == d => (r.begin, r.end),
            _ => (self.iconst(0), self.iconst(size)),
        }
    }

    /// `for (i = start; i + step <= end; i += step) body(i)`; returns the first
    /// `i` not run. Values generated inside do not outlive the loop.
    fn for_loop(
        &mut self,
        start: Value,
        end: Value,
        step: i64,
        body: &mut dyn FnMut(&mut Self, Value),
    ) -> Value {
        let carried = self.counted(start, end, step, &[], &mut |e, i, _| {
            body(e, i);
            Vec::new()
        });
        carried[0]
    }

    /// A counted loop carrying `init` values from one iteration to the next;
    /// returns the final counter followed by the carried values.
    fn counted(
        &mut self,
        start: Value,
        end: Value,
        step: i64,
        init: &[Value],
        body: &mut Carried<'_, Self>,
    ) -> Vec<Value> {
        let header = self.b.create_block();
        let inside = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(header, types::I64);
        self.b.append_block_param(exit, types::I64);
        for &v in init {
            let ty = self.b.func.dfg.value_type(v);
            self.b.append_block_param(header, ty);
            self.b.append_block_param(exit, ty);
        }
        let args: Vec<BlockArg> = std::iter::once(start)
            .chain(init.iter().copied())
            .map(BlockArg::Value)
            .collect();
        self.b.ins().jump(header, &args);

        self.b.switch_to_block(header);
        let params = self.b.block_params(header).to_vec();
        let next = self.b.ins().iadd_imm_s(params[0], step);
        let more = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, next, end);
        let exit_args: Vec<BlockArg> = params.iter().copied().map(BlockArg::Value).collect();
        self.b.ins().brif(more, inside, &[], exit, &exit_args);

        self.b.switch_to_block(inside);
        self.b.seal_block(inside);
        let saved = self.memo.clone();
        let carried = body(self, params[0], &params[1..]);
        self.memo = saved;
        let next = self.b.ins().iadd_imm_s(params[0], step);
        let back: Vec<BlockArg> = std::iter::once(next)
            .chain(carried)
            .map(BlockArg::Value)
            .collect();
        self.b.ins().jump(header, &back);
        self.b.seal_block(header);

        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        self.b.block_params(exit).to_vec()
    }

    // ---- memory -----------------------------------------------------------

    /// The address of `idx` (lane 0) in an array at `base` with `strides`.
    fn address(
        &mut self,
        base: Value,
        element: ElementType,
        strides: &[usize],
        coords: &[Value],
    ) -> Value {
        let size = element.byte_size() as i64;
        let mut addr = base;
        for (&c, &s) in coords.iter().zip(strides) {
            if s == 0 {
                continue;
            }
            let scaled = self.b.ins().imul_imm_s(c, s as i64 * size);
            addr = self.b.ins().iadd(addr, scaled);
        }
        addr
    }

    fn read(&mut self, base: Value, element: ElementType, strides: &[usize], idx: &Idx) -> Value {
        let addr = self.address(base, element, strides, &idx.coords);
        self.read_at(addr, element, strides, idx, |b, el, lanes, a| {
            lower::load(b, el, lanes, a)
        })
    }

    /// Reads `idx.lanes` elements from `addr` on: one vector load when they are
    /// contiguous, else one load per lane.
    fn read_at(
        &mut self,
        addr: Value,
        element: ElementType,
        strides: &[usize],
        idx: &Idx,
        load: impl Fn(&mut FunctionBuilder, ElementType, u32, Value) -> Value,
    ) -> Value {
        let Some(lane) = idx.lane else {
            return load(&mut self.b, element, 1, addr);
        };
        let stride = strides[lane];
        if stride == 1 && element != ElementType::Pred {
            return load(&mut self.b, element, idx.lanes, addr);
        }
        let first = load(&mut self.b, element, 1, addr);
        let mut v = lower::splat(&mut self.b, first, idx.lanes);
        let step = (stride * element.byte_size()) as i64;
        for l in 1..idx.lanes {
            let a = self.b.ins().iadd_imm_s(addr, step * l as i64);
            let x = load(&mut self.b, element, 1, a);
            v = self.b.ins().insertlane(v, x, l as u8);
        }
        v
    }

    fn write(&mut self, base: Value, element: ElementType, strides: &[usize], idx: &Idx, v: Value) {
        let addr = self.address(base, element, strides, &idx.coords);
        match idx.lane {
            Some(lane) if strides[lane] != 1 || element == ElementType::Pred => {
                let step = (strides[lane] * element.byte_size()) as i64;
                for l in 0..idx.lanes {
                    let x = self.b.ins().extractlane(v, l as u8);
                    let a = self.b.ins().iadd_imm_s(addr, step * l as i64);
                    lower::store(&mut self.b, element, x, a);
                }
            }
            _ => lower::store(&mut self.b, element, v, addr),
        }
    }

    /// Scratch holds registers as they are (a `pred` as a 32-bit mask).
    fn write_register(&mut self, base: Value, strides: &[usize], idx: &Idx, v: Value) {
        self.write(base, ElementType::S32, strides, idx, v);
    }

    // ---- elements ---------------------------------------------------------

    /// The elements of `id` at `idx`, as a register of `idx.lanes` lanes.
    fn element_at(&mut self, id: InstrId, idx: &Idx) -> Value {
        if idx.lanes > 1 && idx.lane.is_none() {
            let one = Idx::scalar(idx.coords.clone());
            let v = self.element_at(id, &one);
            return lower::splat(&mut self.b, v, idx.lanes);
        }
        let key = (id, idx.clone());
        if let Some(&v) = self.memo.get(&key) {
            return v;
        }
        let v = self.element_uncached(id, idx);
        self.memo.insert(key, v);
        v
    }

    fn element_uncached(&mut self, id: InstrId, idx: &Idx) -> Value {
        if self.rows.contains_key(&id) {
            return self.read_row(id, idx);
        }
        if let Some(p) = self.product.as_ref().filter(|p| p.dot == id) {
            // The batch's product, row-major at the start of scratch.
            let strides = [0, p.gemm.n, 1];
            let addr = self.address(self.scratch, ElementType::F32, &strides, &idx.coords);
            return self.read_at(addr, ElementType::F32, &strides, idx, lower::load);
        }
        if let Some(&v) = self
            .cached
            .get(&id)
            .filter(|_| idx.coords == self.row_coords)
        {
            return lower::splat(&mut self.b, v, idx.lanes);
        }
        let instr = self.kernel.body.instr(id);
        let shape = instr.array_shape();
        let element = shape.element;
        let operand = |i: usize| instr.operands[i];
        match &instr.op {
            Op::Parameter(k) => {
                let base = self.bases[*k];
                self.read(base, element, &strides(shape), idx)
            }
            Op::Constant(literal) => self.constant(id, literal, shape, idx),
            Op::Iota { dimension } => {
                let c = self.b.ins().ireduce(types::I32, idx.coords[*dimension]);
                let mut v = lower::splat(&mut self.b, c, idx.lanes);
                if idx.lane == Some(*dimension) {
                    let steps = self.lane_steps(idx.lanes);
                    v = self.b.ins().iadd(v, steps);
                }
                lower::convert(&mut self.b, ElementType::S32, element, v)
            }
            Op::Unary(op) => {
                let x = self.element_at(operand(0), idx);
                let el = self.element(operand(0));
                lower::unary(&mut self.b, *op, el, x)
            }
            Op::Convert => {
                let x = self.element_at(operand(0), idx);
                let from = self.element(operand(0));
                lower::convert(&mut self.b, from, element, x)
            }
            Op::Binary(BinaryOp::Divide) if self.reciprocal_at(operand(1), idx).is_some() => {
                // Division by a row's value: a multiply by its reciprocal, computed
                // once per row (at most one ulp from the quotient).
                let x = self.element_at(operand(0), idx);
                let r = self
                    .reciprocal_at(operand(1), idx)
                    .expect("checked by the guard");
                self.b.ins().fmul(x, r)
            }
            Op::Binary(op) => {
                let x = self.element_at(operand(0), idx);
                let y = self.element_at(operand(1), idx);
                let helpers = self.helpers.clone();
                lower::binary(&mut self.b, *op, element, x, y, &mut |b, h, x, y| {
                    let call = b.ins().call(helpers[&h], &[x, y]);
                    b.inst_results(call)[0]
                })
            }
            Op::Compare(direction) => {
                let x = self.element_at(operand(0), idx);
                let y = self.element_at(operand(1), idx);
                let el = self.element(operand(0));
                lower::compare(&mut self.b, *direction, el, x, y)
            }
            Op::Select => {
                let p = self.element_or_scalar(operand(0), idx);
                let x = self.element_at(operand(1), idx);
                let y = self.element_at(operand(2), idx);
                lower::select(&mut self.b, p, x, y)
            }
            Op::Clamp => {
                let lo = self.element_or_scalar(operand(0), idx);
                let x = self.element_at(operand(1), idx);
                let hi = self.element_or_scalar(operand(2), idx);
                let (max, min) = match element {
                    ElementType::Pred => (ReduceOp::Or, ReduceOp::And),
                    _ => (ReduceOp::Maximum, ReduceOp::Minimum),
                };
                let low = lower::combine(&mut self.b, max, element, x, lo);
                lower::combine(&mut self.b, min, element, low, hi)
            }
            Op::Broadcast { dimensions } => {
                let inner = Idx {
                    coords: dimensions.iter().map(|&d| idx.coords[d]).collect(),
                    lane: idx
                        .lane
                        .and_then(|l| dimensions.iter().position(|&d| d == l)),
                    lanes: idx.lanes,
                };
                self.element_at(operand(0), &inner)
            }
            Op::Transpose { permutation } => {
                let mut coords = idx.coords.clone();
                for (i, &p) in permutation.iter().enumerate() {
                    coords[p] = idx.coords[i];
                }
                let inner = Idx {
                    coords,
                    lane: idx.lane.map(|l| permutation[l]),
                    lanes: idx.lanes,
                };
                self.element_at(operand(0), &inner)
            }
            Op::Reshape => self.reshape(id, idx),
            Op::Slice { dims } => {
                if idx.lane.is_some_and(|l| dims[l].stride != 1) {
                    return self.per_lane(id, idx);
                }
                let coords = idx
                    .coords
                    .iter()
                    .zip(dims)
                    .map(|(&c, d)| {
                        let scaled = self.b.ins().imul_imm_s(c, d.stride as i64);
                        self.b.ins().iadd_imm_s(scaled, d.start as i64)
                    })
                    .collect();
                let inner = Idx {
                    coords,
                    lane: idx.lane,
                    lanes: idx.lanes,
                };
                self.element_at(operand(0), &inner)
            }
            Op::Concatenate { dimension } => self.concatenate(id, *dimension, idx),
            Op::Bitcast => self.bitcast(id, idx),
            Op::Dot(_) => self.dot(id, idx),
            Op::Reduce { .. } => self.reduce(id, idx),
            Op::Tuple | Op::GetTupleElement { .. } | Op::Fusion { .. } => {
                unreachable!("fused bodies compute arrays only")
            }
        }
    }

    /// The reciprocal of `id`'s element at `idx` (splatted), when that element is
    /// a row's cached value that divides (looking through broadcasts).
    fn reciprocal_at(&mut self, id: InstrId, idx: &Idx) -> Option<Value> {
        let instr = self.kernel.body.instr(id);
        if let Op::Broadcast { dimensions } = &instr.op {
            let inner = Idx {
                coords: dimensions.iter().map(|&d| idx.coords[d]).collect(),
                lane: idx
                    .lane
                    .and_then(|l| dimensions.iter().position(|&d| d == l)),
                lanes: idx.lanes,
            };
            return self.reciprocal_at(instr.operands[0], &inner);
        }
        let r = *self
            .reciprocals
            .get(&id)
            .filter(|_| idx.coords == self.row_coords)?;
        Some(lower::splat(&mut self.b, r, idx.lanes))
    }

    /// An operand that is either a scalar (as `select`'s predicate and `clamp`'s
    /// bounds may be) or of the result's shape.
    fn element_or_scalar(&mut self, id: InstrId, idx: &Idx) -> Value {
        if self.shape(id).rank() == 0 && !idx.coords.is_empty() {
            let v = self.element_at(id, &Idx::scalar(Vec::new()));
            lower::splat(&mut self.b, v, idx.lanes)
        } else {
            self.element_at(id, idx)
        }
    }

    /// `[0, 1, 2, 3]` as an `i32x4`.
    fn lane_steps(&mut self, lanes: u32) -> Value {
        let zero = self.b.ins().iconst(types::I32, 0);
        let mut v = lower::splat(&mut self.b, zero, lanes);
        for l in 1..lanes {
            let c = self.b.ins().iconst(types::I32, l as i64);
            v = self.b.ins().insertlane(v, c, l as u8);
        }
        v
    }

    /// Generates each lane on its own: for index maps that break contiguity.
    fn per_lane(&mut self, id: InstrId, idx: &Idx) -> Value {
        let lane = idx.lane.expect("a vector index");
        let mut v = None;
        for l in 0..idx.lanes {
            let mut coords = idx.coords.clone();
            coords[lane] = self.b.ins().iadd_imm_s(coords[lane], l as i64);
            let x = self.element_at(id, &Idx::scalar(coords));
            v = Some(match v {
                None => lower::splat(&mut self.b, x, idx.lanes),
                Some(v) => self.b.ins().insertlane(v, x, l as u8),
            });
        }
        v.expect("at least one lane")
    }

    fn constant(&mut self, id: InstrId, literal: &Literal, shape: &ArrayShape, idx: &Idx) -> Value {
        if literal.len() == 1 {
            let bits = match literal {
                Literal::F32(v) => v[0].to_bits(),
                Literal::S32(v) => v[0] as u32,
                Literal::Pred(v) => {
                    if v[0] {
                        u32::MAX
                    } else {
                        0
                    }
                }
            };
            return lower::constant(&mut self.b, shape.element, idx.lanes, bits);
        }
        let data = &self
            .constants
            .iter()
            .find(|(c, _)| *c == id)
            .expect("array constants are embedded")
            .1;
        let base = self.b.ins().iconst(types::I64, data.as_ptr() as i64);
        let row_major = ArrayShape::new(shape.element, shape.dims.clone());
        self.read(base, shape.element, &strides(&row_major), idx)
    }

    /// Reshape: the operand element at the same row-major position.
    fn reshape(&mut self, id: InstrId, idx: &Idx) -> Value {
        let instr = self.kernel.body.instr(id);
        let shape = instr.array_shape();
        let from = self.shape(instr.operands[0]);
        let contiguous = |n: Option<&usize>| n.is_some_and(|&n| n % idx.lanes as usize == 0);
        let keeps_lanes = idx.lane == Some(shape.rank().wrapping_sub(1))
            && contiguous(shape.dims.last())
            && contiguous(from.dims.last());
        if idx.lane.is_some() && !keeps_lanes {
            return self.per_lane(id, idx);
        }
        let linear = self.linearize(&idx.coords, &shape.dims, &row_major_order(shape.rank()));
        let coords = self.delinearize(linear, &from.dims, &row_major_order(from.rank()));
        let inner = Idx {
            coords,
            lane: idx.lane.map(|_| from.rank() - 1),
            lanes: idx.lanes,
        };
        self.element_at(instr.operands[0], &inner)
    }

    /// Bitcast: the operand element at the same physical position.
    fn bitcast(&mut self, id: InstrId, idx: &Idx) -> Value {
        if idx.lane.is_some() {
            return self.per_lane(id, idx);
        }
        let instr = self.kernel.body.instr(id);
        let shape = instr.array_shape();
        let from = self.shape(instr.operands[0]);
        let linear = self.linearize(&idx.coords, &shape.dims, &physical_order(shape));
        let coords = self.delinearize(linear, &from.dims, &physical_order(from));
        self.element_at(instr.operands[0], &Idx::scalar(coords))
    }

    /// The position of `coords` when `dims` are laid out in `order` (major first).
    fn linearize(&mut self, coords: &[Value], dims: &[usize], order: &[usize]) -> Value {
        let mut linear = self.iconst(0);
        for &d in order {
            let scaled = self.b.ins().imul_imm_s(linear, dims[d] as i64);
            linear = self.b.ins().iadd(scaled, coords[d]);
        }
        linear
    }

    fn delinearize(&mut self, mut linear: Value, dims: &[usize], order: &[usize]) -> Vec<Value> {
        let mut coords = vec![linear; dims.len()];
        for &d in order.iter().rev() {
            let n = dims[d].max(1) as i64;
            coords[d] = self.b.ins().urem_imm_s(linear, n);
            linear = self.b.ins().udiv_imm_s(linear, n);
        }
        coords
    }

    /// Concatenate: branches to the operand whose range holds the coordinate.
    fn concatenate(&mut self, id: InstrId, dimension: usize, idx: &Idx) -> Value {
        if idx.lane == Some(dimension) {
            return self.per_lane(id, idx);
        }
        let instr = self.kernel.body.instr(id);
        let ty = lower::reg_type(instr.array_shape().element, idx.lanes);
        let join = self.b.create_block();
        self.b.append_block_param(join, ty);
        let c = idx.coords[dimension];
        let mut start = 0;
        let operands = instr.operands.clone();
        for (k, &o) in operands.iter().enumerate() {
            let len = self.shape(o).dims[dimension];
            let last = k + 1 == operands.len();
            let here = self.b.create_block();
            let next = self.b.create_block();
            if last {
                self.b.ins().jump(here, &[]);
            } else {
                let inside =
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::UnsignedLessThan, c, (start + len) as i64);
                self.b.ins().brif(inside, here, &[], next, &[]);
            }
            self.b.switch_to_block(here);
            self.b.seal_block(here);
            let saved = self.memo.clone();
            let mut coords = idx.coords.clone();
            coords[dimension] = self.b.ins().iadd_imm_s(c, -(start as i64));
            let v = self.element_at(
                o,
                &Idx {
                    coords,
                    lane: idx.lane,
                    lanes: idx.lanes,
                },
            );
            self.memo = saved;
            self.b.ins().jump(join, &[BlockArg::Value(v)]);
            self.b.switch_to_block(next);
            self.b.seal_block(next);
            if last {
                // Unreachable: the coordinate is always within the result.
                self.b.ins().jump(join, &[BlockArg::Value(v)]);
            }
            start += len;
        }
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        self.b.block_params(join)[0]
    }

    /// Reads a materialized value from this row's scratch slot.
    fn read_row(&mut self, id: InstrId, idx: &Idx) -> Value {
        let shape = self.shape(id);
        let (offset, strides) = self.rows[&id].clone();
        let base = self.b.ins().iadd_imm_s(self.scratch, offset as i64);
        let addr = self.address(base, ElementType::S32, &strides, &idx.coords);
        let element = shape.element;
        self.read_at(addr, ElementType::S32, &strides, idx, |b, _, lanes, a| {
            let ty = lower::reg_type(element, lanes);
            b.ins().load(ty, MemFlagsData::new().with_notrap(), a, 0)
        })
    }

    /// A dot element: a loop over the contracting dimensions.
    fn dot(&mut self, id: InstrId, idx: &Idx) -> Value {
        self.dots(id, std::slice::from_ref(idx))[0]
    }

    /// Dot elements at several indices that share one loop over the contraction
    /// (register blocking: operand elements common to them load once).
    fn dots(&mut self, id: InstrId, idxs: &[Idx]) -> Vec<Value> {
        let idx = &idxs[0];
        let instr = self.kernel.body.instr(id);
        let Op::Dot(d) = &instr.op else {
            unreachable!()
        };
        let element = instr.array_shape().element;
        let (lhs, rhs) = (instr.operands[0], instr.operands[1]);
        let (ls, rs) = (self.shape(lhs).clone(), self.shape(rhs).clone());
        let free = |rank: usize, batch: &[usize], contracting: &[usize]| -> Vec<usize> {
            (0..rank)
                .filter(|i| !batch.contains(i) && !contracting.contains(i))
                .collect()
        };
        let lhs_free = free(ls.rank(), &d.lhs_batch, &d.lhs_contracting);
        let rhs_free = free(rs.rank(), &d.rhs_batch, &d.rhs_contracting);
        let nb = d.lhs_batch.len();
        // Where each result dimension comes from in the operands.
        let mut lhs_of = vec![None; instr.array_shape().rank()];
        let mut rhs_of = vec![None; instr.array_shape().rank()];
        for i in 0..nb {
            lhs_of[i] = Some(d.lhs_batch[i]);
            rhs_of[i] = Some(d.rhs_batch[i]);
        }
        for (j, &f) in lhs_free.iter().enumerate() {
            lhs_of[nb + j] = Some(f);
        }
        for (j, &f) in rhs_free.iter().enumerate() {
            rhs_of[nb + lhs_free.len() + j] = Some(f);
        }
        // The operand coordinates for result index `idx` at contraction counters
        // `k`, the lanes running along `lane`'s image or along the contraction.
        let operand_idx = |idx: &Idx,
                           of: &[Option<usize>],
                           rank: usize,
                           contracting: &[usize],
                           k: &[Value],
                           along_k: bool| {
            let mut coords = vec![None; rank];
            for (r, o) in of.iter().enumerate() {
                if let Some(o) = o {
                    coords[*o] = Some(idx.coords[r]);
                }
            }
            for (c, &k) in contracting.iter().zip(k) {
                coords[*c] = Some(k);
            }
            let lanes = if along_k { LANES } else { idx.lanes };
            Idx {
                coords: coords.into_iter().map(|c| c.expect("indexed")).collect(),
                lane: if along_k {
                    contracting.first().copied()
                } else {
                    idx.lane.and_then(|l| of[l])
                },
                lanes,
            }
        };
        // When both operands are contiguous along a single contraction dimension,
        // each result element is a vector dot product along it; a result vector
        // whose lanes would gather from memory becomes one such dot per lane.
        let k_contiguous = element == ElementType::F32
            && d.lhs_contracting.len() == 1
            && ls.dims[d.lhs_contracting[0]] >= LANES as usize
            && self.unit_stride(lhs, d.lhs_contracting[0])
            && self.unit_stride(rhs, d.rhs_contracting[0]);
        if k_contiguous && idx.lanes > 1 && idxs.len() == 1 {
            let lane = idx.lane.expect("a vector index has a lane");
            let gathers = match (lhs_of[lane], rhs_of[lane]) {
                (Some(l), None) => !self.unit_stride(lhs, l),
                (None, Some(r)) => !self.unit_stride(rhs, r),
                _ => false,
            };
            if gathers {
                return vec![self.per_lane(id, idx)];
            }
        }
        if k_contiguous && idx.lanes == 1 && idxs.len() == 1 {
            let n = ls.dims[d.lhs_contracting[0]];
            let zero = self.iconst(0);
            let end = self.iconst(n);
            let vzero = lower::constant(&mut self.b, element, LANES, 0);
            let szero = lower::constant(&mut self.b, element, 1, 0);
            let (lr, rr) = (ls.rank(), rs.rank());
            let main = self.unrolled(
                zero,
                end,
                vzero,
                &mut |e, k, acc| {
                    let x = e.element_at(
                        lhs,
                        &operand_idx(idx, &lhs_of, lr, &d.lhs_contracting, &[k], true),
                    );
                    let y = e.element_at(
                        rhs,
                        &operand_idx(idx, &rhs_of, rr, &d.rhs_contracting, &[k], true),
                    );
                    e.b.ins().fma(x, y, acc)
                },
                &mut |e, a, b| e.b.ins().fadd(a, b),
            );
            let tail = self.counted(main[0], end, 1, &[szero], &mut |e, k, acc| {
                let x = e.element_at(
                    lhs,
                    &operand_idx(idx, &lhs_of, lr, &d.lhs_contracting, &[k], false),
                );
                let y = e.element_at(
                    rhs,
                    &operand_idx(idx, &rhs_of, rr, &d.rhs_contracting, &[k], false),
                );
                vec![e.b.ins().fma(x, y, acc[0])]
            });
            let sum = lower::horizontal(&mut self.b, ReduceOp::Add, element, main[1]);
            return vec![self.b.ins().fadd(sum, tail[1])];
        }
        let contract_shape = ArrayShape::new(
            element,
            d.lhs_contracting.iter().map(|&c| ls.dims[c]).collect(),
        );
        let zeros: Vec<Value> = idxs
            .iter()
            .map(|i| lower::constant(&mut self.b, element, i.lanes, 0))
            .collect();
        let dims: Vec<usize> = (0..contract_shape.rank()).collect();
        self.accumulate(
            &contract_shape,
            &dims,
            zeros,
            &mut |e, k| {
                idxs.iter()
                    .map(|idx| {
                        let li =
                            operand_idx(idx, &lhs_of, ls.rank(), &d.lhs_contracting, &k, false);
                        let ri =
                            operand_idx(idx, &rhs_of, rs.rank(), &d.rhs_contracting, &k, false);
                        (e.element_at(lhs, &li), e.element_at(rhs, &ri))
                    })
                    .collect()
            },
            element,
        )
    }

    /// A vector accumulation over `[start, end)`: `UNROLL` independent
    /// accumulators (starting at `identity`) take `LANES` elements each per
    /// iteration, hiding the latency of the combining op, then one accumulator
    /// takes what is left in whole vectors. Returns the first index not taken
    /// and the combined accumulator.
    fn unrolled(
        &mut self,
        start: Value,
        end: Value,
        identity: Value,
        step: &mut dyn FnMut(&mut Self, Value, Value) -> Value,
        combine: &mut dyn FnMut(&mut Self, Value, Value) -> Value,
    ) -> [Value; 2] {
        let width = LANES as i64 * UNROLL as i64;
        let init = vec![identity; UNROLL];
        let out = self.counted(start, end, width, &init, &mut |e, i, accs| {
            (0..UNROLL)
                .map(|u| {
                    let at = e.b.ins().iadd_imm_s(i, u as i64 * LANES as i64);
                    step(e, at, accs[u])
                })
                .collect()
        });
        let mut accs = out[1..].to_vec();
        while accs.len() > 1 {
            accs = accs
                .chunks(2)
                .map(|p| match p {
                    [a, b] => combine(self, *a, *b),
                    [a] => *a,
                    _ => unreachable!("chunks of two"),
                })
                .collect();
        }
        let rest = self.counted(out[0], end, LANES as i64, &[accs[0]], &mut |e, i, a| {
            vec![step(e, i, a[0])]
        });
        [rest[0], rest[1]]
    }

    /// Whether reading `id` along `dim` walks memory contiguously (or reads one
    /// element for all lanes), so that a vector along `dim` loads in one go.
    fn unit_stride(&self, id: InstrId, dim: usize) -> bool {
        let instr = self.kernel.body.instr(id);
        let shape = instr.array_shape();
        if self.rows.contains_key(&id) || self.product.as_ref().is_some_and(|p| p.dot == id) {
            return dim + 1 == shape.rank();
        }
        match &instr.op {
            Op::Parameter(_) => strides(shape)[dim] == 1,
            Op::Constant(_) => shape.rank() == 0 || dim + 1 == shape.rank(),
            Op::Iota { .. } => true,
            Op::Transpose { permutation } => self.unit_stride(instr.operands[0], permutation[dim]),
            Op::Broadcast { dimensions } => match dimensions.iter().position(|&d| d == dim) {
                Some(p) => self.unit_stride(instr.operands[0], p),
                None => true,
            },
            _ if self.cached.contains_key(&id) => true,
            Op::Unary(_)
            | Op::Binary(_)
            | Op::Compare(_)
            | Op::Convert
            | Op::Select
            | Op::Clamp => instr.operands.iter().all(|&o| {
                self.kernel.body.instr(o).array_shape().rank() == 0 || self.unit_stride(o, dim)
            }),
            _ => false,
        }
    }

    /// `acc[i] += x[i] * y[i]` over every index of `shape`, where `pairs` gives
    /// the `(x, y)` of each accumulator.
    fn accumulate(
        &mut self,
        shape: &ArrayShape,
        dims: &[usize],
        init: Vec<Value>,
        pairs: &mut Operands<'_, Self>,
        element: ElementType,
    ) -> Vec<Value> {
        let Some((&d, rest)) = dims.split_first() else {
            let xy = pairs(self, Vec::new());
            return xy
                .into_iter()
                .zip(init)
                .map(|((x, y), acc)| self.multiply_add(element, x, y, acc))
                .collect();
        };
        let start = self.iconst(0);
        let end = self.iconst(shape.dims[d]);
        let rest = rest.to_vec();
        let out = self.counted(start, end, 1, &init, &mut |e, k, acc| {
            let mut inner = |e: &mut Self, ks: Vec<Value>| {
                let mut all = vec![k];
                all.extend(ks);
                pairs(e, all)
            };
            e.accumulate(shape, &rest, acc.to_vec(), &mut inner, element)
        });
        out[1..].to_vec()
    }

    fn multiply_add(&mut self, element: ElementType, x: Value, y: Value, acc: Value) -> Value {
        if element == ElementType::F32 {
            return self.b.ins().fma(x, y, acc);
        }
        let p = self.b.ins().imul(x, y);
        match element {
            ElementType::Pred => self.b.ins().bor(acc, p),
            _ => self.b.ins().iadd(acc, p),
        }
    }

    /// A reduction element: a loop over the reduced dimensions in the operand's
    /// physical order. A scalar result whose operand's innermost dimension is
    /// reduced accumulates four lanes at a time along it, then a scalar tail.
    fn reduce(&mut self, id: InstrId, idx: &Idx) -> Value {
        let instr = self.kernel.body.instr(id);
        let Op::Reduce {
            dimensions,
            reducer,
        } = &instr.op
        else {
            unreachable!("called on reductions")
        };
        let (reducer, input, init) = (*reducer, instr.operands[0], instr.operands[1]);
        let from = self.shape(input).clone();
        let element = from.element;
        let kept: Vec<usize> = (0..from.rank())
            .filter(|d| !dimensions.contains(d))
            .collect();
        let order: Vec<usize> = physical_order(&from)
            .into_iter()
            .filter(|d| dimensions.contains(d))
            .collect();
        // The operand's coordinates: kept ones from `idx`, reduced ones from loops.
        let coords_of = |reduced: &[Value]| -> Vec<Value> {
            let mut coords = vec![None; from.rank()];
            for (k, &d) in kept.iter().enumerate() {
                coords[d] = Some(idx.coords[k]);
            }
            for (&r, &d) in reduced.iter().zip(&order) {
                coords[d] = Some(r);
            }
            coords
                .into_iter()
                .map(|c| c.expect("every dimension indexed"))
                .collect()
        };
        let identity = lower::identity(reducer, element);
        let innermost_reduced = physical_order(&from).last() == order.last();
        let result = match order.split_last() {
            Some((&inner, outer))
                if idx.lanes == 1 && innermost_reduced && from.dims[inner] >= LANES as usize =>
            {
                let vector = lower::constant(&mut self.b, element, LANES, identity);
                let scalar = lower::constant(&mut self.b, element, 1, identity);
                let accs = self.reduce_loops(
                    &from.dims,
                    outer,
                    Vec::new(),
                    vec![vector, scalar],
                    &mut |e, prefix, accs| {
                        let start = e.iconst(0);
                        let end = e.iconst(from.dims[inner]);
                        let step = |e: &mut Self, lanes: u32, i: Value, acc: Value| {
                            let mut reduced = prefix.clone();
                            reduced.push(i);
                            let lane = (lanes > 1).then_some(inner);
                            let x = e.element_at(
                                input,
                                &Idx {
                                    coords: coords_of(&reduced),
                                    lane,
                                    lanes,
                                },
                            );
                            vec![lower::combine(&mut e.b, reducer, element, acc, x)]
                        };
                        // The unrolled accumulators start afresh; the carried one
                        // (from the enclosing reduced dimensions) joins after.
                        let fresh = lower::constant(&mut e.b, element, LANES, identity);
                        let [next, row] = e.unrolled(
                            start,
                            end,
                            fresh,
                            &mut |e, i, a| step(e, LANES, i, a)[0],
                            &mut |e, a, b| lower::combine(&mut e.b, reducer, element, a, b),
                        );
                        let main = [
                            next,
                            lower::combine(&mut e.b, reducer, element, accs[0], row),
                        ];
                        let tail = e.counted(main[0], end, 1, &[accs[1]], &mut |e, i, a| {
                            step(e, 1, i, a[0])
                        });
                        vec![main[1], tail[1]]
                    },
                );
                let lanes = lower::horizontal(&mut self.b, reducer, element, accs[0]);
                lower::combine(&mut self.b, reducer, element, lanes, accs[1])
            }
            _ => {
                let lane = idx.lane.map(|l| kept[l]);
                let start = lower::constant(&mut self.b, element, idx.lanes, identity);
                let accs = self.reduce_loops(
                    &from.dims,
                    &order,
                    Vec::new(),
                    vec![start],
                    &mut |e, reduced, accs| {
                        let x = e.element_at(
                            input,
                            &Idx {
                                coords: coords_of(&reduced),
                                lane,
                                lanes: idx.lanes,
                            },
                        );
                        vec![lower::combine(&mut e.b, reducer, element, accs[0], x)]
                    },
                );
                accs[0]
            }
        };
        let init = self.element_at(
            init,
            &Idx {
                coords: Vec::new(),
                lane: None,
                lanes: idx.lanes,
            },
        );
        lower::combine(&mut self.b, reducer, element, init, result)
    }

    /// Nested loops over `dims` (sizes in `sizes`) carrying accumulators.
    fn reduce_loops(
        &mut self,
        sizes: &[usize],
        dims: &[usize],
        prefix: Vec<Value>,
        accs: Vec<Value>,
        body: &mut Accumulating<'_, Self>,
    ) -> Vec<Value> {
        let Some((&d, rest)) = dims.split_first() else {
            return body(self, prefix, accs);
        };
        let start = self.iconst(0);
        let end = self.iconst(sizes[d]);
        let rest = rest.to_vec();
        let out = self.counted(start, end, 1, &accs, &mut |e, i, a| {
            let mut p = prefix.clone();
            p.push(i);
            e.reduce_loops(sizes, &rest, p, a.to_vec(), body)
        });
        out[1..].to_vec()
    }
}

/// Members of a row kernel computed once per row into scratch: dots that other
/// members read, computed operands of dots (read once per output column), and
/// expensive values read more than once.
fn materialized(kernel: &Kernel, outer: &[usize]) -> Vec<InstrId> {
    let body = &kernel.body;
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
    body.ids()
        .filter(|&id| live[id.index()])
        .filter(|&id| {
            let shape = body.instr(id).shape.as_array();
            shape.is_some_and(|s| s.rank() > outer.len() && s.dims.starts_with(outer))
        })
        .filter(|&id| {
            let instr = body.instr(id);
            let users: Vec<&Op> = body
                .ids()
                .filter(|&u| live[u.index()] && body.instr(u).operands.contains(&id))
                .map(|u| &body.instr(u).op)
                .collect();
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

fn row_elements(shape: &ArrayShape, outer: usize) -> usize {
    shape.dims[outer..].iter().product()
}

/// Strides of a value's row in scratch: row-major over the dimensions after
/// `outer`, which the row does not vary.
fn scratch_strides(shape: &ArrayShape, outer: usize) -> Vec<usize> {
    let row = ArrayShape::new(shape.element, shape.dims[outer..].to_vec());
    std::iter::repeat_n(0, outer).chain(strides(&row)).collect()
}

fn row_major_order(rank: usize) -> Vec<usize> {
    (0..rank).collect()
}
