//! Loop nests: counted loops with carried values, the vectorized innermost
//! dimension with its scalar tail, tiles, and unrolled accumulations.

use super::*;

impl Emitter<'_, '_> {
    /// Loops over the dimensions `order` of `shape` (major to minor), the
    /// dimensions `0..prefix.len()` fixed at `prefix`. The innermost dimension runs
    /// `LANES` at a time and then one at a time; `range` bounds one dimension.
    pub(super) fn nest(
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
    pub(super) fn tiled_nest(
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
    pub(super) fn tiles(
        &mut self,
        start: Value,
        end: Value,
        body: &mut dyn FnMut(&mut Self, Value, Value),
    ) {
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
    pub(super) fn nest_one(
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
        let next = if self.lanes > 1 && dims[d] >= LANES as usize {
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
    pub(super) fn loops(
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
    pub(super) fn bounds(&mut self, range: Option<Range>, d: usize, size: usize) -> (Value, Value) {
        match range {
            Some(r) if r.dim == d => (r.begin, r.end),
            _ => (self.iconst(0), self.iconst(size)),
        }
    }

    /// `for (i = start; i + step <= end; i += step) body(i)`; returns the first
    /// `i` not run. Values generated inside do not outlive the loop.
    pub(super) fn for_loop(
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
    pub(super) fn counted(
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

    /// A vector accumulation over `[start, end)`: `UNROLL` independent
    /// accumulators (starting at `identity`) take `LANES` elements each per
    /// iteration, hiding the latency of the combining op, then one accumulator
    /// takes what is left in whole vectors. Returns the first index not taken
    /// and the combined accumulator.
    pub(super) fn unrolled(
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

    /// Nested loops over `dims` (sizes in `sizes`) carrying accumulators.
    pub(super) fn reduce_loops(
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

    /// `body(carried)` where `cond` holds, `carried` elsewhere: a branch, so
    /// that the body reads only where its condition holds.
    pub(super) fn when(
        &mut self,
        cond: Option<Value>,
        carried: Vec<Value>,
        body: &mut dyn FnMut(&mut Self, Vec<Value>) -> Vec<Value>,
    ) -> Vec<Value> {
        let Some(cond) = cond else {
            return body(self, carried);
        };
        let then = self.b.create_block();
        let join = self.b.create_block();
        for &v in &carried {
            let ty = self.b.func.dfg.value_type(v);
            self.b.append_block_param(join, ty);
        }
        let skip: Vec<BlockArg> = carried.iter().map(|&v| BlockArg::Value(v)).collect();
        self.b.ins().brif(cond, then, &[], join, &skip);
        self.b.switch_to_block(then);
        self.b.seal_block(then);
        // Elements generated in the branch are not there after it.
        let saved = self.memo.clone();
        let out = body(self, carried);
        self.memo = saved;
        let taken: Vec<BlockArg> = out.into_iter().map(BlockArg::Value).collect();
        self.b.ins().jump(join, &taken);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        self.b.block_params(join).to_vec()
    }
}
