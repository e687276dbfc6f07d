//! The cost model's estimates: bytes a kernel must read and write, and its flops.
//!
//! Before fusion every instruction that computes or moves data is its own kernel
//! (CLI.md); [`kernels`] lists them with their estimates, for `omelet hlo --format
//! json` and for the bandwidth figures of `omelet bench`.

use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::hlo::{Computation, FusionKind, InstrId, Module, Op};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KernelEstimate {
    pub name: String,
    /// `kLoop` (elementwise and data movement), `kInput` (reductions) or `kOutput` (dots).
    pub kind: &'static str,
    /// The opcodes the kernel computes.
    pub ops: Vec<&'static str>,
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub flops: u64,
}

/// One kernel per live instruction of the entry computation that is not free.
pub fn kernels(module: &Module) -> Vec<KernelEstimate> {
    let entry = module.entry();
    let live = entry.live();
    entry
        .ids()
        .filter(|id| live[id.index()] && !entry.instr(*id).op.is_free())
        .map(|id| estimate(module, entry, id))
        .collect()
}

fn estimate(module: &Module, comp: &Computation, id: InstrId) -> KernelEstimate {
    let instr = comp.instr(id);
    let distinct: FxHashSet<InstrId> = instr.operands.iter().copied().collect();
    let bytes_read = match &instr.op {
        // A slice touches only the elements it keeps; a dynamic slice and a
        // gather also read their start indices.
        Op::Slice { .. } => instr.shape.byte_size(),
        Op::DynamicSlice { .. } | Op::Gather(_) => {
            let starts = instr.operands[1..].iter();
            instr.shape.byte_size()
                + starts
                    .map(|&o| comp.instr(o).shape.byte_size())
                    .sum::<usize>()
        }
        // A fusion reads of each input what its members read.
        Op::Fusion { computation, .. } => {
            let callee = module.computation(*computation);
            callee
                .parameters
                .iter()
                .map(|&p| parameter_bytes_read(callee, p))
                .sum()
        }
        _ => distinct
            .iter()
            .map(|&o| comp.instr(o).shape.byte_size())
            .sum(),
    } as u64;
    let (kind, ops) = match &instr.op {
        Op::Fusion { kind, computation } => {
            let callee = module.computation(*computation);
            let ops = callee
                .instructions
                .iter()
                .filter(|i| !i.op.is_free())
                .map(|i| i.op.opcode());
            (kind.name(), ops.collect())
        }
        op => (single_op_kind(op).name(), vec![op.opcode()]),
    };
    KernelEstimate {
        name: instr.name.clone(),
        kind,
        ops,
        bytes_read,
        bytes_written: instr.shape.byte_size() as u64,
        flops: flops(module, comp, id),
    }
}

/// The bytes a fused computation reads of its parameter `p`: all of it, unless
/// every reader picks elements out of it (the slices, dynamic slices and
/// gathers of an embedding lookup read only the rows they keep).
fn parameter_bytes_read(body: &Computation, p: InstrId) -> usize {
    let whole = body.instr(p).shape.byte_size();
    let live = body.live();
    let mut picked = 0;
    for id in body.ids().filter(|id| live[id.index()]) {
        let instr = body.instr(id);
        let Some(k) = instr.operands.iter().position(|&o| o == p) else {
            continue;
        };
        let picks = k == 0
            && !instr.operands[1..].contains(&p)
            && matches!(
                instr.op,
                Op::Slice { .. } | Op::DynamicSlice { .. } | Op::Gather(_)
            );
        if !picks {
            return whole;
        }
        picked += instr.shape.byte_size();
    }
    picked.min(whole)
}

/// What any implementation must move: every input read once, every result
/// written once.
pub fn minimum_bytes(module: &Module) -> u64 {
    let inputs: usize = module
        .parameter_shapes()
        .iter()
        .map(|s| s.byte_size())
        .sum();
    let results: usize = module.result_shapes().iter().map(|s| s.byte_size()).sum();
    (inputs + results) as u64
}

/// The fusion kind XLA would give a kernel made of this op alone.
pub fn single_op_kind(op: &Op) -> FusionKind {
    match op {
        Op::Reduce { .. } => FusionKind::Input,
        Op::Dot(_) => FusionKind::Output,
        _ => FusionKind::Loop,
    }
}

/// Floating-point (or integer) operations: one per element for elementwise ops and
/// reductions, two per multiply-add for dots, none for data movement.
pub fn flops(module: &Module, comp: &Computation, id: InstrId) -> u64 {
    let instr = comp.instr(id);
    let elements = || {
        instr
            .shape
            .arrays()
            .iter()
            .map(|a| a.element_count())
            .sum::<usize>() as u64
    };
    match &instr.op {
        op if op.is_elementwise() => elements(),
        Op::Reduce { .. } | Op::ReduceTuple { .. } | Op::Sort { .. } | Op::TopK { .. } => {
            comp.instr(instr.operands[0]).array_shape().element_count() as u64
        }
        Op::CompareTotalOrder(_) => elements(),
        Op::Scatter { .. } => comp.instr(instr.operands[2]).array_shape().element_count() as u64,
        Op::ReduceWindow { window, .. } => {
            elements() * window.iter().map(|w| w.size as u64).product::<u64>()
        }
        Op::SelectAndScatter { window, .. } => {
            let source = comp.instr(instr.operands[1]).array_shape().element_count() as u64;
            source * window.iter().map(|w| w.size as u64).product::<u64>()
        }
        Op::Dot(dims) => {
            let lhs = comp.instr(instr.operands[0]).array_shape();
            let contracted: usize = dims.lhs_contracting.iter().map(|&d| lhs.dims[d]).product();
            2 * elements() * contracted as u64
        }
        Op::Fusion { computation, .. } => {
            let callee = module.computation(*computation);
            callee.ids().map(|i| flops(module, callee, i)).sum()
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse_module;

    /// A fused embedding lookup reads the table's rows its tokens name, and
    /// all of an input that an elementwise op reads.
    #[test]
    fn a_fusion_reads_the_rows_its_gather_picks() {
        let module = parse_module(
            "HloModule m

fused {
  table = f32[1000,64] parameter(0)
  ids = s32[8,1] parameter(1)
  scale = f32[8,64] parameter(2)
  rows = f32[8,64] gather(table, ids), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0}, index_vector_dim=1, slice_sizes={1,64}
  ROOT r = f32[8,64] multiply(rows, scale)
}

ENTRY e {
  t = f32[1000,64] parameter(0)
  i = s32[8,1] parameter(1)
  s = f32[8,64] parameter(2)
  ROOT f = f32[8,64] fusion(t, i, s), kind=kLoop, calls=fused
}
",
        )
        .unwrap();
        let [estimate] = kernels(&module).try_into().unwrap();
        assert_eq!(estimate.bytes_read, 8 * 64 * 4 + 8 * 4 + 8 * 64 * 4);
        assert_eq!(estimate.bytes_written, 8 * 64 * 4);
    }
}
