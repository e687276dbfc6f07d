//! The scatter schedule (XLA:CPU's scatter loop, made parallel): the output is
//! the operand, then each update in turn is combined into the element it lands
//! on by the scatter's region, inlined. A thread owns `[begin, end)` of one
//! operand dimension whose coordinate is an update coordinate
//! ([`scatter::split`]): it copies that part of the operand and applies only
//! the updates landing there, in order, so that no two threads write one
//! element and no barrier separates the copy from the updates.

use super::*;
use crate::scatter::{self, ScatterMap};

impl Emitter<'_, '_> {
    pub(super) fn scatter(&mut self, owned: &[scatter::Owned], begin: Value, end: Value) {
        let kernel = self.kernel;
        let id = kernel.outputs[0];
        let instr = kernel.body.instr(id);
        let Op::Scatter { dims, update, .. } = &instr.op else {
            unreachable!("a scatter kernel's output is its scatter")
        };
        let (operand, indices, updates) = (instr.operands[0], instr.operands[1], instr.operands[2]);
        let out = self.shape(id);
        let map = ScatterMap::new(dims, self.shape(operand), self.shape(indices));
        let split = scatter::split(owned, &out.dims);
        let out_base = self.bases[kernel.body.parameters.len()];
        let out_strides = strides(out);

        let part = split.map(|s| Range {
            dim: s.operand,
            begin,
            end,
        });
        // An operand read from a buffer may be the output's own (the plan
        // updates a dead operand in place): then there is nothing to copy.
        let copy = match kernel.body.instr(operand).op {
            Op::Parameter(p) => Some(self.b.ins().icmp(IntCC::NotEqual, self.bases[p], out_base)),
            _ => None,
        };
        self.when(copy, Vec::new(), &mut |e, _| {
            e.nest(out, &physical_order(out), part, &[], &mut |e, idx| {
                let v = e.element_at(operand, &idx);
                e.write(out_base, out.element, &out_strides, &idx, v);
            });
            Vec::new()
        });
        if !map.lands_anywhere() {
            return;
        }

        let upd = self.shape(updates);
        // The part's updates: those in `[begin, end)` of the owned update
        // dimension (a window may be narrower than the operand).
        let part = split.map(|s| {
            let size = self.iconst(upd.dims[s.update]);
            Range {
                dim: s.update,
                begin,
                end: self.b.ins().smin(end, size),
            }
        });
        let zero = self.iconst(0);
        let window_order = map.window_dims.clone();
        self.loops(
            &upd.dims,
            &map.scatter_dims,
            part,
            Vec::new(),
            &mut |e, position| {
                let window = map.window(e, indices, &upd.dims, &position);
                let mut coords = vec![zero; upd.rank()];
                for (&d, &c) in map.scatter_dims.iter().zip(&position) {
                    coords[d] = c;
                }
                e.when(window.fits, Vec::new(), &mut |e, _| {
                    e.nest(upd, &window_order, part, &coords, &mut |e, idx| {
                        let at = map.operand_coords(e, &window.starts, &idx.coords);
                        let target = Idx {
                            coords: at,
                            lane: idx.lane.and_then(|l| map.operand_of_window(l)),
                            lanes: idx.lanes,
                        };
                        let old = e.read(out_base, out.element, &out_strides, &target);
                        let new = e.element_at(updates, &idx);
                        let combined = e.region(*update, &[old, new])[0];
                        e.write(out_base, out.element, &out_strides, &target, combined);
                    });
                    Vec::new()
                });
            },
        );
    }
}
