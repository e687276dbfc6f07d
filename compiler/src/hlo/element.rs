//! What every elementwise op computes, for every element type: the one definition
//! the interpreter, the optimizer's constant folding and the tracer's compile-time
//! arithmetic share. The code generators implement the same rules, and the tests
//! hold them to the interpreter.
//!
//! XLA's rules where C leaves things undefined: integer `x / 0` is -1 (all bits
//! set), `MIN / -1` is `MIN`, `x % 0` is `x`; shifts by at least the width give 0
//! (arithmetic right shifts: the sign); float to integer conversion truncates and
//! saturates, NaN giving 0. `f16` and `bf16` compute in `f32` and round the result
//! to nearest even, as XLA:CPU does.

use std::fmt::Debug;

use half::{bf16, f16};

use super::op::{BinaryOp, Direction, ReduceOp, UnaryOp};
use super::shape::{ElementType, Kind};

/// One element of any type, by its bits (zero-extended to 64), so that it hashes
/// and compares exactly: `-0.0` and `0.0` differ, a NaN equals itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scalar {
    pub element: ElementType,
    pub bits: u64,
}

/// A value on the way from one element type to another.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Bool(bool),
    Int(i128),
    Float(f64),
}

/// A Rust type that holds one element type's values.
pub trait Element: Copy + PartialEq + PartialOrd + Default + Debug + Send + Sync + 'static {
    const TYPE: ElementType;
    fn to_bits(self) -> u64;
    fn from_bits(bits: u64) -> Self;
    fn to_number(self) -> Number;
    /// The value nearest `n` (XLA's `convert`).
    fn from_number(n: Number) -> Self;
    /// `op` of `x`; the shape rules keep out the ops the type lacks. (`is-finite`
    /// has its own function: it yields `pred`.)
    fn unary(op: UnaryOp, x: Self) -> Self;
    fn binary(op: BinaryOp, x: Self, y: Self) -> Self;
    fn is_finite(self) -> bool;

    fn compare(direction: Direction, x: Self, y: Self) -> bool {
        match direction {
            Direction::Eq => x == y,
            Direction::Ne => x != y,
            Direction::Lt => x < y,
            Direction::Le => x <= y,
            Direction::Gt => x > y,
            Direction::Ge => x >= y,
        }
    }

    fn scalar(self) -> Scalar {
        Scalar {
            element: Self::TYPE,
            bits: self.to_bits(),
        }
    }
}

impl Element for bool {
    const TYPE: ElementType = ElementType::Pred;
    fn to_bits(self) -> u64 {
        self as u64
    }
    fn from_bits(bits: u64) -> bool {
        bits != 0
    }
    fn to_number(self) -> Number {
        Number::Bool(self)
    }
    fn from_number(n: Number) -> bool {
        match n {
            Number::Bool(b) => b,
            Number::Int(i) => i != 0,
            Number::Float(x) => x != 0.0,
        }
    }
    fn unary(op: UnaryOp, x: bool) -> bool {
        match op {
            UnaryOp::Not => !x,
            _ => unreachable!("{} is not defined on pred", op.opcode()),
        }
    }
    fn binary(op: BinaryOp, x: bool, y: bool) -> bool {
        match op {
            BinaryOp::And | BinaryOp::Minimum => x & y,
            BinaryOp::Or | BinaryOp::Maximum => x | y,
            BinaryOp::Xor => x ^ y,
            _ => unreachable!("{} is not defined on pred", op.opcode()),
        }
    }
    fn is_finite(self) -> bool {
        true
    }
}

/// Integers of one signedness and width, with their counterparts of the other
/// signedness (for logical and arithmetic shifts).
macro_rules! integer {
    ($t:ty, $signed:ty, $unsigned:ty, $element:ident) => {
        impl Element for $t {
            const TYPE: ElementType = ElementType::$element;
            fn to_bits(self) -> u64 {
                self as $unsigned as u64
            }
            fn from_bits(bits: u64) -> $t {
                bits as $unsigned as $t
            }
            fn to_number(self) -> Number {
                Number::Int(self as i128)
            }
            fn from_number(n: Number) -> $t {
                match n {
                    Number::Bool(b) => b as $t,
                    // Integers wrap to the width.
                    Number::Int(i) => i as $t,
                    // Rust's `as` truncates toward zero, saturates and maps NaN to
                    // 0: XLA's rule.
                    Number::Float(x) => x as $t,
                }
            }
            fn unary(op: UnaryOp, x: $t) -> $t {
                match op {
                    UnaryOp::Negate => x.wrapping_neg(),
                    UnaryOp::Abs if <$t>::MIN == 0 => x,
                    UnaryOp::Abs => (x as $signed).wrapping_abs() as $t,
                    UnaryOp::Sign => {
                        if x == 0 {
                            0
                        } else if x > 0 {
                            1
                        } else {
                            (0 as $t).wrapping_sub(1)
                        }
                    }
                    UnaryOp::Not => !x,
                    UnaryOp::PopulationCount => x.count_ones() as $t,
                    UnaryOp::CountLeadingZeros => x.leading_zeros() as $t,
                    _ => unreachable!("{} is not defined on integers", op.opcode()),
                }
            }
            fn binary(op: BinaryOp, x: $t, y: $t) -> $t {
                const BITS: u64 = <$t>::BITS as u64;
                // A shift amount is read as unsigned: a negative one is huge.
                let amount = y as $unsigned as u64;
                match op {
                    BinaryOp::Add => x.wrapping_add(y),
                    BinaryOp::Subtract => x.wrapping_sub(y),
                    BinaryOp::Multiply => x.wrapping_mul(y),
                    BinaryOp::Divide if y == 0 => (0 as $t).wrapping_sub(1),
                    BinaryOp::Divide => x.wrapping_div(y),
                    BinaryOp::Remainder if y == 0 => x,
                    BinaryOp::Remainder => x.wrapping_rem(y),
                    BinaryOp::Maximum => x.max(y),
                    BinaryOp::Minimum => x.min(y),
                    BinaryOp::Power => integer_power(x, y),
                    BinaryOp::And => x & y,
                    BinaryOp::Or => x | y,
                    BinaryOp::Xor => x ^ y,
                    BinaryOp::ShiftLeft if amount >= BITS => 0,
                    BinaryOp::ShiftLeft => x << amount,
                    BinaryOp::ShiftRightLogical if amount >= BITS => 0,
                    BinaryOp::ShiftRightLogical => ((x as $unsigned) >> amount) as $t,
                    BinaryOp::ShiftRightArithmetic => {
                        ((x as $signed) >> amount.min(BITS - 1)) as $t
                    }
                    BinaryOp::Atan2 => unreachable!("atan2 is not defined on integers"),
                }
            }
            fn is_finite(self) -> bool {
                true
            }
        }
    };
}

integer!(i8, i8, u8, S8);
integer!(i16, i16, u16, S16);
integer!(i32, i32, u32, S32);
integer!(i64, i64, u64, S64);
integer!(u8, i8, u8, U8);
integer!(u16, i16, u16, U16);
integer!(u32, i32, u32, U32);
integer!(u64, i64, u64, U64);

/// `power` on integers: by squaring, wrapping on overflow. A negative exponent
/// gives 0 except for bases 1 and -1, whose powers stay exact.
pub fn integer_power<T: IntegerPower>(base: T, exponent: T) -> T {
    T::power(base, exponent)
}

/// The integer types [`integer_power`] is defined on.
pub trait IntegerPower: Copy {
    fn power(base: Self, exponent: Self) -> Self;
}

macro_rules! integer_power {
    ($($t:ty),*) => {$(
        impl IntegerPower for $t {
            #[allow(unused_comparisons)]
            fn power(base: $t, exponent: $t) -> $t {
                if exponent < 0 {
                    let minus_one = (0 as $t).wrapping_sub(1);
                    return if base == 1 {
                        1
                    } else if base == minus_one {
                        if exponent % 2 == 0 { 1 } else { minus_one }
                    } else {
                        0
                    };
                }
                let (mut result, mut base, mut e) = (1 as $t, base, exponent);
                while e > 0 {
                    if e & 1 == 1 {
                        result = result.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                result
            }
        }
    )*};
}

integer_power!(i8, i16, i32, i64, u8, u16, u32, u64);

/// The f32 (and f64) arithmetic every float type computes with.
macro_rules! float_math {
    ($t:ty, $erf:path, $cbrt:path) => {
        impl FloatMath for $t {
            fn unary(op: UnaryOp, x: $t) -> $t {
                match op {
                    UnaryOp::Negate => -x,
                    UnaryOp::Abs => x.abs(),
                    // XLA keeps the sign of zero and propagates NaN.
                    UnaryOp::Sign => {
                        if x > 0.0 {
                            1.0
                        } else if x < 0.0 {
                            -1.0
                        } else {
                            x
                        }
                    }
                    UnaryOp::Exp => x.exp(),
                    UnaryOp::Expm1 => x.exp_m1(),
                    UnaryOp::Log => x.ln(),
                    UnaryOp::Log1p => x.ln_1p(),
                    UnaryOp::Sqrt => x.sqrt(),
                    UnaryOp::Rsqrt => 1.0 / x.sqrt(),
                    UnaryOp::Cbrt => $cbrt(x),
                    UnaryOp::Tanh => x.tanh(),
                    UnaryOp::Logistic => 1.0 / (1.0 + (-x).exp()),
                    UnaryOp::Sin => x.sin(),
                    UnaryOp::Cos => x.cos(),
                    UnaryOp::Tan => x.tan(),
                    UnaryOp::Erf => $erf(x),
                    UnaryOp::Floor => x.floor(),
                    UnaryOp::Ceil => x.ceil(),
                    UnaryOp::RoundNearestEven => x.round_ties_even(),
                    _ => unreachable!("{} is not defined on floats", op.opcode()),
                }
            }
            fn binary(op: BinaryOp, x: $t, y: $t) -> $t {
                match op {
                    BinaryOp::Add => x + y,
                    BinaryOp::Subtract => x - y,
                    BinaryOp::Multiply => x * y,
                    BinaryOp::Divide => x / y,
                    // XLA's maximum and minimum propagate NaN, unlike `max`, and
                    // order -0 below +0.
                    BinaryOp::Maximum | BinaryOp::Minimum if x.is_nan() || y.is_nan() => <$t>::NAN,
                    BinaryOp::Maximum if x > y || (x == y && y.is_sign_negative()) => x,
                    BinaryOp::Minimum if x < y || (x == y && x.is_sign_negative()) => x,
                    BinaryOp::Maximum | BinaryOp::Minimum => y,
                    BinaryOp::Power => x.powf(y),
                    // Rust's `%` on floats is C's fmod: the dividend's sign.
                    BinaryOp::Remainder => x % y,
                    BinaryOp::Atan2 => x.atan2(y),
                    _ => unreachable!("{} is not defined on floats", op.opcode()),
                }
            }
        }
    };
}

/// Float arithmetic in a type Rust computes with natively.
trait FloatMath: Sized {
    fn unary(op: UnaryOp, x: Self) -> Self;
    fn binary(op: BinaryOp, x: Self, y: Self) -> Self;
}

float_math!(f32, libm::erff, libm::cbrtf);
float_math!(f64, libm::erf, libm::cbrt);

impl Element for f32 {
    const TYPE: ElementType = ElementType::F32;
    fn to_bits(self) -> u64 {
        f32::to_bits(self) as u64
    }
    fn from_bits(bits: u64) -> f32 {
        f32::from_bits(bits as u32)
    }
    fn to_number(self) -> Number {
        Number::Float(self as f64)
    }
    fn from_number(n: Number) -> f32 {
        match n {
            Number::Bool(b) => b as u8 as f32,
            Number::Int(i) => i as f32,
            Number::Float(x) => x as f32,
        }
    }
    fn unary(op: UnaryOp, x: f32) -> f32 {
        FloatMath::unary(op, x)
    }
    fn binary(op: BinaryOp, x: f32, y: f32) -> f32 {
        FloatMath::binary(op, x, y)
    }
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}

impl Element for f64 {
    const TYPE: ElementType = ElementType::F64;
    fn to_bits(self) -> u64 {
        f64::to_bits(self)
    }
    fn from_bits(bits: u64) -> f64 {
        f64::from_bits(bits)
    }
    fn to_number(self) -> Number {
        Number::Float(self)
    }
    fn from_number(n: Number) -> f64 {
        match n {
            Number::Bool(b) => b as u8 as f64,
            Number::Int(i) => i as f64,
            Number::Float(x) => x,
        }
    }
    fn unary(op: UnaryOp, x: f64) -> f64 {
        FloatMath::unary(op, x)
    }
    fn binary(op: BinaryOp, x: f64, y: f64) -> f64 {
        FloatMath::binary(op, x, y)
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
}

/// The 16-bit floats: stored as bits, computed in f32, rounded to nearest even.
macro_rules! half_float {
    ($t:ty, $element:ident) => {
        impl Element for $t {
            const TYPE: ElementType = ElementType::$element;
            fn to_bits(self) -> u64 {
                <$t>::to_bits(self) as u64
            }
            fn from_bits(bits: u64) -> $t {
                <$t>::from_bits(bits as u16)
            }
            fn to_number(self) -> Number {
                Number::Float(self.to_f64())
            }
            fn from_number(n: Number) -> $t {
                match n {
                    Number::Bool(b) => <$t>::from_f32(b as u8 as f32),
                    Number::Int(i) => <$t>::from_f32(f64_to_f32_odd(int_to_f64_odd(i))),
                    Number::Float(x) => <$t>::from_f32(f64_to_f32_odd(x)),
                }
            }
            fn unary(op: UnaryOp, x: $t) -> $t {
                <$t>::from_f32(FloatMath::unary(op, x.to_f32()))
            }
            fn binary(op: BinaryOp, x: $t, y: $t) -> $t {
                <$t>::from_f32(FloatMath::binary(op, x.to_f32(), y.to_f32()))
            }
            fn is_finite(self) -> bool {
                self.to_f32().is_finite()
            }
        }
    };
}

half_float!(f16, F16);
half_float!(bf16, Bf16);

/// `x` as an f32 rounded to odd (truncated, with the last bit set if any bit
/// was dropped): rounding that once more to a float of at most 22 significant
/// bits rounds as if from `x` directly. (`half`'s own `from_f64` goes through a
/// nearest-even f32 and can round twice.)
fn f64_to_f32_odd(x: f64) -> f32 {
    let nearest = x as f32;
    if nearest as f64 == x || !nearest.is_finite() {
        return nearest;
    }
    let truncated = if (nearest as f64).abs() > x.abs() {
        f32::from_bits(nearest.to_bits() - 1)
    } else {
        nearest
    };
    f32::from_bits(truncated.to_bits() | 1)
}

/// `i` as an f64 rounded to odd: exact below 2^53, and otherwise with the bits
/// dropped folded into the last one, so that rounding it once more to a narrower
/// float rounds as if from `i` directly.
fn int_to_f64_odd(i: i128) -> f64 {
    let magnitude = i.unsigned_abs();
    let excess = (128 - magnitude.leading_zeros()).saturating_sub(53);
    let kept = magnitude >> excess;
    let sticky = (kept << excess != magnitude) as u128;
    let value = (kept | sticky) as f64 * (2f64).powi(excess as i32);
    if i < 0 { -value } else { value }
}

/// Calls `$body` with `$t` bound to the Rust type of `$element`.
#[macro_export]
macro_rules! with_element_type {
    ($element:expr, $t:ident => $body:expr) => {{
        use $crate::hlo::ElementType as E;
        match $element {
            E::Pred => {
                type $t = bool;
                $body
            }
            E::S8 => {
                type $t = i8;
                $body
            }
            E::S16 => {
                type $t = i16;
                $body
            }
            E::S32 => {
                type $t = i32;
                $body
            }
            E::S64 => {
                type $t = i64;
                $body
            }
            E::U8 => {
                type $t = u8;
                $body
            }
            E::U16 => {
                type $t = u16;
                $body
            }
            E::U32 => {
                type $t = u32;
                $body
            }
            E::U64 => {
                type $t = u64;
                $body
            }
            E::F16 => {
                type $t = $crate::half::f16;
                $body
            }
            E::Bf16 => {
                type $t = $crate::half::bf16;
                $body
            }
            E::F32 => {
                type $t = f32;
                $body
            }
            E::F64 => {
                type $t = f64;
                $body
            }
        }
    }};
}

impl Scalar {
    pub fn new<T: Element>(value: T) -> Scalar {
        value.scalar()
    }

    pub fn f32(x: f32) -> Scalar {
        Scalar::new(x)
    }

    /// The value `n` converted to `element`.
    pub fn from_number(element: ElementType, n: Number) -> Scalar {
        with_element_type!(element, T => T::from_number(n).scalar())
    }

    /// The integer `i` in `element` (wrapping, or the nearest float).
    pub fn int(element: ElementType, i: i64) -> Scalar {
        Scalar::from_number(element, Number::Int(i as i128))
    }

    pub fn get<T: Element>(self) -> T {
        debug_assert_eq!(self.element, T::TYPE);
        T::from_bits(self.bits)
    }

    pub fn to_number(self) -> Number {
        with_element_type!(self.element, T => self.get::<T>().to_number())
    }

    /// The value as an f64, for float scalars.
    pub fn as_float(self) -> Option<f64> {
        match self.to_number() {
            Number::Float(x) => Some(x),
            _ => None,
        }
    }

    /// The value as an f32, for `f32` scalars.
    pub fn as_f32(self) -> Option<f32> {
        (self.element == ElementType::F32).then(|| self.get::<f32>())
    }

    /// Whether the scalar is the number `x` (in its own type).
    pub fn is(self, x: i32) -> bool {
        match self.to_number() {
            Number::Float(v) => v == x as f64,
            Number::Int(v) => v == x as i128,
            Number::Bool(_) => false,
        }
    }

    pub fn unary(op: UnaryOp, x: Scalar) -> Scalar {
        if op == UnaryOp::IsFinite {
            return Scalar::new(with_element_type!(x.element, T => x.get::<T>().is_finite()));
        }
        with_element_type!(x.element, T => <T as Element>::unary(op, x.get::<T>()).scalar())
    }

    pub fn binary(op: BinaryOp, x: Scalar, y: Scalar) -> Scalar {
        with_element_type!(x.element, T => <T as Element>::binary(op, x.get::<T>(), y.get::<T>()).scalar())
    }

    pub fn compare(direction: Direction, x: Scalar, y: Scalar) -> Scalar {
        Scalar::new(
            with_element_type!(x.element, T => T::compare(direction, x.get::<T>(), y.get::<T>())),
        )
    }

    pub fn convert(self, to: ElementType) -> Scalar {
        Scalar::from_number(to, self.to_number())
    }

    /// The same bits read as `to`, of equal width.
    pub fn bitcast_convert(self, to: ElementType) -> Scalar {
        debug_assert_eq!(self.element.bit_width(), to.bit_width());
        Scalar {
            element: to,
            bits: self.bits,
        }
    }

    /// Whether the element type's kind is `kind`.
    pub fn is_kind(self, kind: Kind) -> bool {
        self.element.kind() == kind
    }
}

impl ReduceOp {
    /// The value that leaves any element unchanged when combined with it: a
    /// reduction's init value.
    pub fn identity(self, element: ElementType) -> Scalar {
        let extreme = |lowest: bool| match element.kind() {
            Kind::Float => Scalar::from_number(
                element,
                Number::Float(if lowest {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }),
            ),
            Kind::Pred => Scalar::new(!lowest),
            Kind::Signed => {
                let half = 1i128 << (element.bit_width() - 1);
                Scalar::from_number(element, Number::Int(if lowest { -half } else { half - 1 }))
            }
            Kind::Unsigned => {
                Scalar::from_number(element, Number::Int(if lowest { 0 } else { -1 }))
            }
        };
        match self {
            ReduceOp::Add => Scalar::int(element, 0),
            ReduceOp::Multiply => Scalar::int(element, 1),
            ReduceOp::Maximum => extreme(true),
            ReduceOp::Minimum => extreme(false),
            ReduceOp::And => Scalar::int(element, -1),
            ReduceOp::Or => Scalar::int(element, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(element: ElementType, i: i64) -> Scalar {
        Scalar::int(element, i)
    }

    #[test]
    fn integer_division_follows_xla_at_its_edges() {
        let d = |e, x, y| Scalar::binary(BinaryOp::Divide, int(e, x), int(e, y));
        assert_eq!(d(ElementType::S32, 7, 0), int(ElementType::S32, -1));
        assert_eq!(d(ElementType::U8, 7, 0), int(ElementType::U8, 255));
        assert_eq!(d(ElementType::S8, -128, -1), int(ElementType::S8, -128));
        let r = |e, x, y| Scalar::binary(BinaryOp::Remainder, int(e, x), int(e, y));
        assert_eq!(r(ElementType::S64, 7, 0), int(ElementType::S64, 7));
        assert_eq!(r(ElementType::S16, -32768, -1), int(ElementType::S16, 0));
    }

    #[test]
    fn shifts_by_the_width_or_more() {
        let s = |op, e, x, y| Scalar::binary(op, int(e, x), int(e, y));
        use BinaryOp::*;
        assert_eq!(
            s(ShiftLeft, ElementType::U32, 1, 32),
            int(ElementType::U32, 0)
        );
        assert_eq!(
            s(ShiftLeft, ElementType::U32, 1, 31),
            int(ElementType::U32, 1 << 31)
        );
        assert_eq!(
            s(ShiftRightLogical, ElementType::S8, -1, 7),
            int(ElementType::S8, 1)
        );
        assert_eq!(
            s(ShiftRightLogical, ElementType::S8, -1, 8),
            int(ElementType::S8, 0)
        );
        assert_eq!(
            s(ShiftRightArithmetic, ElementType::S8, -4, 9),
            int(ElementType::S8, -1)
        );
        assert_eq!(
            s(ShiftRightArithmetic, ElementType::S8, 4, -1),
            int(ElementType::S8, 0)
        );
        // An unsigned arithmetic shift copies the top bit.
        assert_eq!(
            s(ShiftRightArithmetic, ElementType::U8, 0x80, 1),
            int(ElementType::U8, 0xc0)
        );
    }

    #[test]
    fn conversions_saturate_and_round_once() {
        let f = |x: f64| Scalar::from_number(ElementType::F64, Number::Float(x));
        assert_eq!(
            f(1e10).convert(ElementType::S32),
            int(ElementType::S32, i32::MAX as i64)
        );
        assert_eq!(
            f(f64::NAN).convert(ElementType::U8),
            int(ElementType::U8, 0)
        );
        assert_eq!(f(-3.7).convert(ElementType::S8), int(ElementType::S8, -3));
        assert_eq!(f(300.0).convert(ElementType::U8), int(ElementType::U8, 255));
        assert_eq!(
            int(ElementType::S32, 300).convert(ElementType::U8),
            int(ElementType::U8, 44)
        );
        // 2^24 + 2^16 + 1 is just above bf16's midpoint between 2^24 and
        // 2^24 + 2^17: rounding it through f32 first would land on the midpoint and
        // then round to even, down.
        let x = int(ElementType::S32, (1 << 24) + (1 << 16) + 1).convert(ElementType::Bf16);
        assert_eq!(x.as_float(), Some(((1 << 24) + (1 << 17)) as f64));
        // f16 overflows to infinity; bf16 keeps f32's range.
        assert_eq!(
            f(1e5).convert(ElementType::F16).as_float(),
            Some(f64::INFINITY)
        );
        assert_eq!(f(1.0 / 3.0).convert(ElementType::Bf16).bits, 0x3eab);
    }

    #[test]
    fn bit_counting_and_unsigned_ops() {
        use UnaryOp::*;
        assert_eq!(
            Scalar::unary(PopulationCount, int(ElementType::S16, -1)),
            int(ElementType::S16, 16)
        );
        assert_eq!(
            Scalar::unary(CountLeadingZeros, int(ElementType::U64, 1)),
            int(ElementType::U64, 63)
        );
        assert_eq!(
            Scalar::unary(CountLeadingZeros, int(ElementType::S8, 0)),
            int(ElementType::S8, 8)
        );
        assert_eq!(
            Scalar::unary(Abs, int(ElementType::U8, 200)),
            int(ElementType::U8, 200)
        );
        assert_eq!(
            Scalar::unary(Abs, int(ElementType::S8, -128)),
            int(ElementType::S8, -128)
        );
        assert_eq!(
            Scalar::unary(Negate, int(ElementType::U32, 1)),
            int(ElementType::U32, u32::MAX as i64)
        );
        assert_eq!(
            Scalar::unary(Sign, int(ElementType::U8, 200)),
            int(ElementType::U8, 1)
        );
        assert_eq!(
            Scalar::binary(
                BinaryOp::Maximum,
                int(ElementType::U32, 1),
                int(ElementType::U32, u32::MAX as i64)
            ),
            int(ElementType::U32, u32::MAX as i64)
        );
    }

    #[test]
    fn maximum_and_minimum_order_negative_zero_below_zero() {
        let f = |x: f32| Scalar::f32(x);
        for (x, y) in [(0.0, -0.0), (-0.0, 0.0)] {
            let max = Scalar::binary(BinaryOp::Maximum, f(x), f(y));
            let min = Scalar::binary(BinaryOp::Minimum, f(x), f(y));
            assert_eq!((max.bits, min.bits), (0, 0x8000_0000), "{x} {y}");
        }
        let nan = Scalar::binary(BinaryOp::Maximum, f(1.0), f(f32::NAN));
        assert!(nan.get::<f32>().is_nan());
    }

    #[test]
    fn half_floats_compute_in_f32_and_round() {
        let h = |x: f64| Scalar::from_number(ElementType::F16, Number::Float(x));
        let sum = Scalar::binary(BinaryOp::Add, h(1.0), h(0.0004));
        assert_eq!(sum, h(1.0));
        assert_eq!(Scalar::unary(UnaryOp::IsFinite, h(1e5)), Scalar::new(false));
        assert_eq!(h(2.0).bitcast_convert(ElementType::U16).bits, 0x4000);
    }
}
