//! Building computations instruction by instruction, with every shape checked.
//!
//! The importer declares each instruction's name and shape ([`ComputationBuilder::push`]);
//! the tracer lets the shape rules derive them ([`ComputationBuilder::add`]). Either
//! way an instruction only exists once its shape rule holds, so a finished
//! computation passes the verifier.

use rustc_hash::FxHashSet;

use super::module::{Computation, InstrId, Instruction};
use super::op::Op;
use super::shape::Shape;
use super::shape_rules;

pub struct ComputationBuilder {
    name: String,
    instructions: Vec<Instruction>,
    parameters: Vec<Option<InstrId>>,
    names: FxHashSet<String>,
    next_suffix: usize,
}

impl ComputationBuilder {
    pub fn new(name: impl Into<String>) -> ComputationBuilder {
        ComputationBuilder {
            name: name.into(),
            instructions: Vec::new(),
            parameters: Vec::new(),
            names: FxHashSet::default(),
            next_suffix: 1,
        }
    }

    pub fn shape(&self, id: InstrId) -> &Shape {
        &self.instructions[id.index()].shape
    }

    pub fn instruction(&self, id: InstrId) -> &Instruction {
        &self.instructions[id.index()]
    }

    /// Whether `name` is taken by an instruction of this computation.
    pub fn has_name(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Appends an instruction with a declared name and shape, checking the op's
    /// shape rule. Names must be unique in the computation.
    pub fn push(
        &mut self,
        name: impl Into<String>,
        op: Op,
        operands: Vec<InstrId>,
        shape: Shape,
    ) -> Result<InstrId, String> {
        let name = name.into();
        if self.names.contains(&name) {
            return Err(format!("the name {name} is used twice"));
        }
        if let Some(bad) = operands
            .iter()
            .find(|o| o.index() >= self.instructions.len())
        {
            return Err(format!("operand #{} does not exist", bad.index()));
        }
        for array in shape.arrays() {
            shape_rules::check_layout(array)?;
        }
        let operand_shapes: Vec<&Shape> = operands.iter().map(|&o| self.shape(o)).collect();
        shape_rules::check(&op, &operand_shapes, &shape)?;
        let id = InstrId::new(self.instructions.len());
        if let Op::Parameter(n) = op {
            if self.parameters.len() <= n {
                self.parameters.resize(n + 1, None);
            }
            if self.parameters[n].replace(id).is_some() {
                return Err(format!("parameter({n}) is declared twice"));
            }
        }
        self.names.insert(name.clone());
        self.instructions.push(Instruction {
            name,
            op,
            operands,
            shape,
        });
        Ok(id)
    }

    /// Appends an instruction whose shape the shape rules derive (row-major), named
    /// after its opcode as XLA does (`add.3`).
    pub fn add(&mut self, op: Op, operands: Vec<InstrId>) -> Result<InstrId, String> {
        let operand_shapes: Vec<&Shape> = operands.iter().map(|&o| self.shape(o)).collect();
        let shape = shape_rules::infer(&op, &operand_shapes)?
            .ok_or_else(|| format!("{} needs a declared result shape", op.opcode()))?;
        self.add_with_shape(op, operands, shape)
    }

    /// Appends an instruction with a declared shape and a fresh name.
    pub fn add_with_shape(
        &mut self,
        op: Op,
        operands: Vec<InstrId>,
        shape: Shape,
    ) -> Result<InstrId, String> {
        let name = self.fresh_name(op.opcode());
        self.push(name, op, operands, shape)
    }

    /// `base.N` for the smallest N not yet taken.
    pub fn fresh_name(&mut self, base: &str) -> String {
        loop {
            let name = format!("{base}.{}", self.next_suffix);
            self.next_suffix += 1;
            if !self.names.contains(&name) {
                return name;
            }
        }
    }

    pub fn finish(self, root: InstrId) -> Result<Computation, String> {
        if root.index() >= self.instructions.len() {
            return Err(format!("computation {} has no root", self.name));
        }
        let parameters = self
            .parameters
            .iter()
            .enumerate()
            .map(|(n, p)| p.ok_or_else(|| format!("parameter({n}) is missing")))
            .collect::<Result<_, _>>()?;
        Ok(Computation {
            name: self.name,
            instructions: self.instructions,
            parameters,
            root,
        })
    }
}
