//! The cumulative builtins, as JAX lowers them on CPU: `cumsum`, `cumprod`,
//! `cummax` and `cummin`, each one `reduce-window` whose window spans the
//! whole axis, padded before it (after it when `reverse`), with the region
//! `add`, `multiply`, `maximum` or `minimum` (which propagate NaN, as XLA's do).

use crate::error::{CompileError, ErrorKind};
use crate::hlo::{BinaryOp, ElementType, Op, ReduceOp, WindowDim};

use super::builtins::{Args, Located};
use super::eval::{Tracer, at, fail};
use super::regions;
use super::value::{Value, user_type};

/// `cumsum(x, axis=None, reverse=false)`: `jnp.cumsum`, over the flattened
/// array when no axis is given; bools sum as `i32`.
pub fn cumsum(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    cumulative(tracer, args, ReduceOp::Add)
}

/// `cumprod(x, axis=None, reverse=false)`: `jnp.cumprod`.
pub fn cumprod(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    cumulative(tracer, args, ReduceOp::Multiply)
}

/// `cummax(x, axis=0, reverse=false)`: `lax.cummax` (JAX has no `jnp`
/// twin; `lax`'s default axis is 0), numbers only.
pub fn cummax(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    cumulative(tracer, args, ReduceOp::Maximum)
}

/// `cummin(x, axis=0, reverse=false)`: `lax.cummin`.
pub fn cummin(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    cumulative(tracer, args, ReduceOp::Minimum)
}

fn cumulative(tracer: &mut Tracer, args: &Args, op: ReduceOp) -> Result<Value, CompileError> {
    let x = args.tensor(tracer, 0)?;
    let reverse = args.flag(2, false)?;
    let located = |f| at(args.call, f);
    let extremum = matches!(op, ReduceOp::Maximum | ReduceOp::Minimum);
    let (x, axis) = match args.get(1) {
        None if !extremum => {
            let flat = [x.shape.element_count()];
            (tracer.graph.reshape(&x, &flat).map_err(located)?, 0)
        }
        _ => {
            let axis = args.axis(1, x.rank(), 0)?;
            (x, axis)
        }
    };
    let g = &mut tracer.graph;
    // As `jnp.cumsum` and `jnp.cumprod`: bools count as `i32`; `lax.cummax`
    // refuses them.
    let x = match (x.element(), extremum) {
        (ElementType::Pred, false) => g.convert(&x, ElementType::S32).map_err(located)?,
        (ElementType::Pred, true) => {
            return fail(
                ErrorKind::Dtype,
                args.span(0),
                format!("{} takes numbers, not {}", args.name, user_type(&x.shape)),
            );
        }
        _ => x,
    };
    let n = x.dims()[axis];
    if n == 0 {
        return Ok(Value::Tensor(x));
    }
    let window = (0..x.rank())
        .map(|d| match d == axis {
            false => WindowDim::of_size(1),
            true => WindowDim {
                pad_low: if reverse { 0 } else { n - 1 },
                pad_high: if reverse { n - 1 } else { 0 },
                ..WindowDim::of_size(n)
            },
        })
        .collect();
    let element = x.element();
    let combiner: BinaryOp = op.combiner();
    let to_apply = regions::binary(g, "region", element, combiner).map_err(located)?;
    let init = g.scalar(op.identity(element)).map_err(located)?;
    g.emit(Op::ReduceWindow { window, to_apply }, &[&x, &init])
        .located(args)
}
