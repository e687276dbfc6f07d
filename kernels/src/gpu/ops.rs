//! Each HLO op on elements as a WGSL expression, with the interpreter's
//! semantics where WGSL's differ: NaN-propagating `maximum`/`minimum`, integer
//! division by zero (−1) and overflow, saturating float-to-int conversion.
//! Transcendentals call the shared polynomial implementations of [`crate::math`].

use omelet_compiler::hlo::{BinaryOp, Direction, ElementType, Literal, ReduceOp, UnaryOp};

use super::emit::Emitter;
use crate::math::MathFn;

/// A WGSL function that some ops call, emitted once per shader that needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Helper {
    IsNan,
    MaxF32,
    MinF32,
    SignF32,
    DivF32,
    RemF32,
    DivS32,
    RemS32,
    PowF32,
    PowS32,
}

impl Helper {
    /// The helpers this one calls.
    pub fn needs(self) -> &'static [Helper] {
        match self {
            Helper::MaxF32 | Helper::MinF32 | Helper::SignF32 | Helper::DivF32 | Helper::PowF32 => {
                &[Helper::IsNan]
            }
            _ => &[],
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            // NaN tests look at the bits: shader compilers may assume no NaNs
            // and fold `x != x` to false.
            Helper::IsNan => {
                "fn om_isnan(x: f32) -> bool {\n    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;\n}\n"
            }
            // NaN in either operand gives NaN; otherwise the larger (smaller).
            Helper::MaxF32 => {
                "fn om_max(x: f32, y: f32) -> f32 {\n    return select(select(y, x, y < x), x, om_isnan(x));\n}\n"
            }
            Helper::MinF32 => {
                "fn om_min(x: f32, y: f32) -> f32 {\n    return select(select(y, x, x < y), x, om_isnan(x));\n}\n"
            }
            // ±1 with the sign bit of x; ±0 and NaN are their own sign.
            Helper::SignF32 => {
                "fn om_sign(x: f32) -> f32 {\n    let s = bitcast<f32>((bitcast<u32>(x) & 0x80000000u) | 0x3f800000u);\n    return select(s, x, x == 0.0f || om_isnan(x));\n}\n"
            }
            // IEEE 754's x / ±0 (±inf by the signs; NaN for 0 / 0 and NaN / 0),
            // chosen explicitly: shader compilers fold a division by a constant
            // zero to anything (lavapipe to 0), as in a mean over an empty batch.
            Helper::DivF32 => {
                "fn om_fdiv(x: f32, y: f32) -> f32 {
    let inf = bitcast<f32>(((bitcast<u32>(x) ^ bitcast<u32>(y)) & 0x80000000u) | 0x7f800000u);
    let by_zero = select(inf, bitcast<f32>(0x7fc00000u), x == 0.0f || om_isnan(x));
    return select(x / y, by_zero, y == 0.0f);
}
"
            }
            // fmod(x, ±0) is NaN; compilers fold WGSL's x % 0 to x (lavapipe).
            Helper::RemF32 => {
                "fn om_frem(x: f32, y: f32) -> f32 {\n    return select(x % y, bitcast<f32>(0x7fc00000u), y == 0.0f);\n}\n"
            }
            // WGSL gives x for x / 0 and for i32::MIN / -1; HLO gives −1 for the former.
            Helper::DivS32 => {
                "fn om_div(x: i32, y: i32) -> i32 {\n    return select(x / y, -1i, y == 0i);\n}\n"
            }
            // WGSL gives 0 for x % 0; HLO gives x.
            Helper::RemS32 => {
                "fn om_rem(x: i32, y: i32) -> i32 {\n    return select(x % y, x, y == 0i);\n}\n"
            }
            // C's pow: exp(y·log|x|) through the shared polynomials, the sign from
            // an odd integer exponent, and the special values of IEEE 754's pow
            // (zeros, infinite exponents, 1).
            Helper::PowF32 => {
                "fn om_pow(x: f32, y: f32) -> f32 {
    let inf = bitcast<f32>(0x7f800000u);
    let ax = abs(x);
    let ay = abs(y);
    let integer = floor(y) == y && ay < inf;
    let odd = integer && ay < 16777216.0f && (i32(ay) & 1i) == 1i;
    var r = om_exp(y * om_log(ax));
    if (x < 0.0f) {
        r = select(bitcast<f32>(0x7fc00000u), select(r, -r, odd), integer);
    }
    if (x == 0.0f) {
        r = select(0.0f, inf, y < 0.0f);
        if (odd) { r = select(r, -r, bitcast<u32>(x) != 0u); }
    }
    if (ay == inf && !om_isnan(x)) {
        r = select(select(0.0f, inf, y > 0.0f), select(inf, 0.0f, y > 0.0f), ax < 1.0f);
        if (ax == 1.0f) { r = 1.0f; }
    }
    if (x == 1.0f || y == 0.0f) { r = 1.0f; }
    return r;
}
"
            }
            // Square-and-multiply, wrapping; negative exponents as the interpreter.
            Helper::PowS32 => {
                "fn om_ipow(base: i32, exponent: i32) -> i32 {
    if (exponent < 0i) {
        if (base == 1i) { return 1i; }
        if (base == -1i) { return select(-1i, 1i, (exponent & 1i) == 0i); }
        return 0i;
    }
    var result = 1i;
    var b = base;
    var e = u32(exponent);
    while (e > 0u) {
        if ((e & 1u) == 1u) { result = result * b; }
        b = b * b;
        e = e >> 1u;
    }
    return result;
}
"
            }
        }
    }
}

/// Element `i` of a literal, as a WGSL expression.
pub fn literal(literal: &Literal, i: usize) -> String {
    let value = literal.get(i);
    match literal.element_type() {
        ElementType::F32 => float(value.get::<f32>()),
        ElementType::S32 => int(value.get::<i32>()),
        ElementType::Pred => value.get::<bool>().to_string(),
        other => unreachable!("the gpu backend refuses {other} before compiling"),
    }
}

/// An exact `f32` literal (bit patterns for the values WGSL cannot spell).
pub fn float(v: f32) -> String {
    if v.is_normal() || v == 0.0 && v.is_sign_positive() {
        let text = format!("{v:?}f");
        if v < 0.0 { format!("({text})") } else { text }
    } else {
        format!("bitcast<f32>({:#010x}u)", v.to_bits())
    }
}

pub fn int(v: i32) -> String {
    match v {
        i32::MIN => "bitcast<i32>(0x80000000u)".to_string(),
        v if v < 0 => format!("({v}i)"),
        v => format!("{v}i"),
    }
}

pub fn zero(element: ElementType) -> &'static str {
    match element {
        ElementType::F32 => "0.0f",
        ElementType::S32 => "0i",
        ElementType::Pred => "false",
        other => unreachable!("the gpu backend refuses {other} before compiling"),
    }
}

/// A `u32` coordinate as an element (iota).
pub fn from_index(element: ElementType, c: &str) -> String {
    match element {
        ElementType::F32 => format!("f32({c})"),
        ElementType::S32 => format!("i32({c})"),
        ElementType::Pred => format!("({c} != 0u)"),
        other => unreachable!("the gpu backend refuses {other} before compiling"),
    }
}

pub fn unary(e: &mut Emitter, op: UnaryOp, element: ElementType, x: &str) -> String {
    let math = |e: &mut Emitter, f: MathFn| {
        e.use_math(f);
        format!("{}({x})", f.wgsl_name())
    };
    match (op, element) {
        (UnaryOp::Negate, _) => format!("-{x}"),
        (UnaryOp::Abs, _) => format!("abs({x})"),
        (UnaryOp::Sign, ElementType::F32) => {
            e.helpers.insert(Helper::SignF32);
            format!("om_sign({x})")
        }
        (UnaryOp::Sign, _) => format!("clamp({x}, -1i, 1i)"),
        (UnaryOp::Not, ElementType::Pred) => format!("!{x}"),
        (UnaryOp::Not, _) => format!("~{x}"),
        (UnaryOp::Exp, _) => math(e, MathFn::Exp),
        (UnaryOp::Expm1, _) => math(e, MathFn::Expm1),
        (UnaryOp::Log, _) => math(e, MathFn::Log),
        (UnaryOp::Log1p, _) => math(e, MathFn::Log1p),
        (UnaryOp::Tanh, _) => math(e, MathFn::Tanh),
        (UnaryOp::Logistic, _) => math(e, MathFn::Logistic),
        (UnaryOp::Erf, _) => math(e, MathFn::Erf),
        (UnaryOp::Sin, _) => math(e, MathFn::Sin),
        (UnaryOp::Cos, _) => math(e, MathFn::Cos),
        (UnaryOp::Sqrt, _) => format!("sqrt({x})"),
        // As on the CPU: WGSL's inverseSqrt is an approximation.
        (UnaryOp::Rsqrt, _) => format!("1.0f / sqrt({x})"),
        (UnaryOp::Floor, _) => format!("floor({x})"),
        (UnaryOp::Ceil, _) => format!("ceil({x})"),
        // WGSL's round is round-half-to-even.
        (UnaryOp::RoundNearestEven, _) => format!("round({x})"),
        (UnaryOp::IsFinite, _) => format!("abs({x}) < bitcast<f32>(0x7f800000u)"),
        (op, _) => unreachable!("the gpu backend refuses {} before compiling", op.opcode()),
    }
}

pub fn binary(e: &mut Emitter, op: BinaryOp, element: ElementType, x: &str, y: &str) -> String {
    let float = element == ElementType::F32;
    let pred = element == ElementType::Pred;
    let mut call = |h: Helper, name: &str| {
        e.helpers.insert(h);
        format!("{name}({x}, {y})")
    };
    match op {
        BinaryOp::Add => format!("{x} + {y}"),
        BinaryOp::Subtract => format!("{x} - {y}"),
        BinaryOp::Multiply => format!("{x} * {y}"),
        BinaryOp::Divide if float => call(Helper::DivF32, "om_fdiv"),
        BinaryOp::Divide => call(Helper::DivS32, "om_div"),
        // WGSL's float remainder is x − y·trunc(x/y), C's fmod for moderate
        // quotients.
        BinaryOp::Remainder if float => call(Helper::RemF32, "om_frem"),
        BinaryOp::Remainder => call(Helper::RemS32, "om_rem"),
        BinaryOp::Maximum if float => call(Helper::MaxF32, "om_max"),
        BinaryOp::Minimum if float => call(Helper::MinF32, "om_min"),
        BinaryOp::Maximum if pred => format!("{x} || {y}"),
        BinaryOp::Minimum if pred => format!("{x} && {y}"),
        BinaryOp::Maximum => format!("max({x}, {y})"),
        BinaryOp::Minimum => format!("min({x}, {y})"),
        BinaryOp::Power if float => {
            e.use_math(MathFn::Exp);
            e.use_math(MathFn::Log);
            e.helpers.insert(Helper::PowF32);
            format!("om_pow({x}, {y})")
        }
        BinaryOp::Power => {
            e.helpers.insert(Helper::PowS32);
            format!("om_ipow({x}, {y})")
        }
        BinaryOp::And if pred => format!("{x} && {y}"),
        BinaryOp::Or if pred => format!("{x} || {y}"),
        BinaryOp::And => format!("{x} & {y}"),
        BinaryOp::Or => format!("{x} | {y}"),
        op => unreachable!("the gpu backend refuses {} before compiling", op.opcode()),
    }
}

pub fn compare(direction: Direction, element: ElementType, x: &str, y: &str) -> String {
    let symbol = match direction {
        Direction::Eq => "==",
        Direction::Ne => "!=",
        Direction::Lt => "<",
        Direction::Le => "<=",
        Direction::Gt => ">",
        Direction::Ge => ">=",
    };
    match element {
        // false < true, as unsigned integers.
        ElementType::Pred => format!("u32({x}) {symbol} u32({y})"),
        // True when either is NaN, which WGSL's `!=` need not be.
        ElementType::F32 if direction == Direction::Ne => format!("!({x} == {y})"),
        _ => format!("{x} {symbol} {y}"),
    }
}

pub fn convert(e: &mut Emitter, from: ElementType, to: ElementType, x: &str) -> String {
    match (from, to) {
        _ if from == to => x.to_string(),
        // Saturating, NaN to 0, as the interpreter's `as`.
        (ElementType::F32, ElementType::S32) => {
            e.helpers.insert(Helper::IsNan);
            format!("select(i32({x}), 0i, om_isnan({x}))")
        }
        (ElementType::F32, ElementType::Pred) => format!("{x} != 0.0f"),
        (ElementType::S32, ElementType::F32) => format!("f32({x})"),
        (ElementType::S32, ElementType::Pred) => format!("{x} != 0i"),
        (ElementType::Pred, ElementType::S32) => format!("select(0i, 1i, {x})"),
        (ElementType::Pred, ElementType::F32) => format!("select(0.0f, 1.0f, {x})"),
        _ => unreachable!("same types are handled first"),
    }
}

pub fn clamp(e: &mut Emitter, element: ElementType, lo: &str, x: &str, hi: &str) -> String {
    let (max, min) = match element {
        ElementType::Pred => (ReduceOp::Or, ReduceOp::And),
        _ => (ReduceOp::Maximum, ReduceOp::Minimum),
    };
    let low = combine(e, max, element, x, lo);
    combine(e, min, element, &format!("({low})"), hi)
}

/// One step of a reduction: `acc ⊕ v`.
pub fn combine(e: &mut Emitter, op: ReduceOp, element: ElementType, acc: &str, v: &str) -> String {
    let binary_op = match (op, element) {
        (ReduceOp::Maximum, ElementType::Pred) => BinaryOp::Or,
        (ReduceOp::Minimum, ElementType::Pred) => BinaryOp::And,
        _ => op.combiner(),
    };
    binary(e, binary_op, element, acc, v)
}

/// The value a reduction starts each partial accumulation from.
pub fn identity(op: ReduceOp, element: ElementType) -> String {
    match (op, element) {
        (ReduceOp::Add, _) => zero(element).to_string(),
        (ReduceOp::Multiply, ElementType::F32) => "1.0f".to_string(),
        (ReduceOp::Multiply, _) => "1i".to_string(),
        (ReduceOp::Maximum, ElementType::F32) => float(f32::NEG_INFINITY),
        (ReduceOp::Minimum, ElementType::F32) => float(f32::INFINITY),
        (ReduceOp::Maximum, ElementType::S32) => int(i32::MIN),
        (ReduceOp::Minimum, ElementType::S32) => int(i32::MAX),
        (ReduceOp::Maximum | ReduceOp::Or, ElementType::Pred) => "false".to_string(),
        (ReduceOp::Minimum | ReduceOp::And, ElementType::Pred) => "true".to_string(),
        (ReduceOp::And, _) => "(-1i)".to_string(),
        (ReduceOp::Or, _) => "0i".to_string(),
        (_, other) => unreachable!("the gpu backend refuses {other} before compiling"),
    }
}

/// `v` combined over the subgroup, on every lane (`f32` or `i32`). Subgroup
/// `max` and `min` need not propagate NaN, so a NaN in any lane is put back.
pub fn subgroup_combine(e: &mut Emitter, op: ReduceOp, element: ElementType, v: &str) -> String {
    let f = match op {
        ReduceOp::Add => "subgroupAdd",
        ReduceOp::Multiply => "subgroupMul",
        ReduceOp::Maximum => "subgroupMax",
        ReduceOp::Minimum => "subgroupMin",
        ReduceOp::And => "subgroupAnd",
        ReduceOp::Or => "subgroupOr",
    };
    let combined = format!("{f}({v})");
    match (op, element) {
        (ReduceOp::Maximum | ReduceOp::Minimum, ElementType::F32) => {
            e.helpers.insert(Helper::IsNan);
            format!(
                "select({combined}, {}, subgroupAny(om_isnan({v})))",
                float(f32::NAN)
            )
        }
        _ => combined,
    }
}
