//! Element types, array shapes with layouts, and tuple shapes.
//!
//! A layout is XLA's minor-to-major permutation: `{1,0}` is row-major for a 2-D
//! array. Shapes compare equal only when their layouts do; use
//! [`ArrayShape::same_logical`] to ignore layouts.

use std::fmt;

/// XLA's element types. (The first three come first so that orderings made before
/// the others existed stay as they were.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ElementType {
    F32,
    S32,
    Pred,
    S8,
    S16,
    S64,
    U8,
    U16,
    U32,
    U64,
    F16,
    Bf16,
    F64,
}

/// What kind of number an element type holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Pred,
    Signed,
    Unsigned,
    Float,
}

impl ElementType {
    pub const ALL: [ElementType; 13] = [
        ElementType::Pred,
        ElementType::S8,
        ElementType::S16,
        ElementType::S32,
        ElementType::S64,
        ElementType::U8,
        ElementType::U16,
        ElementType::U32,
        ElementType::U64,
        ElementType::F16,
        ElementType::Bf16,
        ElementType::F32,
        ElementType::F64,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ElementType::Pred => "pred",
            ElementType::S8 => "s8",
            ElementType::S16 => "s16",
            ElementType::S32 => "s32",
            ElementType::S64 => "s64",
            ElementType::U8 => "u8",
            ElementType::U16 => "u16",
            ElementType::U32 => "u32",
            ElementType::U64 => "u64",
            ElementType::F16 => "f16",
            ElementType::Bf16 => "bf16",
            ElementType::F32 => "f32",
            ElementType::F64 => "f64",
        }
    }

    pub fn from_name(name: &str) -> Option<ElementType> {
        ElementType::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn kind(self) -> Kind {
        match self {
            ElementType::Pred => Kind::Pred,
            ElementType::S8 | ElementType::S16 | ElementType::S32 | ElementType::S64 => {
                Kind::Signed
            }
            ElementType::U8 | ElementType::U16 | ElementType::U32 | ElementType::U64 => {
                Kind::Unsigned
            }
            ElementType::F16 | ElementType::Bf16 | ElementType::F32 | ElementType::F64 => {
                Kind::Float
            }
        }
    }

    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }

    /// Signed or unsigned integers (not `pred`).
    pub fn is_integer(self) -> bool {
        matches!(self.kind(), Kind::Signed | Kind::Unsigned)
    }

    /// Bits of one element's value (`pred`: 1).
    pub fn bit_width(self) -> u32 {
        match self {
            ElementType::Pred => 1,
            ElementType::S8 | ElementType::U8 => 8,
            ElementType::S16 | ElementType::U16 | ElementType::F16 | ElementType::Bf16 => 16,
            ElementType::S32 | ElementType::U32 | ElementType::F32 => 32,
            ElementType::S64 | ElementType::U64 | ElementType::F64 => 64,
        }
    }

    /// Bytes one element takes in memory (`pred`: one byte).
    pub fn byte_size(self) -> usize {
        (self.bit_width() as usize).div_ceil(8)
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An array shape: element type, dimensions and a minor-to-major layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArrayShape {
    pub element: ElementType,
    pub dims: Vec<usize>,
    /// Minor-to-major order of the dimensions; always a permutation of `0..rank`.
    pub minor_to_major: Vec<usize>,
}

impl ArrayShape {
    /// A shape with the default (row-major) layout.
    pub fn new(element: ElementType, dims: Vec<usize>) -> ArrayShape {
        let minor_to_major = (0..dims.len()).rev().collect();
        ArrayShape {
            element,
            dims,
            minor_to_major,
        }
    }

    pub fn scalar(element: ElementType) -> ArrayShape {
        ArrayShape::new(element, vec![])
    }

    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    pub fn element_count(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn byte_size(&self) -> usize {
        self.element_count() * self.element.byte_size()
    }

    pub fn has_default_layout(&self) -> bool {
        self.minor_to_major.iter().rev().copied().eq(0..self.rank())
    }

    /// Equal element type and dimensions, whatever the layouts.
    pub fn same_logical(&self, other: &ArrayShape) -> bool {
        self.element == other.element && self.dims == other.dims
    }

    /// The shape without its layout, as users write it: `f32[3,4]`.
    pub fn logical_text(&self) -> String {
        format!("{}[{}]", self.element, join(&self.dims))
    }

    /// The same shape with another element type.
    pub fn with_element(&self, element: ElementType) -> ArrayShape {
        ArrayShape {
            element,
            ..self.clone()
        }
    }
}

/// `f32[3,4]{1,0}`; scalars print as `f32[]`, as XLA does.
impl fmt::Display for ArrayShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.logical_text())?;
        if self.rank() > 0 {
            write!(f, "{{{}}}", join(&self.minor_to_major))?;
        }
        Ok(())
    }
}

/// The shape of an instruction's value: an array, or a flat tuple of arrays.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    Array(ArrayShape),
    Tuple(Vec<ArrayShape>),
}

impl Shape {
    pub fn as_array(&self) -> Option<&ArrayShape> {
        match self {
            Shape::Array(a) => Some(a),
            Shape::Tuple(_) => None,
        }
    }

    /// The arrays this value consists of: one, or the tuple's elements.
    pub fn arrays(&self) -> &[ArrayShape] {
        match self {
            Shape::Array(a) => std::slice::from_ref(a),
            Shape::Tuple(elements) => elements,
        }
    }

    pub fn byte_size(&self) -> usize {
        self.arrays().iter().map(ArrayShape::byte_size).sum()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Array(a) => a.fmt(f),
            Shape::Tuple(elements) => {
                f.write_str("(")?;
                for (i, e) in elements.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    e.fmt(f)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Comma-separated, as dimension and layout lists print.
pub(crate) fn join<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}
