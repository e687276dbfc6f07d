//! The closed set of HLO operations and their attributes.
//!
//! An [`Op`] is everything about an instruction except its operands, name and result
//! shape. The text names (`opcode`) are XLA's, so the printer and the parser agree
//! with XLA by construction.

use super::literal::Literal;
use super::module::ComputationId;

/// Elementwise operations of one operand whose result has the operand's shape
/// (`is-finite` gives `pred`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnaryOp {
    Negate,
    Abs,
    Sign,
    Exp,
    Expm1,
    Log,
    Log1p,
    Sqrt,
    Rsqrt,
    Tanh,
    Logistic,
    Sin,
    Cos,
    Erf,
    Floor,
    Ceil,
    RoundNearestEven,
    Not,
    IsFinite,
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 19] = [
        UnaryOp::Negate,
        UnaryOp::Abs,
        UnaryOp::Sign,
        UnaryOp::Exp,
        UnaryOp::Expm1,
        UnaryOp::Log,
        UnaryOp::Log1p,
        UnaryOp::Sqrt,
        UnaryOp::Rsqrt,
        UnaryOp::Tanh,
        UnaryOp::Logistic,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Erf,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::RoundNearestEven,
        UnaryOp::Not,
        UnaryOp::IsFinite,
    ];

    pub fn opcode(self) -> &'static str {
        match self {
            UnaryOp::Negate => "negate",
            UnaryOp::Abs => "abs",
            UnaryOp::Sign => "sign",
            UnaryOp::Exp => "exponential",
            UnaryOp::Expm1 => "exponential-minus-one",
            UnaryOp::Log => "log",
            UnaryOp::Log1p => "log-plus-one",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Rsqrt => "rsqrt",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Logistic => "logistic",
            UnaryOp::Sin => "sine",
            UnaryOp::Cos => "cosine",
            UnaryOp::Erf => "erf",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::RoundNearestEven => "round-nearest-even",
            UnaryOp::Not => "not",
            UnaryOp::IsFinite => "is-finite",
        }
    }

    /// Transcendentals (and `is-finite`): several times the cost of an add.
    pub fn is_expensive(self) -> bool {
        !matches!(
            self,
            UnaryOp::Negate
                | UnaryOp::Abs
                | UnaryOp::Sign
                | UnaryOp::Not
                | UnaryOp::Floor
                | UnaryOp::Ceil
                | UnaryOp::RoundNearestEven
        )
    }

    /// Ops defined on floating-point operands only.
    pub fn is_float_only(self) -> bool {
        !matches!(
            self,
            UnaryOp::Negate | UnaryOp::Abs | UnaryOp::Sign | UnaryOp::Not
        )
    }
}

/// Elementwise operations of two operands of one shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Maximum,
    Minimum,
    Power,
    Remainder,
    And,
    Or,
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 10] = [
        BinaryOp::Add,
        BinaryOp::Subtract,
        BinaryOp::Multiply,
        BinaryOp::Divide,
        BinaryOp::Maximum,
        BinaryOp::Minimum,
        BinaryOp::Power,
        BinaryOp::Remainder,
        BinaryOp::And,
        BinaryOp::Or,
    ];

    pub fn opcode(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Subtract => "subtract",
            BinaryOp::Multiply => "multiply",
            BinaryOp::Divide => "divide",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Power => "power",
            BinaryOp::Remainder => "remainder",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }

    /// Division and its relatives: several times the cost of an add.
    pub fn is_expensive(self) -> bool {
        matches!(
            self,
            BinaryOp::Divide | BinaryOp::Power | BinaryOp::Remainder
        )
    }

    /// `and`/`or` are logical on `pred` and bitwise on `s32`; the rest is arithmetic.
    pub fn is_logical(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }
}

/// `power` on `s32`: by squaring, wrapping on overflow. A negative exponent gives
/// 0 except for bases 1 and -1, whose powers stay exact. (Every backend and the
/// interpreter share this definition.)
pub fn integer_power(base: i32, exponent: i32) -> i32 {
    if exponent < 0 {
        return match base {
            1 => 1,
            -1 if exponent % 2 == 0 => 1,
            -1 => -1,
            _ => 0,
        };
    }
    let (mut result, mut base, mut e) = (1i32, base, exponent as u32);
    while e > 0 {
        if e & 1 == 1 {
            result = result.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        e >>= 1;
    }
    result
}

/// `compare`'s `direction=` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Direction {
    pub const ALL: [Direction; 6] = [
        Direction::Eq,
        Direction::Ne,
        Direction::Lt,
        Direction::Le,
        Direction::Gt,
        Direction::Ge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Direction::Eq => "EQ",
            Direction::Ne => "NE",
            Direction::Lt => "LT",
            Direction::Le => "LE",
            Direction::Gt => "GT",
            Direction::Ge => "GE",
        }
    }
}

/// The combiner of a `reduce`: the root of its `to_apply` computation applied to
/// the computation's two parameters. The region itself is not stored; the printer
/// writes one per (combiner, element type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReduceOp {
    Add,
    Multiply,
    Maximum,
    Minimum,
    /// Logical on `pred` (what `jnp.all` emits), bitwise on `s32`.
    And,
    Or,
}

impl ReduceOp {
    pub const ALL: [ReduceOp; 6] = [
        ReduceOp::Add,
        ReduceOp::Multiply,
        ReduceOp::Maximum,
        ReduceOp::Minimum,
        ReduceOp::And,
        ReduceOp::Or,
    ];

    /// The elementwise op that combines two partial results.
    pub fn combiner(self) -> BinaryOp {
        match self {
            ReduceOp::Add => BinaryOp::Add,
            ReduceOp::Multiply => BinaryOp::Multiply,
            ReduceOp::Maximum => BinaryOp::Maximum,
            ReduceOp::Minimum => BinaryOp::Minimum,
            ReduceOp::And => BinaryOp::And,
            ReduceOp::Or => BinaryOp::Or,
        }
    }

    pub fn from_combiner(op: BinaryOp) -> Option<ReduceOp> {
        ReduceOp::ALL.into_iter().find(|r| r.combiner() == op)
    }
}

/// The `kind=` of a fusion instruction, as XLA names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FusionKind {
    Loop,
    Input,
    Output,
    Custom,
}

impl FusionKind {
    pub const ALL: [FusionKind; 4] = [
        FusionKind::Loop,
        FusionKind::Input,
        FusionKind::Output,
        FusionKind::Custom,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FusionKind::Loop => "kLoop",
            FusionKind::Input => "kInput",
            FusionKind::Output => "kOutput",
            FusionKind::Custom => "kCustom",
        }
    }
}

/// `dot`'s dimension numbers. The result's dimensions are the batch dimensions,
/// then the lhs's remaining dimensions, then the rhs's, each in ascending order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct DotDims {
    pub lhs_batch: Vec<usize>,
    pub rhs_batch: Vec<usize>,
    pub lhs_contracting: Vec<usize>,
    pub rhs_contracting: Vec<usize>,
}

/// One dimension of a `slice`: `[start:limit:stride]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SliceDim {
    pub start: usize,
    pub limit: usize,
    pub stride: usize,
}

impl SliceDim {
    /// Elements this dimension keeps.
    pub fn len(&self) -> usize {
        (self.limit.saturating_sub(self.start)).div_ceil(self.stride.max(1))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An HLO operation. Attributes that XLA keeps in the result shape (the target of
/// `reshape`, `broadcast`, `convert`, `iota`, `bitcast`) stay in the instruction's
/// shape here too.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Parameter(usize),
    Constant(Literal),
    Iota {
        dimension: usize,
    },
    Unary(UnaryOp),
    Convert,
    Binary(BinaryOp),
    Compare(Direction),
    /// `select(pred, on_true, on_false)`.
    Select,
    /// `clamp(min, operand, max)`; `min` and `max` may be scalars.
    Clamp,
    /// Operand dimension `i` becomes result dimension `dimensions[i]`.
    Broadcast {
        dimensions: Vec<usize>,
    },
    Reshape,
    /// Result dimension `i` is operand dimension `permutation[i]`.
    Transpose {
        permutation: Vec<usize>,
    },
    Slice {
        dims: Vec<SliceDim>,
    },
    Concatenate {
        dimension: usize,
    },
    /// Reinterprets the operand's bytes in physical (layout) order.
    Bitcast,
    Dot(DotDims),
    /// `reduce(operand, init)` over `dimensions`.
    Reduce {
        dimensions: Vec<usize>,
        reducer: ReduceOp,
    },
    Tuple,
    GetTupleElement {
        index: usize,
    },
    Fusion {
        kind: FusionKind,
        computation: ComputationId,
    },
}

impl Op {
    /// XLA's name for the op, as the text form prints it.
    pub fn opcode(&self) -> &'static str {
        match self {
            Op::Parameter(_) => "parameter",
            Op::Constant(_) => "constant",
            Op::Iota { .. } => "iota",
            Op::Unary(u) => u.opcode(),
            Op::Convert => "convert",
            Op::Binary(b) => b.opcode(),
            Op::Compare(_) => "compare",
            Op::Select => "select",
            Op::Clamp => "clamp",
            Op::Broadcast { .. } => "broadcast",
            Op::Reshape => "reshape",
            Op::Transpose { .. } => "transpose",
            Op::Slice { .. } => "slice",
            Op::Concatenate { .. } => "concatenate",
            Op::Bitcast => "bitcast",
            Op::Dot(_) => "dot",
            Op::Reduce { .. } => "reduce",
            Op::Tuple => "tuple",
            Op::GetTupleElement { .. } => "get-tuple-element",
            Op::Fusion { .. } => "fusion",
        }
    }

    /// Ops that compute nothing and move no data of their own: they never form a
    /// kernel (CLI.md's rule for counting kernels).
    pub fn is_free(&self) -> bool {
        matches!(
            self,
            Op::Parameter(_)
                | Op::Constant(_)
                | Op::Tuple
                | Op::GetTupleElement { .. }
                | Op::Bitcast
        )
    }
}
