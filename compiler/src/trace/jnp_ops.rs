//! The operators that `jax.numpy` writes as several `lax` ops — `%`
//! (`jnp.remainder`), `//` (`jnp.floor_divide`), `>>` (`jnp.right_shift`) — written
//! once, as JAX lowers them, over [`Ops`]: traced arrays emit the HLO ops, and
//! compile-time scalars fold with the same ops' semantics (`hlo::Element`), so
//! that a constant expression and its traced twin agree to the bit.

use crate::error::ErrorKind;
use crate::hlo::{self, BinaryOp, Direction, ElementType, Kind, Number, Scalar, UnaryOp};

use super::graph::{Graph, OpResult};
use super::value::{Tensor, user_dtype};

/// Elementwise ops on operands of one shape and one element type.
pub trait Ops {
    type V: Clone;
    fn element(&self, v: &Self::V) -> ElementType;
    fn unary(&mut self, op: UnaryOp, x: &Self::V) -> OpResult<Self::V>;
    fn binary(&mut self, op: BinaryOp, x: &Self::V, y: &Self::V) -> OpResult<Self::V>;
    fn compare(&mut self, d: Direction, x: &Self::V, y: &Self::V) -> OpResult<Self::V>;
    fn select(&mut self, c: &Self::V, x: &Self::V, y: &Self::V) -> OpResult<Self::V>;
    /// The number `n` in `like`'s type and shape.
    fn constant(&mut self, like: &Self::V, n: Number) -> OpResult<Self::V>;
}

impl Ops for Graph {
    type V = Tensor;
    fn element(&self, v: &Tensor) -> ElementType {
        v.element()
    }
    fn unary(&mut self, op: UnaryOp, x: &Tensor) -> OpResult<Tensor> {
        self.emit(hlo::Op::Unary(op), &[x])
    }
    fn binary(&mut self, op: BinaryOp, x: &Tensor, y: &Tensor) -> OpResult<Tensor> {
        self.emit(hlo::Op::Binary(op), &[x, y])
    }
    fn compare(&mut self, d: Direction, x: &Tensor, y: &Tensor) -> OpResult<Tensor> {
        Graph::compare(self, d, x, y)
    }
    fn select(&mut self, c: &Tensor, x: &Tensor, y: &Tensor) -> OpResult<Tensor> {
        Graph::select(self, c, x, y)
    }
    fn constant(&mut self, like: &Tensor, n: Number) -> OpResult<Tensor> {
        self.full(Scalar::from_number(like.element(), n), like.dims())
    }
}

/// Compile-time scalars, folded with `hlo::Element`'s semantics.
pub struct Fold;

impl Ops for Fold {
    type V = Scalar;
    fn element(&self, v: &Scalar) -> ElementType {
        v.element
    }
    fn unary(&mut self, op: UnaryOp, x: &Scalar) -> OpResult<Scalar> {
        Ok(Scalar::unary(op, *x))
    }
    fn binary(&mut self, op: BinaryOp, x: &Scalar, y: &Scalar) -> OpResult<Scalar> {
        Ok(Scalar::binary(op, *x, *y))
    }
    fn compare(&mut self, d: Direction, x: &Scalar, y: &Scalar) -> OpResult<Scalar> {
        Ok(Scalar::compare(d, *x, *y))
    }
    fn select(&mut self, c: &Scalar, x: &Scalar, y: &Scalar) -> OpResult<Scalar> {
        Ok(if c.get::<bool>() { *x } else { *y })
    }
    fn constant(&mut self, like: &Scalar, n: Number) -> OpResult<Scalar> {
        Ok(Scalar::from_number(like.element, n))
    }
}

fn dtype_error<T>(symbol: &str, element: ElementType, what: &str) -> OpResult<T> {
    Err((
        ErrorKind::Dtype,
        format!(
            "`{symbol}` is defined on {what}, not on {}",
            user_dtype(element)
        ),
    ))
}

/// `x % y` as `jnp.remainder`: the result has the divisor's sign; an integer
/// `x % 0` is `x % 1` (0).
pub fn remainder<O: Ops>(o: &mut O, x: &O::V, y: &O::V) -> OpResult<O::V> {
    let element = o.element(x);
    let zero = o.constant(x, Number::Int(0))?;
    let y = if element.is_integer() {
        let is_zero = o.compare(Direction::Eq, y, &zero)?;
        let one = o.constant(y, Number::Int(1))?;
        o.select(&is_zero, &one, y)?
    } else {
        y.clone()
    };
    let trunc_mod = o.binary(BinaryOp::Remainder, x, &y)?;
    let not_zero = o.compare(Direction::Ne, &trunc_mod, &zero)?;
    let mod_negative = o.compare(Direction::Lt, &trunc_mod, &zero)?;
    let y_negative = o.compare(Direction::Lt, &y, &zero)?;
    let signs_differ = o.compare(Direction::Ne, &mod_negative, &y_negative)?;
    let do_plus = o.binary(BinaryOp::And, &signs_differ, &not_zero)?;
    let plus = o.binary(BinaryOp::Add, &trunc_mod, &y)?;
    o.select(&do_plus, &plus, &trunc_mod)
}

/// `x // y` as `jnp.floor_divide`.
pub fn floor_divide<O: Ops>(o: &mut O, x: &O::V, y: &O::V) -> OpResult<O::V> {
    match o.element(x).kind() {
        Kind::Unsigned => o.binary(BinaryOp::Divide, x, y),
        Kind::Signed => {
            let quotient = o.binary(BinaryOp::Divide, x, y)?;
            let (sx, sy) = (o.unary(UnaryOp::Sign, x)?, o.unary(UnaryOp::Sign, y)?);
            let signs_differ = o.compare(Direction::Ne, &sx, &sy)?;
            let rem = o.binary(BinaryOp::Remainder, x, y)?;
            let zero = o.constant(x, Number::Int(0))?;
            let inexact = o.compare(Direction::Ne, &rem, &zero)?;
            let adjust = o.binary(BinaryOp::And, &signs_differ, &inexact)?;
            let one = o.constant(x, Number::Int(1))?;
            let lower = o.binary(BinaryOp::Subtract, &quotient, &one)?;
            o.select(&adjust, &lower, &quotient)
        }
        Kind::Float => float_floor_divide(o, x, y),
        Kind::Pred => unreachable!("bools divide as i32"),
    }
}

/// `_float_divmod(x, y)[0]` of `jax.numpy` (after CPython's `float_divmod`).
fn float_floor_divide<O: Ops>(o: &mut O, x: &O::V, y: &O::V) -> OpResult<O::V> {
    let zero = o.constant(x, Number::Float(0.0))?;
    let modulo = o.binary(BinaryOp::Remainder, x, y)?;
    let y_zero = o.compare(Direction::Eq, y, &zero)?;
    let x_minus_mod = o.binary(BinaryOp::Subtract, x, &modulo)?;
    let corrected = o.select(&y_zero, x, &x_minus_mod)?;
    let div = o.binary(BinaryOp::Divide, &corrected, y)?;
    let mod_nonzero = o.compare(Direction::Ne, &modulo, &zero)?;
    let (sy, sm) = (o.unary(UnaryOp::Sign, y)?, o.unary(UnaryOp::Sign, &modulo)?);
    let signs_differ = o.compare(Direction::Ne, &sy, &sm)?;
    let ind = o.binary(BinaryOp::And, &mod_nonzero, &signs_differ)?;
    let one = o.constant(x, Number::Float(1.0))?;
    let lower = o.binary(BinaryOp::Subtract, &div, &one)?;
    let div = o.select(&ind, &lower, &div)?;
    round_half_away(o, &div)
}

/// `lax.round` (half away from zero), exactly: the truncation, plus the sign
/// where the fraction is at least one half. (`x - trunc(x)` is exact.)
fn round_half_away<O: Ops>(o: &mut O, x: &O::V) -> OpResult<O::V> {
    let sign = o.unary(UnaryOp::Sign, x)?;
    let magnitude = o.unary(UnaryOp::Abs, x)?;
    let floor = o.unary(UnaryOp::Floor, &magnitude)?;
    let trunc = o.binary(BinaryOp::Multiply, &sign, &floor)?;
    let fraction = o.binary(BinaryOp::Subtract, x, &trunc)?;
    let fraction = o.unary(UnaryOp::Abs, &fraction)?;
    let half = o.constant(x, Number::Float(0.5))?;
    let round_up = o.compare(Direction::Ge, &fraction, &half)?;
    let away = o.binary(BinaryOp::Add, &trunc, &sign)?;
    o.select(&round_up, &away, &trunc)
}

/// `x << y` and `x >> y` (`jnp.left_shift`, `jnp.right_shift`: arithmetic on
/// signed integers, logical on unsigned ones).
pub fn shift<O: Ops>(o: &mut O, left: bool, x: &O::V, y: &O::V) -> OpResult<O::V> {
    let element = o.element(x);
    let op = match (left, element.kind()) {
        (_, Kind::Float | Kind::Pred) => {
            return dtype_error(if left { "<<" } else { ">>" }, element, "integers");
        }
        (true, _) => BinaryOp::ShiftLeft,
        (false, Kind::Signed) => BinaryOp::ShiftRightArithmetic,
        (false, _) => BinaryOp::ShiftRightLogical,
    };
    o.binary(op, x, y)
}

/// `x & y`, `x | y`, `x ^ y` on integers and bools.
pub fn bitwise<O: Ops>(
    o: &mut O,
    op: BinaryOp,
    symbol: &str,
    x: &O::V,
    y: &O::V,
) -> OpResult<O::V> {
    let element = o.element(x);
    if element.is_float() {
        return dtype_error(symbol, element, "integers and bools");
    }
    o.binary(op, x, y)
}

/// `~x`: bitwise not on integers, logical not on bools.
pub fn invert<O: Ops>(o: &mut O, x: &O::V) -> OpResult<O::V> {
    let element = o.element(x);
    if element.is_float() {
        return dtype_error("~", element, "integers and bools");
    }
    o.unary(UnaryOp::Not, x)
}
