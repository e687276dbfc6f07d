//! Modules, computations and instructions: the HLO graph.
//!
//! A computation owns its instructions in an arena indexed by [`InstrId`]; an
//! instruction's operands always have smaller ids than the instruction itself, so the
//! arena order is a topological order and every pass can walk it front to back.
//! A module owns its computations the same way, indexed by [`ComputationId`].

use rustc_hash::FxHashMap;

use super::op::Op;
use super::shape::{ArrayShape, Shape};

/// An instruction's index in its computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstrId(u32);

impl InstrId {
    pub fn new(index: usize) -> InstrId {
        InstrId(u32::try_from(index).expect("more than 2^32 instructions"))
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A computation's index in its module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComputationId(u32);

impl ComputationId {
    pub fn new(index: usize) -> ComputationId {
        ComputationId(u32::try_from(index).expect("more than 2^32 computations"))
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Instruction {
    /// Unique within its computation; what dumps, errors and `--input NAME=` use.
    pub name: String,
    pub op: Op,
    pub operands: Vec<InstrId>,
    pub shape: Shape,
}

impl Instruction {
    /// The result as an array. Every instruction but `tuple` produces one; the
    /// verifier guarantees it wherever an array is required.
    pub fn array_shape(&self) -> &ArrayShape {
        match &self.shape {
            Shape::Array(a) => a,
            Shape::Tuple(_) => panic!("instruction {} is a tuple, not an array", self.name),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Computation {
    pub name: String,
    /// In topological order: operands precede their users.
    pub instructions: Vec<Instruction>,
    /// `parameters[i]` is the instruction `parameter(i)`.
    pub parameters: Vec<InstrId>,
    pub root: InstrId,
}

impl Computation {
    pub fn instr(&self, id: InstrId) -> &Instruction {
        &self.instructions[id.index()]
    }

    pub fn ids(&self) -> impl DoubleEndedIterator<Item = InstrId> + use<> {
        (0..self.instructions.len()).map(InstrId::new)
    }

    pub fn root_instr(&self) -> &Instruction {
        self.instr(self.root)
    }

    /// Which instructions the root depends on (dead code is kept in the arena so
    /// that dumps reproduce their input, but passes and backends skip it).
    pub fn live(&self) -> Vec<bool> {
        let mut live = vec![false; self.instructions.len()];
        live[self.root.index()] = true;
        for id in self.ids().rev() {
            if live[id.index()] {
                for &operand in &self.instr(id).operands {
                    live[operand.index()] = true;
                }
            }
        }
        live
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub name: String,
    pub computations: Vec<Computation>,
    pub entry: ComputationId,
}

impl Module {
    pub fn computation(&self, id: ComputationId) -> &Computation {
        &self.computations[id.index()]
    }

    pub fn entry(&self) -> &Computation {
        self.computation(self.entry)
    }

    /// The entry's parameter shapes, in parameter order.
    pub fn parameter_shapes(&self) -> Vec<&Shape> {
        let entry = self.entry();
        entry
            .parameters
            .iter()
            .map(|&p| &entry.instr(p).shape)
            .collect()
    }

    /// Whether any computation has a `while` or a `conditional`.
    pub fn has_control_flow(&self) -> bool {
        self.computations
            .iter()
            .any(|c| c.instructions.iter().any(|i| i.op.is_control_flow()))
    }

    /// The shapes of the program's results: the root's arrays, a tuple flattened.
    pub fn result_shapes(&self) -> &[ArrayShape] {
        self.entry().root_instr().shape.arrays()
    }
}

/// Passes that rebuild a module (extraction, fusion) copy the regions its ops
/// reference (`Op::region`) into the new module, each once, and renumber the
/// ops that use them.
pub struct RegionCopier<'a> {
    source: &'a Module,
    copied: FxHashMap<ComputationId, ComputationId>,
    /// The new module's computations so far: regions and whatever the pass adds.
    pub computations: Vec<Computation>,
}

impl<'a> RegionCopier<'a> {
    pub fn new(source: &'a Module) -> RegionCopier<'a> {
        RegionCopier {
            source,
            copied: FxHashMap::default(),
            computations: Vec::new(),
        }
    }

    /// `op` of the source module, its region renumbered into the new module.
    pub fn op(&mut self, op: &Op) -> Op {
        op.map_region(|id| {
            *self.copied.entry(id).or_insert_with(|| {
                self.computations.push(self.source.computation(id).clone());
                ComputationId::new(self.computations.len() - 1)
            })
        })
    }
}
