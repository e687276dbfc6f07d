//! What the e-graph knows about each e-class: its logical shape and, when every
//! element has one known value, that value (a "splat").
//!
//! Splats fold: an elementwise op on splats whose IEEE result is exact to compute
//! here (add, subtract, multiply, divide, negate, and max/min without NaN) becomes a
//! constant, and every splat class gets the canonical form `broadcast(constant)` so
//! that rules match constants one way only.

use egg::{Analysis, DidMerge, EGraph, Id};

use super::node::{ConstValue, Node, NodeOp, Scalar};
use crate::hlo::{ArrayShape, BinaryOp, Shape, UnaryOp, shape_rules};

pub type HloGraph = EGraph<Node, ShapeAnalysis>;

#[derive(Default)]
pub struct ShapeAnalysis;

#[derive(Clone, Debug, PartialEq)]
pub struct Info {
    /// The logical shape, with the default layout.
    pub shape: ArrayShape,
    pub splat: Option<Scalar>,
}

impl Analysis<Node> for ShapeAnalysis {
    type Data = Info;

    fn make(egraph: &mut HloGraph, node: &Node, _id: Id) -> Info {
        let child = |i: usize| &egraph[node.children[i]].data;
        let shape = result_shape(&node.op, &node.children, |id| &egraph[id].data.shape)
            .unwrap_or_else(|e| panic!("an e-node with no valid shape ({e}): {node:?}"));
        let splat = match &node.op {
            NodeOp::Constant { value, .. } => value.splat(),
            NodeOp::Broadcast { .. }
            | NodeOp::Reshape { .. }
            | NodeOp::Transpose { .. }
            | NodeOp::Slice { .. } => child(0).splat,
            NodeOp::Unary(UnaryOp::Negate) => match child(0).splat {
                Some(Scalar::F32(b)) => Some(Scalar::f32(-f32::from_bits(b))),
                _ => None,
            },
            NodeOp::Binary(op) => match (child(0).splat, child(1).splat) {
                (Some(Scalar::F32(a)), Some(Scalar::F32(b))) => {
                    fold(*op, f32::from_bits(a), f32::from_bits(b)).map(Scalar::f32)
                }
                _ => None,
            },
            _ => None,
        };
        Info { shape, splat }
    }

    fn merge(&mut self, to: &mut Info, from: Info) -> DidMerge {
        debug_assert_eq!(
            to.shape, from.shape,
            "a rule merged classes of different shapes"
        );
        match (to.splat, from.splat) {
            (None, Some(s)) => {
                to.splat = Some(s);
                DidMerge(true, false)
            }
            (Some(_), None) => DidMerge(false, true),
            _ => DidMerge(false, false),
        }
    }

    fn modify(egraph: &mut HloGraph, id: Id) {
        let Info { shape, splat } = egraph[id].data.clone();
        let Some(value) = splat else { return };
        let scalar = egraph.add(Node::new(
            NodeOp::Constant {
                value: ConstValue::scalar(value),
                dims: vec![],
            },
            vec![],
        ));
        let canonical = if shape.rank() == 0 {
            scalar
        } else {
            egraph.add(Node::new(
                NodeOp::Broadcast {
                    dimensions: vec![],
                    dims: shape.dims,
                },
                vec![scalar],
            ))
        };
        egraph.union(id, canonical);
    }
}

/// The logical result shape of `op` applied to `children`, or why it has none.
pub fn result_shape<'a>(
    op: &NodeOp,
    children: &[Id],
    shape_of: impl Fn(Id) -> &'a ArrayShape,
) -> Result<ArrayShape, String> {
    let first = || shape_of(children[0]);
    Ok(match op {
        NodeOp::Parameter { shape, .. } => ArrayShape::new(shape.element, shape.dims.clone()),
        NodeOp::Constant { value, dims } => ArrayShape::new(value.element(), dims.clone()),
        NodeOp::Iota { shape, .. } => shape.clone(),
        NodeOp::Convert(element) => ArrayShape::new(*element, first().dims.clone()),
        NodeOp::Broadcast { dimensions, dims } => {
            let operand = first();
            let shape = ArrayShape::new(operand.element, dims.clone());
            let op = NodeOp::Broadcast {
                dimensions: dimensions.clone(),
                dims: dims.clone(),
            };
            let (hlo, _) = op.to_hlo(operand.element);
            shape_rules::check(
                &hlo,
                &[&Shape::Array(operand.clone())],
                &Shape::Array(shape.clone()),
            )?;
            shape
        }
        NodeOp::Reshape { dims } => {
            let operand = first();
            let shape = ArrayShape::new(operand.element, dims.clone());
            if shape.element_count() != operand.element_count() {
                return Err(format!("reshape of {operand} to {shape}"));
            }
            shape
        }
        _ => {
            let (hlo, _) = op.to_hlo(first().element);
            let operands: Vec<Shape> = children
                .iter()
                .map(|&c| Shape::Array(shape_of(c).clone()))
                .collect();
            let refs: Vec<&Shape> = operands.iter().collect();
            match shape_rules::infer(&hlo, &refs)? {
                Some(Shape::Array(a)) => a,
                other => return Err(format!("{} gives {other:?}", hlo.opcode())),
            }
        }
    })
}

/// `a op b` when IEEE arithmetic makes it exact to compute at compile time.
fn fold(op: BinaryOp, a: f32, b: f32) -> Option<f32> {
    match op {
        BinaryOp::Add => Some(a + b),
        BinaryOp::Subtract => Some(a - b),
        BinaryOp::Multiply => Some(a * b),
        BinaryOp::Divide => Some(a / b),
        // XLA's max/min propagate NaN where Rust's do not: fold only numbers.
        BinaryOp::Maximum if !a.is_nan() && !b.is_nan() => Some(a.max(b)),
        BinaryOp::Minimum if !a.is_nan() && !b.is_nan() => Some(a.min(b)),
        _ => None,
    }
}
