//! Fuzzing the HLO front end, the interpreter and the CPU and GPU backends.
//! Whatever the text, `parse_module` returns a module or an error, never panics,
//! and an error's span lies in the text; a module it returns prints, parses back
//! to the same printed text, and, when its arrays are small, runs on the
//! interpreter without panicking; where the interpreter runs it, the CPU and the
//! GPU backends compile its fused form and run it to the interpreter's numbers
//! (random shapes, layouts, sizes of 1 and broadcasts, every op).
//!
//! The GPU, on the adapter `OMELET_GPU` picks (Mesa's software Vulkan in CI),
//! checks every third module the CPU does (`support::fuzz::GpuSample` says why),
//! comparing numbers except where WGSL lets them differ (infinities and NaN;
//! `support::fuzz::checks` says which).
//! Without an adapter its check is skipped, with the reason printed once; in CI
//! (`CI` set) that is a failure.
//!
//! Inputs are mutations of the fixtures' HLO (bytes deleted, lines duplicated or
//! swapped, numbers and words replaced, punctuation inserted, spans repeated or
//! wrapped in brackets, text truncated), small random modules (some mutated too),
//! and random text. The seed is fixed so that CI is deterministic; environment
//! variables scale the search up:
//!
//! - `FUZZ_CASES=N`: cases per fuzz test (default 6000);
//! - `FUZZ_SEED=N`: another seed (default 0);
//! - `FUZZ_GPU_EVERY=N`: check every Nth compiled module on the GPU too (default 3;
//!   1: all of them, 0: none);
//! - `FUZZ_TRACE=PATH`: write each input to PATH before running it, so that a crash
//!   that kills the process (stack overflow, failed allocation) or a hang leaves
//!   its input behind (run one fuzz test at a time).
//!
//! For example `FUZZ_CASES=200000 FUZZ_SEED=7 cargo test --release -p omelet --test
//! fuzz fuzz_` (add `CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true` to catch integer
//! overflow too). A failure is shrunk to a short list of mutations and reported
//! with its text. The `regression_*` tests at the end are the minimized inputs of
//! the failures found so far.

mod support;

use support::fuzz::{
    Backend, GpuSample, backends_match, delete, duplicate_line, floor_char_boundary, position,
    swap_lines, total_elements,
};

use std::io::Write;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::hlo::{ArrayShape, ElementType, Kind, Module, Number, Scalar, print_module};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, interp};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;

/// Modules whose instructions hold more elements than this in all are parsed and
/// printed but not run: the interpreter's time and memory grow with the arrays.
const MAX_INTERPRETED_ELEMENTS: usize = 200_000;

/// A mutated loop may never end (a condition's constant or direction changed):
/// the interpreter stops each loop here, an error the check accepts.
const MAX_LOOP_ITERATIONS: u64 = 1_000;

// ---------------------------------------------------------------------------
// The property

#[derive(Default)]
struct Stats {
    cases: AtomicUsize,
    parsed: AtomicUsize,
    interpreted: AtomicUsize,
    /// Whether the backends' numbers must match the interpreter's (set for
    /// generated programs; mutated constants make programs ill-conditioned, so
    /// for mutations the backends only have to compile and run them).
    compare_numbers: bool,
    compiled: AtomicUsize,
    /// How many of those the GPU backend ran too, and how many of those it ran to
    /// the interpreter's numbers (see `support::fuzz::checks` for the others).
    on_gpu: AtomicUsize,
    gpu_compared: AtomicUsize,
    /// Which modules the GPU checks.
    gpu: GpuSample,
}

/// Checks one input; `Ok` when it is rejected with a well-placed error or survives
/// printing, reparsing and the interpreter.
fn check(text: &str, stats: &Stats) -> Result<(), TestCaseError> {
    stats.cases.fetch_add(1, Ordering::Relaxed);
    trace(text);
    let module = match parse_module(text) {
        Ok(module) => module,
        Err(e) => {
            // The CLI renders the span under the source line: it must lie in the text.
            if let Some(span) = e.span {
                prop_assert!(
                    span.start <= span.end
                        && span.end <= text.len()
                        && text.is_char_boundary(span.start)
                        && text.is_char_boundary(span.end),
                    "error span {:?} is outside the text of {} bytes: {}",
                    span,
                    text.len(),
                    e
                );
            }
            return Ok(());
        }
    };
    stats.parsed.fetch_add(1, Ordering::Relaxed);
    let printed = print_module(&module);
    let reparsed = parse_module(&printed).map_err(|e| {
        TestCaseError::fail(format!("the printed module does not parse: {e}\n{printed}"))
    })?;
    let again = print_module(&reparsed);
    prop_assert_eq!(&again, &printed, "print(parse(print(m))) != print(m)");
    if total_elements(&module) < MAX_INTERPRETED_ELEMENTS {
        stats.interpreted.fetch_add(1, Ordering::Relaxed);
        // Err is fine (a tuple parameter, say); a panic is not, in the optimizer
        // either.
        let inputs = inputs(&module);
        let expected = interp::run_bounded(&module, &inputs, MAX_LOOP_ITERATIONS);
        let fused = compile(module.clone(), Stage::Fused).module;
        let _ = interp::run_bounded(&fused, &inputs, MAX_LOOP_ITERATIONS);
        // The CPU and GPU backends compile whatever the interpreter runs, to its
        // numbers.
        if let Ok(expected) = expected {
            stats.compiled.fetch_add(1, Ordering::Relaxed);
            let ran = backends_match(
                &module,
                &fused,
                &inputs,
                &expected,
                stats.compare_numbers,
                &stats.gpu,
            )
            .map_err(TestCaseError::fail)?;
            for check in ran.iter().filter(|c| c.backend == Backend::Gpu) {
                stats.on_gpu.fetch_add(1, Ordering::Relaxed);
                if check.compare_numbers {
                    stats.gpu_compared.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    Ok(())
}

/// Small deterministic inputs, zeros and negatives included (integer division by
/// zero is defined); tuple parameters get none, which the interpreter rejects.
fn inputs(module: &Module) -> Vec<Array> {
    module
        .parameter_shapes()
        .iter()
        .filter_map(|s| s.as_array())
        .map(input)
        .collect()
}

fn input(shape: &ArrayShape) -> Array {
    let dims = IxDyn(&shape.dims);
    let n = shape.element_count();
    let v = |i: usize| (i * 5 % 7) as i32 - 3;
    let t = shape.element;
    if !matches!(t, ElementType::F32 | ElementType::S32 | ElementType::Pred) {
        // The same values in any other type (negatives wrap in unsigned ones).
        let bytes: Vec<u8> = (0..n)
            .flat_map(|i| {
                let number = match t.kind() {
                    Kind::Float => Number::Float(v(i) as f64 * 0.75),
                    _ => Number::Int(v(i) as i128),
                };
                let bits = Scalar::from_number(t, number).bits;
                bits.to_le_bytes().into_iter().take(t.byte_size())
            })
            .collect();
        return Array::from_bytes(shape, &bytes);
    }
    match shape.element {
        ElementType::F32 => Array::F32(
            ArrayD::from_shape_vec(dims, (0..n).map(|i| v(i) as f32 * 0.75).collect()).unwrap(),
        ),
        ElementType::S32 => {
            Array::S32(ArrayD::from_shape_vec(dims, (0..n).map(v).collect()).unwrap())
        }
        ElementType::Pred => {
            Array::Pred(ArrayD::from_shape_vec(dims, (0..n).map(|i| v(i) > 0).collect()).unwrap())
        }
        other => panic!("the generator writes no {other} parameters"),
    }
}

/// With `FUZZ_TRACE` set, writes the input to that file before it runs.
fn trace(text: &str) {
    static TRACE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    let file = TRACE.get_or_init(|| {
        let path = std::env::var_os("FUZZ_TRACE")?;
        Some(Mutex::new(
            std::fs::File::create(path).expect("FUZZ_TRACE is writable"),
        ))
    });
    if let Some(file) = file {
        use std::io::{Seek, SeekFrom};
        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
        file.set_len(0).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }
}

/// Runs `check` on `FUZZ_CASES` inputs from `strategy` and reports how many ran.
fn fuzz(name: &str, strategy: impl Strategy<Value = Case>, compare_numbers: bool) {
    let (mut runner, seed) = support::fuzz::runner(6_000);
    let stats = Stats {
        compare_numbers,
        ..Stats::default()
    };
    let start = std::time::Instant::now();
    let (result, last_panic) =
        support::fuzz::quietly(|| runner.run(&strategy, |case| check(&case.text, &stats)));
    // Straight to stderr, past the test harness's capture, so that the count shows
    // in a normal `cargo test` run.
    let _ = writeln!(
        std::io::stderr(),
        "fuzz {name}: {} cases ({} parsed, {} interpreted, {} compiled for cpu, {} for gpu ({} compared)), seed {seed}, {:.1}s",
        stats.cases.load(Ordering::Relaxed),
        stats.parsed.load(Ordering::Relaxed),
        stats.interpreted.load(Ordering::Relaxed),
        stats.compiled.load(Ordering::Relaxed),
        stats.on_gpu.load(Ordering::Relaxed),
        stats.gpu_compared.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        let place = last_panic.unwrap_or_default();
        panic!("fuzz {name} (FUZZ_SEED={seed}): {e}\nThe last panic: {place}");
    }
}

#[test]
fn fuzz_mutated_fixtures() {
    fuzz("mutated fixtures", mutated_fixture(), false);
}

#[test]
fn fuzz_random_modules() {
    fuzz("random modules", random_module(), true);
}

#[test]
fn fuzz_random_text() {
    fuzz("random text", random_text(), false);
}

// ---------------------------------------------------------------------------
// Inputs

/// One input: its text and, for a failure report, how it was made.
#[derive(Clone)]
struct Case {
    origin: String,
    text: String,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:\n{:?}\n{}", self.origin, self.text, self.text)
    }
}

/// The fixtures' HLO texts, with their names.
fn fixtures() -> &'static [(String, String)] {
    static FIXTURES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        support::fixture_dirs()
            .into_iter()
            .filter_map(|dir| {
                // `.om` fixtures may have no HLO twin.
                let text = std::fs::read_to_string(dir.join("module.hlo")).ok()?;
                Some((support::fixture_name(&dir), text))
            })
            .collect()
    })
}

/// Every HLO opcode XLA knows, the unsupported ones included.
#[rustfmt::skip]
const OPCODES: &[&str] = &[
    "abs", "add", "add-dependency", "after-all", "all-gather", "all-reduce", "all-to-all",
    "and", "atan2", "batch-norm-grad", "batch-norm-inference", "batch-norm-training",
    "bitcast", "bitcast-convert", "broadcast", "call", "cbrt", "ceil", "cholesky", "clamp",
    "clz", "collective-permute", "compare", "complex", "concatenate", "conditional",
    "constant", "convert", "convolution", "copy", "copy-done", "copy-start", "cosine",
    "custom-call", "divide", "domain", "dot", "dynamic-reshape", "dynamic-slice",
    "dynamic-update-slice", "erf", "exponential", "exponential-minus-one", "fft", "floor",
    "fusion", "gather", "get-dimension-size", "get-tuple-element", "imag", "infeed", "iota",
    "is-finite", "log", "log-plus-one", "logistic", "map", "maximum", "minimum", "multiply",
    "negate", "not", "optimization-barrier", "or", "outfeed", "pad", "parameter",
    "partition-id", "popcnt", "power", "real", "recv", "recv-done", "reduce",
    "reduce-precision", "reduce-scatter", "reduce-window", "remainder", "replica-id",
    "reshape", "reverse", "rng", "rng-bit-generator", "round-nearest-afz",
    "round-nearest-even", "rsqrt", "scatter", "select", "select-and-scatter", "send",
    "send-done", "set-dimension-size", "shift-left", "shift-right-arithmetic",
    "shift-right-logical", "sign", "sine", "slice", "sort", "sqrt", "stochastic-convert",
    "subtract", "tan", "tanh", "transpose", "tuple", "while", "xor",
];

#[rustfmt::skip]
const ELEMENT_TYPES: &[&str] = &[
    "pred", "s4", "s8", "s16", "s32", "s64", "u4", "u8", "u16", "u32", "u64", "f16", "bf16",
    "f32", "f64", "c64", "c128", "f8e4m3fn", "f8e5m2", "token",
];

#[rustfmt::skip]
const ATTRIBUTES: &[&str] = &[
    "dimensions", "iota_dimension", "direction", "to_apply", "calls", "kind", "index",
    "slice", "lhs_batch_dims", "rhs_batch_dims", "lhs_contracting_dims",
    "rhs_contracting_dims", "metadata", "sharding", "frontend_attributes", "backend_config",
    "entry_computation_layout", "padding", "window", "comparison_type", "precision_config",
];

/// Attribute values and keywords.
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "EQ", "NE", "LT", "LE", "GT", "GE", "TOTALORDER", "kLoop", "kInput", "kOutput",
    "kCustom", "ENTRY", "ROOT", "HloModule", "true", "false", "inf", "-inf", "nan", "x",
    "main", "region_0.1", "_",
];

#[rustfmt::skip]
const NUMBERS: &[&str] = &[
    "0", "1", "2", "3", "-1", "-2", "99999999999", "-99999999999", "2147483647",
    "2147483648", "-2147483649", "4294967296", "65536", "9223372036854775807",
    "9223372036854775808", "18446744073709551616", "-0", "0.5", "1e39", "-1e-45", "1.",
    ".5", "nan", "-inf",
];

#[rustfmt::skip]
const PUNCTUATION: &[&str] = &[
    "{", "}", "[", "]", "(", ")", ",", "=", ":", "%", " ", "\n", "->", "/*", "*/", "//",
    "\"", "...", "<=", "?", "-", ".",
];

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(NUMBERS).prop_map(str::to_string),
        1 => (0u32..20).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
    ]
}

fn vocabulary() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => select(OPCODES),
        2 => select(ELEMENT_TYPES),
        2 => select(ATTRIBUTES),
        1 => select(WORDS),
    ]
}

/// Punctuation to insert: a few characters, or one opening bracket many times
/// over (deep nesting).
fn punctuation() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => vec(select(PUNCTUATION), 1..4).prop_map(|p| p.concat()),
        1 => (select(&["(", "{", "[", "{ {", "( "][..]), 1usize..20_000)
            .prop_map(|(p, n)| p.repeat(n)),
    ]
}

#[derive(Clone, Debug)]
enum Word {
    Vocabulary(&'static str),
    /// Another word of the same text: a name defined elsewhere, another opcode.
    FromText(Index),
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Deletes up to `len` bytes.
    Delete(Index, usize),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    ReplaceNumber(Index, String),
    ReplaceWord(Index, Word),
    Insert(Index, String),
    /// Repeats up to `len` bytes `n` times: long lists, high ranks, long names.
    Repeat(Index, usize, usize),
    /// Wraps up to `len` bytes in `n` pairs of brackets: deep but balanced nesting.
    Nest(Index, usize, usize, &'static str),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let word = prop_oneof![
        3 => vocabulary().prop_map(Word::Vocabulary),
        1 => any::<Index>().prop_map(Word::FromText),
    ];
    prop_oneof![
        2 => (any::<Index>(), 1usize..200).prop_map(|(at, n)| Mutation::Delete(at, n)),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        5 => (any::<Index>(), number()).prop_map(|(at, n)| Mutation::ReplaceNumber(at, n)),
        5 => (any::<Index>(), word).prop_map(|(at, w)| Mutation::ReplaceWord(at, w)),
        2 => (any::<Index>(), punctuation()).prop_map(|(at, p)| Mutation::Insert(at, p)),
        1 => (any::<Index>(), 1usize..8, prop_oneof![1usize..8, 1usize..300])
            .prop_map(|(at, len, n)| Mutation::Repeat(at, len, n)),
        1 => (
            any::<Index>(),
            0usize..20,
            prop_oneof![1usize..8, 1usize..5000],
            select(&["()", "{}", "[]"][..]),
        )
            .prop_map(|(at, len, n, pair)| Mutation::Nest(at, len, n, pair)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutated_fixture() -> impl Strategy<Value = Case> {
    (
        any::<Index>(),
        prop_oneof![3 => vec(mutation(), 1..2), 1 => vec(mutation(), 2..5)],
    )
        .prop_map(|(fixture, mutations)| {
            let (name, text) = &fixtures()[fixture.index(fixtures().len())];
            let mut text = text.clone();
            for m in &mutations {
                mutate(&mut text, m);
            }
            Case {
                origin: format!("tests/{name} with {mutations:?}"),
                text,
            }
        })
}

fn mutate(text: &mut String, mutation: &Mutation) {
    let (numbers, words) = tokens(text);
    match mutation {
        Mutation::Delete(at, len) => delete(text, at, *len),
        Mutation::DuplicateLine(at) => duplicate_line(text, at),
        Mutation::SwapLines(a, b) => swap_lines(text, a, b),
        Mutation::ReplaceNumber(at, number) => {
            if !numbers.is_empty() {
                text.replace_range(numbers[at.index(numbers.len())].clone(), number);
            }
        }
        Mutation::ReplaceWord(at, word) => {
            if !words.is_empty() {
                let with = match word {
                    Word::Vocabulary(w) => w.to_string(),
                    Word::FromText(i) => text[words[i.index(words.len())].clone()].to_string(),
                };
                text.replace_range(words[at.index(words.len())].clone(), &with);
            }
        }
        Mutation::Insert(at, punctuation) => {
            let at = position(text, at);
            text.insert_str(at, punctuation);
        }
        Mutation::Repeat(at, len, n) => {
            let start = position(text, at);
            let end = floor_char_boundary(text, (start + len).min(text.len()));
            let span = text[start..end].repeat(*n);
            text.replace_range(start..end, &span);
        }
        Mutation::Nest(at, len, n, pair) => {
            let start = position(text, at);
            let end = floor_char_boundary(text, (start + len).min(text.len()));
            let (open, close) = pair.split_at(1);
            text.insert_str(end, &close.repeat(*n));
            text.insert_str(start, &open.repeat(*n));
        }
        Mutation::Truncate(at) => {
            let at = position(text, at);
            text.truncate(at);
        }
    }
}

/// The byte ranges of the text's numbers and words: maximal runs of ASCII letters,
/// digits and `_.-`; a number starts with a digit, `-` or `.`.
fn tokens(text: &str) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let in_token = |b: u8| b.is_ascii_alphanumeric() || b"_.-".contains(&b);
    let (mut numbers, mut words) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < bytes.len() {
        if !in_token(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && in_token(bytes[i]) {
            i += 1;
        }
        if matches!(bytes[start], b'0'..=b'9' | b'-' | b'.') {
            numbers.push(start..i);
        } else {
            words.push(start..i);
        }
    }
    (numbers, words)
}

/// A small module built from templates: parameters, then instructions with random
/// opcodes, shapes, operands and attributes, next to reduce regions and a fusion
/// callee that attributes can name. Shapes come from a few, operand counts and
/// attributes mostly suit the opcode, and a result often takes its first
/// operand's shape, so that a fair share of modules import.
fn random_module() -> impl Strategy<Value = Case> {
    let element = || {
        prop_oneof![
            4 => select(&["f32", "f32", "f32", "s32", "s32", "pred"][..]),
            1 => select(&[
                "s8", "s16", "s64", "u8", "u16", "u32", "u64", "f16", "bf16", "f64",
            ][..]),
        ]
    };
    let shape = move || {
        let dim = prop_oneof![
            12 => select(&[2u64, 2, 3, 1, 0][..]),
            1 => select(&[65536u64, 2147483647, 4294967296, 99999999999][..]),
        ];
        (
            element(),
            prop_oneof![4 => vec(dim.clone(), 0..3), 1 => vec(dim, 3..5)],
        )
            .prop_map(|(e, dims)| format!("{e}[{}]", join(dims.iter())))
    };
    let opcode = prop_oneof![
        8 => select(SUPPORTED),
        1 => select(OPCODES),
    ];
    let instruction = (
        prop_oneof![1 => Just(None), 1 => shape().prop_map(Some)],
        opcode,
        vec(0usize..8, 4),
        prop_oneof![8 => Just(None), 1 => (0usize..4).prop_map(Some)],
        any::<Index>(),
        vec(select(ATTRIBUTE_TEXTS), 0..2),
        select(LITERALS),
        0usize..3,
    );
    let regions = vec(
        (
            select(&["add", "or", "maximum", "and", "multiply"][..]),
            element(),
        ),
        3,
    );
    (
        vec(shape(), 1..3),
        vec(instruction, 1..5),
        regions,
        shape(),
        prop_oneof![3 => Just(false), 1 => Just(true)],
        prop_oneof![3 => Just(vec![]), 1 => vec(mutation(), 1..3)],
    )
        .prop_map(|(params, instructions, regions, fused, tuple_root, mutations)| {
            let mut text = String::from("HloModule m\n\n");
            for (i, (op, t)) in regions.iter().enumerate() {
                text += &format!(
                    "r{i} {{\n  a = {t}[] parameter(0)\n  b = {t}[] parameter(1)\n  ROOT c = {t}[] {op}(a, b)\n}}\n\n"
                );
            }
            text += &format!(
                "fused {{\n  a = {fused} parameter(0)\n  ROOT n = {fused} negate(a)\n}}\n\nENTRY main {{\n"
            );
            // (name, shape) of every instruction so far.
            let mut values: Vec<(String, String)> = Vec::new();
            for (i, p) in params.iter().enumerate() {
                text += &format!("  p{i} = {p} parameter({i})\n");
                values.push((format!("p{i}"), p.clone()));
            }
            let count = instructions.len();
            for (i, instruction) in instructions.into_iter().enumerate() {
                let (shape, opcode, operands, arity, choice, extra, literal, number) = instruction;
                let arity = arity.unwrap_or_else(|| arity_of(opcode));
                let operands: Vec<&(String, String)> = operands[..arity]
                    .iter()
                    .map(|&o| &values[o % values.len()])
                    .collect();
                let body = match opcode {
                    "constant" => literal.to_string(),
                    "parameter" => (params.len() + number).to_string(),
                    _ => join(operands.iter().map(|o| &o.0)),
                };
                let shape = shape
                    .or_else(|| operands.first().map(|o| o.1.clone()))
                    .unwrap_or_else(|| "f32[2]".into());
                let root = if i + 1 == count && !tuple_root {
                    "ROOT "
                } else {
                    ""
                };
                text += &format!("  {root}i{i} = {shape} {opcode}({body})");
                let own = attributes_of(opcode);
                if !own.is_empty() {
                    text += &format!(", {}", own[choice.index(own.len())]);
                }
                for a in extra {
                    text += &format!(", {a}");
                }
                text += "\n";
                values.push((format!("i{i}"), shape));
            }
            if tuple_root {
                let (names, shapes): (Vec<String>, Vec<String>) = values.into_iter().unzip();
                text += &format!(
                    "  ROOT t = ({}) tuple({})\n",
                    shapes.join(", "),
                    names.join(", ")
                );
            }
            text += "}\n";
            for m in &mutations {
                mutate(&mut text, m);
            }
            Case {
                origin: format!("a random module with {mutations:?}"),
                text,
            }
        })
}

/// How many operands an opcode usually takes.
fn arity_of(opcode: &str) -> usize {
    match opcode {
        "parameter" | "constant" | "iota" => 0,
        "add"
        | "subtract"
        | "multiply"
        | "divide"
        | "maximum"
        | "power"
        | "remainder"
        | "and"
        | "or"
        | "compare"
        | "dot"
        | "reduce"
        | "concatenate"
        | "call"
        | "xor"
        | "shift-left"
        | "shift-right-logical"
        | "shift-right-arithmetic"
        | "atan2"
        | "minimum" => 2,
        "select" | "clamp" | "tuple" => 3,
        _ => 1,
    }
}

/// Attributes that suit an opcode.
fn attributes_of(opcode: &str) -> &'static [&'static str] {
    match opcode {
        "iota" => &["iota_dimension=0", "iota_dimension=1"],
        "compare" => &["direction=LT", "direction=EQ", "direction=GE"],
        "broadcast" => &[
            "dimensions={}",
            "dimensions={0}",
            "dimensions={1}",
            "dimensions={0,1}",
        ],
        "transpose" => &[
            "dimensions={1,0}",
            "dimensions={0}",
            "dimensions={0,1}",
            "dimensions={}",
        ],
        "concatenate" => &["dimensions={0}", "dimensions={1}"],
        "reduce" => &[
            "dimensions={0}, to_apply=r0",
            "dimensions={1}, to_apply=r1",
            "dimensions={0,1}, to_apply=r2",
            "dimensions={}, to_apply=r0",
        ],
        "slice" => &[
            "slice={[0:1]}",
            "slice={[0:2], [1:3:2]}",
            "slice={}",
            "slice={[1:2], [0:1]}",
        ],
        "get-tuple-element" => &["index=0", "index=1"],
        "fusion" => &["kind=kLoop, calls=fused"],
        "call" => &["to_apply=fused", "to_apply=r0"],
        "dot" => &[
            "lhs_contracting_dims={1}, rhs_contracting_dims={0}",
            "lhs_contracting_dims={0}, rhs_contracting_dims={0}",
            "lhs_batch_dims={0}, rhs_batch_dims={0}, lhs_contracting_dims={1}, rhs_contracting_dims={1}",
        ],
        _ => &[],
    }
}

/// The opcodes Omelet reads.
#[rustfmt::skip]
const SUPPORTED: &[&str] = &[
    "parameter", "constant", "iota", "negate", "abs", "sign", "exponential", "log", "sqrt",
    "not", "is-finite", "floor", "convert", "add", "subtract", "multiply", "divide",
    "maximum", "power", "remainder", "and", "or", "compare", "select", "clamp", "broadcast",
    "reshape", "bitcast", "transpose", "slice", "concatenate", "dot", "reduce", "tuple",
    "get-tuple-element", "fusion", "call", "xor", "shift-left", "shift-right-logical",
    "shift-right-arithmetic", "popcnt", "count-leading-zeros", "bitcast-convert", "atan2",
    "tan", "cbrt", "minimum", "ceil", "round-nearest-even", "tanh", "sine",
];

#[rustfmt::skip]
const ATTRIBUTE_TEXTS: &[&str] = &[
    "dimensions={0}", "dimensions={1}", "dimensions={1,0}", "dimensions={0,1}",
    "dimensions={}", "dimensions={2,0,1}", "iota_dimension=0", "iota_dimension=1",
    "direction=LT", "direction=EQ", "slice={[0:1]}", "slice={[0:2], [1:3:2]}", "slice={}",
    "slice={[1:0]}", "index=0", "index=1", "lhs_contracting_dims={1}",
    "rhs_contracting_dims={0}", "lhs_batch_dims={0}", "rhs_batch_dims={0}", "to_apply=r0",
    "to_apply=r1", "to_apply=r2", "to_apply=fused", "kind=kLoop, calls=fused",
    "kind=kLoop, calls=r0", "kind=kLoop, calls=main", "to_apply=main",
];

#[rustfmt::skip]
const LITERALS: &[&str] = &[
    "0", "1.5", "true", "-inf", "{}", "{1, 2}", "{ {1, 2}, {3, 4} }", "{1, 2, 3}", "{...}",
    "{ {}, {} }", "{0, 1, 2, 3, 4, 5}",
];

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// Arbitrary Unicode, or a soup of HLO's words, numbers and punctuation after a
/// plausible start: mostly the parser's business.
fn random_text() -> impl Strategy<Value = Case> {
    let token = prop_oneof![
        3 => vocabulary().prop_map(str::to_string),
        2 => number(),
        4 => select(PUNCTUATION).prop_map(str::to_string),
        1 => select(&["x", "%y", "f32[2,3]{1,0}", "s32[]", "pred[4]"][..]).prop_map(str::to_string),
    ];
    let soup = (
        select(
            &[
                "",
                "HloModule m\n",
                "HloModule m\nENTRY e {\n",
                "HloModule m\nENTRY e {\n  x = ",
            ][..],
        ),
        vec((token, select(&["", " ", "\n"][..])), 0..60),
    )
        .prop_map(|(prefix, tokens)| {
            let mut text = prefix.to_string();
            for (token, gap) in tokens {
                text += &token;
                text += gap;
            }
            text
        });
    prop_oneof![
        1 => "(?s).{0,80}",
        3 => soup,
    ]
    .prop_map(|text| Case {
        origin: "random text".into(),
        text,
    })
}

// ---------------------------------------------------------------------------
// Regressions: the failures found by the fuzzer, or by the review its findings
// prompted, minimized.

/// Parses `text`, expecting an error; returns its message.
fn rejects(text: &str) -> String {
    match parse_module(text) {
        Ok(m) => panic!("accepted:\n{}", print_module(&m)),
        Err(e) => {
            check(text, &Stats::default()).unwrap();
            e.to_string()
        }
    }
}

/// Parses `text`, expecting a module that survives the whole property.
fn accepts(text: &str) {
    parse_module(text).unwrap_or_else(|e| panic!("{e}"));
    check(text, &Stats::default()).unwrap();
}

#[test]
fn regression_parameter_number_out_of_range() {
    // The builder allocated a table of 2^32 parameter slots and aborted.
    let message = rejects("HloModule m\nENTRY e {\n  ROOT x = f32[] parameter(4294967296)\n}\n");
    assert!(
        message.contains("parameter(4294967296) is out of range"),
        "{message}"
    );
    rejects("HloModule m\nENTRY e {\n  ROOT x = f32[] parameter(18446744073709551615)\n}\n");
}

#[test]
fn regression_constant_and_parameter_with_operands() {
    // `constant(x)` and `parameter(x)` parse as generic ops: the importer reached
    // an `unreachable!`.
    for body in ["constant(x)", "constant()", "parameter(x)", "parameter()"] {
        let text = format!(
            "HloModule m\nENTRY e {{\n  x = f32[] parameter(0)\n  ROOT y = f32[] {body}\n}}\n"
        );
        rejects(&text);
    }
}

#[test]
fn regression_reduce_combiner_on_wrong_type() {
    // A region that applies `or` to f32 was accepted as ReduceOp::Or; the
    // interpreter reached an `unreachable!`.
    let module = |t: &str, op: &str| {
        format!(
            "HloModule m\nr {{\n  a = {t}[] parameter(0)\n  b = {t}[] parameter(1)\n  ROOT c = {t}[] {op}(a, b)\n}}\n\
             ENTRY e {{\n  x = {t}[2] parameter(0)\n  i = {t}[] parameter(1)\n  ROOT y = {t}[] reduce(x, i), dimensions={{0}}, to_apply=r\n}}\n"
        )
    };
    let message = rejects(&module("f32", "or"));
    assert!(
        message.contains("reduce cannot combine f32 with or"),
        "{message}"
    );
    rejects(&module("pred", "add"));
    rejects(&module("pred", "multiply"));
    // What XLA accepts still imports: maximum and minimum of pred are or and and.
    accepts(&module("pred", "maximum"));
    accepts(&module("s32", "and"));
}

#[test]
fn regression_keyword_as_name() {
    // `ROOT ROOT = ...` parsed, and printed as `ROOT = ...`, which does not.
    rejects("HloModule m\nENTRY e {\n  ROOT ROOT = f32[] parameter(0)\n}\n");
    rejects("HloModule m\nENTRY e {\n  %ENTRY = f32[] parameter(0)\n}\n");
    rejects("HloModule m\nENTRY ENTRY {\n  x = f32[] parameter(0)\n}\n");
    accepts(
        "HloModule m\nENTRY e {\n  ROOTx = f32[] parameter(0)\n  ROOT ENTRY.1 = f32[] negate(ROOTx)\n}\n",
    );
}

#[test]
fn regression_empty_array_with_huge_dimensions() {
    // The element count saturated to 0, so the size check passed, and computing it
    // again overflowed.
    rejects("HloModule m\nENTRY e {\n  ROOT x = f32[99999999999,99999999999,0] parameter(0)\n}\n");
    accepts("HloModule m\nENTRY e {\n  ROOT x = f32[2147483647,0] parameter(0)\n}\n");
}

#[test]
fn regression_literal_nesting() {
    // `{}` stood for 2^31 - 1 empty rows, which the printer wrote out one by one.
    rejects("HloModule m\nENTRY e {\n  ROOT x = f32[2147483647,0] constant({})\n}\n");
    rejects("HloModule m\nENTRY e {\n  ROOT x = f32[2,2] constant({1, 2, 3, 4})\n}\n");
    rejects("HloModule m\nENTRY e {\n  ROOT x = f32[] constant({5})\n}\n");
    accepts("HloModule m\nENTRY e {\n  ROOT x = f32[2,0,3] constant({ {}, {} })\n}\n");
    accepts("HloModule m\nENTRY e {\n  ROOT x = f32[0,3] constant({})\n}\n");
    accepts("HloModule m\nENTRY e {\n  ROOT x = f32[1] constant(5)\n}\n");
}

#[test]
fn regression_deep_nesting() {
    // Pest guards its own stack, but the tree walks after it recursed as deep as
    // the brackets nest and overflowed the stack.
    let nested = |open: &str, inner: &str, close: &str, n: usize| {
        format!("{}{inner}{}", open.repeat(n), close.repeat(n))
    };
    let literal = nested("{", "1", "}", 5000);
    rejects(&format!(
        "HloModule m\nENTRY e {{\n  ROOT x = f32[] constant({literal})\n}}\n"
    ));
    let shape = nested("(", "f32[]", ")", 5000);
    rejects(&format!(
        "HloModule m\nENTRY e {{\n  ROOT x = {shape} parameter(0)\n}}\n"
    ));
    let attribute = nested("{", "", "}", 5000);
    rejects(&format!(
        "HloModule m\nENTRY e {{\n  ROOT x = f32[] parameter(0), a={attribute}\n}}\n"
    ));
    // Within the limit, the tree walks fit the test thread's stack.
    let attribute = nested("{", "", "}", 190);
    accepts(&format!(
        "HloModule m\nENTRY e {{\n  ROOT x = f32[] parameter(0), a={attribute}\n}}\n"
    ));
    let dims = vec!["1"; 64].join(",");
    let literal = nested("{", "1", "}", 64);
    accepts(&format!(
        "HloModule m\nENTRY e {{\n  ROOT x = f32[{dims}] constant({literal})\n}}\n"
    ));
}

#[test]
fn regression_rank_beyond_printable_nesting() {
    // A scalar literal of a rank-199 shape imported, but its printed form nests
    // past the parser's limit and did not read back.
    let dims = vec!["1"; 199].join(",");
    let message = rejects(&format!(
        "HloModule m\nENTRY e {{\n  ROOT x = f32[{dims}] constant(5)\n}}\n"
    ));
    assert!(message.contains("rank more than 64"), "{message}");
}

/// `n` computations each calling the next `calls` times with `call` (or `fusion`).
fn call_chain(n: usize, calls: usize, fusion: bool) -> String {
    let call = |callee: String| match fusion {
        true => format!("fusion(p), kind=kLoop, calls={callee}"),
        false => format!("call(p), to_apply={callee}"),
    };
    let mut text = String::from("HloModule m\n");
    for i in 0..n {
        text += &format!("c{i} {{\n  p = f32[] parameter(0)\n");
        for j in 0..calls {
            text += &format!("  r{j} = f32[] {}\n", call(format!("c{}", i + 1)));
        }
        text += &format!("  ROOT t = f32[] add(r0, r{})\n}}\n", calls - 1);
    }
    text += &format!("c{n} {{\n  p = f32[] parameter(0)\n  ROOT r = f32[] negate(p)\n}}\n");
    text + &format!(
        "ENTRY e {{\n  p = f32[] parameter(0)\n  ROOT r = f32[] {}\n}}\n",
        call("c0".into())
    )
}

#[test]
fn regression_deep_calls() {
    // The importer recursed once per level of calls or fusions and overflowed the
    // test thread's stack (in a debug build) at fewer than 200 nested fusions.
    for fusion in [false, true] {
        let message = rejects(&call_chain(1000, 1, fusion));
        assert!(message.contains("nested more than 64 deep"), "{message}");
        accepts(&call_chain(30, 1, fusion));
    }
}

#[test]
fn regression_exponential_inlining() {
    // Each of 40 computations calls the next twice: 2^40 instructions once inlined,
    // from 5 KB of text.
    let message = rejects(&call_chain(40, 2, false));
    assert!(message.contains("once its calls are inlined"), "{message}");
    accepts(&call_chain(8, 2, false));
    // A fusion's callee is imported once, however often it is called.
    accepts(&call_chain(40, 2, true).replace("f32[] add(r0, r1)", "f32[] add(r0, r0)"));
}
