//! The verifier: checks every invariant the rest of the compiler relies on.
//!
//! It runs after import, after the tracer and (in tests and debug builds) between
//! passes. Each error names the computation and the offending instruction.
//!
//! Fusions are checked for what their kind means ([`check_fusion`]): a `kLoop`
//! fusion is one loop over one index space, so its results share their
//! dimensions; a `kInput` fusion has a reduction as its hero (or, as XLA's GPU
//! fusions do, a transpose) and a `kOutput` fusion a dot. These are XLA's own
//! meanings, so that the fusions of XLA's dumps pass as they are. A fused computation may call no computation that (through
//! fusions) calls it back, nor the entry.

use std::fmt;

use rustc_hash::FxHashSet;

use super::module::{Computation, ComputationId, Module};
use super::op::{FusionKind, Op};
use super::region::{self, Gives};
use super::shape::{ArrayShape, ElementType, Shape};
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
    // Every root first: a fusion's check reads its callee's.
    if let Some(c) = module
        .computations
        .iter()
        .find(|c| c.root.index() >= c.instructions.len())
    {
        return Err(VerifyError {
            computation: c.name.clone(),
            instruction: String::new(),
            message: "the root instruction does not exist".into(),
        });
    }
    module
        .computations
        .iter()
        .try_for_each(|c| verify_computation(module, c))?;
    verify_calls(module)
}

/// Checks that computation `id`, the `role` of a loop or a conditional, takes
/// `params` and gives `result`, in any layouts (as XLA's verifier does before
/// layout assignment: JAX's loops pass state between layouts).
fn check_callee(
    module: &Module,
    id: ComputationId,
    role: &str,
    params: &[&Shape],
    result: &Shape,
) -> Result<(), String> {
    let callee = module
        .computations
        .get(id.index())
        .ok_or_else(|| format!("the {role} computation does not exist"))?;
    let takes: Vec<&Shape> = callee
        .parameters
        .iter()
        .map(|&p| &callee.instr(p).shape)
        .collect();
    let same = |a: &[&Shape], b: &[&Shape]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| shape_rules::logically_equal(x, y))
    };
    if !same(&takes, params) {
        let wanted: Vec<String> = params.iter().map(|s| s.to_string()).collect();
        let taken: Vec<String> = takes.iter().map(|s| s.to_string()).collect();
        return Err(format!(
            "the {role} {} takes ({}), but is passed ({})",
            callee.name,
            taken.join(", "),
            wanted.join(", ")
        ));
    }
    let gives = &callee.root_instr().shape;
    if !shape_rules::logically_equal(gives, result) {
        return Err(format!(
            "the {role} {} gives {gives}, but {result} is expected",
            callee.name
        ));
    }
    Ok(())
}

/// What a fusion of `kind` may compute, beyond the shape rules of its
/// instructions (HLO.md; `fusion/model.rs` forms exactly such kernels):
///
/// - `kLoop`: one loop over one index space, every value computed element by
///   element: its results (the root, or the root tuple's elements) have the same
///   dimensions; element types and layouts may differ.
/// - `kInput`: a reduction is its hero: a `reduce` the root depends on; or, as
///   in XLA's GPU transpose fusions, a transpose in memory.
/// - `kOutput`: a dot is its hero: a `dot` the root depends on.
/// - `kCustom`: defined by the backend that made it; nothing more is checked.
///
/// The error says what is wrong, naming the instructions of `body`.
pub fn check_fusion(body: &Computation, kind: FusionKind) -> Result<(), String> {
    let live = body.live();
    let has_live = |hero: fn(&Op) -> bool| {
        body.ids()
            .any(|id| live[id.index()] && hero(&body.instr(id).op))
    };
    match kind {
        FusionKind::Loop => {
            let root = body.root_instr();
            let result = |k: usize| match root.op {
                Op::Tuple => body.instr(root.operands[k]).name.clone(),
                _ => format!("{}#{k}", root.name),
            };
            let arrays = root.shape.arrays();
            if let Some(k) = (1..arrays.len()).find(|&k| arrays[k].dims != arrays[0].dims) {
                return Err(format!(
                    "a kLoop fusion iterates one index space, but its results {} ({}) and {} ({}) have different dimensions",
                    result(0),
                    arrays[0].logical_text(),
                    result(k),
                    arrays[k].logical_text()
                ));
            }
            Ok(())
        }
        FusionKind::Input if !has_input_hero(body, &live) => Err(
            "a kInput fusion has a reduction as its hero (or, in XLA's GPU fusions, a transpose), but its root depends on neither".into(),
        ),
        FusionKind::Output if !has_live(|op| matches!(op, Op::Dot(_))) => {
            Err("a kOutput fusion has a dot as its hero, but its root depends on no dot".into())
        }
        FusionKind::Input | FusionKind::Output | FusionKind::Custom => Ok(()),
    }
}

/// Whether a live instruction of `body` is a `kInput` hero: a reduction, or a
/// transpose in memory, which is a `transpose` or (as XLA writes its copies) a
/// reshape that changes the layout of the same dimensions.
fn has_input_hero(body: &Computation, live: &[bool]) -> bool {
    body.ids().filter(|id| live[id.index()]).any(|id| {
        let instr = body.instr(id);
        match instr.op {
            Op::Reduce { .. } | Op::Transpose { .. } => true,
            Op::Reshape => {
                let (from, to) = (
                    body.instr(instr.operands[0]).shape.as_array(),
                    instr.shape.as_array(),
                );
                matches!((from, to), (Some(f), Some(t)) if f.dims == t.dims && f.minor_to_major != t.minor_to_major)
            }
            _ => false,
        }
    })
}

/// Fusions, loops and conditionals call computations that call them back by
/// no path, and never the entry: every callee is finite to inline or compile.
fn verify_calls(module: &Module) -> Result<(), VerifyError> {
    let n = module.computations.len();
    let callees: Vec<Vec<ComputationId>> = module
        .computations
        .iter()
        .map(|c| c.instructions.iter().flat_map(|i| i.op.callees()).collect())
        .collect();
    // Kahn's algorithm: what is never freed of callers lies on a cycle, or is
    // called from one.
    let mut callers = vec![0usize; n];
    for c in callees.iter().flatten() {
        callers[c.index()] += 1;
    }
    if callers[module.entry.index()] > 0 {
        return Err(VerifyError {
            computation: module.entry().name.clone(),
            instruction: String::new(),
            message: "the entry computation is called by a fusion, a loop or a branch".into(),
        });
    }
    let mut ready: Vec<usize> = (0..n).filter(|&c| callers[c] == 0).collect();
    let mut done = 0;
    while let Some(c) = ready.pop() {
        done += 1;
        for callee in &callees[c] {
            callers[callee.index()] -= 1;
            if callers[callee.index()] == 0 {
                ready.push(callee.index());
            }
        }
    }
    match (0..n).find(|&c| callers[c] > 0) {
        Some(c) if done < n => Err(VerifyError {
            computation: module.computations[c].name.clone(),
            instruction: String::new(),
            message: "the computation is called through a cycle of fusions, loops or branches"
                .into(),
        }),
        _ => Ok(()),
    }
}

/// A region computation exists and is a scalar computation of this signature.
fn check_region(
    module: &Module,
    id: ComputationId,
    params: &[ElementType],
    gives: &Gives,
) -> Result<(), String> {
    let region = module
        .computations
        .get(id.index())
        .ok_or("the region computation does not exist")?;
    if id == module.entry {
        return Err("the region is the entry computation".into());
    }
    region::check(region, params, gives)
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
            Op::Sort { comparator, .. } => {
                let types: Vec<ElementType> = operands
                    .iter()
                    .flat_map(|s| s.arrays().iter().flat_map(|a| [a.element, a.element]))
                    .collect();
                check_region(
                    module,
                    *comparator,
                    &types,
                    &Gives::Scalar(ElementType::Pred),
                )
                .map_err(fail)?;
            }
            Op::Scatter { update: region, .. }
            | Op::ReduceWindow {
                to_apply: region, ..
            } => {
                let element = instr.array_shape().element;
                check_region(
                    module,
                    *region,
                    &[element, element],
                    &Gives::Scalar(element),
                )
                .map_err(fail)?;
            }
            Op::ReduceTuple { to_apply, .. } => {
                let types: Vec<ElementType> = operands
                    .iter()
                    .flat_map(|s| s.arrays().iter().map(|a| a.element))
                    .collect();
                let result = instr.shape.arrays().iter().map(|a| a.element).collect();
                check_region(module, *to_apply, &types, &Gives::Tuple(result)).map_err(fail)?;
            }
            Op::Fusion { kind, computation } => {
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
                check_fusion(callee, *kind)
                    .map_err(|e| fail(format!("fused computation {}: {e}", callee.name)))?;
            }
            Op::While { condition, body } => {
                let [state] = operands[..] else {
                    return Err(fail("while takes one operand, its state".into()));
                };
                if !shape_rules::logically_equal(state, &instr.shape) {
                    return Err(fail(format!(
                        "while gives its state's shape {state}, not {}",
                        instr.shape
                    )));
                }
                let pred = Shape::Array(ArrayShape::new(ElementType::Pred, Vec::new()));
                check_callee(module, *condition, "condition", &[state], &pred).map_err(fail)?;
                check_callee(module, *body, "body", &[state], state).map_err(fail)?;
            }
            Op::Conditional { branches } => {
                let selector = operands.first().and_then(|s| s.as_array());
                let pred_form = match selector {
                    Some(s) if s.rank() == 0 && s.element == ElementType::Pred => true,
                    Some(s) if s.rank() == 0 && s.element == ElementType::S32 => false,
                    _ => {
                        return Err(fail(
                            "conditional's first operand is its selector, a pred[] or an s32[]"
                                .into(),
                        ));
                    }
                };
                if (pred_form && branches.len() != 2) || branches.is_empty() {
                    return Err(fail(format!(
                        "conditional has {} branches: a pred[] selector chooses between 2, an s32[] among at least 1",
                        branches.len()
                    )));
                }
                if operands.len() != branches.len() + 1 {
                    return Err(fail(format!(
                        "conditional takes one operand per branch after its selector: {} for {} branches",
                        operands.len() - 1,
                        branches.len()
                    )));
                }
                for (k, (&branch, operand)) in branches.iter().zip(&operands[1..]).enumerate() {
                    check_callee(
                        module,
                        branch,
                        &format!("branch {k}"),
                        &[operand],
                        &instr.shape,
                    )
                    .map_err(fail)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}
