//! Constant values: the dense data of a `constant` instruction, row-major.

use super::element::{Element, Number, Scalar};
use super::shape::ElementType;

/// Row-major element data, each element by its bits (as [`Scalar`] holds one), so
/// that literals hash and compare exactly; the instruction's shape gives the
/// dimensions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Literal {
    element: ElementType,
    bits: Vec<u64>,
}

impl Literal {
    pub fn new<T: Element>(values: impl IntoIterator<Item = T>) -> Literal {
        Literal {
            element: T::TYPE,
            bits: values.into_iter().map(T::to_bits).collect(),
        }
    }

    pub fn from_scalars(element: ElementType, values: impl IntoIterator<Item = Scalar>) -> Literal {
        Literal {
            element,
            bits: values
                .into_iter()
                .map(|s| {
                    debug_assert_eq!(s.element, element);
                    s.bits
                })
                .collect(),
        }
    }

    pub fn scalar(value: Scalar) -> Literal {
        Literal::from_scalars(value.element, [value])
    }

    pub fn element_type(&self) -> ElementType {
        self.element
    }

    pub fn len(&self) -> usize {
        self.bits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Element `i`.
    pub fn get(&self, i: usize) -> Scalar {
        Scalar {
            element: self.element,
            bits: self.bits[i],
        }
    }

    pub fn scalars(&self) -> impl Iterator<Item = Scalar> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The elements as `T`, which must be the literal's type.
    pub fn values<T: Element>(&self) -> impl Iterator<Item = T> + '_ {
        assert_eq!(T::TYPE, self.element, "literal read as the wrong type");
        self.bits.iter().map(|&b| T::from_bits(b))
    }

    /// The one value every element has, if they all have the same.
    pub fn splat(&self) -> Option<Scalar> {
        let first = *self.bits.first()?;
        self.bits.iter().all(|&b| b == first).then(|| self.get(0))
    }

    /// Element `i` as XLA's text form writes it.
    pub fn element_text(&self, i: usize) -> String {
        match self.get(i).to_number() {
            Number::Bool(b) => b.to_string(),
            Number::Int(v) => v.to_string(),
            Number::Float(x) => match self.element {
                ElementType::F64 => double_text(x),
                // f32, f16 and bf16 values are all exact f32s; the shortest text
                // that reads back as the f32 reads back as the same narrow value.
                _ => float_text(x as f32),
            },
        }
    }

    /// The literal in XLA's nested-brace form for an array of `dims`:
    /// `7`, `{1, 2}`, `{ {1, 2}, {3, 4} }`.
    pub fn to_text(&self, dims: &[usize]) -> String {
        let mut out = String::new();
        let mut next = 0;
        self.write_nested(dims, &mut next, &mut out);
        out
    }

    fn write_nested(&self, dims: &[usize], next: &mut usize, out: &mut String) {
        let Some((&n, inner)) = dims.split_first() else {
            out.push_str(&self.element_text(*next));
            *next += 1;
            return;
        };
        out.push('{');
        if !inner.is_empty() {
            out.push(' ');
        }
        for i in 0..n {
            if i > 0 {
                out.push_str(", ");
            }
            self.write_nested(inner, next, out);
        }
        if !inner.is_empty() {
            out.push(' ');
        }
        out.push('}');
    }
}

/// Shortest text that reads back as the same f32; integers without a fraction, as
/// XLA prints them.
pub fn float_text(x: f32) -> String {
    if x.is_finite() && !(x.fract() == 0.0 && x.abs() < 1e15) {
        format!("{x:?}")
    } else {
        double_text(x as f64)
    }
}

/// [`float_text`] for an f64.
fn double_text(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        if x == 0.0 && x.is_sign_negative() {
            "-0".into()
        } else {
            format!("{x:.0}")
        }
    } else {
        format!("{x:?}")
    }
}
