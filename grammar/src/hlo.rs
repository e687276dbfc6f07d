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
mod tests {
    use super::*;

    #[test]
    fn parses_jax_output() {
        let text = r#"HloModule jit_f, entry_computation_layout={(f32[3]{0})->f32[]}

region_0.1 {
  a.1 = f32[] parameter(0)
  b.1 = f32[] parameter(1)
  ROOT add.1 = f32[] add(a.1, b.1)
}

ENTRY %main.4 (x.1: f32[3]) -> f32[] {
  %x.1 = f32[3]{0} parameter(0), metadata={op_name="x" source_line=3}
  c = f32[2,2]{1,0} constant({ {1, -inf}, {nan, 2.5e-3} })
  ROOT r = f32[] reduce(f32[3]{0} %x.1, c), dimensions={0}, to_apply=%region_0.1, /*index=5*/ slice={[0:4], [1:7:2]}
}
"#;
        let m = parse(text).unwrap();
        assert_eq!(m.name, "jit_f");
        assert_eq!(m.computations.len(), 2);
        let entry = &m.computations[1];
        assert!(entry.is_entry && entry.name == "main.4");
        let r = &entry.instructions[2];
        assert!(r.is_root);
        assert_eq!(r.opcode, "reduce");
        let BodyAst::Operands(ops) = &r.body else {
            panic!()
        };
        assert_eq!(
            ops.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
            ["x.1", "c"]
        );
        assert_eq!(r.attributes[0].value, AttrValue::Ints(vec![0]));
        assert_eq!(r.attributes[1].value, AttrValue::Word("region_0.1".into()));
        assert_eq!(
            r.attributes[2].value,
            AttrValue::Ranges(vec![[0, 4, 1], [1, 7, 2]])
        );
        assert!(matches!(
            entry.instructions[0].attributes[0].value,
            AttrValue::Braced(_)
        ));
    }

    /// The instructions of a one-computation module around `body`.
    fn instructions(body: &str) -> Vec<InstructionAst> {
        let text = format!("HloModule m\n\nENTRY %e () -> f32[] {{\n{body}\n}}\n");
        match parse(&text) {
            Ok(m) => m.computations.into_iter().next().unwrap().instructions,
            Err(e) => panic!("{body}: {e} at {:?}", &text[e.span.start..]),
        }
    }

    fn one(line: &str) -> InstructionAst {
        instructions(line).remove(0)
    }

    fn attr(instr: &InstructionAst, name: &str) -> AttrValue {
        let found = instr.attributes.iter().find(|a| a.name == name);
        found.unwrap_or_else(|| panic!("no {name}")).value.clone()
    }

    fn braced(s: &str) -> AttrValue {
        AttrValue::Braced(s.to_string())
    }

    fn word(s: &str) -> AttrValue {
        AttrValue::Word(s.to_string())
    }

    #[test]
    fn reads_debug_tables_after_the_header() {
        let text = r#"HloModule jit_f, is_scheduled=true, entry_computation_layout={(f32[2]{0})->f32[2]{0}}, allow_spmd_sharding_propagation_to_output={true}

FileNames
1 "<string>"
2 "flax/linen/linear.py"

FunctionNames
1 "f"

FileLocations
1 {file_name_id=1 function_name_id=1 line=5 end_line=5 column=4 end_column=25}

StackFrames
1 {file_location_id=1 parent_frame_id=1}
2 {file_location_id=1 parent_frame_id=2}


ENTRY %main.3 (Arg_0.1: f32[2]) -> f32[2] {
  ROOT %Arg_0.1 = f32[2]{0} parameter(0), metadata={op_name="x" stack_frame_id=2}
}
"#;
        let m = parse(text).unwrap();
        let names: Vec<&str> = m.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["FileNames", "FunctionNames", "FileLocations", "StackFrames"]
        );
        assert_eq!(
            m.tables[0].entries[1],
            TableEntryAst {
                id: 2,
                value: "flax/linen/linear.py".into()
            }
        );
        assert_eq!(
            m.tables[3].entries[1].value,
            "{file_location_id=1 parent_frame_id=2}"
        );
        assert_eq!(m.computations.len(), 1);
        assert!(m.computations[0].is_entry);
        assert!(m.entry_layout.is_some());
        assert_eq!(m.attributes[0].name, "is_scheduled");
        assert_eq!(m.attributes[0].value, word("true"));
        assert_eq!(m.attributes[1].value, braced("{true}"));
    }

    #[test]
    fn tells_a_capitalized_computation_from_a_table() {
        let text = "HloModule m\nFileNames\n1 \"a.py\"\nAdd (a: f32[]) -> f32[] {\n  ROOT a = f32[] parameter(0)\n}\nENTRY Main {\n  ROOT b = f32[] parameter(0)\n}\n";
        let m = parse(text).unwrap();
        assert_eq!(m.tables.len(), 1);
        let names: Vec<&str> = m.computations.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Add", "Main"]);
    }

    #[test]
    fn a_stray_word_before_the_computations_is_an_error() {
        // An empty table of a title XLA prints is fine; another word is not a table.
        let text = "HloModule m\nStackFrames\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}\n";
        assert_eq!(parse(text).unwrap().tables[0].entries, []);
        let text = "HloModule m\nBogus\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}\n";
        let err = parse(text).unwrap_err();
        assert_eq!(
            err.span.start,
            text.find("ENTRY").unwrap(),
            "{}",
            err.message
        );
    }

    #[test]
    fn reads_header_attributes_of_every_form() {
        let text = concat!(
            "HloModule m, is_scheduled=true, input_output_alias={ {0}: (0, {}, may-alias), {1}: (1, {}, may-alias) }, ",
            "buffer_donor={ (0, {}) }, num_partitions=2, replica_count=1, frontend_attributes={fingerprint_before_lhs=\"abc\"}, ",
            "entry_computation_layout={()->()}\n",
            "ENTRY e {\n  ROOT t = () tuple()\n}\n",
        );
        let m = parse(text).unwrap();
        let names: Vec<&str> = m.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "is_scheduled",
                "input_output_alias",
                "buffer_donor",
                "num_partitions",
                "replica_count",
                "frontend_attributes"
            ]
        );
        assert_eq!(m.attributes[3].value, word("2"));
        assert_eq!(m.entry_layout.unwrap().parameters, []);
    }

    #[test]
    fn reads_the_entry_layout_with_index_comments_and_tiles() {
        let text = "HloModule m, entry_computation_layout={(f32[8,128]{1,0:T(8,128)}, s32[], f32[], f32[], f32[], /*index=5*/f32[2]{0:S(1)})->(f32[], (s32[], token[]))}\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}\n";
        let entry = parse(text).unwrap().entry_layout.unwrap();
        assert_eq!(entry.parameters.len(), 6);
        let ShapeAst::Array {
            layout,
            layout_tail,
            ..
        } = &entry.parameters[0]
        else {
            panic!()
        };
        assert_eq!(layout.as_deref(), Some(&[1, 0][..]));
        assert_eq!(layout_tail.as_deref(), Some(":T(8,128)"));
        assert!(matches!(&entry.result, ShapeAst::Tuple { elements, .. } if elements.len() == 2));
    }

    #[test]
    fn reads_index_comments_in_operands_and_tuple_shapes() {
        let i = one(
            "ROOT %t = (f32[], f32[], f32[], f32[], f32[], /*index=5*/f32[]) tuple(%a, %b, %c, %d, %e, /*index=5*/%f)",
        );
        let BodyAst::Operands(ops) = &i.body else {
            panic!()
        };
        assert_eq!(ops.len(), 6);
        assert_eq!(ops[5].name, "f");
        assert!(matches!(&i.shape, ShapeAst::Tuple { elements, .. } if elements.len() == 6));
    }

    #[test]
    fn keeps_operand_shapes() {
        let i = one("ROOT %n = f32[2]{0} negate(f32[2]{0} %a)");
        let BodyAst::Operands(ops) = &i.body else {
            panic!()
        };
        assert!(matches!(&ops[0].shape, Some(ShapeAst::Array { element, .. }) if element == "f32"));
    }

    #[test]
    fn reads_every_attribute_form_xla_prints() {
        let i = one(concat!(
            r#"ROOT %c = f32[1,4,4,8]{3,2,1,0} convolution(%x, %w), window={size=3x3 stride=2x2 pad=1_1x1_1 rhs_reversal=1x1}, dim_labels=b01f_01io->b01f, "#,
            r#"feature_group_count=1, padding=0_0x1_1, slice={[0:2]}, is_stable=true, metadata={op_name="jit(f)/conv" source_file="a.py" source_line=3 stack_frame_id=7}, "#,
            r#"backend_config={"outer_dimension_partitions":[],"fusion_config":{"kind":"__ynn_fusion"}}, origin={{"f"}}, frontend_attributes={_xla_compute_type="host"}, "#,
            r#"sharding={devices=[2,1]<=[2]}, control-predecessors={%a, %b}, branch_computations={%t, %f}, custom_call_target="TopK", api_version=API_VERSION_STATUS_RETURNING, "#,
            r#"operand_layout_constraints={f32[2]{0}, f32[3]{0}}, replica_groups=[2,2]<=[4]T(1,0), called_computations={%cmp.1}, to_apply=%add.2, collapsed_slice_dims={0}, "#,
            r#"backend_config="{\"a\": 1}", bound={18446744073709551615}"#
        ));
        assert_eq!(
            attr(&i, "window"),
            braced("{size=3x3 stride=2x2 pad=1_1x1_1 rhs_reversal=1x1}")
        );
        assert_eq!(attr(&i, "dim_labels"), word("b01f_01io->b01f"));
        assert_eq!(attr(&i, "feature_group_count"), word("1"));
        assert_eq!(attr(&i, "padding"), word("0_0x1_1"));
        assert_eq!(attr(&i, "slice"), AttrValue::Ranges(vec![[0, 2, 1]]));
        assert_eq!(attr(&i, "is_stable"), word("true"));
        assert!(
            matches!(attr(&i, "metadata"), AttrValue::Braced(b) if b.ends_with("stack_frame_id=7}"))
        );
        assert!(matches!(attr(&i, "backend_config"), AttrValue::Braced(b) if b.ends_with("}}")));
        assert_eq!(attr(&i, "origin"), braced(r#"{{"f"}}"#));
        assert_eq!(attr(&i, "sharding"), braced("{devices=[2,1]<=[2]}"));
        assert_eq!(attr(&i, "control-predecessors"), braced("{%a, %b}"));
        assert_eq!(attr(&i, "branch_computations"), braced("{%t, %f}"));
        assert_eq!(
            attr(&i, "custom_call_target"),
            AttrValue::Str("TopK".into())
        );
        assert_eq!(
            attr(&i, "api_version"),
            word("API_VERSION_STATUS_RETURNING")
        );
        assert_eq!(
            attr(&i, "operand_layout_constraints"),
            braced("{f32[2]{0}, f32[3]{0}}")
        );
        assert_eq!(attr(&i, "replica_groups"), word("[2,2]<=[4]T(1,0)"));
        assert_eq!(attr(&i, "to_apply"), word("add.2"));
        assert_eq!(attr(&i, "collapsed_slice_dims"), AttrValue::Ints(vec![0]));
        // An integer list beyond i64 stays as written.
        assert_eq!(attr(&i, "bound"), braced("{18446744073709551615}"));
        let configs: Vec<&AttrValue> = i
            .attributes
            .iter()
            .filter(|a| a.name == "backend_config")
            .map(|a| &a.value)
            .collect();
        assert_eq!(configs[1], &AttrValue::Str(r#"{\"a\": 1}"#.into()));
    }

    #[test]
    fn reads_every_element_type_and_shape_form() {
        let types = "pred s4 s8 s16 s32 s64 u4 u8 u16 u32 u64 f16 bf16 f32 f64 c64 c128 f8e4m3fn";
        for t in types.split(' ') {
            let i = one(&format!("ROOT %p = {t}[2,3]{{1,0}} parameter(0)"));
            assert!(matches!(&i.shape, ShapeAst::Array { element, .. } if element == t));
        }
        let cases = [
            "token[]",
            "()",
            "(f32[], (s32[2]{0}, ()))",
            "f32[<=4,?]{1,0}",
            "f32[8,128]{1,0:T(8,128)(2,1)}",
            "f32[2]{0:S(1)}",
            "f32[]{:T(256)}",
        ];
        for shape in cases {
            let i = one(&format!("ROOT %p = {shape} parameter(0)"));
            assert_eq!(
                i.shape.span().end - i.shape.span().start,
                shape.len(),
                "{shape}"
            );
        }
        let i = one("ROOT %p = f32[<=4,?]{1,0} parameter(0)");
        let ShapeAst::Array { dims, .. } = i.shape else {
            panic!()
        };
        assert_eq!(dims, [DimAst::Dynamic, DimAst::Dynamic]);
    }

    #[test]
    fn reads_literals_as_xla_prints_them() {
        let cases = [
            ("f32[]", "-inf"),
            ("f32[]", "inf"),
            ("f32[]", "nan"),
            ("f32[]", "-nan"),
            ("f32[]", "nan(0x7f)"),
            ("f32[]", "1e-05"),
            ("f32[]", "3.40282347e+38"),
            ("f64[]", "-2.2250738585072014e-308"),
            ("bf16[]", "0.5"),
            ("f16[]", "6.1035e-05"),
            ("pred[]", "true"),
            ("pred[]", "false"),
            ("u64[]", "18446744073709551615"),
            ("s64[]", "-9223372036854775808"),
            ("u8[]", "255"),
        ];
        for (shape, value) in cases {
            let i = one(&format!("ROOT %c = {shape} constant({value})"));
            let BodyAst::Literal(LiteralAst::Scalar(text, _)) = i.body else {
                panic!("{value}")
            };
            assert_eq!(text, value);
        }
        let i = one("ROOT %c = pred[2,2]{1,0} constant({ {true, false}, {false, true} })");
        assert!(
            matches!(i.body, BodyAst::Literal(LiteralAst::List(ref rows, _)) if rows.len() == 2)
        );
        let i = one("ROOT %c = f32[2,2]{1,0} constant({...})");
        assert!(matches!(i.body, BodyAst::Literal(LiteralAst::Elided(_))));
        // Older XLA writes the literal's shape first.
        let i = one("ROOT %c = f32[2]{0} constant(f32[2] {1, 2})");
        assert!(matches!(i.body, BodyAst::Literal(LiteralAst::List(ref xs, _)) if xs.len() == 2));
    }

    #[test]
    fn reads_tuple_constants() {
        for text in [
            "ROOT %c = (f32[], s32[2]{0}) constant((1.5, {2, 3}))",
            "ROOT %c = (f32[], s32[2]{0}) constant((f32[], s32[2]) (1.5, {2, 3}))",
        ] {
            let BodyAst::TupleLiteral(elements, span) = one(text).body else {
                panic!("{text}")
            };
            assert_eq!(elements.len(), 2);
            assert!(matches!(&elements[1], LiteralAst::List(xs, _) if xs.len() == 2));
            assert_eq!(span.end - span.start, "(1.5, {2, 3})".len());
        }
        let i = one("ROOT %c = () constant(())");
        assert!(matches!(i.body, BodyAst::TupleLiteral(ref xs, _) if xs.is_empty()));
    }

    #[test]
    fn a_nested_parenthesized_literal_is_a_located_error() {
        let text = "HloModule m\nENTRY e {\n  ROOT c = c64[2]{0} constant({(1, 0), (0, 1)})\n}\n";
        let err = parse(text).unwrap_err();
        assert_eq!(&text[err.span.start..err.span.end], "(1, 0)");
        assert!(err.message.contains("complex"), "{}", err.message);
    }

    #[test]
    fn reads_computation_attributes() {
        let text = "HloModule m\n%host (p: f32[]) -> f32[] {\n  ROOT %p = f32[] parameter(0)\n}, execution_thread=\"host\"\n\nENTRY %e (a: f32[]) -> f32[] {\n  ROOT %a = f32[] parameter(0), sharding={replicated}\n}\n";
        let m = parse(text).unwrap();
        assert_eq!(m.computations[0].attributes[0].name, "execution_thread");
        assert_eq!(
            m.computations[0].attributes[0].value,
            AttrValue::Str("host".into())
        );
        let a = &m.computations[1].instructions[0];
        assert_eq!(a.body, BodyAst::ParameterNumber(0));
        assert_eq!(attr(a, "sharding"), braced("{replicated}"));
    }

    #[test]
    fn reports_position_of_errors_in_dump_pieces() {
        // A table entry that is neither a string nor braces.
        let text = "HloModule m\nFileNames\n1 oops\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}\n";
        let err = parse(text).unwrap_err();
        assert_eq!(err.span.start, text.find("oops").unwrap());
        // An attribute without a value.
        let text = "HloModule m\nENTRY e {\n  ROOT p = f32[] parameter(0), sharding=\n}\n";
        let err = parse(text).unwrap_err();
        assert_eq!(err.span.start, text.rfind('}').unwrap(), "{}", err.message);
        // An unclosed backend_config.
        let text =
            "HloModule m\nENTRY e {\n  ROOT p = f32[] parameter(0), backend_config={\"a\":{}\n}\n";
        let err = parse(text).unwrap_err();
        assert!(err.message.starts_with("expected"), "{}", err.message);
    }

    #[test]
    fn reports_position_of_syntax_errors() {
        let err = parse("HloModule m\nENTRY e {\n  x = f32[3 parameter(0)\n}").unwrap_err();
        // The shape that failed to parse, from its start.
        assert_eq!(err.span.start, "HloModule m\nENTRY e {\n  x = ".len());
        assert!(err.message.starts_with("expected"), "{}", err.message);
    }
}
