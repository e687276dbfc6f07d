//! Type promotion: JAX's lattice (`jax._src.dtypes._type_promotion_lattice`),
//! with weakly typed literals.
//!
//! The rule, in one place (README.md "The language" says the same):
//! - two types promote to their least upper bound in JAX's lattice: `bool <
//!   i* < {u8, i8}`, `u8 < {i16, u16}`, `u16 < {i32, u32}`, `u32 < {i64, u64}`,
//!   `i8 < i16 < i32 < i64`, `{u64, i64} < f* < {bf16, f16}`, `{bf16, f16} < f32 <
//!   f64`, where `i*` and `f*` are the weak (literal) int and float;
//! - a weak type left over resolves to JAX's default with x64 disabled: `i*` is
//!   `i32`, `f*` is `f32` (so `i8 + 1.5`, `u64 + i64` and `i64 + 1.5` are `f32`);
//! - strong 64-bit types stay 64-bit, as with JAX's `jax_enable_x64`: `u32 + i32`
//!   is `i64` (JAX with x64 disabled would canonicalize it to `i32`);
//! - an operation that needs a float (`/`, `mean`, `sin`, ...) makes integers and
//!   bools `f32`, and 64-bit integers `f64` ([`to_inexact`]), as JAX does.

use crate::hlo::ElementType;

use super::value::Value;

/// A node of the lattice: an element type, or a weak literal's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Strong(ElementType),
    WeakInt,
    WeakFloat,
}

/// The nodes directly above `n`.
fn above(n: Node) -> &'static [Node] {
    use ElementType as E;
    use Node::{Strong as S, WeakFloat, WeakInt};
    match n {
        S(E::Pred) => &[WeakInt],
        WeakInt => &[S(E::U8), S(E::S8)],
        S(E::U8) => &[S(E::S16), S(E::U16)],
        S(E::U16) => &[S(E::S32), S(E::U32)],
        S(E::U32) => &[S(E::S64), S(E::U64)],
        S(E::U64) | S(E::S64) => &[WeakFloat],
        S(E::S8) => &[S(E::S16)],
        S(E::S16) => &[S(E::S32)],
        S(E::S32) => &[S(E::S64)],
        WeakFloat => &[S(E::Bf16), S(E::F16)],
        S(E::Bf16) | S(E::F16) => &[S(E::F32)],
        S(E::F32) => &[S(E::F64)],
        S(E::F64) => &[],
    }
}

/// `n` and every node above it.
fn upper_set(n: Node) -> Vec<Node> {
    let mut set = vec![n];
    let mut i = 0;
    while i < set.len() {
        for &m in above(set[i]) {
            if !set.contains(&m) {
                set.push(m);
            }
        }
        i += 1;
    }
    set
}

/// The least upper bound of two nodes: the common upper bound below all others.
fn join(a: Node, b: Node) -> Node {
    let (ua, ub) = (upper_set(a), upper_set(b));
    let common: Vec<Node> = ua.into_iter().filter(|n| ub.contains(n)).collect();
    common
        .iter()
        .copied()
        .find(|&c| upper_set(c).len() == common.len())
        .expect("JAX's lattice has a least upper bound for every pair")
}

fn node_of(v: &Value) -> Option<Node> {
    match v {
        Value::Tensor(t) => Some(Node::Strong(t.element())),
        Value::Int(_) => Some(Node::WeakInt),
        Value::Float(_) => Some(Node::WeakFloat),
        // Python's bool is not weak in JAX, and `bool` is the bottom anyway.
        Value::Bool(_) => Some(Node::Strong(ElementType::Pred)),
        _ => None,
    }
}

/// The element type several operands promote to; `None` without any operand
/// that has a type.
pub fn promoted(values: &[&Value]) -> Option<ElementType> {
    let node = values.iter().filter_map(|v| node_of(v)).reduce(join)?;
    Some(match node {
        Node::Strong(e) => e,
        Node::WeakInt => ElementType::S32,
        Node::WeakFloat => ElementType::F32,
    })
}

/// The promotion of two element types (both strong).
pub fn promote_types(a: ElementType, b: ElementType) -> ElementType {
    match join(Node::Strong(a), Node::Strong(b)) {
        Node::Strong(e) => e,
        _ => ElementType::F32,
    }
}

/// The float type an operation that needs one computes `element` in.
pub fn to_inexact(element: ElementType) -> ElementType {
    match element {
        e if e.is_float() => e,
        ElementType::S64 | ElementType::U64 => ElementType::F64,
        _ => ElementType::F32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ElementType as E;

    /// Pairs checked against `jnp.promote_types` (x64 enabled where a 64-bit type
    /// is involved; with x64 disabled JAX has no 64-bit arrays).
    #[test]
    fn joins_follow_jax() {
        for (a, b, want) in [
            (E::S8, E::U8, E::S16),
            (E::U32, E::S32, E::S64),
            (E::U64, E::S64, E::F32),
            (E::U64, E::S8, E::F32),
            (E::Bf16, E::F16, E::F32),
            (E::S32, E::F16, E::F16),
            (E::Pred, E::S8, E::S8),
            (E::U8, E::U16, E::U16),
            (E::U16, E::S8, E::S32),
            (E::F32, E::F64, E::F64),
            (E::S64, E::Bf16, E::Bf16),
        ] {
            assert_eq!(promote_types(a, b), want, "{a} with {b}");
            assert_eq!(promote_types(b, a), want, "{b} with {a}");
        }
    }

    #[test]
    fn weak_literals_take_the_array_type() {
        let join_weak = |e: E, weak: Node| match join(Node::Strong(e), weak) {
            Node::Strong(e) => e,
            Node::WeakInt => E::S32,
            Node::WeakFloat => E::F32,
        };
        assert_eq!(join_weak(E::U8, Node::WeakInt), E::U8);
        assert_eq!(join_weak(E::Pred, Node::WeakInt), E::S32);
        assert_eq!(join_weak(E::S8, Node::WeakFloat), E::F32);
        assert_eq!(join_weak(E::F16, Node::WeakFloat), E::F16);
        assert_eq!(join_weak(E::Bf16, Node::WeakInt), E::Bf16);
    }
}
