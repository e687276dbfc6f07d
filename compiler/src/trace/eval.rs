//! Evaluating statements and expressions: the tracer proper.

use rustc_hash::FxHashMap;

use omelet_grammar::omelet::{
    Arg, Block, DType, Expr, ExprKind, FnDef, Item, Pattern, Program, Stmt, UnaryOp,
};

use crate::error::{CompileError, ErrorKind, Span};
use crate::hlo::{Module, Op, verify};

use super::KnownShapes;
use super::arguments::{self, Argument};
use super::arith;
use super::builtins;
use super::graph::{Failure, Graph};
use super::value::{Tensor, Value};

/// Unrolling more loop iterations than this in one trace is a runaway loop.
const MAX_ITERATIONS: u64 = 100_000;

/// Evaluating more than this many expressions (and copying as many list items) in
/// one trace is runaway work that emits few instructions: calls that fan out
/// exponentially (`f(f(x))` in every function of a chain), lists that double on
/// every iteration. Tracing stops with an error instead of running for minutes.
const MAX_STEPS: u64 = 5_000_000;

/// Evaluation recurses through nested expressions, inlined calls and loops. Each
/// level counts about as much as it takes of the stack (up to 6 KiB a count in
/// debug builds): an expression 1, a call or an index 2, a call to a function of
/// the script 3, a `for` loop 1. Past this depth, which leaves room for a few calls
/// and loops around the deepest expression the parser accepts, tracing stops with
/// an error rather than overflow a 2 MiB thread stack.
const MAX_EVAL_DEPTH: usize = 256;

/// Lists and tuples nesting deeper than this (`let l = [l];` in a long loop) would
/// overflow the stack when copied or dropped.
const MAX_VALUE_DEPTH: usize = 64;

/// Variables of one function call. `for` bodies share their function's scope, so
/// a `let` inside a loop is visible after it (LANGUAGE.md).
pub(super) type Scope = FxHashMap<String, Value>;

pub struct Tracer<'p> {
    pub(super) graph: Graph,
    functions: FxHashMap<&'p str, &'p FnDef>,
    consts: FxHashMap<&'p str, Value>,
    /// Symbolic dimensions bound by `main`'s inputs.
    pub(super) dims: FxHashMap<String, usize>,
    /// Functions being traced, outermost first: calling one again is recursion.
    stack: Vec<&'p str>,
    iterations: u64,
    /// Work done so far: expressions evaluated and list items copied.
    steps: u64,
    /// Evaluations, calls and loops in progress, counted as [`MAX_EVAL_DEPTH`] says.
    /// An error ends the trace, so a path that returns one leaves it as it is.
    depth: usize,
}

/// How a block ended: with `return`, or by running out of statements (with the
/// trailing expression's value, if any).
enum Flow {
    Return(Value),
    End(Option<Value>),
}

pub(super) fn at(span: Span, (kind, message): Failure) -> CompileError {
    CompileError::at(kind, span, message)
}

pub(super) fn fail<T>(
    kind: ErrorKind,
    span: Span,
    message: impl Into<String>,
) -> Result<T, CompileError> {
    Err(CompileError::at(kind, span, message))
}

pub use super::value::element_of;

impl<'p> Tracer<'p> {
    pub fn trace(
        program: &'p Program,
        name: &str,
        known: &KnownShapes,
    ) -> Result<Module, CompileError> {
        let mut tracer = Tracer {
            graph: Graph::new("main"),
            functions: FxHashMap::default(),
            consts: FxHashMap::default(),
            dims: known.dims.clone(),
            stack: Vec::new(),
            iterations: 0,
            steps: 0,
            depth: 0,
        };
        for item in &program.items {
            if let Item::Fn(f) = item
                && tracer.functions.insert(&f.name.name, f).is_some()
            {
                return fail(
                    ErrorKind::UnknownName,
                    f.name.span,
                    format!("function {} is defined twice", f.name.name),
                );
            }
        }
        let main = *tracer.functions.get("main").ok_or_else(|| {
            CompileError::at(
                ErrorKind::UnknownName,
                Span::new(0, 0),
                "the program has no `fn main`",
            )
        })?;
        let mut scope = Scope::default();
        let shapes = tracer.bind_inputs(main, known)?;
        for (i, (param, shape)) in main.params.iter().zip(shapes).enumerate() {
            let t = tracer
                .graph
                .parameter(i, &param.name.name, shape)
                .map_err(|e| at(param.name.span, e))?;
            scope.insert(param.name.name.clone(), Value::Tensor(t));
        }
        for item in &program.items {
            if let Item::Const(c) = item {
                let value = tracer.eval(&mut Scope::default(), &c.value)?;
                if !value.is_scalar_constant() {
                    return fail(
                        ErrorKind::Value,
                        c.value.span,
                        format!(
                            "a const must be a number or a bool, not {}",
                            value.describe()
                        ),
                    );
                }
                tracer.consts.insert(&c.name.name, value);
            }
        }
        tracer.stack.push("main");
        let result = tracer.run_body(main, scope)?;
        let mut outputs = Vec::new();
        tracer.flatten(&result, main.body.span, &mut outputs)?;
        let root = match &outputs[..] {
            [single] => single.id,
            _ => {
                let ids = outputs.iter().map(|t| t.id).collect();
                tracer
                    .graph
                    .builder
                    .add(Op::Tuple, ids)
                    .map_err(|e| CompileError::at(ErrorKind::Shape, main.body.span, e))?
            }
        };
        let computations = tracer
            .graph
            .finish(root)
            .map_err(|e| CompileError::new(ErrorKind::Shape, e))?;
        let module = Module {
            name: name.to_string(),
            computations,
            entry: crate::hlo::ComputationId::new(0),
        };
        verify(&module).map_err(|e| {
            CompileError::new(
                ErrorKind::Shape,
                format!("internal error: the traced module is invalid: {e}"),
            )
        })?;
        Ok(module)
    }

    /// The outputs of `main`: arrays, tuples flattened, scalars made constants.
    fn flatten(
        &mut self,
        value: &Value,
        span: Span,
        out: &mut Vec<Tensor>,
    ) -> Result<(), CompileError> {
        match value {
            Value::Tensor(t) => out.push(t.clone()),
            Value::Tuple(items) => {
                for item in items {
                    self.flatten(item, span, out)?;
                }
            }
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                let element = arith::promoted(&[value]).expect("a scalar has a type");
                out.push(
                    arith::to_tensor(&mut self.graph, value, element).map_err(|e| at(span, e))?,
                );
            }
            other => {
                return fail(
                    ErrorKind::Value,
                    span,
                    format!("main must return arrays, not {}", other.describe()),
                );
            }
        }
        Ok(())
    }

    /// Runs a function body in `scope`; its value is the `return`ed or trailing one.
    fn run_body(&mut self, f: &'p FnDef, mut scope: Scope) -> Result<Value, CompileError> {
        let value = match self.block(&mut scope, &f.body)? {
            Flow::Return(v) | Flow::End(Some(v)) => v,
            Flow::End(None) => {
                return fail(
                    ErrorKind::Value,
                    f.name.span,
                    format!(
                        "function {} returns nothing: end it with an expression or `return`",
                        f.name.name
                    ),
                );
            }
        };
        if let Some(ret) = &f.ret {
            self.check_type(&value, ret, &mut FxHashMap::default())
                .map_err(|msg| {
                    CompileError::at(
                        ErrorKind::Shape,
                        ret.span,
                        format!(
                            "{} returns {} but is declared {}",
                            f.name.name,
                            value.describe(),
                            msg
                        ),
                    )
                })?;
        }
        Ok(value)
    }

    fn block(&mut self, scope: &mut Scope, block: &Block) -> Result<Flow, CompileError> {
        for stmt in &block.stmts {
            match stmt {
                Stmt::Let { pattern, value } => {
                    let v = self.eval(scope, value)?;
                    self.bind(scope, pattern, v, value.span)?;
                }
                Stmt::Return { value, .. } => return Ok(Flow::Return(self.eval(scope, value)?)),
                Stmt::For {
                    var,
                    start,
                    end,
                    body,
                } => {
                    let from = self.compile_time_int(scope, start)?;
                    let to = self.compile_time_int(scope, end)?;
                    self.iterations += to.saturating_sub(from).max(0) as u64;
                    if self.iterations > MAX_ITERATIONS {
                        return fail(
                            ErrorKind::Value,
                            Span::new(start.span.start, end.span.end),
                            format!("loops unroll to more than {MAX_ITERATIONS} iterations"),
                        );
                    }
                    self.nest(1, var.span)?;
                    for i in from..to {
                        scope.insert(var.name.clone(), Value::Int(i));
                        if let Flow::Return(v) = self.block(scope, body)? {
                            self.depth -= 1;
                            return Ok(Flow::Return(v));
                        }
                    }
                    self.depth -= 1;
                }
            }
        }
        match &block.tail {
            Some(e) => Ok(Flow::End(Some(self.eval(scope, e)?))),
            None => Ok(Flow::End(None)),
        }
    }

    fn bind(
        &mut self,
        scope: &mut Scope,
        pattern: &Pattern,
        value: Value,
        span: Span,
    ) -> Result<(), CompileError> {
        match pattern {
            Pattern::Name(id) => {
                scope.insert(id.name.clone(), value);
                Ok(())
            }
            Pattern::Tuple(parts, pat_span) => {
                let items = match value {
                    Value::Tuple(items) | Value::List(items) => items,
                    other => {
                        return fail(
                            ErrorKind::Value,
                            span,
                            format!(
                                "cannot destructure {} into {} names",
                                other.describe(),
                                parts.len()
                            ),
                        );
                    }
                };
                if items.len() != parts.len() {
                    return fail(
                        ErrorKind::Arity,
                        *pat_span,
                        format!(
                            "the pattern has {} names but the value has {} elements",
                            parts.len(),
                            items.len()
                        ),
                    );
                }
                for (part, item) in parts.iter().zip(items) {
                    self.bind(scope, part, item, span)?;
                }
                Ok(())
            }
        }
    }

    pub(super) fn compile_time_int(
        &mut self,
        scope: &mut Scope,
        e: &Expr,
    ) -> Result<i64, CompileError> {
        match self.eval(scope, e)? {
            Value::Int(i) => Ok(i),
            other => fail(
                ErrorKind::Value,
                e.span,
                format!(
                    "expected a compile-time integer, found {}",
                    other.describe()
                ),
            ),
        }
    }

    pub(super) fn eval(&mut self, scope: &mut Scope, e: &Expr) -> Result<Value, CompileError> {
        self.charge(1, e.span)?;
        self.nest(1, e.span)?;
        let value = self.eval_expr(scope, e);
        self.depth -= 1;
        value
    }

    /// `levels` deeper, or an error at `span` past [`MAX_EVAL_DEPTH`].
    fn nest(&mut self, levels: usize, span: Span) -> Result<(), CompileError> {
        if self.depth + levels > MAX_EVAL_DEPTH {
            return fail(
                ErrorKind::Value,
                span,
                format!("expressions and calls nest more than {MAX_EVAL_DEPTH} deep"),
            );
        }
        self.depth += levels;
        Ok(())
    }

    fn eval_expr(&mut self, scope: &mut Scope, e: &Expr) -> Result<Value, CompileError> {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(i) => i64::try_from(*i)
                .map(Value::Int)
                .or_else(|_| fail(ErrorKind::Value, span, "integer literal too large")),
            ExprKind::Float(f) => Ok(Value::Float(*f)),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::None => Ok(Value::None),
            ExprKind::Name(name) => {
                let value = self.lookup(scope, name, span)?;
                self.charge(value.size() as u64 - 1, span)?;
                Ok(value)
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let items: Vec<Value> = items
                    .iter()
                    .map(|i| self.eval(scope, i))
                    .collect::<Result<_, _>>()?;
                if items.iter().any(|v| v.depth() >= MAX_VALUE_DEPTH) {
                    return fail(
                        ErrorKind::Value,
                        span,
                        format!("lists and tuples nest more than {MAX_VALUE_DEPTH} deep"),
                    );
                }
                Ok(match e.kind {
                    ExprKind::Tuple(_) => Value::Tuple(items),
                    _ => Value::List(items),
                })
            }
            ExprKind::Unary { op, operand } => {
                let v = self.eval(scope, operand)?;
                match op {
                    UnaryOp::Neg => arith::negate(&mut self.graph, &v),
                    UnaryOp::Not => arith::not(&mut self.graph, &v),
                    UnaryOp::BitNot => arith::bit_not(&mut self.graph, &v),
                }
                .map_err(|f| at(span, f))
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } if !matches!(lhs.kind, ExprKind::Binary { .. }) => {
                let l = self.eval(scope, lhs)?;
                let r = self.eval(scope, rhs)?;
                arith::binary(&mut self.graph, *op, &l, &r).map_err(|f| at(*op_span, f))
            }
            ExprKind::Binary { .. } => self.eval_chain(scope, e),
            // Calls and indices evaluate their arguments further down the stack
            // (through `call`, `index_tensor`, ...): they count one level more.
            ExprKind::Call { callee, args } => {
                self.nest(1, span)?;
                let value = self.call(scope, callee, args, span);
                self.depth -= 1;
                value
            }
            ExprKind::Index { base, items } => {
                let b = self.eval(scope, base)?;
                self.nest(1, span)?;
                let value = self.index(scope, b, items, span);
                self.depth -= 1;
                value
            }
            ExprKind::AtUpdate(update) => {
                let b = self.eval(scope, &update.base)?;
                self.nest(1, span)?;
                let value = self.at_update(scope, b, update, span);
                self.depth -= 1;
                value
            }
            ExprKind::Transpose(base) => match self.eval(scope, base)? {
                Value::Tensor(t) => {
                    let perm: Vec<usize> = (0..t.rank()).rev().collect();
                    Ok(Value::Tensor(
                        self.graph.transpose(&t, &perm).map_err(|f| at(span, f))?,
                    ))
                }
                other => fail(
                    ErrorKind::Value,
                    span,
                    format!("`.T` needs an array, not {}", other.describe()),
                ),
            },
        }
    }

    /// A left-associative chain (`a + b + c + ...`): a left spine as deep as
    /// the chain is long, walked with a loop so that its length costs no stack.
    /// Operands are evaluated in the same order as by recursion: the innermost
    /// left operand, then each right one. (Apart from `eval_expr`, whose frame
    /// every level of nesting pays for.)
    #[inline(never)]
    fn eval_chain(&mut self, scope: &mut Scope, e: &Expr) -> Result<Value, CompileError> {
        // Each level's operator, its span and its right operand, outermost first.
        let mut spine = Vec::new();
        let mut first = e;
        while let ExprKind::Binary {
            op,
            op_span,
            lhs,
            rhs,
        } = &first.kind
        {
            if !spine.is_empty() {
                self.charge(1, first.span)?;
            }
            spine.push((op, op_span, rhs));
            first = lhs;
        }
        let mut value = self.eval(scope, first)?;
        for (op, op_span, rhs) in spine.into_iter().rev() {
            let r = self.eval(scope, rhs)?;
            value = arith::binary(&mut self.graph, *op, &value, &r).map_err(|f| at(*op_span, f))?;
        }
        Ok(value)
    }

    /// Counts `steps` more of work; an error at `span` past [`MAX_STEPS`].
    fn charge(&mut self, steps: u64, span: Span) -> Result<(), CompileError> {
        self.steps += steps;
        if self.steps > MAX_STEPS {
            return fail(
                ErrorKind::Value,
                span,
                format!("the program takes more than {MAX_STEPS} steps to trace"),
            );
        }
        Ok(())
    }

    fn lookup(&self, scope: &Scope, name: &str, span: Span) -> Result<Value, CompileError> {
        if let Some(v) = scope.get(name).or_else(|| self.consts.get(name)) {
            return Ok(v.clone());
        }
        if let Some(&d) = self.dims.get(name) {
            return Ok(Value::Int(d as i64));
        }
        if let Some(dtype) = DType::from_name(name) {
            return Ok(Value::DType(element_of(dtype)));
        }
        if self.functions.contains_key(name) || builtins::exists(name) {
            return fail(
                ErrorKind::Value,
                span,
                format!("{name} is a function: call it, as in `{name}(...)`"),
            );
        }
        let candidates = scope
            .keys()
            .map(String::as_str)
            .chain(self.consts.keys().copied());
        fail(
            ErrorKind::UnknownName,
            span,
            format!("unknown name `{name}`{}", suggestion(name, candidates)),
        )
    }

    fn call(
        &mut self,
        scope: &mut Scope,
        callee: &Expr,
        args: &[Arg],
        span: Span,
    ) -> Result<Value, CompileError> {
        let ExprKind::Name(name) = &callee.kind else {
            return fail(
                ErrorKind::Value,
                callee.span,
                "only functions can be called, by name",
            );
        };
        if scope.contains_key(name) {
            return fail(
                ErrorKind::Value,
                callee.span,
                format!("{name} is a value, not a function"),
            );
        }
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push((
                arg.keyword.clone(),
                self.eval(scope, &arg.value)?,
                arg.value.span,
            ));
        }
        if let Some(&f) = self.functions.get(name.as_str()) {
            return self.call_user(f, values, callee.span, span);
        }
        if let Some(builtin) = builtins::lookup(name) {
            return builtin.call(self, values, span);
        }
        let known: Vec<String> = self
            .functions
            .keys()
            .map(|k| k.to_string())
            .chain(builtins::names().map(String::from))
            .collect();
        let hint = suggestion(name, known.iter().map(String::as_str));
        fail(
            ErrorKind::UnknownName,
            callee.span,
            format!("unknown function `{name}`{hint}"),
        )
    }

    fn call_user(
        &mut self,
        f: &'p FnDef,
        args: Vec<Argument>,
        name_span: Span,
        span: Span,
    ) -> Result<Value, CompileError> {
        let name = f.name.name.as_str();
        if let Some(pos) = self.stack.iter().position(|&s| s == name) {
            let mut cycle: Vec<&str> = self.stack[pos..].to_vec();
            cycle.push(name);
            return fail(
                ErrorKind::Recursion,
                name_span,
                format!(
                    "recursive call ({}): tracing would never end",
                    cycle.join(" -> ")
                ),
            );
        }
        let params: Vec<&str> = f.params.iter().map(|p| p.name.name.as_str()).collect();
        let bound = arguments::bind(name, &params, params.len(), args, span)?;
        let mut scope = Scope::default();
        let mut local_dims = FxHashMap::default();
        for (param, arg) in f.params.iter().zip(bound) {
            let (value, arg_span) = arg.expect("arguments::bind fills every required slot");
            if let Some(ty) = &param.ty {
                self.check_type(&value, ty, &mut local_dims)
                    .map_err(|declared| {
                        CompileError::at(
                            ErrorKind::Shape,
                            arg_span,
                            format!(
                                "argument `{}` of {name} is {} but must be {declared}",
                                param.name.name,
                                value.describe()
                            ),
                        )
                    })?;
            }
            scope.insert(param.name.name.clone(), value);
        }
        self.stack.push(&f.name.name);
        self.nest(1, name_span)?;
        let result = self.run_body(f, scope);
        self.depth -= 1;
        self.stack.pop();
        result
    }

    /// Evaluates a value as an array: arrays as they are, numbers as constants.
    pub(super) fn tensor(&mut self, value: &Value, span: Span) -> Result<Tensor, CompileError> {
        match value {
            Value::Tensor(t) => Ok(t.clone()),
            v if v.is_scalar_constant() => {
                let element = arith::promoted(&[v]).expect("scalars have a type");
                arith::to_tensor(&mut self.graph, v, element).map_err(|f| at(span, f))
            }
            other => fail(
                ErrorKind::Value,
                span,
                format!("expected an array, found {}", other.describe()),
            ),
        }
    }
}

/// ` (did you mean `x`?)` when a known name is one or two edits away.
fn suggestion<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= 2.min(name.len().saturating_sub(1)).max(1))
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + (ca != cb) as usize).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
