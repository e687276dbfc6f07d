//! The region computations the traced ops reference, each in the form JAX
//! writes it (so that `hlo::region`'s recognizers know them): a binary op
//! (`reduce-window`'s and `scatter`'s), the update that keeps the new value
//! (`.at[].set`), argmax's (value, index) combiner and sort's comparator.

use crate::hlo::{BinaryOp, ComputationId, Direction, ElementType, Number, Op, Scalar};

use super::graph::{Graph, OpResult};

/// `op(p0, p1)` on two scalars of `element`.
pub fn binary(
    g: &mut Graph,
    name: &str,
    element: ElementType,
    op: BinaryOp,
) -> OpResult<ComputationId> {
    g.region(name, &[element, element], &|r, p| {
        r.add(Op::Binary(op), &[p[0], p[1]])
    })
}

/// `.at[].set`'s update: the new value, whatever was there.
pub fn replace(g: &mut Graph, element: ElementType) -> OpResult<ComputationId> {
    g.region("scatter", &[element, element], &|_, p| Ok(p[1]))
}

/// JAX's argmax (`Gt`) or argmin (`Lt`) combiner of (value, index) pairs,
/// the accumulator's first: the greater (lesser) value, a NaN winning, and of
/// equal values the smaller index.
pub fn arg_reduce(g: &mut Graph, element: ElementType, keep: Direction) -> OpResult<ComputationId> {
    let float = element.is_float();
    g.region(
        "argreduce",
        &[element, ElementType::S32, element, ElementType::S32],
        &|r, p| {
            let mut wins = r.add(Op::Compare(keep), &[p[0], p[2]])?;
            if float {
                let nan = r.add(Op::Compare(Direction::Ne), &[p[0], p[0]])?;
                wins = r.add(Op::Binary(BinaryOp::Or), &[wins, nan])?;
            }
            let value = r.add(Op::Select, &[wins, p[0], p[2]])?;
            let equal = r.add(Op::Compare(Direction::Eq), &[p[0], p[2]])?;
            let first = r.add(Op::Compare(Direction::Lt), &[p[1], p[3]])?;
            let tie = r.add(Op::Binary(BinaryOp::And), &[equal, first])?;
            let keep_index = r.add(Op::Binary(BinaryOp::Or), &[wins, tie])?;
            let index = r.add(Op::Select, &[keep_index, p[1], p[3]])?;
            r.add(Op::Tuple, &[value, index])
        },
    )
}

/// JAX's sort comparator of `operands` arrays, the first the key: `lt` of
/// the key's two elements; for floats in total order after making every NaN
/// one positive NaN and `-0` zero (NaNs last, zeros tie).
pub fn less_than(g: &mut Graph, operands: &[ElementType]) -> OpResult<ComputationId> {
    let key = operands[0];
    let params: Vec<ElementType> = operands.iter().flat_map(|&e| [e, e]).collect();
    g.region("compare", &params, &|r, p| {
        if !key.is_float() {
            return r.add(Op::Compare(Direction::Lt), &[p[0], p[1]]);
        }
        let nan = r.constant(Scalar::from_number(key, Number::Float(f64::NAN)))?;
        let zero = r.constant(Scalar::int(key, 0))?;
        let mut canonical = |x| {
            let is_nan = r.add(Op::Compare(Direction::Ne), &[x, x])?;
            let is_zero = r.add(Op::Compare(Direction::Eq), &[x, zero])?;
            let zeroed = r.add(Op::Select, &[is_zero, zero, x])?;
            r.add(Op::Select, &[is_nan, nan, zeroed])
        };
        let (a, b) = (canonical(p[0])?, canonical(p[1])?);
        r.add(Op::CompareTotalOrder(Direction::Lt), &[a, b])
    })
}
