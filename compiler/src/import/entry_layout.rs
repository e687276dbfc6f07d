//! The module header's `entry_computation_layout`: XLA takes it as the entry's
//! signature. Where only layouts differ (before optimization, a transposed
//! result is often `{0,1}` where the header says `{1,0}`), XLA's layout
//! assignment copies between them, and so does the importer: the entry takes
//! its parameters and gives its result in the header's layouts, through
//! layout-changing reshapes (logical identities). A module whose header and
//! entry disagree in anything else is rejected, as XLA's verifier does, rather
//! than run as one or the other.

use omelet_grammar::hlo::EntryLayoutAst;

use super::err;
use super::values::shape;
use crate::error::{CompileError, ErrorKind};
use crate::hlo::{ArrayShape, ComputationBuilder, InstrId, Module, Op, Shape};

/// The entry's parameter and result shapes, as the header declares them.
pub(super) struct Signature {
    pub parameters: Vec<Shape>,
    pub result: Shape,
}

pub(super) fn signature(layout: &EntryLayoutAst) -> Result<Signature, CompileError> {
    Ok(Signature {
        parameters: layout
            .parameters
            .iter()
            .map(shape)
            .collect::<Result<_, _>>()?,
        result: shape(&layout.result)?,
    })
}

/// Parameter `n`, whose instruction declares `shape`: a parameter in the
/// signature's layout, relayouted to `shape` where that differs. (Other
/// disagreements are for [`check`] to report; the parameter keeps `shape`.)
pub(super) fn relayout_parameter(
    builder: &mut ComputationBuilder,
    name: String,
    n: usize,
    shape: Shape,
    signature: &Signature,
) -> Result<InstrId, String> {
    match (signature.parameters.get(n), &shape) {
        (Some(Shape::Array(declared)), Shape::Array(array))
            if declared.same_logical(array) && declared != array =>
        {
            let base = builder.fresh_name(&format!("{name}.in"));
            let parameter = builder.push(
                base,
                Op::Parameter(n),
                Vec::new(),
                Shape::Array(declared.clone()),
            )?;
            builder.push(name, Op::Reshape, vec![parameter], shape)
        }
        _ => builder.push(name, Op::Parameter(n), Vec::new(), shape),
    }
}

/// The entry's result `root` in the `declared` layouts: `root` itself where they
/// agree, else a reshape of it (a tuple's elements one by one).
pub(super) fn relayout_result(
    builder: &mut ComputationBuilder,
    root: InstrId,
    declared: &Shape,
) -> Result<InstrId, String> {
    let actual = builder.shape(root).clone();
    if &actual == declared {
        return Ok(root);
    }
    match (&actual, declared) {
        (Shape::Array(a), Shape::Array(d)) if a.same_logical(d) => {
            builder.add_with_shape(Op::Reshape, vec![root], declared.clone())
        }
        (Shape::Tuple(a), Shape::Tuple(d))
            if a.len() == d.len() && a.iter().zip(d).all(|(a, d)| a.same_logical(d)) =>
        {
            let tuple = builder.instruction(root);
            let mut elements: Vec<InstrId> = match tuple.op {
                Op::Tuple => tuple.operands.clone(),
                _ => (0..a.len())
                    .map(|index| {
                        builder.add_with_shape(
                            Op::GetTupleElement { index },
                            vec![root],
                            Shape::Array(a[index].clone()),
                        )
                    })
                    .collect::<Result<_, _>>()?,
            };
            for (element, (a, d)) in elements.iter_mut().zip(a.iter().zip(d)) {
                if a != d {
                    *element = builder.add_with_shape(
                        Op::Reshape,
                        vec![*element],
                        Shape::Array(d.clone()),
                    )?;
                }
            }
            builder.add_with_shape(Op::Tuple, elements, declared.clone())
        }
        // Disagreements beyond layouts are for `check` to report.
        _ => Ok(root),
    }
}

/// Checks that `layout` lists the entry's parameters and result: the same
/// number, element types and dimensions (else E-SHAPE), and the same layouts
/// (which the importer gives them where it can, else E-UNSUPPORTED).
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
                "entry_computation_layout puts {what} in layout {declared}, the entry computation in {actual}: relayouts inside tuple parameters are not supported"
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
