//! Elementwise ops with XLA's semantics, one scalar function per op and type.

use ndarray::{ArrayD, Zip};
use omelet_compiler::hlo::{BinaryOp, Direction, ElementType, UnaryOp, integer_power};

use crate::array::Array;

pub fn unary(op: UnaryOp, x: &Array) -> Array {
    match x {
        Array::F32(a) if op == UnaryOp::IsFinite => Array::Pred(a.mapv(f32::is_finite)),
        Array::F32(a) => {
            let f = f32_unary(op);
            Array::F32(a.mapv(f))
        }
        Array::S32(a) => Array::S32(a.mapv(|v| match op {
            UnaryOp::Negate => v.wrapping_neg(),
            UnaryOp::Abs => v.wrapping_abs(),
            UnaryOp::Sign => v.signum(),
            UnaryOp::Not => !v,
            _ => unreachable!("{} is not defined on s32", op.opcode()),
        })),
        Array::Pred(a) => Array::Pred(a.mapv(|v| !v)),
    }
}

fn f32_unary(op: UnaryOp) -> fn(f32) -> f32 {
    match op {
        UnaryOp::Negate => |x| -x,
        UnaryOp::Abs => f32::abs,
        // XLA keeps the sign of zero and propagates NaN.
        UnaryOp::Sign => |x| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x
            }
        },
        UnaryOp::Exp => f32::exp,
        UnaryOp::Expm1 => f32::exp_m1,
        UnaryOp::Log => f32::ln,
        UnaryOp::Log1p => f32::ln_1p,
        UnaryOp::Sqrt => f32::sqrt,
        UnaryOp::Rsqrt => |x| 1.0 / x.sqrt(),
        UnaryOp::Tanh => f32::tanh,
        UnaryOp::Logistic => |x| 1.0 / (1.0 + (-x).exp()),
        UnaryOp::Sin => f32::sin,
        UnaryOp::Cos => f32::cos,
        UnaryOp::Erf => libm::erff,
        UnaryOp::Floor => f32::floor,
        UnaryOp::Ceil => f32::ceil,
        UnaryOp::RoundNearestEven => f32::round_ties_even,
        UnaryOp::Not | UnaryOp::IsFinite => unreachable!("not an f32 -> f32 op"),
    }
}

pub fn binary(op: BinaryOp, x: &Array, y: &Array) -> Array {
    match (x, y) {
        (Array::F32(a), Array::F32(b)) => Array::F32(zip(a, b, f32_binary(op))),
        (Array::S32(a), Array::S32(b)) => Array::S32(zip(a, b, s32_binary(op))),
        (Array::Pred(a), Array::Pred(b)) => Array::Pred(zip(
            a,
            b,
            match op {
                BinaryOp::And => |p, q| p & q,
                BinaryOp::Or => |p, q| p | q,
                _ => unreachable!("{} is not defined on pred", op.opcode()),
            },
        )),
        _ => unreachable!("the verifier checks operand types"),
    }
}

fn f32_binary(op: BinaryOp) -> fn(f32, f32) -> f32 {
    match op {
        BinaryOp::Add => |a, b| a + b,
        BinaryOp::Subtract => |a, b| a - b,
        BinaryOp::Multiply => |a, b| a * b,
        BinaryOp::Divide => |a, b| a / b,
        BinaryOp::Maximum => max_f32,
        BinaryOp::Minimum => min_f32,
        BinaryOp::Power => f32::powf,
        // Rust's `%` on floats is C's fmod: the result has the dividend's sign.
        BinaryOp::Remainder => |a, b| a % b,
        BinaryOp::And | BinaryOp::Or => unreachable!("not defined on f32"),
    }
}

/// XLA's maximum propagates NaN, unlike `f32::max`.
pub fn max_f32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

pub fn min_f32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.min(b)
    }
}

fn s32_binary(op: BinaryOp) -> fn(i32, i32) -> i32 {
    match op {
        BinaryOp::Add => i32::wrapping_add,
        BinaryOp::Subtract => i32::wrapping_sub,
        BinaryOp::Multiply => i32::wrapping_mul,
        // XLA defines the cases C leaves undefined: x / 0 = -1, MIN / -1 = MIN.
        BinaryOp::Divide => |a, b| if b == 0 { -1 } else { a.wrapping_div(b) },
        // x % 0 = x, MIN % -1 = 0.
        BinaryOp::Remainder => |a, b| if b == 0 { a } else { a.wrapping_rem(b) },
        BinaryOp::Maximum => |a, b| a.max(b),
        BinaryOp::Minimum => |a, b| a.min(b),
        BinaryOp::Power => integer_power,
        BinaryOp::And => |a, b| a & b,
        BinaryOp::Or => |a, b| a | b,
    }
}

pub fn compare(direction: Direction, x: &Array, y: &Array) -> Array {
    fn cmp<T: PartialOrd + Copy>(d: Direction, a: &ArrayD<T>, b: &ArrayD<T>) -> ArrayD<bool> {
        zip(
            a,
            b,
            match d {
                Direction::Eq => |p: T, q: T| p == q,
                Direction::Ne => |p: T, q: T| p != q,
                Direction::Lt => |p: T, q: T| p < q,
                Direction::Le => |p: T, q: T| p <= q,
                Direction::Gt => |p: T, q: T| p > q,
                Direction::Ge => |p: T, q: T| p >= q,
            },
        )
    }
    Array::Pred(match (x, y) {
        (Array::F32(a), Array::F32(b)) => cmp(direction, a, b),
        (Array::S32(a), Array::S32(b)) => cmp(direction, a, b),
        (Array::Pred(a), Array::Pred(b)) => cmp(direction, a, b),
        _ => unreachable!("the verifier checks operand types"),
    })
}

/// `select(pred, on_true, on_false)`; a scalar predicate picks a whole operand.
pub fn select(pred: &Array, on_true: &Array, on_false: &Array) -> Array {
    let Array::Pred(p) = pred else {
        unreachable!("the verifier checks the predicate")
    };
    if p.ndim() == 0 {
        return if p[[]] {
            on_true.clone()
        } else {
            on_false.clone()
        };
    }
    fn pick<T: Copy>(p: &ArrayD<bool>, a: &ArrayD<T>, b: &ArrayD<T>) -> ArrayD<T> {
        Zip::from(p)
            .and(a)
            .and(b)
            .map_collect(|&p, &a, &b| if p { a } else { b })
    }
    match (on_true, on_false) {
        (Array::F32(a), Array::F32(b)) => Array::F32(pick(p, a, b)),
        (Array::S32(a), Array::S32(b)) => Array::S32(pick(p, a, b)),
        (Array::Pred(a), Array::Pred(b)) => Array::Pred(pick(p, a, b)),
        _ => unreachable!("the verifier checks operand types"),
    }
}

/// `clamp(lo, x, hi) = min(max(x, lo), hi)`; the bounds may be scalars.
pub fn clamp(lo: &Array, x: &Array, hi: &Array) -> Array {
    fn clamp_with<T: Copy>(
        lo: &ArrayD<T>,
        x: &ArrayD<T>,
        hi: &ArrayD<T>,
        max: fn(T, T) -> T,
        min: fn(T, T) -> T,
    ) -> ArrayD<T> {
        let lo = lo
            .broadcast(x.raw_dim())
            .expect("the verifier checks clamp bounds");
        let hi = hi
            .broadcast(x.raw_dim())
            .expect("the verifier checks clamp bounds");
        Zip::from(x)
            .and(&lo)
            .and(&hi)
            .map_collect(|&x, &lo, &hi| min(max(x, lo), hi))
    }
    match (lo, x, hi) {
        (Array::F32(l), Array::F32(v), Array::F32(h)) => {
            Array::F32(clamp_with(l, v, h, max_f32, min_f32))
        }
        (Array::S32(l), Array::S32(v), Array::S32(h)) => {
            Array::S32(clamp_with(l, v, h, |a, b| a.max(b), |a, b| a.min(b)))
        }
        (Array::Pred(l), Array::Pred(v), Array::Pred(h)) => {
            Array::Pred(clamp_with(l, v, h, |a, b| a | b, |a, b| a & b))
        }
        _ => unreachable!("the verifier checks operand types"),
    }
}

/// Float to int truncates toward zero and saturates, NaN giving 0 (Rust's `as`
/// does exactly this); anything to pred is `!= 0`.
pub fn convert(x: &Array, to: ElementType) -> Array {
    match (x, to) {
        (Array::F32(a), ElementType::F32) => Array::F32(a.clone()),
        (Array::F32(a), ElementType::S32) => Array::S32(a.mapv(|v| v as i32)),
        (Array::F32(a), ElementType::Pred) => Array::Pred(a.mapv(|v| v != 0.0)),
        (Array::S32(a), ElementType::F32) => Array::F32(a.mapv(|v| v as f32)),
        (Array::S32(a), ElementType::S32) => Array::S32(a.clone()),
        (Array::S32(a), ElementType::Pred) => Array::Pred(a.mapv(|v| v != 0)),
        (Array::Pred(a), ElementType::F32) => Array::F32(a.mapv(|v| v as u8 as f32)),
        (Array::Pred(a), ElementType::S32) => Array::S32(a.mapv(|v| v as i32)),
        (Array::Pred(a), ElementType::Pred) => Array::Pred(a.clone()),
    }
}

fn zip<A: Copy, B>(a: &ArrayD<A>, b: &ArrayD<A>, f: fn(A, A) -> B) -> ArrayD<B> {
    Zip::from(a).and(b).map_collect(|&x, &y| f(x, y))
}
