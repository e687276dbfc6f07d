//! The `.om` parser: text in, [`Program`] out, a span on every node.

use pest::Parser;
use pest::iterators::Pair;
use pest_derive::Parser;

use crate::span::{ParseError, Span, check_nesting, with_details};

#[derive(Parser)]
#[grammar = "omelet.pest"]
struct OmeletParser;

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Fn(FnDef),
    Const(ConstDef),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeAnn>,
    pub body: Block,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<TypeAnn>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConstDef {
    pub name: Ident,
    pub value: Expr,
}

/// An element type as scripts write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    Bf16,
    F32,
    F64,
}

impl DType {
    pub const ALL: [DType; 13] = [
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F16,
        DType::Bf16,
        DType::F32,
        DType::F64,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "i8",
            DType::I16 => "i16",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::U8 => "u8",
            DType::U16 => "u16",
            DType::U32 => "u32",
            DType::U64 => "u64",
            DType::F16 => "f16",
            DType::Bf16 => "bf16",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// The type named `name`, if it is one.
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// `f32[B, 784]`, or a scalar `f32` (no brackets, or empty ones).
#[derive(Clone, Debug, PartialEq)]
pub struct TypeAnn {
    pub dtype: DType,
    pub dims: Vec<Dim>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Dim {
    Fixed(u64, Span),
    Symbol(Ident),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// The trailing expression without `;`: the block's value.
    pub tail: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Let {
        pattern: Pattern,
        value: Expr,
    },
    Return {
        value: Expr,
        span: Span,
    },
    For {
        var: Ident,
        start: Expr,
        end: Expr,
        body: Block,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    Name(Ident),
    Tuple(Vec<Pattern>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// A chain (`a + b + c + ...`) is a tree as deep as it is long, and the
/// compiler's drop glue recurses: an expression is taken apart with a loop.
impl Drop for Expr {
    fn drop(&mut self) {
        let mut children: Vec<Expr> = Vec::new();
        detach(&mut self.kind, &mut children);
        while let Some(mut child) = children.pop() {
            detach(&mut child.kind, &mut children);
        }
    }
}

/// Moves the boxed children of `kind` onto `children`, leaving a leaf.
fn detach(kind: &mut ExprKind, children: &mut Vec<Expr>) {
    match std::mem::replace(kind, ExprKind::None) {
        ExprKind::Binary { lhs, rhs, .. } => children.extend([*lhs, *rhs]),
        ExprKind::Unary { operand: e, .. }
        | ExprKind::Transpose(e)
        | ExprKind::Call { callee: e, .. }
        | ExprKind::Index { base: e, .. } => children.push(*e),
        ExprKind::AtUpdate(update) => children.push(update.base),
        _ => {}
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal: weakly typed, as in JAX.
    Int(u64),
    Float(f64),
    Bool(bool),
    None,
    Name(String),
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    /// `op_span` covers the operator: errors point at it.
    Binary {
        op: BinaryOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    Index {
        base: Box<Expr>,
        items: Vec<IndexItem>,
    },
    /// `x.T`
    Transpose(Box<Expr>),
    /// `base.at[items].method(args)`: JAX's functional update.
    AtUpdate(Box<AtUpdate>),
}

/// `base.at[items].method(args)`: JAX's functional update (`set`, `add`,
/// `mul`, `min`, `max`).
#[derive(Clone, Debug, PartialEq)]
pub struct AtUpdate {
    pub base: Expr,
    pub items: Vec<IndexItem>,
    pub method: Ident,
    pub args: Vec<Arg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    /// `!x`: logical not.
    Not,
    /// `~x`: bitwise not.
    BitNot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `//`: floor division.
    FloorDiv,
    /// `%`: the remainder with the divisor's sign.
    Rem,
    MatMul,
    Pow,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::FloorDiv => "//",
            BinaryOp::Rem => "%",
            BinaryOp::MatMul => "@",
            BinaryOp::Pow => "**",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
        }
    }

    fn from_symbol(s: &str) -> BinaryOp {
        [
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::FloorDiv,
            BinaryOp::Rem,
            BinaryOp::MatMul,
            BinaryOp::Pow,
            BinaryOp::BitAnd,
            BinaryOp::BitOr,
            BinaryOp::BitXor,
            BinaryOp::Shl,
            BinaryOp::Shr,
            BinaryOp::Eq,
            BinaryOp::Ne,
            BinaryOp::Lt,
            BinaryOp::Le,
            BinaryOp::Gt,
            BinaryOp::Ge,
        ]
        .into_iter()
        .find(|op| op.symbol() == s)
        .expect("the grammar only yields known operators")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `Some` for a keyword argument `name=value`.
    pub keyword: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum IndexItem {
    /// An integer (drops the axis) or `None` (adds one).
    Expr(Expr),
    Slice {
        start: Option<Expr>,
        stop: Option<Expr>,
        step: Option<Expr>,
        span: Span,
    },
}

/// The deepest bracket nesting a program may have: deeper input would exhaust the
/// parser's stack long before it could mean anything. The parser takes up to 12 KiB
/// of stack a bracket, so this much nesting fits a 2 MiB thread with room to spare.
const MAX_NESTING: usize = 100;

/// The deepest an expression's tree may be. The tracer recurses over it, and a
/// chain of prefix, power or postfix operators without brackets (`- - x`,
/// `x ** 2 ** 2`, `x.T.T`) nests as deep as it is long: past this, the stack
/// could overflow. A left-associative chain (`a + b + c + ...`, `a * b / c`)
/// counts as one level however long it is: the tracer walks its left spine
/// with a loop, and dropping a tree takes it apart with one (`Drop for Expr`),
/// so its length is bounded only by the tracer's instruction and step limits.
const MAX_DEPTH: usize = 200;

pub fn parse(text: &str) -> Result<Program, ParseError> {
    check_nesting(text, MAX_NESTING)?;
    let mut pairs = with_details(|| OmeletParser::parse(Rule::program, text))
        .map_err(|e| ParseError::from_pest(e, describe))?;
    let program = pairs.next().expect("the grammar yields one program");
    let mut items = Vec::new();
    for pair in program.into_inner() {
        match pair.as_rule() {
            Rule::fn_def => items.push(Item::Fn(fn_def(pair)?)),
            Rule::const_def => {
                let mut inner = pair.into_inner();
                let name = ident(inner.next().expect("a const has a name"));
                let value = expr(inner.next().expect("a const has a value"), 0)?;
                items.push(Item::Const(ConstDef { name, value }));
            }
            _ => {}
        }
    }
    Ok(Program { items })
}

fn span(pair: &Pair<Rule>) -> Span {
    Span::of(pair.as_span())
}

fn ident(pair: Pair<Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span(&pair),
    }
}

fn fn_def(pair: Pair<Rule>) -> Result<FnDef, ParseError> {
    let mut inner = pair.into_inner();
    let name = ident(inner.next().expect("a function has a name"));
    let mut params = Vec::new();
    let mut ret = None;
    let mut body = None;
    for p in inner {
        match p.as_rule() {
            Rule::params => {
                for param in p.into_inner() {
                    let mut parts = param.into_inner();
                    let name = ident(parts.next().expect("a parameter has a name"));
                    let ty = parts.next().map(type_ann).transpose()?;
                    params.push(Param { name, ty });
                }
            }
            Rule::ret_type => ret = Some(type_ann(p.into_inner().next().expect("a type"))?),
            Rule::block => body = Some(block(p)?),
            _ => unreachable!("fn_def has no {:?}", p.as_rule()),
        }
    }
    Ok(FnDef {
        name,
        params,
        ret,
        body: body.expect("a function has a body"),
    })
}

fn type_ann(pair: Pair<Rule>) -> Result<TypeAnn, ParseError> {
    let span = span(&pair);
    let mut inner = pair.into_inner();
    let dtype = DType::from_name(inner.next().expect("a type has a dtype").as_str())
        .expect("the grammar only yields known types");
    let mut dims = Vec::new();
    if let Some(list) = inner.next() {
        for dim in list.into_inner() {
            let d = dim.into_inner().next().expect("a dimension");
            dims.push(match d.as_rule() {
                Rule::int => Dim::Fixed(integer(&d)?, span_of(&d)),
                _ => Dim::Symbol(ident(d)),
            });
        }
    }
    Ok(TypeAnn { dtype, dims, span })
}

fn span_of(pair: &Pair<Rule>) -> Span {
    span(pair)
}

fn block(pair: Pair<Rule>) -> Result<Block, ParseError> {
    let block_span = span(&pair);
    let mut stmts = Vec::new();
    let mut tail = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::let_stmt => {
                let mut inner = p.into_inner();
                let pattern = pattern(inner.next().expect("let has a pattern"));
                let value = expr(inner.next().expect("let has a value"), 0)?;
                stmts.push(Stmt::Let { pattern, value });
            }
            Rule::return_stmt => {
                let span = span(&p);
                let value = expr(p.into_inner().next().expect("return has a value"), 0)?;
                stmts.push(Stmt::Return { value, span });
            }
            Rule::for_stmt => {
                let mut inner = p.into_inner();
                let var = ident(inner.next().expect("for has a variable"));
                let start = expr(inner.next().expect("for has a start"), 0)?;
                let end = expr(inner.next().expect("for has an end"), 0)?;
                let body = block(inner.next().expect("for has a body"))?;
                stmts.push(Stmt::For {
                    var,
                    start,
                    end,
                    body,
                });
            }
            Rule::expr => tail = Some(expr(p, 0)?),
            _ => unreachable!("block has no {:?}", p.as_rule()),
        }
    }
    Ok(Block {
        stmts,
        tail,
        span: block_span,
    })
}

fn pattern(pair: Pair<Rule>) -> Pattern {
    let inner = pair
        .into_inner()
        .next()
        .expect("a pattern is a name or a tuple");
    match inner.as_rule() {
        Rule::ident => Pattern::Name(ident(inner)),
        _ => {
            let span = span(&inner);
            Pattern::Tuple(inner.into_inner().map(pattern).collect(), span)
        }
    }
}

/// The expression of `pair`, whose node lies `depth` levels deep in its tree.
fn expr(pair: Pair<Rule>, depth: usize) -> Result<Expr, ParseError> {
    let pair_span = span(&pair);
    match pair.as_rule() {
        Rule::expr
        | Rule::bit_or
        | Rule::bit_xor
        | Rule::bit_and
        | Rule::shift
        | Rule::additive
        | Rule::multiplicative => {
            // Left-associative: however long, the chain is one level deeper (see
            // MAX_DEPTH).
            let parts: Vec<Pair<Rule>> = pair.into_inner().collect();
            let ops: Vec<Span> = parts.iter().skip(1).step_by(2).map(span).collect();
            let depth = deeper(depth, ops.len().min(1), |i| ops[i])?;
            let mut parts = parts.into_iter();
            let mut lhs = expr(parts.next().expect("an operand"), depth)?;
            while let Some(op) = parts.next() {
                let rhs = expr(
                    parts.next().expect("an operator has a right operand"),
                    depth,
                )?;
                lhs = binary(lhs, &op, rhs);
            }
            Ok(lhs)
        }
        Rule::unary => {
            let mut ops: Vec<Pair<Rule>> = pair.into_inner().collect();
            let operand = ops.pop().expect("unary has an operand");
            let depth = deeper(depth, ops.len(), |i| span(&ops[i]))?;
            Ok(prefixed(ops, expr(operand, depth)?))
        }
        Rule::power => {
            // `base (** prefix_op* operand)*`, right-associative: each exponent is
            // its prefix operators applied to the rest of the chain.
            let parts: Vec<Pair<Rule>> = pair.into_inner().collect();
            let ops: Vec<Span> = parts
                .iter()
                .filter(|p| p.as_rule() != Rule::postfix)
                .map(span)
                .collect();
            let depth = deeper(depth, ops.len(), |i| ops[i])?;
            let mut operands = Vec::new();
            let (mut pow, mut prefixes) = (None, Vec::new());
            for p in parts {
                match p.as_rule() {
                    Rule::pow_op => pow = Some(p),
                    Rule::prefix_op => prefixes.push(p),
                    _ => {
                        operands.push((pow.take(), std::mem::take(&mut prefixes), expr(p, depth)?))
                    }
                }
            }
            let (mut pow, mut prefixes, mut value) = operands.pop().expect("power has a base");
            while let Some(op) = pow {
                let exponent = prefixed(prefixes, value);
                let base;
                (pow, prefixes, base) = operands.pop().expect("`**` has a left operand");
                value = binary(base, &op, exponent);
            }
            Ok(value)
        }
        Rule::postfix => {
            let parts: Vec<Pair<Rule>> = pair.into_inner().collect();
            let depth = deeper(depth, parts.len() - 1, |i| span(&parts[i + 1]))?;
            let mut parts = parts.into_iter();
            let mut value = expr(parts.next().expect("postfix has an atom"), depth)?;
            for op in parts {
                let span = Span::new(value.span.start, span(&op).end);
                let kind = match op.as_rule() {
                    Rule::call_args => ExprKind::Call {
                        callee: Box::new(value),
                        args: call_args(op, depth)?,
                    },
                    Rule::index => ExprKind::Index {
                        base: Box::new(value),
                        items: index_items(op, depth)?,
                    },
                    Rule::at_update => {
                        let mut inner = op.into_inner();
                        let items = index_items(inner.next().expect("an index"), depth)?;
                        let name = inner.next().expect("a method");
                        let method = Ident {
                            name: name.as_str().to_string(),
                            span: span_of(&name),
                        };
                        let args = call_args(inner.next().expect("arguments"), depth)?;
                        ExprKind::AtUpdate(Box::new(AtUpdate {
                            base: value,
                            items,
                            method,
                            args,
                        }))
                    }
                    _ => ExprKind::Transpose(Box::new(value)),
                };
                value = Expr { kind, span };
            }
            Ok(value)
        }
        Rule::number => {
            let text = pair.as_str();
            let inner = pair.clone().into_inner().next();
            let kind = match (text, inner.map(|p| p.as_rule())) {
                ("inf", _) => ExprKind::Float(f64::INFINITY),
                ("nan", _) => ExprKind::Float(f64::NAN),
                (_, Some(Rule::int)) => ExprKind::Int(integer(&pair)?),
                _ => ExprKind::Float(text.parse().map_err(|_| ParseError {
                    span: pair_span,
                    message: format!("invalid number {text}"),
                })?),
            };
            Ok(Expr {
                kind,
                span: pair_span,
            })
        }
        Rule::boolean => Ok(Expr {
            kind: ExprKind::Bool(pair.as_str() == "true"),
            span: pair_span,
        }),
        Rule::none => Ok(Expr {
            kind: ExprKind::None,
            span: pair_span,
        }),
        Rule::ident => Ok(Expr {
            kind: ExprKind::Name(pair.as_str().to_string()),
            span: pair_span,
        }),
        Rule::paren => {
            let parts: Vec<Pair<Rule>> = pair.into_inner().collect();
            let trailing_comma = parts.iter().any(|p| p.as_rule() == Rule::trailing_comma);
            // `(x)` is `x`; a tuple is a node of its own.
            let depth = if parts.len() == 1 {
                depth
            } else {
                deeper(depth, 1, |_| pair_span)?
            };
            let mut items = Vec::new();
            for p in parts {
                if p.as_rule() != Rule::trailing_comma {
                    items.push(expr(p, depth)?);
                }
            }
            if items.len() == 1 && !trailing_comma {
                let mut only = items.pop().expect("one item");
                only.span = pair_span;
                return Ok(only);
            }
            Ok(Expr {
                kind: ExprKind::Tuple(items),
                span: pair_span,
            })
        }
        Rule::list => {
            let depth = deeper(depth, 1, |_| pair_span)?;
            let items = pair
                .into_inner()
                .map(|p| expr(p, depth))
                .collect::<Result<_, _>>()?;
            Ok(Expr {
                kind: ExprKind::List(items),
                span: pair_span,
            })
        }
        rule => unreachable!("not an expression: {rule:?}"),
    }
}

/// The depth of a node's operands when `levels` nodes lie between it and them: an
/// error at the level (`at(i)`, `i < levels`) that goes past [`MAX_DEPTH`].
fn deeper(depth: usize, levels: usize, at: impl Fn(usize) -> Span) -> Result<usize, ParseError> {
    let inner = depth + levels;
    if inner > MAX_DEPTH {
        return Err(ParseError {
            span: at(MAX_DEPTH.saturating_sub(depth).min(levels - 1)),
            message: format!("the expression nests more than {MAX_DEPTH} deep"),
        });
    }
    Ok(inner)
}

/// `value` under prefix operators, the last one innermost.
fn prefixed(ops: Vec<Pair<Rule>>, mut value: Expr) -> Expr {
    for op in ops.into_iter().rev() {
        let op_kind = match op.as_str() {
            "-" => UnaryOp::Neg,
            "~" => UnaryOp::BitNot,
            _ => UnaryOp::Not,
        };
        let span = Span::new(span(&op).start, value.span.end);
        value = Expr {
            kind: ExprKind::Unary {
                op: op_kind,
                operand: Box::new(value),
            },
            span,
        };
    }
    value
}

fn binary(lhs: Expr, op: &Pair<Rule>, rhs: Expr) -> Expr {
    let span = Span::new(lhs.span.start, rhs.span.end);
    let kind = ExprKind::Binary {
        op: BinaryOp::from_symbol(op.as_str()),
        op_span: Span::of(op.as_span()),
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    };
    Expr { kind, span }
}

fn call_args(pair: Pair<Rule>, depth: usize) -> Result<Vec<Arg>, ParseError> {
    pair.into_inner()
        .map(|arg| {
            let inner = arg.into_inner().next().expect("an argument");
            match inner.as_rule() {
                Rule::kwarg => {
                    let mut parts = inner.into_inner();
                    let keyword = ident(parts.next().expect("a keyword"));
                    let value = expr(parts.next().expect("a keyword has a value"), depth)?;
                    Ok(Arg {
                        keyword: Some(keyword),
                        value,
                    })
                }
                _ => Ok(Arg {
                    keyword: None,
                    value: expr(inner, depth)?,
                }),
            }
        })
        .collect()
}

fn index_items(pair: Pair<Rule>, depth: usize) -> Result<Vec<IndexItem>, ParseError> {
    pair.into_inner()
        .map(|item| {
            let span = span(&item);
            let mut parts = item.into_inner();
            let first = parts.next().expect("an index item");
            // `expr slice?` or `slice`: an optional start, then `:stop(:step)?`.
            let (start, slice) = match first.as_rule() {
                Rule::slice => (None, Some(first)),
                _ => (Some(expr(first, depth)?), parts.next()),
            };
            let Some(slice) = slice else {
                return Ok(IndexItem::Expr(
                    start.expect("an index without `:` has an expression"),
                ));
            };
            let mut parts = slice
                .into_inner()
                .map(|part| part.into_inner().next().map(|e| expr(e, depth)).transpose());
            let mut next = || parts.next().transpose().map(Option::flatten);
            Ok(IndexItem::Slice {
                start,
                stop: next()?,
                step: next()?,
                span,
            })
        })
        .collect()
}

fn integer(pair: &Pair<Rule>) -> Result<u64, ParseError> {
    pair.as_str().parse().map_err(|_| ParseError {
        span: span(pair),
        message: format!("integer {} is too large", pair.as_str()),
    })
}

/// Rule names as a user reads them in "expected ..." messages.
fn describe(rule: &Rule) -> String {
    match rule {
        Rule::EOI => "end of input",
        Rule::program | Rule::item | Rule::fn_def | Rule::const_def => "`fn` or `const`",
        Rule::params | Rule::param => "a parameter",
        Rule::ret_type => "`->`",
        Rule::type_ann | Rule::dtype => "a type (bool, i8..i64, u8..u64, f16, bf16, f32, f64)",
        Rule::dims | Rule::dim => "a dimension",
        Rule::block => "a block `{ ... }`",
        Rule::stmt | Rule::let_stmt | Rule::return_stmt | Rule::for_stmt => "a statement",
        Rule::pattern | Rule::tuple_pat => "a name or a tuple pattern",
        Rule::expr
        | Rule::bit_or
        | Rule::bit_xor
        | Rule::bit_and
        | Rule::shift
        | Rule::additive
        | Rule::multiplicative
        | Rule::unary
        | Rule::power
        | Rule::postfix
        | Rule::atom
        | Rule::paren
        | Rule::list
        | Rule::slice_part => "an expression",
        Rule::cmp_op
        | Rule::or_op
        | Rule::xor_op
        | Rule::and_op
        | Rule::shift_op
        | Rule::add_op
        | Rule::mul_op
        | Rule::pow_op => "an operator",
        Rule::prefix_op => "`-`, `!` or `~`",
        Rule::call_args | Rule::arg | Rule::kwarg => "an argument",
        Rule::index | Rule::index_item | Rule::slice => "an index",
        Rule::dot_t => "`.T`",
        Rule::at_update => "`.at[...]`",
        Rule::trailing_comma => "`,`",
        Rule::number | Rule::float | Rule::int | Rule::exponent => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::none => "`None`",
        Rule::ident | Rule::ident_char => "a name",
        Rule::keyword => "a keyword",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
    }
    .to_string()
}
