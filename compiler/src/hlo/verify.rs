//! The verifier: checks every invariant the rest of the compiler relies on.
//!
//! It runs after import, after the tracer and (in tests and debug builds) between
//! passes. Each error names the computation and the offending instruction.

use std::fmt;

use rustc_hash::FxHashSet;

use super::module::{Computation, Module};
use super::op::Op;
use super::shape::Shape;
use super::shape_rules;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    pub computation: String,
    /// The offending instruction's name; empty when the computation itself is wrong.
    pub instruction: String,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.instruction.is_empty() {
            write!(f, "computation {}: {}", self.computation, self.message)
        } else {
            write!(
                f,
                "instruction {} (in {}): {}",
                self.instruction, self.computation, self.message
            )
        }
    }
}

impl std::error::Error for VerifyError {}

pub fn verify(module: &Module) -> Result<(), VerifyError> {
    if module.entry.index() >= module.computations.len() {
        return Err(VerifyError {
            computation: module.name.clone(),
            instruction: String::new(),
            message: "the entry computation does not exist".into(),
        });
    }
    module
        .computations
        .iter()
        .try_for_each(|c| verify_computation(module, c))
}

fn verify_computation(module: &Module, comp: &Computation) -> Result<(), VerifyError> {
    let fail = |instruction: &str, message: String| VerifyError {
        computation: comp.name.clone(),
        instruction: instruction.to_string(),
        message,
    };
    if comp.root.index() >= comp.instructions.len() {
        return Err(fail("", "the root instruction does not exist".into()));
    }
    let mut names = FxHashSet::default();
    for (i, &p) in comp.parameters.iter().enumerate() {
        match comp.instructions.get(p.index()).map(|instr| &instr.op) {
            Some(Op::Parameter(n)) if *n == i => {}
            _ => return Err(fail("", format!("parameter {i} is not parameter({i})"))),
        }
    }
    for id in comp.ids() {
        let instr = comp.instr(id);
        let fail = |message: String| fail(&instr.name, message);
        if !names.insert(instr.name.as_str()) {
            return Err(fail("the name is used twice".into()));
        }
        if let Some(bad) = instr.operands.iter().find(|o| o.index() >= id.index()) {
            return Err(fail(format!(
                "operand #{} is not defined before its use",
                bad.index()
            )));
        }
        for array in instr.shape.arrays() {
            shape_rules::check_layout(array).map_err(fail)?;
        }
        let operands: Vec<&Shape> = instr
            .operands
            .iter()
            .map(|&o| &comp.instr(o).shape)
            .collect();
        shape_rules::check(&instr.op, &operands, &instr.shape)
            .map_err(|e| fail(format!("{}: {e}", instr.op.opcode())))?;
        match &instr.op {
            Op::Parameter(n) if comp.parameters.get(*n) != Some(&id) => {
                return Err(fail(format!(
                    "parameter({n}) is not listed as parameter {n}"
                )));
            }
            Op::Fusion { computation, .. } => {
                let Some(callee) = module.computations.get(computation.index()) else {
                    return Err(fail("the fused computation does not exist".into()));
                };
                let params: Vec<&Shape> = callee
                    .parameters
                    .iter()
                    .map(|&p| &callee.instr(p).shape)
                    .collect();
                if params != operands {
                    return Err(fail(format!(
                        "operands do not match the parameters of {}",
                        callee.name
                    )));
                }
                if callee.root_instr().shape != instr.shape {
                    return Err(fail(format!(
                        "result shape {} differs from {}'s root {}",
                        instr.shape,
                        callee.name,
                        callee.root_instr().shape
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(())
}
