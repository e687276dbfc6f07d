//! `convert` and `bitcast-convert` between every pair of element types, and the
//! 16-bit float roundings they and every `f16`/`bf16` op share, in integer ops.

use super::*;

/// XLA's `convert`: float to integer truncates toward zero and saturates (NaN
/// gives 0); integers wrap to a narrower width; anything to pred is `!= 0`; pred
/// to a number is 0 or 1; every conversion to a float rounds once to nearest
/// even (to `f16`/`bf16` through an f32 rounded to odd, which then rounds as
/// if from the source directly).
pub fn convert(b: &mut FunctionBuilder, from: ElementType, to: ElementType, x: Value) -> Value {
    let lanes = lanes_of(b, x);
    if from == to {
        return x;
    }
    match (from.kind(), to.kind()) {
        (Kind::Float, Kind::Pred) => {
            let zero = fconst(b, x, 0.0);
            fcmp(b, FloatCC::NotEqual, x, zero)
        }
        (_, Kind::Pred) => {
            let zero = iconst(b, x, 0);
            icmp(b, IntCC::NotEqual, x, zero)
        }
        (Kind::Pred, Kind::Float) => {
            let one = constant(b, to, lanes, Scalar::int(to, 1).bits);
            let zero = constant(b, to, lanes, 0);
            select(b, x, one, zero)
        }
        (Kind::Pred, _) => {
            let one = b.ins().ineg(x);
            let ty = reg_type(to, lanes);
            resize(b, false, ty, one)
        }
        (Kind::Float, Kind::Float) => float_to_float(b, from, to, x),
        (Kind::Float, kind) => {
            let ty = reg_type(to, lanes);
            let unsigned = kind == Kind::Unsigned;
            if ty.lane_type().bits() >= 32 {
                return if unsigned {
                    b.ins().fcvt_to_uint_sat(ty, x)
                } else {
                    b.ins().fcvt_to_sint_sat(ty, x)
                };
            }
            // Saturate to 32 bits, then to the narrow type's range.
            let bits = to.bit_width();
            let v = if unsigned {
                let v = b.ins().fcvt_to_uint_sat(types::I32, x);
                let max = b.ins().iconst(types::I32, (1i64 << bits) - 1);
                b.ins().umin(v, max)
            } else {
                let v = b.ins().fcvt_to_sint_sat(types::I32, x);
                let max = b.ins().iconst(types::I32, (1i64 << (bits - 1)) - 1);
                let min = b.ins().iconst(types::I32, -(1i64 << (bits - 1)));
                let v = b.ins().smin(v, max);
                b.ins().smax(v, min)
            };
            b.ins().ireduce(ty, v)
        }
        (from_kind, Kind::Float) => {
            let signed = from_kind == Kind::Signed;
            match to {
                ElementType::F32 | ElementType::F64 => {
                    let x = if from.bit_width() < 32 {
                        resize(b, signed, types::I32, x)
                    } else {
                        x
                    };
                    let ty = reg_type(to, lanes);
                    if signed {
                        b.ins().fcvt_from_sint(ty, x)
                    } else {
                        b.ins().fcvt_from_uint(ty, x)
                    }
                }
                _ => {
                    let wide = extend64(b, signed, x);
                    let f = if from.bit_width() <= 32 {
                        // Exact: every value of 32 bits or fewer is an f64.
                        b.ins().fcvt_from_sint(types::F64, wide)
                    } else {
                        int_to_f64_odd(b, signed, wide)
                    };
                    let f = f64_to_f32_odd(b, f);
                    round(b, to, f)
                }
            }
        }
        (from_kind, _) => {
            let ty = reg_type(to, lanes);
            resize(b, from_kind == Kind::Signed, ty, x)
        }
    }
}

/// An integer register at the type `ty`: wrapped, or extended by `signed`.
fn resize(b: &mut FunctionBuilder, signed: bool, ty: Type, x: Value) -> Value {
    let from = b.func.dfg.value_type(x);
    if from.lane_bits() == ty.lane_bits() {
        x
    } else if from.lane_bits() > ty.lane_bits() {
        b.ins().ireduce(ty, x)
    } else if signed {
        b.ins().sextend(ty, x)
    } else {
        b.ins().uextend(ty, x)
    }
}

fn float_to_float(b: &mut FunctionBuilder, from: ElementType, to: ElementType, x: Value) -> Value {
    match (from, to) {
        (ElementType::F64, ElementType::F32) => b.ins().fdemote(types::F32, x),
        (ElementType::F64, _) => {
            let f = f64_to_f32_odd(b, x);
            round(b, to, f)
        }
        (_, ElementType::F64) => b.ins().fpromote(types::F64, x),
        // An f16 or bf16 is an f32 already.
        (_, ElementType::F32) => x,
        _ => round(b, to, x),
    }
}

/// The same bits read as `to` (of `from`'s width).
pub fn bitcast_convert(
    b: &mut FunctionBuilder,
    from: ElementType,
    to: ElementType,
    x: Value,
) -> Value {
    if from == to {
        return x;
    }
    let lanes = lanes_of(b, x);
    let bits = match from {
        ElementType::F32 | ElementType::F64 => {
            let ty = b.func.dfg.value_type(x).as_int();
            b.ins().bitcast(ty, MemFlagsData::new(), x)
        }
        ElementType::F16 | ElementType::Bf16 => {
            let bits = f32_to_half(b, from, x);
            b.ins().ireduce(types::I16, bits)
        }
        _ => x,
    };
    match to {
        ElementType::F32 | ElementType::F64 => {
            b.ins()
                .bitcast(reg_type(to, lanes), MemFlagsData::new(), bits)
        }
        ElementType::F16 | ElementType::Bf16 => {
            let wide = b.ins().uextend(types::I32, bits);
            half_to_f32(b, to, wide)
        }
        _ => bits,
    }
}

/// An f32 (`F32`) to the bits of the nearest `f16` or `bf16` (ties to even), in
/// the low half of an `I32`: `half`'s `from_f32`, NaN kept quiet with its top
/// payload bits, in integer ops.
pub(super) fn f32_to_half(b: &mut FunctionBuilder, element: ElementType, x: Value) -> Value {
    let bits = b.ins().bitcast(types::I32, MemFlagsData::new(), x);
    let abs = b.ins().band_imm_s(bits, 0x7fff_ffff);
    let nan = b
        .ins()
        .icmp_imm_s(IntCC::UnsignedGreaterThan, abs, 0x7f80_0000);
    if element == ElementType::Bf16 {
        let high = b.ins().ushr_imm_s(bits, 16);
        let quiet = b.ins().bor_imm_s(high, 0x40);
        let lsb = b.ins().band_imm_s(high, 1);
        let biased = b.ins().iadd_imm_s(bits, 0x7fff);
        let biased = b.ins().iadd(biased, lsb);
        let rounded = b.ins().ushr_imm_s(biased, 16);
        return b.ins().select(nan, quiet, rounded);
    }
    let high = b.ins().ushr_imm_s(bits, 16);
    let sign = b.ins().band_imm_s(high, 0x8000);
    // Normal results: drop 13 mantissa bits, ties to even, rebias.
    let lsb = b.ins().ushr_imm_s(abs, 13);
    let lsb = b.ins().band_imm_s(lsb, 1);
    let n = b.ins().iadd_imm_s(abs, 0xfff - (112 << 23));
    let n = b.ins().iadd(n, lsb);
    let normal = b.ins().ushr_imm_s(n, 13);
    // Subnormal results (below 2^-14): the mantissa with its leading one,
    // shifted right by 126 - exponent (at most 31), ties to even.
    let e = b.ins().ushr_imm_s(abs, 23);
    let m = b.ins().band_imm_s(abs, 0x7f_ffff);
    let m = b.ins().bor_imm_s(m, 0x80_0000);
    let c126 = b.ins().iconst(types::I32, 126);
    let s = b.ins().isub(c126, e);
    let c31 = b.ins().iconst(types::I32, 31);
    let s = b.ins().umin(s, c31);
    let q = b.ins().ushr(m, s);
    let one = b.ins().iconst(types::I32, 1);
    let unit = b.ins().ishl(one, s);
    let low_mask = b.ins().iadd_imm_s(unit, -1);
    let rem = b.ins().band(m, low_mask);
    let halfway = b.ins().ushr_imm_s(unit, 1);
    let above = b.ins().icmp(IntCC::UnsignedGreaterThan, rem, halfway);
    let tie = b.ins().icmp(IntCC::Equal, rem, halfway);
    let odd = b.ins().band_imm_s(q, 1);
    let odd = b.ins().icmp_imm_s(IntCC::NotEqual, odd, 0);
    let tie_up = b.ins().band(tie, odd);
    let up = b.ins().bor(above, tie_up);
    let up = b.ins().uextend(types::I32, up);
    let sub = b.ins().iadd(q, up);
    let tiny = b
        .ins()
        .icmp_imm_s(IntCC::UnsignedLessThan, abs, 0x3880_0000);
    let finite = b.ins().select(tiny, sub, normal);
    // 65520 and above round to infinity.
    let huge = b
        .ins()
        .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, abs, 0x477f_f000);
    let inf = b.ins().iconst(types::I32, 0x7c00);
    let finite = b.ins().select(huge, inf, finite);
    let payload = b.ins().ushr_imm_s(abs, 13);
    let payload = b.ins().band_imm_s(payload, 0x3ff);
    let quiet = b.ins().bor_imm_s(payload, 0x7e00);
    let magnitude = b.ins().select(nan, quiet, finite);
    b.ins().bor(magnitude, sign)
}

/// The bits of an `f16` or `bf16` (the low half of an `I32`) to its value as an
/// `F32` (exact; a NaN made quiet, as `half`'s `to_f32` does).
pub(super) fn half_to_f32(b: &mut FunctionBuilder, element: ElementType, bits: Value) -> Value {
    if element == ElementType::Bf16 {
        let wide = b.ins().ishl_imm_s(bits, 16);
        return b.ins().bitcast(types::F32, MemFlagsData::new(), wide);
    }
    let sign = b.ins().band_imm_s(bits, 0x8000);
    let sign = b.ins().ishl_imm_s(sign, 16);
    let e = b.ins().band_imm_s(bits, 0x7c00);
    let m = b.ins().band_imm_s(bits, 0x3ff);
    let magnitude = b.ins().band_imm_s(bits, 0x7fff);
    let normal = b.ins().ishl_imm_s(magnitude, 13);
    let normal = b.ins().iadd_imm_s(normal, 112 << 23);
    let payload = b.ins().ishl_imm_s(m, 13);
    let nan_bit = b.ins().icmp_imm_s(IntCC::NotEqual, m, 0);
    let quiet = b.ins().iconst(types::I32, 0x7fc0_0000);
    let inf = b.ins().iconst(types::I32, 0x7f80_0000);
    let top = b.ins().select(nan_bit, quiet, inf);
    let special = b.ins().bor(top, payload);
    // Subnormals: m · 2^-24, exact in f32.
    let mf = b.ins().fcvt_from_sint(types::F32, m);
    let scale = b.ins().f32const(2f32.powi(-24));
    let sub = b.ins().fmul(mf, scale);
    let sub = b.ins().bitcast(types::I32, MemFlagsData::new(), sub);
    let is_sub = b.ins().icmp_imm_s(IntCC::Equal, e, 0);
    let is_special = b.ins().icmp_imm_s(IntCC::Equal, e, 0x7c00);
    let v = b.ins().select(is_special, special, normal);
    let v = b.ins().select(is_sub, sub, v);
    let v = b.ins().bor(v, sign);
    b.ins().bitcast(types::F32, MemFlagsData::new(), v)
}

/// An f64 to f32 rounded to odd (truncated, the last bit set if any bit was
/// dropped): rounding that to `f16`/`bf16` rounds as if from the f64.
fn f64_to_f32_odd(b: &mut FunctionBuilder, x: Value) -> Value {
    let nearest = b.ins().fdemote(types::F32, x);
    let back = b.ins().fpromote(types::F64, nearest);
    let exact = b.ins().fcmp(FloatCC::Equal, back, x);
    let magnitude = b.ins().fabs(nearest);
    let inf = b.ins().f32const(f32::INFINITY);
    let finite = b.ins().fcmp(FloatCC::LessThan, magnitude, inf);
    let bits = b.ins().bitcast(types::I32, MemFlagsData::new(), nearest);
    let back_abs = b.ins().fabs(back);
    let x_abs = b.ins().fabs(x);
    let above = b.ins().fcmp(FloatCC::GreaterThan, back_abs, x_abs);
    let below = b.ins().iadd_imm_s(bits, -1);
    let truncated = b.ins().select(above, below, bits);
    let odd = b.ins().bor_imm_s(truncated, 1);
    let odd = b.ins().bitcast(types::F32, MemFlagsData::new(), odd);
    let inexact = b.ins().bnot(exact);
    let adjust = b.ins().band(inexact, finite);
    b.ins().select(adjust, odd, nearest)
}

/// A 64-bit integer to f64 rounded to odd: exact below 2^53, otherwise the
/// dropped bits folded into the last one.
fn int_to_f64_odd(b: &mut FunctionBuilder, signed: bool, x: Value) -> Value {
    let negative = if signed {
        b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0)
    } else {
        b.ins().iconst(types::I8, 0)
    };
    let minus = b.ins().ineg(x);
    // `MIN`'s magnitude, 2^63, is right read as unsigned.
    let magnitude = b.ins().select(negative, minus, x);
    let lz = b.ins().clz(magnitude);
    let eleven = b.ins().iconst(types::I64, 11);
    let excess = b.ins().isub(eleven, lz);
    let zero = b.ins().iconst(types::I64, 0);
    let excess = b.ins().smax(excess, zero);
    let kept = b.ins().ushr(magnitude, excess);
    let back = b.ins().ishl(kept, excess);
    let sticky = b.ins().icmp(IntCC::NotEqual, back, magnitude);
    let sticky = b.ins().uextend(types::I64, sticky);
    let kept = b.ins().bor(kept, sticky);
    let value = b.ins().fcvt_from_uint(types::F64, kept);
    let exponent = b.ins().iadd_imm_s(excess, 1023);
    let exponent = b.ins().ishl_imm_s(exponent, 52);
    let scale = b.ins().bitcast(types::F64, MemFlagsData::new(), exponent);
    let value = b.ins().fmul(value, scale);
    let negated = b.ins().fneg(value);
    b.ins().select(negative, negated, value)
}
