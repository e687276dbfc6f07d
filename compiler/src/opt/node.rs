//! The e-graph's language: one e-node per HLO op, attributes included.
//!
//! An e-node is an op with its attributes ([`NodeOp`]) and the e-classes of its
//! operands. Attributes are part of the operator, so two transposes with different
//! permutations never match each other; rules inspect attributes in Rust instead of
//! in egg's pattern syntax (see `saturate.rs`). Layouts are not part of the language:
//! every value is logical, and extraction gives intermediates the default layout.

use egg::{Id, Language};

use crate::hlo::{
    ArrayShape, BinaryOp, Direction, DotDims, ElementType, Literal, Op, ReduceOp, SliceDim, UnaryOp,
};

/// An op and the attributes that, with its operands' shapes, fix its result.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeOp {
    /// The entry parameter keeps its layout: it is the caller's data.
    Parameter {
        index: usize,
        shape: ArrayShape,
    },
    Constant {
        value: ConstValue,
        dims: Vec<usize>,
    },
    Iota {
        dimension: usize,
        shape: ArrayShape,
    },
    Unary(UnaryOp),
    Convert(ElementType),
    Binary(BinaryOp),
    Compare(Direction),
    Select,
    Clamp,
    Broadcast {
        dimensions: Vec<usize>,
        dims: Vec<usize>,
    },
    Reshape {
        dims: Vec<usize>,
    },
    Transpose {
        permutation: Vec<usize>,
    },
    Slice {
        dims: Vec<SliceDim>,
    },
    Concatenate {
        dimension: usize,
    },
    Dot(DotDims),
    Reduce {
        dimensions: Vec<usize>,
        reducer: ReduceOp,
    },
}

/// A constant's elements, floats by their bits so that nodes hash and compare
/// exactly (`-0.0` and `0.0` differ, a NaN equals itself).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConstValue {
    F32(Vec<u32>),
    S32(Vec<i32>),
    Pred(Vec<bool>),
}

impl ConstValue {
    pub fn from_literal(literal: &Literal) -> ConstValue {
        match literal {
            Literal::F32(v) => ConstValue::F32(v.iter().map(|x| x.to_bits()).collect()),
            Literal::S32(v) => ConstValue::S32(v.clone()),
            Literal::Pred(v) => ConstValue::Pred(v.clone()),
        }
    }

    pub fn to_literal(&self) -> Literal {
        match self {
            ConstValue::F32(v) => Literal::F32(v.iter().map(|&b| f32::from_bits(b)).collect()),
            ConstValue::S32(v) => Literal::S32(v.clone()),
            ConstValue::Pred(v) => Literal::Pred(v.clone()),
        }
    }

    pub fn scalar(value: Scalar) -> ConstValue {
        match value {
            Scalar::F32(b) => ConstValue::F32(vec![b]),
            Scalar::S32(v) => ConstValue::S32(vec![v]),
            Scalar::Pred(v) => ConstValue::Pred(vec![v]),
        }
    }

    /// The one value every element has, if they all have the same.
    pub fn splat(&self) -> Option<Scalar> {
        fn same<T: Copy + PartialEq>(v: &[T]) -> Option<T> {
            let first = *v.first()?;
            v.iter().all(|&x| x == first).then_some(first)
        }
        match self {
            ConstValue::F32(v) => same(v).map(Scalar::F32),
            ConstValue::S32(v) => same(v).map(Scalar::S32),
            ConstValue::Pred(v) => same(v).map(Scalar::Pred),
        }
    }

    pub fn element(&self) -> ElementType {
        match self {
            ConstValue::F32(_) => ElementType::F32,
            ConstValue::S32(_) => ElementType::S32,
            ConstValue::Pred(_) => ElementType::Pred,
        }
    }
}

/// One element value, floats by their bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    F32(u32),
    S32(i32),
    Pred(bool),
}

impl Scalar {
    pub fn f32(x: f32) -> Scalar {
        Scalar::F32(x.to_bits())
    }

    /// The value as an f32, for float scalars.
    pub fn as_f32(self) -> Option<f32> {
        match self {
            Scalar::F32(b) => Some(f32::from_bits(b)),
            _ => None,
        }
    }

    /// Whether the scalar is the number `x` (in its own type).
    pub fn is(self, x: i32) -> bool {
        match self {
            Scalar::F32(b) => f32::from_bits(b) == x as f32,
            Scalar::S32(v) => v == x,
            Scalar::Pred(_) => false,
        }
    }
}

impl NodeOp {
    /// The HLO op, and the result shape for ops whose shape is an attribute.
    pub fn to_hlo(&self, element: ElementType) -> (Op, Option<ArrayShape>) {
        match self {
            NodeOp::Parameter { index, shape } => (Op::Parameter(*index), Some(shape.clone())),
            NodeOp::Constant { value, dims } => (
                Op::Constant(value.to_literal()),
                Some(ArrayShape::new(value.element(), dims.clone())),
            ),
            NodeOp::Iota { dimension, shape } => (
                Op::Iota {
                    dimension: *dimension,
                },
                Some(shape.clone()),
            ),
            NodeOp::Unary(u) => (Op::Unary(*u), None),
            NodeOp::Convert(_) => (Op::Convert, None),
            NodeOp::Binary(b) => (Op::Binary(*b), None),
            NodeOp::Compare(d) => (Op::Compare(*d), None),
            NodeOp::Select => (Op::Select, None),
            NodeOp::Clamp => (Op::Clamp, None),
            NodeOp::Broadcast { dimensions, dims } => (
                Op::Broadcast {
                    dimensions: dimensions.clone(),
                },
                Some(ArrayShape::new(element, dims.clone())),
            ),
            NodeOp::Reshape { dims } => (Op::Reshape, Some(ArrayShape::new(element, dims.clone()))),
            NodeOp::Transpose { permutation } => (
                Op::Transpose {
                    permutation: permutation.clone(),
                },
                None,
            ),
            NodeOp::Slice { dims } => (Op::Slice { dims: dims.clone() }, None),
            NodeOp::Concatenate { dimension } => (
                Op::Concatenate {
                    dimension: *dimension,
                },
                None,
            ),
            NodeOp::Dot(d) => (Op::Dot(d.clone()), None),
            NodeOp::Reduce {
                dimensions,
                reducer,
            } => (
                Op::Reduce {
                    dimensions: dimensions.clone(),
                    reducer: *reducer,
                },
                None,
            ),
        }
    }
}

/// An e-node: an op and its operands' e-classes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub op: NodeOp,
    pub children: Vec<Id>,
}

impl Node {
    pub fn new(op: NodeOp, children: Vec<Id>) -> Node {
        Node { op, children }
    }
}

impl Language for Node {
    type Discriminant = std::mem::Discriminant<NodeOp>;

    fn discriminant(&self) -> Self::Discriminant {
        std::mem::discriminant(&self.op)
    }

    fn matches(&self, other: &Self) -> bool {
        self.op == other.op && self.children.len() == other.children.len()
    }

    fn children(&self) -> &[Id] {
        &self.children
    }

    fn children_mut(&mut self) -> &mut [Id] {
        &mut self.children
    }
}
