//! The `nn` builtins, composed from primitive ops exactly as JAX composes them
//! (so the traced HLO and the numbers match `jax.nn`).

use omelet_grammar::omelet::BinaryOp;

use crate::error::CompileError;
use crate::hlo::{self, ElementType, UnaryOp};

use super::arith;
use super::builtins::{Args, Located, Reduction, reduce_tensor};
use super::eval::{Tracer, at, fail};
use super::graph::{Graph, OpResult};
use super::value::{Tensor, Value};

/// The array argument `i`, as f32.
fn input(tracer: &mut Tracer, args: &Args, i: usize) -> Result<Tensor, CompileError> {
    let t = args.tensor(tracer, i)?;
    tracer
        .graph
        .convert(&t, ElementType::F32)
        .map_err(|f| at(args.span(i), f))
}

/// The `axis` argument: the last axis by default.
fn axes(args: &Args, i: usize, x: &Tensor) -> Result<Vec<usize>, CompileError> {
    if args.get(i).is_none() {
        last_axis(args, x)
    } else {
        args.axes(i, x.rank())
    }
}

fn last_axis(args: &Args, x: &Tensor) -> Result<Vec<usize>, CompileError> {
    match x.rank() {
        0 => fail(
            crate::error::ErrorKind::Shape,
            args.span(0),
            format!("{} needs an array with at least one axis", args.name),
        ),
        rank => Ok(vec![rank - 1]),
    }
}

fn op(g: &mut Graph, op: BinaryOp, a: &Tensor, b: &Tensor) -> OpResult<Tensor> {
    match arith::binary(g, op, &Value::Tensor(a.clone()), &Value::Tensor(b.clone()))? {
        Value::Tensor(t) => Ok(t),
        _ => unreachable!("arrays in, array out"),
    }
}

fn with(g: &mut Graph, op: BinaryOp, a: &Tensor, c: f64) -> OpResult<Tensor> {
    match arith::binary(g, op, &Value::Tensor(a.clone()), &Value::Float(c))? {
        Value::Tensor(t) => Ok(t),
        _ => unreachable!("arrays in, array out"),
    }
}

fn unary(g: &mut Graph, op: UnaryOp, a: &Tensor) -> OpResult<Tensor> {
    g.emit(hlo::Op::Unary(op), &[a])
}

/// `s = x - max(x)` (the shift that keeps `exp` finite), `e = exp(s)` and
/// `sum(e)`, over `axes` with the reduced axes kept.
fn shifted_exp_sum(
    tracer: &mut Tracer,
    x: &Tensor,
    axes: &[usize],
) -> OpResult<(Tensor, Tensor, Tensor)> {
    let max = reduce_tensor(tracer, Reduction::Max, x, axes, true)?;
    let s = op(&mut tracer.graph, BinaryOp::Sub, x, &max)?;
    let e = unary(&mut tracer.graph, UnaryOp::Exp, &s)?;
    let total = reduce_tensor(tracer, Reduction::Sum, &e, axes, true)?;
    Ok((s, e, total))
}

pub fn softmax(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = input(tracer, args, 0)?;
    let axes = axes(args, 1, &x)?;
    let result = (|| {
        let (_, e, total) = shifted_exp_sum(tracer, &x, &axes)?;
        op(&mut tracer.graph, BinaryOp::Div, &e, &total)
    })();
    result.located(args)
}

pub fn log_softmax(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = input(tracer, args, 0)?;
    let axes = axes(args, 1, &x)?;
    let result = (|| {
        let (s, _, total) = shifted_exp_sum(tracer, &x, &axes)?;
        let log_total = unary(&mut tracer.graph, UnaryOp::Log, &total)?;
        op(&mut tracer.graph, BinaryOp::Sub, &s, &log_total)
    })();
    result.located(args)
}

/// `log(sum(exp(x - m))) + m` with `m` the max, or 0 where the max is infinite
/// (so that all `-inf` gives `-inf`, not NaN), as `jax.nn.logsumexp`.
pub fn logsumexp(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = input(tracer, args, 0)?;
    let axes = axes(args, 1, &x)?;
    let result = (|| {
        let max = reduce_tensor(tracer, Reduction::Max, &x, &axes, true)?;
        let g = &mut tracer.graph;
        let finite = unary(g, UnaryOp::IsFinite, &max)?;
        let zero = g.full(crate::hlo::Scalar::f32(0.0), max.dims())?;
        let m = g.select(&finite, &max, &zero)?;
        let s = op(g, BinaryOp::Sub, &x, &m)?;
        let e = unary(g, UnaryOp::Exp, &s)?;
        let total = reduce_tensor(tracer, Reduction::Sum, &e, &axes, true)?;
        let g = &mut tracer.graph;
        let log_total = unary(g, UnaryOp::Log, &total)?;
        let out = op(g, BinaryOp::Add, &log_total, &m)?;
        let dims: Vec<usize> = (0..x.rank())
            .filter(|i| !axes.contains(i))
            .map(|i| x.dims()[i])
            .collect();
        g.reshape(&out, &dims)
    })();
    result.located(args)
}

/// `approximate=true` (the default, as in JAX): `x * 0.5 * (1 + tanh(sqrt(2/pi) *
/// (x + 0.044715 x^3)))`; otherwise `x * 0.5 * (1 + erf(x / sqrt(2)))`.
pub fn gelu(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = input(tracer, args, 0)?;
    let approximate = args.flag(1, true)?;
    let g = &mut tracer.graph;
    let result = (|| {
        let inner = if approximate {
            let cube =
                match arith::binary(g, BinaryOp::Pow, &Value::Tensor(x.clone()), &Value::Int(3))? {
                    Value::Tensor(t) => t,
                    _ => unreachable!("array in, array out"),
                };
            let scaled = with(g, BinaryOp::Mul, &cube, 0.044715)?;
            let sum = op(g, BinaryOp::Add, &x, &scaled)?;
            let arg = with(g, BinaryOp::Mul, &sum, (2.0 / std::f64::consts::PI).sqrt())?;
            unary(g, UnaryOp::Tanh, &arg)?
        } else {
            let arg = with(g, BinaryOp::Div, &x, std::f64::consts::SQRT_2)?;
            unary(g, UnaryOp::Erf, &arg)?
        };
        let one_plus = with(g, BinaryOp::Add, &inner, 1.0)?;
        let cdf = with(g, BinaryOp::Mul, &one_plus, 0.5)?;
        op(g, BinaryOp::Mul, &x, &cdf)
    })();
    result.located(args)
}

pub fn silu(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = input(tracer, args, 0)?;
    let g = &mut tracer.graph;
    let result = unary(g, UnaryOp::Logistic, &x).and_then(|s| op(g, BinaryOp::Mul, &x, &s));
    result.located(args)
}

/// Over the last axis: `(x - mean) * rsqrt(var + eps) * gamma + beta`, the
/// variance being the mean squared deviation.
pub fn layernorm(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = input(tracer, args, 0)?;
    let gamma = input(tracer, args, 1)?;
    let beta = input(tracer, args, 2)?;
    let eps = args.number(3, 1e-5)?;
    let axes = last_axis(args, &x)?;
    let result = (|| {
        let mean = reduce_tensor(tracer, Reduction::Mean, &x, &axes, true)?;
        let centered = op(&mut tracer.graph, BinaryOp::Sub, &x, &mean)?;
        let squared = op(&mut tracer.graph, BinaryOp::Mul, &centered, &centered)?;
        let var = reduce_tensor(tracer, Reduction::Mean, &squared, &axes, true)?;
        let g = &mut tracer.graph;
        let shifted = with(g, BinaryOp::Add, &var, eps)?;
        let inv = unary(g, UnaryOp::Rsqrt, &shifted)?;
        let normed = op(g, BinaryOp::Mul, &centered, &inv)?;
        let scaled = op(g, BinaryOp::Mul, &normed, &gamma)?;
        op(g, BinaryOp::Add, &scaled, &beta)
    })();
    result.located(args)
}

/// Over the last axis: `x * rsqrt(mean(x^2) + eps) * gamma`.
pub fn rmsnorm(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let x = input(tracer, args, 0)?;
    let gamma = input(tracer, args, 1)?;
    let eps = args.number(2, 1e-6)?;
    let axes = last_axis(args, &x)?;
    let result = (|| {
        let squared = op(&mut tracer.graph, BinaryOp::Mul, &x, &x)?;
        let ms = reduce_tensor(tracer, Reduction::Mean, &squared, &axes, true)?;
        let g = &mut tracer.graph;
        let shifted = with(g, BinaryOp::Add, &ms, eps)?;
        let inv = unary(g, UnaryOp::Rsqrt, &shifted)?;
        let normed = op(g, BinaryOp::Mul, &x, &inv)?;
        op(g, BinaryOp::Mul, &normed, &gamma)
    })();
    result.located(args)
}
