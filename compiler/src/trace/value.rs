//! What expressions evaluate to while tracing: traced arrays ([`Tensor`]) and
//! compile-time values (numbers, bools, tuples, lists, `None`).

use omelet_grammar::omelet::DType;

use crate::hlo::{ArrayShape, ElementType, InstrId};

/// A traced array: the instruction that computes it, and its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub id: InstrId,
    pub shape: ArrayShape,
}

impl Tensor {
    pub fn dims(&self) -> &[usize] {
        &self.shape.dims
    }

    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    pub fn element(&self) -> ElementType {
        self.shape.element
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Tensor(Tensor),
    /// Integer literals, loop variables, dimensions: weakly typed, as in JAX.
    Int(i64),
    Float(f64),
    Bool(bool),
    Tuple(Vec<Value>),
    /// Lists are only for shapes, axes and `concat`.
    List(Vec<Value>),
    None,
    /// A type name used as a value: `astype(x, u32)`.
    DType(ElementType),
}

impl Value {
    /// What the value is, for error messages: `an array f32[3,4]`, `an int`, ...
    pub fn describe(&self) -> String {
        match self {
            Value::Tensor(t) => format!("an array {}", user_type(&t.shape)),
            Value::Int(_) => "an int".into(),
            Value::Float(_) => "a float".into(),
            Value::Bool(_) => "a bool".into(),
            Value::Tuple(_) => "a tuple".into(),
            Value::List(_) => "a list".into(),
            Value::None => "None".into(),
            Value::DType(e) => format!("the type {}", user_dtype(*e)),
        }
    }

    /// The value as a compile-time integer: an int, or a float with an integral
    /// value (so that shape arithmetic like `d / HEADS` works without `//`).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }

    /// How many values this one holds, itself included (copying it costs as much).
    pub fn size(&self) -> usize {
        match self {
            Value::Tuple(items) | Value::List(items) => {
                1 + items.iter().map(Value::size).sum::<usize>()
            }
            _ => 1,
        }
    }

    /// How deep lists and tuples nest in it: 0 for a lone value.
    pub fn depth(&self) -> usize {
        match self {
            Value::Tuple(items) | Value::List(items) => {
                1 + items.iter().map(Value::depth).max().unwrap_or(0)
            }
            _ => 0,
        }
    }

    pub fn is_scalar_constant(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Float(_) | Value::Bool(_))
    }
}

/// The element type's name as scripts write it.
pub fn user_dtype(element: ElementType) -> &'static str {
    dtype_of(element).name()
}

/// The element type a script's type name stands for.
pub fn element_of(dtype: DType) -> ElementType {
    match dtype {
        DType::Bool => ElementType::Pred,
        DType::I8 => ElementType::S8,
        DType::I16 => ElementType::S16,
        DType::I32 => ElementType::S32,
        DType::I64 => ElementType::S64,
        DType::U8 => ElementType::U8,
        DType::U16 => ElementType::U16,
        DType::U32 => ElementType::U32,
        DType::U64 => ElementType::U64,
        DType::F16 => ElementType::F16,
        DType::Bf16 => ElementType::Bf16,
        DType::F32 => ElementType::F32,
        DType::F64 => ElementType::F64,
    }
}

/// The script's name of an element type (every HLO type has one).
pub fn dtype_of(element: ElementType) -> DType {
    DType::ALL
        .into_iter()
        .find(|&d| element_of(d) == element)
        .expect("every element type has a name in the language")
}

/// A shape as scripts write it: `f32[64,784]`, `i32[]`.
pub fn user_type(shape: &ArrayShape) -> String {
    let dims: Vec<String> = shape.dims.iter().map(usize::to_string).collect();
    format!("{}[{}]", user_dtype(shape.element), dims.join(","))
}
