//! Reading an instruction's attributes (`dimensions={1,0}`, `slice={[0:4]}`,
//! `direction=LT`, `padding=0_0x1_2_1`, gather's dimension numbers, ...), with located errors for missing or malformed ones.

use omelet_grammar::hlo::{AttrValue, AttributeAst, InstructionAst};

use super::err;
use crate::error::{CompileError, ErrorKind, Span};
use crate::hlo::{GatherDims, PadDim, SliceDim};

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

/// A `{%a, %b}` list of names (the sigils dropped).
pub(super) fn name_list_attr(
    instr: &InstructionAst,
    name: &str,
) -> Result<(Vec<String>, Span), CompileError> {
    let attr = attribute(instr, name).ok_or_else(|| missing(instr, name))?;
    let names = match &attr.value {
        AttrValue::Braced(list) => list
            .trim_start_matches('{')
            .trim_end_matches('}')
            .split(',')
            .map(|n| n.trim().trim_start_matches('%').to_string())
            .collect(),
        AttrValue::Word(w) => vec![w.clone()],
        _ => Vec::new(),
    };
    if names.iter().any(String::is_empty) || names.is_empty() {
        return Err(attr_error(
            instr,
            name,
            &format!("{name}= takes {{%a, %b, ...}}"),
        ));
    }
    Ok((names, attr.span))
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

/// A `{1,0}` list of dimension numbers; absent (or `{}`) means empty unless
/// `required`.
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
        Some(AttributeAst {
            value: AttrValue::Braced(b),
            ..
        }) if b.trim_matches(|c: char| "{} ".contains(c)).is_empty() => Ok(Vec::new()),
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

/// `padding=0_0x1_2_1`: `low_high[_interior]` per dimension, joined by `x`
/// (empty for a scalar).
pub(super) fn padding_attr(instr: &InstructionAst) -> Result<Vec<PadDim>, CompileError> {
    let attr = attribute(instr, "padding").ok_or_else(|| missing(instr, "padding"))?;
    let text = match &attr.value {
        AttrValue::Word(w) => w.as_str(),
        AttrValue::Braced(b) if b.trim_matches(['{', '}', ' ']).is_empty() => "",
        _ => return Err(bad_padding(instr)),
    };
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split('x')
        .map(|dim| {
            let parts: Vec<i64> = dim
                .split('_')
                .map(|n| n.parse().ok().filter(|v: &i64| v.abs() < 1 << 40))
                .collect::<Option<_>>()
                .ok_or_else(|| bad_padding(instr))?;
            match parts[..] {
                [low, high] => Ok(PadDim {
                    low,
                    high,
                    interior: 0,
                }),
                [low, high, interior] if interior >= 0 => Ok(PadDim {
                    low,
                    high,
                    interior: interior as usize,
                }),
                _ => Err(bad_padding(instr)),
            }
        })
        .collect()
}

fn bad_padding(instr: &InstructionAst) -> CompileError {
    attr_error(
        instr,
        "padding",
        "padding= takes low_high or low_high_interior per dimension, joined by x (interior >= 0), like 0_0x1_2_1",
    )
}

/// `indices_are_sorted=true`; absent means false.
pub(super) fn bool_attr(instr: &InstructionAst, name: &str) -> Result<bool, CompileError> {
    if attribute(instr, name).is_none() {
        return Ok(false);
    }
    match word_attr(instr, name)?.0.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(attr_error(
            instr,
            name,
            &format!("{name}= takes true or false"),
        )),
    }
}

/// `gather`'s dimension numbers.
pub(super) fn gather_attr(instr: &InstructionAst) -> Result<GatherDims, CompileError> {
    Ok(GatherDims {
        offset_dims: dims_attr(instr, "offset_dims", true)?,
        collapsed_slice_dims: dims_attr(instr, "collapsed_slice_dims", false)?,
        start_index_map: dims_attr(instr, "start_index_map", true)?,
        index_vector_dim: int_attr(instr, "index_vector_dim")?,
        operand_batching_dims: dims_attr(instr, "operand_batching_dims", false)?,
        start_indices_batching_dims: dims_attr(instr, "start_indices_batching_dims", false)?,
        slice_sizes: dims_attr(instr, "slice_sizes", true)?,
        indices_are_sorted: bool_attr(instr, "indices_are_sorted")?,
    })
}

/// A small non-negative count (`exponent_bits=`, `mantissa_bits=`).
pub(super) fn bits_attr(instr: &InstructionAst, name: &str) -> Result<u32, CompileError> {
    u32::try_from(int_attr(instr, name)?)
        .ok()
        .filter(|&b| b <= 64)
        .ok_or_else(|| {
            attr_error(
                instr,
                name,
                &format!("{name}= takes a count of bits up to 64"),
            )
        })
}
