//! The index ops simplified: reverses composed and cancelled, padding and
//! updates that change nothing removed, dynamic slices whose starts are known
//! turned into slices, and a `reduce-precision` to at least the type's own
//! widths removed, and a scatter into the identity of the op that then
//! combines it with an array made a scatter into that array. (Reverses, pads
//! and slices of splats are splats: the analysis folds them.)

use super::Rule;
use crate::hlo::index_ops::clamp_start;
use crate::hlo::reduce_precision::float_format;
use crate::hlo::{Number, ReduceOp, SliceDim};
use crate::opt::node::{Node, NodeOp};
use crate::opt::saturate::{Ctx, Rhs};

use super::both_orders;

pub fn rules() -> Vec<Rule> {
    vec![
        Rule {
            name: "reverse-reverse",
            search: reverse_reverse,
        },
        Rule {
            name: "reverse-identity",
            search: reverse_identity,
        },
        Rule {
            name: "pad-identity",
            search: pad_identity,
        },
        Rule {
            name: "dynamic-slice-known-starts",
            search: dynamic_slice_known_starts,
        },
        Rule {
            name: "dynamic-update-slice-whole",
            search: dynamic_update_slice_whole,
        },
        Rule {
            name: "reduce-precision-identity",
            search: reduce_precision_identity,
        },
        Rule {
            name: "combine-into-scatter",
            search: combine_into_scatter,
        },
    ]
}

/// `reverse(reverse(x, a), b) = reverse(x, a △ b)`: a dimension reversed twice
/// is back in order; `x` itself when none is left.
fn reverse_reverse(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::Reverse { dimensions: b } = &node.op else {
        return;
    };
    for inner in ctx.nodes(node.children[0]) {
        if let NodeOp::Reverse { dimensions: a } = &inner.op {
            let mut dims: Vec<usize> = a.iter().chain(b).copied().collect();
            dims.sort_unstable();
            let once: Vec<usize> = dims
                .iter()
                .copied()
                .filter(|d| dims.iter().filter(|e| *e == d).count() == 1)
                .collect();
            let x = inner.children[0].into();
            out.push(match once.is_empty() {
                true => x,
                false => Rhs::node(NodeOp::Reverse { dimensions: once }, vec![x]),
            });
        }
    }
}

/// `reverse(x, dims) = x` when every reversed dimension has at most one element.
fn reverse_identity(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::Reverse { dimensions } = &node.op {
        let x = node.children[0];
        if dimensions.iter().all(|&d| ctx.shape(x).dims[d] <= 1) {
            out.push(x.into());
        }
    }
}

/// `pad(x, v, 0_0x0_0...) = x`.
fn pad_identity(_: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::Pad { config } = &node.op
        && config.iter().all(|p| p.is_identity())
    {
        out.push(node.children[0].into());
    }
}

/// `dynamic-slice(x, s_0, ...) = slice(x, [c_0 : c_0 + size_0], ...)` when every
/// start is a constant `s_i` (clamped to `c_i` as XLA does) or does not matter
/// (its size is the whole dimension, so it clamps to 0).
fn dynamic_slice_known_starts(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::DynamicSlice { sizes } = &node.op else {
        return;
    };
    let operand = ctx.shape(node.children[0]);
    let mut dims = Vec::with_capacity(sizes.len());
    for (d, (&start, &size)) in node.children[1..].iter().zip(sizes).enumerate() {
        let dim = operand.dims[d];
        let known = match ctx.splat(start).map(|s| s.to_number()) {
            Some(Number::Int(i)) => clamp_start(i, dim, size),
            _ if size == dim => 0,
            _ => return,
        };
        dims.push(SliceDim {
            start: known,
            limit: known + size,
            stride: 1,
        });
    }
    out.push(Rhs::node(
        NodeOp::Slice { dims },
        vec![node.children[0].into()],
    ));
}

/// `dynamic-update-slice(x, u, ...) = u` when `u` covers all of `x` (every start
/// clamps to 0).
fn dynamic_update_slice_whole(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if node.op == NodeOp::DynamicUpdateSlice {
        let [x, u] = [node.children[0], node.children[1]];
        if ctx.shape(x).dims == ctx.shape(u).dims {
            out.push(u.into());
        }
    }
}

/// `reduce-precision(x) = x` when the format has at least the type's own
/// exponent and mantissa bits: no rounding, no overflow, NaNs kept.
fn reduce_precision_identity(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::ReducePrecision {
        exponent_bits,
        mantissa_bits,
    } = node.op
    {
        let x = node.children[0];
        let (e, m) = float_format(ctx.shape(x).element).expect("the shape rule admits floats");
        if exponent_bits >= e && mantissa_bits >= m {
            out.push(x.into());
        }
    }
}

/// `x ⊕ scatter(e, i, u, ⊕) = scatter(x, i, u, ⊕)` where `e` is a splat of
/// the identity of `⊕` (an add, multiply, maximum, minimum, and, or): where no
/// update lands both sides are `x`, and where updates land both combine `x`
/// with them (floating-point sums in another order, as any reduction's).
/// A gradient's one-hot scatter-add then updates the array it is added to,
/// in place of a scatter into zeros, a copy and an add.
fn combine_into_scatter(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::Binary(op) = node.op else {
        return;
    };
    let Some(reduce) = ReduceOp::from_combiner(op) else {
        return;
    };
    both_orders(node, |x, scattered| {
        for inner in ctx.nodes(scattered) {
            let NodeOp::Scatter { update, .. } = &inner.op else {
                continue;
            };
            let identity = reduce.identity(ctx.shape(x).element);
            let into_identity = ctx.splat(inner.children[0]) == Some(identity);
            if into_identity && ctx.combiner(*update) == Some(reduce) {
                let mut children: Vec<Rhs> = inner.children.iter().map(|&c| c.into()).collect();
                children[0] = x.into();
                out.push(Rhs::node(inner.op.clone(), children));
            }
        }
    });
}
