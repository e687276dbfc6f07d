//! What the e-graph knows about each e-class: its logical shape and, when every
//! element has one known value, that value (a "splat").
//!
//! Splats fold: an elementwise op on splats whose result every backend computes
//! exactly as `hlo::Scalar` does (integer and bitwise ops, conversions, and the
//! correctly rounded float ops: add, subtract, multiply, divide, negate, max/min)
//! becomes a constant, and every splat class gets the canonical form `broadcast(constant)` so
//! that rules match constants one way only.

use egg::{Analysis, DidMerge, EGraph, Id};

use super::node::{Node, NodeOp};
use crate::hlo::{ArrayShape, BinaryOp, Literal, Scalar, Shape, UnaryOp, shape_rules};

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
            | NodeOp::Slice { .. }
            | NodeOp::Reverse { .. }
            | NodeOp::DynamicSlice { .. }
            | NodeOp::Gather(_) => child(0).splat,
            // Every element is the operand's or the pad value (the update's).
            NodeOp::Pad { .. } | NodeOp::DynamicUpdateSlice => {
                match (child(0).splat, child(1).splat) {
                    (Some(a), Some(b)) if a == b => Some(a),
                    _ => None,
                }
            }
            NodeOp::Unary(op) => child(0)
                .splat
                .filter(|x| folds_unary(*op, x))
                .map(|x| Scalar::unary(*op, x)),
            NodeOp::Binary(op) => match (child(0).splat, child(1).splat) {
                (Some(a), Some(b)) if folds_binary(*op, &a) => Some(Scalar::binary(*op, a, b)),
                _ => None,
            },
            NodeOp::Compare(direction) => match (child(0).splat, child(1).splat) {
                (Some(a), Some(b)) => Some(Scalar::compare(*direction, a, b)),
                _ => None,
            },
            NodeOp::Convert(to) => child(0).splat.map(|x| x.convert(*to)),
            NodeOp::BitcastConvert(to) => child(0).splat.map(|x| x.bitcast_convert(*to)),
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
                value: Literal::scalar(value),
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
        NodeOp::Constant { value, dims } => ArrayShape::new(value.element_type(), dims.clone()),
        NodeOp::Iota { shape, .. } => shape.clone(),
        NodeOp::Convert(element) => ArrayShape::new(*element, first().dims.clone()),
        NodeOp::BitcastConvert(element) => {
            let operand = first();
            if operand.element.bit_width() != element.bit_width() {
                return Err(format!("bitcast-convert of {operand} to {element}"));
            }
            ArrayShape::new(*element, operand.dims.clone())
        }
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
            match (shape_rules::infer(&hlo, &refs)?, op.output()) {
                (Some(Shape::Array(a)), None | Some(0)) => a,
                (Some(Shape::Tuple(arrays)), Some(i)) if i < arrays.len() => arrays[i].clone(),
                (other, _) => return Err(format!("{} gives {other:?}", hlo.opcode())),
            }
        }
    })
}

/// Whether every backend computes `op x` exactly as folding does: integer ops
/// always, float ops only where IEEE rounding fixes the result (not the
/// transcendentals, whose backends approximate).
fn folds_unary(op: UnaryOp, x: &Scalar) -> bool {
    !x.element.is_float() || op == UnaryOp::Negate
}

fn folds_binary(op: BinaryOp, x: &Scalar) -> bool {
    !x.element.is_float()
        || matches!(
            op,
            BinaryOp::Add
                | BinaryOp::Subtract
                | BinaryOp::Multiply
                | BinaryOp::Divide
                | BinaryOp::Maximum
                | BinaryOp::Minimum
        )
}
