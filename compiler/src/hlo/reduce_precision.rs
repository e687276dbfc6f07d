//! `reduce-precision`: rounds a float to the nearest value (ties to even) of a
//! narrower format with `exponent_bits` and `mantissa_bits`, kept in the
//! operand's type. It follows XLA's elemental emitter bit for bit: the
//! mantissa is rounded first, then exponents beyond the narrow format's range
//! become a signed infinity, and those at or below its smallest normal
//! exponent a signed zero (the narrow format has no subnormals); a NaN stays
//! the same NaN, even with no mantissa bit left to carry it (XLA:CPU's result
//! today; XLA's older emitter made that one an infinity).

use super::shape::ElementType;

/// Exponent and mantissa bits of a float type.
pub fn float_format(element: ElementType) -> Option<(u32, u32)> {
    match element {
        ElementType::F16 => Some((5, 10)),
        ElementType::Bf16 => Some((8, 7)),
        ElementType::F32 => Some((8, 23)),
        ElementType::F64 => Some((11, 52)),
        _ => None,
    }
}

/// The bits of `bits`, an element of float type `element`, reduced to
/// `exponent_bits` and `mantissa_bits`.
pub fn reduce_precision(
    bits: u64,
    element: ElementType,
    exponent_bits: u32,
    mantissa_bits: u32,
) -> u64 {
    let (src_exponent, src_mantissa) =
        float_format(element).expect("the shape rule admits floats only");
    let width = element.bit_width();
    let exp_mask = ((1u64 << src_exponent) - 1) << src_mantissa;
    let mantissa_mask = (1u64 << src_mantissa) - 1;
    let is_nan = bits & exp_mask == exp_mask && bits & mantissa_mask != 0;
    let mut x = bits;
    if mantissa_bits < src_mantissa {
        let shift = src_mantissa - mantissa_bits;
        let last_bit = 1u64 << shift;
        let bias = (last_bit >> 1) - 1 + ((x & last_bit) >> shift);
        // Wraps within the element's width as the emitter's integer add does.
        x = x.wrapping_add(bias) & !(last_bit - 1) & width_mask(width);
    }
    if exponent_bits < src_exponent {
        let sign = x & (1u64 << (width - 1));
        let exponent_bias = (1u64 << (src_exponent - 1)) - 1;
        let reduced_bias = (1u64 << (exponent_bits - 1)) - 1;
        let exponent = x & exp_mask;
        if exponent > (exponent_bias + reduced_bias) << src_mantissa {
            x = sign | exp_mask;
        } else if exponent <= (exponent_bias - reduced_bias) << src_mantissa {
            x = sign;
        }
    }
    if is_nan { bits } else { x }
}

fn width_mask(width: u32) -> u64 {
    if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_reduced(x: f32, e: u32, m: u32) -> f32 {
        f32::from_bits(reduce_precision(x.to_bits() as u64, ElementType::F32, e, m) as u32)
    }

    #[test]
    fn rounds_to_nearest_even() {
        // bf16's widths: 1 + 2^-8 is a tie, rounded to the even 1.0.
        assert_eq!(f32_reduced(1.0 + 2f32.powi(-8), 8, 7), 1.0);
        assert_eq!(
            f32_reduced(1.0 + 3.0 * 2f32.powi(-8), 8, 7),
            1.0 + 2f32.powi(-6)
        );
    }

    #[test]
    fn overflow_underflow_and_nan() {
        assert_eq!(f32_reduced(70000.0, 5, 10), f32::INFINITY);
        assert_eq!(f32_reduced(-70000.0, 5, 10), f32::NEG_INFINITY);
        assert_eq!(f32_reduced(1e-6, 5, 10).to_bits(), 0);
        assert_eq!(f32_reduced(-1e-6, 5, 10).to_bits(), (-0.0f32).to_bits());
        assert!(f32_reduced(f32::NAN, 5, 10).is_nan());
        assert!(f32_reduced(f32::NAN, 5, 0).is_nan());
    }
}
