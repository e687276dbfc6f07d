//! Algebraic identities that are exact in IEEE f32 (and in s32), broadcast and
//! reshape canonicalization, and scalar factors pulled out of dots.
//!
//! Each rule states its identity. Identities that hold in real numbers but not in
//! floating point (`x * 0 = 0`, `x + 0 = x` for `x = -0`, `exp(log x) = x`) are
//! deliberately absent.

use super::{Rule, both_orders, is_scalar_broadcast};
use crate::hlo::{BinaryOp, Number, Scalar, UnaryOp};
use crate::opt::node::{Node, NodeOp};
use crate::opt::saturate::{Ctx, Rhs};

pub fn rules() -> Vec<Rule> {
    vec![
        Rule {
            name: "add-negative-zero",
            search: add_negative_zero,
        },
        Rule {
            name: "subtract-zero",
            search: subtract_zero,
        },
        Rule {
            name: "multiply-one",
            search: multiply_one,
        },
        Rule {
            name: "divide-one",
            search: divide_one,
        },
        Rule {
            name: "double-negation",
            search: double_negation,
        },
        Rule {
            name: "subtract-negation",
            search: subtract_negation,
        },
        Rule {
            name: "add-negation",
            search: add_negation,
        },
        Rule {
            name: "negations-multiply",
            search: negations_multiply,
        },
        Rule {
            name: "divide-power-of-two",
            search: divide_power_of_two,
        },
        Rule {
            name: "convert-same-type",
            search: convert_same_type,
        },
        Rule {
            name: "reshape-reshape",
            search: reshape_reshape,
        },
        Rule {
            name: "reshape-identity",
            search: reshape_identity,
        },
        Rule {
            name: "broadcast-broadcast",
            search: broadcast_broadcast,
        },
        Rule {
            name: "broadcast-identity",
            search: broadcast_identity,
        },
        Rule {
            name: "reshape-scalar-broadcast",
            search: reshape_scalar_broadcast,
        },
        Rule {
            name: "unary-of-broadcast",
            search: unary_of_broadcast,
        },
        Rule {
            name: "binary-of-broadcasts",
            search: binary_of_broadcasts,
        },
        Rule {
            name: "reshape-out-of-elementwise",
            search: reshape_out_of_elementwise,
        },
        Rule {
            name: "dot-scalar-factor",
            search: dot_scalar_factor,
        },
    ]
}

fn splat_is(ctx: &Ctx, id: egg::Id, test: impl Fn(Scalar) -> bool) -> bool {
    ctx.splat(id).is_some_and(test)
}

/// `x + (-0) = x` (and `(-0) + x`); for integers `x + 0 = x`. `x + (+0)` is not
/// `x` when `x = -0`.
fn add_negative_zero(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op != NodeOp::Binary(BinaryOp::Add) {
        return;
    }
    let zero = |s: Scalar| match s.to_number() {
        Number::Float(x) => x == 0.0 && x.is_sign_negative(),
        Number::Int(v) => v == 0,
        Number::Bool(_) => false,
    };
    both_orders(node, |x, z| {
        if splat_is(ctx, z, zero) {
            out.push(x.into());
        }
    });
}

/// `x - 0 = x` (exact for `x = -0` too: `-0 - 0 = -0`).
fn subtract_zero(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op == NodeOp::Binary(BinaryOp::Subtract)
        && splat_is(ctx, node.children[1], |s| match s.to_number() {
            Number::Float(x) => x == 0.0 && x.is_sign_positive(),
            _ => s.is(0),
        })
    {
        out.push(node.children[0].into());
    }
}

/// `x * 1 = x`, `1 * x = x`.
fn multiply_one(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op != NodeOp::Binary(BinaryOp::Multiply) {
        return;
    }
    both_orders(node, |x, one| {
        if splat_is(ctx, one, |s| s.is(1)) {
            out.push(x.into());
        }
    });
}

/// `x / 1 = x`.
fn divide_one(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op == NodeOp::Binary(BinaryOp::Divide) && splat_is(ctx, node.children[1], |s| s.is(1)) {
        out.push(node.children[0].into());
    }
}

fn negation_of(ctx: &Ctx, id: egg::Id) -> Option<egg::Id> {
    ctx.nodes(id)
        .iter()
        .find(|n| n.op == NodeOp::Unary(UnaryOp::Negate))
        .map(|n| n.children[0])
}

/// `-(-x) = x`.
fn double_negation(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op == NodeOp::Unary(UnaryOp::Negate)
        && let Some(x) = negation_of(ctx, node.children[0])
    {
        out.push(x.into());
    }
}

/// `x - (-y) = x + y`.
fn subtract_negation(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op == NodeOp::Binary(BinaryOp::Subtract)
        && let Some(y) = negation_of(ctx, node.children[1])
    {
        out.push(Rhs::node(
            NodeOp::Binary(BinaryOp::Add),
            vec![node.children[0].into(), y.into()],
        ));
    }
}

/// `x + (-y) = x - y` (and `(-y) + x`).
fn add_negation(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op != NodeOp::Binary(BinaryOp::Add) {
        return;
    }
    both_orders(node, |x, neg| {
        if let Some(y) = negation_of(ctx, neg) {
            out.push(Rhs::node(
                NodeOp::Binary(BinaryOp::Subtract),
                vec![x.into(), y.into()],
            ));
        }
    });
}

/// `(-a) * (-b) = a * b`.
fn negations_multiply(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op == NodeOp::Binary(BinaryOp::Multiply)
        && let (Some(a), Some(b)) = (
            negation_of(ctx, node.children[0]),
            negation_of(ctx, node.children[1]),
        )
    {
        out.push(Rhs::node(
            NodeOp::Binary(BinaryOp::Multiply),
            vec![a.into(), b.into()],
        ));
    }
}

/// `x / 2^k = x * 2^-k`: exact when both powers of two are normal floats.
fn divide_power_of_two(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op != NodeOp::Binary(BinaryOp::Divide) {
        return;
    }
    let Some(c) = ctx.splat(node.children[1]).and_then(Scalar::as_f32) else {
        return;
    };
    let exact = |v: f32| v.is_normal() && v.to_bits() & 0x007f_ffff == 0;
    if exact(c) && exact(1.0 / c) && c != 1.0 {
        let shape = ctx.shape(node.children[1]);
        out.push(Rhs::node(
            NodeOp::Binary(BinaryOp::Multiply),
            vec![
                node.children[0].into(),
                super::splat(shape, Scalar::f32(1.0 / c)),
            ],
        ));
    }
}

/// `convert<T>(x) = x` when `x` is already of type `T`.
fn convert_same_type(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::Convert(element) = node.op
        && ctx.shape(node.children[0]).element == element
    {
        out.push(node.children[0].into());
    }
}

/// `reshape(reshape(x)) = reshape(x)`.
fn reshape_reshape(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::Reshape { dims } = &node.op {
        for inner in ctx.nodes(node.children[0]) {
            if let NodeOp::Reshape { .. } = inner.op {
                out.push(Rhs::node(
                    NodeOp::Reshape { dims: dims.clone() },
                    vec![inner.children[0].into()],
                ));
            }
        }
    }
}

/// `reshape(x) = x` when the dimensions do not change.
fn reshape_identity(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::Reshape { dims } = &node.op
        && ctx.shape(node.children[0]).dims == *dims
    {
        out.push(node.children[0].into());
    }
}

/// `broadcast(broadcast(x, d1), d2) = broadcast(x, d2 ∘ d1)`.
fn broadcast_broadcast(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::Broadcast { dimensions, dims } = &node.op {
        for inner in ctx.nodes(node.children[0]) {
            if let NodeOp::Broadcast {
                dimensions: inner_dimensions,
                ..
            } = &inner.op
            {
                out.push(Rhs::node(
                    NodeOp::Broadcast {
                        dimensions: inner_dimensions.iter().map(|&d| dimensions[d]).collect(),
                        dims: dims.clone(),
                    },
                    vec![inner.children[0].into()],
                ));
            }
        }
    }
}

/// `broadcast(x, [0, 1, ..]) = x` when the shape does not change.
fn broadcast_identity(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::Broadcast { dimensions, dims } = &node.op
        && ctx.shape(node.children[0]).dims == *dims
        && dimensions.iter().copied().eq(0..dims.len())
    {
        out.push(node.children[0].into());
    }
}

/// `reshape(broadcast(s, [])) = broadcast(s, [])` for a scalar `s`.
fn reshape_scalar_broadcast(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::Reshape { dims } = &node.op {
        for inner in ctx.nodes(node.children[0]) {
            if is_scalar_broadcast(inner) {
                out.push(Rhs::node(
                    NodeOp::Broadcast {
                        dimensions: vec![],
                        dims: dims.clone(),
                    },
                    vec![inner.children[0].into()],
                ));
            }
        }
    }
}

/// `f(broadcast(x)) = broadcast(f(x))` for elementwise `f` of one operand: compute
/// on the smaller array.
fn unary_of_broadcast(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if !matches!(
        node.op,
        NodeOp::Unary(_) | NodeOp::Convert(_) | NodeOp::BitcastConvert(_)
    ) {
        return;
    }
    for inner in ctx.nodes(node.children[0]) {
        if let NodeOp::Broadcast { dimensions, dims } = &inner.op {
            out.push(Rhs::node(
                NodeOp::Broadcast {
                    dimensions: dimensions.clone(),
                    dims: dims.clone(),
                },
                vec![Rhs::node(node.op.clone(), vec![inner.children[0].into()])],
            ));
        }
    }
}

/// `f(broadcast(a, d), broadcast(b, d)) = broadcast(f(a, b), d)` when `a` and `b`
/// have one shape.
fn binary_of_broadcasts(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if !matches!(node.op, NodeOp::Binary(_) | NodeOp::Compare(_)) {
        return;
    }
    for a in ctx.nodes(node.children[0]) {
        let NodeOp::Broadcast { dimensions, dims } = &a.op else {
            continue;
        };
        for b in ctx.nodes(node.children[1]) {
            if let NodeOp::Broadcast {
                dimensions: b_dimensions,
                ..
            } = &b.op
                && b_dimensions == dimensions
                && ctx.shape(a.children[0]).dims == ctx.shape(b.children[0]).dims
            {
                out.push(Rhs::node(
                    NodeOp::Broadcast {
                        dimensions: dimensions.clone(),
                        dims: dims.clone(),
                    },
                    vec![Rhs::node(
                        node.op.clone(),
                        vec![a.children[0].into(), b.children[0].into()],
                    )],
                ));
            }
        }
    }
}

/// `f(reshape(a), reshape(b)) = reshape(f(a, b))` when `a` and `b` have one shape;
/// an operand that is one value everywhere needs only the other shape. Reshapes
/// then meet and cancel (`reshape(reshape(x)) = x`) instead of staying apart.
fn reshape_out_of_elementwise(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if !matches!(
        node.op,
        NodeOp::Unary(_)
            | NodeOp::Convert(_)
            | NodeOp::BitcastConvert(_)
            | NodeOp::Binary(_)
            | NodeOp::Compare(_)
            | NodeOp::Select
    ) {
        return;
    }
    let reshaped = |c: egg::Id| {
        ctx.nodes(c)
            .iter()
            .find(|n| matches!(n.op, NodeOp::Reshape { .. }))
            .map(|n| n.children[0])
    };
    let Some(before) = node.children.iter().find_map(|&c| reshaped(c)) else {
        return;
    };
    let before_shape = ctx.shape(before).clone();
    let mut operands = Vec::new();
    for &c in &node.children {
        match (reshaped(c), ctx.splat(c)) {
            (Some(x), _) if ctx.shape(x).dims == before_shape.dims => operands.push(x.into()),
            (_, Some(value)) => operands.push(super::splat(&before_shape, value)),
            _ => return,
        }
    }
    let dims = ctx.shape(node.children[0]).dims.clone();
    out.push(Rhs::node(
        NodeOp::Reshape { dims },
        vec![Rhs::node(node.op.clone(), operands)],
    ));
}

/// `dot(a * s, b) = dot(a, b) * s` for a scalar `s` broadcast (either operand, either
/// factor): the multiply moves to the dot's epilogue, where it runs on the result.
fn dot_scalar_factor(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::Dot(_) = &node.op else { return };
    let result_dims = dot_result_dims(ctx, node);
    for side in 0..2 {
        for product in ctx.nodes(node.children[side]) {
            if product.op != NodeOp::Binary(BinaryOp::Multiply) {
                continue;
            }
            both_orders(product, |a, s| {
                let Some(scalar) = ctx
                    .nodes(s)
                    .iter()
                    .find(|n| is_scalar_broadcast(n))
                    .map(|n| n.children[0])
                else {
                    return;
                };
                let mut operands: Vec<Rhs> = node.children.iter().map(|&c| c.into()).collect();
                operands[side] = a.into();
                out.push(Rhs::node(
                    NodeOp::Binary(BinaryOp::Multiply),
                    vec![
                        Rhs::node(node.op.clone(), operands),
                        Rhs::node(
                            NodeOp::Broadcast {
                                dimensions: vec![],
                                dims: result_dims.clone(),
                            },
                            vec![scalar.into()],
                        ),
                    ],
                ));
            });
        }
    }
}

fn dot_result_dims(ctx: &Ctx, node: &Node) -> Vec<usize> {
    let children: Vec<egg::Id> = node.children.clone();
    crate::opt::analysis::result_shape(&node.op, &children, |id| ctx.shape(id))
        .map(|s| s.dims)
        .unwrap_or_default()
}
