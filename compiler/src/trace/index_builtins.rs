//! The indexing builtins that are one index op each, as JAX computes them:
//! `flip` (`reverse`), `pad` (constant mode), `dynamic_slice` and
//! `dynamic_update_slice`, whose starts may be run-time scalars.

use crate::error::{CompileError, ErrorKind};
use crate::hlo::{BinaryOp, Direction, ElementType, Number, Op, PadDim, Scalar};

use super::arith;
use super::builtins::{Args, Located};
use super::eval::{Tracer, at, fail};
use super::value::{Tensor, Value, user_type};

/// `flip(x, axis=None)`: `jnp.flip`, every axis when none is given.
pub fn flip(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let dimensions = args.axes(1, t.rank())?;
    tracer
        .graph
        .emit(Op::Reverse { dimensions }, &[&t])
        .located(args)
}

/// `pad(x, widths, value=0)`: `jnp.pad` in its constant mode (the language
/// has no strings to name another), with `widths` one `(lo, hi)` pair per
/// axis, or one pair (or one number) for every axis.
pub fn pad(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let config = widths(args, t.rank())?;
    let value = match args.get(2) {
        None => Value::Int(0),
        Some(v) => v.clone(),
    };
    let value = arith::to_tensor(&mut tracer.graph, &value, t.element())
        .map_err(|f| at(args.span(2), f))?;
    if value.rank() != 0 {
        return fail(
            ErrorKind::Shape,
            args.span(2),
            format!(
                "pad's value must be a scalar, not {}",
                user_type(&value.shape)
            ),
        );
    }
    tracer
        .graph
        .emit(Op::Pad { config }, &[&t, &value])
        .located(args)
}

/// The `(lo, hi)` widths of `pad`, non-negative as `jnp.pad` requires.
fn widths(args: &Args, rank: usize) -> Result<Vec<PadDim>, CompileError> {
    let bad = || {
        CompileError::at(
            ErrorKind::Value,
            args.span(1),
            format!(
                "pad's widths are one (lo, hi) pair of non-negative integers per axis ({rank}), or one pair for all"
            ),
        )
    };
    let pair = |v: &Value| -> Option<(i64, i64)> {
        match v {
            Value::Int(n) => Some((*n, *n)),
            Value::List(items) | Value::Tuple(items) => match &items[..] {
                [lo, hi] => Some((lo.as_int()?, hi.as_int()?)),
                _ => None,
            },
            _ => None,
        }
    };
    let pairs: Vec<(i64, i64)> = match args.get(1) {
        Some(v) if pair(v).is_some() => vec![pair(v).expect("checked"); rank],
        Some(Value::List(items) | Value::Tuple(items)) if items.len() == rank => items
            .iter()
            .map(|v| pair(v).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        _ => return Err(bad()),
    };
    if pairs.iter().any(|&(lo, hi)| lo < 0 || hi < 0) {
        return Err(bad());
    }
    Ok(pairs
        .into_iter()
        .map(|(low, high)| PadDim {
            low,
            high,
            interior: 0,
        })
        .collect())
}

/// `dynamic_slice(x, starts, sizes)`: `lax.dynamic_slice`.
pub fn dynamic_slice(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let starts = starts(tracer, args, 1, &t)?;
    let sizes = args.shape(2)?;
    let mut operands = vec![&t];
    operands.extend(&starts);
    tracer
        .graph
        .emit(Op::DynamicSlice { sizes }, &operands)
        .located(args)
}

/// `dynamic_update_slice(x, update, starts)`: `lax.dynamic_update_slice`.
pub fn dynamic_update_slice(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let update = args.tensor(tracer, 1)?;
    if update.element() != t.element() {
        return fail(
            ErrorKind::Dtype,
            args.span(1),
            format!(
                "dynamic_update_slice's update is {}, but the array is {}",
                user_type(&update.shape),
                user_type(&t.shape)
            ),
        );
    }
    let starts = starts(tracer, args, 2, &t)?;
    let mut operands = vec![&t, &update];
    operands.extend(&starts);
    tracer
        .graph
        .emit(Op::DynamicUpdateSlice, &operands)
        .located(args)
}

/// Argument `i`, one start per axis of `t` (compile-time integers or integer
/// scalars), as `s32` scalars with a negative start counted from the end
/// once, as JAX does before XLA clamps it.
fn starts(
    tracer: &mut Tracer,
    args: &Args,
    i: usize,
    t: &Tensor,
) -> Result<Vec<Tensor>, CompileError> {
    let items = match args.get(i) {
        Some(Value::List(items) | Value::Tuple(items)) => items.clone(),
        Some(v) => vec![v.clone()],
        None => Vec::new(),
    };
    if items.len() != t.rank() {
        return fail(
            ErrorKind::Shape,
            args.span(i),
            format!(
                "{} takes one start per axis of {}: {} given",
                args.name,
                user_type(&t.shape),
                items.len()
            ),
        );
    }
    let located = |f| at(args.span(i), f);
    items
        .iter()
        .zip(t.dims())
        .map(|(item, &size)| {
            let integer = match item {
                Value::Int(_) => true,
                Value::Tensor(s) => s.rank() == 0 && s.element().is_integer(),
                _ => false,
            };
            if !integer {
                return fail(
                    ErrorKind::Dtype,
                    args.span(i),
                    format!(
                        "a start of {} is an integer scalar, not {}",
                        args.name,
                        item.describe()
                    ),
                );
            }
            let g = &mut tracer.graph;
            let start = arith::to_tensor(g, item, ElementType::S32).map_err(located)?;
            let zero = g
                .scalar(Scalar::from_number(ElementType::S32, Number::Int(0)))
                .map_err(located)?;
            let size = g
                .scalar(Scalar::from_number(
                    ElementType::S32,
                    Number::Int(size as i128),
                ))
                .map_err(located)?;
            let negative = g.compare(Direction::Lt, &start, &zero).map_err(located)?;
            let wrapped = g
                .emit(Op::Binary(BinaryOp::Add), &[&start, &size])
                .map_err(located)?;
            g.select(&negative, &wrapped, &start).map_err(located)
        })
        .collect()
}
