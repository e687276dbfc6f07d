//! What the CPU and GPU engines share: a fused module's kernels, parameters and
//! constants, the check of a run's inputs, and buffer planning: where every
//! value of the fused entry computation lives while a program runs. Inputs are read in place,
//! results get their own buffers, and the kernels' intermediate outputs share one
//! arena, reused as soon as a buffer's last reader has run (liveness-based first
//! fit). Each engine says how many bytes an array takes and how buffers align.

use omelet_compiler::hlo::{ArrayShape, Computation, ElementType, InstrId, Module, Op, verify};
use omelet_kernels::kernel::{Kernel, regions_of};

use crate::array::{Array, RuntimeError};

/// Where one array lives during a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The program's input `i`, read in place.
    Input(usize),
    /// Entry constant `i`, owned by the executable.
    Constant(usize),
    /// The program's result `i`.
    Result(usize),
    /// `bytes` at `offset` in the arena.
    Arena { offset: usize },
}

/// A kernel launch: the kernel's index, then where its inputs and outputs are.
#[derive(Clone, Debug)]
pub struct Launch {
    pub kernel: usize,
    pub inputs: Vec<Slot>,
    pub outputs: Vec<Slot>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub launches: Vec<Launch>,
    /// Each result's slot while the program runs; a result that is an input or a
    /// constant (or appears twice) is copied out of that slot at the end.
    pub results: Vec<Slot>,
    pub arena_bytes: usize,
    pub constants: Vec<(InstrId, ArrayShape)>,
}

/// How an engine stores arrays: each one's size in bytes, and the alignment of
/// arena buffers.
pub struct Storage {
    pub bytes: fn(&ArrayShape) -> usize,
    pub align: usize,
}

/// Plans `entry`, whose kernels ([`is_kernel`]) are numbered in instruction order.
pub fn plan(entry: &Computation, storage: &Storage) -> Plan {
    let live = entry.live();
    let n = entry.instructions.len();
    // The arrays each instruction produces (a tuple has several).
    let mut slots: Vec<Vec<Slot>> = vec![Vec::new(); n];
    let mut last_use = vec![0usize; n];
    for id in entry.ids().filter(|id| live[id.index()]) {
        for &o in &entry.instr(id).operands {
            last_use[o.index()] = id.index();
        }
    }
    let root = entry.root_instr();
    // The program's results, as (instruction, which of its arrays): the root
    // tuple's elements, or each array of the root (a multi-output fusion has
    // several).
    let result_ids: Vec<(InstrId, usize)> = match root.op {
        Op::Tuple => root.operands.iter().map(|&o| (o, 0)).collect(),
        _ => (0..root.shape.arrays().len())
            .map(|k| (entry.root, k))
            .collect(),
    };
    // A result read from the arena stays there until the end.
    for (r, _) in &result_ids {
        last_use[r.index()] = n;
    }
    // Tuple elements and bitcasts alias their operand's buffers: its last reader
    // is theirs too (one reverse pass, as aliases follow what they alias).
    for id in entry.ids().rev().filter(|id| live[id.index()]) {
        let instr = entry.instr(id);
        if matches!(instr.op, Op::GetTupleElement { .. } | Op::Bitcast) {
            let o = instr.operands[0].index();
            last_use[o] = last_use[o].max(last_use[id.index()]);
        }
    }
    let mut constants = Vec::new();
    let mut launches = Vec::new();
    // Live arena buffers: (offset, size, last reader).
    let mut busy: Vec<(usize, usize, usize)> = Vec::new();
    let mut arena_bytes = 0;
    for id in entry.ids().filter(|id| live[id.index()]) {
        let instr = entry.instr(id);
        let operand_slots = |slots: &Vec<Vec<Slot>>| -> Vec<Slot> {
            instr
                .operands
                .iter()
                .flat_map(|o| slots[o.index()].clone())
                .collect()
        };
        slots[id.index()] = match &instr.op {
            Op::Parameter(i) => vec![Slot::Input(*i)],
            Op::Constant(_) => {
                constants.push((id, instr.array_shape().clone()));
                vec![Slot::Constant(constants.len() - 1)]
            }
            Op::Tuple => operand_slots(&slots),
            Op::GetTupleElement { index } => vec![slots[instr.operands[0].index()][*index]],
            // A bitcast reinterprets the same bytes.
            Op::Bitcast => slots[instr.operands[0].index()].clone(),
            op if is_kernel(op) => {
                busy.retain(|&(_, _, last)| last >= id.index());
                let outputs: Vec<Slot> = instr
                    .shape
                    .arrays()
                    .iter()
                    .enumerate()
                    .map(|(k, shape)| {
                        let result = result_ids.iter().position(|&(r, rk)| {
                            (r, rk) == (id, k) || rk == 0 && is_output_of(entry, r, id, k)
                        });
                        match result {
                            Some(r) => Slot::Result(r),
                            None => {
                                let size =
                                    (storage.bytes)(shape).div_ceil(storage.align) * storage.align;
                                let offset = first_fit(&busy, size);
                                busy.push((offset, size, last_use[id.index()]));
                                arena_bytes = arena_bytes.max(offset + size);
                                Slot::Arena { offset }
                            }
                        }
                    })
                    .collect();
                launches.push(Launch {
                    kernel: launches.len(),
                    inputs: operand_slots(&slots),
                    outputs: outputs.clone(),
                });
                outputs
            }
            _ => unreachable!("every other op is a kernel"),
        };
    }
    let results = result_ids
        .iter()
        .map(|&(r, k)| slots[r.index()][k])
        .collect();
    Plan {
        launches,
        results,
        arena_bytes,
        constants,
    }
}

/// The kernels of a fused module, in launch order (the plan's numbering); a
/// module that does not verify, or a fusion the backends cannot compile, is an
/// `Unsupported` error naming it. Code is generated from verified modules only:
/// the buffers it reads and writes are sized by the shapes the verifier checked.
pub fn kernels(module: &Module) -> Result<Vec<Kernel>, RuntimeError> {
    verify(module)
        .map_err(|e| RuntimeError::unsupported(format!("the module does not verify: {e}")))?;
    let entry = module.entry();
    let live = entry.live();
    if let Some(flow) = entry.instructions.iter().find(|i| i.op.is_control_flow()) {
        return Err(RuntimeError::unsupported(format!(
            "`{}` ({}) is not supported by the CPU and GPU backends yet (the interpreter runs it: --backend interp)",
            flow.op.opcode(),
            flow.name
        )));
    }
    entry
        .ids()
        .filter(|id| live[id.index()] && is_kernel(&entry.instr(*id).op))
        .map(|id| match &entry.instr(id).op {
            Op::Fusion { kind, computation } => {
                let body = module.computation(*computation);
                let regions = regions_of(module, body);
                Kernel::new(&entry.instr(id).name, body, *kind, regions)
            }
            _ => Kernel::single(module, id),
        })
        .map(|kernel| kernel.map_err(RuntimeError::unsupported))
        .collect()
}

/// A module's parameter shapes: `engine` (`cpu`, `gpu`) takes arrays only.
pub fn parameters(module: &Module, engine: &str) -> Result<Vec<ArrayShape>, RuntimeError> {
    module
        .parameter_shapes()
        .iter()
        .map(|s| {
            s.as_array().cloned().ok_or_else(|| {
                RuntimeError::unsupported(format!(
                    "the {engine} backend takes array parameters only"
                ))
            })
        })
        .collect()
}

/// Refuses, naming the first instruction it finds, a module with an element type
/// that `engine` cannot compute with, before anything runs: a backend gives the
/// interpreter's numbers or an error, never other numbers.
pub fn check_supported(
    module: &Module,
    engine: &str,
    supports_type: impl Fn(ElementType) -> bool,
) -> Result<(), RuntimeError> {
    for comp in &module.computations {
        for id in comp.ids() {
            let instr = comp.instr(id);
            let unsupported = instr
                .shape
                .arrays()
                .iter()
                .map(|a| a.element)
                .find(|&t| !supports_type(t));
            if let Some(t) = unsupported {
                return Err(RuntimeError::unsupported(format!(
                    "the {engine} backend does not support {t} yet (instruction {})",
                    instr.name
                )));
            }
        }
    }
    Ok(())
}

/// Checks a run's inputs against the parameters: their number and shapes.
pub fn check_inputs(inputs: &[Array], params: &[ArrayShape]) -> Result<(), RuntimeError> {
    if inputs.len() != params.len() {
        return Err(RuntimeError::input(format!(
            "the program takes {} inputs, {} were given",
            params.len(),
            inputs.len()
        )));
    }
    for (i, (input, param)) in inputs.iter().zip(params).enumerate() {
        if !param.same_logical(&input.shape()) {
            return Err(RuntimeError::input(format!(
                "input {i} is {} but the parameter is {param}",
                input.shape()
            )));
        }
    }
    Ok(())
}

impl Plan {
    /// The planned constants' values, in the order of `Slot::Constant`.
    pub fn constant_values<'a>(
        &'a self,
        entry: &'a Computation,
    ) -> impl Iterator<Item = (Array, &'a ArrayShape)> + 'a {
        self.constants
            .iter()
            .map(|(id, shape)| match &entry.instr(*id).op {
                Op::Constant(literal) => (crate::interp::data::constant(literal, shape), shape),
                _ => unreachable!("planned constants are constants"),
            })
    }
}

/// Whether an entry instruction launches a kernel: fusions, and the ops fusion
/// left on their own.
pub fn is_kernel(op: &Op) -> bool {
    !matches!(
        op,
        Op::Parameter(_) | Op::Constant(_) | Op::Tuple | Op::GetTupleElement { .. } | Op::Bitcast
    )
}

/// Whether result `r` is element `k` of the multi-output fusion `fusion`.
fn is_output_of(entry: &Computation, r: InstrId, fusion: InstrId, k: usize) -> bool {
    let instr = entry.instr(r);
    matches!(instr.op, Op::GetTupleElement { index } if index == k && instr.operands[0] == fusion)
}

/// The lowest offset where `size` bytes overlap no busy buffer.
fn first_fit(busy: &[(usize, usize, usize)], size: usize) -> usize {
    let mut taken: Vec<(usize, usize)> = busy.iter().map(|&(o, s, _)| (o, o + s)).collect();
    taken.sort();
    let mut offset = 0;
    for (start, end) in taken {
        if offset + size <= start {
            break;
        }
        offset = offset.max(end);
    }
    offset
}
