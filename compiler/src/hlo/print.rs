//! The HLO text printer, in the form JAX prints and XLA's parser reads.
//!
//! `reduce`, `reduce-window`, `scatter` and `select-and-scatter` keep only what
//! their regions compute ([`ReduceOp`], an assignment, a compare direction), so
//! the printer writes one small region per (region, element type) the module
//! uses, ahead of the other computations. A sort's comparator and a variadic
//! reduce's region are computations of the module, printed as such. Printing is
//! deterministic: `print(parse(print(m))) == print(m)`.

use std::collections::BTreeMap;
use std::fmt::Write;

use rustc_hash::FxHashSet;

use super::index_ops::{GatherDims, PadDim};
use super::module::{Computation, ComputationId, Instruction, Module};
use super::op::{Direction, DotDims, Op, ReduceOp, ScatterDims, WindowDim};
use super::shape::{ElementType, join};

/// A region the printer writes from an op's attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Generated {
    /// `combiner(lhs, rhs)`.
    Combine(ReduceOp),
    /// `compare(lhs, rhs), direction=D`: select-and-scatter's `select`.
    Select(Direction),
}

impl Generated {
    fn base_name(self) -> String {
        match self {
            Generated::Combine(r) => r.combiner().opcode().to_string(),
            Generated::Select(d) => format!("select_{}", d.name().to_lowercase()),
        }
    }

    fn body(self, t: &str) -> String {
        let params = format!("  lhs = {t}[] parameter(0)\n  rhs = {t}[] parameter(1)\n");
        let root = match self {
            Generated::Combine(r) => {
                let c = r.combiner().opcode();
                format!("  ROOT {c} = {t}[] {c}(lhs, rhs)\n")
            }
            Generated::Select(d) => format!(
                "  ROOT compare = pred[] compare(lhs, rhs), direction={}\n",
                d.name()
            ),
        };
        params + &root
    }
}

/// The regions an instruction's attributes stand for, with their element types.
fn generated(
    comp: &Computation,
    instr: &super::module::Instruction,
) -> Vec<(Generated, ElementType)> {
    let element = || {
        instr
            .shape
            .as_array()
            .map_or(ElementType::F32, |a| a.element)
    };
    match &instr.op {
        Op::Reduce { reducer, .. } => {
            vec![(Generated::Combine(*reducer), element())]
        }
        Op::SelectAndScatter {
            select, scatter, ..
        } => {
            let operand = comp.instr(instr.operands[0]).array_shape().element;
            vec![
                (Generated::Select(*select), operand),
                (Generated::Combine(*scatter), element()),
            ]
        }
        _ => Vec::new(),
    }
}

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
    for (&(region, element), name) in &regions {
        let body = region.body(element.name());
        write!(out, "\n{name} {{\n{body}}}\n").unwrap();
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

type Regions = BTreeMap<(Generated, ElementType), String>;

/// Names a region for every (region, type) that some instruction uses, avoiding
/// the module's computation names.
fn reduce_regions(module: &Module) -> Regions {
    let mut taken: FxHashSet<&str> = module
        .computations
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let mut regions = Regions::new();
    for comp in &module.computations {
        for instr in &comp.instructions {
            for key in generated(comp, instr) {
                regions.entry(key).or_default();
            }
        }
    }
    for ((region, element), name) in regions.iter_mut() {
        let base = format!("{}_{}", region.base_name(), element.name());
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
        attributes(out, module, comp, instr);
        let names: Vec<&str> = generated(comp, instr)
            .iter()
            .map(|key| regions[key].as_str())
            .collect();
        match (&instr.op, &names[..]) {
            (Op::SelectAndScatter { .. }, [select, scatter]) => {
                write!(out, ", select={select}, scatter={scatter}").unwrap()
            }
            (_, [region]) => write!(out, ", to_apply={region}").unwrap(),
            _ => {}
        }
        out.push('\n');
    }
    out.push_str("}\n");
}

/// The attributes of `instr` but its generated regions (which the caller writes).
fn attributes(out: &mut String, module: &Module, comp: &Computation, instr: &Instruction) {
    let name = |c: &ComputationId| &module.computation(*c).name;
    match &instr.op {
        Op::Iota { dimension } => write!(out, ", iota_dimension={dimension}").unwrap(),
        Op::Compare(direction) => write!(out, ", direction={}", direction.name()).unwrap(),
        Op::CompareTotalOrder(direction) => {
            write!(out, ", direction={}, type=TOTALORDER", direction.name()).unwrap()
        }
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
        Op::Reduce { dimensions, .. } => {
            write!(out, ", dimensions={{{}}}", join(dimensions)).unwrap()
        }
        Op::ReduceTuple {
            dimensions,
            to_apply,
        } => {
            let region = &module.computation(*to_apply).name;
            write!(
                out,
                ", dimensions={{{}}}, to_apply={region}",
                join(dimensions)
            )
            .unwrap();
        }
        Op::Sort {
            dimension,
            is_stable,
            comparator,
        } => {
            write!(out, ", dimensions={{{dimension}}}").unwrap();
            if *is_stable {
                out.push_str(", is_stable=true");
            }
            let region = &module.computation(*comparator).name;
            write!(out, ", to_apply={region}").unwrap();
        }
        Op::Scatter {
            dims,
            update,
            indices_are_sorted,
            unique_indices,
        } => {
            scatter_attributes(out, dims);
            if *indices_are_sorted {
                out.push_str(", indices_are_sorted=true");
            }
            if *unique_indices {
                out.push_str(", unique_indices=true");
            }
            write!(out, ", to_apply={}", module.computation(*update).name).unwrap();
        }
        Op::TopK { k, largest } => write!(out, ", k={k}, largest={largest}").unwrap(),
        Op::ReduceWindow { window, to_apply } => {
            let region = &module.computation(*to_apply).name;
            write!(
                out,
                ", window={{{}}}, to_apply={region}",
                window_text(window)
            )
            .unwrap()
        }
        Op::SelectAndScatter { window, .. } => {
            write!(out, ", window={{{}}}", window_text(window)).unwrap()
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

fn scatter_attributes(out: &mut String, d: &ScatterDims) {
    let lists = [
        ("update_window_dims", &d.update_window_dims),
        ("inserted_window_dims", &d.inserted_window_dims),
        (
            "scatter_dims_to_operand_dims",
            &d.scatter_dims_to_operand_dims,
        ),
        ("input_batching_dims", &d.input_batching_dims),
        (
            "scatter_indices_batching_dims",
            &d.scatter_indices_batching_dims,
        ),
    ];
    for (name, dims) in lists {
        // XLA writes the three core lists even when empty.
        if !dims.is_empty() || !name.contains("batching") {
            write!(out, ", {name}={{{}}}", join(dims)).unwrap();
        }
    }
    write!(out, ", index_vector_dim={}", d.index_vector_dim).unwrap();
}

/// XLA's window text: `size=3x3 stride=2x2 pad=0_1x0_1 lhs_dilate=.. rhs_dilate=..`,
/// fields left out where every dimension has the default.
fn window_text(window: &[WindowDim]) -> String {
    let field = |name: &str, value: fn(&WindowDim) -> String, default: &str| {
        let values: Vec<String> = window.iter().map(value).collect();
        (values.iter().any(|v| v != default)).then(|| format!("{name}={}", values.join("x")))
    };
    let fields = [
        field("size", |w| w.size.to_string(), ""),
        field("stride", |w| w.stride.to_string(), "1"),
        field("pad", |w| format!("{}_{}", w.pad_low, w.pad_high), "0_0"),
        field("lhs_dilate", |w| w.base_dilation.to_string(), "1"),
        field("rhs_dilate", |w| w.window_dilation.to_string(), "1"),
    ];
    fields.into_iter().flatten().collect::<Vec<_>>().join(" ")
}
