//! Operators on values: JAX's type promotion (weakly typed literals), NumPy
//! broadcasting, compile-time folding of scalar arithmetic, and `@` with
//! NumPy's `matmul` rules.

use omelet_grammar::omelet::BinaryOp;

use crate::error::ErrorKind;
use crate::hlo::{self, Direction, DotDims, ElementType, Number, Scalar, UnaryOp};

use super::graph::{Failure, Graph, OpResult, shape_error};
use super::jnp_ops::{self, Fold};
use super::promote::{promote_types, to_inexact};
use super::value::{Tensor, Value, user_dtype, user_type};

pub use super::promote::promoted;

/// A value as an array of `element`: arrays convert, scalars become constants.
pub fn to_tensor(g: &mut Graph, value: &Value, element: ElementType) -> OpResult<Tensor> {
    let number = match value {
        Value::Tensor(t) => return g.convert(t, element),
        Value::Float(f) => Number::Float(*f),
        Value::Int(i) => Number::Int(*i as i128),
        Value::Bool(b) => Number::Bool(*b),
        other => {
            return Err((
                ErrorKind::Value,
                format!("expected an array or a number, found {}", other.describe()),
            ));
        }
    };
    let scalar = Scalar::from_number(element, number);
    // As in JAX, a literal integer must fit the type it meets; it never wraps.
    if let Number::Int(i) = number
        && element.is_integer()
        && scalar.to_number() != number
    {
        return Err((
            ErrorKind::Value,
            format!("integer {i} does not fit in {}", user_dtype(element)),
        ));
    }
    g.scalar(scalar)
}

/// The NumPy broadcast of two shapes.
pub fn broadcast_dims(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], i: usize| {
        if i + s.len() >= rank {
            s[i + s.len() - rank]
        } else {
            1
        }
    };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y || y == 1 => Some(x),
            (1, y) => Some(y),
            _ => None,
        })
        .collect()
}

/// Promotes `values` to one element type (or `element` when given) and broadcasts
/// them to one shape.
pub fn unify(
    g: &mut Graph,
    values: &[&Value],
    element: Option<ElementType>,
) -> OpResult<Vec<Tensor>> {
    let element = element
        .or_else(|| promoted(values))
        .unwrap_or(ElementType::F32);
    let tensors: Vec<Tensor> = values
        .iter()
        .map(|v| to_tensor(g, v, element))
        .collect::<Result<_, _>>()?;
    let mut dims: Vec<usize> = Vec::new();
    for t in &tensors {
        dims = broadcast_dims(&dims, t.dims()).ok_or_else(|| {
            let shapes: Vec<String> = tensors.iter().map(|t| user_type(&t.shape)).collect();
            (
                ErrorKind::Shape,
                format!("cannot broadcast {} together", shapes.join(" and ")),
            )
        })?;
    }
    tensors.iter().map(|t| g.broadcast_to(t, &dims)).collect()
}

/// An elementwise HLO binary op after promotion and broadcasting.
pub fn elementwise(g: &mut Graph, op: hlo::BinaryOp, a: &Value, b: &Value) -> OpResult<Tensor> {
    let [x, y] = <[Tensor; 2]>::try_from(unify(g, &[a, b], None)?).expect("two operands");
    g.emit(hlo::Op::Binary(op), &[&x, &y])
}

pub fn unary(g: &mut Graph, op: UnaryOp, t: &Tensor) -> OpResult<Tensor> {
    g.emit(hlo::Op::Unary(op), &[t])
}

/// Applies a binary operator of the language.
pub fn binary(g: &mut Graph, op: BinaryOp, lhs: &Value, rhs: &Value) -> OpResult<Value> {
    if lhs.is_scalar_constant() && rhs.is_scalar_constant() {
        return fold(op, lhs, rhs);
    }
    for v in [lhs, rhs] {
        if !matches!(v, Value::Tensor(_)) && !v.is_scalar_constant() {
            return Err((
                ErrorKind::Value,
                format!(
                    "`{}` takes arrays or numbers, not {}",
                    op.symbol(),
                    v.describe()
                ),
            ));
        }
    }
    let element = promoted(&[lhs, rhs]).expect("an operand is an array");
    let bool_error = || {
        Err((
            ErrorKind::Dtype,
            format!("`{}` is not defined on bool arrays", op.symbol()),
        ))
    };
    let t = match op {
        BinaryOp::FloorDiv
        | BinaryOp::Rem
        | BinaryOp::Shl
        | BinaryOp::Shr
        | BinaryOp::BitAnd
        | BinaryOp::BitOr
        | BinaryOp::BitXor => {
            // As in JAX, bools divide and shift as i32.
            let element = match (op, element) {
                (BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor, e) => e,
                (_, ElementType::Pred) => ElementType::S32,
                (_, e) => e,
            };
            let [x, y] =
                <[Tensor; 2]>::try_from(unify(g, &[lhs, rhs], Some(element))?).expect("two");
            jnp_op(g, op, &x, &y)?
        }
        BinaryOp::Add if element == ElementType::Pred => {
            elementwise(g, hlo::BinaryOp::Or, lhs, rhs)?
        }
        BinaryOp::Mul if element == ElementType::Pred => {
            elementwise(g, hlo::BinaryOp::And, lhs, rhs)?
        }
        BinaryOp::Sub | BinaryOp::Pow if element == ElementType::Pred => return bool_error(),
        BinaryOp::Add => elementwise(g, hlo::BinaryOp::Add, lhs, rhs)?,
        BinaryOp::Sub => elementwise(g, hlo::BinaryOp::Subtract, lhs, rhs)?,
        BinaryOp::Mul => elementwise(g, hlo::BinaryOp::Multiply, lhs, rhs)?,
        BinaryOp::Div => {
            // True division, as in JAX: integer operands divide as floats.
            let [x, y] = <[Tensor; 2]>::try_from(unify(g, &[lhs, rhs], Some(to_inexact(element)))?)
                .expect("two");
            g.emit(hlo::Op::Binary(hlo::BinaryOp::Divide), &[&x, &y])?
        }
        BinaryOp::Pow => power(g, lhs, rhs)?,
        BinaryOp::MatMul => matmul(g, lhs, rhs)?,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let [x, y] =
                <[Tensor; 2]>::try_from(unify(g, &[lhs, rhs], None)?).expect("two operands");
            g.compare(direction(op), &x, &y)?
        }
    };
    Ok(Value::Tensor(t))
}

fn direction(op: BinaryOp) -> Direction {
    match op {
        BinaryOp::Eq => Direction::Eq,
        BinaryOp::Ne => Direction::Ne,
        BinaryOp::Lt => Direction::Lt,
        BinaryOp::Le => Direction::Le,
        BinaryOp::Gt => Direction::Gt,
        _ => Direction::Ge,
    }
}

/// `x ** n` for a literal integer `n` multiplies, as JAX's `integer_pow` does (and
/// a negative `n` takes the reciprocal); any other exponent is HLO's `power`.
fn power(g: &mut Graph, base: &Value, exponent: &Value) -> OpResult<Tensor> {
    if let (Value::Tensor(x), Value::Int(n)) = (base, exponent) {
        if *n < 0 && !x.element().is_float() {
            return Err((
                ErrorKind::Dtype,
                "integers cannot be raised to negative powers".into(),
            ));
        }
        if n.unsigned_abs() <= 64 {
            let result = integer_pow(g, x, n.unsigned_abs())?;
            if *n >= 0 {
                return Ok(result);
            }
            let one = g.full(Scalar::int(x.element(), 1), result.dims())?;
            return g.emit(hlo::Op::Binary(hlo::BinaryOp::Divide), &[&one, &result]);
        }
    }
    elementwise(g, hlo::BinaryOp::Power, base, exponent)
}

/// `x ** n` by repeated squaring.
fn integer_pow(g: &mut Graph, x: &Tensor, n: u64) -> OpResult<Tensor> {
    let one = Scalar::int(x.element(), 1);
    if n == 0 {
        return g.full(one, x.dims());
    }
    let mul = |g: &mut Graph, a: &Tensor, b: &Tensor| {
        g.emit(hlo::Op::Binary(hlo::BinaryOp::Multiply), &[a, b])
    };
    let (mut result, mut square, mut n) = (None::<Tensor>, x.clone(), n);
    loop {
        if n & 1 == 1 {
            result = Some(match result {
                None => square.clone(),
                Some(r) => mul(g, &r, &square)?,
            });
        }
        n >>= 1;
        if n == 0 {
            return Ok(result.expect("n was positive"));
        }
        square = mul(g, &square, &square)?;
    }
}

/// NumPy `matmul`: 1-D operands gain an axis that the result drops; batch
/// dimensions broadcast. A side without batch dimensions is not broadcast: the
/// dot contracts it directly, as JAX does.
pub fn matmul(g: &mut Graph, lhs: &Value, rhs: &Value) -> OpResult<Tensor> {
    let (Value::Tensor(a), Value::Tensor(b)) = (lhs, rhs) else {
        return shape_error(format!(
            "cannot matmul {} with {}: both sides must be arrays",
            lhs.describe(),
            rhs.describe()
        ));
    };
    let element = promote_types(a.element(), b.element());
    if element == ElementType::Pred {
        return Err((ErrorKind::Dtype, "cannot matmul bool arrays".into()));
    }
    let mismatch = || -> Failure {
        let (k1, k2) = (
            a.dims().last().copied().unwrap_or(0),
            b.dims()[b.rank().saturating_sub(2)],
        );
        (
            ErrorKind::Shape,
            format!(
                "cannot matmul {} with {}: contracting dims {k1} and {k2} differ",
                user_type(&a.shape),
                user_type(&b.shape)
            ),
        )
    };
    if a.rank() == 0 || b.rank() == 0 {
        return shape_error(format!(
            "cannot matmul {} with {}: operands must have at least one dimension",
            user_type(&a.shape),
            user_type(&b.shape)
        ));
    }
    let a = g.convert(a, element)?;
    let b = g.convert(b, element)?;
    // Promote 1-D operands: [k] @ ... is [1,k] @ ..., and ... @ [k] is ... @ [k,1].
    let (a2, drop_m) = if a.rank() == 1 {
        (g.reshape(&a, &[1, a.dims()[0]])?, true)
    } else {
        (a.clone(), false)
    };
    let (b2, drop_n) = if b.rank() == 1 {
        (g.reshape(&b, &[b.dims()[0], 1])?, true)
    } else {
        (b.clone(), false)
    };
    let (ra, rb) = (a2.rank(), b2.rank());
    if a2.dims()[ra - 1] != b2.dims()[rb - 2] {
        return Err(mismatch());
    }
    let result = if rb == 2 {
        // [..., m, k] @ [k, n]: no batch on the right, one dot.
        g.dot(
            &a2,
            &b2,
            DotDims {
                lhs_contracting: vec![ra - 1],
                rhs_contracting: vec![0],
                ..DotDims::default()
            },
        )?
    } else if ra == 2 {
        // [m, k] @ [..., k, n] gives [m, ..., n]: move m next to n.
        let d = g.dot(
            &a2,
            &b2,
            DotDims {
                lhs_contracting: vec![1],
                rhs_contracting: vec![rb - 2],
                ..DotDims::default()
            },
        )?;
        let mut perm: Vec<usize> = (1..rb - 1).collect();
        perm.push(0);
        perm.push(rb - 1);
        g.transpose(&d, &perm)?
    } else {
        let batch =
            broadcast_dims(&a2.dims()[..ra - 2], &b2.dims()[..rb - 2]).ok_or_else(|| {
                (
                    ErrorKind::Shape,
                    format!(
                        "cannot matmul {} with {}: batch dimensions do not broadcast",
                        user_type(&a.shape),
                        user_type(&b.shape)
                    ),
                )
            })?;
        let full = |g: &mut Graph, t: &Tensor| {
            let mut dims = batch.clone();
            dims.extend_from_slice(&t.dims()[t.rank() - 2..]);
            g.broadcast_to(t, &dims)
        };
        let (a3, b3) = (full(g, &a2)?, full(g, &b2)?);
        let nb = batch.len();
        g.dot(
            &a3,
            &b3,
            DotDims {
                lhs_batch: (0..nb).collect(),
                rhs_batch: (0..nb).collect(),
                lhs_contracting: vec![nb + 1],
                rhs_contracting: vec![nb],
            },
        )?
    };
    let mut dims = result.dims().to_vec();
    let n = dims.len();
    if drop_n {
        dims.remove(n - 1);
    }
    if drop_m {
        dims.remove(n - 2);
    }
    g.reshape(&result, &dims)
}

/// Folds an operator on two compile-time scalars, as Python would (`/` is true
/// division; bools count as integers).
fn fold(op: BinaryOp, lhs: &Value, rhs: &Value) -> OpResult<Value> {
    let as_int = |v: &Value| match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    };
    let as_float = |v: &Value| match v {
        Value::Float(f) => *f,
        Value::Int(i) => *i as f64,
        Value::Bool(b) => *b as u8 as f64,
        _ => unreachable!("scalars only"),
    };
    let overflow = || {
        (
            ErrorKind::Value,
            format!("integer overflow in `{}`", op.symbol()),
        )
    };
    if let BinaryOp::FloorDiv
    | BinaryOp::Rem
    | BinaryOp::Shl
    | BinaryOp::Shr
    | BinaryOp::BitAnd
    | BinaryOp::BitOr
    | BinaryOp::BitXor = op
    {
        return fold_jnp(op, lhs, rhs);
    }
    if let BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge =
        op
    {
        let (x, y) = (as_float(lhs), as_float(rhs));
        return Ok(Value::Bool(match op {
            BinaryOp::Eq => x == y,
            BinaryOp::Ne => x != y,
            BinaryOp::Lt => x < y,
            BinaryOp::Le => x <= y,
            BinaryOp::Gt => x > y,
            _ => x >= y,
        }));
    }
    if let (Some(x), Some(y)) = (as_int(lhs), as_int(rhs)) {
        let folded = match op {
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            BinaryOp::Pow if y >= 0 => u32::try_from(y).ok().and_then(|e| x.checked_pow(e)),
            _ => None,
        };
        match (op, folded) {
            (_, Some(v)) => return Ok(Value::Int(v)),
            (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, None) => return Err(overflow()),
            (BinaryOp::Pow, None) if y >= 0 => return Err(overflow()),
            _ => {}
        }
    }
    let (x, y) = (as_float(lhs), as_float(rhs));
    Ok(Value::Float(match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Pow => x.powf(y),
        BinaryOp::MatMul => return shape_error("cannot matmul scalars"),
        _ => unreachable!("comparisons and jnp's operators fold above"),
    }))
}

/// `-x`
pub fn negate(g: &mut Graph, v: &Value) -> OpResult<Value> {
    match v {
        Value::Int(i) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or((ErrorKind::Value, "integer overflow in `-`".into())),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Bool(b) => Ok(Value::Int(-(*b as i64))),
        Value::Tensor(t) if t.element() == ElementType::Pred => Err((
            ErrorKind::Dtype,
            "`-` is not defined on bool arrays; use `!`".into(),
        )),
        Value::Tensor(t) => Ok(Value::Tensor(unary(g, UnaryOp::Negate, t)?)),
        other => Err((
            ErrorKind::Value,
            format!("`-` takes an array or a number, not {}", other.describe()),
        )),
    }
}

/// `!x`
pub fn not(g: &mut Graph, v: &Value) -> OpResult<Value> {
    match v {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        Value::Tensor(t) if t.element() == ElementType::Pred => {
            Ok(Value::Tensor(unary(g, UnaryOp::Not, t)?))
        }
        other => Err((
            ErrorKind::Dtype,
            format!(
                "`!` takes bool, not {}",
                match other {
                    Value::Tensor(t) => user_dtype(t.element()).to_string(),
                    _ => other.describe(),
                }
            ),
        )),
    }
}

/// One of `jnp`'s composite operators on arrays of one type and shape.
fn jnp_op<O: jnp_ops::Ops>(o: &mut O, op: BinaryOp, x: &O::V, y: &O::V) -> OpResult<O::V> {
    match op {
        BinaryOp::FloorDiv => jnp_ops::floor_divide(o, x, y),
        BinaryOp::Rem => jnp_ops::remainder(o, x, y),
        BinaryOp::Shl => jnp_ops::shift(o, true, x, y),
        BinaryOp::Shr => jnp_ops::shift(o, false, x, y),
        BinaryOp::BitAnd => jnp_ops::bitwise(o, hlo::BinaryOp::And, "&", x, y),
        BinaryOp::BitOr => jnp_ops::bitwise(o, hlo::BinaryOp::Or, "|", x, y),
        BinaryOp::BitXor => jnp_ops::bitwise(o, hlo::BinaryOp::Xor, "^", x, y),
        _ => unreachable!("not one of jnp's composite operators"),
    }
}

/// A compile-time scalar as a [`Scalar`] of `element`.
fn constant_scalar(v: &Value, element: ElementType) -> Scalar {
    let n = match v {
        Value::Int(i) => Number::Int(*i as i128),
        Value::Float(f) => Number::Float(*f),
        Value::Bool(b) => Number::Bool(*b),
        _ => unreachable!("scalars only"),
    };
    Scalar::from_number(element, n)
}

/// Folds `//`, `%`, shifts and bitwise operators on compile-time scalars with the
/// array ops' semantics: in f64 if either is a float, in pred if both are bools
/// (bitwise operators only), in i64 otherwise.
fn fold_jnp(op: BinaryOp, lhs: &Value, rhs: &Value) -> OpResult<Value> {
    let bitwise = matches!(op, BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor);
    let element = match (lhs, rhs) {
        (Value::Float(_), _) | (_, Value::Float(_)) => ElementType::F64,
        (Value::Bool(_), Value::Bool(_)) if bitwise => ElementType::Pred,
        _ => ElementType::S64,
    };
    let (x, y) = (constant_scalar(lhs, element), constant_scalar(rhs, element));
    let r = jnp_op(&mut Fold, op, &x, &y)?;
    Ok(match r.to_number() {
        Number::Bool(b) => Value::Bool(b),
        Number::Int(i) => Value::Int(i as i64),
        Number::Float(f) => Value::Float(f),
    })
}

/// `~x`
pub fn bit_not(g: &mut Graph, v: &Value) -> OpResult<Value> {
    match v {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        Value::Int(i) => Ok(Value::Int(!i)),
        Value::Tensor(t) => Ok(Value::Tensor(jnp_ops::invert(g, t)?)),
        Value::Float(_) => Err((
            ErrorKind::Dtype,
            "`~` is defined on integers and bools, not on float".into(),
        )),
        other => Err((
            ErrorKind::Value,
            format!("`~` takes an array or a number, not {}", other.describe()),
        )),
    }
}
