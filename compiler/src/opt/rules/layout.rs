//! Layout permutation: transposes composed, cancelled, moved through elementwise
//! ops, broadcasts and reductions, and folded into `dot` dimension numbers, so that
//! extraction can choose the form where no transpose is left to materialize.
//!
//! A transpose's `permutation[i]` names the operand dimension that becomes result
//! dimension `i`.

use super::{Rule, is_elementwise, splat};
use crate::hlo::DotDims;
use crate::opt::node::{Node, NodeOp};
use crate::opt::saturate::{Ctx, Rhs};
use crate::opt::to_egraph::inverse;

pub fn rules() -> Vec<Rule> {
    vec![
        Rule {
            name: "transpose-transpose",
            search: transpose_transpose,
        },
        Rule {
            name: "transpose-identity",
            search: transpose_identity,
        },
        Rule {
            name: "transpose-into-elementwise",
            search: transpose_into_elementwise,
        },
        Rule {
            name: "transpose-out-of-elementwise",
            search: transpose_out_of_elementwise,
        },
        Rule {
            name: "transpose-of-broadcast",
            search: transpose_of_broadcast,
        },
        Rule {
            name: "reduce-of-transpose",
            search: reduce_of_transpose,
        },
        Rule {
            name: "dot-of-transpose",
            search: dot_of_transpose,
        },
        Rule {
            name: "transpose-of-dot",
            search: transpose_of_dot,
        },
    ]
}

fn transpose(permutation: Vec<usize>, x: Rhs) -> Rhs {
    if permutation.iter().copied().eq(0..permutation.len()) {
        return x;
    }
    Rhs::node(NodeOp::Transpose { permutation }, vec![x])
}

/// `transpose(transpose(x, p), q) = transpose(x, r)` with `r[i] = p[q[i]]`.
fn transpose_transpose(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::Transpose { permutation: q } = &node.op else {
        return;
    };
    for inner in ctx.nodes(node.children[0]) {
        if let NodeOp::Transpose { permutation: p } = &inner.op {
            let r = q.iter().map(|&i| p[i]).collect();
            out.push(transpose(r, inner.children[0].into()));
        }
    }
}

/// `transpose(x, [0, 1, ..]) = x`.
fn transpose_identity(_: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if let NodeOp::Transpose { permutation } = &node.op
        && permutation.iter().copied().eq(0..permutation.len())
    {
        out.push(node.children[0].into());
    }
}

/// `transpose(f(a, b), p) = f(transpose(a, p), transpose(b, p))` for elementwise
/// `f`; scalar operands (of `clamp`) stay as they are.
fn transpose_into_elementwise(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::Transpose { permutation } = &node.op else {
        return;
    };
    for inner in ctx.nodes(node.children[0]) {
        if !is_elementwise(&inner.op) {
            continue;
        }
        let operands = inner
            .children
            .iter()
            .map(|&c| match ctx.shape(c).rank() {
                0 => c.into(),
                _ => transpose(permutation.clone(), c.into()),
            })
            .collect();
        out.push(Rhs::node(inner.op.clone(), operands));
    }
}

/// `f(transpose(a, p), transpose(b, p)) = transpose(f(a, b), p)`; an operand that is
/// one value everywhere needs no transpose, only the other shape.
fn transpose_out_of_elementwise(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    if !is_elementwise(&node.op) {
        return;
    }
    let Some(permutation) = node.children.iter().find_map(|&c| {
        ctx.nodes(c).iter().find_map(|n| match &n.op {
            NodeOp::Transpose { permutation } => Some(permutation.clone()),
            _ => None,
        })
    }) else {
        return;
    };
    let mut operands = Vec::new();
    for &c in &node.children {
        let shape = ctx.shape(c);
        let transposed = ctx
            .nodes(c)
            .iter()
            .find(|n| matches!(&n.op, NodeOp::Transpose { permutation: p } if *p == permutation));
        operands.push(match (transposed, ctx.splat(c)) {
            _ if shape.rank() == 0 => c.into(),
            (Some(t), _) => t.children[0].into(),
            (None, Some(value)) => {
                let mut before = shape.clone();
                before.dims = inverse(&permutation)
                    .iter()
                    .map(|&d| shape.dims[d])
                    .collect();
                splat(&before, value)
            }
            (None, None) => return,
        });
    }
    out.push(transpose(permutation, Rhs::node(node.op.clone(), operands)));
}

/// `transpose(broadcast(x, d), p) = broadcast(x', d')`: the broadcast writes `x`'s
/// dimensions where the transpose would have moved them (transposing `x` itself
/// first when they would land out of order).
fn transpose_of_broadcast(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::Transpose { permutation } = &node.op else {
        return;
    };
    let pinv = inverse(permutation);
    for inner in ctx.nodes(node.children[0]) {
        let NodeOp::Broadcast { dimensions, dims } = &inner.op else {
            continue;
        };
        let moved: Vec<usize> = dimensions.iter().map(|&d| pinv[d]).collect();
        let mut order: Vec<usize> = (0..moved.len()).collect();
        order.sort_by_key(|&i| moved[i]);
        let sorted: Vec<usize> = order.iter().map(|&i| moved[i]).collect();
        out.push(Rhs::node(
            NodeOp::Broadcast {
                dimensions: sorted,
                dims: permutation.iter().map(|&d| dims[d]).collect(),
            },
            vec![transpose(order, inner.children[0].into())],
        ));
    }
}

/// `reduce(transpose(x, p), D) = transpose(reduce(x, p[D]), q)`, where `q` restores
/// the order of the kept dimensions (and is usually the identity).
fn reduce_of_transpose(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::Reduce {
        dimensions,
        reducer,
    } = &node.op
    else {
        return;
    };
    for inner in ctx.nodes(node.children[0]) {
        let NodeOp::Transpose { permutation: p } = &inner.op else {
            continue;
        };
        let mut reduced: Vec<usize> = dimensions.iter().map(|&d| p[d]).collect();
        reduced.sort_unstable();
        let kept_in_x: Vec<usize> = (0..p.len()).filter(|d| !reduced.contains(d)).collect();
        let q = (0..p.len())
            .filter(|d| !dimensions.contains(d))
            .map(|k| kept_in_x.iter().position(|&s| s == p[k]).unwrap())
            .collect();
        let reduce = Rhs::node(
            NodeOp::Reduce {
                dimensions: reduced,
                reducer: *reducer,
            },
            vec![inner.children[0].into(), node.children[1].into()],
        );
        out.push(transpose(q, reduce));
    }
}

/// `dot(transpose(a, p), b) = dot(a, b)` with the lhs dimension numbers mapped
/// through `p` (and likewise for the rhs): the dot reads the operand in place. Only
/// where the free dimensions keep their order, so the result is unchanged.
fn dot_of_transpose(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::Dot(dims) = &node.op else { return };
    for side in 0..2 {
        for inner in ctx.nodes(node.children[side]) {
            let NodeOp::Transpose { permutation: p } = &inner.op else {
                continue;
            };
            let (batch, contracting) = match side {
                0 => (&dims.lhs_batch, &dims.lhs_contracting),
                _ => (&dims.rhs_batch, &dims.rhs_contracting),
            };
            let free: Vec<usize> = (0..p.len())
                .filter(|d| !batch.contains(d) && !contracting.contains(d))
                .map(|d| p[d])
                .collect();
            if !free.is_sorted() {
                continue;
            }
            let map = |v: &Vec<usize>| v.iter().map(|&d| p[d]).collect::<Vec<usize>>();
            let mut new = dims.clone();
            if side == 0 {
                new.lhs_batch = map(batch);
                new.lhs_contracting = map(contracting);
            } else {
                new.rhs_batch = map(batch);
                new.rhs_contracting = map(contracting);
            }
            let mut operands: Vec<Rhs> = node.children.iter().map(|&c| c.into()).collect();
            operands[side] = inner.children[0].into();
            out.push(Rhs::node(NodeOp::Dot(new), operands));
        }
    }
}

/// `transpose(dot(a, b), [batch, rhs free, lhs free]) = dot(b, a)`: the dot writes
/// its result in the transposed order directly.
fn transpose_of_dot(ctx: &Ctx, node: &Node, out: &mut Vec<Rhs>) {
    let NodeOp::Transpose { permutation } = &node.op else {
        return;
    };
    for inner in ctx.nodes(node.children[0]) {
        let NodeOp::Dot(dims) = &inner.op else {
            continue;
        };
        let [a, b] = inner.children[..] else { continue };
        let nb = dims.lhs_batch.len();
        let nl = ctx.shape(a).rank() - nb - dims.lhs_contracting.len();
        let nr = ctx.shape(b).rank() - nb - dims.rhs_contracting.len();
        let swapped: Vec<usize> = (0..nb)
            .chain(nb + nl..nb + nl + nr)
            .chain(nb..nb + nl)
            .collect();
        if nl == 0 || nr == 0 || *permutation != swapped {
            continue;
        }
        let new = DotDims {
            lhs_batch: dims.rhs_batch.clone(),
            rhs_batch: dims.lhs_batch.clone(),
            lhs_contracting: dims.rhs_contracting.clone(),
            rhs_contracting: dims.lhs_contracting.clone(),
        };
        out.push(Rhs::node(NodeOp::Dot(new), vec![b.into(), a.into()]));
    }
}
