//! The e-graph's language: one e-node per HLO op, attributes included.
//!
//! An e-node is an op with its attributes ([`NodeOp`]) and the e-classes of its
//! operands. Attributes are part of the operator, so two transposes with different
//! permutations never match each other; rules inspect attributes in Rust instead of
//! in egg's pattern syntax (see `saturate.rs`). Layouts are not part of the language:
//! every value is logical, and extraction gives intermediates the default layout.

use egg::{Id, Language};

use crate::hlo::{
    ArrayShape, BinaryOp, ComputationId, Direction, DotDims, ElementType, GatherDims, Literal, Op,
    PadDim, ReduceOp, ScatterDims, SliceDim, UnaryOp, WindowDim,
};

/// An op and the attributes that, with its operands' shapes, fix its result.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeOp {
    /// The entry parameter keeps its layout: it is the caller's data.
    Parameter {
        index: usize,
        shape: ArrayShape,
    },
    /// Literals hash and compare by their elements' bits: `-0.0` and `0.0`
    /// differ, a NaN equals itself.
    Constant {
        value: Literal,
        dims: Vec<usize>,
    },
    Iota {
        dimension: usize,
        shape: ArrayShape,
    },
    Unary(UnaryOp),
    Convert(ElementType),
    BitcastConvert(ElementType),
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
    Pad {
        config: Vec<PadDim>,
    },
    Reverse {
        dimensions: Vec<usize>,
    },
    DynamicSlice {
        sizes: Vec<usize>,
    },
    DynamicUpdateSlice,
    Gather(GatherDims),
    ReducePrecision {
        exponent_bits: u32,
        mantissa_bits: u32,
    },
    CompareTotalOrder(Direction),
    /// The update region is the input module's computation, as
    /// [`NodeOp::ReduceTuple`]'s.
    Scatter {
        dims: ScatterDims,
        update: ComputationId,
        indices_are_sorted: bool,
        unique_indices: bool,
    },
    ReduceWindow {
        window: Vec<WindowDim>,
        to_apply: ComputationId,
    },
    SelectAndScatter {
        window: Vec<WindowDim>,
        select: Direction,
        scatter: ReduceOp,
    },
    /// Result `output` of a variadic reduce. Its outputs are one node each, with
    /// the same operands; extraction emits the reduce once and a
    /// `get-tuple-element` per output. The region is the input module's
    /// computation, which extraction copies.
    ReduceTuple {
        dimensions: Vec<usize>,
        to_apply: ComputationId,
        output: usize,
    },
    /// Result `output` of a topk (0 the values, 1 the indices).
    TopK {
        k: usize,
        largest: bool,
        output: usize,
    },
    /// Result `output` of a sort, as [`NodeOp::ReduceTuple`]'s.
    Sort {
        dimension: usize,
        is_stable: bool,
        comparator: ComputationId,
        output: usize,
    },
}

impl NodeOp {
    /// Which result of a several-result op the node is.
    pub fn output(&self) -> Option<usize> {
        match self {
            NodeOp::ReduceTuple { output, .. }
            | NodeOp::Sort { output, .. }
            | NodeOp::TopK { output, .. } => Some(*output),
            _ => None,
        }
    }

    /// The same op for another output (itself for a one-result op).
    pub fn with_output(&self, index: usize) -> NodeOp {
        let mut op = self.clone();
        if let NodeOp::ReduceTuple { output, .. }
        | NodeOp::Sort { output, .. }
        | NodeOp::TopK { output, .. } = &mut op
        {
            *output = index;
        }
        op
    }

    /// The e-graph's form of result `output` of a several-result op.
    pub fn of_output(op: &Op, output: usize) -> Option<NodeOp> {
        match op {
            Op::ReduceTuple {
                dimensions,
                to_apply,
            } => Some(NodeOp::ReduceTuple {
                dimensions: dimensions.clone(),
                to_apply: *to_apply,
                output,
            }),
            Op::TopK { k, largest } => Some(NodeOp::TopK {
                k: *k,
                largest: *largest,
                output,
            }),
            Op::Sort {
                dimension,
                is_stable,
                comparator,
            } => Some(NodeOp::Sort {
                dimension: *dimension,
                is_stable: *is_stable,
                comparator: *comparator,
                output,
            }),
            _ => None,
        }
    }

    /// The HLO op, and the result shape for ops whose shape is an attribute. A
    /// several-result op gives the whole op (see [`NodeOp::output`]).
    pub fn to_hlo(&self, element: ElementType) -> (Op, Option<ArrayShape>) {
        match self {
            NodeOp::Parameter { index, shape } => (Op::Parameter(*index), Some(shape.clone())),
            NodeOp::Constant { value, dims } => (
                Op::Constant(value.clone()),
                Some(ArrayShape::new(value.element_type(), dims.clone())),
            ),
            NodeOp::Iota { dimension, shape } => (
                Op::Iota {
                    dimension: *dimension,
                },
                Some(shape.clone()),
            ),
            NodeOp::Unary(u) => (Op::Unary(*u), None),
            NodeOp::Convert(_) => (Op::Convert, None),
            NodeOp::BitcastConvert(_) => (Op::BitcastConvert, None),
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
            NodeOp::Pad { config } => (
                Op::Pad {
                    config: config.clone(),
                },
                None,
            ),
            NodeOp::Reverse { dimensions } => (
                Op::Reverse {
                    dimensions: dimensions.clone(),
                },
                None,
            ),
            NodeOp::DynamicSlice { sizes } => (
                Op::DynamicSlice {
                    sizes: sizes.clone(),
                },
                None,
            ),
            NodeOp::DynamicUpdateSlice => (Op::DynamicUpdateSlice, None),
            NodeOp::Gather(dims) => (Op::Gather(dims.clone()), None),
            NodeOp::ReducePrecision {
                exponent_bits,
                mantissa_bits,
            } => (
                Op::ReducePrecision {
                    exponent_bits: *exponent_bits,
                    mantissa_bits: *mantissa_bits,
                },
                None,
            ),
            NodeOp::CompareTotalOrder(d) => (Op::CompareTotalOrder(*d), None),
            NodeOp::Scatter {
                dims,
                update,
                indices_are_sorted,
                unique_indices,
            } => (
                Op::Scatter {
                    dims: dims.clone(),
                    update: *update,
                    indices_are_sorted: *indices_are_sorted,
                    unique_indices: *unique_indices,
                },
                None,
            ),
            NodeOp::ReduceWindow { window, to_apply } => (
                Op::ReduceWindow {
                    window: window.clone(),
                    to_apply: *to_apply,
                },
                None,
            ),
            NodeOp::SelectAndScatter {
                window,
                select,
                scatter,
            } => (
                Op::SelectAndScatter {
                    window: window.clone(),
                    select: *select,
                    scatter: *scatter,
                },
                None,
            ),
            NodeOp::TopK { k, largest, .. } => (
                Op::TopK {
                    k: *k,
                    largest: *largest,
                },
                None,
            ),
            NodeOp::ReduceTuple {
                dimensions,
                to_apply,
                ..
            } => (
                Op::ReduceTuple {
                    dimensions: dimensions.clone(),
                    to_apply: *to_apply,
                },
                None,
            ),
            NodeOp::Sort {
                dimension,
                is_stable,
                comparator,
                ..
            } => (
                Op::Sort {
                    dimension: *dimension,
                    is_stable: *is_stable,
                    comparator: *comparator,
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
