//! Machine- and picture-readable dumps of a module: JSON with the kernel
//! estimates, and Graphviz with one cluster per kernel.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::cost::{self, KernelEstimate};
use crate::hlo::{Computation, Module, Op};

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
        let label = format!(
            "{}\\n{} {}",
            escape(&instr.name),
            instr.op.opcode(),
            instr.shape
        );
        match kernels.iter().position(|k| k.name == instr.name) {
            Some(k) => {
                writeln!(out, "  subgraph cluster_{k} {{\n    label=\"{}\";\n    n{} [label=\"{label}\"];\n  }}", kernel_label(&kernels[k]), id.index()).unwrap();
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
    edges(&mut out, entry, &live);
    out.push_str("}\n");
    out
}

fn edges(out: &mut String, comp: &Computation, live: &[bool]) {
    for id in comp.ids().filter(|id| live[id.index()]) {
        for operand in &comp.instr(id).operands {
            writeln!(out, "  n{} -> n{};", operand.index(), id.index()).unwrap();
        }
    }
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
