//! The HLO parser's tests: one per syntactic piece, from JAX's text and XLA's dumps.

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
    assert!(matches!(i.body, BodyAst::Literal(LiteralAst::List(ref rows, _)) if rows.len() == 2));
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
