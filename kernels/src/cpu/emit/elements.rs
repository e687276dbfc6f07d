//! Element generation: each op's elements at an index, views turned into index
//! arithmetic, memoized per (value, index).

use super::*;

impl Emitter<'_, '_> {
    /// The elements of `id` at `idx`, as a register of `idx.lanes` lanes.
    pub(super) fn element_at(&mut self, id: InstrId, idx: &Idx) -> Value {
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

    pub(super) fn element_uncached(&mut self, id: InstrId, idx: &Idx) -> Value {
        if self.rows.contains_key(&id) {
            return self.read_row(id, idx);
        }
        if let Some(region) = self.kernel.scratch.product
            && self.product.as_ref().is_some_and(|p| p.dot == id)
        {
            // The product for this index of the first dimension, row-major in
            // its scratch region.
            let strides = block_strides(&self.shape(id).dims);
            let base = self.b.ins().iadd_imm_s(self.scratch, region.offset as i64);
            let addr = self.address(base, ElementType::F32, &strides, &idx.coords);
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
            Op::Iota { dimension } if idx.lanes == 1 && !lower::vectorizes(element) => {
                let c = idx.coords[*dimension];
                lower::convert(&mut self.b, ElementType::S64, element, c)
            }
            Op::Iota { dimension } => {
                let c = self.b.ins().ireduce(types::I32, idx.coords[*dimension]);
                let mut v = lower::splat(&mut self.b, c, idx.lanes);
                if idx.lane == Some(*dimension) {
                    let steps = self.lane_steps(idx.lanes);
                    v = self.b.ins().iadd(v, steps);
                }
                lower::convert(&mut self.b, ElementType::S32, element, v)
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
            Op::Unary(_)
            | Op::Convert
            | Op::BitcastConvert
            | Op::Binary(_)
            | Op::Compare(_)
            | Op::CompareTotalOrder(_)
            | Op::Select
            | Op::Clamp
            | Op::ReducePrecision { .. } => {
                let args: Vec<Value> = instr
                    .operands
                    .iter()
                    .map(|&o| self.element_or_scalar(o, idx))
                    .collect();
                let from = self.element(operand(0));
                self.scalar_op(&instr.op, element, from, &args)
            }
            Op::Broadcast { .. }
            | Op::Transpose { .. }
            | Op::Reshape
            | Op::Bitcast
            | Op::Slice { .. }
            | Op::Reverse { .. }
            | Op::Pad { .. }
            | Op::DynamicSlice { .. }
            | Op::DynamicUpdateSlice
            | Op::Gather(_) => {
                let operands: Vec<&ArrayShape> =
                    instr.operands.iter().map(|&o| self.shape(o)).collect();
                let Some(lane) = lane_through(&instr.op, shape, &operands, idx) else {
                    return self.per_lane(id, idx);
                };
                let kernel = self.kernel;
                let source = elemental::source(self, &kernel.body, id, &idx.coords)
                    .expect("a view or an index op");
                let at = |coords: Vec<Value>| Idx {
                    // A scalar (a pad value) has no lane dimension.
                    lane: lane.filter(|_| !coords.is_empty()),
                    coords,
                    lanes: idx.lanes,
                };
                match source {
                    Source::Read(k, coords) => self.element_at(operand(k), &at(coords)),
                    Source::Choose {
                        cond,
                        then,
                        otherwise,
                    } => {
                        let then = (operand(then.0), at(then.1));
                        let otherwise = (operand(otherwise.0), at(otherwise.1));
                        self.choose(element, cond, then, otherwise)
                    }
                }
            }
            Op::Concatenate { dimension } => self.concatenate(id, *dimension, idx),
            Op::Dot(_) => self.dot(id, idx),
            Op::Reduce { .. } => self.reduce(id, idx),
            Op::ReduceWindow { .. } => self.reduce_window(id, idx),
            Op::SelectAndScatter { .. } => self.select_and_scatter(id, idx),
            Op::GetTupleElement { index } => self.tuple_element(operand(0), *index, idx),
            Op::ReduceTuple { .. } => unreachable!("read through its get-tuple-elements"),
            Op::Tuple | Op::Fusion { .. } | Op::While { .. } | Op::Conditional { .. } => {
                unreachable!("fused bodies compute arrays only")
            }
            Op::Scatter { .. } | Op::Sort { .. } | Op::TopK { .. } => {
                unreachable!("Kernel::new refuses the ops the emitters do not lower")
            }
        }
    }

    /// An elementwise op (or a region's `compare` in total order) of type
    /// `element` on its operands' elements `args` (registers of one width),
    /// the first of type `from`.
    pub(super) fn scalar_op(
        &mut self,
        op: &Op,
        element: ElementType,
        from: ElementType,
        args: &[Value],
    ) -> Value {
        let helpers = &mut self.helpers;
        let b = &mut self.b;
        let mut call = |b: &mut FunctionBuilder, h, args: &[Value]| helpers.call(b, h, args);
        match (op, args) {
            (Op::Unary(u), &[x]) => lower::unary(b, *u, from, x, &mut call),
            (Op::Convert, &[x]) => lower::convert(b, from, element, x),
            (Op::BitcastConvert, &[x]) => lower::bitcast_convert(b, from, element, x),
            (Op::Binary(op), &[x, y]) => lower::binary(b, *op, element, x, y, &mut call),
            (Op::Compare(d), &[x, y]) => lower::compare(b, *d, from, x, y),
            (Op::CompareTotalOrder(d), &[x, y]) => lower::compare_total_order(b, *d, from, x, y),
            (Op::Select, &[p, x, y]) => lower::select(b, p, x, y),
            (Op::Clamp, &[lo, x, hi]) => {
                let (max, min) = match element {
                    ElementType::Pred => (ReduceOp::Or, ReduceOp::And),
                    _ => (ReduceOp::Maximum, ReduceOp::Minimum),
                };
                let low = lower::combine(b, max, element, x, lo);
                lower::combine(b, min, element, low, hi)
            }
            (
                Op::ReducePrecision {
                    exponent_bits,
                    mantissa_bits,
                },
                &[x],
            ) => lower::reduce_precision(b, element, *exponent_bits, *mantissa_bits, x),
            _ => unreachable!("{} is not a scalar op with its operands", op.opcode()),
        }
    }

    /// The reciprocal of `id`'s element at `idx` (splatted), when that element is
    /// a row's cached value that divides (looking through broadcasts).
    pub(super) fn reciprocal_at(&mut self, id: InstrId, idx: &Idx) -> Option<Value> {
        let instr = self.kernel.body.instr(id);
        if let Op::Broadcast { dimensions } = &instr.op {
            return self.reciprocal_at(instr.operands[0], &idx.through_broadcast(dimensions));
        }
        let r = *self
            .reciprocals
            .get(&id)
            .filter(|_| idx.coords == self.row_coords)?;
        Some(lower::splat(&mut self.b, r, idx.lanes))
    }

    /// An operand that is either a scalar (as `select`'s predicate and `clamp`'s
    /// bounds may be) or of the result's shape.
    pub(super) fn element_or_scalar(&mut self, id: InstrId, idx: &Idx) -> Value {
        if self.shape(id).rank() == 0 && !idx.coords.is_empty() {
            let v = self.element_at(id, &Idx::scalar(Vec::new()));
            lower::splat(&mut self.b, v, idx.lanes)
        } else {
            self.element_at(id, idx)
        }
    }

    /// `[0, 1, 2, 3]` as an `i32x4`.
    pub(super) fn lane_steps(&mut self, lanes: u32) -> Value {
        let zero = self.b.ins().iconst(types::I32, 0);
        let mut v = lower::splat(&mut self.b, zero, lanes);
        for l in 1..lanes {
            let c = self.b.ins().iconst(types::I32, l as i64);
            v = self.b.ins().insertlane(v, c, l as u8);
        }
        v
    }

    /// Generates each lane on its own: for index maps that break contiguity.
    pub(super) fn per_lane(&mut self, id: InstrId, idx: &Idx) -> Value {
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

    pub(super) fn constant(
        &mut self,
        id: InstrId,
        literal: &Literal,
        shape: &ArrayShape,
        idx: &Idx,
    ) -> Value {
        if literal.len() == 1 {
            let value = literal.get(0);
            return lower::constant(&mut self.b, shape.element, idx.lanes, value.bits);
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

    /// `then`'s element where `cond` holds, `otherwise`'s elsewhere: a branch, so
    /// that only the chosen element is read.
    fn choose(
        &mut self,
        element: ElementType,
        cond: Value,
        then: (InstrId, Idx),
        otherwise: (InstrId, Idx),
    ) -> Value {
        let ty = lower::reg_type(element, then.1.lanes);
        let join = self.b.create_block();
        self.b.append_block_param(join, ty);
        let blocks = [self.b.create_block(), self.b.create_block()];
        self.b.ins().brif(cond, blocks[0], &[], blocks[1], &[]);
        for (block, (id, idx)) in blocks.into_iter().zip([then, otherwise]) {
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            // Elements generated in one branch are not there in the other.
            let saved = self.memo.clone();
            let v = self.element_at(id, &idx);
            self.memo = saved;
            self.b.ins().jump(join, &[BlockArg::Value(v)]);
        }
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        self.b.block_params(join)[0]
    }

    /// Concatenate: branches to the operand whose range holds the coordinate.
    pub(super) fn concatenate(&mut self, id: InstrId, dimension: usize, idx: &Idx) -> Value {
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
}

/// The lane dimension of the operand index of a view or an index op:
/// `Some(None)` when every lane reads the same operand element, `None` when
/// the op breaks the lanes' contiguity or chooses per element (each lane is
/// then generated on its own).
fn lane_through(
    op: &Op,
    shape: &ArrayShape,
    operands: &[&ArrayShape],
    idx: &Idx,
) -> Option<Option<usize>> {
    let Some(lane) = idx.lane else {
        return Some(None);
    };
    let from = operands[0];
    match op {
        Op::Broadcast { dimensions } => Some(dimensions.iter().position(|&d| d == lane)),
        Op::Transpose { permutation } => Some(Some(permutation[lane])),
        Op::Slice { dims } if dims[lane].stride == 1 => Some(Some(lane)),
        // Lanes along the innermost dimension stay there when both sides split
        // it in whole vectors.
        Op::Reshape => {
            let whole = |n: Option<&usize>| n.is_some_and(|&n| n % idx.lanes as usize == 0);
            let keeps =
                lane + 1 == shape.rank() && whole(shape.dims.last()) && whole(from.dims.last());
            keeps.then(|| Some(from.rank() - 1))
        }
        Op::Reverse { dimensions } if !dimensions.contains(&lane) => Some(Some(lane)),
        Op::Pad { config } if config[lane].is_identity() => Some(Some(lane)),
        // The starts are scalars: the lanes move together.
        Op::DynamicSlice { .. } => Some(Some(lane)),
        // An update as wide as the result along the lanes' dimension starts at
        // 0 there: both sides keep the lanes, and only other dimensions choose.
        Op::DynamicUpdateSlice if operands[1].dims[lane] == shape.dims[lane] => Some(Some(lane)),
        // An offset dimension walks one operand dimension from a start that
        // the batch coordinates choose.
        Op::Gather(g) => {
            let offset = g.offset_dims.iter().position(|&d| d == lane)?;
            Some(g.offset_operand_dims(from.rank()).nth(offset))
        }
        _ => None,
    }
}

/// Index arithmetic as Cranelift `i64` values, conditions as `i8` flags.
impl IndexArith for Emitter<'_, '_> {
    type Index = Value;
    type Cond = Value;

    fn constant(&mut self, n: usize) -> Value {
        self.b.ins().iconst(types::I64, n as i64)
    }

    fn affine(&mut self, a: &Value, scale: i64, offset: i64) -> Value {
        let scaled = match scale {
            1 => *a,
            s => self.b.ins().imul_imm_s(*a, s),
        };
        match offset {
            0 => scaled,
            o => self.b.ins().iadd_imm_s(scaled, o),
        }
    }

    fn mul_add(&mut self, a: &Value, n: usize, b: &Value) -> Value {
        let scaled = self.b.ins().imul_imm_s(*a, n as i64);
        self.b.ins().iadd(scaled, *b)
    }

    fn div(&mut self, a: &Value, n: usize) -> Value {
        self.b.ins().udiv_imm_s(*a, n as i64)
    }

    fn rem(&mut self, a: &Value, n: usize) -> Value {
        self.b.ins().urem_imm_s(*a, n as i64)
    }

    fn add(&mut self, a: &Value, b: &Value) -> Value {
        self.b.ins().iadd(*a, *b)
    }

    fn sub(&mut self, a: &Value, b: &Value) -> Value {
        self.b.ins().isub(*a, *b)
    }

    fn below(&mut self, a: &Value, n: usize) -> Value {
        self.b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThan, *a, n as i64)
    }

    fn divisible(&mut self, a: &Value, n: usize) -> Value {
        let r = self.b.ins().urem_imm_s(*a, n as i64);
        self.b.ins().icmp_imm_s(IntCC::Equal, r, 0)
    }

    fn and(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().band(x, y)
    }

    fn start_index(&mut self, array: InstrId, coords: &[Value], max: usize) -> Value {
        let x = self.index_value(array, coords);
        let max = self.b.ins().iconst(types::I64, max as i64);
        if self.element(array).kind() == Kind::Signed {
            let zero = self.b.ins().iconst(types::I64, 0);
            let x = self.b.ins().smax(x, zero);
            self.b.ins().smin(x, max)
        } else {
            self.b.ins().umin(x, max)
        }
    }

    fn index_value(&mut self, array: InstrId, coords: &[Value]) -> Value {
        let element = self.element(array);
        let x = self.element_at(array, &Idx::scalar(coords.to_vec()));
        // Sign-extended, a negative index is above every unsigned bound.
        let wide = match element.kind() {
            Kind::Signed => ElementType::S64,
            _ => ElementType::U64,
        };
        lower::convert(&mut self.b, element, wide, x)
    }
}
