//! Shapes and constant literals of the HLO text, checked and converted.

use omelet_grammar::hlo::{DimAst, LiteralAst, ShapeAst};

use super::{MAX_ELEMENTS, MAX_RANK, err};
use crate::error::{CompileError, ErrorKind, Span};
use crate::hlo::{ArrayShape, ElementType, Kind, Literal, Number, Scalar, Shape, shape_rules};

pub(super) fn shape(ast: &ShapeAst) -> Result<Shape, CompileError> {
    match ast {
        ShapeAst::Tuple { elements, span } => {
            let arrays = elements
                .iter()
                .map(|e| match shape(e)? {
                    Shape::Array(a) => Ok(a),
                    Shape::Tuple(_) => Err(err(
                        ErrorKind::Unsupported,
                        *span,
                        "nested tuples are not supported",
                    )),
                })
                .collect::<Result<_, _>>()?;
            Ok(Shape::Tuple(arrays))
        }
        ShapeAst::Array {
            element,
            dims,
            layout,
            layout_tail,
            span,
        } => {
            let element = element_type(element, *span)?;
            if let Some(tail) = layout_tail {
                check_layout_tail(tail).map_err(|e| err(ErrorKind::Unsupported, *span, e))?;
            }
            // The printer nests a constant's braces one level per dimension, and
            // what it prints must stay within the parser's nesting limit.
            if dims.len() > MAX_RANK {
                return Err(err(
                    ErrorKind::Unsupported,
                    *span,
                    format!("arrays of rank more than {MAX_RANK} are not supported"),
                ));
            }
            let mut sizes = Vec::with_capacity(dims.len());
            let mut count: u64 = 1;
            // The product of the non-zero dimensions: an array with a zero-sized
            // dimension holds nothing, but element counts and strides multiply its
            // other dimensions, and they must fit as well.
            let mut extent: u64 = 1;
            for d in dims {
                let DimAst::Static(n) = *d else {
                    return Err(err(
                        ErrorKind::Unsupported,
                        *span,
                        "dynamic dimensions are not supported",
                    ));
                };
                count = count.saturating_mul(n);
                extent = extent.saturating_mul(n.max(1));
                sizes.push(n as usize);
            }
            if extent > MAX_ELEMENTS {
                let message = if count == 0 {
                    format!(
                        "empty arrays whose other dimensions multiply to more than {MAX_ELEMENTS} are not supported"
                    )
                } else {
                    format!("arrays of more than {MAX_ELEMENTS} elements are not supported")
                };
                return Err(err(ErrorKind::Unsupported, *span, message));
            }
            let mut array = ArrayShape::new(element, sizes);
            if let Some(layout) = layout {
                array.minor_to_major = layout
                    .iter()
                    .map(|&d| d.min(u32::MAX as u64) as usize)
                    .collect();
                shape_rules::check_layout(&array).map_err(|e| err(ErrorKind::Shape, *span, e))?;
            }
            Ok(Shape::Array(array))
        }
    }
}

/// An element type by its name. XLA's other types are refused by name: complex
/// numbers, tokens and the narrow floats (`f8e4m3fn`, ...) are not Omelet's.
fn element_type(name: &str, span: Span) -> Result<ElementType, CompileError> {
    if let Some(element) = ElementType::from_name(name) {
        return Ok(element);
    }
    let (kind, what) = match name {
        "c64" | "c128" => (ErrorKind::Unsupported, "the complex type"),
        "token" => (ErrorKind::Unsupported, "the type"),
        _ => (ErrorKind::Dtype, "element type"),
    };
    Err(err(
        kind,
        span,
        format!(
            "{what} {name} is not supported (pred, s8 to s64, u8 to u64, f16, bf16, f32 and f64 are)"
        ),
    ))
}

/// What a layout may say after its `:`. Tiles (`T(8,128)(2,1)`) and a memory
/// space (`S(1)`) only say where each element lies in memory, which Omelet
/// decides itself, so they are dropped; anything else (element sizes `E(4)`,
/// sparse dimension types `D(C)`, pointer and index types) could change what
/// the bytes mean, and is refused by name.
fn check_layout_tail(tail: &str) -> Result<(), String> {
    let mut rest = tail.trim_start_matches(':').trim();
    while !rest.is_empty() {
        let (tag, groups) = match rest.as_bytes()[0] {
            b'T' => ('T', usize::MAX),
            b'S' => ('S', 1),
            _ => {
                return Err(format!(
                    "the layout annotation `{rest}` is not supported (tiles T(..) and memory spaces S(..) are ignored)"
                ));
            }
        };
        rest = &rest[1..];
        let mut taken = 0;
        while taken < groups && rest.starts_with('(') {
            let close = rest
                .find(')')
                .ok_or_else(|| format!("the layout annotation `{tail}` is not closed"))?;
            rest = &rest[close + 1..];
            taken += 1;
        }
        if taken == 0 {
            return Err(format!(
                "the layout annotation {tag} takes (..) in `{tail}`"
            ));
        }
        rest = rest.trim_start();
    }
    Ok(())
}

pub(super) fn literal(ast: &LiteralAst, shape: &Shape) -> Result<Literal, CompileError> {
    let Shape::Array(array) = shape else {
        return Err(err(
            ErrorKind::Unsupported,
            literal_span(ast),
            format!("a constant of tuple shape {shape} is not supported (constants are arrays)"),
        ));
    };
    let mut scalars = Vec::new();
    flatten(ast, &mut scalars)?;
    // XLA's parser insists that a list nests as the shape does, and the printer
    // writes it so: a few bytes of `{}` must not stand for billions of empty rows.
    // (A wrong element count is the shape rule's to report.)
    if matches!(ast, LiteralAst::List(..))
        && scalars.len() == array.element_count()
        && !nests_as(ast, &array.dims)
    {
        return Err(err(
            ErrorKind::Shape,
            literal_span(ast),
            format!(
                "the literal's braces do not fit {}: each dimension takes one level of {{...}}",
                array.logical_text()
            ),
        ));
    }
    let bad = |text: &str, span: Span| {
        err(
            ErrorKind::Syntax,
            span,
            format!("{text} is not a valid {} value", array.element),
        )
    };
    let element = array.element;
    let values = scalars
        .iter()
        .map(|&(text, span)| scalar(text, element).ok_or_else(|| bad(text, span)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Literal::from_scalars(element, values))
}

/// One element as XLA writes it: integers in range of the type, `true`/`false`
/// (or 1/0) for `pred`, floats with `inf`, `nan` and exponents, rounded once to
/// the type.
fn scalar(text: &str, element: ElementType) -> Option<Scalar> {
    let number = match element.kind() {
        Kind::Pred => Number::Bool(match text {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return None,
        }),
        Kind::Signed | Kind::Unsigned => {
            let value: i128 = text.parse().ok()?;
            // The value must fit the type: XLA's parser rejects what would wrap.
            let bits = element.bit_width();
            let fits = if element.kind() == Kind::Signed {
                value >= -(1i128 << (bits - 1)) && value < 1i128 << (bits - 1)
            } else {
                value >= 0 && value < 1i128 << bits
            };
            if !fits {
                return None;
            }
            Number::Int(value)
        }
        // f32 text reads directly, as it always has: a decimal rounded to f64
        // first could round to an f32 midpoint.
        Kind::Float if text.trim_start_matches('-').starts_with("nan(") => {
            return nan_with_payload(text, element);
        }
        Kind::Float if element == ElementType::F32 => {
            return Some(Scalar::f32(parse_float(text)?));
        }
        Kind::Float => Number::Float(parse_float(text)?),
    };
    Some(Scalar::from_number(element, number))
}

/// `nan(0x..)` or `-nan(0x..)`: a NaN whose significand is the payload, as XLA
/// writes a NaN other than the default one. The payload must fit the type's
/// significand and not be zero (that would be an infinity).
fn nan_with_payload(text: &str, element: ElementType) -> Option<Scalar> {
    let negative = text.starts_with('-');
    let hex = text
        .trim_start_matches('-')
        .strip_prefix("nan(0x")?
        .strip_suffix(')')?;
    let payload = u64::from_str_radix(hex, 16).ok()?;
    let significand: u32 = match element {
        ElementType::F16 => 10,
        ElementType::Bf16 => 7,
        ElementType::F32 => 23,
        ElementType::F64 => 52,
        _ => return None,
    };
    let width = element.bit_width();
    if payload == 0 || payload >> significand != 0 {
        return None;
    }
    let exponent = ((1u64 << (width - 1 - significand)) - 1) << significand;
    let sign = u64::from(negative) << (width - 1);
    Some(Scalar {
        element,
        bits: sign | exponent | payload,
    })
}

fn flatten<'a>(ast: &'a LiteralAst, out: &mut Vec<(&'a str, Span)>) -> Result<(), CompileError> {
    match ast {
        LiteralAst::Scalar(text, span) => out.push((text, *span)),
        LiteralAst::List(items, _) => items.iter().try_for_each(|i| flatten(i, out))?,
        LiteralAst::Elided(span) => {
            return Err(err(
                ErrorKind::Unsupported,
                *span,
                "the constant's data was elided (`{...}`)",
            ));
        }
    }
    Ok(())
}

/// Whether a literal nests as XLA writes an array of `dims`: one level of braces per
/// dimension, down to the first zero-sized one, whose list is empty.
fn nests_as(ast: &LiteralAst, dims: &[usize]) -> bool {
    match (ast, dims) {
        (LiteralAst::Scalar(..), []) => true,
        (LiteralAst::List(items, _), [n, inner @ ..]) => {
            items.len() == *n && items.iter().all(|item| nests_as(item, inner))
        }
        _ => false,
    }
}

fn literal_span(ast: &LiteralAst) -> Span {
    match ast {
        LiteralAst::Scalar(_, s) | LiteralAst::List(_, s) | LiteralAst::Elided(s) => *s,
    }
}

/// A float with XLA's `inf` and `nan`. (`f16` and `bf16` text is read as an f64
/// and rounded once more; XLA prints them exactly.)
fn parse_float<F: std::str::FromStr + std::ops::Neg<Output = F>>(text: &str) -> Option<F> {
    let negative = text.starts_with('-');
    let magnitude: F = match text.trim_start_matches('-') {
        "nan" => "NaN".parse().ok()?,
        "inf" => "inf".parse().ok()?,
        _ => return text.parse().ok(),
    };
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` read as one `element`, by its bits.
    fn bits(text: &str, element: ElementType) -> Option<u64> {
        scalar(text, element).map(|s| s.bits)
    }

    #[test]
    fn nans_keep_their_sign_and_payload() {
        assert_eq!(bits("nan(0x1)", ElementType::F32), Some(0x7f80_0001));
        assert_eq!(bits("-nan(0x400000)", ElementType::F32), Some(0xffc0_0000));
        assert_eq!(bits("nan(0x3ff)", ElementType::F16), Some(0x7fff));
        assert_eq!(bits("-nan(0x1)", ElementType::Bf16), Some(0xff81));
        assert_eq!(
            bits("nan(0x8000000000000)", ElementType::F64),
            Some(0x7ff8 << 48)
        );
        assert_eq!(bits("-nan", ElementType::F32), Some(0xffc0_0000));
        assert_eq!(bits("nan", ElementType::F16), Some(0x7e00));
        // A payload must fit the significand, and zero would be an infinity.
        assert_eq!(bits("nan(0x400)", ElementType::F16), None);
        assert_eq!(bits("nan(0x0)", ElementType::F32), None);
        assert_eq!(bits("nan(0x1)", ElementType::S32), None);
    }

    #[test]
    fn integers_take_their_whole_range() {
        assert_eq!(
            bits("18446744073709551615", ElementType::U64),
            Some(u64::MAX)
        );
        assert_eq!(
            bits("9223372036854775809", ElementType::U64),
            Some(9223372036854775809)
        );
        assert_eq!(bits("18446744073709551616", ElementType::U64), None);
        assert_eq!(bits("9223372036854775808", ElementType::S64), None);
        assert_eq!(
            bits("-9223372036854775808", ElementType::S64),
            Some(1 << 63)
        );
        assert_eq!(bits("-1", ElementType::U8), None);
    }

    #[test]
    fn layout_tails_that_only_place_elements_are_dropped() {
        assert_eq!(check_layout_tail(":T(8,128)"), Ok(()));
        assert_eq!(check_layout_tail(":T(8,128)(2,1)S(1)"), Ok(()));
        assert_eq!(check_layout_tail(":S(5)"), Ok(()));
        for bad in [
            ":E(4)",
            ":D(C,S)",
            ":T(8,128)E(16)",
            ":T",
            ":P(s32)",
            ":T(8",
        ] {
            assert!(check_layout_tail(bad).is_err(), "{bad}");
        }
    }
}
