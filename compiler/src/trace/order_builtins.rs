//! The order builtins of LANGUAGE.md, as JAX lowers them: `argmax`/`argmin`
//! (a variadic reduce of values and indices), `sort`/`argsort` (a stable
//! `sort` with JAX's comparator: NaNs last), `top_k` (`topk`) and
//! `take_along_axis` (a batched gather and JAX's fill).

use crate::error::{CompileError, ErrorKind};
use crate::hlo::{Direction, ElementType, GatherDims, Op, ReduceOp};

use super::builtins::{Args, Located};
use super::eval::{Tracer, at, fail};
use super::graph::{Graph, OpResult};
use super::index_builtins::{fill_outside, wrap_negative};
use super::regions;
use super::value::{Tensor, Value, user_type};

/// `argmax(x, axis=None, keepdims=false)`: `jnp.argmax`, the `s32` index of
/// the first greatest element (a NaN counts as the greatest), over the
/// flattened array when no axis is given.
pub fn argmax(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    arg_extreme(tracer, args, Direction::Gt)
}

/// `argmin(x, axis=None, keepdims=false)`: `jnp.argmin`, the first least.
pub fn argmin(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    arg_extreme(tracer, args, Direction::Lt)
}

fn arg_extreme(tracer: &mut Tracer, args: &Args, keep: Direction) -> Result<Value, CompileError> {
    let x = args.tensor(tracer, 0)?;
    let keepdims = args.flag(2, false)?;
    let rank = x.rank();
    let (x, axis) = axis_or_flat(tracer, args, &x, 1)?;
    let n = x.dims()[axis];
    if n == 0 {
        return fail(
            ErrorKind::Shape,
            args.span(1),
            format!(
                "{} of an empty axis: axis {axis} of {} has no elements",
                args.name,
                user_type(&x.shape)
            ),
        );
    }
    let located = |f| at(args.call, f);
    let g = &mut tracer.graph;
    let element = x.element();
    let region = regions::arg_reduce(g, element, keep).map_err(located)?;
    let indices = iota_along(g, x.dims(), axis).map_err(located)?;
    let extreme = match keep {
        Direction::Gt => ReduceOp::Maximum,
        _ => ReduceOp::Minimum,
    };
    let init = g.scalar(extreme.identity(element)).map_err(located)?;
    let zero = g
        .scalar(crate::hlo::Scalar::int(ElementType::S32, 0))
        .map_err(located)?;
    let op = Op::ReduceTuple {
        dimensions: vec![axis],
        to_apply: region,
    };
    let results = g
        .emit_tuple(op, &[&x, &indices, &init, &zero])
        .map_err(located)?;
    let index = &results[1];
    if !keepdims {
        return Ok(Value::Tensor(index.clone()));
    }
    let mut dims = x.dims().to_vec();
    dims[axis] = 1;
    if args.get(1).is_none() {
        dims = vec![1; rank];
    }
    tracer.graph.reshape(index, &dims).located(args)
}

/// `x` and the axis of argument `i`, or `x` flattened and axis 0 when it is absent.
fn axis_or_flat(
    tracer: &mut Tracer,
    args: &Args,
    x: &Tensor,
    i: usize,
) -> Result<(Tensor, usize), CompileError> {
    if args.get(i).is_some() {
        return Ok((x.clone(), args.axis(i, x.rank(), 0)?));
    }
    let flat = [x.shape.element_count()];
    let flat = tracer
        .graph
        .reshape(x, &flat)
        .map_err(|f| at(args.call, f))?;
    Ok((flat, 0))
}

/// `s32` positions along `axis` of an array of `dims`: an iota, broadcast.
fn iota_along(g: &mut Graph, dims: &[usize], axis: usize) -> OpResult<Tensor> {
    let iota = g.iota(ElementType::S32, vec![dims[axis]], 0)?;
    if dims.len() == 1 {
        return Ok(iota);
    }
    g.emit_shaped(
        Op::Broadcast {
            dimensions: vec![axis],
        },
        &[&iota],
        ElementType::S32,
        dims.to_vec(),
    )
}

/// `sort(x, axis=-1, descending=false)`: `jnp.sort`, stable, NaNs last
/// (first when descending, the sorted order reversed).
pub fn sort(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = args.tensor(tracer, 0)?;
    let descending = args.flag(2, false)?;
    let (x, axis) = sort_axis(tracer, args, &x)?;
    let located = |f| at(args.call, f);
    let g = &mut tracer.graph;
    let comparator = regions::less_than(g, &[x.element()]).map_err(located)?;
    let op = Op::Sort {
        dimension: axis,
        is_stable: true,
        comparator,
    };
    let sorted = g.emit(op, &[&x]).map_err(located)?;
    reversed_if(g, sorted, axis, descending).located(args)
}

/// `argsort(x, axis=-1, descending=false)`: `jnp.argsort`, the `s32` indices
/// that sort `x` stably (equal elements keep their order, descending too).
pub fn argsort(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = args.tensor(tracer, 0)?;
    let descending = args.flag(2, false)?;
    let (x, axis) = sort_axis(tracer, args, &x)?;
    let located = |f| at(args.call, f);
    let g = &mut tracer.graph;
    let iota = iota_along(g, x.dims(), axis).map_err(located)?;
    // As JAX: a stable descending sort sorts the reversed array and reverses
    // the indices, so that equal elements keep their order.
    let x = reversed_if(g, x, axis, descending).map_err(located)?;
    let iota = reversed_if(g, iota, axis, descending).map_err(located)?;
    let comparator = regions::less_than(g, &[x.element(), ElementType::S32]).map_err(located)?;
    let op = Op::Sort {
        dimension: axis,
        is_stable: true,
        comparator,
    };
    let sorted = g.emit_tuple(op, &[&x, &iota]).map_err(located)?;
    reversed_if(g, sorted[1].clone(), axis, descending).located(args)
}

/// `x` and the sort axis of argument 1: `None` flattens, as in JAX.
fn sort_axis(
    tracer: &mut Tracer,
    args: &Args,
    x: &Tensor,
) -> Result<(Tensor, usize), CompileError> {
    match args.get(1) {
        None if args.given(1) => axis_or_flat(tracer, args, x, 1),
        _ if x.rank() == 0 => fail(
            ErrorKind::Shape,
            args.span(0),
            format!(
                "{} needs an array of rank 1 or more, not {}",
                args.name,
                user_type(&x.shape)
            ),
        ),
        _ => Ok((x.clone(), args.axis(1, x.rank(), -1)?)),
    }
}

fn reversed_if(g: &mut Graph, t: Tensor, axis: usize, reverse: bool) -> OpResult<Tensor> {
    if !reverse {
        return Ok(t);
    }
    g.emit(
        Op::Reverse {
            dimensions: vec![axis],
        },
        &[&t],
    )
}

/// `top_k(x, k)`: `lax.top_k`, the `k` greatest elements along the last axis,
/// in descending order (equal ones by smaller index first), and their `s32`
/// indices: a tuple `(values, indices)`.
pub fn top_k(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = args.tensor(tracer, 0)?;
    let k = args.int(1)?;
    let Some(&last) = x.dims().last() else {
        return fail(
            ErrorKind::Shape,
            args.span(0),
            format!(
                "top_k needs an array of rank 1 or more, not {}",
                user_type(&x.shape)
            ),
        );
    };
    if x.element() == ElementType::Pred {
        return fail(
            ErrorKind::Dtype,
            args.span(0),
            format!("top_k takes numbers, not {}", user_type(&x.shape)),
        );
    }
    if k < 0 || k as u64 > last as u64 {
        return fail(
            ErrorKind::Shape,
            args.span(1),
            format!(
                "top_k's k={k} is not in [0, {last}], the size of the last axis of {}",
                user_type(&x.shape)
            ),
        );
    }
    let op = Op::TopK {
        k: k as usize,
        largest: true,
    };
    let results = tracer
        .graph
        .emit_tuple(op, &[&x])
        .map_err(|f| at(args.call, f))?;
    Ok(Value::Tuple(
        results.into_iter().map(Value::Tensor).collect(),
    ))
}

/// `take_along_axis(x, idx, axis)`: `jnp.take_along_axis` in its default
/// fill mode. `idx` has `x`'s rank; along `axis` it picks elements (a
/// negative index counts from the end once, one still outside gives the fill
/// of `take`), and along every other axis its size equals `x`'s or one of the
/// two is 1 (broadcast).
pub fn take_along_axis(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = args.tensor(tracer, 0)?;
    let idx = args.tensor(tracer, 1)?;
    if !idx.element().is_integer() {
        return fail(
            ErrorKind::Dtype,
            args.span(1),
            format!(
                "take_along_axis's indices are integers, not {}",
                user_type(&idx.shape)
            ),
        );
    }
    if idx.rank() != x.rank() {
        return fail(
            ErrorKind::Shape,
            args.span(1),
            format!(
                "take_along_axis's indices {} must have the rank of the array {}",
                user_type(&idx.shape),
                user_type(&x.shape)
            ),
        );
    }
    let axis = args.axis(2, x.rank(), 0)?;
    let mut out = Vec::with_capacity(x.rank());
    for (d, (&a, &i)) in x.dims().iter().zip(idx.dims()).enumerate() {
        match (d == axis, a, i) {
            (true, _, i) => out.push(i),
            (false, a, i) if a == i || i == 1 => out.push(a),
            (false, 1, i) => out.push(i),
            _ => {
                return fail(
                    ErrorKind::Shape,
                    args.span(1),
                    format!(
                        "take_along_axis's indices {} do not broadcast with the array {} along axis {d}",
                        user_type(&idx.shape),
                        user_type(&x.shape)
                    ),
                );
            }
        }
    }
    let located = |f| at(args.call, f);
    let g = &mut tracer.graph;
    let n = x.dims()[axis];
    if n == 0 {
        let zero = crate::hlo::Scalar::int(x.element(), 0);
        return g.full(zero, &out).located(args);
    }
    let idx = wrap_negative(g, &idx, n).map_err(located)?;
    // As JAX: index dimensions of size 1 take the whole axis of `x` (offset
    // dimensions), dimensions of size 1 in `x` are squeezed away, and the
    // others are batching dimensions.
    let index_dims: Vec<usize> = (0..x.rank())
        .filter(|&d| d == axis || idx.dims()[d] != 1)
        .collect();
    let mut index_shape: Vec<usize> = index_dims.iter().map(|&d| out[d]).collect();
    index_shape.push(1);
    let vectors = g.reshape(&idx, &index_shape).map_err(located)?;
    let mut dims = GatherDims::default();
    let mut squeezed = Vec::new();
    let (mut new_d, mut j) = (0, 0);
    for d in 0..x.rank() {
        if d == axis {
            dims.slice_sizes.push(1);
            dims.start_index_map.push(new_d);
            dims.collapsed_slice_dims.push(new_d);
            new_d += 1;
            j += 1;
        } else if idx.dims()[d] == 1 {
            dims.offset_dims.push(d);
            dims.slice_sizes.push(x.dims()[d]);
            new_d += 1;
        } else if x.dims()[d] == 1 {
            j += 1;
        } else {
            dims.slice_sizes.push(x.dims()[d].min(1));
            dims.operand_batching_dims.push(new_d);
            dims.start_indices_batching_dims.push(j);
            new_d += 1;
            j += 1;
        }
        if d != axis && idx.dims()[d] != 1 && x.dims()[d] == 1 {
            squeezed.push(d);
        }
    }
    dims.index_vector_dim = index_shape.len() - 1;
    let dims_offset = dims.offset_dims.clone();
    let kept: Vec<usize> = (0..x.rank())
        .filter(|d| !squeezed.contains(d))
        .map(|d| x.dims()[d])
        .collect();
    let operand = g.reshape(&x, &kept).map_err(located)?;
    let gathered = g
        .emit(Op::Gather(dims), &[&operand, &vectors])
        .map_err(located)?;
    fill_outside(g, &gathered, &vectors, n - 1, &dims_offset).located(args)
}
