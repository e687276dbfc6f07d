//! Regions kept as computations: a `sort`'s comparator, a variadic
//! `reduce`'s combiner, a `scatter`'s update and a `reduce-window`'s region
//! are computations of the module (referenced by `ComputationId`, as a
//! fusion's callee is), because JAX writes them in more forms than a closed
//! enum would hold (NaN-aware total orders, lexicographic keys, argmax's index
//! tie-break, `.at[].apply`'s function, cumulative log-add-exp).
//!
//! This file owns what is known about them: which ops a region may hold
//! (scalar ops only, [`check`], which the verifier runs), what a region
//! computes on scalars ([`apply`], the interpreter's semantics), and the
//! recognizers that backends and the optimizer use on the forms JAX emits
//! ([`sort_keys`], [`arg_reduce`], [`combiner`]).

use super::element::Scalar;
use super::module::{Computation, InstrId};
use super::op::{BinaryOp, Direction, Op, ReduceOp};
use super::shape::{ElementType, Kind, Shape};

/// What a region gives: one scalar, or a tuple of scalars (a variadic
/// reduce's, even of one operand, as XLA's shape inference wants).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gives {
    Scalar(ElementType),
    Tuple(Vec<ElementType>),
}

/// Checks that `comp` is a scalar region taking `params` and giving `gives`:
/// every instruction a scalar op.
pub fn check(comp: &Computation, params: &[ElementType], gives: &Gives) -> Result<(), String> {
    let name = &comp.name;
    if comp.parameters.len() != params.len() {
        return Err(format!(
            "region {name} takes {} parameters, but {} are passed",
            comp.parameters.len(),
            params.len()
        ));
    }
    for (i, (&p, &t)) in comp.parameters.iter().zip(params).enumerate() {
        let shape = &comp.instr(p).shape;
        if !is_scalar_of(shape, t) {
            return Err(format!(
                "region {name}'s parameter {i} is {shape}, but {t}[] is passed"
            ));
        }
    }
    let root = &comp.root_instr().shape;
    let actual = match root {
        Shape::Array(a) if a.rank() == 0 => Some(Gives::Scalar(a.element)),
        Shape::Tuple(elements) if elements.iter().all(|e| e.rank() == 0) => {
            Some(Gives::Tuple(elements.iter().map(|e| e.element).collect()))
        }
        _ => None,
    };
    if actual.as_ref() != Some(gives) {
        let want = match gives {
            Gives::Scalar(t) => format!("{t}[]"),
            Gives::Tuple(ts) => {
                let ts: Vec<String> = ts.iter().map(|t| format!("{t}[]")).collect();
                format!("({})", ts.join(", "))
            }
        };
        return Err(format!(
            "region {name} gives {root}, but {want} is expected"
        ));
    }
    for id in comp.ids() {
        let instr = comp.instr(id);
        let scalar = instr.shape.as_array().is_some_and(|a| a.rank() == 0);
        let tuple_root = id == comp.root && matches!(instr.op, Op::Tuple);
        if !(is_scalar_op(&instr.op) && (scalar || tuple_root)) {
            return Err(format!(
                "region {name} may compute on scalars only: {} is {} {}",
                instr.name,
                instr.shape,
                instr.op.opcode()
            ));
        }
    }
    Ok(())
}

fn is_scalar_of(shape: &Shape, t: ElementType) -> bool {
    shape
        .as_array()
        .is_some_and(|a| a.rank() == 0 && a.element == t)
}

/// The ops [`apply`] evaluates on scalars.
fn is_scalar_op(op: &Op) -> bool {
    op.is_elementwise()
        || matches!(
            op,
            Op::Parameter(_)
                | Op::Constant(_)
                | Op::CompareTotalOrder(_)
                | Op::Reshape
                | Op::Broadcast { .. }
                | Op::Tuple
        )
}

/// The region's results on `args`, one scalar per result. `comp` passed
/// [`check`].
pub fn apply(comp: &Computation, args: &[Scalar]) -> Vec<Scalar> {
    let mut values: Vec<Scalar> = Vec::with_capacity(comp.instructions.len());
    for id in comp.ids() {
        let instr = comp.instr(id);
        let x = |i: usize| values[instr.operands[i].index()];
        let value = match &instr.op {
            Op::Parameter(n) => args[*n],
            Op::Constant(literal) => literal.get(0),
            Op::Unary(u) => Scalar::unary(*u, x(0)),
            Op::Binary(b) => Scalar::binary(*b, x(0), x(1)),
            Op::Compare(d) => Scalar::compare(*d, x(0), x(1)),
            Op::CompareTotalOrder(d) => total_order_compare(*d, x(0), x(1)),
            Op::Select => {
                if x(0).bits != 0 {
                    x(1)
                } else {
                    x(2)
                }
            }
            Op::Clamp => {
                let above = Scalar::binary(BinaryOp::Maximum, x(1), x(0));
                Scalar::binary(BinaryOp::Minimum, above, x(2))
            }
            Op::Convert => x(0).convert(instr.array_shape().element),
            Op::BitcastConvert => x(0).bitcast_convert(instr.array_shape().element),
            Op::Reshape | Op::Broadcast { .. } => x(0),
            // Only the root is a tuple: its elements are the results.
            Op::Tuple => {
                return instr.operands.iter().map(|o| values[o.index()]).collect();
            }
            op => unreachable!("check admits no {} in a region", op.opcode()),
        };
        values.push(value);
    }
    vec![values[comp.root.index()]]
}

/// The [`ReduceOp`] a region applies to its two parameters, where it is one
/// op of them alone (a scatter-add's `add`, in either operand order: every
/// `ReduceOp` commutes).
pub fn combiner(comp: &Computation) -> Option<ReduceOp> {
    let root = comp.root_instr();
    let Op::Binary(op) = root.op else {
        return None;
    };
    let parameter = |id: InstrId| match comp.instr(id).op {
        Op::Parameter(n) => Some(n),
        _ => None,
    };
    let params: Option<Vec<usize>> = root.operands.iter().map(|&o| parameter(o)).collect();
    let both = matches!(params.as_deref(), Some([0, 1] | [1, 0]));
    (both && comp.instructions.len() == 3)
        .then(|| ReduceOp::from_combiner(op))
        .flatten()
}

/// `compare` with `type=TOTALORDER`: floats ordered by their sign-magnitude
/// bits (`-NaN < -inf < -0 < +0 < inf < NaN`), other types as usual.
pub fn total_order_compare(direction: Direction, x: Scalar, y: Scalar) -> Scalar {
    if x.element.kind() != Kind::Float {
        return Scalar::compare(direction, x, y);
    }
    let key = |s: Scalar| -> i128 {
        let width = s.element.bit_width();
        let magnitude = (s.bits & ((1u64 << (width - 1)) - 1)) as i128;
        if s.bits >> (width - 1) & 1 == 1 {
            -magnitude - 1
        } else {
            magnitude
        }
    };
    let (a, b) = (key(x), key(y));
    Scalar::new(match direction {
        Direction::Eq => a == b,
        Direction::Ne => a != b,
        Direction::Lt => a < b,
        Direction::Le => a <= b,
        Direction::Gt => a > b,
        Direction::Ge => a >= b,
    })
}

/// How one key of a sort comparator compares two elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrder {
    /// `compare` as is: a float NaN is unordered (a non-strict order).
    Partial,
    /// `type=TOTALORDER` on the elements themselves.
    TotalOrder,
    /// JAX's float order: NaNs made one positive NaN and `-0` made `+0`, then
    /// total order: NaN sorts last, zeros tie.
    NanLast,
}

/// One key of a lexicographic sort comparator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    /// Which operand of the sort.
    pub operand: usize,
    pub descending: bool,
    pub order: KeyOrder,
}

/// The keys of a comparator of JAX's form, most significant first:
/// `lt(k0)`, or `or(lt(k0), and(eq(k0), rest))` for several keys, where each
/// `lt`/`eq` compares operand `i`'s two elements (parameters `2i` and `2i+1`,
/// swapped for a descending key) as they are or canonicalized.
pub fn sort_keys(comp: &Computation) -> Option<Vec<SortKey>> {
    let m = Matcher { comp };
    let mut keys = Vec::new();
    let mut at = comp.root;
    loop {
        if let Some(key) = m.less(at) {
            keys.push(key);
            return Some(keys);
        }
        let (first, rest) = m.binary(at, BinaryOp::Or)?;
        let key = m.less(first)?;
        let (equal, next) = m.binary(rest, BinaryOp::And)?;
        if m.equal(equal)? != (key.operand, key.order) {
            return None;
        }
        keys.push(key);
        at = next;
    }
}

/// Which extreme an argmax-like reduce keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extreme {
    Max,
    Min,
}

/// A variadic reduce's region of JAX's argmax/argmin form on (value, index)
/// pairs: it keeps the greater (lesser) value, a NaN winning where
/// `nan_wins`, and of equal values the smaller index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgReduce {
    pub extreme: Extreme,
    pub nan_wins: bool,
}

/// Recognizes `tuple(select(c, v0, v1), select(or(c, and(eq(v0, v1), lt(i0, i1))), i0, i1))`
/// with `c` = `gt(v0, v1)` (`lt` for argmin), or `or(c, ne(v0, v0))` where NaN
/// wins. Parameters: `v0, i0` the accumulator, `v1, i1` the element.
pub fn arg_reduce(comp: &Computation) -> Option<ArgReduce> {
    let m = Matcher { comp };
    let root = comp.root_instr();
    let (Op::Tuple, [value, index]) = (&root.op, &root.operands[..]) else {
        return None;
    };
    let (c, v0, v1) = m.select(*value)?;
    if (m.param(v0)?, m.param(v1)?) != (0, 2) {
        return None;
    }
    let (nan_wins, direction) = match m.compare(c, Direction::Gt).or(m.compare(c, Direction::Lt)) {
        Some(d) => (false, d),
        None => {
            let (strict, nan) = m.binary(c, BinaryOp::Or)?;
            let (a, b) = m.compares(nan, Direction::Ne)?;
            if (m.param(a)?, m.param(b)?) != (0, 0) {
                return None;
            }
            (
                true,
                m.compare(strict, Direction::Gt)
                    .or(m.compare(strict, Direction::Lt))?,
            )
        }
    };
    let extreme = match direction {
        Direction::Gt => Extreme::Max,
        _ => Extreme::Min,
    };
    let (c2, i0, i1) = m.select(*index)?;
    if (m.param(i0)?, m.param(i1)?) != (1, 3) {
        return None;
    }
    let (again, tie) = m.binary(c2, BinaryOp::Or)?;
    let (eq, lt) = m.binary(tie, BinaryOp::And)?;
    let same_value = m.compares(eq, Direction::Eq)?;
    let smaller_index = m.compares(lt, Direction::Lt)?;
    let params = |(a, b): (InstrId, InstrId)| Some((m.param(a)?, m.param(b)?));
    (again == c && params(same_value)? == (0, 2) && params(smaller_index)? == (1, 3))
        .then_some(ArgReduce { extreme, nan_wins })
}

/// Reads a region's expression tree.
struct Matcher<'a> {
    comp: &'a Computation,
}

impl Matcher<'_> {
    fn param(&self, id: InstrId) -> Option<usize> {
        match self.comp.instr(id).op {
            Op::Parameter(n) => Some(n),
            _ => None,
        }
    }

    fn binary(&self, id: InstrId, op: BinaryOp) -> Option<(InstrId, InstrId)> {
        let instr = self.comp.instr(id);
        (instr.op == Op::Binary(op)).then(|| (instr.operands[0], instr.operands[1]))
    }

    fn select(&self, id: InstrId) -> Option<(InstrId, InstrId, InstrId)> {
        let instr = self.comp.instr(id);
        (instr.op == Op::Select).then(|| (instr.operands[0], instr.operands[1], instr.operands[2]))
    }

    /// `compare(a, b), direction=d` (either type): its operands.
    fn compares(&self, id: InstrId, d: Direction) -> Option<(InstrId, InstrId)> {
        let instr = self.comp.instr(id);
        matches!(instr.op, Op::Compare(x) | Op::CompareTotalOrder(x) if x == d)
            .then(|| (instr.operands[0], instr.operands[1]))
    }

    /// `Some(d)` where `id` compares the accumulator's value with the element's
    /// (parameters 0 and 2) by `d`.
    fn compare(&self, id: InstrId, d: Direction) -> Option<Direction> {
        let (a, b) = self.compares(id, d)?;
        ((self.param(a)?, self.param(b)?) == (0, 2)).then_some(d)
    }

    /// A parameter, or JAX's canonicalization of one:
    /// `select(ne(x, x), nan, select(eq(x, 0), 0, x))`.
    fn key_operand(&self, id: InstrId) -> Option<(usize, bool)> {
        if let Some(p) = self.param(id) {
            return Some((p, false));
        }
        let (is_nan, nan, rest) = self.select(id)?;
        let (x, x2) = self.compares(is_nan, Direction::Ne)?;
        let (is_zero, zero, x3) = self.select(rest)?;
        let (x4, zero2) = self.compares(is_zero, Direction::Eq)?;
        let p = self.param(x)?;
        let same = [x2, x3, x4].iter().all(|&y| self.param(y) == Some(p));
        let constant = |c: InstrId, test: fn(f64) -> bool| match &self.comp.instr(c).op {
            Op::Constant(l) => l.get(0).as_float().is_some_and(test),
            _ => false,
        };
        let zeros = constant(zero, |v| v == 0.0) && constant(zero2, |v| v == 0.0);
        (same && zeros && constant(nan, f64::is_nan)).then_some((p, true))
    }

    /// Both sides of a key compare: the operand and whether they are swapped.
    fn key_sides(&self, a: InstrId, b: InstrId) -> Option<(usize, bool, bool)> {
        let ((pa, ca), (pb, cb)) = (self.key_operand(a)?, self.key_operand(b)?);
        if ca != cb || pa / 2 != pb / 2 || pa == pb {
            return None;
        }
        Some((pa / 2, pa > pb, ca))
    }

    fn order(&self, id: InstrId, canonical: bool) -> Option<KeyOrder> {
        match (&self.comp.instr(id).op, canonical) {
            (Op::Compare(_), false) => Some(KeyOrder::Partial),
            (Op::CompareTotalOrder(_), false) => Some(KeyOrder::TotalOrder),
            (Op::CompareTotalOrder(_), true) => Some(KeyOrder::NanLast),
            _ => None,
        }
    }

    /// A key's `lt` (or `gt`: descending) compare.
    fn less(&self, id: InstrId) -> Option<SortKey> {
        let (direction, (a, b)) = [Direction::Lt, Direction::Gt]
            .into_iter()
            .find_map(|d| Some((d, self.compares(id, d)?)))?;
        let (operand, swapped, canonical) = self.key_sides(a, b)?;
        Some(SortKey {
            operand,
            descending: swapped != (direction == Direction::Gt),
            order: self.order(id, canonical)?,
        })
    }

    /// A key's `eq` compare: its operand and order.
    fn equal(&self, id: InstrId) -> Option<(usize, KeyOrder)> {
        let (a, b) = self.compares(id, Direction::Eq)?;
        let (operand, _, canonical) = self.key_sides(a, b)?;
        Some((operand, self.order(id, canonical)?))
    }
}
