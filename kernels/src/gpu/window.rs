//! The window ops and variadic reduce in WGSL, elemental as on the CPU
//! (`cpu/emit/window.rs`): an output element is a loop over the elements
//! that make it, their region inlined, small windows unrolled.
//! `select-and-scatter` is the gather form: an operand element scans the
//! windows that contain it and takes each one's source element where the
//! window selects it, so that threads never write the same element.

use omelet_compiler::hlo::{Direction, InstrId, Op, WindowDim};

use super::emit::{Emitter, reg_type, u};
use super::ops;
use crate::elemental::window::{window_at, window_operand};
use crate::elemental::{self, row_major};

/// Windows of at most this many offsets are unrolled (a 3x3 pooling's nine).
const UNROLLED_WINDOW: usize = 16;

/// A window offset: its coordinates and its row-major position.
type Offset = (Vec<String>, String);

impl Emitter<'_> {
    /// A `reduce-window` element: the window's elements folded, in row-major
    /// window order, into the init value by the region; positions in the
    /// padding or between dilated elements are skipped.
    pub fn reduce_window(&mut self, id: InstrId, coords: &[String]) -> String {
        let body = self.body;
        let instr = body.instr(id);
        let Op::ReduceWindow { window, to_apply } = &instr.op else {
            unreachable!("called on reduce-windows")
        };
        let operand = instr.operands[0];
        let operand_dims = &body.instr(operand).array_shape().dims;
        let out_dims = &instr.array_shape().dims;
        let init = self.element_at(instr.operands[1], &[]);
        if operand_dims.contains(&0) {
            return init;
        }
        let acc = self.fresh("acc");
        let ty = reg_type(instr.array_shape().element);
        self.line(&format!("var {acc}: {ty} = {init};"));
        self.over_window(window, false, &mut |e, (k, _)| {
            let (inner, inside) = window_operand(e, window, operand_dims, out_dims, coords, &k);
            e.when(inside, &mut |e| {
                let x = e.element_at(operand, &inner);
                let folded = e.region(*to_apply, &[acc.clone(), x]);
                e.line(&format!("{acc} = {};", folded[0]));
            });
        });
        acc
    }

    /// A `select-and-scatter` element: `init`, combined by `scatter` with the
    /// source element of each window that selects this element, windows in
    /// row-major order.
    pub fn select_and_scatter(&mut self, id: InstrId, coords: &[String]) -> String {
        let body = self.body;
        let instr = body.instr(id);
        let Op::SelectAndScatter {
            window,
            select,
            scatter,
        } = &instr.op
        else {
            unreachable!("called on select-and-scatters")
        };
        let (operand, source) = (instr.operands[0], instr.operands[1]);
        let shape = instr.array_shape();
        let out_dims = &body.instr(source).array_shape().dims;
        let init = self.element_at(instr.operands[2], &[]);
        if out_dims.contains(&0) {
            return init;
        }
        let op = WindowOp {
            window,
            operand,
            operand_dims: &shape.dims,
            out_dims,
        };
        let acc = self.fresh("acc");
        self.line(&format!("var {acc}: {} = {init};", reg_type(shape.element)));
        // The larger the offset, the earlier the window that reads this
        // element with it: offsets in reverse give windows in order.
        self.over_window(window, true, &mut |e, (k, mine)| {
            let (o, there) = window_at(e, window, out_dims, coords, &k);
            e.when(there, &mut |e| {
                let chosen = e.selected(&op, *select, &o);
                let x = e.element_at(source, &o);
                let combined = ops::combine(e, *scatter, shape.element, &acc, &x);
                e.line(&format!(
                    "if ({chosen} == {mine}) {{ {acc} = {combined}; }}"
                ));
            });
        });
        acc
    }

    /// The row-major offset of the element that `select` picks in the window
    /// at `o`: a candidate replaces the current pick unless
    /// `select(current, candidate)` holds, so that of equal maxima under `GE`
    /// the first stays.
    fn selected(&mut self, scan: &WindowOp, select: Direction, o: &[String]) -> String {
        let element = self.shape(scan.operand).element;
        let (picked, current, at) = (self.fresh("picked"), self.fresh("cur"), self.fresh("at"));
        self.line(&format!("var {picked} = false;"));
        self.line(&format!("var {current}: {};", reg_type(element)));
        self.line(&format!("var {at} = 0u;"));
        self.over_window(scan.window, false, &mut |e, (k, here)| {
            let (inner, inside) =
                window_operand(e, scan.window, scan.operand_dims, scan.out_dims, o, &k);
            e.when(inside, &mut |e| {
                let x = e.element_at(scan.operand, &inner);
                let prefers = ops::compare(select, element, &current, &x);
                e.line(&format!(
                    "if (!({picked} && ({prefers}))) {{ {current} = {x}; {at} = {here}; }}"
                ));
                e.line(&format!("{picked} = true;"));
            });
        });
        at
    }

    /// Runs `body` on each offset of `window` in row-major order (reversed
    /// where `reverse`): unrolled where the window is small, else a loop.
    fn over_window(
        &mut self,
        window: &[WindowDim],
        reverse: bool,
        body: &mut dyn FnMut(&mut Self, Offset),
    ) {
        let sizes: Vec<usize> = window.iter().map(|w| w.size).collect();
        let count: usize = sizes.iter().product();
        let order = row_major(sizes.len());
        if count <= UNROLLED_WINDOW {
            for j in 0..count {
                let flat = if reverse { count - 1 - j } else { j };
                let k = elemental::delinearize(self, &u(flat), &sizes, &order);
                body(self, (k, u(flat)));
            }
            return;
        }
        let j = self.fresh("w");
        self.open_loop(&j, &u(0), count, &u(1));
        let flat = match reverse {
            false => j,
            true => self.bind("u32", &format!("{} - {j}", u(count - 1))),
        };
        let k = elemental::delinearize(self, &flat, &sizes, &order);
        body(self, (k, flat));
        self.close();
    }

    /// `body` inside `if (cond)`, or unconditionally where there is none.
    fn when(&mut self, cond: Option<String>, body: &mut dyn FnMut(&mut Self)) {
        match cond {
            None => body(self),
            Some(cond) => {
                self.open(&format!("if ({cond})"));
                body(self);
                self.close();
            }
        }
    }

    /// A `get-tuple-element` of an op of several results.
    pub fn tuple_element(&mut self, tuple: InstrId, index: usize, coords: &[String]) -> String {
        match &self.body.instr(tuple).op {
            Op::ReduceTuple { .. } => self.reduce_tuple(tuple, coords)[index].clone(),
            op => unreachable!("{} gives no tuple to the emitter", op.opcode()),
        }
    }

    /// A variadic reduce's results at `coords`, computed in one loop over the
    /// reduced elements (in the order of its `dimensions`, as the interpreter
    /// folds them) and memoized for each of its `get-tuple-element`s.
    fn reduce_tuple(&mut self, id: InstrId, coords: &[String]) -> Vec<String> {
        let body = self.body;
        let instr = body.instr(id);
        let Op::ReduceTuple {
            dimensions,
            to_apply,
        } = &instr.op
        else {
            unreachable!("called on variadic reduces")
        };
        let (inputs, inits) = instr.operands.split_at(instr.operands.len() / 2);
        let from = &body.instr(inputs[0]).array_shape().dims;
        let accs: Vec<String> = inits
            .iter()
            .map(|&i| {
                let init = self.element_at(i, &[]);
                let acc = self.fresh("acc");
                let ty = reg_type(self.shape(i).element);
                self.line(&format!("var {acc}: {ty} = {init};"));
                acc
            })
            .collect();
        let sizes: Vec<usize> = dimensions.iter().map(|&d| from[d]).collect();
        let r = self.fresh("r");
        self.open_loop(&r, &u(0), sizes.iter().product(), &u(1));
        let reduced = self.delinearize(&r, &sizes, &row_major(sizes.len()));
        let at = elemental::reduce_operand(from.len(), dimensions, coords, &reduced);
        let mut args = accs.clone();
        for &input in inputs {
            args.push(self.element_at(input, &at));
        }
        let results = self.region(*to_apply, &args);
        for (acc, result) in accs.iter().zip(&results) {
            self.line(&format!("{acc} = {result};"));
        }
        self.close();
        for gte in body.ids() {
            let user = body.instr(gte);
            if let Op::GetTupleElement { index } = user.op
                && user.operands[0] == id
            {
                self.remember(gte, coords, accs[index].clone());
            }
        }
        accs
    }
}

/// What a window op reads: its operand, the operand's and the window
/// positions' dimensions.
struct WindowOp<'a> {
    window: &'a [WindowDim],
    operand: InstrId,
    operand_dims: &'a [usize],
    out_dims: &'a [usize],
}
