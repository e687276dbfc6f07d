//! The indexing and order builtins of LANGUAGE.md, as JAX computes them:
//! `flip` (`reverse`), `pad` (constant mode), `dynamic_slice` and
//! `dynamic_update_slice` (one index op each; starts may be run-time
//! scalars), `take` (a gather and a fill), and those written with `iota` and
//! compares or slices: `one_hot`, `tril`, `triu`, `roll`.

use crate::error::{CompileError, ErrorKind};
use crate::hlo::{
    BinaryOp, Direction, ElementType, GatherDims, Kind, Number, Op, PadDim, ReduceOp, Scalar,
    SliceDim,
};

use super::arith;
use super::builtins::{Args, Located};
use super::eval::{Tracer, at, fail};
use super::graph::{Graph, OpResult};
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
        Some(v) if let Some(p) = pair(v) => vec![p; rank],
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
            wrap_negative(g, &start, size).map_err(located)
        })
        .collect()
}

/// `one_hot(idx, n)`: `jax.nn.one_hot`, an `f32` array with a new last axis of
/// `n`, 1 where it equals the index (none for an index outside `[0, n)`).
pub fn one_hot(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let idx = args.tensor(tracer, 0)?;
    if !idx.element().is_integer() {
        return fail(
            ErrorKind::Dtype,
            args.span(0),
            format!(
                "one_hot takes integer indices, not {}",
                user_type(&idx.shape)
            ),
        );
    }
    let n = args.shape(1)?;
    let [n] = n[..] else {
        return fail(ErrorKind::Value, args.span(1), "one_hot takes one count");
    };
    let g = &mut tracer.graph;
    let rank = idx.rank();
    let mut dims = idx.dims().to_vec();
    dims.push(n);
    // Narrow indices compare as `s32` (a large `u32` wraps below 0: no class);
    // 64-bit ones in their own type, where a wrap could hit one.
    let compared = match idx.element().bit_width() {
        64 => idx.element(),
        _ => ElementType::S32,
    };
    let idx = g.convert(&idx, compared).map_err(|f| at(args.call, f))?;
    let spread = g
        .emit_shaped(
            Op::Broadcast {
                dimensions: (0..rank).collect(),
            },
            &[&idx],
            compared,
            dims.clone(),
        )
        .map_err(|f| at(args.call, f))?;
    let classes = g.iota(compared, dims, rank).map_err(|f| at(args.call, f))?;
    let hit = g
        .compare(Direction::Eq, &spread, &classes)
        .map_err(|f| at(args.call, f))?;
    g.convert(&hit, ElementType::F32).located(args)
}

/// `tril(m, k=0)`: `jnp.tril`, the elements of the last two axes on or below
/// diagonal `k`, zeros elsewhere.
pub fn tril(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    triangle(tracer, args, Direction::Le)
}

/// `triu(m, k=0)`: `jnp.triu`, on or above diagonal `k`.
pub fn triu(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    triangle(tracer, args, Direction::Ge)
}

/// Keeps the elements whose `column - row` compares to `k` by `keep`.
fn triangle(tracer: &mut Tracer, args: &Args, keep: Direction) -> Result<Value, CompileError> {
    let m = args.tensor(tracer, 0)?;
    // Beyond ±2^30 every element is on one side: `s32` holds the comparison.
    let k = match args.get(1) {
        None => 0,
        Some(_) => args.int(1)?.clamp(-(1 << 30), 1 << 30),
    };
    let rank = m.rank();
    if rank < 2 {
        return fail(
            ErrorKind::Shape,
            args.span(0),
            format!(
                "{} takes an array of rank 2 or more, not {}",
                args.name,
                user_type(&m.shape)
            ),
        );
    }
    let located = |f| at(args.call, f);
    let g = &mut tracer.graph;
    let dims = m.dims().to_vec();
    let rows = g
        .iota(ElementType::S32, dims.clone(), rank - 2)
        .map_err(located)?;
    let cols = g
        .iota(ElementType::S32, dims.clone(), rank - 1)
        .map_err(located)?;
    let offset = g
        .emit(Op::Binary(BinaryOp::Subtract), &[&cols, &rows])
        .map_err(located)?;
    let k = g
        .full(
            Scalar::from_number(ElementType::S32, Number::Int(k as i128)),
            &dims,
        )
        .map_err(located)?;
    let mask = g.compare(keep, &offset, &k).map_err(located)?;
    let zero = g
        .full(Scalar::from_number(m.element(), Number::Int(0)), &dims)
        .map_err(located)?;
    g.select(&mask, &m, &zero).located(args)
}

/// `roll(x, shift, axis=None)`: `jnp.roll` by a compile-time shift, along
/// one axis, or over the flattened array when none is given.
pub fn roll(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = args.tensor(tracer, 0)?;
    let shift = args.int(1)?;
    let located = |f| at(args.call, f);
    if args.get(2).is_none() {
        let dims = x.dims().to_vec();
        let flat = tracer
            .graph
            .reshape(&x, &[x.shape.element_count()])
            .map_err(located)?;
        let rolled = roll_axis(tracer, &flat, shift, 0).map_err(located)?;
        return tracer.graph.reshape(&rolled, &dims).located(args);
    }
    let axis = args.axis(2, x.rank(), 0)?;
    roll_axis(tracer, &x, shift, axis).located(args)
}

/// `x` rolled by `shift` along `axis`: its last `shift` elements first.
fn roll_axis(tracer: &mut Tracer, x: &Tensor, shift: i64, axis: usize) -> OpResult<Tensor> {
    let n = x.dims()[axis];
    let s = if n == 0 {
        0
    } else {
        shift.rem_euclid(n as i64) as usize
    };
    if s == 0 {
        return Ok(x.clone());
    }
    let part = |start: usize, limit: usize| -> Vec<SliceDim> {
        x.dims()
            .iter()
            .enumerate()
            .map(|(d, &size)| match d == axis {
                true => SliceDim {
                    start,
                    limit,
                    stride: 1,
                },
                false => SliceDim {
                    start: 0,
                    limit: size,
                    stride: 1,
                },
            })
            .collect()
    };
    let g = &mut tracer.graph;
    let tail = g.slice(x, part(n - s, n))?;
    let head = g.slice(x, part(0, n - s))?;
    g.concatenate(&[&tail, &head], axis)
}

/// `take(x, idx, axis=None)`: `jnp.take` in its default fill mode: the
/// elements at `idx` along `axis` (of the flattened `x` when none is given),
/// shaped `x.shape[:axis] + idx.shape + x.shape[axis+1:]`; a negative index
/// counts from the end once, and one still outside gives JAX's fill value
/// (NaN, the most negative signed integer, the largest unsigned one, true).
pub fn take(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = args.tensor(tracer, 0)?;
    let idx = args.tensor(tracer, 1)?;
    if !idx.element().is_integer() {
        return fail(
            ErrorKind::Dtype,
            args.span(1),
            format!("take's indices are integers, not {}", user_type(&idx.shape)),
        );
    }
    let located = |f| at(args.call, f);
    let (x, axis) = match args.get(2) {
        None => {
            let flat = [x.shape.element_count()];
            (tracer.graph.reshape(&x, &flat).map_err(located)?, 0)
        }
        Some(_) => {
            let axis = args.axis(2, x.rank(), 0)?;
            (x, axis)
        }
    };
    let g = &mut tracer.graph;
    let n = x.dims()[axis];
    let q = idx.rank();
    let idx = wrap_negative(g, &idx, n).map_err(located)?;
    let zero = g
        .full(
            Scalar::from_number(ElementType::S32, Number::Int(0)),
            idx.dims(),
        )
        .map_err(located)?;
    let size = g
        .full(
            Scalar::from_number(ElementType::S32, Number::Int(n as i128)),
            idx.dims(),
        )
        .map_err(located)?;
    let above = g.compare(Direction::Ge, &idx, &zero).map_err(located)?;
    let below = g.compare(Direction::Lt, &idx, &size).map_err(located)?;
    let inside = g
        .emit(Op::Binary(BinaryOp::And), &[&above, &below])
        .map_err(located)?;
    let taken = gather_along(g, &x, &idx, axis).map_err(located)?;
    let out = taken.dims().to_vec();
    let inside = g
        .emit_shaped(
            Op::Broadcast {
                dimensions: (axis..axis + q).collect(),
            },
            &[&inside],
            ElementType::Pred,
            out.clone(),
        )
        .map_err(located)?;
    let fill = g.full(fill_value(x.element()), &out).map_err(located)?;
    g.select(&inside, &taken, &fill).located(args)
}

/// What JAX's fill mode gives for an index out of range: NaN, the most
/// negative signed integer, the largest unsigned one, true.
fn fill_value(element: ElementType) -> Scalar {
    let fill = match element.kind() {
        Kind::Float => Number::Float(f64::NAN),
        Kind::Signed => Number::Int(-(1i128 << (element.bit_width() - 1))),
        Kind::Unsigned => Number::Int((1i128 << element.bit_width()) - 1),
        Kind::Pred => Number::Bool(true),
    };
    Scalar::from_number(element, fill)
}

/// `gathered` with JAX's fill where its one-component index vector (the last
/// dimension of `vectors`, `s32`) is outside `[0, limit]`: a gather in fill
/// mode. The gather's batch dimensions are those of `gathered` other than
/// `offset_dims`.
pub(super) fn fill_outside(
    g: &mut Graph,
    gathered: &Tensor,
    vectors: &Tensor,
    limit: usize,
    offset_dims: &[usize],
) -> OpResult<Tensor> {
    let int = |g: &mut Graph, v: usize| {
        g.full(
            Scalar::from_number(ElementType::S32, Number::Int(v as i128)),
            vectors.dims(),
        )
    };
    let zero = int(g, 0)?;
    let limit = int(g, limit)?;
    let above = g.compare(Direction::Ge, vectors, &zero)?;
    let below = g.compare(Direction::Le, vectors, &limit)?;
    let inside = g.emit(Op::Binary(BinaryOp::And), &[&above, &below])?;
    let inside = g.reduce(&inside, &[vectors.rank() - 1], ReduceOp::And)?;
    let out = gathered.dims().to_vec();
    let batch: Vec<usize> = (0..out.len())
        .filter(|d| !offset_dims.contains(d))
        .collect();
    let inside = g.emit_shaped(
        Op::Broadcast { dimensions: batch },
        &[&inside],
        ElementType::Pred,
        out.clone(),
    )?;
    let fill = g.full(fill_value(gathered.element()), &out)?;
    g.select(&inside, gathered, &fill)
}

/// Integer indices `idx` (any shape) as `s32`, a negative one counted from the
/// end of an axis of `n` once, as JAX does before XLA clamps (or `take`
/// fills) what is still out of range.
pub(super) fn wrap_negative(g: &mut Graph, idx: &Tensor, n: usize) -> OpResult<Tensor> {
    let idx = g.convert(idx, ElementType::S32)?;
    let int = |g: &mut Graph, v: i128| {
        g.full(
            Scalar::from_number(ElementType::S32, Number::Int(v)),
            idx.dims(),
        )
    };
    let zero = int(g, 0)?;
    let size = int(g, n as i128)?;
    let negative = g.compare(Direction::Lt, &idx, &zero)?;
    let wrapped = g.emit(Op::Binary(BinaryOp::Add), &[&idx, &size])?;
    g.select(&negative, &wrapped, &idx)
}

/// The elements of `x` at the `s32` indices `idx` along `axis`, shaped
/// `x.shape[:axis] + idx.shape + x.shape[axis+1:]`: one `gather`, which clamps
/// an index out of range.
pub(super) fn gather_along(
    g: &mut Graph,
    x: &Tensor,
    idx: &Tensor,
    axis: usize,
) -> OpResult<Tensor> {
    let q = idx.rank();
    let mut slice_sizes = x.dims().to_vec();
    slice_sizes[axis] = 1;
    let dims = GatherDims {
        offset_dims: (0..axis).chain(axis + q..x.rank() - 1 + q).collect(),
        collapsed_slice_dims: vec![axis],
        start_index_map: vec![axis],
        index_vector_dim: q,
        slice_sizes,
        ..GatherDims::default()
    };
    g.emit(Op::Gather(dims), &[x, idx])
}
