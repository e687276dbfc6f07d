//! Host arrays: logical (index-order) n-dimensional arrays of each element type.
//!
//! A layout says how an array sits in memory, not what it holds, so host arrays
//! carry none: the interpreter works on logical values and only `bitcast`, whose
//! meaning depends on physical order, consults the layouts in the module.

use std::fmt;

use ndarray::ArrayD;
use omelet_compiler::hlo::{ArrayShape, ElementType};

#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    F32(ArrayD<f32>),
    S32(ArrayD<i32>),
    Pred(ArrayD<bool>),
}

impl Array {
    pub fn element_type(&self) -> ElementType {
        match self {
            Array::F32(_) => ElementType::F32,
            Array::S32(_) => ElementType::S32,
            Array::Pred(_) => ElementType::Pred,
        }
    }

    pub fn dims(&self) -> &[usize] {
        match self {
            Array::F32(a) => a.shape(),
            Array::S32(a) => a.shape(),
            Array::Pred(a) => a.shape(),
        }
    }

    /// The array's shape with the default layout.
    pub fn shape(&self) -> ArrayShape {
        ArrayShape::new(self.element_type(), self.dims().to_vec())
    }

    /// Elements as f64, in logical row-major order (for comparisons and summaries).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Array::F32(a) => a.iter().map(|&v| v as f64).collect(),
            Array::S32(a) => a.iter().map(|&v| v as f64).collect(),
            Array::Pred(a) => a.iter().map(|&v| v as u8 as f64).collect(),
        }
    }
}

/// Prints the shape, then the values as ndarray abbreviates them.
impl fmt::Display for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.shape().logical_text())?;
        match self {
            Array::F32(a) => write!(f, "{a:.6}"),
            Array::S32(a) => write!(f, "{a}"),
            Array::Pred(a) => write!(f, "{a}"),
        }
    }
}

/// A program could not run on the arrays it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeError(pub String);

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RuntimeError {}
