//! The HLO text printer, in the form JAX prints and XLA's parser reads.
//!
//! `reduce` keeps only its combiner ([`ReduceOp`]), so the printer writes one small
//! `to_apply` region per (combiner, element type) the module uses, ahead of the other
//! computations. Printing is deterministic: `print(parse(print(m))) == print(m)`.

use std::collections::BTreeMap;
use std::fmt::Write;

use rustc_hash::FxHashSet;

use super::index_ops::{GatherDims, PadDim};
use super::module::{Computation, ComputationId, Instruction, Module};
use super::op::{DotDims, Op, ReduceOp};
use super::shape::{ElementType, join};

pub fn print_module(module: &Module) -> String {
    let regions = reduce_regions(module);
    let mut out = String::new();
    let entry = module.entry();
    let params: Vec<String> = module
        .parameter_shapes()
        .iter()
        .map(|s| s.to_string())
        .collect();
    writeln!(
        out,
        "HloModule {}, entry_computation_layout={{({})->{}}}",
        module.name,
        params.join(", "),
        entry.root_instr().shape
    )
    .unwrap();
    for (&(reducer, element), name) in &regions {
        let combiner = reducer.combiner().opcode();
        let t = element.name();
        write!(
            out,
            "\n{name} {{\n  lhs = {t}[] parameter(0)\n  rhs = {t}[] parameter(1)\n  ROOT {combiner} = {t}[] {combiner}(lhs, rhs)\n}}\n"
        )
        .unwrap();
    }
    let others = module
        .computations
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != module.entry.index());
    for (_, comp) in others {
        out.push('\n');
        print_computation(&mut out, module, comp, false, &regions);
    }
    out.push('\n');
    print_computation(&mut out, module, entry, true, &regions);
    out
}

type Regions = BTreeMap<(ReduceOp, ElementType), String>;

/// Names a region for every (combiner, type) that some `reduce` uses, avoiding the
/// module's computation names.
fn reduce_regions(module: &Module) -> Regions {
    let mut taken: FxHashSet<&str> = module
        .computations
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let mut regions = Regions::new();
    for comp in &module.computations {
        for instr in &comp.instructions {
            if let Op::Reduce { reducer, .. } = instr.op {
                let element = instr.array_shape().element;
                regions.entry((reducer, element)).or_default();
            }
        }
    }
    for ((reducer, element), name) in regions.iter_mut() {
        let base = format!("{}_{}", reducer.combiner().opcode(), element.name());
        let mut candidate = base.clone();
        let mut n = 1;
        while taken.contains(candidate.as_str()) {
            n += 1;
            candidate = format!("{base}.{n}");
        }
        *name = candidate;
        taken.insert(name.as_str());
    }
    regions
}

fn print_computation(
    out: &mut String,
    module: &Module,
    comp: &Computation,
    is_entry: bool,
    regions: &Regions,
) {
    if is_entry {
        out.push_str("ENTRY ");
    }
    writeln!(out, "{} {{", comp.name).unwrap();
    for id in comp.ids() {
        let instr = comp.instr(id);
        let root = if id == comp.root { "ROOT " } else { "" };
        write!(
            out,
            "  {root}{} = {} {}(",
            instr.name,
            instr.shape,
            instr.op.opcode()
        )
        .unwrap();
        match &instr.op {
            Op::Constant(literal) => {
                let dims = instr.shape.as_array().map_or(&[][..], |a| &a.dims);
                out.push_str(&literal.to_text(dims));
            }
            Op::Parameter(n) => write!(out, "{n}").unwrap(),
            _ => {
                let names: Vec<&str> = instr
                    .operands
                    .iter()
                    .map(|&o| comp.instr(o).name.as_str())
                    .collect();
                out.push_str(&names.join(", "));
            }
        }
        out.push(')');
        attributes(out, module, comp, instr, regions);
        out.push('\n');
    }
    out.push_str("}\n");
}

fn attributes(
    out: &mut String,
    module: &Module,
    comp: &Computation,
    instr: &Instruction,
    regions: &Regions,
) {
    let name = |c: &ComputationId| &module.computation(*c).name;
    let shape = &instr.shape;
    match &instr.op {
        Op::Iota { dimension } => write!(out, ", iota_dimension={dimension}").unwrap(),
        Op::Compare(direction) => write!(out, ", direction={}", direction.name()).unwrap(),
        Op::Broadcast { dimensions } => {
            write!(out, ", dimensions={{{}}}", join(dimensions)).unwrap()
        }
        Op::Transpose { permutation } => {
            write!(out, ", dimensions={{{}}}", join(permutation)).unwrap()
        }
        Op::Concatenate { dimension } => write!(out, ", dimensions={{{dimension}}}").unwrap(),
        Op::Slice { dims } => {
            let ranges: Vec<String> = dims
                .iter()
                .map(|d| match d.stride {
                    1 => format!("[{}:{}]", d.start, d.limit),
                    s => format!("[{}:{}:{s}]", d.start, d.limit),
                })
                .collect();
            write!(out, ", slice={{{}}}", ranges.join(", ")).unwrap();
        }
        Op::Dot(dims) => dot_attributes(out, dims),
        Op::Reduce {
            dimensions,
            reducer,
        } => {
            let element = shape
                .as_array()
                .map(|a| a.element)
                .unwrap_or(ElementType::F32);
            let region = &regions[&(*reducer, element)];
            write!(
                out,
                ", dimensions={{{}}}, to_apply={region}",
                join(dimensions)
            )
            .unwrap();
        }
        Op::Pad { config } => write!(out, ", padding={}", padding(config)).unwrap(),
        Op::Reverse { dimensions } => write!(out, ", dimensions={{{}}}", join(dimensions)).unwrap(),
        Op::DynamicSlice { sizes } => {
            write!(out, ", dynamic_slice_sizes={{{}}}", join(sizes)).unwrap()
        }
        Op::Gather(dims) => gather_attributes(out, dims),
        Op::ReducePrecision {
            exponent_bits,
            mantissa_bits,
        } => write!(
            out,
            ", exponent_bits={exponent_bits}, mantissa_bits={mantissa_bits}"
        )
        .unwrap(),
        Op::GetTupleElement { index } => write!(out, ", index={index}").unwrap(),
        Op::Fusion { kind, computation } => {
            write!(out, ", kind={}, calls={}", kind.name(), name(computation)).unwrap();
        }
        Op::While { condition, body } => {
            write!(out, ", condition={}, body={}", name(condition), name(body)).unwrap()
        }
        // XLA writes a pred selector's branches by role.
        Op::Conditional { branches } => match comp.instr(instr.operands[0]).shape.as_array() {
            Some(s) if s.element == ElementType::Pred => write!(
                out,
                ", true_computation={}, false_computation={}",
                name(&branches[0]),
                name(&branches[1])
            )
            .unwrap(),
            _ => {
                let names: Vec<&str> = branches.iter().map(|b| name(b).as_str()).collect();
                write!(out, ", branch_computations={{{}}}", names.join(", ")).unwrap()
            }
        },
        _ => {}
    }
}

fn dot_attributes(out: &mut String, d: &DotDims) {
    let lists = [
        ("lhs_batch_dims", &d.lhs_batch),
        ("lhs_contracting_dims", &d.lhs_contracting),
        ("rhs_batch_dims", &d.rhs_batch),
        ("rhs_contracting_dims", &d.rhs_contracting),
    ];
    for (name, dims) in lists {
        if !dims.is_empty() {
            write!(out, ", {name}={{{}}}", join(dims)).unwrap();
        }
    }
}

/// XLA's `low_high[_interior]` per dimension, joined by `x`.
fn padding(config: &[PadDim]) -> String {
    let dims: Vec<String> = config
        .iter()
        .map(|p| match p.interior {
            0 => format!("{}_{}", p.low, p.high),
            i => format!("{}_{}_{i}", p.low, p.high),
        })
        .collect();
    dims.join("x")
}

/// In XLA's order; the batching dimensions only when there are some, as XLA
/// prints them.
fn gather_attributes(out: &mut String, g: &GatherDims) {
    write!(
        out,
        ", offset_dims={{{}}}, collapsed_slice_dims={{{}}}, start_index_map={{{}}}",
        join(&g.offset_dims),
        join(&g.collapsed_slice_dims),
        join(&g.start_index_map)
    )
    .unwrap();
    if !g.operand_batching_dims.is_empty() {
        write!(
            out,
            ", operand_batching_dims={{{}}}, start_indices_batching_dims={{{}}}",
            join(&g.operand_batching_dims),
            join(&g.start_indices_batching_dims)
        )
        .unwrap();
    }
    write!(
        out,
        ", index_vector_dim={}, slice_sizes={{{}}}",
        g.index_vector_dim,
        join(&g.slice_sizes)
    )
    .unwrap();
    if g.indices_are_sorted {
        out.push_str(", indices_are_sorted=true");
    }
}
