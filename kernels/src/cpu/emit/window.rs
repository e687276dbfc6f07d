//! The window ops and variadic reduce, elemental (XLA's
//! `elemental_ir_emitter`): an output element is a loop over the elements
//! that make it, their region inlined. Small windows (a 3x3 pooling) are
//! unrolled. Where the lanes run along a dimension the window keeps (batch,
//! channels), they run through the window too; else each lane is generated
//! on its own.
//!
//! `select-and-scatter` is the gather form: an operand element scans the
//! windows that contain it, in the order the interpreter visits them, and
//! takes each one's source element where the window selects it. That makes
//! every output element on its own (race-free and parallel, like the other
//! loop kernels) at the cost of scanning each window once per element it
//! contains.

use omelet_compiler::hlo::{ComputationId, Direction, WindowDim};

use super::*;
use crate::elemental::window::{keeps_coordinate, window_at, window_operand};

/// Windows of at most this many offsets are unrolled (a 3x3 pooling's nine).
const UNROLLED_WINDOW: usize = 16;

/// What a window op reads, in the emitter's terms.
struct WindowOp<'k> {
    window: &'k [WindowDim],
    operand: InstrId,
    /// The operand's and the window positions' dimensions.
    operand_dims: &'k [usize],
    out_dims: &'k [usize],
}

impl Emitter<'_, '_> {
    /// A `reduce-window` element: the window's elements folded, in row-major
    /// window order, into the init value by the region; positions in the
    /// padding or between dilated elements are skipped.
    pub(super) fn reduce_window(&mut self, id: InstrId, idx: &Idx) -> Value {
        let kernel = self.kernel;
        let instr = kernel.body.instr(id);
        let Op::ReduceWindow { window, to_apply } = &instr.op else {
            unreachable!("called on reduce-windows")
        };
        if idx.lane.is_some_and(|l| !keeps_coordinate(&window[l])) {
            return self.per_lane(id, idx);
        }
        let init = self.scalar_at(instr.operands[1], idx.lanes);
        let op = WindowOp {
            window,
            operand: instr.operands[0],
            operand_dims: &kernel.body.instr(instr.operands[0]).array_shape().dims,
            out_dims: &instr.array_shape().dims,
        };
        if op.operand_dims.contains(&0) {
            return init;
        }
        let to_apply: ComputationId = *to_apply;
        let acc = self.over_window(window, false, vec![init], &mut |e, k, accs| {
            let (coords, inside) =
                window_operand(e, op.window, op.operand_dims, op.out_dims, &idx.coords, &k);
            e.when(inside, accs, &mut |e, accs| {
                let x = e.element_at(op.operand, &idx.with_coords(coords.clone()));
                e.region(to_apply, &[accs[0], x])
            })
        });
        acc[0]
    }

    /// A `select-and-scatter` element: `init`, combined by `scatter` with the
    /// source element of each window that selects this element, windows in
    /// row-major order.
    pub(super) fn select_and_scatter(&mut self, id: InstrId, idx: &Idx) -> Value {
        let kernel = self.kernel;
        let instr = kernel.body.instr(id);
        let Op::SelectAndScatter {
            window,
            select,
            scatter,
        } = &instr.op
        else {
            unreachable!("called on select-and-scatters")
        };
        if idx.lane.is_some_and(|l| !keeps_coordinate(&window[l])) {
            return self.per_lane(id, idx);
        }
        let (source, element) = (instr.operands[1], instr.array_shape().element);
        let init = self.scalar_at(instr.operands[2], idx.lanes);
        let op = WindowOp {
            window,
            operand: instr.operands[0],
            operand_dims: &instr.array_shape().dims,
            out_dims: &kernel.body.instr(source).array_shape().dims,
        };
        if op.out_dims.contains(&0) {
            return init;
        }
        let (select, scatter) = (*select, *scatter);
        // The larger the offset, the earlier the window that reads this
        // element with it: offsets in reverse give windows in order.
        let acc = self.over_window(window, true, vec![init], &mut |e, k, accs| {
            let (o, there) = window_at(e, op.window, op.out_dims, &idx.coords, &k);
            e.when(there, accs, &mut |e, accs| {
                let chosen = e.selected(&op, select, &o, idx);
                let mine = e.window_offset(op.window, &k, idx.lanes);
                let hit = lower::compare(&mut e.b, Direction::Eq, ElementType::S32, chosen, mine);
                let x = e.element_at(source, &idx.with_coords(o.clone()));
                let combined = lower::combine(&mut e.b, scatter, element, accs[0], x);
                vec![lower::select(&mut e.b, hit, combined, accs[0])]
            })
        });
        acc[0]
    }

    /// The offset (row-major, as `s32` lanes) of the element that `select`
    /// picks in the window at `o`: a candidate replaces the current pick
    /// unless `select(current, candidate)` holds, so that of equal maxima
    /// under `GE` the first stays.
    fn selected(&mut self, op: &WindowOp, select: Direction, o: &[Value], idx: &Idx) -> Value {
        let element = self.element(op.operand);
        let lanes = idx.lanes;
        let none = lower::constant(&mut self.b, ElementType::Pred, lanes, 0);
        let value = lower::constant(&mut self.b, element, lanes, 0);
        let offset = lower::constant(&mut self.b, ElementType::S32, lanes, 0);
        let found = self.over_window(
            op.window,
            false,
            vec![none, value, offset],
            &mut |e, k, state| {
                let (coords, inside) =
                    window_operand(e, op.window, op.operand_dims, op.out_dims, o, &k);
                e.when(inside, state, &mut |e, state| {
                    let &[picked, current, at] = state.as_slice() else {
                        unreachable!("three carried values")
                    };
                    let x = e.element_at(op.operand, &idx.with_coords(coords.clone()));
                    let prefers = lower::compare(&mut e.b, select, element, current, x);
                    let keep = e.b.ins().band(picked, prefers);
                    let here = e.window_offset(op.window, &k, lanes);
                    vec![
                        lower::constant(&mut e.b, ElementType::Pred, lanes, 1),
                        lower::select(&mut e.b, keep, current, x),
                        lower::select(&mut e.b, keep, at, here),
                    ]
                })
            },
        );
        found[2]
    }

    /// The row-major position of window offset `k`, as `s32` lanes.
    fn window_offset(&mut self, window: &[WindowDim], k: &[Value], lanes: u32) -> Value {
        let sizes: Vec<usize> = window.iter().map(|w| w.size).collect();
        let flat = elemental::linearize(self, k, &sizes, &elemental::row_major(sizes.len()));
        let narrow = self.b.ins().ireduce(types::I32, flat);
        lower::splat(&mut self.b, narrow, lanes)
    }

    /// Runs `body` on each offset of `window` in row-major order (reversed
    /// where `reverse`), carrying `accs`: unrolled where the window is small,
    /// else loops.
    fn over_window(
        &mut self,
        window: &[WindowDim],
        reverse: bool,
        accs: Vec<Value>,
        body: &mut Accumulating<'_, Self>,
    ) -> Vec<Value> {
        let sizes: Vec<usize> = window.iter().map(|w| w.size).collect();
        let count: usize = sizes.iter().product();
        if count <= UNROLLED_WINDOW {
            let mut offsets: Vec<usize> = (0..count).collect();
            if reverse {
                offsets.reverse();
            }
            return offsets.into_iter().fold(accs, |accs, flat| {
                let mut rest = flat;
                let mut k: Vec<Value> = sizes
                    .iter()
                    .rev()
                    .map(|&n| {
                        let c = rest % n;
                        rest /= n;
                        self.iconst(c)
                    })
                    .collect();
                k.reverse();
                body(self, k, accs)
            });
        }
        let dims: Vec<usize> = (0..sizes.len()).collect();
        self.reduce_loops(&sizes, &dims, Vec::new(), accs, &mut |e, counters, accs| {
            let k = match reverse {
                false => counters,
                true => counters
                    .iter()
                    .zip(&sizes)
                    .map(|(&c, &n)| {
                        let last = e.iconst(n - 1);
                        e.b.ins().isub(last, c)
                    })
                    .collect(),
            };
            body(e, k, accs)
        })
    }

    /// A scalar's element, splatted to `lanes`.
    fn scalar_at(&mut self, id: InstrId, lanes: u32) -> Value {
        let v = self.element_at(id, &Idx::scalar(Vec::new()));
        lower::splat(&mut self.b, v, lanes)
    }

    /// A `get-tuple-element` of an op of several results.
    pub(super) fn tuple_element(&mut self, tuple: InstrId, index: usize, idx: &Idx) -> Value {
        match &self.kernel.body.instr(tuple).op {
            Op::ReduceTuple { .. } => self.reduce_tuple(tuple, idx)[index],
            op => unreachable!("{} gives no tuple to the emitter", op.opcode()),
        }
    }

    /// A variadic reduce's results at `idx`, computed in one pass over the
    /// reduced elements (in the order of its `dimensions`, as the interpreter
    /// folds them) and memoized for each of its `get-tuple-element`s.
    fn reduce_tuple(&mut self, id: InstrId, idx: &Idx) -> Vec<Value> {
        let kernel = self.kernel;
        let instr = kernel.body.instr(id);
        let Op::ReduceTuple {
            dimensions,
            to_apply,
        } = &instr.op
        else {
            unreachable!("called on variadic reduces")
        };
        let (inputs, inits) = instr.operands.split_at(instr.operands.len() / 2);
        let from = &kernel.body.instr(inputs[0]).array_shape().dims;
        let kept: Vec<usize> = (0..from.len())
            .filter(|d| !dimensions.contains(d))
            .collect();
        let lane = idx.lane.map(|l| kept[l]);
        let start: Vec<Value> = inits
            .iter()
            .map(|&i| self.scalar_at(i, idx.lanes))
            .collect();
        let to_apply = *to_apply;
        let results = self.reduce_loops(
            from,
            dimensions,
            Vec::new(),
            start,
            &mut |e, reduced, accs| {
                let at = Idx {
                    coords: elemental::reduce_operand(
                        from.len(),
                        dimensions,
                        &idx.coords,
                        &reduced,
                    ),
                    lane,
                    lanes: idx.lanes,
                };
                let mut args = accs;
                for &input in inputs {
                    args.push(e.element_at(input, &at));
                }
                e.region(to_apply, &args)
            },
        );
        for gte in kernel.body.ids() {
            let user = kernel.body.instr(gte);
            if let Op::GetTupleElement { index } = user.op
                && user.operands[0] == id
            {
                self.memo.insert((gte, idx.clone()), results[index]);
            }
        }
        results
    }
}

impl Idx {
    /// The index at other coordinates, with the same lanes along the same
    /// dimension.
    fn with_coords(&self, coords: Vec<Value>) -> Idx {
        Idx {
            coords,
            lane: self.lane,
            lanes: self.lanes,
        }
    }
}
