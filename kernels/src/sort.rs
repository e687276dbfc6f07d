//! The sort schedule: `sort` (every operand permuted alike along one
//! dimension, by a comparator region) and `topk` (a sort of the last dimension
//! in IEEE total order, cut to its first `k`), each a kernel of its own
//! (`Kernel::single`) whose rows the engines sort independently.

use omelet_compiler::hlo::{ArrayShape, Computation, ComputationId, InstrId, Op};

/// How a sort kernel orders and what it keeps of each row.
#[derive(Clone, Debug)]
pub struct Sort {
    /// The sort or topk instruction of the body; its operands are the body's
    /// parameters, in order.
    pub op: InstrId,
    /// The dimension sorted: a row is every element along it at one index of
    /// the others.
    pub dimension: usize,
    pub order: SortOrder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    /// `sort`: the region decides whether its first elements go before its
    /// second (2N scalar parameters, operand by operand); equal elements keep
    /// their order. Output `i` is operand `i` permuted.
    Comparator(ComputationId),
    /// `topk`: the `k` greatest elements (least where not `largest`) in total
    /// order, equal ones by smaller index; the values, then their `s32`
    /// indices.
    TopK { k: usize, largest: bool },
}

impl Sort {
    /// The sort schedule of `body` (with `outputs`) when it holds a live sort
    /// or topk: only the op alone over the parameters, its results the
    /// outputs in order (`Kernel::single`'s form), compiles.
    pub fn of(body: &Computation, outputs: &[InstrId]) -> Result<Option<Sort>, String> {
        let live = body.live();
        let Some(op) = body.ids().find(|id| {
            live[id.index()] && matches!(body.instr(*id).op, Op::Sort { .. } | Op::TopK { .. })
        }) else {
            return Ok(None);
        };
        let instr = body.instr(op);
        let alone = instr
            .operands
            .iter()
            .copied()
            .eq(body.parameters.iter().copied())
            && body.ids().filter(|id| live[id.index()]).all(|id| {
                let i = body.instr(id);
                match i.op {
                    Op::Parameter(_) | Op::Tuple => true,
                    Op::GetTupleElement { .. } => i.operands == [op],
                    _ => id == op,
                }
            })
            && (outputs == [op]
                || outputs
                    .iter()
                    .enumerate()
                    .all(|(n, &o)| body.instr(o).op == Op::GetTupleElement { index: n })
                    && outputs.len() == instr.shape.arrays().len());
        if !alone {
            return Err(format!(
                "{} ({}) is compiled only alone over its operands, not with other ops in one kernel",
                instr.name,
                instr.op.opcode()
            ));
        }
        let (dimension, order) = match instr.op {
            Op::Sort {
                dimension,
                comparator,
                ..
            } => (dimension, SortOrder::Comparator(comparator)),
            Op::TopK { k, largest } => {
                let rank = body.instr(instr.operands[0]).array_shape().rank();
                (rank - 1, SortOrder::TopK { k, largest })
            }
            _ => unreachable!("found as a sort or topk"),
        };
        Ok(Some(Sort {
            op,
            dimension,
            order,
        }))
    }

    /// The first operand's shape (every operand has its dimensions).
    pub fn operand<'b>(&self, body: &'b Computation) -> &'b ArrayShape {
        body.instr(body.instr(self.op).operands[0]).array_shape()
    }

    /// Elements per row.
    pub fn length(&self, body: &Computation) -> usize {
        self.operand(body).dims[self.dimension]
    }

    /// Rows: the product of the other dimensions.
    pub fn rows(&self, body: &Computation) -> usize {
        let dims = &self.operand(body).dims;
        let all: usize = dims.iter().product();
        match dims[self.dimension] {
            0 => dims
                .iter()
                .enumerate()
                .filter(|&(d, _)| d != self.dimension)
                .map(|(_, &n)| n)
                .product(),
            n => all / n,
        }
    }

    /// Elements each output keeps of a sorted row.
    pub fn kept(&self, body: &Computation) -> usize {
        match self.order {
            SortOrder::Comparator(_) => self.length(body),
            SortOrder::TopK { k, .. } => k,
        }
    }
}
