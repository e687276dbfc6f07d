//! The schedules: a row kernel's passes over each row, a column kernel's one
//! pass over its input, and the values pinned or materialized per row.

use rustc_hash::FxHashSet;

use super::*;

impl Emitter<'_, '_> {
    /// A row kernel: for each row, its values computed once (pinned), its
    /// materialized rows in dataflow order, then its outputs' rows; with a
    /// `RowProduct` or `RowConsumer`, the runtime's GEMM fills or reads scratch.
    pub(super) fn rows(&mut self, outer_dims: &[usize], begin: Value, end: Value) {
        let outer = outer_dims.len();
        let order: Vec<usize> = (0..outer).collect();
        let range = (outer > 0).then_some(Range { dim: 0, begin, end });
        // Scratch (`Kernel::scratch`): the product, then the consumer's operand
        // for a whole batch, then one row of each other materialized value.
        let layout = &self.kernel.scratch;
        let mut steps: FxHashSet<InstrId> = layout.rows.iter().map(|&(m, _)| m).collect();
        for &(m, region) in &layout.rows {
            let strides = scratch_strides(self.shape(m), outer);
            self.rows.insert(m, (region.offset, strides));
        }
        if let (Some(c), Some(region)) = (&self.consumer, layout.consumer) {
            steps.insert(c.lhs);
            let strides = block_strides(&self.shape(c.lhs).dims);
            self.rows.insert(c.lhs, (region.offset, strides));
        }
        // Values with one element per row (reductions and what is computed from
        // them): each is computed once per row.
        let body = &self.kernel.body;
        let live = body.live();
        let per_row: FxHashSet<InstrId> = body
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
        let divisors: FxHashSet<InstrId> = body
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
    pub(super) fn columns(&mut self, begin: Value, end: Value) {
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
    pub(super) fn dot_row(&mut self, o: usize, outer: usize, outer_coords: &[Value]) -> bool {
        let id = self.kernel.outputs[o];
        let shape = self.shape(id).clone();
        let row = shape.dims[outer..].iter().product::<usize>();
        let fits = matches!(self.kernel.body.instr(id).op, Op::Dot(_))
            && shape.rank() == outer + 1
            && shape.has_default_layout()
            && self.lanes > 1
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
    pub(super) fn pin(&mut self, v: Value) -> Value {
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
    pub(super) fn materialize(&mut self, id: InstrId, outer: usize, outer_coords: &[Value]) {
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

    pub(super) fn store_outputs(&mut self, outputs: &[usize], idx: &Idx) {
        for &o in outputs {
            let id = self.kernel.outputs[o];
            let v = self.element_at(id, idx);
            let shape = self.shape(id);
            let base = self.bases[self.kernel.body.parameters.len() + o];
            self.write(base, shape.element, &strides(shape), idx, v);
        }
    }
}
