//! The shape rule of every op: which operand shapes it accepts and what it yields.
//!
//! Ops whose result XLA derives from the operands (`add`, `dot`, `reduce`, ...) have
//! an [`infer`] rule; ops whose result shape carries an attribute of their own
//! (`reshape`, `broadcast`, `convert`, `iota`, `constant`, `parameter`, `bitcast`)
//! take the declared shape and [`check`] validates it. The builder and the verifier
//! both use these rules, so what one builds the other accepts.

use super::index_ops;
use super::op::{BinaryOp, DotDims, Op, ReduceOp, SliceDim, UnaryOp};
use super::region_shapes;
use super::shape::{ArrayShape, ElementType, Shape};

type Rule<T> = Result<T, String>;

/// The result shape of an op whose result follows from its operands, with the
/// default layout; `None` for ops whose result shape is declared.
pub fn infer(op: &Op, operands: &[&Shape]) -> Rule<Option<Shape>> {
    let array = |a: ArrayShape| Ok(Some(Shape::Array(a)));
    match op {
        Op::Parameter(_)
        | Op::Constant(_)
        | Op::Iota { .. }
        | Op::Convert
        | Op::BitcastConvert
        | Op::Broadcast { .. }
        | Op::Reshape
        | Op::Bitcast
        | Op::Fusion { .. }
        | Op::While { .. }
        | Op::Conditional { .. } => Ok(None),
        Op::Unary(u) => array(unary(*u, arrays::<1>(operands)?[0])?),
        Op::Binary(b) => {
            let [lhs, rhs] = arrays::<2>(operands)?;
            same_shape(lhs, rhs)?;
            binary_types(*b, lhs.element)?;
            array(default_layout(lhs))
        }
        Op::Compare(_) | Op::CompareTotalOrder(_) => {
            let [lhs, rhs] = arrays::<2>(operands)?;
            same_shape(lhs, rhs)?;
            array(ArrayShape::new(ElementType::Pred, lhs.dims.clone()))
        }
        Op::Select => {
            let [pred, on_true, on_false] = arrays::<3>(operands)?;
            if pred.element != ElementType::Pred {
                return Err(format!("select's predicate must be pred, not {pred}"));
            }
            same_shape(on_true, on_false)?;
            if pred.rank() != 0 && pred.dims != on_true.dims {
                return Err(format!(
                    "select's predicate {pred} does not match {on_true}"
                ));
            }
            array(default_layout(on_true))
        }
        Op::Clamp => {
            let [min, operand, max] = arrays::<3>(operands)?;
            for bound in [min, max] {
                if bound.element != operand.element
                    || (bound.rank() != 0 && bound.dims != operand.dims)
                {
                    return Err(format!(
                        "clamp bound {bound} must be a scalar or match the operand {operand}"
                    ));
                }
            }
            array(default_layout(operand))
        }
        Op::Transpose { permutation } => {
            let [operand] = arrays::<1>(operands)?;
            check_permutation(permutation, operand.rank(), "transpose dimensions")?;
            let dims = permutation.iter().map(|&d| operand.dims[d]).collect();
            array(ArrayShape::new(operand.element, dims))
        }
        Op::Slice { dims } => array(slice(arrays::<1>(operands)?[0], dims)?),
        Op::Concatenate { dimension } => array(concatenate(&arrays_of(operands)?, *dimension)?),
        Op::Dot(dot_dims) => {
            let [lhs, rhs] = arrays::<2>(operands)?;
            array(dot(lhs, rhs, dot_dims)?)
        }
        Op::Reduce {
            dimensions,
            reducer,
        } => {
            let [operand, init] = arrays::<2>(operands)?;
            array(reduce(operand, init, dimensions, *reducer)?)
        }
        Op::Pad { config } => {
            let [operand, value] = arrays::<2>(operands)?;
            array(index_ops::pad(operand, value, config)?)
        }
        Op::Reverse { dimensions } => {
            array(index_ops::reverse(arrays::<1>(operands)?[0], dimensions)?)
        }
        Op::DynamicSlice { sizes } => {
            array(index_ops::dynamic_slice(&arrays_of(operands)?, sizes)?)
        }
        Op::DynamicUpdateSlice => array(index_ops::dynamic_update_slice(&arrays_of(operands)?)?),
        Op::Gather(dims) => {
            let [operand, indices] = arrays::<2>(operands)?;
            array(index_ops::gather(operand, indices, dims)?)
        }
        Op::ReducePrecision { exponent_bits, .. } => {
            array(reduce_precision(arrays::<1>(operands)?[0], *exponent_bits)?)
        }
        Op::ReduceTuple { dimensions, .. } => {
            region_shapes::reduce_tuple(&arrays_of(operands)?, dimensions).map(Some)
        }
        Op::Scatter { dims, .. } => {
            let [operand, indices, updates] = arrays::<3>(operands)?;
            array(region_shapes::scatter(operand, indices, updates, dims)?)
        }
        Op::Sort { dimension, .. } => {
            region_shapes::sort(&arrays_of(operands)?, *dimension).map(Some)
        }
        Op::TopK { k, .. } => region_shapes::top_k(arrays::<1>(operands)?[0], *k).map(Some),
        Op::ReduceWindow { window, .. } => {
            let [operand, init] = arrays::<2>(operands)?;
            array(region_shapes::reduce_window(operand, init, window)?)
        }
        Op::SelectAndScatter {
            window, scatter, ..
        } => {
            let [operand, source, init] = arrays::<3>(operands)?;
            array(region_shapes::select_and_scatter(
                operand, source, init, window, *scatter,
            )?)
        }
        Op::Tuple => Ok(Some(Shape::Tuple(
            arrays_of(operands)?.into_iter().cloned().collect(),
        ))),
        Op::GetTupleElement { index } => {
            let [Shape::Tuple(elements)] = operands else {
                return Err("get-tuple-element takes one tuple operand".into());
            };
            match elements.get(*index) {
                Some(e) => Ok(Some(Shape::Array(e.clone()))),
                None => Err(format!(
                    "index {index} is out of range for a tuple of {} elements",
                    elements.len()
                )),
            }
        }
    }
}

/// Checks that `result` is a valid result shape of `op` on `operands`. Layouts are
/// free: only element types and dimensions must agree. `fusion` needs its module
/// and is checked by the verifier.
pub fn check(op: &Op, operands: &[&Shape], result: &Shape) -> Rule<()> {
    if let Some(inferred) = infer(op, operands)? {
        return if logically_equal(&inferred, result) {
            Ok(())
        } else {
            Err(format!("result shape {result} should be {inferred}"))
        };
    }
    let Shape::Array(out) = result else {
        return match op {
            Op::Parameter(_) | Op::Fusion { .. } | Op::While { .. } | Op::Conditional { .. } => {
                Ok(())
            }
            _ => Err(format!("{} cannot produce the tuple {result}", op.opcode())),
        };
    };
    match op {
        // What the callees take and give is the verifier's to check.
        Op::Parameter(_) | Op::Fusion { .. } | Op::While { .. } | Op::Conditional { .. } => Ok(()),
        Op::Constant(literal) => {
            no_operands(operands)?;
            if literal.element_type() != out.element || literal.len() != out.element_count() {
                return Err(format!(
                    "a literal of {} {} elements cannot have shape {out}",
                    literal.len(),
                    literal.element_type()
                ));
            }
            Ok(())
        }
        Op::Iota { dimension } => {
            no_operands(operands)?;
            if *dimension >= out.rank() {
                return Err(format!(
                    "iota_dimension={dimension} is out of range for {out}"
                ));
            }
            Ok(())
        }
        Op::Convert => {
            let [operand] = arrays::<1>(operands)?;
            if operand.dims != out.dims {
                return Err(format!(
                    "convert cannot change dimensions: {operand} to {out}"
                ));
            }
            Ok(())
        }
        Op::BitcastConvert => {
            let [operand] = arrays::<1>(operands)?;
            if operand.dims != out.dims || operand.element.bit_width() != out.element.bit_width() {
                return Err(format!(
                    "bitcast-convert keeps dimensions and element width: {operand} to {out}"
                ));
            }
            Ok(())
        }
        Op::Broadcast { dimensions } => {
            let [operand] = arrays::<1>(operands)?;
            broadcast(operand, out, dimensions)
        }
        Op::Reshape | Op::Bitcast => {
            let [operand] = arrays::<1>(operands)?;
            if operand.element != out.element || operand.element_count() != out.element_count() {
                return Err(format!(
                    "{} cannot turn {operand} into {out}: element counts or types differ",
                    op.opcode()
                ));
            }
            Ok(())
        }
        _ => unreachable!("{} has an infer rule", op.opcode()),
    }
}

fn unary(op: UnaryOp, operand: &ArrayShape) -> Rule<ArrayShape> {
    if !op.domain().contains(operand.element) {
        return Err(format!(
            "{} is not defined on {}",
            op.opcode(),
            operand.element
        ));
    }
    Ok(ArrayShape::new(
        op.result_type(operand.element),
        operand.dims.clone(),
    ))
}

/// `reduce-precision` rounds floats only, to a format with an exponent.
fn reduce_precision(operand: &ArrayShape, exponent_bits: u32) -> Rule<ArrayShape> {
    if !operand.element.is_float() {
        return Err(format!(
            "reduce-precision is not defined on {}",
            operand.element
        ));
    }
    if exponent_bits < 1 {
        return Err("reduce-precision needs at least one exponent bit".into());
    }
    Ok(default_layout(operand))
}

pub(super) fn binary_types(op: BinaryOp, element: ElementType) -> Rule<()> {
    if op.domain().contains(element) {
        Ok(())
    } else {
        Err(format!("{} is not defined on {element}", op.opcode()))
    }
}

fn slice(operand: &ArrayShape, dims: &[SliceDim]) -> Rule<ArrayShape> {
    if dims.len() != operand.rank() {
        return Err(format!("slice has {} ranges for {operand}", dims.len()));
    }
    let mut out = Vec::with_capacity(dims.len());
    for (d, (s, &size)) in dims.iter().zip(&operand.dims).enumerate() {
        if s.start > s.limit || s.limit > size || s.stride == 0 {
            return Err(format!(
                "slice range [{}:{}:{}] is invalid for dimension {d} of size {size}",
                s.start, s.limit, s.stride
            ));
        }
        out.push(s.len());
    }
    Ok(ArrayShape::new(operand.element, out))
}

fn concatenate(operands: &[&ArrayShape], dimension: usize) -> Rule<ArrayShape> {
    let Some(first) = operands.first() else {
        return Err("concatenate needs at least one operand".into());
    };
    if dimension >= first.rank() {
        return Err(format!("dimension {dimension} is out of range for {first}"));
    }
    let mut dims = first.dims.clone();
    for other in &operands[1..] {
        let agrees = other.element == first.element
            && other.rank() == first.rank()
            && (0..first.rank()).all(|d| d == dimension || other.dims[d] == first.dims[d]);
        if !agrees {
            return Err(format!(
                "cannot concatenate {first} and {other} along dimension {dimension}"
            ));
        }
        dims[dimension] += other.dims[dimension];
    }
    Ok(ArrayShape::new(first.element, dims))
}

fn dot(lhs: &ArrayShape, rhs: &ArrayShape, d: &DotDims) -> Rule<ArrayShape> {
    if lhs.element != rhs.element || lhs.element == ElementType::Pred {
        return Err(format!("cannot dot {lhs} with {rhs}"));
    }
    let mut lhs_used = vec![false; lhs.rank()];
    let mut rhs_used = vec![false; rhs.rank()];
    for (what, l, r) in [
        ("batch", &d.lhs_batch, &d.rhs_batch),
        ("contracting", &d.lhs_contracting, &d.rhs_contracting),
    ] {
        if l.len() != r.len() {
            return Err(format!(
                "lhs and rhs have different numbers of {what} dimensions"
            ));
        }
        for (&ld, &rd) in l.iter().zip(r) {
            mark(&mut lhs_used, ld, "lhs", what)?;
            mark(&mut rhs_used, rd, "rhs", what)?;
            if lhs.dims[ld] != rhs.dims[rd] {
                return Err(format!(
                    "{what} dimensions differ: lhs dimension {ld} of {lhs} is {}, rhs dimension {rd} of {rhs} is {}",
                    lhs.dims[ld], rhs.dims[rd]
                ));
            }
        }
    }
    let mut dims: Vec<usize> = d.lhs_batch.iter().map(|&b| lhs.dims[b]).collect();
    dims.extend(
        (0..lhs.rank())
            .filter(|&i| !lhs_used[i])
            .map(|i| lhs.dims[i]),
    );
    dims.extend(
        (0..rhs.rank())
            .filter(|&i| !rhs_used[i])
            .map(|i| rhs.dims[i]),
    );
    Ok(ArrayShape::new(lhs.element, dims))
}

pub(super) fn mark(used: &mut [bool], dim: usize, side: &str, what: &str) -> Rule<()> {
    match used.get_mut(dim) {
        Some(false) => {
            used[dim] = true;
            Ok(())
        }
        Some(true) => Err(format!("{side} dimension {dim} is used twice")),
        None => Err(format!("{side} {what} dimension {dim} is out of range")),
    }
}

fn reduce(
    operand: &ArrayShape,
    init: &ArrayShape,
    dimensions: &[usize],
    reducer: ReduceOp,
) -> Rule<ArrayShape> {
    if init.rank() != 0 || init.element != operand.element {
        return Err(format!(
            "reduce's init value {init} must be a scalar of {operand}'s type"
        ));
    }
    // The importer only matches the region's opcode, so the combiner's types are
    // checked here.
    if binary_types(reducer.combiner(), operand.element).is_err() {
        return Err(format!(
            "reduce cannot combine {} with {}",
            operand.element,
            reducer.combiner().opcode()
        ));
    }
    let mut reduced = vec![false; operand.rank()];
    for &d in dimensions {
        mark(&mut reduced, d, "operand", "reduce")?;
    }
    let dims = (0..operand.rank())
        .filter(|&i| !reduced[i])
        .map(|i| operand.dims[i]);
    Ok(ArrayShape::new(operand.element, dims.collect()))
}

fn broadcast(operand: &ArrayShape, out: &ArrayShape, dimensions: &[usize]) -> Rule<()> {
    if operand.element != out.element || dimensions.len() != operand.rank() {
        return Err(format!(
            "cannot broadcast {operand} to {out} with dimensions={{{}}}",
            super::shape::join(dimensions)
        ));
    }
    let mut used = vec![false; out.rank()];
    for (i, &d) in dimensions.iter().enumerate() {
        mark(&mut used, d, "result", "broadcast")?;
        if operand.dims[i] != out.dims[d] {
            return Err(format!(
                "operand dimension {i} of {operand} does not match result dimension {d} of {out}"
            ));
        }
    }
    Ok(())
}

fn check_permutation(perm: &[usize], rank: usize, what: &str) -> Rule<()> {
    let mut seen = vec![false; rank];
    if perm.len() != rank {
        return Err(format!("{what} must list {rank} dimensions"));
    }
    for &p in perm {
        mark(&mut seen, p, "operand", what)?;
    }
    Ok(())
}

/// Checks a layout: a permutation of the dimensions.
pub fn check_layout(shape: &ArrayShape) -> Rule<()> {
    check_permutation(&shape.minor_to_major, shape.rank(), "a layout")
        .map_err(|e| format!("invalid layout in {shape}: {e}"))
}

fn same_shape(a: &ArrayShape, b: &ArrayShape) -> Rule<()> {
    if a.same_logical(b) {
        Ok(())
    } else {
        Err(format!("operands have different shapes: {a} and {b}"))
    }
}

/// Whether two shapes hold the same arrays, whatever their layouts.
pub fn logically_equal(a: &Shape, b: &Shape) -> bool {
    let same_kind = matches!(a, Shape::Tuple(_)) == matches!(b, Shape::Tuple(_));
    let (a, b) = (a.arrays(), b.arrays());
    same_kind && a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_logical(y))
}

fn default_layout(a: &ArrayShape) -> ArrayShape {
    ArrayShape::new(a.element, a.dims.clone())
}

fn no_operands(operands: &[&Shape]) -> Rule<()> {
    if operands.is_empty() {
        Ok(())
    } else {
        Err("takes no operands".into())
    }
}

fn arrays_of<'a>(operands: &[&'a Shape]) -> Rule<Vec<&'a ArrayShape>> {
    operands
        .iter()
        .map(|s| {
            s.as_array()
                .ok_or_else(|| format!("operand {s} is a tuple"))
        })
        .collect()
}

fn arrays<'a, const N: usize>(operands: &[&'a Shape]) -> Rule<[&'a ArrayShape; N]> {
    let arrays = arrays_of(operands)?;
    arrays
        .try_into()
        .map_err(|v: Vec<_>| format!("takes {N} operand(s), not {}", v.len()))
}
