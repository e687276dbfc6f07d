//! A sort kernel's code is its comparator, which the runtime's merge sort
//! calls per pair of positions (as XLA:CPU JIT-compiles the comparator for
//! its runtime sort): the function's `args` are the 2N addresses of the
//! region's parameters in their order (operand `i`'s element at the first
//! position, then at the second, for each operand), and it writes to
//! `scratch` one byte, 1 where the first position goes before the second.
//! `begin` and `end` are unused. A topk kernel has no code: the runtime
//! orders by total-order keys itself.

use crate::kernel::SortOrder;

use super::*;

impl Emitter<'_, '_> {
    pub(super) fn comparator(&mut self) {
        let Schedule::Sort(sort) = &self.kernel.schedule else {
            unreachable!("a sort kernel")
        };
        let SortOrder::Comparator(region) = sort.order else {
            unreachable!("topk kernels have no code")
        };
        let body = &self.kernel.body;
        let operands = &body.instr(sort.op).operands;
        let args: Vec<Value> = (0..2 * operands.len())
            .map(|n| {
                let element = body.instr(operands[n / 2]).array_shape().element;
                lower::load(&mut self.b, element, 1, self.bases[n])
            })
            .collect();
        let first = self.region(region, &args)[0];
        // A pred register is a mask (0 or -1); memory holds 0 or 1.
        let byte = self.b.ins().icmp_imm_s(IntCC::NotEqual, first, 0);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), byte, self.scratch, 0);
    }
}
