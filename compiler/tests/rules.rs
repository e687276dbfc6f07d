//! Rewrite rules in egg's style: a small expression in, the expected cheapest
//! expression out. Expressions are written as s-expressions over the optimized
//! module's root: `(opcode[attribute] operands...)`, parameters by name, constants
//! by value.

use omelet_compiler::hlo::{Computation, InstrId, Op};
use omelet_compiler::import::parse_module;
use omelet_compiler::opt::{Limits, optimize};

/// Optimizes an entry made of `params` and `body` (HLO instructions, one per
/// line; the last one is the root) and renders its root.
fn best(params: &str, body: &str) -> String {
    let lines: Vec<&str> = params
        .lines()
        .chain(body.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let (root, rest) = lines.split_last().unwrap();
    let mut text = String::from(
        "HloModule t\n\nadd_f32 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] add(a, b)\n}\n\nENTRY main {\n",
    );
    for line in rest {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(&format!("  ROOT {root}\n}}\n"));
    let module = parse_module(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let optimized = optimize(&module, Limits::default()).module;
    let entry = optimized.entry();
    render(entry, entry.root)
}

fn render(comp: &Computation, id: InstrId) -> String {
    let instr = comp.instr(id);
    let head = match &instr.op {
        Op::Parameter(_) => return instr.name.clone(),
        Op::Constant(literal) => return literal.to_text(&instr.array_shape().dims),
        Op::Transpose { permutation } => format!("transpose{permutation:?}"),
        Op::Broadcast { dimensions } => format!("broadcast{dimensions:?}"),
        Op::Reduce { dimensions, .. } => format!("reduce{dimensions:?}"),
        Op::Dot(d) => format!("dot{:?}{:?}", d.lhs_contracting, d.rhs_contracting),
        Op::Reverse { dimensions } => format!("reverse{dimensions:?}"),
        Op::Slice { dims } => {
            let ranges: Vec<String> = dims
                .iter()
                .map(|d| format!("{}:{}", d.start, d.limit))
                .collect();
            format!("slice[{}]", ranges.join(","))
        }
        op => op.opcode().to_string(),
    };
    let operands: Vec<String> = instr.operands.iter().map(|&o| render(comp, o)).collect();
    format!("({head} {})", operands.join(" "))
}

const X: &str = "x = f32[3,4] parameter(0)";

#[test]
fn transposes_cancel() {
    assert_eq!(
        best(
            X,
            "t = f32[4,3] transpose(x), dimensions={1,0}
             u = f32[3,4] transpose(t), dimensions={1,0}
             n = f32[3,4] negate(u)"
        ),
        "(negate x)"
    );
}

#[test]
fn multiply_by_one_and_double_negation_vanish() {
    assert_eq!(
        best(
            X,
            "c = f32[] constant(1)
             b = f32[3,4] broadcast(c), dimensions={}
             m = f32[3,4] multiply(x, b)
             n = f32[3,4] negate(m)
             nn = f32[3,4] negate(n)
             e = f32[3,4] exponential(nn)"
        ),
        "(exponential x)"
    );
}

#[test]
fn adding_positive_zero_is_kept_because_it_turns_negative_zero_positive() {
    assert_eq!(
        best(
            X,
            "c = f32[] constant(0)
             b = f32[3,4] broadcast(c), dimensions={}
             a = f32[3,4] add(x, b)"
        ),
        "(add x (broadcast[] 0))"
    );
    assert_eq!(
        best(
            X,
            "c = f32[] constant(-0)
             b = f32[3,4] broadcast(c), dimensions={}
             a = f32[3,4] add(x, b)
             e = f32[3,4] exponential(a)"
        ),
        "(exponential x)"
    );
}

#[test]
fn division_by_a_power_of_two_becomes_a_multiplication_and_by_three_does_not() {
    assert_eq!(
        best(
            X,
            "c = f32[] constant(4)
             b = f32[3,4] broadcast(c), dimensions={}
             d = f32[3,4] divide(x, b)"
        ),
        "(multiply x (broadcast[] 0.25))"
    );
    assert_eq!(
        best(
            X,
            "c = f32[] constant(3)
             b = f32[3,4] broadcast(c), dimensions={}
             d = f32[3,4] divide(x, b)"
        ),
        "(divide x (broadcast[] 3))"
    );
}

#[test]
fn scalar_constants_fold() {
    assert_eq!(
        best(
            X,
            "c = f32[] constant(2)
             d = f32[] constant(3)
             m = f32[] multiply(c, d)
             b = f32[3,4] broadcast(m), dimensions={}
             a = f32[3,4] multiply(x, b)"
        ),
        "(multiply x (broadcast[] 6))"
    );
}

#[test]
fn elementwise_ops_run_before_a_broadcast() {
    assert_eq!(
        best(
            "s = f32[4] parameter(0)",
            "b = f32[3,4] broadcast(s), dimensions={1}
             e = f32[3,4] exponential(b)"
        ),
        "(broadcast[1] (exponential s))"
    );
}

#[test]
fn transposed_dot_operands_fold_into_dimension_numbers() {
    assert_eq!(
        best(
            "a = f32[5,3] parameter(0)
             b = f32[4,5] parameter(1)",
            "at = f32[3,5] transpose(a), dimensions={1,0}
             bt = f32[5,4] transpose(b), dimensions={1,0}
             d = f32[3,4] dot(at, bt), lhs_contracting_dims={1}, rhs_contracting_dims={0}"
        ),
        "(dot[0][1] a b)"
    );
}

#[test]
fn a_transposed_dot_result_swaps_the_operands() {
    assert_eq!(
        best(
            "a = f32[3,5] parameter(0)
             b = f32[5,4] parameter(1)",
            "d = f32[3,4] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
             t = f32[4,3] transpose(d), dimensions={1,0}"
        ),
        "(dot[0][1] b a)"
    );
}

#[test]
fn a_scalar_factor_moves_out_of_a_dot() {
    assert_eq!(
        best(
            "a = f32[30,50] parameter(0)
             b = f32[50,4] parameter(1)
             s = f32[] parameter(2)",
            "bs = f32[30,50] broadcast(s), dimensions={}
             m = f32[30,50] multiply(a, bs)
             d = f32[30,4] dot(m, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}"
        ),
        "(multiply (dot[1][0] a b) (broadcast[] s))"
    );
}

#[test]
fn transposes_sink_through_elementwise_ops_and_cancel() {
    // (x.T + y).T * 2 = (x + y.T) * 2: one transpose is left, on y.
    assert_eq!(
        best(
            "x = f32[3,4] parameter(0)
             y = f32[4,3] parameter(1)",
            "xt = f32[4,3] transpose(x), dimensions={1,0}
             a = f32[4,3] add(xt, y)
             t = f32[3,4] transpose(a), dimensions={1,0}
             c = f32[] constant(2)
             b = f32[3,4] broadcast(c), dimensions={}
             m = f32[3,4] multiply(t, b)"
        ),
        "(multiply (add x (transpose[1, 0] y)) (broadcast[] 2))"
    );
}

#[test]
fn a_reduction_of_a_transpose_reduces_the_original_dimension() {
    assert_eq!(
        best(
            X,
            "t = f32[4,3] transpose(x), dimensions={1,0}
             z = f32[] constant(0)
             r = f32[3] reduce(t, z), dimensions={0}, to_apply=add_f32"
        ),
        "(reduce[1] x 0)"
    );
}

#[test]
fn reverses_compose_and_cancel() {
    assert_eq!(
        best(
            X,
            "r = f32[3,4] reverse(x), dimensions={0}
             s = f32[3,4] reverse(r), dimensions={0,1}
             n = f32[3,4] negate(s)"
        ),
        "(negate (reverse[1] x))"
    );
    assert_eq!(
        best(
            X,
            "r = f32[3,4] reverse(x), dimensions={1,0}
             s = f32[3,4] reverse(r), dimensions={0,1}
             n = f32[3,4] negate(s)"
        ),
        "(negate x)"
    );
}

#[test]
fn a_reverse_of_single_elements_is_the_identity() {
    assert_eq!(
        best(
            "x = f32[1,4] parameter(0)",
            "r = f32[1,4] reverse(x), dimensions={0}
             n = f32[1,4] negate(r)"
        ),
        "(negate x)"
    );
}

#[test]
fn padding_by_nothing_is_the_identity() {
    assert_eq!(
        best(
            X,
            "z = f32[] constant(0)
             p = f32[3,4] pad(x, z), padding=0_0x0_0
             n = f32[3,4] negate(p)"
        ),
        "(negate x)"
    );
}

#[test]
fn reverses_and_pads_of_a_splat_are_the_splat() {
    assert_eq!(
        best(
            X,
            "c = f32[] constant(2)
             b = f32[3,2] broadcast(c), dimensions={}
             r = f32[3,2] reverse(b), dimensions={0,1}
             p = f32[3,4] pad(r, c), padding=0_0x1_1
             a = f32[3,4] add(x, p)"
        ),
        "(add x (broadcast[] 2))"
    );
}

#[test]
fn a_pad_of_a_splat_with_another_value_stays() {
    assert_eq!(
        best(
            X,
            "c = f32[] constant(2)
             z = f32[] constant(0)
             b = f32[3,2] broadcast(c), dimensions={}
             p = f32[3,4] pad(b, z), padding=0_0x1_1
             a = f32[3,4] add(x, p)"
        ),
        "(add x (pad (broadcast[] 2) 0))"
    );
}

#[test]
fn a_dynamic_slice_at_constant_starts_is_a_slice_clamped_as_xla_does() {
    // Starts -3 and 7 clamp to 0 and 4 - 3 = 1.
    assert_eq!(
        best(
            X,
            "i = s32[] constant(-3)
             j = s32[] constant(7)
             d = f32[2,3] dynamic-slice(x, i, j), dynamic_slice_sizes={2,3}
             n = f32[2,3] negate(d)"
        ),
        "(negate (slice[0:2,1:4] x))"
    );
}

#[test]
fn a_dynamic_start_of_a_whole_dimension_clamps_to_zero() {
    assert_eq!(
        best(
            "x = f32[3,4] parameter(0)
             i = u8[] parameter(1)",
            "j = u8[] constant(2)
             d = f32[3,2] dynamic-slice(x, i, j), dynamic_slice_sizes={3,2}
             n = f32[3,2] negate(d)"
        ),
        "(negate (slice[0:3,2:4] x))"
    );
    assert_eq!(
        best(
            "x = f32[3,4] parameter(0)
             i = s32[] parameter(1)",
            "d = f32[2,2] dynamic-slice(x, i, i), dynamic_slice_sizes={2,2}
             n = f32[2,2] negate(d)"
        ),
        "(negate (dynamic-slice x i i))"
    );
}

#[test]
fn an_update_of_the_whole_operand_is_the_update() {
    assert_eq!(
        best(
            "x = f32[3,4] parameter(0)
             u = f32[3,4] parameter(1)
             i = s32[] parameter(2)",
            "d = f32[3,4] dynamic-update-slice(x, u, i, i)
             n = f32[3,4] negate(d)"
        ),
        "(negate u)"
    );
}

#[test]
fn reduce_precision_to_the_types_own_widths_is_the_identity() {
    assert_eq!(
        best(
            X,
            "r = f32[3,4] reduce-precision(x), exponent_bits=8, mantissa_bits=23
             n = f32[3,4] negate(r)"
        ),
        "(negate x)"
    );
    assert_eq!(
        best(
            X,
            "r = f32[3,4] reduce-precision(x), exponent_bits=8, mantissa_bits=7
             n = f32[3,4] negate(r)"
        ),
        "(negate (reduce-precision x))"
    );
}

#[test]
fn an_array_plus_a_scatter_add_into_zeros_is_a_scatter_add_into_the_array() {
    let params = "x = f32[4,5] parameter(0)
                  i = s32[3,1] parameter(1)
                  u = f32[3,5] parameter(2)";
    let scatter = |init: &str, combine: &str| {
        format!(
            "c = f32[] constant({init})
             z = f32[4,5] broadcast(c), dimensions={{}}
             s = f32[4,5] scatter(z, i, u), update_window_dims={{1}}, inserted_window_dims={{0}}, scatter_dims_to_operand_dims={{0}}, index_vector_dim=1, to_apply=add_f32
             r = f32[4,5] {combine}(s, x)"
        )
    };
    assert_eq!(best(params, &scatter("0", "add")), "(scatter x i u)");
    // Into ones, or combined by another op than the region's: no identity.
    for (init, combine) in [("1", "add"), ("0", "multiply")] {
        assert_eq!(
            best(params, &scatter(init, combine)),
            format!("({combine} (scatter (broadcast[] {init}) i u) x)")
        );
    }
}
