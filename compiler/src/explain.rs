//! `omelet hlo --explain`: what the optimizer did and why, as text.
//!
//! The rewrite report (rules that fired, e-graph size, why the search stopped),
//! then one paragraph per kernel (kind, ops, layout decisions, estimated traffic
//! and flops), then the fusions that were refused with their reasons.

use std::fmt::Write;

use crate::cost;
use crate::hlo::{Computation, Instruction, Module, Op, join};
use crate::pipeline::Compiled;

pub fn explain(compiled: &Compiled) -> String {
    let mut out = String::new();
    if let Some((report, time)) = &compiled.rewrites {
        writeln!(
            out,
            "rewrites: {} after {} iterations in {:.2} ms; e-graph {} nodes in {} classes",
            report.stop.describe(),
            report.iterations,
            time.as_secs_f64() * 1e3,
            report.nodes,
            report.classes
        )
        .unwrap();
        for (rule, count) in &report.fired {
            writeln!(out, "  {count:>5}  {rule}").unwrap();
        }
    }
    let module = &compiled.module;
    let kernels = cost::kernels(module);
    let bytes: u64 = kernels.iter().map(|k| k.bytes_read + k.bytes_written).sum();
    let flops: u64 = kernels.iter().map(|k| k.flops).sum();
    writeln!(
        out,
        "kernels: {}, {bytes} bytes moved, {flops} flops (estimated)",
        kernels.len()
    )
    .unwrap();
    let entry = module.entry();
    for k in &kernels {
        writeln!(
            out,
            "  {} {}: {} | read {} B, write {} B, {} flops",
            k.name,
            k.kind,
            k.ops.join(" "),
            k.bytes_read,
            k.bytes_written,
            k.flops
        )
        .unwrap();
        let instr = entry
            .instructions
            .iter()
            .find(|i| i.name == k.name)
            .expect("every kernel is an entry instruction");
        for decision in layout_decisions(module, entry, instr) {
            writeln!(out, "    layout: {decision}").unwrap();
        }
    }
    if !compiled.refused.is_empty() {
        writeln!(out, "refused fusions:").unwrap();
        for r in &compiled.refused {
            writeln!(out, "  {} into {}: {}", r.producer, r.consumer, r.reason).unwrap();
        }
    }
    out
}

/// How a kernel reads and writes data other than plainly row-major: transposes
/// read in place, dots that read an operand transposed, column reductions.
fn layout_decisions(module: &Module, entry: &Computation, kernel: &Instruction) -> Vec<String> {
    let (comp, instrs): (&Computation, Vec<&Instruction>) = match kernel.op {
        Op::Fusion { computation, .. } => {
            let callee = module.computation(computation);
            (callee, callee.instructions.iter().collect())
        }
        _ => (entry, vec![kernel]),
    };
    let mut decisions = Vec::new();
    for instr in instrs {
        match &instr.op {
            Op::Transpose { permutation } => decisions.push(format!(
                "{} reads {} through dimensions={{{}}} in place",
                instr.name,
                comp.instr(instr.operands[0]).name,
                join(permutation)
            )),
            Op::Dot(d) => {
                let lhs = comp.instr(instr.operands[0]).array_shape();
                let rhs = comp.instr(instr.operands[1]).array_shape();
                if d.lhs_contracting.iter().any(|&c| c + 1 != lhs.rank()) {
                    decisions.push(format!(
                        "{} reads its lhs transposed (contracting dimension {{{}}})",
                        instr.name,
                        join(&d.lhs_contracting)
                    ));
                }
                let rhs_row = d.rhs_batch.len();
                if d.rhs_contracting.iter().any(|&c| c != rhs_row) && rhs.rank() > rhs_row + 1 {
                    decisions.push(format!(
                        "{} reads its rhs transposed (contracting dimension {{{}}})",
                        instr.name,
                        join(&d.rhs_contracting)
                    ));
                }
            }
            Op::Reduce { dimensions, .. } => {
                let rank = comp.instr(instr.operands[0]).array_shape().rank();
                let trailing = dimensions.iter().copied().eq(rank - dimensions.len()..rank);
                let what = if trailing { "rows" } else { "columns" };
                decisions.push(format!(
                    "{} reduces {what} (dimensions={{{}}})",
                    instr.name,
                    join(dimensions)
                ));
            }
            _ => {}
        }
    }
    decisions
}
