//! Reading an instruction's attributes (`dimensions={1,0}`, `slice={[0:4]}`,
//! `direction=LT`, ...), with located errors for missing or malformed ones.

use omelet_grammar::hlo::{AttrValue, AttributeAst, InstructionAst};

use super::err;
use crate::error::{CompileError, ErrorKind, Span};
use crate::hlo::SliceDim;

pub(super) fn attribute<'a>(instr: &'a InstructionAst, name: &str) -> Option<&'a AttributeAst> {
    instr.attributes.iter().find(|a| a.name == name)
}

pub(super) fn attr_error(instr: &InstructionAst, name: &str, message: &str) -> CompileError {
    let span = attribute(instr, name).map_or(instr.opcode_span, |a| a.span);
    err(
        ErrorKind::Syntax,
        span,
        format!("{}: {message}", instr.opcode),
    )
}

pub(super) fn missing(instr: &InstructionAst, name: &str) -> CompileError {
    err(
        ErrorKind::Syntax,
        instr.opcode_span,
        format!("{} needs the attribute {name}=", instr.opcode),
    )
}

pub(super) fn word_attr(
    instr: &InstructionAst,
    name: &str,
) -> Result<(String, Span), CompileError> {
    let attr = attribute(instr, name).ok_or_else(|| missing(instr, name))?;
    match &attr.value {
        AttrValue::Word(w) => Ok((w.clone(), attr.span)),
        _ => Err(attr_error(instr, name, &format!("{name}= takes a word"))),
    }
}

pub(super) fn int_attr(instr: &InstructionAst, name: &str) -> Result<usize, CompileError> {
    let (word, _) = word_attr(instr, name)?;
    word.parse().map_err(|_| {
        attr_error(
            instr,
            name,
            &format!("{name}= takes a non-negative integer"),
        )
    })
}

/// A `{1,0}` list of dimension numbers; absent means empty unless `required`.
pub(super) fn dims_attr(
    instr: &InstructionAst,
    name: &str,
    required: bool,
) -> Result<Vec<usize>, CompileError> {
    match attribute(instr, name) {
        None if required => Err(missing(instr, name)),
        None => Ok(Vec::new()),
        Some(AttributeAst {
            value: AttrValue::Ints(ints),
            ..
        }) => ints
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .filter(|&d| d < 1 << 16)
                    .ok_or_else(|| {
                        attr_error(instr, name, &format!("dimension {i} is out of range"))
                    })
            })
            .collect(),
        Some(_) => Err(attr_error(
            instr,
            name,
            &format!("{name}= takes a list of dimensions like {{1,0}}"),
        )),
    }
}

pub(super) fn slice_attr(instr: &InstructionAst) -> Result<Vec<SliceDim>, CompileError> {
    let ranges: &[[i64; 3]] = match attribute(instr, "slice").map(|a| &a.value) {
        Some(AttrValue::Ranges(ranges)) => ranges,
        // A slice of a scalar has no ranges.
        Some(AttrValue::Braced(b))
            if b.trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace())
                .is_empty() =>
        {
            &[]
        }
        Some(_) => {
            return Err(attr_error(
                instr,
                "slice",
                "slice= takes ranges like {[0:4], [1:7:2]}",
            ));
        }
        None => return Err(missing(instr, "slice")),
    };
    ranges
        .iter()
        .map(|&[start, limit, stride]| {
            let n = |v: i64| usize::try_from(v).ok();
            match (n(start), n(limit), n(stride)) {
                (Some(start), Some(limit), Some(stride)) => Ok(SliceDim {
                    start,
                    limit,
                    stride,
                }),
                _ => Err(attr_error(
                    instr,
                    "slice",
                    "slice bounds must be non-negative",
                )),
            }
        })
        .collect()
}
