//! The module header's `entry_computation_layout`: XLA takes it as the entry's
//! signature, so a module whose header and entry disagree is rejected, as XLA's
//! verifier does, rather than run as one or the other.

use omelet_grammar::hlo::EntryLayoutAst;

use super::err;
use super::values::shape;
use crate::error::{CompileError, ErrorKind};
use crate::hlo::{ArrayShape, Module, Shape};

/// Checks that `layout` lists the entry's parameters and result: the same
/// number, element types and dimensions (else E-SHAPE), and the same layouts
/// (else E-UNSUPPORTED: XLA would copy the arguments into the entry's layouts,
/// which Omelet does not do).
pub(super) fn check(layout: &EntryLayoutAst, module: &Module) -> Result<(), CompileError> {
    let params = module.parameter_shapes();
    if layout.parameters.len() != params.len() {
        return Err(err(
            ErrorKind::Shape,
            layout.span,
            format!(
                "entry_computation_layout lists {}; the entry computation has {}",
                parameters(layout.parameters.len()),
                parameters(params.len())
            ),
        ));
    }
    for (i, (declared, &actual)) in layout.parameters.iter().zip(&params).enumerate() {
        agree(&shape(declared)?, actual, &format!("parameter {i}"))
            .map_err(|(kind, message)| err(kind, declared.span(), message))?;
    }
    let root = &module.entry().root_instr().shape;
    agree(&shape(&layout.result)?, root, "the result")
        .map_err(|(kind, message)| err(kind, layout.result.span(), message))
}

fn agree(declared: &Shape, actual: &Shape, what: &str) -> Result<(), (ErrorKind, String)> {
    let arrays_agree = |a: &[ArrayShape], b: &[ArrayShape]| {
        a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.same_logical(b))
    };
    let same_kind = matches!(
        (declared, actual),
        (Shape::Array(_), Shape::Array(_)) | (Shape::Tuple(_), Shape::Tuple(_))
    );
    if !same_kind || !arrays_agree(declared.arrays(), actual.arrays()) {
        return Err((
            ErrorKind::Shape,
            format!(
                "entry_computation_layout says {what} is {declared}, but the entry computation's is {actual}"
            ),
        ));
    }
    if declared != actual {
        return Err((
            ErrorKind::Unsupported,
            format!(
                "entry_computation_layout puts {what} in layout {declared}, the entry computation in {actual}: relayouts of the entry are not supported"
            ),
        ));
    }
    Ok(())
}

fn parameters(n: usize) -> String {
    match n {
        1 => "1 parameter".into(),
        n => format!("{n} parameters"),
    }
}
