//! Each HLO op on elements as a WGSL expression, with the interpreter's
//! semantics (`hlo::Element`) where WGSL's differ: NaN-propagating
//! `maximum`/`minimum`, XLA's integer division by zero and shifts past the
//! width, saturating float-to-int conversion, exactly rounded int-to-float
//! conversion. Every type computes in its 32-bit register type and is brought
//! back into its own range after each op ([`types::fit`]). Transcendentals call
//! the shared polynomial implementations of [`crate::math`].

use omelet_compiler::hlo::reduce_precision::float_format;
use omelet_compiler::hlo::{BinaryOp, Direction, ElementType, Literal, ReduceOp, Scalar, UnaryOp};

use super::emit::Emitter;
use super::helpers::Helper;
use super::types::{self, Class, class, fit};
use crate::math::MathFn;

/// Element `i` of a literal, as a WGSL expression.
pub fn literal(literal: &Literal, i: usize) -> String {
    scalar(literal.get(i))
}

/// One element as a WGSL expression of its register type.
pub fn scalar(s: Scalar) -> String {
    let word = types::to_word(s.element, s.bits);
    match class(s.element) {
        Class::Float => float(f32::from_bits(word)),
        Class::Signed => int(word as i32),
        Class::Unsigned => format!("{word}u"),
        Class::Pred => (word != 0).to_string(),
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
    match class(element) {
        Class::Float => "0.0f",
        Class::Signed => "0i",
        Class::Unsigned => "0u",
        Class::Pred => "false",
    }
}

/// A `u32` coordinate as an element (iota), converted as the interpreter
/// converts an integer.
pub fn from_index(e: &mut Emitter, element: ElementType, c: &str) -> String {
    match element {
        ElementType::F32 => format!("f32({c})"),
        ElementType::S32 => format!("i32({c})"),
        ElementType::Pred => format!("({c} != 0u)"),
        _ => convert(e, ElementType::U32, element, c),
    }
}

pub fn unary(e: &mut Emitter, op: UnaryOp, element: ElementType, x: &str) -> String {
    let math = |e: &mut Emitter, f: MathFn| {
        e.use_math(f);
        let y = format!("{}({x})", f.wgsl_name());
        fit(e, element, &y)
    };
    let width = element.bit_width();
    match (op, class(element)) {
        (UnaryOp::Negate, Class::Unsigned) => fit(e, element, &format!("0u - {x}")),
        // Exact on floats: the sign bit.
        (UnaryOp::Negate, Class::Float) => format!("-{x}"),
        (UnaryOp::Negate, _) => fit(e, element, &format!("-{x}")),
        (UnaryOp::Abs, Class::Unsigned) => x.to_string(),
        (UnaryOp::Abs, Class::Float) => format!("abs({x})"),
        (UnaryOp::Abs, _) => fit(e, element, &format!("abs({x})")),
        (UnaryOp::Sign, Class::Float) => {
            e.helpers.insert(Helper::SignF32);
            format!("om_sign({x})")
        }
        (UnaryOp::Sign, Class::Unsigned) => format!("min({x}, 1u)"),
        (UnaryOp::Sign, _) => format!("clamp({x}, -1i, 1i)"),
        (UnaryOp::Not, Class::Pred) => format!("!{x}"),
        // A sign-extended value's complement is sign-extended.
        (UnaryOp::Not, _) => fit(e, element, &format!("~{x}")),
        (UnaryOp::PopulationCount, Class::Signed) => {
            let bits = types::bits(e, element, x);
            format!("i32(countOneBits({bits}))")
        }
        (UnaryOp::PopulationCount, _) => format!("countOneBits({x})"),
        // Leading zeros of the width's bits, not the register's.
        (UnaryOp::CountLeadingZeros, Class::Signed) => {
            let bits = types::bits(e, element, x);
            format!("i32(countLeadingZeros({bits}) - {}u)", 32 - width)
        }
        (UnaryOp::CountLeadingZeros, _) => match width {
            32 => format!("countLeadingZeros({x})"),
            _ => format!("(countLeadingZeros({x}) - {}u)", 32 - width),
        },
        (UnaryOp::Exp, _) => math(e, MathFn::Exp),
        (UnaryOp::Expm1, _) => math(e, MathFn::Expm1),
        (UnaryOp::Log, _) => math(e, MathFn::Log),
        (UnaryOp::Log1p, _) => math(e, MathFn::Log1p),
        (UnaryOp::Tanh, _) => math(e, MathFn::Tanh),
        (UnaryOp::Logistic, _) => math(e, MathFn::Logistic),
        (UnaryOp::Erf, _) => math(e, MathFn::Erf),
        (UnaryOp::Sin, _) => math(e, MathFn::Sin),
        (UnaryOp::Cos, _) => math(e, MathFn::Cos),
        (UnaryOp::Tan, _) => math(e, MathFn::Tan),
        (UnaryOp::Cbrt, _) => math(e, MathFn::Cbrt),
        (UnaryOp::Sqrt, _) => fit(e, element, &format!("sqrt({x})")),
        // As on the CPU: WGSL's inverseSqrt is an approximation.
        (UnaryOp::Rsqrt, _) => fit(e, element, &format!("1.0f / sqrt({x})")),
        // Exact: an integral value of a type is in the type.
        (UnaryOp::Floor, _) => format!("floor({x})"),
        (UnaryOp::Ceil, _) => format!("ceil({x})"),
        // WGSL's round is round-half-to-even.
        (UnaryOp::RoundNearestEven, _) => format!("round({x})"),
        (UnaryOp::IsFinite, _) => format!("abs({x}) < bitcast<f32>(0x7f800000u)"),
    }
}

pub fn binary(e: &mut Emitter, op: BinaryOp, element: ElementType, x: &str, y: &str) -> String {
    let c = class(element);
    let call = |e: &mut Emitter, h: Helper, name: &str| {
        e.helpers.insert(h);
        format!("{name}({x}, {y})")
    };
    match (op, c) {
        (BinaryOp::And | BinaryOp::Minimum, Class::Pred) => format!("{x} && {y}"),
        (BinaryOp::Or | BinaryOp::Maximum, Class::Pred) => format!("{x} || {y}"),
        (BinaryOp::Xor, Class::Pred) => format!("{x} != {y}"),
        (BinaryOp::Add, _) => fit(e, element, &format!("{x} + {y}")),
        (BinaryOp::Subtract, _) => fit(e, element, &format!("{x} - {y}")),
        (BinaryOp::Multiply, _) => fit(e, element, &format!("{x} * {y}")),
        (BinaryOp::Divide, Class::Float) => {
            let q = call(e, Helper::DivF32, "om_fdiv");
            fit(e, element, &q)
        }
        (BinaryOp::Divide, Class::Signed) => {
            // MIN / -1 overflows only at 32 bits (WGSL gives MIN); narrower
            // widths wrap back to MIN.
            let q = call(e, Helper::DivS32, "om_div");
            fit(e, element, &q)
        }
        (BinaryOp::Divide, _) => {
            let q = call(e, Helper::DivU32, "om_udiv");
            fit(e, element, &q)
        }
        // WGSL's float remainder is x − y·trunc(x/y), C's fmod for moderate
        // quotients.
        (BinaryOp::Remainder, Class::Float) => {
            let r = call(e, Helper::RemF32, "om_frem");
            fit(e, element, &r)
        }
        // A remainder is smaller than the divisor: it stays in the type.
        (BinaryOp::Remainder, Class::Signed) => call(e, Helper::RemS32, "om_rem"),
        (BinaryOp::Remainder, _) => call(e, Helper::RemU32, "om_urem"),
        (BinaryOp::Maximum, Class::Float) => call(e, Helper::MaxF32, "om_max"),
        (BinaryOp::Minimum, Class::Float) => call(e, Helper::MinF32, "om_min"),
        (BinaryOp::Maximum, _) => format!("max({x}, {y})"),
        (BinaryOp::Minimum, _) => format!("min({x}, {y})"),
        (BinaryOp::Power, Class::Float) => {
            e.use_math(MathFn::Exp);
            e.use_math(MathFn::Log);
            let p = call(e, Helper::PowF32, "om_pow");
            fit(e, element, &p)
        }
        // Products wrap at 32 bits and then at the width: the same residue.
        (BinaryOp::Power, Class::Signed) => {
            let p = call(e, Helper::PowS32, "om_ipow");
            fit(e, element, &p)
        }
        (BinaryOp::Power, _) => {
            let p = call(e, Helper::PowU32, "om_upow");
            fit(e, element, &p)
        }
        // Bitwise ops keep sign-extended and zero-extended values so.
        (BinaryOp::And, _) => format!("{x} & {y}"),
        (BinaryOp::Or, _) => format!("{x} | {y}"),
        (BinaryOp::Xor, _) => format!("{x} ^ {y}"),
        (BinaryOp::ShiftLeft | BinaryOp::ShiftRightLogical | BinaryOp::ShiftRightArithmetic, _) => {
            shift(e, op, element, x, y)
        }
        (BinaryOp::Atan2, _) => {
            e.use_math(MathFn::Atan2);
            let a = format!("{}({x}, {y})", MathFn::Atan2.wgsl_name());
            fit(e, element, &a)
        }
    }
}

/// A shift with XLA's rules: the amount read as an unsigned integer of the
/// width; by the width or more, 0 (arithmetic right shifts: the sign bit
/// everywhere). WGSL takes the amount modulo 32, so it is clamped and the
/// result chosen.
fn shift(e: &mut Emitter, op: BinaryOp, element: ElementType, x: &str, y: &str) -> String {
    let width = element.bit_width();
    let amount = types::bits(e, element, y);
    let amount = e.bind("u32", &amount);
    let clamped = format!("min({amount}, {}u)", width - 1);
    let zero = zero(element);
    let past = format!("{amount} >= {width}u");
    match op {
        BinaryOp::ShiftLeft => {
            let shifted = fit(e, element, &format!("({x} << {clamped})"));
            format!("select({shifted}, {zero}, {past})")
        }
        BinaryOp::ShiftRightLogical => {
            let bits = types::bits(e, element, x);
            let shifted = types::from_bits(e, element, &format!("({bits} >> {clamped})"));
            format!("select({shifted}, {zero}, {past})")
        }
        _ => match class(element) {
            // Sign-extended in an i32: its arithmetic shift is the width's.
            Class::Signed => format!("({x} >> {clamped})"),
            // The top bit of the width copied down, as if signed.
            _ => {
                let signed = match width {
                    32 => format!("bitcast<i32>({x})"),
                    w => format!("extractBits(bitcast<i32>({x}), 0u, {w}u)"),
                };
                fit(e, element, &format!("bitcast<u32>({signed} >> {clamped})"))
            }
        },
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
    match class(element) {
        // false < true, as unsigned integers.
        Class::Pred => format!("u32({x}) {symbol} u32({y})"),
        // True when either is NaN, which WGSL's `!=` need not be.
        Class::Float if direction == Direction::Ne => format!("!({x} == {y})"),
        _ => format!("{x} {symbol} {y}"),
    }
}

/// `compare` with `type=TOTALORDER` (`region::total_order_compare`): a float
/// (`f16`/`bf16` live as `f32`, whose order is theirs) compared by its bits
/// made a signed key, the magnitude bits of a negative value flipped.
pub fn compare_total_order(direction: Direction, element: ElementType, x: &str, y: &str) -> String {
    if class(element) != Class::Float {
        return compare(direction, element, x, y);
    }
    let key = |v: &str| {
        format!("(bitcast<i32>({v}) ^ bitcast<i32>(bitcast<u32>(bitcast<i32>({v}) >> 31u) >> 1u))")
    };
    compare(direction, ElementType::S32, &key(x), &key(y))
}

/// `convert`: the interpreter's `Element::from_number` of the value.
pub fn convert(e: &mut Emitter, from: ElementType, to: ElementType, x: &str) -> String {
    if from == to {
        return x.to_string();
    }
    match (class(from), class(to)) {
        (Class::Float, Class::Pred) => format!("!({x} == 0.0f)"),
        (_, Class::Pred) => format!("{x} != {}", zero(from)),
        (Class::Pred, _) => {
            let one = scalar(Scalar::int(to, 1));
            format!("select({}, {one}, {x})", zero(to))
        }
        // Integers wrap to the width: the low bits, reread.
        (Class::Signed, Class::Signed) | (Class::Unsigned, Class::Unsigned) => fit(e, to, x),
        (Class::Unsigned, Class::Signed) => fit(e, to, &format!("bitcast<i32>({x})")),
        (Class::Signed, Class::Unsigned) => fit(e, to, &format!("bitcast<u32>({x})")),
        (Class::Float, Class::Float) => fit(e, to, x),
        (Class::Float, Class::Signed) => {
            e.helpers.insert(Helper::FloatToInt);
            let half = 1i64 << (to.bit_width() - 1);
            let (lo, hi) = (-half, half - 1);
            format!(
                "om_f2s({x}, {}, {}, {}, {})",
                int(lo as i32),
                int(hi as i32),
                float(lo as f32),
                // At or past the largest integer: 2^31 for s32.
                float(if hi > 1 << 24 { half as f32 } else { hi as f32 }),
            )
        }
        (Class::Float, Class::Unsigned) => {
            e.helpers.insert(Helper::FloatToUint);
            let hi = (1u64 << to.bit_width()) - 1;
            let fhi = if hi > 1 << 24 {
                (hi + 1) as f32
            } else {
                hi as f32
            };
            format!("om_f2u({x}, {hi}u, {})", float(fhi))
        }
        // Integers to floats round once, from the integer itself.
        (Class::Signed | Class::Unsigned, Class::Float) => {
            let signed = class(from) == Class::Signed;
            let value = if from.bit_width() <= 16 || to == ElementType::F16 {
                // Exact in f32 (or past f16's range whatever the rounding).
                format!("f32({x})")
            } else {
                let (helper, name) = match signed {
                    true => (Helper::IntToFloat, "om_s2f"),
                    false => (Helper::UintToFloat, "om_u2f"),
                };
                e.helpers.insert(helper);
                format!("{name}({x}, {})", to == ElementType::Bf16)
            };
            fit(e, to, &value)
        }
    }
}

/// `bitcast-convert` between types of one width: the same bits, reread.
pub fn bitcast_convert(e: &mut Emitter, from: ElementType, to: ElementType, x: &str) -> String {
    if from == to {
        return x.to_string();
    }
    let bits = types::bits(e, from, x);
    types::from_bits(e, to, &bits)
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
    scalar(op.identity(element))
}

/// `v` combined over the subgroup, on every lane, back in `element`'s range.
/// Subgroup `max` and `min` need not propagate NaN, so a NaN in any lane is
/// put back.
pub fn subgroup_combine(e: &mut Emitter, op: ReduceOp, element: ElementType, v: &str) -> String {
    let f = match op {
        ReduceOp::Add => "subgroupAdd",
        ReduceOp::Multiply => "subgroupMul",
        ReduceOp::Maximum => "subgroupMax",
        ReduceOp::Minimum => "subgroupMin",
        ReduceOp::And => "subgroupAnd",
        ReduceOp::Or => "subgroupOr",
    };
    let combined = fit(e, element, &format!("{f}({v})"));
    match (op, class(element)) {
        (ReduceOp::Maximum | ReduceOp::Minimum, Class::Float) => {
            e.helpers.insert(Helper::IsNan);
            format!(
                "select({combined}, {}, subgroupAny(om_isnan({v})))",
                float(f32::NAN)
            )
        }
        _ => combined,
    }
}

/// `reduce-precision` of `x`, on its bits as XLA's elemental emitter computes
/// it (see `hlo::reduce_precision`): the mantissa rounded to nearest even,
/// then exponents beyond the narrow range a signed infinity and those at or
/// below its smallest normal exponent a signed zero; a NaN kept.
pub fn reduce_precision(
    e: &mut Emitter,
    element: ElementType,
    exponent_bits: u32,
    mantissa_bits: u32,
    x: &str,
) -> String {
    let (src_exponent, src_mantissa) = float_format(element).expect("a float type");
    let width = element.bit_width();
    let word = types::bits(e, element, x);
    let bits = e.bind("u32", &word);
    let exp_mask = ((1u32 << src_exponent) - 1) << src_mantissa;
    let mut r = bits.clone();
    if mantissa_bits < src_mantissa {
        let shift = src_mantissa - mantissa_bits;
        let last_bit = 1u32 << shift;
        let keep = !(last_bit - 1) & (u32::MAX >> (32 - width));
        let half = (last_bit >> 1) - 1;
        // Half the last kept bit, less one, plus that bit: ties go to even.
        r = e.bind(
            "u32",
            &format!("({r} + {half}u + (({r} >> {shift}u) & 1u)) & {keep:#x}u"),
        );
    }
    if exponent_bits < src_exponent {
        let sign = e.bind("u32", &format!("{r} & {:#x}u", 1u32 << (width - 1)));
        let exponent = e.bind("u32", &format!("{r} & {exp_mask:#x}u"));
        let bias = (1u32 << (src_exponent - 1)) - 1;
        let reduced_bias = (1u32 << (exponent_bits - 1)) - 1;
        let max = (bias + reduced_bias) << src_mantissa;
        let min = (bias - reduced_bias) << src_mantissa;
        r = e.bind(
            "u32",
            &format!("select({r}, {sign} | {exp_mask:#x}u, {exponent} > {max:#x}u)"),
        );
        r = e.bind(
            "u32",
            &format!("select({r}, {sign}, {exponent} <= {min:#x}u)"),
        );
    }
    let mantissa_mask = (1u32 << src_mantissa) - 1;
    let nan = format!(
        "({bits} & {exp_mask:#x}u) == {exp_mask:#x}u && ({bits} & {mantissa_mask:#x}u) != 0u"
    );
    let r = e.bind("u32", &format!("select({r}, {bits}, {nan})"));
    types::from_bits(e, element, &r)
}
