//! The builtin functions of LANGUAGE.md: their signatures (with keyword
//! arguments and defaults), and all but the `nn` group, which is in `nn.rs`.

use omelet_grammar::omelet::BinaryOp;

use crate::error::{CompileError, ErrorKind, Span};
use crate::hlo::{self, Domain, Element, ElementType, ReduceOp, Scalar, UnaryOp};

use super::arguments::{self, Argument};
use super::arith;
use super::cumulative;
use super::eval::{Tracer, at, fail};
use super::graph::OpResult;
use super::index_builtins;
use super::nn;
use super::order_builtins;
use super::promote::to_inexact;
use super::random;
use super::shape_builtins;
use super::value::{Tensor, Value, user_type};

/// A builtin: its parameter names (the first `required` are mandatory) and what it does.
pub struct Builtin {
    pub name: &'static str,
    params: &'static [&'static str],
    required: usize,
    run: Run,
}

enum Run {
    /// An HLO elementwise op of one operand, as it is.
    Unary(UnaryOp),
    Math(Math),
    Reduce(Reduction),
    /// A conversion to the type the builtin is named after.
    Convert(ElementType),
    Fn(fn(&mut Tracer, &Args) -> Result<Value, CompileError>),
}

/// Unary builtins that are not one HLO op.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Math {
    Relu,
    Square,
    Reciprocal,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    /// `jnp.any`: whether some element is nonzero.
    Any,
    /// `jnp.all`: whether every element is nonzero.
    All,
}

const fn b(
    name: &'static str,
    params: &'static [&'static str],
    required: usize,
    run: Run,
) -> Builtin {
    Builtin {
        name,
        params,
        required,
        run,
    }
}

const X: &[&str] = &["x"];
const REDUCE: &[&str] = &["x", "axis", "keepdims"];
const CUMULATIVE: &[&str] = &["x", "axis", "reverse"];

static BUILTINS: &[Builtin] = &[
    b("neg", X, 1, Run::Unary(UnaryOp::Negate)),
    b("abs", X, 1, Run::Unary(UnaryOp::Abs)),
    b("sign", X, 1, Run::Unary(UnaryOp::Sign)),
    b("exp", X, 1, Run::Unary(UnaryOp::Exp)),
    b("expm1", X, 1, Run::Unary(UnaryOp::Expm1)),
    b("log", X, 1, Run::Unary(UnaryOp::Log)),
    b("log1p", X, 1, Run::Unary(UnaryOp::Log1p)),
    b("sqrt", X, 1, Run::Unary(UnaryOp::Sqrt)),
    b("rsqrt", X, 1, Run::Unary(UnaryOp::Rsqrt)),
    b("cbrt", X, 1, Run::Unary(UnaryOp::Cbrt)),
    b("tanh", X, 1, Run::Unary(UnaryOp::Tanh)),
    b("sigmoid", X, 1, Run::Unary(UnaryOp::Logistic)),
    b("relu", X, 1, Run::Math(Math::Relu)),
    b("sin", X, 1, Run::Unary(UnaryOp::Sin)),
    b("cos", X, 1, Run::Unary(UnaryOp::Cos)),
    b("tan", X, 1, Run::Unary(UnaryOp::Tan)),
    b("erf", X, 1, Run::Unary(UnaryOp::Erf)),
    b("floor", X, 1, Run::Unary(UnaryOp::Floor)),
    b("ceil", X, 1, Run::Unary(UnaryOp::Ceil)),
    b("round", X, 1, Run::Unary(UnaryOp::RoundNearestEven)),
    b("isfinite", X, 1, Run::Unary(UnaryOp::IsFinite)),
    b("square", X, 1, Run::Math(Math::Square)),
    b("reciprocal", X, 1, Run::Math(Math::Reciprocal)),
    b("maximum", &["a", "b"], 2, Run::Fn(maximum)),
    b("minimum", &["a", "b"], 2, Run::Fn(minimum)),
    b("pow", &["a", "b"], 2, Run::Fn(pow)),
    b("where", &["cond", "a", "b"], 3, Run::Fn(where_)),
    b("clip", &["x", "lo", "hi"], 3, Run::Fn(clip)),
    b("sum", REDUCE, 1, Run::Reduce(Reduction::Sum)),
    b("mean", REDUCE, 1, Run::Reduce(Reduction::Mean)),
    b("max", REDUCE, 1, Run::Reduce(Reduction::Max)),
    b("min", REDUCE, 1, Run::Reduce(Reduction::Min)),
    b("prod", REDUCE, 1, Run::Reduce(Reduction::Prod)),
    b("any", REDUCE, 1, Run::Reduce(Reduction::Any)),
    b("all", REDUCE, 1, Run::Reduce(Reduction::All)),
    b("softmax", &["x", "axis"], 1, Run::Fn(nn::softmax)),
    b("log_softmax", &["x", "axis"], 1, Run::Fn(nn::log_softmax)),
    b("logsumexp", &["x", "axis"], 1, Run::Fn(nn::logsumexp)),
    b("gelu", &["x", "approximate"], 1, Run::Fn(nn::gelu)),
    b("silu", X, 1, Run::Fn(nn::silu)),
    b(
        "layernorm",
        &["x", "gamma", "beta", "eps"],
        3,
        Run::Fn(nn::layernorm),
    ),
    b("rmsnorm", &["x", "gamma", "eps"], 2, Run::Fn(nn::rmsnorm)),
    b(
        "reshape",
        &["x", "shape"],
        2,
        Run::Fn(shape_builtins::reshape),
    ),
    b(
        "transpose",
        &["x", "perm"],
        1,
        Run::Fn(shape_builtins::transpose),
    ),
    b(
        "broadcast_to",
        &["x", "shape"],
        2,
        Run::Fn(shape_builtins::broadcast_to),
    ),
    b(
        "expand_dims",
        &["x", "axis"],
        2,
        Run::Fn(shape_builtins::expand_dims),
    ),
    b(
        "squeeze",
        &["x", "axis"],
        1,
        Run::Fn(shape_builtins::squeeze),
    ),
    b(
        "concat",
        &["arrays", "axis"],
        1,
        Run::Fn(shape_builtins::concat),
    ),
    b("flip", &["x", "axis"], 1, Run::Fn(index_builtins::flip)),
    b(
        "pad",
        &["x", "widths", "value"],
        2,
        Run::Fn(index_builtins::pad),
    ),
    b(
        "dynamic_slice",
        &["x", "starts", "sizes"],
        3,
        Run::Fn(index_builtins::dynamic_slice),
    ),
    b(
        "dynamic_update_slice",
        &["x", "update", "starts"],
        3,
        Run::Fn(index_builtins::dynamic_update_slice),
    ),
    b(
        "take",
        &["x", "idx", "axis"],
        2,
        Run::Fn(index_builtins::take),
    ),
    b(
        "one_hot",
        &["idx", "n"],
        2,
        Run::Fn(index_builtins::one_hot),
    ),
    b("tril", &["m", "k"], 1, Run::Fn(index_builtins::tril)),
    b("triu", &["m", "k"], 1, Run::Fn(index_builtins::triu)),
    b(
        "roll",
        &["x", "shift", "axis"],
        2,
        Run::Fn(index_builtins::roll),
    ),
    b(
        "take_along_axis",
        &["x", "idx", "axis"],
        3,
        Run::Fn(order_builtins::take_along_axis),
    ),
    b("argmax", REDUCE, 1, Run::Fn(order_builtins::argmax)),
    b("argmin", REDUCE, 1, Run::Fn(order_builtins::argmin)),
    b(
        "sort",
        &["x", "axis", "descending"],
        1,
        Run::Fn(order_builtins::sort),
    ),
    b(
        "argsort",
        &["x", "axis", "descending"],
        1,
        Run::Fn(order_builtins::argsort),
    ),
    b("top_k", &["x", "k"], 2, Run::Fn(order_builtins::top_k)),
    b("cumsum", CUMULATIVE, 1, Run::Fn(cumulative::cumsum)),
    b("cumprod", CUMULATIVE, 1, Run::Fn(cumulative::cumprod)),
    b("cummax", CUMULATIVE, 1, Run::Fn(cumulative::cummax)),
    b("cummin", CUMULATIVE, 1, Run::Fn(cumulative::cummin)),
    b("zeros", &["shape"], 1, Run::Fn(shape_builtins::zeros)),
    b("ones", &["shape"], 1, Run::Fn(shape_builtins::ones)),
    b(
        "full",
        &["shape", "value"],
        2,
        Run::Fn(shape_builtins::full),
    ),
    b("arange", &["n"], 1, Run::Fn(shape_builtins::arange)),
    b("eye", &["n"], 1, Run::Fn(shape_builtins::eye)),
    b("bool", X, 1, Run::Convert(ElementType::Pred)),
    b("i8", X, 1, Run::Convert(ElementType::S8)),
    b("i16", X, 1, Run::Convert(ElementType::S16)),
    b("i32", X, 1, Run::Convert(ElementType::S32)),
    b("i64", X, 1, Run::Convert(ElementType::S64)),
    b("u8", X, 1, Run::Convert(ElementType::U8)),
    b("u16", X, 1, Run::Convert(ElementType::U16)),
    b("u32", X, 1, Run::Convert(ElementType::U32)),
    b("u64", X, 1, Run::Convert(ElementType::U64)),
    b("f16", X, 1, Run::Convert(ElementType::F16)),
    b("bf16", X, 1, Run::Convert(ElementType::Bf16)),
    b("f32", X, 1, Run::Convert(ElementType::F32)),
    b("f64", X, 1, Run::Convert(ElementType::F64)),
    b(
        "astype",
        &["x", "dtype"],
        2,
        Run::Fn(shape_builtins::astype),
    ),
    b("popcount", X, 1, Run::Unary(UnaryOp::PopulationCount)),
    b("clz", X, 1, Run::Unary(UnaryOp::CountLeadingZeros)),
    b("arctan2", &["y", "x"], 2, Run::Fn(arctan2)),
    b("key", &["seed"], 1, Run::Fn(random::key)),
    b("split", &["key", "n"], 1, Run::Fn(random::split)),
    b("fold_in", &["key", "data"], 2, Run::Fn(random::fold_in)),
    b(
        "uniform",
        &["key", "shape", "lo", "hi"],
        2,
        Run::Fn(random::uniform),
    ),
    b("normal", &["key", "shape"], 2, Run::Fn(random::normal)),
    b(
        "bernoulli",
        &["key", "p", "shape"],
        1,
        Run::Fn(random::bernoulli),
    ),
    b(
        "randint",
        &["key", "shape", "lo", "hi"],
        4,
        Run::Fn(random::randint),
    ),
    b(
        "dropout",
        &["key", "x", "rate"],
        3,
        Run::Fn(random::dropout),
    ),
    b("shape", X, 1, Run::Fn(shape_builtins::shape)),
];

pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

pub fn exists(name: &str) -> bool {
    lookup(name).is_some()
}

pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|b| b.name)
}

/// A builtin call's arguments, matched to the builtin's parameters.
pub struct Args {
    pub name: &'static str,
    pub call: Span,
    slots: Vec<Option<(Value, Span)>>,
}

impl Args {
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.slots[i]
            .as_ref()
            .map(|(v, _)| v)
            .filter(|v| !matches!(v, Value::None))
    }

    /// Whether argument `i` was passed, `None` included.
    pub fn given(&self, i: usize) -> bool {
        self.slots[i].is_some()
    }

    pub fn span(&self, i: usize) -> Span {
        self.slots[i].as_ref().map_or(self.call, |(_, s)| *s)
    }

    /// Argument `i` as an array (numbers become constants).
    pub fn tensor(&self, tracer: &mut Tracer, i: usize) -> Result<Tensor, CompileError> {
        let value = self.slots[i]
            .as_ref()
            .map(|(v, _)| v)
            .expect("required arguments are bound");
        tracer.tensor(value, self.span(i))
    }

    /// Argument `i` as an operand of arithmetic: an array or a number.
    pub fn operand(&self, i: usize) -> Result<Value, CompileError> {
        match self.get(i) {
            Some(v) if matches!(v, Value::Tensor(_)) || v.is_scalar_constant() => Ok(v.clone()),
            other => fail(
                ErrorKind::Value,
                self.span(i),
                format!(
                    "`{}` takes arrays or numbers, not {}",
                    self.name,
                    other.map_or("None".into(), Value::describe)
                ),
            ),
        }
    }

    /// Argument `i` as a compile-time bool, or `default`.
    pub fn flag(&self, i: usize, default: bool) -> Result<bool, CompileError> {
        match self.get(i) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => fail(
                ErrorKind::Value,
                self.span(i),
                format!(
                    "`{}` takes true or false, not {}",
                    self.name,
                    other.describe()
                ),
            ),
        }
    }

    /// Argument `i` as a compile-time float, or `default`.
    pub fn number(&self, i: usize, default: f64) -> Result<f64, CompileError> {
        match self.get(i) {
            None => Ok(default),
            Some(Value::Float(f)) => Ok(*f),
            Some(Value::Int(n)) => Ok(*n as f64),
            Some(other) => fail(
                ErrorKind::Value,
                self.span(i),
                format!("expected a number, found {}", other.describe()),
            ),
        }
    }

    /// Argument `i` as a compile-time integer.
    pub fn int(&self, i: usize) -> Result<i64, CompileError> {
        match self.get(i) {
            Some(v) if let Some(i) = v.as_int() => Ok(i),
            other => fail(
                ErrorKind::Value,
                self.span(i),
                format!(
                    "expected a compile-time integer, found {}",
                    other.map_or("nothing".into(), Value::describe)
                ),
            ),
        }
    }

    /// Argument `i` as a list of compile-time integers (a lone integer counts as one).
    pub fn ints(&self, i: usize) -> Result<Vec<i64>, CompileError> {
        let bad = |v: &Value| {
            CompileError::at(
                ErrorKind::Value,
                self.span(i),
                format!("expected a list of integers, found {}", v.describe()),
            )
        };
        match self.get(i) {
            Some(Value::List(items) | Value::Tuple(items)) => items
                .iter()
                .map(|v| v.as_int().ok_or_else(|| bad(v)))
                .collect(),
            Some(v) if let Some(i) = v.as_int() => Ok(vec![i]),
            Some(other) => Err(bad(other)),
            None => fail(
                ErrorKind::Value,
                self.span(i),
                "expected a list of integers",
            ),
        }
    }

    /// Argument `i` as axes of a rank-`rank` array; absent means all axes.
    pub fn axes(&self, i: usize, rank: usize) -> Result<Vec<usize>, CompileError> {
        if self.get(i).is_none() {
            return Ok((0..rank).collect());
        }
        let mut axes = Vec::new();
        for a in self.ints(i)? {
            let axis = normalize_axis(a, rank).ok_or_else(|| {
                CompileError::at(
                    ErrorKind::Shape,
                    self.span(i),
                    format!("axis {a} is out of range for an array of rank {rank}"),
                )
            })?;
            if axes.contains(&axis) {
                return fail(
                    ErrorKind::Shape,
                    self.span(i),
                    format!("axis {a} is repeated"),
                );
            }
            axes.push(axis);
        }
        Ok(axes)
    }

    /// Argument `i` as one axis, `default` (which may be negative) when absent.
    pub fn axis(&self, i: usize, rank: usize, default: i64) -> Result<usize, CompileError> {
        let a = if self.get(i).is_none() {
            default
        } else {
            self.int(i)?
        };
        normalize_axis(a, rank).ok_or_else(|| {
            CompileError::at(
                ErrorKind::Shape,
                self.span(i),
                format!("axis {a} is out of range for an array of rank {rank}"),
            )
        })
    }

    /// Argument `i` as a shape: non-negative compile-time integers.
    pub fn shape(&self, i: usize) -> Result<Vec<usize>, CompileError> {
        self.ints(i)?
            .into_iter()
            .map(|d| {
                usize::try_from(d).map_err(|_| {
                    CompileError::at(
                        ErrorKind::Shape,
                        self.span(i),
                        format!("dimension {d} is negative"),
                    )
                })
            })
            .collect()
    }
}

/// A builtin's array result, with a failure located at the call.
pub trait Located {
    fn located(self, args: &Args) -> Result<Value, CompileError>;
}

impl Located for OpResult<Tensor> {
    fn located(self, args: &Args) -> Result<Value, CompileError> {
        self.map(Value::Tensor).map_err(|f| at(args.call, f))
    }
}

/// `axis` counted from the end when negative; `None` when out of range.
pub fn normalize_axis(axis: i64, rank: usize) -> Option<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    (0..rank as i64).contains(&a).then_some(a as usize)
}

impl Builtin {
    pub fn call(
        &self,
        tracer: &mut Tracer,
        values: Vec<Argument>,
        call: Span,
    ) -> Result<Value, CompileError> {
        let slots = arguments::bind(self.name, self.params, self.required, values, call)?;
        let args = Args {
            name: self.name,
            call,
            slots,
        };
        match self.run {
            Run::Unary(op) => unary(tracer, op, &args),
            Run::Math(m) => math(tracer, m, &args),
            Run::Reduce(r) => reduce(tracer, r, &args).map(Value::Tensor),
            Run::Convert(e) => shape_builtins::convert(tracer, &args, e),
            Run::Fn(f) => f(tracer, &args),
        }
    }
}

/// One HLO op on an array, or on a compile-time number (folded in f64, or in i64
/// where the op keeps integers integers).
fn unary(tracer: &mut Tracer, op: UnaryOp, args: &Args) -> Result<Value, CompileError> {
    let span = args.span(0);
    let value = args.operand(0)?;
    // Integers are already whole: floor, ceil and round leave them be.
    let whole = matches!(
        op,
        UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::RoundNearestEven
    );
    match value {
        Value::Int(i) if whole => return Ok(Value::Int(i)),
        Value::Int(i) if op.domain().contains(ElementType::S64) => {
            // Counting bits needs a width: a literal is an i32, as in JAX.
            if matches!(op, UnaryOp::PopulationCount | UnaryOp::CountLeadingZeros) {
                let x = i32::try_from(i).map_err(|_| {
                    CompileError::at(
                        ErrorKind::Value,
                        span,
                        format!("integer {i} does not fit in i32"),
                    )
                })?;
                return Ok(Value::Int(<i32 as Element>::unary(op, x) as i64));
            }
            return Ok(Value::Int(<i64 as Element>::unary(op, i)));
        }
        Value::Int(_) | Value::Float(_) | Value::Bool(_) if op == UnaryOp::IsFinite => {
            let x = as_f64(&value).unwrap_or(0.0);
            return Ok(Value::Bool(x.is_finite()));
        }
        Value::Int(_) | Value::Float(_) | Value::Bool(_) if op.domain() == Domain::Float => {
            let x = as_f64(&value).unwrap_or(matches!(value, Value::Bool(true)) as u8 as f64);
            return Ok(Value::Float(<f64 as Element>::unary(op, x)));
        }
        _ => {}
    }
    let t = tracer.tensor(&value, span)?;
    let g = &mut tracer.graph;
    let result = (|| {
        if whole && !t.element().is_float() {
            return Ok(t.clone());
        }
        // As in JAX: float ops promote integers and bools to f32 (64-bit
        // integers to f64), numeric ones bools to i32; bit counting is for
        // integers only.
        let operand = match (op.domain(), t.element()) {
            (Domain::Float, e) if !e.is_float() => g.convert(&t, to_inexact(e))?,
            (Domain::Numeric, ElementType::Pred) => g.convert(&t, ElementType::S32)?,
            (Domain::Integer, e) if !e.is_integer() => {
                return Err((
                    ErrorKind::Dtype,
                    format!(
                        "`{}` is defined on integers, not on {}",
                        args.name,
                        super::value::user_dtype(e)
                    ),
                ));
            }
            _ => t.clone(),
        };
        g.emit(hlo::Op::Unary(op), &[&operand])
    })();
    result.located(args)
}

fn math(tracer: &mut Tracer, m: Math, args: &Args) -> Result<Value, CompileError> {
    let span = args.span(0);
    let value = args.operand(0)?;
    match value {
        Value::Int(i) => {
            return Ok(match m {
                Math::Relu => Value::Int(i.max(0)),
                Math::Square => Value::Int(i.wrapping_mul(i)),
                Math::Reciprocal => Value::Float(1.0 / i as f64),
            });
        }
        Value::Float(x) => {
            return Ok(Value::Float(match m {
                Math::Relu => x.max(0.0),
                Math::Square => x * x,
                Math::Reciprocal => 1.0 / x,
            }));
        }
        _ => {}
    }
    let t = tracer.tensor(&value, span)?;
    let g = &mut tracer.graph;
    let result = (|| {
        let n = match t.element() {
            ElementType::Pred => g.convert(&t, ElementType::S32)?,
            _ => t.clone(),
        };
        match m {
            Math::Square => g.emit(hlo::Op::Binary(hlo::BinaryOp::Multiply), &[&n, &n]),
            Math::Relu => {
                arith::elementwise(g, hlo::BinaryOp::Maximum, &Value::Tensor(n), &Value::Int(0))
            }
            Math::Reciprocal => {
                arith::elementwise(g, hlo::BinaryOp::Divide, &Value::Int(1), &Value::Tensor(n))
            }
        }
    })();
    result.located(args)
}

/// `maximum`/`minimum` of two operands: folded when both are numbers (NaN wins,
/// as in XLA), elementwise otherwise.
fn extremum(
    tracer: &mut Tracer,
    a: &Value,
    b: &Value,
    op: hlo::BinaryOp,
    span: Span,
) -> Result<Value, CompileError> {
    if let (Some(x), Some(y)) = (as_f64(a), as_f64(b)) {
        let r = match op {
            _ if x.is_nan() || y.is_nan() => f64::NAN,
            hlo::BinaryOp::Maximum => x.max(y),
            _ => x.min(y),
        };
        return Ok(match (a, b) {
            (Value::Int(_), Value::Int(_)) => Value::Int(r as i64),
            _ => Value::Float(r),
        });
    }
    arith::elementwise(&mut tracer.graph, op, a, b)
        .map(Value::Tensor)
        .map_err(|f| at(span, f))
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn maximum(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    extremum(
        tracer,
        &args.operand(0)?,
        &args.operand(1)?,
        hlo::BinaryOp::Maximum,
        args.call,
    )
}

fn minimum(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    extremum(
        tracer,
        &args.operand(0)?,
        &args.operand(1)?,
        hlo::BinaryOp::Minimum,
        args.call,
    )
}

fn pow(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let (a, b) = (args.operand(0)?, args.operand(1)?);
    arith::binary(&mut tracer.graph, BinaryOp::Pow, &a, &b).map_err(|f| at(args.call, f))
}

/// `arctan2(y, x)`: integers and bools promote to a float first, as in JAX.
fn arctan2(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let (y, x) = (args.operand(0)?, args.operand(1)?);
    if let (Some(a), Some(b)) = (as_f64(&y), as_f64(&x)) {
        return Ok(Value::Float(a.atan2(b)));
    }
    let g = &mut tracer.graph;
    let result = (|| {
        let element = to_inexact(arith::promoted(&[&y, &x]).expect("an operand is an array"));
        let [y, x] = <[Tensor; 2]>::try_from(arith::unify(g, &[&y, &x], Some(element))?)
            .expect("two operands");
        g.emit(hlo::Op::Binary(hlo::BinaryOp::Atan2), &[&y, &x])
    })();
    result.located(args)
}

fn where_(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let (cond, a, b) = (args.operand(0)?, args.operand(1)?, args.operand(2)?);
    let g = &mut tracer.graph;
    let result = (|| {
        let element = arith::promoted(&[&a, &b]).expect("operands have types");
        let c = arith::to_tensor(g, &cond, ElementType::Pred)?;
        let x = arith::to_tensor(g, &a, element)?;
        let y = arith::to_tensor(g, &b, element)?;
        let dims = arith::broadcast_dims(c.dims(), x.dims())
            .and_then(|d| arith::broadcast_dims(&d, y.dims()))
            .ok_or_else(|| {
                let shapes = [&c, &x, &y].map(|t| user_type(&t.shape)).join(", ");
                (
                    ErrorKind::Shape,
                    format!("cannot broadcast {shapes} together"),
                )
            })?;
        let (c, x, y) = (
            g.broadcast_to(&c, &dims)?,
            g.broadcast_to(&x, &dims)?,
            g.broadcast_to(&y, &dims)?,
        );
        g.select(&c, &x, &y)
    })();
    result.located(args)
}

fn clip(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let mut x = args.operand(0)?;
    if args.get(1).is_some() {
        x = extremum(
            tracer,
            &x,
            &args.operand(1)?,
            hlo::BinaryOp::Maximum,
            args.call,
        )?;
    }
    if args.get(2).is_some() {
        x = extremum(
            tracer,
            &x,
            &args.operand(2)?,
            hlo::BinaryOp::Minimum,
            args.call,
        )?;
    }
    Ok(x)
}

pub fn reduce(tracer: &mut Tracer, kind: Reduction, args: &Args) -> Result<Tensor, CompileError> {
    let t = args.tensor(tracer, 0)?;
    let axes = args.axes(1, t.rank())?;
    let keepdims = args.flag(2, false)?;
    reduce_tensor(tracer, kind, &t, &axes, keepdims).map_err(|f| at(args.call, f))
}

/// A reduction over `axes` with NumPy's type rules: bools sum and multiply as
/// i32, `mean` divides in f32, bool `max`/`min` are `or`/`and`.
pub fn reduce_tensor(
    tracer: &mut Tracer,
    kind: Reduction,
    t: &Tensor,
    axes: &[usize],
    keepdims: bool,
) -> OpResult<Tensor> {
    let g = &mut tracer.graph;
    let element = t.element();
    // As `jnp.sum`: bools and integers narrower than 32 bits sum as 32-bit ones
    // (`promote_integers`); `f16` and `bf16` sum, multiply and average in `f32`
    // and round once at the end (`upcast_f16_for_computation`).
    let half = matches!(element, ElementType::F16 | ElementType::Bf16);
    let (input, reducer) = match (kind, element) {
        (Reduction::Sum | Reduction::Prod, _) => {
            let wide = match element {
                ElementType::Pred | ElementType::S8 | ElementType::S16 => ElementType::S32,
                ElementType::U8 | ElementType::U16 => ElementType::U32,
                ElementType::F16 | ElementType::Bf16 => ElementType::F32,
                e => e,
            };
            let op = if kind == Reduction::Sum {
                ReduceOp::Add
            } else {
                ReduceOp::Multiply
            };
            (g.convert(t, wide)?, op)
        }
        (Reduction::Mean, e) => {
            let wide = if half {
                ElementType::F32
            } else {
                to_inexact(e)
            };
            (g.convert(t, wide)?, ReduceOp::Add)
        }
        (Reduction::Any | Reduction::All, _) => {
            let op = match kind {
                Reduction::Any => ReduceOp::Or,
                _ => ReduceOp::And,
            };
            (nonzero(g, t)?, op)
        }
        (Reduction::Max, ElementType::Pred) => (t.clone(), ReduceOp::Or),
        (Reduction::Min, ElementType::Pred) => (t.clone(), ReduceOp::And),
        (Reduction::Max, _) => (t.clone(), ReduceOp::Maximum),
        (Reduction::Min, _) => (t.clone(), ReduceOp::Minimum),
    };
    let mut r = g.reduce(&input, axes, reducer)?;
    if kind == Reduction::Mean {
        let count: usize = axes.iter().map(|&a| t.dims()[a]).product();
        let n = g.full(Scalar::int(r.element(), count as i64), r.dims())?;
        r = g.emit(hlo::Op::Binary(hlo::BinaryOp::Divide), &[&r, &n])?;
    }
    if half && matches!(kind, Reduction::Sum | Reduction::Mean | Reduction::Prod) {
        r = g.convert(&r, element)?;
    }
    if keepdims {
        let dims: Vec<usize> = (0..t.rank())
            .map(|i| if axes.contains(&i) { 1 } else { t.dims()[i] })
            .collect();
        r = g.reshape(&r, &dims)?;
    }
    Ok(r)
}

/// `t != 0` as `pred` (bools as they are), as `jnp.any` and `jnp.all` see
/// their operand.
fn nonzero(g: &mut super::graph::Graph, t: &Tensor) -> OpResult<Tensor> {
    if t.element() == ElementType::Pred {
        return Ok(t.clone());
    }
    let zero = g.full(Scalar::int(t.element(), 0), t.dims())?;
    g.compare(hlo::Direction::Ne, t, &zero)
}
