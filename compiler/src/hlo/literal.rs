//! Constant values: the dense data of a `constant` instruction, row-major.

use super::shape::ElementType;

/// Row-major element data; the instruction's shape gives its dimensions.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    F32(Vec<f32>),
    S32(Vec<i32>),
    Pred(Vec<bool>),
}

impl Literal {
    pub fn element_type(&self) -> ElementType {
        match self {
            Literal::F32(_) => ElementType::F32,
            Literal::S32(_) => ElementType::S32,
            Literal::Pred(_) => ElementType::Pred,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Literal::F32(v) => v.len(),
            Literal::S32(v) => v.len(),
            Literal::Pred(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as XLA's text form writes it.
    pub fn element_text(&self, i: usize) -> String {
        match self {
            Literal::F32(v) => float_text(v[i]),
            Literal::S32(v) => v[i].to_string(),
            Literal::Pred(v) => v[i].to_string(),
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
