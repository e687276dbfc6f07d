//! The rewrite rules, one family per file.

mod algebra;
mod index;
mod layout;

use egg::Id;

use crate::hlo::ArrayShape;
use crate::hlo::{Literal, Scalar};
use crate::opt::node::{Node, NodeOp};
use crate::opt::saturate::Rhs;
pub use crate::opt::saturate::Rule;

/// Every rule the optimizer runs.
pub fn all() -> Vec<Rule> {
    let mut rules = algebra::rules();
    rules.extend(layout::rules());
    rules.extend(index::rules());
    rules
}

/// Calls `f(x, y)` and `f(y, x)` for the two operands of a commutative op.
fn both_orders(node: &Node, mut f: impl FnMut(Id, Id)) {
    let [a, b] = node.children[..] else {
        return;
    };
    f(a, b);
    if a != b {
        f(b, a);
    }
}

/// Ops applied element by element, whose operands all have the result's shape
/// (but for `clamp`'s scalar bounds).
fn is_elementwise(op: &NodeOp) -> bool {
    matches!(
        op,
        NodeOp::Unary(_)
            | NodeOp::Convert(_)
            | NodeOp::BitcastConvert(_)
            | NodeOp::Binary(_)
            | NodeOp::Compare(_)
            | NodeOp::Select
            | NodeOp::Clamp
    )
}

/// `broadcast(s, dimensions={})`: a scalar spread over an array.
fn is_scalar_broadcast(node: &Node) -> bool {
    matches!(&node.op, NodeOp::Broadcast { dimensions, .. } if dimensions.is_empty())
}

/// The canonical form of an array of `shape`'s dimensions filled with `value`.
fn splat(shape: &ArrayShape, value: Scalar) -> Rhs {
    let scalar = Rhs::node(
        NodeOp::Constant {
            value: Literal::scalar(value),
            dims: vec![],
        },
        vec![],
    );
    if shape.rank() == 0 {
        return scalar;
    }
    Rhs::node(
        NodeOp::Broadcast {
            dimensions: vec![],
            dims: shape.dims.clone(),
        },
        vec![scalar],
    )
}
