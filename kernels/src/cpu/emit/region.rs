//! Regions inlined: the scalar computation of a region op (a scatter's update,
//! a sort's comparator, a reduce-window's fold) applied to registers, op by op,
//! as `hlo::region::apply` applies it to scalars.

use omelet_compiler::hlo::ComputationId;

use super::*;

impl Emitter<'_, '_> {
    /// Region `id`'s results on `args`, one register (all of one width) per
    /// parameter; one register per result.
    pub(super) fn region(&mut self, id: ComputationId, args: &[Value]) -> Vec<Value> {
        let kernel = self.kernel;
        let comp = &kernel.regions[&id];
        let lanes = args.first().map_or(1, |&a| lower::lanes_of(&self.b, a));
        let mut values: Vec<Value> = Vec::with_capacity(comp.instructions.len());
        for id in comp.ids() {
            let instr = comp.instr(id);
            let element = |i: InstrId| comp.instr(i).array_shape().element;
            let value = match &instr.op {
                Op::Parameter(n) => args[*n],
                Op::Constant(literal) => {
                    lower::constant(&mut self.b, element(id), lanes, literal.get(0).bits)
                }
                // Of scalars: the same value.
                Op::Reshape | Op::Broadcast { .. } => values[instr.operands[0].index()],
                // Only the root is a tuple: its elements are the results.
                Op::Tuple => return instr.operands.iter().map(|o| values[o.index()]).collect(),
                op => {
                    let operands: Vec<Value> =
                        instr.operands.iter().map(|o| values[o.index()]).collect();
                    self.scalar_op(op, element(id), element(instr.operands[0]), &operands)
                }
            };
            values.push(value);
        }
        vec![values[comp.root.index()]]
    }
}
