//! The shape and creation builtins: `reshape transpose broadcast_to expand_dims
//! squeeze concat`, `zeros ones full arange eye`, and the conversions `f32 i32
//! bool` and `shape`.

use crate::error::{CompileError, ErrorKind};
use crate::hlo::{Direction, ElementType};
use crate::import::MAX_RANK;

use super::arith;
use super::builtins::{Args, Located};
use super::eval::{Tracer, at, fail};
use super::value::{Tensor, Value, user_type};
use crate::hlo::{Kind, Number, Scalar};

pub fn reshape(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let wanted = args.ints(1)?;
    let count = t.shape.element_count();
    // Checked: the dimensions are the user's, and may overflow.
    let known = wanted
        .iter()
        .filter(|&&d| d != -1)
        .try_fold(1i64, |n, &d| n.checked_mul(d));
    let holes = wanted.iter().filter(|&&d| d == -1).count();
    let describe = || {
        format!(
            "[{}]",
            wanted
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    if holes > 1 || wanted.iter().any(|&d| d < -1) {
        return fail(
            ErrorKind::Shape,
            args.span(1),
            format!(
                "invalid shape {}: dimensions are non-negative, with at most one -1",
                describe()
            ),
        );
    }
    let fill = match known {
        Some(known) if holes == 1 && known > 0 && count as i64 % known == 0 => count as i64 / known,
        _ => -1,
    };
    let dims: Vec<usize> = wanted
        .iter()
        .map(|&d| {
            if d == -1 {
                fill.max(0) as usize
            } else {
                d as usize
            }
        })
        .collect();
    let product = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if (holes == 1 && fill < 0) || product != Some(count) {
        return fail(
            ErrorKind::Shape,
            args.span(1),
            format!("cannot reshape {} into {}", user_type(&t.shape), describe()),
        );
    }
    tracer.graph.reshape(&t, &dims).located(args)
}

pub fn transpose(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let perm: Vec<usize> = match args.get(1) {
        None => (0..t.rank()).rev().collect(),
        Some(_) => {
            let perm = args.axes(1, t.rank())?;
            if perm.len() != t.rank() {
                return fail(
                    ErrorKind::Shape,
                    args.span(1),
                    format!(
                        "a permutation of {} must list {} axes",
                        user_type(&t.shape),
                        t.rank()
                    ),
                );
            }
            perm
        }
    };
    tracer.graph.transpose(&t, &perm).located(args)
}

pub fn broadcast_to(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let dims = args.shape(1)?;
    tracer.graph.broadcast_to(&t, &dims).located(args)
}

pub fn expand_dims(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let rank = t.rank() + args.ints(1)?.len();
    // Checked before the axes, which take time quadratic in their number.
    if rank > MAX_RANK {
        return fail(
            ErrorKind::Shape,
            args.span(1),
            format!("expand_dims would make an array of rank {rank}, more than {MAX_RANK}"),
        );
    }
    let axes = args.axes(1, rank)?;
    let mut rest = t.dims().iter();
    let dims: Vec<usize> = (0..rank)
        .map(|i| {
            if axes.contains(&i) {
                1
            } else {
                *rest.next().expect("ranks agree")
            }
        })
        .collect();
    tracer.graph.reshape(&t, &dims).located(args)
}

pub fn squeeze(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let axes = match args.get(1) {
        None => (0..t.rank()).filter(|&i| t.dims()[i] == 1).collect(),
        Some(_) => args.axes(1, t.rank())?,
    };
    if let Some(&bad) = axes.iter().find(|&&a| t.dims()[a] != 1) {
        return fail(
            ErrorKind::Shape,
            args.span(1),
            format!(
                "cannot squeeze axis {bad} of {}: its size is {}, not 1",
                user_type(&t.shape),
                t.dims()[bad]
            ),
        );
    }
    let dims: Vec<usize> = (0..t.rank())
        .filter(|i| !axes.contains(i))
        .map(|i| t.dims()[i])
        .collect();
    tracer.graph.reshape(&t, &dims).located(args)
}

pub fn concat(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let parts = match args.get(0) {
        Some(Value::List(items) | Value::Tuple(items)) if !items.is_empty() => items.clone(),
        other => {
            return fail(
                ErrorKind::Value,
                args.span(0),
                format!(
                    "concat takes a non-empty list of arrays, not {}",
                    other.map_or("nothing".into(), Value::describe)
                ),
            );
        }
    };
    let refs: Vec<&Value> = parts.iter().collect();
    let element = arith::promoted(&refs).unwrap_or(ElementType::F32);
    let mut tensors = Vec::new();
    for p in &parts {
        tracer.tensor(p, args.span(0))?;
        tensors.push(
            arith::to_tensor(&mut tracer.graph, p, element).map_err(|f| at(args.span(0), f))?,
        );
    }
    let axis = args.axis(1, tensors[0].rank(), 0)?;
    let first = &tensors[0];
    for t in &tensors[1..] {
        let fits = t.rank() == first.rank()
            && (0..t.rank()).all(|d| d == axis || t.dims()[d] == first.dims()[d]);
        if !fits {
            return fail(
                ErrorKind::Shape,
                args.span(0),
                format!(
                    "cannot concatenate {} and {} along axis {axis}",
                    user_type(&first.shape),
                    user_type(&t.shape)
                ),
            );
        }
    }
    let refs: Vec<&Tensor> = tensors.iter().collect();
    tracer.graph.concatenate(&refs, axis).located(args)
}

pub fn zeros(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let dims = args.shape(0)?;
    tracer.graph.full(Scalar::f32(0.0), &dims).located(args)
}

pub fn ones(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let dims = args.shape(0)?;
    tracer.graph.full(Scalar::f32(1.0), &dims).located(args)
}

pub fn full(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let dims = args.shape(0)?;
    let value = args.tensor(tracer, 1)?;
    if value.rank() != 0 {
        return fail(
            ErrorKind::Shape,
            args.span(1),
            format!("full takes a scalar value, not {}", user_type(&value.shape)),
        );
    }
    tracer.graph.broadcast_to(&value, &dims).located(args)
}

pub fn arange(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let n = args.int(0)?;
    let n = usize::try_from(n).map_err(|_| {
        CompileError::at(
            ErrorKind::Shape,
            args.span(0),
            format!("arange({n}): the length is negative"),
        )
    })?;
    tracer
        .graph
        .iota(ElementType::F32, vec![n], 0)
        .located(args)
}

pub fn eye(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let n = args.int(0)?;
    let n = usize::try_from(n).map_err(|_| {
        CompileError::at(
            ErrorKind::Shape,
            args.span(0),
            format!("eye({n}): the size is negative"),
        )
    })?;
    let g = &mut tracer.graph;
    let result = (|| {
        let rows = g.iota(ElementType::S32, vec![n, n], 0)?;
        let cols = g.iota(ElementType::S32, vec![n, n], 1)?;
        let diagonal = g.compare(Direction::Eq, &rows, &cols)?;
        g.convert(&diagonal, ElementType::F32)
    })();
    result.located(args)
}

/// A conversion. Arrays convert (XLA's `convert`: floats truncate toward zero and
/// saturate, integers wrap). A compile-time number converted to `f32`, `i32` or
/// `bool` stays a compile-time number of that kind (floats keep f64 precision, as
/// weak Python floats do); converted to any other type it becomes a constant
/// array of that type, strongly typed as `jnp.uint8(3)` is (and, as in JAX, an
/// integer that does not fit the type is an error).
pub fn convert(
    tracer: &mut Tracer,
    args: &Args,
    element: ElementType,
) -> Result<Value, CompileError> {
    let number = match args.get(0) {
        Some(Value::Int(i)) => Number::Int(*i as i128),
        Some(Value::Float(f)) => Number::Float(*f),
        Some(Value::Bool(b)) => Number::Bool(*b),
        _ => {
            let t = args.tensor(tracer, 0)?;
            return tracer.graph.convert(&t, element).located(args);
        }
    };
    if !matches!(
        element,
        ElementType::F32 | ElementType::S32 | ElementType::Pred
    ) {
        let value = args.get(0).expect("a number").clone();
        return arith::to_tensor(&mut tracer.graph, &value, element).located(args);
    }
    Ok(match (element.kind(), number) {
        (Kind::Float, Number::Float(f)) => Value::Float(f),
        _ => match Scalar::from_number(element, number).to_number() {
            Number::Bool(b) => Value::Bool(b),
            Number::Int(i) => Value::Int(i as i64),
            Number::Float(f) => Value::Float(f),
        },
    })
}

/// `astype(x, u32)`: a conversion to a type named as an argument.
pub fn astype(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    match args.get(1) {
        Some(Value::DType(element)) => convert(tracer, args, *element),
        other => fail(
            ErrorKind::Dtype,
            args.span(1),
            format!(
                "astype takes a type (bool, i8, ..., u64, f16, bf16, f32, f64), not {}",
                other.map_or("nothing".into(), Value::describe)
            ),
        ),
    }
}

pub fn shape(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let t = args.tensor(tracer, 0)?;
    Ok(Value::List(
        t.dims().iter().map(|&d| Value::Int(d as i64)).collect(),
    ))
}
