//! `reduce-precision` on the bits of a float register, as XLA's elemental
//! emitter computes it (and `hlo::reduce_precision`, the interpreter's, says
//! in prose): round the mantissa to nearest even, then send exponents beyond
//! the narrow format's range to a signed infinity and those at or below its
//! smallest normal exponent to a signed zero; a NaN stays the same NaN.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use omelet_compiler::hlo::ElementType;
use omelet_compiler::hlo::reduce_precision::float_format;

use super::{f32_to_half, half_to_f32, icmp, iconst, select};

/// `x`, a register of float type `element`, reduced to `exponent_bits` and
/// `mantissa_bits`.
pub fn reduce_precision(
    b: &mut FunctionBuilder,
    element: ElementType,
    exponent_bits: u32,
    mantissa_bits: u32,
    x: Value,
) -> Value {
    let (src_exponent, src_mantissa) = float_format(element).expect("a float type");
    let ty = b.func.dfg.value_type(x);
    let int = ty.as_int();
    // 16-bit floats live in f32 registers: their own bits, in an i32.
    let bits = match element {
        ElementType::F16 | ElementType::Bf16 => f32_to_half(b, element, x),
        _ => b.ins().bitcast(int, MemFlagsData::new(), x),
    };
    let width = element.bit_width();
    let constant = |b: &mut FunctionBuilder, v: u64| iconst(b, bits, v as i64);
    let exp_mask = ((1u64 << src_exponent) - 1) << src_mantissa;
    let mantissa_mask = (1u64 << src_mantissa) - 1;
    let mut r = bits;
    if mantissa_bits < src_mantissa {
        let shift = src_mantissa - mantissa_bits;
        let last_bit = 1u64 << shift;
        // Half the last kept bit, less one, plus that bit: ties go to even.
        let kept = b.ins().ushr_imm_s(r, shift as i64);
        let one = constant(b, 1);
        let odd = b.ins().band(kept, one);
        let half = constant(b, (last_bit >> 1) - 1);
        let bias = b.ins().iadd(half, odd);
        let sum = b.ins().iadd(r, bias);
        let width_mask = u64::MAX >> (64 - width);
        let keep = constant(b, !(last_bit - 1) & width_mask);
        r = b.ins().band(sum, keep);
    }
    if exponent_bits < src_exponent {
        let sign_bit = constant(b, 1u64 << (width - 1));
        let sign = b.ins().band(r, sign_bit);
        let exp_bits = constant(b, exp_mask);
        let exponent = b.ins().band(r, exp_bits);
        let bias = (1u64 << (src_exponent - 1)) - 1;
        let reduced_bias = (1u64 << (exponent_bits - 1)) - 1;
        let max = constant(b, (bias + reduced_bias) << src_mantissa);
        let overflow = icmp(b, IntCC::UnsignedGreaterThan, exponent, max);
        let min = constant(b, (bias - reduced_bias) << src_mantissa);
        let underflow = icmp(b, IntCC::UnsignedLessThanOrEqual, exponent, min);
        let infinity = b.ins().bor(sign, exp_bits);
        r = select(b, overflow, infinity, r);
        r = select(b, underflow, sign, r);
    }
    let exp_bits = constant(b, exp_mask);
    let exponent = b.ins().band(bits, exp_bits);
    let all_ones = icmp(b, IntCC::Equal, exponent, exp_bits);
    let mantissa_bits_mask = constant(b, mantissa_mask);
    let mantissa = b.ins().band(bits, mantissa_bits_mask);
    let zero = constant(b, 0);
    let some_mantissa = icmp(b, IntCC::NotEqual, mantissa, zero);
    let nan = b.ins().band(all_ones, some_mantissa);
    r = select(b, nan, bits, r);
    match element {
        ElementType::F16 | ElementType::Bf16 => half_to_f32(b, element, r),
        _ => b.ins().bitcast(ty, MemFlagsData::new(), r),
    }
}
