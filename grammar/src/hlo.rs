//! The HLO text parser: text in, [`ModuleAst`] out.
//!
//! The tree keeps the text's own words (opcodes, element types, attribute names) so
//! that the importer can say precisely what it does not support and where.
//! It reads every file XLA writes: JAX's `as_text(dialect="hlo")`, the
//! `--xla_dump_to` files before and after optimization, and `compiled.as_text()`;
//! `tests/dumps/` holds a corpus of them.

use pest::Parser;
use pest::iterators::Pair;
use pest_derive::Parser;

use crate::span::{ParseError, Span, check_nesting};

#[derive(Parser)]
#[grammar = "hlo.pest"]
struct HloParser;

#[derive(Clone, Debug, PartialEq)]
pub struct ModuleAst {
    pub name: String,
    pub name_span: Span,
    /// `entry_computation_layout={(params)->result}`, when written.
    pub entry_layout: Option<EntryLayoutAst>,
    /// The header's other attributes: `is_scheduled=true`,
    /// `allow_spmd_sharding_propagation_to_output={true}`, ...
    pub attributes: Vec<AttributeAst>,
    /// The debug tables between the header and the computations (`FileNames`,
    /// `FunctionNames`, `FileLocations`, `StackFrames`): source locations that
    /// `metadata={... stack_frame_id=N}` refers to. Nothing depends on them.
    pub tables: Vec<TableAst>,
    pub computations: Vec<ComputationAst>,
}

/// A debug table: its title and its numbered entries.
#[derive(Clone, Debug, PartialEq)]
pub struct TableAst {
    pub name: String,
    pub entries: Vec<TableEntryAst>,
    pub span: Span,
}

/// `1 "file.py"` or `1 {file_name_id=1 line=3}`: the number and the text after it
/// (a string without its quotes, or the braces as written).
#[derive(Clone, Debug, PartialEq)]
pub struct TableEntryAst {
    pub id: u64,
    pub value: String,
}

/// The module header's `entry_computation_layout`: the entry's signature.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryLayoutAst {
    pub parameters: Vec<ShapeAst>,
    pub result: ShapeAst,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ComputationAst {
    pub name: String,
    pub name_span: Span,
    pub is_entry: bool,
    pub instructions: Vec<InstructionAst>,
    /// Attributes after the closing brace (`execution_thread="main"`).
    pub attributes: Vec<AttributeAst>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InstructionAst {
    pub name: String,
    pub name_span: Span,
    pub is_root: bool,
    pub shape: ShapeAst,
    pub opcode: String,
    pub opcode_span: Span,
    pub body: BodyAst,
    pub attributes: Vec<AttributeAst>,
}

/// What stands between the opcode's parentheses.
#[derive(Clone, Debug, PartialEq)]
pub enum BodyAst {
    Operands(Vec<OperandAst>),
    /// `parameter(N)`.
    ParameterNumber(u64),
    Literal(LiteralAst),
    /// `constant((1, {2, 3}))`: a tuple-shaped constant, one literal per element.
    /// XLA writes a complex scalar `(re, im)` the same way.
    TupleLiteral(Vec<LiteralAst>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct OperandAst {
    pub name: String,
    pub span: Span,
    /// The operand's shape, when written before it (`f32[2]{0} %a`).
    pub shape: Option<ShapeAst>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ShapeAst {
    Array {
        element: String,
        dims: Vec<DimAst>,
        /// Minor-to-major, when written.
        layout: Option<Vec<u64>>,
        /// Tiling or memory-space annotations after `:` in the layout.
        layout_tail: Option<String>,
        span: Span,
    },
    Tuple {
        elements: Vec<ShapeAst>,
        span: Span,
    },
}

impl ShapeAst {
    pub fn span(&self) -> Span {
        match self {
            ShapeAst::Array { span, .. } | ShapeAst::Tuple { span, .. } => *span,
        }
    }
}

/// A dimension size: static, bounded-dynamic (`<=8`) or unknown (`?`).
#[derive(Clone, Debug, PartialEq)]
pub enum DimAst {
    Static(u64),
    Dynamic,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LiteralAst {
    /// A number, `inf`, `nan` or `nan(0x..)` (optionally negated), `true` or
    /// `false`, as written.
    Scalar(String, Span),
    List(Vec<LiteralAst>, Span),
    /// `{...}`: XLA elided the data.
    Elided(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct AttributeAst {
    pub name: String,
    pub value: AttrValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// `{1,0}`
    Ints(Vec<i64>),
    /// `{[0:4], [1:7:2]}`: start, limit, stride (1 when omitted).
    Ranges(Vec<[i64; 3]>),
    /// A bare token: `GT`, `kLoop`, `region_0.4` (a `%` sigil is dropped), `3`.
    Word(String),
    /// A quoted string, without its quotes.
    Str(String),
    /// Anything else in braces, kept as written.
    Braced(String),
}

/// The deepest bracket nesting a module may have. HLO nests a few levels (a
/// literal takes one per dimension); pest guards its own stack, but the tree
/// walks below and the importer recurse as deep as the text nests.
const MAX_NESTING: usize = 200;

/// Parses a whole module.
pub fn parse(text: &str) -> Result<ModuleAst, ParseError> {
    check_nesting(text, MAX_NESTING)?;
    let mut pairs =
        HloParser::parse(Rule::module, text).map_err(|e| ParseError::from_pest(e, describe))?;
    let module = pairs.next().expect("the grammar yields one module");
    let mut name = String::new();
    let mut name_span = Span::default();
    let mut entry_layout = None;
    let mut attributes = Vec::new();
    let mut tables = Vec::new();
    let mut computations = Vec::new();
    for pair in module.into_inner() {
        match pair.as_rule() {
            Rule::name => {
                name_span = Span::of(pair.as_span());
                name = ident(pair);
            }
            Rule::entry_layout => entry_layout = Some(entry_layout_ast(pair)?),
            Rule::attribute => attributes.push(attribute(pair)?),
            Rule::table => tables.push(table(pair)?),
            Rule::computation => computations.push(computation(pair)?),
            _ => {}
        }
    }
    Ok(ModuleAst {
        name,
        name_span,
        entry_layout,
        attributes,
        tables,
        computations,
    })
}

fn table(pair: Pair<Rule>) -> Result<TableAst, ParseError> {
    let span = Span::of(pair.as_span());
    let mut inner = pair.into_inner();
    let name = inner
        .next()
        .expect("a table has a title")
        .as_str()
        .to_string();
    let entries = inner
        .map(|entry| {
            let mut parts = entry.into_inner();
            let id = parts.next().expect("an entry has a number");
            let id = unsigned(id.as_str(), Span::of(id.as_span()))?;
            let value = parts.next().expect("an entry has a value");
            let value = match value.as_rule() {
                Rule::string => unquote(value.as_str()),
                _ => value.as_str().to_string(),
            };
            Ok(TableEntryAst { id, value })
        })
        .collect::<Result<_, _>>()?;
    Ok(TableAst {
        name,
        entries,
        span,
    })
}

fn entry_layout_ast(pair: Pair<Rule>) -> Result<EntryLayoutAst, ParseError> {
    let span = Span::of(pair.as_span());
    let mut inner = pair.into_inner();
    let parameters = inner
        .next()
        .expect("a signature has parameters")
        .into_inner()
        .map(shape_ast)
        .collect::<Result<_, _>>()?;
    let result = shape_ast(inner.next().expect("a signature has a result"))?;
    Ok(EntryLayoutAst {
        parameters,
        result,
        span,
    })
}

fn computation(pair: Pair<Rule>) -> Result<ComputationAst, ParseError> {
    let mut comp = ComputationAst {
        name: String::new(),
        name_span: Span::default(),
        is_entry: false,
        instructions: Vec::new(),
        attributes: Vec::new(),
    };
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::entry_kw => comp.is_entry = true,
            Rule::name => {
                comp.name_span = Span::of(p.as_span());
                comp.name = ident(p);
            }
            Rule::instruction => comp.instructions.push(instruction(p)?),
            Rule::attribute => comp.attributes.push(attribute(p)?),
            _ => {}
        }
    }
    Ok(comp)
}

fn instruction(pair: Pair<Rule>) -> Result<InstructionAst, ParseError> {
    let mut is_root = false;
    let mut name = None;
    let mut shape = None;
    let mut op = None;
    let mut attributes = Vec::new();
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::root_kw => is_root = true,
            Rule::name => name = Some((ident(p.clone()), Span::of(p.as_span()))),
            Rule::shape => shape = Some(shape_ast(p)?),
            Rule::constant_op => {
                let span = Span::of(p.as_span());
                let opcode_span = Span::new(span.start, span.start + "constant".len());
                // A shape written before the literal repeats the instruction's.
                let lit = p
                    .into_inner()
                    .find(|q| q.as_rule() == Rule::literal)
                    .expect("constant has a literal");
                let body = match lit.clone().into_inner().next() {
                    Some(tuple) if tuple.as_rule() == Rule::literal_tuple => {
                        let span = Span::of(tuple.as_span());
                        let elements = tuple.into_inner().map(literal).collect::<Result<_, _>>()?;
                        BodyAst::TupleLiteral(elements, span)
                    }
                    _ => BodyAst::Literal(literal(lit)?),
                };
                op = Some(("constant".to_string(), opcode_span, body));
            }
            Rule::parameter_op => {
                let span = Span::of(p.as_span());
                let opcode_span = Span::new(span.start, span.start + "parameter".len());
                let digits = p.into_inner().next().expect("parameter has a number");
                let n = unsigned(digits.as_str(), Span::of(digits.as_span()))?;
                op = Some((
                    "parameter".to_string(),
                    opcode_span,
                    BodyAst::ParameterNumber(n),
                ));
            }
            Rule::generic_op => {
                let mut inner = p.into_inner();
                let opcode = inner.next().expect("an op has an opcode");
                let operands = inner
                    .map(|operand| {
                        let mut shape = None;
                        let mut name = None;
                        for q in operand.into_inner() {
                            match q.as_rule() {
                                Rule::shape => shape = Some(shape_ast(q)?),
                                _ => name = Some(q),
                            }
                        }
                        let name = name.expect("an operand has a name");
                        Ok(OperandAst {
                            span: Span::of(name.as_span()),
                            name: ident(name),
                            shape,
                        })
                    })
                    .collect::<Result<_, ParseError>>()?;
                op = Some((
                    opcode.as_str().to_string(),
                    Span::of(opcode.as_span()),
                    BodyAst::Operands(operands),
                ));
            }
            Rule::attribute => attributes.push(attribute(p)?),
            _ => {}
        }
    }
    let (name, name_span) = name.expect("an instruction has a name");
    let (opcode, opcode_span, body) = op.expect("an instruction has an op");
    Ok(InstructionAst {
        name,
        name_span,
        is_root,
        shape: shape.expect("an instruction has a shape"),
        opcode,
        opcode_span,
        body,
        attributes,
    })
}

fn shape_ast(pair: Pair<Rule>) -> Result<ShapeAst, ParseError> {
    let inner = pair
        .into_inner()
        .next()
        .expect("a shape is a tuple or an array");
    let span = Span::of(inner.as_span());
    if inner.as_rule() == Rule::tuple_shape {
        let elements = inner
            .into_inner()
            .map(shape_ast)
            .collect::<Result<_, _>>()?;
        return Ok(ShapeAst::Tuple { elements, span });
    }
    let mut element = String::new();
    let mut dims = Vec::new();
    let mut layout = None;
    let mut layout_tail = None;
    for p in inner.into_inner() {
        match p.as_rule() {
            Rule::element_type => element = p.as_str().to_string(),
            Rule::dims => {
                for d in p.into_inner() {
                    dims.push(match d.as_str() {
                        s if s.starts_with("<=") || s == "?" => DimAst::Dynamic,
                        s => DimAst::Static(unsigned(s, Span::of(d.as_span()))?),
                    });
                }
            }
            Rule::layout => {
                let mut order = Vec::new();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::digits => order.push(unsigned(q.as_str(), Span::of(q.as_span()))?),
                        _ => layout_tail = Some(q.as_str().to_string()),
                    }
                }
                layout = Some(order);
            }
            _ => {}
        }
    }
    Ok(ShapeAst::Array {
        element,
        dims,
        layout,
        layout_tail,
        span,
    })
}

/// A literal of one array. A parenthesized literal inside it (a complex number,
/// or a tuple within a tuple) has no place in the tree: it is an error here.
fn literal(pair: Pair<Rule>) -> Result<LiteralAst, ParseError> {
    let inner = pair
        .into_inner()
        .next()
        .expect("a literal is a list, a scalar or a tuple");
    let span = Span::of(inner.as_span());
    Ok(match inner.as_rule() {
        Rule::scalar_literal => LiteralAst::Scalar(inner.as_str().to_string(), span),
        Rule::literal_tuple => {
            return Err(ParseError {
                span,
                message: "a parenthesized literal (a complex number or a nested tuple) \
                          is not supported here"
                    .to_string(),
            });
        }
        _ => {
            let items: Vec<Pair<Rule>> = inner.into_inner().collect();
            if items.iter().any(|p| p.as_rule() == Rule::elided) {
                LiteralAst::Elided(span)
            } else {
                LiteralAst::List(
                    items.into_iter().map(literal).collect::<Result<_, _>>()?,
                    span,
                )
            }
        }
    })
}

fn attribute(pair: Pair<Rule>) -> Result<AttributeAst, ParseError> {
    let span = Span::of(pair.as_span());
    let mut inner = pair.into_inner();
    let name = inner
        .next()
        .expect("an attribute has a name")
        .as_str()
        .to_string();
    let value = inner.next().expect("an attribute has a value");
    let value = value.into_inner().next().expect("a value has one form");
    let value = match value.as_rule() {
        // Integers beyond i64 (a u64 bound, say) keep the list as written.
        Rule::int_list => match value.clone().into_inner().map(int).collect() {
            Ok(ints) => AttrValue::Ints(ints),
            Err(_) => AttrValue::Braced(value.as_str().to_string()),
        },
        Rule::ranges => {
            let mut ranges = Vec::new();
            for range in value.into_inner() {
                let parts: Vec<i64> = range.into_inner().map(int).collect::<Result<_, _>>()?;
                ranges.push([parts[0], parts[1], parts.get(2).copied().unwrap_or(1)]);
            }
            AttrValue::Ranges(ranges)
        }
        Rule::string => AttrValue::Str(unquote(value.as_str())),
        Rule::braced => AttrValue::Braced(value.as_str().to_string()),
        _ => AttrValue::Word(value.as_str().trim_start_matches('%').to_string()),
    };
    Ok(AttributeAst { name, value, span })
}

/// A string's text without its quotes (escapes kept as written).
fn unquote(s: &str) -> String {
    s[1..s.len() - 1].to_string()
}

/// The identifier of a `name` pair, without its `%` sigil.
fn ident(pair: Pair<Rule>) -> String {
    pair.as_str().trim_start_matches('%').to_string()
}

fn int(pair: Pair<Rule>) -> Result<i64, ParseError> {
    pair.as_str().parse().map_err(|_| ParseError {
        span: Span::of(pair.as_span()),
        message: format!("integer {} is out of range", pair.as_str()),
    })
}

fn unsigned(text: &str, span: Span) -> Result<u64, ParseError> {
    text.parse().map_err(|_| ParseError {
        span,
        message: format!("integer {text} is out of range"),
    })
}

/// Rule names as a user reads them in "expected ..." messages.
fn describe(rule: &Rule) -> String {
    match rule {
        Rule::EOI => "end of input",
        Rule::module => "`HloModule`",
        Rule::computation => "a computation",
        Rule::table | Rule::known_table | Rule::table_name => "a table",
        Rule::table_entry => "a table entry",
        Rule::signature => "a signature",
        Rule::entry_layout => "an entry computation layout",
        Rule::param_decl => "a parameter declaration",
        Rule::instruction => "an instruction",
        Rule::constant_op | Rule::parameter_op | Rule::generic_op => "an op",
        Rule::operand => "an operand",
        Rule::shape | Rule::tuple_shape | Rule::array_shape => "a shape",
        Rule::dims | Rule::dim => "a dimension",
        Rule::layout | Rule::layout_tail => "a layout",
        Rule::literal
        | Rule::literal_list
        | Rule::literal_tuple
        | Rule::scalar_literal
        | Rule::nan
        | Rule::number => "a literal",
        Rule::elided => "`...`",
        Rule::exponent => "an exponent",
        Rule::attribute | Rule::attr_name => "an attribute",
        Rule::attr_value | Rule::int_list | Rule::ranges | Rule::range | Rule::braced => {
            "an attribute value"
        }
        Rule::string => "a string",
        Rule::word | Rule::word_group => "a word",
        Rule::name | Rule::ident => "a name",
        Rule::opcode => "an opcode",
        Rule::element_type => "an element type",
        Rule::int | Rule::digits => "an integer",
        Rule::entry_kw => "`ENTRY`",
        Rule::root_kw => "`ROOT`",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
    }
    .to_string()
}

#[cfg(test)]
mod tests;
