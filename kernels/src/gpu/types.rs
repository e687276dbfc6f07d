//! How each element type lives on the device: one 32-bit word per element.
//!
//! `s8`/`s16`/`s32` are `i32`s (the narrow ones sign-extended), `u8`/`u16`/`u32`
//! are `u32`s (zero-extended), `f16`/`bf16`/`f32` are `f32` values, `pred` a
//! `u32` 0 or 1 in memory and a `bool` in registers. Shaders compute in the
//! 32-bit type and bring every result that can leave its type's range back
//! into it ([`fit`]): narrow integers wrap (sign-extended or masked), `f16` and
//! `bf16` round to nearest even (`om_f16`, `om_bf16`), as the interpreter's
//! `hlo::Element` computes them in `f32` and rounds after every op. The
//! 64-bit types have no device form: the runtime refuses them before
//! compiling.
//!
//! [`to_word`] and [`from_word`] are the one definition of the device form,
//! for the runtime's uploads and readbacks and the shaders' constants.

use omelet_compiler::hlo::ElementType;

use super::emit::Emitter;
use super::helpers::Helper;

/// The register families the element types compute in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    Pred,
    /// `s8`, `s16`, `s32` in `i32`.
    Signed,
    /// `u8`, `u16`, `u32` in `u32`.
    Unsigned,
    /// `f16`, `bf16`, `f32` in `f32`.
    Float,
}

/// Whether the GPU backend computes with `element` (every type but the 64-bit
/// ones).
pub fn supported(element: ElementType) -> bool {
    element.bit_width() <= 32
}

pub(super) fn class(element: ElementType) -> Class {
    use ElementType as E;
    match element {
        E::Pred => Class::Pred,
        E::S8 | E::S16 | E::S32 => Class::Signed,
        E::U8 | E::U16 | E::U32 => Class::Unsigned,
        E::F16 | E::Bf16 | E::F32 => Class::Float,
        E::S64 | E::U64 | E::F64 => {
            unreachable!("the gpu backend refuses {element} before compiling")
        }
    }
}

/// The WGSL type of an element in registers.
pub(super) fn reg_type(element: ElementType) -> &'static str {
    match class(element) {
        Class::Pred => "bool",
        Class::Signed => "i32",
        Class::Unsigned => "u32",
        Class::Float => "f32",
    }
}

/// The WGSL type of an element in a storage buffer.
pub(super) fn storage_type(element: ElementType) -> &'static str {
    match class(element) {
        Class::Pred | Class::Unsigned => "u32",
        Class::Signed => "i32",
        Class::Float => "f32",
    }
}

/// `x`, a result computed in `element`'s register type, brought back into
/// `element`: narrow integers wrapped to their width, `f16` and `bf16`
/// rounded to nearest even.
pub(super) fn fit(e: &mut Emitter, element: ElementType, x: &str) -> String {
    use ElementType as E;
    match element {
        E::S8 => format!("extractBits({x}, 0u, 8u)"),
        E::S16 => format!("extractBits({x}, 0u, 16u)"),
        E::U8 => format!("(({x}) & 0xffu)"),
        E::U16 => format!("(({x}) & 0xffffu)"),
        E::F16 => {
            e.helpers.insert(Helper::RoundF16);
            format!("om_f16({x})")
        }
        E::Bf16 => {
            e.helpers.insert(Helper::RoundBf16);
            format!("om_bf16({x})")
        }
        _ => x.to_string(),
    }
}

/// `x` (in registers) as an unsigned word of `element`'s bits, zero-extended
/// from its width (for bit counts, logical shifts and `bitcast-convert`).
pub(super) fn bits(e: &mut Emitter, element: ElementType, x: &str) -> String {
    use ElementType as E;
    match element {
        E::S8 => format!("(bitcast<u32>({x}) & 0xffu)"),
        E::S16 => format!("(bitcast<u32>({x}) & 0xffffu)"),
        E::S32 | E::F32 => format!("bitcast<u32>({x})"),
        E::F16 => {
            e.helpers.insert(Helper::F16Bits);
            format!("om_f16_bits({x})")
        }
        E::Bf16 => format!("(bitcast<u32>({x}) >> 16u)"),
        _ => x.to_string(),
    }
}

/// The element of `element` whose bits are the low bits of the `u32` `w`
/// (the inverse of [`bits`]).
pub(super) fn from_bits(e: &mut Emitter, element: ElementType, w: &str) -> String {
    use ElementType as E;
    match element {
        E::S8 => format!("extractBits(bitcast<i32>({w}), 0u, 8u)"),
        E::S16 => format!("extractBits(bitcast<i32>({w}), 0u, 16u)"),
        E::S32 => format!("bitcast<i32>({w})"),
        E::F32 => format!("bitcast<f32>({w})"),
        E::U8 => format!("(({w}) & 0xffu)"),
        E::U16 => format!("(({w}) & 0xffffu)"),
        E::F16 => {
            e.helpers.insert(Helper::F16Value);
            format!("om_f16_value(({w}) & 0xffffu)")
        }
        E::Bf16 => format!("bitcast<f32>(({w}) << 16u)"),
        _ => w.to_string(),
    }
}

/// The device word of an element given by its bits (as `Scalar` holds them).
pub fn to_word(element: ElementType, bits: u64) -> u32 {
    use ElementType as E;
    match element {
        E::Pred => u32::from(bits != 0),
        E::S8 => bits as u8 as i8 as i32 as u32,
        E::S16 => bits as u16 as i16 as i32 as u32,
        E::F16 => f16_word(bits as u16),
        E::Bf16 => (bits as u32 & 0xffff) << 16,
        _ => bits as u32,
    }
}

/// The bits of the element of `element` whose device word is `word`.
pub fn from_word(element: ElementType, word: u32) -> u64 {
    use ElementType as E;
    let bits = match element {
        E::Pred => u32::from(word != 0),
        E::S8 | E::U8 => word & 0xff,
        E::S16 | E::U16 => word & 0xffff,
        E::F16 => u32::from(f16_bits(word)),
        E::Bf16 => word >> 16,
        _ => word,
    };
    u64::from(bits)
}

/// An `f16`'s value as `f32` bits. A NaN keeps its payload, shifted (and so
/// whether it is quiet: `half`'s conversion would quiet it), so that a
/// `bitcast-convert` of an input NaN gives its own bits back.
fn f16_word(h: u16) -> u32 {
    let h = u32::from(h);
    let sign = (h & 0x8000) << 16;
    let (exponent, mantissa) = ((h >> 10) & 0x1f, h & 0x3ff);
    match exponent {
        0x1f => sign | 0x7f80_0000 | (mantissa << 13),
        0 => sign | (mantissa as f32 * f32::from_bits(0x3380_0000)).to_bits(),
        _ => sign | ((exponent + 112) << 23) | (mantissa << 13),
    }
}

/// The `f16` bits of an `f32` value that `f16` represents (the shaders round
/// every `f16` result): the inverse of [`f16_word`], as `om_f16_bits` computes
/// it on the device.
fn f16_bits(word: u32) -> u16 {
    let sign = (word >> 16) & 0x8000;
    let magnitude = word & 0x7fff_ffff;
    let bits = if magnitude > 0x7f80_0000 {
        // A NaN whose payload lies below f16's bits stays a NaN.
        let payload = (magnitude >> 13) & 0x3ff;
        sign | 0x7c00 | if payload == 0 { 0x200 } else { payload }
    } else if magnitude == 0x7f80_0000 {
        sign | 0x7c00
    } else if magnitude < 0x3880_0000 {
        sign | (f32::from_bits(magnitude) * 16_777_216.0) as u32
    } else {
        sign | (((magnitude >> 23) - 112) << 10) | ((magnitude >> 13) & 0x3ff)
    };
    bits as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use omelet_compiler::half::f16;

    #[test]
    fn every_f16_takes_a_word_and_comes_back() {
        for h in 0..=u16::MAX {
            let word = to_word(ElementType::F16, u64::from(h));
            assert_eq!(from_word(ElementType::F16, word), u64::from(h), "{h:#06x}");
            let value = f16::from_bits(h);
            if !value.is_nan() {
                assert_eq!(f32::from_bits(word), value.to_f32(), "{h:#06x}");
            }
        }
    }

    #[test]
    fn narrow_integers_widen_by_their_sign() {
        assert_eq!(to_word(ElementType::S8, 0x80), 0xffff_ff80);
        assert_eq!(to_word(ElementType::U8, 0x80), 0x80);
        assert_eq!(to_word(ElementType::S16, 0xffff), u32::MAX);
        assert_eq!(from_word(ElementType::S16, u32::MAX), 0xffff);
        assert_eq!(to_word(ElementType::Bf16, 0x3f80), 0x3f80_0000);
        assert_eq!(from_word(ElementType::Bf16, 0x3f80_0000), 0x3f80);
        assert_eq!(to_word(ElementType::Pred, 1), 1);
    }
}
