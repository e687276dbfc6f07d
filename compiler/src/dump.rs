//! Machine- and picture-readable dumps of a module: JSON with the kernel
//! estimates, and Graphviz with one cluster per kernel.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::cost::{self, KernelEstimate};
use crate::hlo::{Computation, InstrId, Instruction, Module, Op};

/// `{"module": {...}, "kernels": [...], "total_bytes", "total_flops"}` (CLI.md).
pub fn json(module: &Module) -> Value {
    let kernels = cost::kernels(module);
    let total_bytes: u64 = kernels.iter().map(|k| k.bytes_read + k.bytes_written).sum();
    let total_flops: u64 = kernels.iter().map(|k| k.flops).sum();
    let computations: Vec<Value> = module
        .computations
        .iter()
        .map(|c| {
            let instructions: Vec<Value> = c
                .instructions
                .iter()
                .map(|i| {
                    let operands: Vec<&str> = i.operands.iter().map(|&o| c.instr(o).name.as_str()).collect();
                    json!({"name": i.name, "opcode": i.op.opcode(), "shape": i.shape.to_string(), "operands": operands})
                })
                .collect();
            json!({"name": c.name, "root": c.root_instr().name, "instructions": instructions})
        })
        .collect();
    json!({
        "module": {"name": module.name, "entry": module.entry().name, "computations": computations},
        "kernels": kernels,
        "kernel_count": kernels.len(),
        "total_bytes": total_bytes,
        "total_flops": total_flops,
    })
}

/// Graphviz: each kernel is a cluster labelled with its estimates; parameters and
/// constants stand outside, and edges follow the data.
pub fn dot(module: &Module) -> String {
    let entry = module.entry();
    let kernels = cost::kernels(module);
    let live = entry.live();
    let mut out = String::new();
    writeln!(
        out,
        "digraph \"{}\" {{\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];",
        escape(&module.name)
    )
    .unwrap();
    for id in entry.ids().filter(|id| live[id.index()]) {
        let instr = entry.instr(id);
        let label = node_label(instr);
        match kernels.iter().position(|k| k.name == instr.name) {
            Some(k) => {
                writeln!(
                    out,
                    "  subgraph cluster_{k} {{\n    label=\"{}\";",
                    kernel_label(&kernels[k])
                )
                .unwrap();
                match instr.op {
                    // The kernel's own ops, each a node inside the cluster.
                    Op::Fusion { computation, .. } => {
                        let callee = module.computation(computation);
                        for inner in callee.ids() {
                            let i = callee.instr(inner);
                            if !matches!(i.op, Op::Parameter(_)) {
                                writeln!(
                                    out,
                                    "    f{}_{} [label=\"{}\"];",
                                    id.index(),
                                    inner.index(),
                                    node_label(i)
                                )
                                .unwrap();
                            }
                        }
                    }
                    _ => writeln!(out, "    n{} [label=\"{label}\"];", id.index()).unwrap(),
                }
                out.push_str("  }\n");
            }
            None => {
                let style = if matches!(instr.op, Op::Parameter(_)) {
                    "ellipse"
                } else {
                    "note"
                };
                writeln!(out, "  n{} [label=\"{label}\", shape={style}];", id.index()).unwrap();
            }
        }
    }
    edges(&mut out, module, entry, &live);
    out.push_str("}\n");
    out
}

/// Edges follow the data: into a fused kernel they reach the ops that read the
/// operand, out of it they leave from the kernel's root.
fn edges(out: &mut String, module: &Module, comp: &Computation, live: &[bool]) {
    let node = |id: InstrId| match comp.instr(id).op {
        Op::Fusion { computation, .. } => {
            format!(
                "f{}_{}",
                id.index(),
                module.computation(computation).root.index()
            )
        }
        _ => format!("n{}", id.index()),
    };
    for id in comp.ids().filter(|id| live[id.index()]) {
        let instr = comp.instr(id);
        match instr.op {
            Op::Fusion { computation, .. } => {
                let callee = module.computation(computation);
                for inner in callee.ids() {
                    for &o in &callee.instr(inner).operands {
                        let from = match callee.instr(o).op {
                            Op::Parameter(p) => node(instr.operands[p]),
                            _ => format!("f{}_{}", id.index(), o.index()),
                        };
                        writeln!(out, "  {from} -> f{}_{};", id.index(), inner.index()).unwrap();
                    }
                }
            }
            _ => {
                for &operand in &instr.operands {
                    writeln!(out, "  {} -> n{};", node(operand), id.index()).unwrap();
                }
            }
        }
    }
}

fn node_label(instr: &Instruction) -> String {
    format!(
        "{}\\n{} {}",
        escape(&instr.name),
        instr.op.opcode(),
        instr.shape
    )
}

fn kernel_label(k: &KernelEstimate) -> String {
    format!(
        "{} {} | {} B read, {} B written, {} flops",
        escape(&k.name),
        k.kind,
        k.bytes_read,
        k.bytes_written,
        k.flops
    )
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
