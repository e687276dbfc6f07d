//! Host arrays: logical (index-order) n-dimensional arrays of each element type.
//!
//! A layout says how an array sits in memory, not what it holds, so host arrays
//! carry none: the interpreter works on logical values and only `bitcast`, whose
//! meaning depends on physical order, consults the layouts in the module.

use std::borrow::Cow;
use std::fmt;

use ndarray::ArrayD;
use omelet_compiler::half::{bf16, f16};
use omelet_compiler::hlo::{ArrayShape, Element, ElementType, Number};
use omelet_compiler::with_element_type;

use crate::interp::data::{from_physical, physical};

/// Declares `Array` with one variant per element type, and the conversions
/// between a typed ndarray and an `Array`.
macro_rules! arrays {
    ($($variant:ident($t:ty)),* $(,)?) => {
        #[derive(Clone, Debug, PartialEq)]
        pub enum Array {
            $($variant(ArrayD<$t>),)*
        }

        $(
            impl From<ArrayD<$t>> for Array {
                fn from(a: ArrayD<$t>) -> Array {
                    Array::$variant(a)
                }
            }

            impl ArrayElement for $t {
                fn view(array: &Array) -> Option<&ArrayD<$t>> {
                    match array {
                        Array::$variant(a) => Some(a),
                        _ => None,
                    }
                }
            }
        )*
    };
}

arrays! {
    F32(f32),
    S32(i32),
    Pred(bool),
    S8(i8),
    S16(i16),
    S64(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F16(f16),
    Bf16(bf16),
    F64(f64),
}

/// Applies one generic expression to the ndarray an [`Array`] holds, whatever
/// its element type.
#[macro_export]
macro_rules! each_array {
    ($x:expr, $a:ident => $body:expr) => {{
        use $crate::array::Array as A;
        match $x {
            A::F32($a) => $body,
            A::S32($a) => $body,
            A::Pred($a) => $body,
            A::S8($a) => $body,
            A::S16($a) => $body,
            A::S64($a) => $body,
            A::U8($a) => $body,
            A::U16($a) => $body,
            A::U32($a) => $body,
            A::U64($a) => $body,
            A::F16($a) => $body,
            A::Bf16($a) => $body,
            A::F64($a) => $body,
        }
    }};
}

/// An element type an [`Array`] holds.
pub trait ArrayElement: Element + fmt::Display
where
    Array: From<ArrayD<Self>>,
{
    /// The ndarray, if `array` holds this type.
    fn view(array: &Array) -> Option<&ArrayD<Self>>;
}

/// The ndarray of `T` that `x` holds, for an operand whose type the verifier
/// has checked against another's.
pub(crate) fn typed<T: ArrayElement>(x: &Array) -> &ArrayD<T>
where
    Array: From<ArrayD<T>>,
{
    T::view(x).expect("the verifier checks operand types")
}

impl Array {
    pub fn element_type(&self) -> ElementType {
        fn of<T: Element>(_: &ArrayD<T>) -> ElementType {
            T::TYPE
        }
        each_array!(self, a => of(a))
    }

    pub fn dims(&self) -> &[usize] {
        each_array!(self, a => a.shape())
    }

    /// The array's shape with the default layout.
    pub fn shape(&self) -> ArrayShape {
        ArrayShape::new(self.element_type(), self.dims().to_vec())
    }

    /// The bytes of the array laid out as `shape` says (its layout decides the
    /// order; each element little-endian, `pred` one byte), as compiled code
    /// reads them.
    pub fn to_bytes(&self, shape: &ArrayShape) -> Vec<u8> {
        let size = shape.element.byte_size();
        each_array!(self, a => physical(a, shape)
            .iter()
            .flat_map(|x| x.to_bits().to_le_bytes().into_iter().take(size))
            .collect())
    }

    /// Like [`Array::to_bytes`], without a copy where the array already sits in
    /// memory that way (a row-major array for a row-major shape).
    pub fn bytes(&self, shape: &ArrayShape) -> Cow<'_, [u8]> {
        fn raw<T>(a: &ArrayD<T>) -> Option<(*const u8, usize)> {
            a.as_slice()
                .map(|s| (s.as_ptr() as *const u8, std::mem::size_of_val(s)))
        }
        match each_array!(self, a => raw(a)) {
            // Safety: the slice is the array's own initialized storage, and every
            // element type is plain data whose in-memory bytes are its
            // little-endian encoding on the hosts we run on (`bool` is 0 or 1).
            Some((ptr, len)) if shape.has_default_layout() && cfg!(target_endian = "little") => {
                Cow::Borrowed(unsafe { std::slice::from_raw_parts(ptr, len) })
            }
            _ => Cow::Owned(self.to_bytes(shape)),
        }
    }

    /// The array whose bytes, laid out as `shape` says, are `bytes`.
    pub fn from_bytes(shape: &ArrayShape, bytes: &[u8]) -> Array {
        fn read<T: ArrayElement>(shape: &ArrayShape, bytes: &[u8]) -> Array
        where
            Array: From<ArrayD<T>>,
        {
            let size = shape.element.byte_size();
            let values = bytes
                .chunks_exact(size)
                .map(|chunk| {
                    let mut word = [0u8; 8];
                    word[..size].copy_from_slice(chunk);
                    T::from_bits(u64::from_le_bytes(word))
                })
                .collect();
            Array::from(from_physical(values, shape))
        }
        with_element_type!(shape.element, T => read::<T>(shape, bytes))
    }

    /// Elements as f64, in logical row-major order (for comparisons and summaries).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        fn numbers<T: Element>(a: &ArrayD<T>) -> Vec<f64> {
            a.iter()
                .map(|x| match x.to_number() {
                    Number::Bool(b) => b as u8 as f64,
                    Number::Int(i) => i as f64,
                    Number::Float(f) => f,
                })
                .collect()
        }
        each_array!(self, a => numbers(a))
    }
}

/// Prints the shape, then the values as ndarray abbreviates them.
impl fmt::Display for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.shape().logical_text())?;
        match self {
            Array::F32(a) => write!(f, "{a:.6}"),
            Array::F64(a) => write!(f, "{a:.6}"),
            other => each_array!(other, a => write!(f, "{a}")),
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
