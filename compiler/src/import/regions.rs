//! The attributes of the ops with regions: `window={...}`, scatter's dimension
//! numbers, and the regions that become closed enums (a plain `reduce`'s
//! reducer, a `select-and-scatter`'s `select` and `scatter`). A region outside
//! those forms is refused, saying what it computes.

use omelet_grammar::hlo::{AttrValue, BodyAst, ComputationAst, InstructionAst};

use super::attributes::{attr_error, attribute, dims_attr, word_attr};
use super::err;
use crate::error::{CompileError, ErrorKind};
use crate::hlo::{BinaryOp, Direction, ReduceOp, ScatterDims, WindowDim};

/// `window={size=3x3 stride=2x2 pad=0_1x0_1 lhs_dilate=1x1 rhs_dilate=1x1}`:
/// one [`WindowDim`] per dimension (an absent window is a scalar's, of none).
pub(super) fn window_attr(instr: &InstructionAst) -> Result<Vec<WindowDim>, CompileError> {
    let text = match attribute(instr, "window").map(|a| &a.value) {
        None => return Ok(Vec::new()),
        Some(AttrValue::Braced(b)) => b.trim_matches(|c| c == '{' || c == '}'),
        Some(_) => {
            return Err(attr_error(
                instr,
                "window",
                "window= takes {size=.. stride=..}",
            ));
        }
    };
    let bad = |why: String| attr_error(instr, "window", &why);
    let mut window: Vec<WindowDim> = Vec::new();
    let mut fields: Vec<(&str, Vec<&str>)> = Vec::new();
    for field in text.split_whitespace() {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| bad(format!("window field `{field}` has no value")))?;
        fields.push((key, value.split('x').collect()));
    }
    let rank = fields
        .iter()
        .find(|(k, _)| *k == "size")
        .map(|(_, v)| v.len())
        .ok_or_else(|| bad("the window has no size".into()))?;
    window.resize(rank, WindowDim::of_size(1));
    let number = |s: &str| {
        s.parse::<usize>()
            .ok()
            .filter(|&n| n < 1 << 31)
            .ok_or_else(|| bad(format!("window value `{s}` is not a non-negative integer")))
    };
    for (key, values) in fields {
        if values.len() != rank {
            return Err(bad(format!(
                "window field {key} has {} dimensions, size has {rank}",
                values.len()
            )));
        }
        for (w, v) in window.iter_mut().zip(values) {
            match key {
                "size" => w.size = number(v)?,
                "stride" => w.stride = number(v)?,
                "lhs_dilate" => w.base_dilation = number(v)?,
                "rhs_dilate" => w.window_dilation = number(v)?,
                "pad" => {
                    let (lo, hi) = v
                        .split_once('_')
                        .ok_or_else(|| bad(format!("window padding `{v}` is not LOW_HIGH")))?;
                    if lo.starts_with('-') || hi.starts_with('-') {
                        return Err(err(
                            ErrorKind::Unsupported,
                            attribute(instr, "window").map_or(instr.opcode_span, |a| a.span),
                            format!("negative window padding `{v}` is not supported"),
                        ));
                    }
                    w.pad_low = number(lo)?;
                    w.pad_high = number(hi)?;
                }
                _ => {
                    return Err(err(
                        ErrorKind::Unsupported,
                        attribute(instr, "window").map_or(instr.opcode_span, |a| a.span),
                        format!("window field {key} is not supported"),
                    ));
                }
            }
        }
    }
    Ok(window)
}

pub(super) fn scatter_dims(instr: &InstructionAst) -> Result<ScatterDims, CompileError> {
    let (index_vector_dim, _) = word_attr(instr, "index_vector_dim")?;
    Ok(ScatterDims {
        update_window_dims: dims_attr(instr, "update_window_dims", false)?,
        inserted_window_dims: dims_attr(instr, "inserted_window_dims", false)?,
        input_batching_dims: dims_attr(instr, "input_batching_dims", false)?,
        scatter_indices_batching_dims: dims_attr(instr, "scatter_indices_batching_dims", false)?,
        scatter_dims_to_operand_dims: dims_attr(instr, "scatter_dims_to_operand_dims", false)?,
        index_vector_dim: index_vector_dim
            .parse()
            .ok()
            .filter(|&d: &usize| d < 1 << 16)
            .ok_or_else(|| {
                attr_error(
                    instr,
                    "index_vector_dim",
                    "index_vector_dim= takes a dimension",
                )
            })?,
    })
}

/// The root of a region and its parameters' names by number.
fn shape_of(region: &ComputationAst) -> Option<(&InstructionAst, Vec<&str>)> {
    let root = region
        .instructions
        .iter()
        .find(|i| i.is_root)
        .or(region.instructions.last())?;
    let mut params: Vec<(u64, &str)> = region
        .instructions
        .iter()
        .filter_map(|i| match i.body {
            BodyAst::ParameterNumber(n) => Some((n, i.name.as_str())),
            _ => None,
        })
        .collect();
    params.sort_unstable();
    Some((root, params.into_iter().map(|(_, name)| name).collect()))
}

fn operand_names(instr: &InstructionAst) -> Vec<&str> {
    match &instr.body {
        BodyAst::Operands(ops) => ops.iter().map(|o| o.name.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// What a region computes, for refusals: its root applied to its operands,
/// parameters written `p0`, `p1`, ...
fn describe(region: &ComputationAst) -> String {
    let Some((root, params)) = shape_of(region) else {
        return "nothing".into();
    };
    let name = |n: &str| match params.iter().position(|p| *p == n) {
        Some(i) => format!("p{i}"),
        None => n.to_string(),
    };
    if matches!(root.body, BodyAst::ParameterNumber(_)) {
        return format!("{} (a parameter)", name(&root.name));
    }
    let operands: Vec<String> = operand_names(root).into_iter().map(name).collect();
    format!(
        "{}({}) in {} instructions",
        root.opcode,
        operands.join(", "),
        region.instructions.len()
    )
}

/// The region's combiner when it is `op(p0, p1)` of its two parameters, in
/// either order.
fn binary_combiner(region: &ComputationAst) -> Option<BinaryOp> {
    let (root, params) = shape_of(region)?;
    let mut operands = operand_names(root);
    let mut params = params;
    operands.sort_unstable();
    params.sort_unstable();
    (region.instructions.len() == 3 && params.len() == 2 && operands == params)
        .then(|| BinaryOp::from_opcode(&root.opcode))
        .flatten()
}

fn refuse(
    instr: &InstructionAst,
    attr: &str,
    region: &ComputationAst,
    wants: &str,
) -> CompileError {
    let span = attribute(instr, attr).map_or(instr.opcode_span, |a| a.span);
    err(
        ErrorKind::Unsupported,
        span,
        format!(
            "{}'s region {} computes {}; only {wants} is supported",
            instr.opcode,
            region.name,
            describe(region)
        ),
    )
}

const REDUCERS: &str = "add, multiply, maximum, minimum, and or or of its two parameters";

/// A region that combines its two parameters by a [`ReduceOp`].
pub(super) fn reducer(
    instr: &InstructionAst,
    attr: &str,
    region: &ComputationAst,
) -> Result<ReduceOp, CompileError> {
    binary_combiner(region)
        .and_then(ReduceOp::from_combiner)
        .ok_or_else(|| refuse(instr, attr, region, REDUCERS))
}

/// `select-and-scatter`'s `select`: `compare(p0, p1)` by one direction.
pub(super) fn select_direction(
    instr: &InstructionAst,
    region: &ComputationAst,
) -> Result<Direction, CompileError> {
    let direction = shape_of(region).and_then(|(root, params)| {
        let in_order = params.len() == 2 && operand_names(root) == params;
        let (word, _) = word_attr(root, "direction").ok()?;
        let plain = attribute(root, "type").is_none();
        (root.opcode == "compare" && region.instructions.len() == 3 && in_order && plain)
            .then(|| Direction::ALL.into_iter().find(|d| d.name() == word))
            .flatten()
            .filter(|d| {
                matches!(
                    d,
                    Direction::Ge | Direction::Gt | Direction::Le | Direction::Lt
                )
            })
    });
    direction.ok_or_else(|| {
        refuse(
            instr,
            "select",
            region,
            "compare(p0, p1) with direction GE, GT, LE or LT",
        )
    })
}
