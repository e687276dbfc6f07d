//! Contractions and reductions: dots (vectorized along a contiguous contraction,
//! or several result vectors at once) and reductions with independent
//! accumulators.

use super::*;

impl Emitter<'_, '_> {
    /// A dot element: a loop over the contracting dimensions.
    pub(super) fn dot(&mut self, id: InstrId, idx: &Idx) -> Value {
        self.dots(id, std::slice::from_ref(idx))[0]
    }

    /// Dot elements at several indices that share one loop over the contraction
    /// (register blocking: operand elements common to them load once).
    pub(super) fn dots(&mut self, id: InstrId, idxs: &[Idx]) -> Vec<Value> {
        let idx = &idxs[0];
        let instr = self.kernel.body.instr(id);
        let Op::Dot(d) = &instr.op else {
            unreachable!()
        };
        let element = instr.array_shape().element;
        let (lhs, rhs) = (instr.operands[0], instr.operands[1]);
        let (ls, rs) = (self.shape(lhs).clone(), self.shape(rhs).clone());
        let map = DotMap::new(d, ls.rank(), rs.rank());
        // The index of `side` for result index `idx` at contraction counters
        // `k`, the lanes running along `lane`'s image or along the contraction.
        let operand_idx = |idx: &Idx, side: Side, k: &[Value], along_k: bool| Idx {
            coords: map.operand(side, &idx.coords, k),
            lane: if along_k {
                map.contracting(side).first().copied()
            } else {
                idx.lane.and_then(|l| map.operand_dim(side, l))
            },
            lanes: if along_k { LANES } else { idx.lanes },
        };
        // When both operands are contiguous along a single contraction dimension,
        // each result element is a vector dot product along it; a result vector
        // whose lanes would gather from memory becomes one such dot per lane.
        let k_contiguous = element == ElementType::F32
            && self.lanes > 1
            && d.lhs_contracting.len() == 1
            && ls.dims[d.lhs_contracting[0]] >= LANES as usize
            && self.unit_stride(lhs, d.lhs_contracting[0])
            && self.unit_stride(rhs, d.rhs_contracting[0]);
        if k_contiguous && idx.lanes > 1 && idxs.len() == 1 {
            let lane = idx.lane.expect("a vector index has a lane");
            let gathers = match (
                map.operand_dim(Side::Lhs, lane),
                map.operand_dim(Side::Rhs, lane),
            ) {
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
            let main = self.unrolled(
                zero,
                end,
                vzero,
                &mut |e, k, acc| {
                    let x = e.element_at(lhs, &operand_idx(idx, Side::Lhs, &[k], true));
                    let y = e.element_at(rhs, &operand_idx(idx, Side::Rhs, &[k], true));
                    e.b.ins().fma(x, y, acc)
                },
                &mut |e, a, b| e.b.ins().fadd(a, b),
            );
            let tail = self.counted(main[0], end, 1, &[szero], &mut |e, k, acc| {
                let x = e.element_at(lhs, &operand_idx(idx, Side::Lhs, &[k], false));
                let y = e.element_at(rhs, &operand_idx(idx, Side::Rhs, &[k], false));
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
        let sums = self.accumulate(
            &contract_shape,
            &dims,
            zeros,
            &mut |e, k| {
                idxs.iter()
                    .map(|idx| {
                        let li = operand_idx(idx, Side::Lhs, &k, false);
                        let ri = operand_idx(idx, Side::Rhs, &k, false);
                        (e.element_at(lhs, &li), e.element_at(rhs, &ri))
                    })
                    .collect()
            },
            element,
        );
        // f16 and bf16 accumulate in f32 and round once, as the interpreter does.
        sums.into_iter()
            .map(|s| lower::round(&mut self.b, element, s))
            .collect()
    }

    /// Whether reading `id` along `dim` walks memory contiguously (or reads one
    /// element for all lanes), so that a vector along `dim` loads in one go.
    pub(super) fn unit_stride(&self, id: InstrId, dim: usize) -> bool {
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
    pub(super) fn accumulate(
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

    pub(super) fn multiply_add(
        &mut self,
        element: ElementType,
        x: Value,
        y: Value,
        acc: Value,
    ) -> Value {
        if element.is_float() {
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
    pub(super) fn reduce(&mut self, id: InstrId, idx: &Idx) -> Value {
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
        let order = elemental::reduced_in_memory_order(&from, dimensions);
        // The operand's coordinates: kept ones from `idx`, reduced ones from loops.
        let coords_of = |reduced: &[Value]| {
            elemental::reduce_operand(from.rank(), &order, &idx.coords, reduced)
        };
        let identity = lower::identity(reducer, element);
        let innermost_reduced = physical_order(&from).last() == order.last();
        let result = match order.split_last() {
            Some((&inner, outer))
                if idx.lanes == 1
                    && self.lanes > 1
                    && innermost_reduced
                    && from.dims[inner] >= LANES as usize =>
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
}
