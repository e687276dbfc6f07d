//! Host arrays: logical (index-order) n-dimensional arrays of each element type.
//!
//! A layout says how an array sits in memory, not what it holds, so host arrays
//! carry none: the interpreter works on logical values and only `bitcast`, whose
//! meaning depends on physical order, consults the layouts in the module.

use std::borrow::Cow;
use std::fmt;

use ndarray::ArrayD;
use omelet_compiler::hlo::{ArrayShape, ElementType};

use crate::interp::data::{from_physical, physical};

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

    /// The bytes of the array laid out as `shape` says (its layout decides the
    /// order; `pred` is one byte per element), as compiled code reads them.
    pub fn to_bytes(&self, shape: &ArrayShape) -> Vec<u8> {
        match self {
            Array::F32(a) => physical(a, shape)
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
            Array::S32(a) => physical(a, shape)
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
            Array::Pred(a) => physical(a, shape).iter().map(|&p| p as u8).collect(),
        }
    }

    /// Like [`Array::to_bytes`], without a copy where the array already sits in
    /// memory that way (a row-major `f32` or `s32` array for a row-major shape).
    pub fn bytes(&self, shape: &ArrayShape) -> Cow<'_, [u8]> {
        let words: Option<(*const u8, usize)> = match self {
            Array::F32(a) => a.as_slice().map(|s| (s.as_ptr() as *const u8, s.len() * 4)),
            Array::S32(a) => a.as_slice().map(|s| (s.as_ptr() as *const u8, s.len() * 4)),
            Array::Pred(_) => None,
        };
        match words {
            // Safety: the slice is the array's own initialized storage.
            Some((ptr, len)) if shape.has_default_layout() => {
                Cow::Borrowed(unsafe { std::slice::from_raw_parts(ptr, len) })
            }
            _ => Cow::Owned(self.to_bytes(shape)),
        }
    }

    /// The array whose bytes, laid out as `shape` says, are `bytes`.
    pub fn from_bytes(shape: &ArrayShape, bytes: &[u8]) -> Array {
        let words = || bytes.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]);
        match shape.element {
            ElementType::F32 => Array::F32(from_physical(
                words().map(f32::from_le_bytes).collect(),
                shape,
            )),
            ElementType::S32 => Array::S32(from_physical(
                words().map(i32::from_le_bytes).collect(),
                shape,
            )),
            ElementType::Pred => Array::Pred(from_physical(
                bytes.iter().map(|&b| b != 0).collect(),
                shape,
            )),
        }
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

/// Why a program cannot be compiled for, or run on, a backend. The kind decides
/// whose fault it is (the CLI's exit status); the message says what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeError {
    pub kind: RuntimeErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeErrorKind {
    /// The inputs do not fit the program's parameters.
    Input,
    /// A valid program that this backend or machine cannot take: outside what
    /// its kernels compile, past the device's limits, or more memory than there is.
    Unsupported,
    /// There is no device to run on.
    Unavailable,
    /// A failure that the program does not explain: a bug, or a device lost.
    Internal,
}

impl RuntimeError {
    pub fn input(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new(RuntimeErrorKind::Input, message)
    }

    pub fn unsupported(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new(RuntimeErrorKind::Unsupported, message)
    }

    pub fn unavailable(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new(RuntimeErrorKind::Unavailable, message)
    }

    pub fn internal(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new(RuntimeErrorKind::Internal, message)
    }

    fn new(kind: RuntimeErrorKind, message: impl Into<String>) -> RuntimeError {
        RuntimeError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuntimeError {}
