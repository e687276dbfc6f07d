//! The closed set of HLO operations and their attributes.
//!
//! An [`Op`] is everything about an instruction except its operands, name and result
//! shape. The text names (`opcode`) are XLA's, so the printer and the parser agree
//! with XLA by construction.

use super::index_ops::{GatherDims, PadDim};
use super::literal::Literal;
use super::module::ComputationId;
use super::shape::ElementType;

/// The element types an elementwise op is defined on (its operands').
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Domain {
    /// Floating-point types.
    Float,
    /// Integers (signed and unsigned).
    Integer,
    /// Integers and floats.
    Numeric,
    /// Integers and `pred`: the bitwise ops, logical on `pred`.
    Bits,
    /// Every type (`maximum` and `minimum`: on `pred`, `or` and `and`).
    Any,
}

impl Domain {
    pub fn contains(self, element: ElementType) -> bool {
        match self {
            Domain::Float => element.is_float(),
            Domain::Integer => element.is_integer(),
            Domain::Numeric => element != ElementType::Pred,
            Domain::Bits => !element.is_float(),
            Domain::Any => true,
        }
    }
}

/// What an op costs per element, relative to an add.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cost {
    Cheap,
    /// Transcendentals, division and their relatives: several adds.
    Expensive,
}

/// Declares an elementwise op enum from one table: each op's variant, XLA's opcode,
/// the element types it takes and its cost. The parser, the printer, the shape
/// rules, the optimizer and the tracer all read this table; only the semantics
/// (`element.rs`) and the two code generators say what an op computes.
macro_rules! elementwise_ops {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $opcode:literal, $domain:ident, $cost:ident;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// XLA's name for the op.
            pub fn opcode(self) -> &'static str {
                match self {
                    $($name::$variant => $opcode,)*
                }
            }

            pub fn from_opcode(opcode: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|op| op.opcode() == opcode)
            }

            /// The element types the op's operands may have.
            pub fn domain(self) -> Domain {
                match self {
                    $($name::$variant => Domain::$domain,)*
                }
            }

            pub fn cost(self) -> Cost {
                match self {
                    $($name::$variant => Cost::$cost,)*
                }
            }

            pub fn is_expensive(self) -> bool {
                self.cost() == Cost::Expensive
            }
        }
    };
}

elementwise_ops! {
    /// Elementwise operations of one operand whose result has the operand's shape
    /// and type (`is-finite` gives `pred`).
    UnaryOp {
        Negate = "negate", Numeric, Cheap;
        Abs = "abs", Numeric, Cheap;
        Sign = "sign", Numeric, Cheap;
        Exp = "exponential", Float, Expensive;
        Expm1 = "exponential-minus-one", Float, Expensive;
        Log = "log", Float, Expensive;
        Log1p = "log-plus-one", Float, Expensive;
        Sqrt = "sqrt", Float, Expensive;
        Rsqrt = "rsqrt", Float, Expensive;
        Cbrt = "cbrt", Float, Expensive;
        Tanh = "tanh", Float, Expensive;
        Logistic = "logistic", Float, Expensive;
        Sin = "sine", Float, Expensive;
        Cos = "cosine", Float, Expensive;
        Tan = "tan", Float, Expensive;
        Erf = "erf", Float, Expensive;
        Floor = "floor", Float, Cheap;
        Ceil = "ceil", Float, Cheap;
        RoundNearestEven = "round-nearest-even", Float, Cheap;
        Not = "not", Bits, Cheap;
        IsFinite = "is-finite", Float, Expensive;
        PopulationCount = "popcnt", Integer, Cheap;
        CountLeadingZeros = "count-leading-zeros", Integer, Cheap;
    }
}

impl UnaryOp {
    /// The result's element type for an operand of `element`.
    pub fn result_type(self, element: ElementType) -> ElementType {
        if self == UnaryOp::IsFinite {
            ElementType::Pred
        } else {
            element
        }
    }
}

elementwise_ops! {
    /// Elementwise operations of two operands of one shape.
    BinaryOp {
        Add = "add", Numeric, Cheap;
        Subtract = "subtract", Numeric, Cheap;
        Multiply = "multiply", Numeric, Cheap;
        Divide = "divide", Numeric, Expensive;
        Maximum = "maximum", Any, Cheap;
        Minimum = "minimum", Any, Cheap;
        Power = "power", Numeric, Expensive;
        Remainder = "remainder", Numeric, Expensive;
        Atan2 = "atan2", Float, Expensive;
        And = "and", Bits, Cheap;
        Or = "or", Bits, Cheap;
        Xor = "xor", Bits, Cheap;
        ShiftLeft = "shift-left", Integer, Cheap;
        ShiftRightLogical = "shift-right-logical", Integer, Cheap;
        ShiftRightArithmetic = "shift-right-arithmetic", Integer, Cheap;
    }
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

/// `scatter`'s dimension numbers, as XLA names them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ScatterDims {
    /// The update dimensions that index within a window of the operand.
    pub update_window_dims: Vec<usize>,
    /// Operand dimensions of window size 1 that updates leave out.
    pub inserted_window_dims: Vec<usize>,
    /// Operand dimensions that batch with `scatter_indices_batching_dims`.
    pub input_batching_dims: Vec<usize>,
    /// Index dimensions that batch with `input_batching_dims`.
    pub scatter_indices_batching_dims: Vec<usize>,
    /// Component `i` of an index vector starts operand dimension `scatter_dims_to_operand_dims[i]`.
    pub scatter_dims_to_operand_dims: Vec<usize>,
    /// The indices' dimension that holds the index vectors (their rank: scalars).
    pub index_vector_dim: usize,
}

/// One dimension of a window (`reduce-window`, `select-and-scatter`): XLA's
/// `window={size=.. stride=.. pad=lo_hi lhs_dilate=.. rhs_dilate=..}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowDim {
    pub size: usize,
    pub stride: usize,
    pub pad_low: usize,
    pub pad_high: usize,
    /// The operand's dilation (`lhs_dilate`): `base_dilation - 1` holes between elements.
    pub base_dilation: usize,
    /// The window's dilation (`rhs_dilate`).
    pub window_dilation: usize,
}

impl WindowDim {
    /// A window of `size` with unit stride and dilations and no padding.
    pub fn of_size(size: usize) -> WindowDim {
        WindowDim {
            size,
            stride: 1,
            pad_low: 0,
            pad_high: 0,
            base_dilation: 1,
            window_dilation: 1,
        }
    }

    /// The number of window positions over an operand dimension of `n`
    /// elements; `None` when a stride or dilation is zero.
    pub fn positions(&self, n: usize) -> Option<usize> {
        if self.stride == 0 || self.base_dilation == 0 || self.window_dilation == 0 {
            return None;
        }
        let dilated = if n == 0 {
            0
        } else {
            (n - 1) * self.base_dilation + 1
        };
        let padded = dilated + self.pad_low + self.pad_high;
        let extent = if self.size == 0 {
            0
        } else {
            (self.size - 1) * self.window_dilation + 1
        };
        Some(if padded < extent {
            0
        } else {
            (padded - extent) / self.stride + 1
        })
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
    /// Converts each element to the result's element type by value.
    Convert,
    /// Reinterprets each element's bits as the result's element type, of equal width.
    BitcastConvert,
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
    /// `pad(operand, value)`: each dimension padded as `config` says.
    Pad {
        config: Vec<PadDim>,
    },
    Reverse {
        dimensions: Vec<usize>,
    },
    /// `dynamic-slice(operand, start_0, ...)`: one scalar start per dimension,
    /// clamped so that the slice of `sizes` is in bounds.
    DynamicSlice {
        sizes: Vec<usize>,
    },
    /// `dynamic-update-slice(operand, update, start_0, ...)`: the operand with
    /// `update` written at the (clamped) starts.
    DynamicUpdateSlice,
    /// `gather(operand, start_indices)`.
    Gather(GatherDims),
    /// Rounds each float to a narrower format, kept in the operand's type.
    ReducePrecision {
        exponent_bits: u32,
        mantissa_bits: u32,
    },
    /// A variadic `reduce(operands..., inits...)`: N operands of one shape and
    /// N scalar inits, combined by the module's computation `to_apply` (2N scalar
    /// parameters, accumulators first; a tuple of N scalars), into a tuple of N
    /// arrays. JAX's argmax and argmin reduce values and indices together.
    ReduceTuple {
        dimensions: Vec<usize>,
        to_apply: ComputationId,
    },
    /// `compare` with `type=TOTALORDER`: floats in IEEE total order (`-NaN <
    /// -inf < ... < -0 < +0 < ... < inf < NaN`), other types as `compare`.
    /// JAX's sort comparators use it.
    CompareTotalOrder(Direction),
    /// `scatter(operand, indices, updates)`: each update combined into the
    /// operand element it lands on by the module's computation `update`
    /// (`update(element, update)`, two scalar parameters, one scalar result).
    /// JAX's `x.at[i].set` returns the update; `.add`, `.min` ... combine.
    Scatter {
        dims: ScatterDims,
        update: ComputationId,
        indices_are_sorted: bool,
        unique_indices: bool,
    },
    /// `sort(operands...)` along `dimension`: every operand permuted alike, by
    /// the module's computation `comparator` (2N scalar parameters, the two
    /// elements of each operand in turn; `pred[]`: whether the first goes first).
    /// One operand gives an array, several a tuple.
    Sort {
        dimension: usize,
        is_stable: bool,
        comparator: ComputationId,
    },
    /// `topk(operand)`: along the last dimension, the `k` greatest elements
    /// (least where not `largest`) in IEEE total order, equal ones by smaller
    /// index first, and their `s32` indices: a tuple of the two. XLA's
    /// `custom-call TopK` on CPU orders alike.
    TopK {
        k: usize,
        largest: bool,
    },
    /// `reduce-window(operand, init)`: each window's elements folded into
    /// `init` by the module's computation `to_apply` (two scalar parameters,
    /// the accumulator first; JAX's cumulative ops write NaN-aware and
    /// log-add-exp regions, not only a `ReduceOp`).
    ReduceWindow {
        window: Vec<WindowDim>,
        to_apply: ComputationId,
    },
    /// `select-and-scatter(operand, source, init)`: in each window of the
    /// operand, the first element that `select` prefers over every other gets
    /// the window's `source` element, combined by `scatter` into `init`.
    SelectAndScatter {
        window: Vec<WindowDim>,
        /// The `select` region: `compare(a, b)` with this direction (`GE` keeps
        /// the first of equal maxima).
        select: Direction,
        scatter: ReduceOp,
    },
    Tuple,
    GetTupleElement {
        index: usize,
    },
    Fusion {
        kind: FusionKind,
        computation: ComputationId,
    },
    /// `while(state)`: runs `body` on the state for as long as `condition`
    /// (state → `pred[]`) holds, and gives the last state.
    While {
        condition: ComputationId,
        body: ComputationId,
    },
    /// `conditional(selector, operand_0, ...)`: runs `branches[i]` on operand
    /// `i` for the `s32` selector `i` (out of range: the last branch), or, for a
    /// `pred` selector, `branches[0]` when true and `branches[1]` when false.
    Conditional {
        branches: Vec<ComputationId>,
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
            Op::BitcastConvert => "bitcast-convert",
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
            Op::Pad { .. } => "pad",
            Op::Reverse { .. } => "reverse",
            Op::DynamicSlice { .. } => "dynamic-slice",
            Op::DynamicUpdateSlice => "dynamic-update-slice",
            Op::Gather(_) => "gather",
            Op::ReducePrecision { .. } => "reduce-precision",
            Op::Reduce { .. } | Op::ReduceTuple { .. } => "reduce",
            Op::CompareTotalOrder(_) => "compare",
            Op::Scatter { .. } => "scatter",
            Op::Sort { .. } => "sort",
            Op::TopK { .. } => "topk",
            Op::ReduceWindow { .. } => "reduce-window",
            Op::SelectAndScatter { .. } => "select-and-scatter",
            Op::Tuple => "tuple",
            Op::GetTupleElement { .. } => "get-tuple-element",
            Op::Fusion { .. } => "fusion",
            Op::While { .. } => "while",
            Op::Conditional { .. } => "conditional",
        }
    }

    /// The computations the op runs: a fusion's body, a loop's condition and
    /// body, a conditional's branches, a region op's region.
    pub fn callees(&self) -> Vec<ComputationId> {
        match self {
            Op::Fusion { computation, .. } => vec![*computation],
            Op::While { condition, body } => vec![*condition, *body],
            Op::Conditional { branches } => branches.clone(),
            _ => self.region().into_iter().collect(),
        }
    }

    /// Control flow: ops that run computations a data-dependent number of
    /// times (`while`) or choose one by data (`conditional`).
    pub fn is_control_flow(&self) -> bool {
        matches!(self, Op::While { .. } | Op::Conditional { .. })
    }

    /// Ops whose every result element is a function of the operands' elements at
    /// the same index (scalar `select` predicates and `clamp` bounds broadcast).
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Op::Unary(_)
                | Op::Binary(_)
                | Op::Compare(_)
                | Op::Select
                | Op::Clamp
                | Op::Convert
                | Op::BitcastConvert
                | Op::ReducePrecision { .. }
        )
    }

    /// The index ops: each result element is one operand element chosen by
    /// index arithmetic, or a pad value (`index_ops.rs`).
    pub fn is_index_op(&self) -> bool {
        matches!(
            self,
            Op::Pad { .. }
                | Op::Reverse { .. }
                | Op::DynamicSlice { .. }
                | Op::DynamicUpdateSlice
                | Op::Gather(_)
        )
    }

    /// Ops that are a kernel of their own: fusion never groups them with
    /// others (each has a schedule, or a loop per element, of its own). The
    /// window ops are elemental on every backend (a loop over each element's
    /// window), so fusion groups them like elementwise ops.
    pub fn is_standalone(&self) -> bool {
        matches!(
            self,
            Op::ReduceTuple { .. }
                | Op::CompareTotalOrder(_)
                | Op::Scatter { .. }
                | Op::Sort { .. }
                | Op::TopK { .. }
        )
    }

    /// The module computation this op applies per element (a sort's comparator,
    /// a variadic reduce's region, a scatter's update, a reduce-window's
    /// region), which passes that
    /// rebuild modules carry along.
    pub fn region(&self) -> Option<ComputationId> {
        match self {
            Op::Sort { comparator, .. } => Some(*comparator),
            Op::ReduceTuple { to_apply, .. } => Some(*to_apply),
            Op::Scatter { update, .. } => Some(*update),
            Op::ReduceWindow { to_apply, .. } => Some(*to_apply),
            _ => None,
        }
    }

    /// The op with its region renumbered by `map`.
    pub fn map_region(&self, map: impl FnOnce(ComputationId) -> ComputationId) -> Op {
        let mut op = self.clone();
        match &mut op {
            Op::Sort { comparator: c, .. }
            | Op::ReduceTuple { to_apply: c, .. }
            | Op::Scatter { update: c, .. }
            | Op::ReduceWindow { to_apply: c, .. } => *c = map(*c),
            _ => {}
        }
        op
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
