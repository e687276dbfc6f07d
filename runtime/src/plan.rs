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

/// How an engine stores arrays: each one's size in bytes, the alignment of
/// arena buffers, and whether a scatter may update its operand in place (the
/// CPU's kernels skip the copy when the two are one buffer; wgpu binds a
/// buffer once per dispatch, read-only or writable).
pub struct Storage {
    pub bytes: fn(&ArrayShape) -> usize,
    pub align: usize,
    pub scatter_in_place: bool,
}

/// Plans `module`'s entry, whose kernels ([`is_kernel`]) are numbered in
/// instruction order.
pub fn plan(module: &Module, storage: &Storage) -> Plan {
    let entry = module.entry();
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
    // A scatter updates in place the operand that it alone reads: the
    // operand's kernel writes straight into the scatter's buffer, which lives
    // as long as either needs it (XLA's in-place scatter, as buffer
    // assignment makes it).
    // `in_place[operand] = scatter`, and `updates[scatter] = operand`.
    let mut in_place: Vec<Option<InstrId>> = vec![None; n];
    let mut updates: Vec<Option<InstrId>> = vec![None; n];
    if storage.scatter_in_place {
        let reads = reads(entry, &live);
        for id in entry.ids().filter(|id| live[id.index()]) {
            if let Some(operand) = updated_in_place(module, id)
                && (!result_ids.iter().any(|&(r, _)| r == operand))
                && reads[operand.index()] == 1
            {
                in_place[operand.index()] = Some(id);
                updates[id.index()] = Some(operand);
            }
        }
        // Later scatters first: each operand lives as long as its scatter's
        // buffer, which may itself be updated in place by a later one.
        for id in entry.ids().rev() {
            if let Some(scatter) = in_place[id.index()] {
                last_use[id.index()] = last_use[id.index()].max(last_use[scatter.index()]);
            }
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
                let result_of = |id: InstrId, k: usize| {
                    result_ids.iter().position(|&(r, rk)| {
                        (r, rk) == (id, k) || rk == 0 && is_output_of(entry, r, id, k)
                    })
                };
                // The buffer of the last scatter that updates this value in place.
                let mut last_scatter = id;
                while let Some(s) = in_place[last_scatter.index()] {
                    last_scatter = s;
                }
                let operand_slot = updates[id.index()].map(|o| slots[o.index()][0]);
                let outputs: Vec<Slot> = instr
                    .shape
                    .arrays()
                    .iter()
                    .enumerate()
                    .map(|(k, shape)| {
                        if let Some(slot) = operand_slot {
                            return slot;
                        }
                        match result_of(last_scatter, k) {
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
        return Err(RuntimeError::internal(format!(
            "`{}` ({}) reached the plan of a straight-line program: loops and branches run as segments (flow.rs)",
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
pub fn check_inputs(inputs: &[&Array], params: &[ArrayShape]) -> Result<(), RuntimeError> {
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

/// The operand that entry instruction `id` may update in place: a scatter's
/// operand, read as a buffer (a scatter alone, or a fusion whose scatter reads
/// its operand from a parameter), of the scatter's own shape.
fn updated_in_place(module: &Module, id: InstrId) -> Option<InstrId> {
    let entry = module.entry();
    let instr = entry.instr(id);
    let operand = match &instr.op {
        Op::Scatter { .. } => instr.operands[0],
        Op::Fusion { computation, .. } => {
            let body = module.computation(*computation);
            let root = body.root_instr();
            let Op::Scatter { .. } = root.op else {
                return None;
            };
            let read = root.operands[0];
            let Op::Parameter(p) = body.instr(read).op else {
                return None;
            };
            // Nothing else in the kernel may read what the scatter overwrites.
            if reads(body, &body.live())[read.index()] != 1 {
                return None;
            }
            instr.operands[p]
        }
        _ => return None,
    };
    let produced = entry.instr(operand);
    let by_kernel = is_kernel(&produced.op) && produced.shape.as_array().is_some();
    (by_kernel && produced.shape == instr.shape).then_some(operand)
}

/// How many times live instructions of `comp` read each instruction.
fn reads(comp: &Computation, live: &[bool]) -> Vec<usize> {
    let mut reads = vec![0; comp.instructions.len()];
    for u in comp.ids().filter(|u| live[u.index()]) {
        for &o in &comp.instr(u).operands {
            reads[o.index()] += 1;
        }
    }
    reads
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

#[cfg(test)]
mod tests {
    use omelet_compiler::import::parse_module;
    use omelet_compiler::pipeline::{Stage, compile};

    use super::*;

    fn planned(text: &str, scatter_in_place: bool) -> Plan {
        let module = compile(parse_module(text).unwrap(), Stage::Fused).module;
        let storage = Storage {
            bytes: ArrayShape::byte_size,
            align: 64,
            scatter_in_place,
        };
        plan(&module, &storage)
    }

    const ONE_HOT_GRADIENT: &str = "HloModule m

add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] add(a, b)
}

ENTRY e {
  x = f32[40,70] parameter(0)
  i = s32[40,1] parameter(1)
  u = f32[40] parameter(2)
  e = f32[40,70] multiply(x, x)
  zero = f32[] constant(0)
  z = f32[40,70] broadcast(zero), dimensions={}
  s = f32[40,70] scatter(z, i, u), update_window_dims={}, inserted_window_dims={1}, scatter_dims_to_operand_dims={1}, input_batching_dims={0}, scatter_indices_batching_dims={0}, index_vector_dim=1, to_apply=add
  ROOT r = f32[40,70] add(e, s)
}
";

    /// The product is written into the result, which the scatter (the
    /// optimizer's form of the add) then updates: no arena, no copy.
    #[test]
    fn a_scatter_updates_its_dead_operand_in_place() {
        let p = planned(ONE_HOT_GRADIENT, true);
        let [product, scatter] = &p.launches[..] else {
            panic!("two kernels: {p:?}")
        };
        assert_eq!(product.outputs, [Slot::Result(0)]);
        assert_eq!(scatter.inputs[0], Slot::Result(0));
        assert_eq!(scatter.outputs, [Slot::Result(0)]);
        assert_eq!(p.arena_bytes, 0);
        let p = planned(ONE_HOT_GRADIENT, false);
        assert_eq!(p.launches[0].outputs, [Slot::Arena { offset: 0 }]);
        assert_eq!(p.launches[1].outputs, [Slot::Result(0)]);
    }
}
