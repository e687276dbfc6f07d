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
            Op::Unary(op) => {
                let x = self.element_at(operand(0), idx);
                let el = self.element(operand(0));
                let helpers = &mut self.helpers;
                lower::unary(&mut self.b, *op, el, x, &mut |b, h, args| {
                    helpers.call(b, h, args)
                })
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
                let helpers = &mut self.helpers;
                lower::binary(&mut self.b, *op, element, x, y, &mut |b, h, args| {
                    helpers.call(b, h, args)
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
                self.element_at(operand(0), &idx.through_broadcast(dimensions))
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
            Op::Pad { .. }
            | Op::Reverse { .. }
            | Op::DynamicSlice { .. }
            | Op::DynamicUpdateSlice
            | Op::Gather(_)
            | Op::ReducePrecision { .. } => {
                unreachable!("Kernel::new refuses the ops the emitters do not lower")
            }
            Op::BitcastConvert => {
                let x = self.element_at(operand(0), idx);
                let from = self.element(operand(0));
                lower::bitcast_convert(&mut self.b, from, element, x)
            }
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

    /// Reshape: the operand element at the same row-major position.
    pub(super) fn reshape(&mut self, id: InstrId, idx: &Idx) -> Value {
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
    pub(super) fn bitcast(&mut self, id: InstrId, idx: &Idx) -> Value {
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
    pub(super) fn linearize(&mut self, coords: &[Value], dims: &[usize], order: &[usize]) -> Value {
        let mut linear = self.iconst(0);
        for &d in order {
            let scaled = self.b.ins().imul_imm_s(linear, dims[d] as i64);
            linear = self.b.ins().iadd(scaled, coords[d]);
        }
        linear
    }

    pub(super) fn delinearize(
        &mut self,
        mut linear: Value,
        dims: &[usize],
        order: &[usize],
    ) -> Vec<Value> {
        let mut coords = vec![linear; dims.len()];
        for &d in order.iter().rev() {
            let n = dims[d].max(1) as i64;
            coords[d] = self.b.ins().urem_imm_s(linear, n);
            linear = self.b.ins().udiv_imm_s(linear, n);
        }
        coords
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
