//! Fuzzing the `.om` front end: the parser and the tracer. Whatever the text,
//! parsing and tracing return a module or an error, never panic and never hang; an
//! error has a span that lies in the text; a module that comes back prints, parses
//! back to the same printed text and, when its arrays are small, runs on the
//! interpreter without panicking, and its fused form compiles and runs on the CPU
//! and GPU backends, to the interpreter's numbers for generated programs.
//!
//! The GPU, on the adapter `OMELET_GPU` picks (Mesa's software Vulkan in CI),
//! checks every third module the CPU does (`support::fuzz::GpuSample` says why),
//! comparing numbers except where WGSL lets them differ (infinities and NaN;
//! `support::fuzz::checks` says which).
//! Without an adapter its check is skipped, with the reason printed once; where
//! `OMELET_REQUIRE_TOOLS` is set (`.ci/run`) that is a failure.
//!
//! Work, not time, is bounded: the tracer stops at its step and instruction
//! limits, and the parser here at `PARSE_CALLS` rule calls (pest's call limit), so
//! a superlinear path fails a case deterministically instead of slowing it.
//!
//! Inputs are mutations of the language tests, the examples and the benchmark
//! suite's scripts (bytes deleted, lines duplicated or swapped, numbers, names and
//! types replaced, punctuation, operators and brackets inserted, text truncated),
//! small programs from a generator that knows the grammar and the builtins, and
//! random text. `main`'s inputs get the shapes their types declare, symbolic
//! dimensions a small size. The seed is fixed so that CI is deterministic;
//! environment variables scale the search up:
//!
//! - `FUZZ_CASES=N`: cases per fuzz test (default 5000);
//! - `FUZZ_SEED=N`: another seed (default 0);
//! - `FUZZ_GPU_EVERY=N`: check every Nth compiled module on the GPU too (default 3;
//!   1: all of them, 0: none);
//! - `FUZZ_HANG_S=N`: a case still running after N seconds (default 300) is taken
//!   for a hang: the process prints its input and aborts, rather than never end;
//! - `FUZZ_STATS=1`: print how often each error came, to see what the inputs reach;
//! - `FUZZ_TRACE=PATH`: write each input to `PATH.TEST` before running it, so that a
//!   crash that kills the process (a stack overflow) leaves its input behind.
//!
//! A failure is shrunk and reported with its text. The `regression_*` tests below
//! hold the minimized inputs of the bugs found so far, by the fuzzer or by reading
//! the code.

mod support;

use support::fuzz::{
    Backend, GpuSample, backends_match, delete, duplicate_line, position, swap_lines,
    total_elements,
};

use std::cell::RefCell;
use std::io::Write;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::hlo::{ArrayShape, ElementType, Module, Number, Scalar, print_module};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_compiler::trace::{KnownShapes, Tracer};
use omelet_compiler::{CompileError, ErrorKind};
use omelet_grammar::omelet::{Dim, Item, Program, parse};
use omelet_runtime::{Array, interp};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;

/// Modules whose instructions hold more elements than this in all are traced but
/// not run: the interpreter's time and memory grow with the arrays.
const MAX_INTERPRETED_ELEMENTS: usize = 100_000;

/// Modules with more instructions than this are not printed and reparsed: it would
/// take longer than the rest of the case.
const MAX_ROUND_TRIP_INSTRUCTIONS: usize = 5_000;

// ---------------------------------------------------------------------------
// The property

#[derive(Default)]
struct Stats {
    cases: AtomicUsize,
    parsed: AtomicUsize,
    traced: AtomicUsize,
    interpreted: AtomicUsize,
    /// How many fused modules the CPU backend ran, how many the GPU backend ran,
    /// and to how many of those it had to give the interpreter's numbers (see
    /// `support::fuzz::checks` for the others).
    on_cpu: AtomicUsize,
    on_gpu: AtomicUsize,
    gpu_compared: AtomicUsize,
    /// Which modules the GPU checks.
    gpu: GpuSample,
    /// Whether the backends' numbers must match the interpreter's (set for
    /// generated programs; mutated constants make programs ill-conditioned, so
    /// for mutations the backends only have to compile and run them).
    compare_numbers: bool,
    /// With `FUZZ_STATS` set: how often each error message (digits dropped) came.
    errors: Mutex<std::collections::BTreeMap<String, usize>>,
}

impl Stats {
    fn error(&self, e: &CompileError) {
        if std::env::var_os("FUZZ_STATS").is_some() {
            let message: String = e.message.chars().filter(|c| !c.is_ascii_digit()).collect();
            let key = format!(
                "{} {}",
                e.kind.code(),
                message.chars().take(70).collect::<String>()
            );
            *self.errors.lock().unwrap().entry(key).or_default() += 1;
        }
    }
}

/// How `main`'s inputs are made known to the tracer.
#[derive(Clone, Copy, Debug)]
enum Binding {
    /// Concrete types as input shapes, symbolic dimensions bound to `size`.
    Declared { size: usize },
    /// Every input given as a file, symbolic dimensions taking `size`.
    Files { size: usize },
    /// Symbolic dimensions bound, no input files.
    DimsOnly { size: usize },
}

/// One input: its text, how `main`'s inputs are bound, and a seed for the
/// interpreter's inputs.
#[derive(Clone)]
struct Case {
    origin: String,
    text: String,
    binding: Binding,
    data_seed: u64,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({:?}):\n{:?}\n{}",
            self.origin, self.binding, self.text, self.text
        )
    }
}

/// Checks one input; `Ok` when it is rejected with a well-placed error or traces
/// to a module that survives printing, reparsing and the interpreter.
fn check(case: &Case, stats: &Stats) -> Result<(), TestCaseError> {
    stats.cases.fetch_add(1, Ordering::Relaxed);
    let text = &case.text;
    trace_input(text);
    let _watch = Watch::start(case);
    let traced = parse_bounded(text)
        .and_then(|program| Tracer::trace(&program, "fuzz", &known_shapes(&program, case.binding)));
    if !matches!(&traced, Err(e) if e.kind == ErrorKind::Syntax) {
        stats.parsed.fetch_add(1, Ordering::Relaxed);
    }
    let module = match traced {
        Ok(module) => module,
        Err(e) => {
            stats.error(&e);
            return check_error(text, &e);
        }
    };
    stats.traced.fetch_add(1, Ordering::Relaxed);
    let instructions: usize = module
        .computations
        .iter()
        .map(|c| c.instructions.len())
        .sum();
    if instructions <= MAX_ROUND_TRIP_INSTRUCTIONS {
        let printed = print_module(&module);
        let reparsed = parse_module(&printed).map_err(|e| {
            TestCaseError::fail(format!("the printed module does not parse: {e}\n{printed}"))
        })?;
        let again = print_module(&reparsed);
        prop_assert_eq!(&again, &printed, "print(parse(print(m))) != print(m)");
    }
    // The optimizer takes every traced module (the fixtures check its numbers).
    let fused = (instructions <= MAX_ROUND_TRIP_INSTRUCTIONS)
        .then(|| compile(module.clone(), Stage::Fused).module);
    if let Some(fused) = &fused {
        let printed = print_module(fused);
        parse_module(&printed).map_err(|e| {
            TestCaseError::fail(format!("the fused module does not parse: {e}\n{printed}"))
        })?;
    }
    if total_elements(&module) <= MAX_INTERPRETED_ELEMENTS {
        stats.interpreted.fetch_add(1, Ordering::Relaxed);
        let inputs = inputs(&module, case.data_seed);
        let mut results = Vec::new();
        for module in std::iter::once(&module).chain(&fused) {
            let result = interp::run(module, &inputs);
            prop_assert!(
                result.is_ok(),
                "the interpreter rejects a traced or fused module: {:?}",
                result.err()
            );
            results.extend(result);
        }
        // The CPU and GPU backends run the fused module to the interpreter's
        // numbers.
        if let Some(fused) = &fused {
            let ran = match backends_match(
                &module,
                fused,
                &inputs,
                &results[0],
                stats.compare_numbers,
                &stats.gpu,
            ) {
                Ok(ran) => ran,
                // A type or op that a backend does not take yet (the language has
                // every XLA type; the backends grow into them): refused before
                // anything runs, with nothing to compare.
                Err(e) if refused_as_unsupported(&e) => return Ok(()),
                Err(e) => return Err(TestCaseError::fail(e)),
            };
            stats.on_cpu.fetch_add(1, Ordering::Relaxed);
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

/// Whether a backend's failure is `plan::check_supported`'s refusal of a type or
/// an op it does not compile yet.
fn refused_as_unsupported(error: &str) -> bool {
    ["cpu", "gpu"].iter().any(|b| {
        error.starts_with(&format!(
            "the {b} backend fails: the {b} backend does not support "
        ))
    })
}

/// An error must say where: a span in the text, on character boundaries (the CLI
/// renders it under the source line).
fn check_error(text: &str, e: &CompileError) -> Result<(), TestCaseError> {
    let Some(span) = e.span else {
        return Err(TestCaseError::fail(format!(
            "error without a location: {e}"
        )));
    };
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
    Ok(())
}

/// The most rule calls one parse may make here: every input of these tests
/// parses in a few million, while a parse gone exponential, as `x[x[...]]` once
/// was, reaches it in well under a second. Pest's limit is global: it holds for
/// every parse in this test binary, and these tests parse through here.
const PARSE_CALLS: usize = 20_000_000;

/// Parses `text` within `PARSE_CALLS`; past it, the parse fails with pest's
/// call-limit error.
fn parse_bounded(text: &str) -> Result<Program, CompileError> {
    static LIMIT: Once = Once::new();
    LIMIT.call_once(|| pest::set_call_limit(std::num::NonZeroUsize::new(PARSE_CALLS)));
    parse(text).map_err(CompileError::from)
}

/// How long a case may run before the watchdog takes it for a hang.
fn hang_time() -> Duration {
    Duration::from_secs(support::fuzz::env("FUZZ_HANG_S", 300))
}

/// The shapes the tracer is told for `main`'s inputs, as `case.binding` says.
fn known_shapes(program: &Program, binding: Binding) -> KnownShapes {
    let mut known = KnownShapes::default();
    let Some(main) = program.items.iter().find_map(|item| match item {
        Item::Fn(f) if f.name.name == "main" => Some(f),
        _ => None,
    }) else {
        return known;
    };
    let (size, files_for_all) = match binding {
        Binding::Declared { size } => (size, false),
        Binding::Files { size } => (size, true),
        Binding::DimsOnly { size } => (size, false),
    };
    for param in &main.params {
        let Some(ty) = &param.ty else { continue };
        let mut concrete = true;
        let dims: Vec<usize> = ty
            .dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n, _) => usize::try_from(*n).unwrap_or(usize::MAX),
                Dim::Symbol(s) => {
                    concrete = false;
                    *known.dims.entry(s.name.clone()).or_insert(size)
                }
            })
            .collect();
        let as_file = match binding {
            Binding::DimsOnly { .. } => false,
            _ => concrete || files_for_all,
        };
        if as_file {
            let element = omelet_compiler::trace::element_of(ty.dtype);
            known
                .inputs
                .insert(param.name.name.clone(), ArrayShape::new(element, dims));
        }
    }
    known
}

/// Small inputs: all zeros for seed 0, else small pseudo-random values, zeros and
/// negatives included.
fn inputs(module: &Module, seed: u64) -> Vec<Array> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        if seed == 0 {
            return 0i32;
        }
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 7) as i32 - 3
    };
    module
        .parameter_shapes()
        .iter()
        .filter_map(|s| s.as_array())
        .map(|shape| {
            let dims = IxDyn(&shape.dims);
            let n = shape.element_count();
            match shape.element {
                ElementType::F32 => Array::F32(
                    ArrayD::from_shape_vec(dims, (0..n).map(|_| next() as f32 * 0.5).collect())
                        .unwrap(),
                ),
                ElementType::S32 => Array::S32(
                    ArrayD::from_shape_vec(dims, (0..n).map(|_| next()).collect()).unwrap(),
                ),
                ElementType::Pred => Array::Pred(
                    ArrayD::from_shape_vec(dims, (0..n).map(|_| next() > 0).collect()).unwrap(),
                ),
                // The other types take the same integers, converted as XLA would.
                other => {
                    let bytes: Vec<u8> = (0..n)
                        .flat_map(|_| {
                            let bits = Scalar::from_number(other, Number::Int(next() as i128)).bits;
                            bits.to_le_bytes()[..other.byte_size()].to_vec()
                        })
                        .collect();
                    Array::from_bytes(shape, &bytes)
                }
            }
        })
        .collect()
}

/// With `FUZZ_TRACE` set, writes the input to `FUZZ_TRACE.TEST` (one file per test)
/// before it runs.
fn trace_input(text: &str) {
    thread_local! {
        static TRACE: RefCell<Option<std::fs::File>> = RefCell::new(
            std::env::var_os("FUZZ_TRACE").map(|path| {
                let mut path = std::path::PathBuf::from(path).into_os_string();
                path.push(".");
                path.push(std::thread::current().name().unwrap_or("main"));
                std::fs::File::create(path).expect("FUZZ_TRACE is writable")
            }),
        );
    }
    TRACE.with_borrow_mut(|file| {
        if let Some(file) = file {
            use std::io::{Seek, SeekFrom};
            file.set_len(0).unwrap();
            file.seek(SeekFrom::Start(0)).unwrap();
            file.write_all(text.as_bytes()).unwrap();
        }
    });
}

/// The cases running now, by thread: when one runs ten times past the timeout, a
/// watchdog prints its input and aborts the process (a hang would never end, and
/// proptest cannot interrupt a case).
static RUNNING: Mutex<Vec<(std::thread::ThreadId, Instant, String)>> = Mutex::new(Vec::new());

struct Watch;

impl Watch {
    fn start(case: &Case) -> Watch {
        static WATCHDOG: Once = Once::new();
        WATCHDOG.call_once(|| {
            std::thread::spawn(|| {
                loop {
                    std::thread::sleep(Duration::from_millis(200));
                    let running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some((_, start, input)) =
                        running.iter().find(|(_, s, _)| s.elapsed() > hang_time())
                    {
                        // Past the harness's capture, which an abort would lose.
                        let _ = writeln!(
                            std::io::stderr(),
                            "fuzz_om: a case has run for {:.0}s, aborting. Its input:\n{input}",
                            start.elapsed().as_secs_f64()
                        );
                        std::process::abort();
                    }
                }
            });
        });
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        running.push((
            std::thread::current().id(),
            Instant::now(),
            format!("{case:?}"),
        ));
        Watch
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let me = std::thread::current().id();
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(t, _, _)| *t != me);
    }
}

/// Runs `check` on `FUZZ_CASES` inputs from `strategy` and reports how many ran.
fn fuzz(name: &str, strategy: impl Strategy<Value = Case>, compare_numbers: bool) {
    let (mut runner, seed) = support::fuzz::runner(5_000);
    let stats = Stats {
        compare_numbers,
        ..Stats::default()
    };
    let start = Instant::now();
    let (result, last_panic) =
        support::fuzz::quietly(|| runner.run(&strategy, |case| check(&case, &stats)));
    // Straight to stderr, past the test harness's capture, so that the count shows
    // in a normal `cargo test` run.
    let _ = writeln!(
        std::io::stderr(),
        "fuzz_om {name}: {} cases ({} parsed, {} traced, {} interpreted, {} compiled for cpu, {} for gpu ({} compared)), seed {seed}, {:.1}s",
        stats.cases.load(Ordering::Relaxed),
        stats.parsed.load(Ordering::Relaxed),
        stats.traced.load(Ordering::Relaxed),
        stats.interpreted.load(Ordering::Relaxed),
        stats.on_cpu.load(Ordering::Relaxed),
        stats.on_gpu.load(Ordering::Relaxed),
        stats.gpu_compared.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
    let mut errors: Vec<_> = stats.errors.into_inner().unwrap().into_iter().collect();
    errors.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (message, n) in errors.iter().take(40) {
        let _ = writeln!(std::io::stderr(), "{n:>8} {message}");
    }
    if let Err(e) = result {
        let place = last_panic.unwrap_or_default();
        panic!("fuzz_om {name} (FUZZ_SEED={seed}): {e}\nThe last panic: {place}");
    }
}

#[test]
fn fuzz_mutated_scripts() {
    fuzz("mutated scripts", mutated_script(), false);
}

#[test]
fn fuzz_generated_programs() {
    fuzz("generated programs", generated_program(), true);
}

#[test]
fn fuzz_random_text() {
    fuzz("random text", random_text(), false);
}

#[test]
fn the_language_tests_trace() {
    // The unmutated scripts are the baseline of the mutations: they trace.
    for (name, text) in scripts() {
        let case = Case {
            origin: name.clone(),
            text: text.clone(),
            binding: Binding::Declared { size: 3 },
            data_seed: 0,
        };
        check(&case, &Stats::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

// ---------------------------------------------------------------------------
// Vocabulary

/// Every builtin of LANGUAGE.md.
const BUILTINS: &[&str] = &[
    "neg",
    "abs",
    "sign",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sqrt",
    "rsqrt",
    "tanh",
    "sigmoid",
    "relu",
    "sin",
    "cos",
    "erf",
    "floor",
    "ceil",
    "round",
    "square",
    "reciprocal",
    "maximum",
    "minimum",
    "pow",
    "where",
    "clip",
    "sum",
    "mean",
    "max",
    "min",
    "prod",
    "softmax",
    "log_softmax",
    "logsumexp",
    "gelu",
    "silu",
    "layernorm",
    "rmsnorm",
    "reshape",
    "transpose",
    "broadcast_to",
    "expand_dims",
    "squeeze",
    "concat",
    "zeros",
    "ones",
    "full",
    "arange",
    "eye",
    "f32",
    "i32",
    "bool",
    "shape",
];

const KEYWORDS: &[&str] = &[
    "fn", "let", "const", "return", "for", "in", "true", "false", "None", "inf", "nan", "T",
];

/// Parameter and keyword-argument names of the builtins, and common script names.
const NAMES: &[&str] = &[
    "x",
    "y",
    "a",
    "b",
    "w",
    "v",
    "cond",
    "lo",
    "hi",
    "axis",
    "keepdims",
    "approximate",
    "gamma",
    "beta",
    "eps",
    "shape",
    "perm",
    "arrays",
    "value",
    "n",
    "main",
    "B",
    "N",
    "T",
    "i",
    "_",
];

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1e30",
    "99999999999999999999",
    "1.5",
    "nan",
    "1",
    "2",
    "3",
    "-3",
    "0.5",
    "1e-5",
    "inf",
    "100000",
    "65536",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999",
    "1e309",
    "0.0",
];

/// Punctuation and operators to insert.
const PUNCTUATION: &[&str] = &[
    "(", ")", "[", "]", "{", "}", ",", ";", ":", "::", "..", ".", ".T", "@", "**", "!", "-", "==",
    "=", "+", "*", "/", "<", ">=", "!=", "->", "#", " ", "\n",
];

/// Long runs of one fragment: deep nesting, long operator chains.
const REPEATED: &[&str] = &[
    "(",
    "[",
    "{",
    "-",
    "!",
    "+1",
    "*x",
    "**2",
    "** ",
    ".T",
    "[0]",
    "[None]",
    "(x)",
    "x,",
    "f(",
    "-(",
    "let a = a + 1; ",
    "a",
    "9",
    "[a, a]",
    "1, ",
    "fn f(x) { x }\n",
];

/// Brackets to nest an expression in: bracket nesting and expression depth.
const BRACKETS: &[(&str, &str)] = &[
    ("(", ")"),
    ("[", "]"),
    ("(-", ")"),
    ("exp(", ")"),
    ("x[", "]"),
    ("x[1:", "]"),
    ("[0, ", "][0]"),
    ("(", ",)[0]"),
    ("f(a=", ")"),
    ("2 ** (", ")"),
    ("{ ", " }"),
];

// ---------------------------------------------------------------------------
// Mutated scripts

fn scripts() -> &'static [(String, String)] {
    static SCRIPTS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    SCRIPTS.get_or_init(|| {
        let root = support::root();
        let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("tests/om"))
            .expect("tests/om exists")
            .map(|e| e.expect("readable").path().join("script.om"))
            .filter(|p| p.exists())
            .chain(
                ["examples", "benches/suite"]
                    .iter()
                    .flat_map(|d| std::fs::read_dir(root.join(d)).expect("the folder exists"))
                    .map(|e| e.expect("readable").path())
                    .filter(|p| p.extension().is_some_and(|e| e == "om")),
            )
            .collect();
        paths.sort();
        assert!(paths.len() >= 50, "the language tests are there");
        paths
            .into_iter()
            .map(|p| {
                let name = p.strip_prefix(&root).unwrap().display().to_string();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect()
    })
}

#[derive(Clone, Debug)]
enum Word {
    Vocabulary(&'static str),
    /// Another name of the same text: a parameter, a function, a local.
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
    ReplaceType(Index, String),
    Insert(Index, String),
    /// Puts `n` brackets (`open`, `close`) around the text between two positions.
    Nest(Index, Index, (&'static str, &'static str), usize),
    Truncate(Index),
}

fn word() -> impl Strategy<Value = Word> {
    prop_oneof![
        3 => select(BUILTINS).prop_map(Word::Vocabulary),
        2 => select(KEYWORDS).prop_map(Word::Vocabulary),
        2 => select(NAMES).prop_map(Word::Vocabulary),
        3 => any::<Index>().prop_map(Word::FromText),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(NUMBERS).prop_map(str::to_string),
        1 => (0u32..20).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
    ]
}

/// A type annotation: mostly valid dtypes, small or symbolic dimensions, now and
/// then a huge or odd one.
fn type_text() -> impl Strategy<Value = String> {
    let dtype = select(&["f32", "f32", "i32", "bool", "f64", "u8"][..]);
    let dim = select(
        &[
            "1",
            "2",
            "3",
            "3",
            "0",
            "B",
            "N",
            "T",
            "784",
            "65536",
            "99999999999",
            "99999999999999999999",
            "-1",
            "",
        ][..],
    );
    (
        dtype,
        prop_oneof![1 => Just(None), 6 => vec(dim, 0..5).prop_map(Some)],
    )
        .prop_map(|(dtype, dims)| match dims {
            None => dtype.to_string(),
            Some(dims) => format!("{dtype}[{}]", dims.join(", ")),
        })
}

fn punctuation() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => vec(select(PUNCTUATION), 1..4).prop_map(|p| p.concat()),
        1 => (select(REPEATED), prop_oneof![3 => 1usize..300, 1 => 1usize..5_000])
            .prop_map(|(p, n)| p.repeat(n)),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<Index>(), 1usize..100).prop_map(|(at, n)| Mutation::Delete(at, n)),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        5 => (any::<Index>(), number()).prop_map(|(at, n)| Mutation::ReplaceNumber(at, n)),
        6 => (any::<Index>(), word()).prop_map(|(at, w)| Mutation::ReplaceWord(at, w)),
        3 => (any::<Index>(), type_text()).prop_map(|(at, t)| Mutation::ReplaceType(at, t)),
        3 => (any::<Index>(), punctuation()).prop_map(|(at, p)| Mutation::Insert(at, p)),
        1 => (any::<Index>(), any::<Index>(), select(BRACKETS), 1usize..300)
            .prop_map(|(a, b, brackets, n)| Mutation::Nest(a, b, brackets, n)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn binding() -> impl Strategy<Value = Binding> {
    let size = select(&[3usize, 3, 3, 1, 2, 4, 0][..]);
    prop_oneof![
        4 => size.clone().prop_map(|size| Binding::Declared { size }),
        1 => size.clone().prop_map(|size| Binding::Files { size }),
        1 => size.prop_map(|size| Binding::DimsOnly { size }),
    ]
}

fn data_seed() -> impl Strategy<Value = u64> {
    prop_oneof![1 => Just(0u64), 2 => 1u64..1000]
}

fn mutated_script() -> impl Strategy<Value = Case> {
    (
        any::<Index>(),
        prop_oneof![3 => vec(mutation(), 1..2), 2 => vec(mutation(), 2..6)],
        binding(),
        data_seed(),
    )
        .prop_map(|(script, mutations, binding, data_seed)| {
            let (name, text) = &scripts()[script.index(scripts().len())];
            let mut text = text.clone();
            for m in &mutations {
                mutate(&mut text, m);
            }
            Case {
                origin: format!("{name} with {mutations:?}"),
                text,
                binding,
                data_seed,
            }
        })
}

fn mutate(text: &mut String, mutation: &Mutation) {
    let tokens = tokens(text);
    let pick = |ranges: &[Range<usize>], at: &Index| ranges[at.index(ranges.len())].clone();
    match mutation {
        Mutation::Delete(at, len) => delete(text, at, *len),
        Mutation::DuplicateLine(at) => duplicate_line(text, at),
        Mutation::SwapLines(a, b) => swap_lines(text, a, b),
        Mutation::ReplaceNumber(at, number) => {
            if !tokens.numbers.is_empty() {
                text.replace_range(pick(&tokens.numbers, at), number);
            }
        }
        Mutation::ReplaceWord(at, word) => {
            if !tokens.words.is_empty() {
                let with = match word {
                    Word::Vocabulary(w) => w.to_string(),
                    Word::FromText(i) => text[pick(&tokens.words, i)].to_string(),
                };
                text.replace_range(pick(&tokens.words, at), &with);
            }
        }
        Mutation::ReplaceType(at, ty) => {
            if !tokens.types.is_empty() {
                text.replace_range(pick(&tokens.types, at), ty);
            }
        }
        Mutation::Insert(at, punctuation) => {
            let at = position(text, at);
            text.insert_str(at, punctuation);
        }
        Mutation::Nest(a, b, (open, close), n) => {
            // Mostly around a word, so that the brackets hold an expression.
            let (a, b) = if tokens.words.is_empty() {
                let (a, b) = (position(text, a), position(text, b));
                (a.min(b), a.max(b))
            } else {
                let (a, b) = (pick(&tokens.words, a), pick(&tokens.words, b));
                (a.start.min(b.start), a.end.max(b.end))
            };
            text.insert_str(b, &close.repeat(*n));
            text.insert_str(a, &open.repeat(*n));
        }
        Mutation::Truncate(at) => {
            let at = position(text, at);
            text.truncate(at);
        }
    }
}

/// Where a script's numbers, names and type annotations lie.
struct Tokens {
    numbers: Vec<Range<usize>>,
    words: Vec<Range<usize>>,
    /// `f32[...]`, `i32`, `bool[...]`: a dtype and its dimensions, if any.
    types: Vec<Range<usize>>,
}

fn tokens(text: &str) -> Tokens {
    let bytes = text.as_bytes();
    let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut tokens = Tokens {
        numbers: Vec::new(),
        words: Vec::new(),
        types: Vec::new(),
    };
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if bytes[i].is_ascii_digit() {
            // 12, 1.5, 1e-5, 2.0e3; not the `..` of a range.
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'-' || bytes[j] == b'+') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    i = j;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            tokens.numbers.push(start..i);
        } else if word_byte(bytes[i]) {
            while i < bytes.len() && word_byte(bytes[i]) {
                i += 1;
            }
            let word = &text[start..i];
            tokens.words.push(start..i);
            if matches!(word, "f32" | "i32" | "bool") && start > 0 {
                let before = text[..start].trim_end();
                let after = &text[i..];
                // A type follows `:` or `->`; `bool(x)` is a call.
                if before.ends_with(':') || before.ends_with("->") {
                    let end = match after.strip_prefix('[') {
                        Some(rest) => rest.find(']').map_or(i, |j| i + j + 2),
                        None => i,
                    };
                    tokens.types.push(start..end);
                }
            }
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    tokens
}

// ---------------------------------------------------------------------------
// Generated programs
//
// The generator reads its decisions from a list of random numbers, so that
// proptest shrinks a failing program by shrinking the list: fewer decisions, each
// towards 0, which is always the simplest choice.

fn generated_program() -> impl Strategy<Value = Case> {
    (vec(any::<u32>(), 0..400), binding(), data_seed()).prop_map(|(choices, binding, data_seed)| {
        Case {
            origin: "a generated program".into(),
            text: Generator::new(&choices).program(),
            binding,
            data_seed,
        }
    })
}

struct Generator<'a> {
    choices: &'a [u32],
    next: usize,
    /// Names in scope in the function being written.
    names: Vec<String>,
    /// Helper functions written so far, with their parameter names.
    helpers: Vec<(String, Vec<String>)>,
    consts: Vec<String>,
    /// Loop variables in scope.
    loop_vars: Vec<String>,
    fresh: usize,
}

const PARAM_TYPES: &[&str] = &[
    "f32[3]",
    "f32[2, 3]",
    "f32[3, 3]",
    "f32[B, 3]",
    "f32",
    "f32[3, 2]",
    "f32[2, 3, 4]",
    "i32[3]",
    "bool[3]",
    "f32[B]",
    "i32[2, 3]",
    "bool[2, 3]",
    "f32[N, B]",
    "f32[1, 3]",
    "f32[0, 3]",
    "i32",
];

const UNARY_MATH: &[&str] = &[
    "neg",
    "abs",
    "sign",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sqrt",
    "rsqrt",
    "tanh",
    "sigmoid",
    "relu",
    "sin",
    "cos",
    "erf",
    "floor",
    "ceil",
    "round",
    "square",
    "reciprocal",
    "silu",
    "f32",
    "i32",
    "bool",
];

const BINARY_OPS: &[&str] = &[
    "+", "-", "*", "/", "@", "**", "==", "!=", "<", "<=", ">", ">=",
];

const LITERALS: &[&str] = &["1", "2", "0.5", "0", "3", "-1", "1.5", "true"];

/// Literals and names that are mostly errors, or edge values.
const ODD_LEAVES: &[&str] = &[
    "1e-5",
    "false",
    "1e30",
    "nan",
    "inf",
    "2147483648",
    "-2147483648",
    "B",
    "N",
    "None",
    "T",
    "q",
    "main",
    "sum",
];

const AXES: &[&str] = &[
    "-1", "0", "1", "[0, 1]", "[]", "-2", "2", "None", "[-1]", "3", "[0, 0]", "1.0", "x",
];

const DIMS: &[&str] = &[
    "3",
    "2",
    "1",
    "-1",
    "0",
    "B",
    "6",
    "N",
    "4",
    "99999999999",
    "-2",
    "2147483647",
];

impl<'a> Generator<'a> {
    fn new(choices: &'a [u32]) -> Generator<'a> {
        Generator {
            choices,
            next: 0,
            names: Vec::new(),
            helpers: Vec::new(),
            consts: Vec::new(),
            loop_vars: Vec::new(),
            fresh: 0,
        }
    }

    /// A number in `0..n`: 0 once the decisions run out.
    fn pick(&mut self, n: usize) -> usize {
        let c = self.choices.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        c as usize % n.max(1)
    }

    fn one<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.pick(items.len())]
    }

    /// True one time in `n`.
    fn chance(&mut self, n: usize) -> bool {
        self.pick(n) == n - 1
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn program(&mut self) -> String {
        let mut text = String::new();
        if self.chance(3) {
            let name = self.fresh("C");
            let value = self.one(&["2", "0.5", "1e-5", "3", "-1", "true", "2 * 3", "B"]);
            text += &format!("const {name} = {value};\n");
            self.consts.push(name);
        }
        for _ in 0..self.pick(3) {
            text += &self.helper();
        }
        let params: Vec<String> = (0..1 + self.pick(3))
            .map(|i| {
                let ty = self.one(PARAM_TYPES);
                format!("{}: {ty}", ["x", "y", "z"][i])
            })
            .collect();
        self.names = ["x", "y", "z"][..params.len()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        text += &format!("fn main({}) {{\n", params.join(", "));
        text += &self.body(1);
        text += "}\n";
        text
    }

    /// A helper function over untyped (now and then typed) parameters.
    fn helper(&mut self) -> String {
        let name = self.fresh("h");
        let params: Vec<String> = (0..1 + self.pick(3)).map(|i| format!("p{i}")).collect();
        self.names = params.clone();
        let typed: Vec<String> = params
            .iter()
            .map(|p| {
                if self.chance(4) {
                    format!("{p}: {}", self.one(PARAM_TYPES))
                } else {
                    p.clone()
                }
            })
            .collect();
        let body = self.body(1);
        self.helpers.push((name.clone(), params));
        format!("fn {name}({}) {{\n{body}}}\n", typed.join(", "))
    }

    /// Statements, then a trailing expression or `return`.
    fn body(&mut self, depth: usize) -> String {
        let indent = "    ".repeat(depth);
        let mut text = String::new();
        for _ in 0..self.pick(5) {
            text += &indent;
            text += &self.statement(depth);
            text += "\n";
        }
        text += &indent;
        text += &match self.pick(4) {
            0 | 1 => self.expr(3),
            2 => format!("return {};", self.expr(3)),
            _ => format!("({}, {})", self.expr(2), self.expr(2)),
        };
        text += "\n";
        text
    }

    fn statement(&mut self, depth: usize) -> String {
        match self.pick(6) {
            0..=2 => {
                let value = self.expr(3);
                let name = if self.chance(3) && !self.names.is_empty() {
                    // Shadowing.
                    let i = self.pick(self.names.len());
                    self.names[i].clone()
                } else {
                    self.fresh("t")
                };
                self.names.push(name.clone());
                format!("let {name} = {value};")
            }
            3 => {
                let (a, b) = (self.fresh("t"), self.fresh("t"));
                let value = match self.pick(3) {
                    0 => format!("({}, {})", self.expr(2), self.expr(2)),
                    1 => format!("shape({})", self.expr(1)),
                    _ => self.expr(2),
                };
                self.names.push(a.clone());
                self.names.push(b.clone());
                format!("let ({a}, {b}) = {value};")
            }
            4 if depth < 3 => {
                let var = self.fresh("i");
                let start = self.one(&["0", "1", "0", "-1", "B", "3"]);
                let end = self.one(&["3", "2", "B", "0", "4", "shape(x)[0]", "1.5"]);
                self.loop_vars.push(var.clone());
                let acc = if self.names.is_empty() {
                    "0".to_string()
                } else {
                    let i = self.pick(self.names.len());
                    self.names[i].clone()
                };
                let body = format!(
                    "{}let {acc} = {};\n{}",
                    "    ".repeat(depth + 1),
                    self.expr(2),
                    self.body_statements(depth + 1)
                );
                self.loop_vars.pop();
                format!(
                    "for {var} in {start}..{end} {{\n{body}{}}}",
                    "    ".repeat(depth)
                )
            }
            _ => {
                let value = self.expr(3);
                let name = self.fresh("t");
                self.names.push(name.clone());
                format!("let {name} = {value};")
            }
        }
    }

    fn body_statements(&mut self, depth: usize) -> String {
        let mut text = String::new();
        for _ in 0..self.pick(3) {
            text += &"    ".repeat(depth);
            text += &self.statement(depth);
            text += "\n";
        }
        text
    }

    fn leaf(&mut self) -> String {
        match self.pick(12) {
            0..=5 if !self.names.is_empty() => {
                let i = self.pick(self.names.len());
                self.names[i].clone()
            }
            6 if !self.loop_vars.is_empty() => {
                let i = self.pick(self.loop_vars.len());
                self.loop_vars[i].clone()
            }
            7 if !self.consts.is_empty() => {
                let i = self.pick(self.consts.len());
                self.consts[i].clone()
            }
            8 => self.one(ODD_LEAVES).to_string(),
            _ => self.one(LITERALS).to_string(),
        }
    }

    fn axis(&mut self) -> &'static str {
        self.one(AXES)
    }

    fn dims(&mut self) -> String {
        let dims: Vec<&str> = (0..self.pick(4)).map(|_| self.one(DIMS)).collect();
        format!("[{}]", dims.join(", "))
    }

    /// Keyword arguments `name=value` for the builtin's optional parameters, now
    /// and then an unknown one.
    fn kwargs(&mut self, names: &[&str]) -> String {
        let mut text = String::new();
        // Now and then positional, in order, up to the first one left out.
        let mut positional = self.chance(4);
        for &name in names {
            if self.chance(2) {
                let value = match name {
                    "axis" => self.axis().to_string(),
                    "keepdims" | "approximate" => self.one(&["true", "false", "1"]).to_string(),
                    "eps" => self.one(&["1e-5", "0", "0.1", "-1", "true"]).to_string(),
                    _ => self.leaf(),
                };
                if positional {
                    text += &format!(", {value}");
                } else {
                    text += &format!(", {name}={value}");
                }
            } else {
                positional = false;
            }
        }
        if self.chance(12) {
            let name = self.one(&["axis", "x", "foo", "keepdims", "eps", "shape"]);
            text += &format!(", {name}={}", self.leaf());
        }
        text
    }

    fn expr(&mut self, depth: usize) -> String {
        if depth == 0 || self.chance(5) {
            return self.leaf();
        }
        let d = depth - 1;
        match self.pick(19) {
            0 => self.leaf(),
            // Comparisons do not chain: unbracketed, they are mostly syntax errors.
            1 => {
                let ops = if self.chance(8) {
                    BINARY_OPS
                } else {
                    &BINARY_OPS[..6]
                };
                format!("{} {} {}", self.expr(d), self.one(ops), self.expr(d))
            }
            2 => format!(
                "({} {} {})",
                self.expr(d),
                self.one(BINARY_OPS),
                self.expr(d)
            ),
            3 => format!("{}{}", self.one(&["-", "!", "--", "-!"]), self.expr(d)),
            4 => format!("{}({})", self.one(UNARY_MATH), self.expr(d)),
            5 => {
                let f = self.one(&["maximum", "minimum", "pow"]);
                format!("{f}({}, {})", self.expr(d), self.expr(d))
            }
            6 => match self.pick(2) {
                0 => format!(
                    "where({} {} {}, {}, {})",
                    self.expr(d),
                    self.one(&["<", ">", "==", ">="]),
                    self.leaf(),
                    self.expr(d),
                    self.expr(d)
                ),
                _ => format!("clip({}, {}, {})", self.expr(d), self.leaf(), self.leaf()),
            },
            7 => {
                let f = self.one(&["sum", "mean", "max", "min", "prod"]);
                let x = self.expr(d);
                format!("{f}({x}{})", self.kwargs(&["axis", "keepdims"]))
            }
            8 => match self.pick(4) {
                0 => {
                    let f = self.one(&["softmax", "log_softmax", "logsumexp"]);
                    let x = self.expr(d);
                    format!("{f}({x}{})", self.kwargs(&["axis"]))
                }
                1 => {
                    let x = self.expr(d);
                    format!("gelu({x}{})", self.kwargs(&["approximate"]))
                }
                2 => {
                    let (x, g, b) = (self.expr(d), self.leaf(), self.leaf());
                    format!("layernorm({x}, {g}, {b}{})", self.kwargs(&["eps"]))
                }
                _ => {
                    let (x, g) = (self.expr(d), self.leaf());
                    format!("rmsnorm({x}, {g}{})", self.kwargs(&["eps"]))
                }
            },
            9 => match self.pick(6) {
                0 => format!("reshape({}, {})", self.expr(d), self.dims()),
                1 => format!("transpose({})", self.expr(d)),
                2 => {
                    let x = self.expr(d);
                    let perm = self.one(&["[1, 0]", "[0]", "[0, 2, 1]", "[2, 1, 0]", "[0, 0]"]);
                    format!("transpose({x}, {perm})")
                }
                3 => format!("broadcast_to({}, {})", self.expr(d), self.dims()),
                4 => {
                    let f = self.one(&["expand_dims", "squeeze"]);
                    format!("{f}({}, {})", self.expr(d), self.axis())
                }
                _ => {
                    let parts: Vec<String> = (0..self.pick(3) + 1).map(|_| self.expr(d)).collect();
                    format!("concat([{}]{})", parts.join(", "), self.kwargs(&["axis"]))
                }
            },
            10 => match self.pick(5) {
                0 => format!("zeros({})", self.dims()),
                1 => format!("ones({})", self.dims()),
                2 => format!("full({}, {})", self.dims(), self.leaf()),
                3 => format!("arange({})", self.one(DIMS)),
                _ => format!("eye({})", self.one(DIMS)),
            },
            11 => match self.pick(2) {
                0 => format!(
                    "shape({})[{}]",
                    self.expr(d),
                    self.one(&["0", "-1", "1", "5"])
                ),
                _ => format!("shape({})", self.expr(d)),
            },
            12 => {
                let items: Vec<String> = (0..1 + self.pick(3)).map(|_| self.index_item()).collect();
                format!("{}[{}]", self.expr(d), items.join(", "))
            }
            13 => format!("{}.T", self.leaf()),
            14 if !self.helpers.is_empty() => {
                let i = self.pick(self.helpers.len());
                let (name, params) = self.helpers[i].clone();
                let args: Vec<String> = params
                    .iter()
                    .map(|p| {
                        if self.chance(4) {
                            format!("{p}={}", self.expr(d))
                        } else {
                            self.expr(d)
                        }
                    })
                    .collect();
                format!("{name}({})", args.join(", "))
            }
            15 => format!("({}, {})[{}]", self.expr(d), self.expr(d), self.pick(3)),
            16 => format!("[{}, {}]", self.expr(d), self.expr(d)),
            // Any builtin, any arguments: arity and keyword errors.
            17 => {
                let f = self.one(BUILTINS);
                let mut args: Vec<String> = (0..self.pick(4)).map(|_| self.expr(d)).collect();
                if self.chance(3) {
                    let name = self.one(NAMES);
                    args.push(format!("{name}={}", self.expr(d)));
                }
                format!("{f}({})", args.join(", "))
            }
            _ => format!("({})", self.expr(d)),
        }
    }

    fn index_item(&mut self) -> String {
        let bound = |g: &mut Generator| g.one(&["", "0", "1", "-1", "2", "-2", "5", "B", "-9"]);
        match self.pick(5) {
            0 => self.one(&["0", "1", "-1", "None", "2", "5"]).to_string(),
            1 => format!("{}:{}", bound(self), bound(self)),
            2 => format!(
                "{}:{}:{}",
                bound(self),
                bound(self),
                self.one(&["1", "2", "", "0", "-1", "3"])
            ),
            3 => ":".to_string(),
            _ => self.leaf(),
        }
    }
}

// ---------------------------------------------------------------------------
// Random text

fn random_text() -> impl Strategy<Value = Case> {
    let token = prop_oneof![
        3 => select(BUILTINS).prop_map(str::to_string),
        2 => select(KEYWORDS).prop_map(str::to_string),
        2 => select(NAMES).prop_map(str::to_string),
        2 => number(),
        5 => select(PUNCTUATION).prop_map(str::to_string),
        1 => type_text(),
    ];
    let soup = (
        select(
            &[
                "",
                "fn main(",
                "fn main(x: f32[3]) {",
                "fn main(x: f32[2, 3], y: f32[3]) { let a = ",
                "fn main(x: f32[B, 3]) { return ",
                "const C = ",
            ][..],
        ),
        vec((token, select(&["", " ", "\n"][..])), 0..40),
        select(&["", "}", ";}", ")}", "\n}"][..]),
    )
        .prop_map(|(prefix, tokens, suffix)| {
            let mut text = prefix.to_string();
            for (token, gap) in tokens {
                text += &token;
                text += gap;
            }
            text + suffix
        });
    (
        prop_oneof![1 => "(?s).{0,80}", 4 => soup],
        binding(),
        data_seed(),
    )
        .prop_map(|(text, binding, data_seed)| Case {
            origin: "random text".into(),
            text,
            binding,
            data_seed,
        })
}

// ---------------------------------------------------------------------------
// Regressions: the bugs found so far, by the fuzzer or by reading the code.

/// Runs the whole property on `text`, its dimensions bound to 3.
fn survives(text: &str) -> Result<Module, CompileError> {
    let case = Case {
        origin: "a regression".into(),
        text: text.to_string(),
        binding: Binding::Declared { size: 3 },
        data_seed: 1,
    };
    check(&case, &Stats::default()).unwrap_or_else(|e| panic!("{e}"));
    let program = parse_bounded(text)?;
    Tracer::trace(
        &program,
        "fuzz",
        &known_shapes(&program, Binding::Declared { size: 3 }),
    )
}

/// The error a script gets, which must point at the first `at` in the text.
fn rejects(text: &str, at: &str) -> String {
    let start = text.find(at).expect("`at` is in the text");
    rejects_at(text, start..start + at.len())
}

/// The error a script gets, which must point at `at`.
fn rejects_at(text: &str, at: Range<usize>) -> String {
    match survives(text) {
        Ok(m) => panic!("accepted:\n{}", print_module(&m)),
        Err(e) => {
            let span = e.span.expect("located");
            assert_eq!(
                span.start..span.end,
                at.clone(),
                "{e} points at {:?}, not at {:?}",
                &text[span.start..span.end],
                &text[at]
            );
            e.to_string()
        }
    }
}

/// Runs `f` on a thread with a 2 MiB stack, Rust's default for threads: what the
/// parser and the tracer accept must fit there.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn regression_arrays_past_2_31_elements() {
    // Found by the fuzzer: traced, these printed modules that the HLO importer
    // rejects, and reshape's products overflowed (a panic in debug builds).
    let e = rejects(
        "fn main(x: f32[3]) { zeros([3, 715827883]) }",
        "zeros([3, 715827883])",
    );
    assert!(e.contains("too large"), "{e}");
    rejects("fn main(x: f32[65536, 1], y: f32[1, 65536]) { x + y }", "+");
    rejects("fn main(x: f32[65536, 1], y: f32[1, 65536]) { x @ y }", "@");
    rejects(
        "fn main(x: f32[1073741824]) { concat([x, x]) }",
        "concat([x, x])",
    );
    let e = rejects(
        "fn main(x: f32[3]) { reshape(x, [99999999999, 99999999999, -1]) }",
        "[99999999999, 99999999999, -1]",
    );
    assert!(e.contains("cannot reshape"), "{e}");
    rejects(
        "fn main(x: f32[3]) { broadcast_to(x, [4294967296, 3]) }",
        "broadcast_to(x, [4294967296, 3])",
    );
    // Nor may an empty array's other dimensions, or its rank, pass the importer's
    // limits.
    let e = rejects(
        "fn main(x: f32[3]) { zeros([0, 4294967296]) }",
        "zeros([0, 4294967296])",
    );
    assert!(e.contains("other than 0"), "{e}");
    survives("fn main(x: f32[3]) { zeros([0, 2147483647]) }").unwrap();
    let index = format!("x[{}]", ["None"; 64].join(", "));
    let e = rejects(&format!("fn main(x: f32[3]) {{ {index} }}"), &index);
    assert!(e.contains("rank is at most 64"), "{e}");
    let ty = format!("f32[{}]", ["1"; 65].join(", "));
    let e = rejects(&format!("fn main(x: {ty}) {{ x }}"), &ty);
    assert!(e.contains("rank is at most 64"), "{e}");
}

#[test]
fn regression_long_chains_nest_too_deep() {
    // Found by the fuzzer: a chain without brackets nests as deep as it is long;
    // `**` overflowed the parser's stack, the others the tracer's. (Chains of
    // left-associative operators do not nest: see the next test.)
    for (op, chain) in [
        ("**", format!("x{}", "**2".repeat(5000))),
        ("-", format!("{}x", "-".repeat(100_000))),
        ("!", format!("{}x", "!".repeat(100_000))),
        (".T", format!("x{}", ".T".repeat(5000))),
        ("[0]", format!("x{}", "[0]".repeat(5000))),
    ] {
        let text = format!("fn main(x: f32[2]) {{ {chain} }}");
        // The 201st operator is one too many.
        let (at, _) = text.match_indices(op).nth(200).unwrap();
        let e = rejects_at(&text, at..at + op.len());
        assert!(e.contains("nests more than 200 deep"), "{e}");
        // 200 are fine.
        let shorter = match op {
            "-" | "!" => format!("fn main(x: f32[2]) {{ {}x }}", op.repeat(200)),
            _ => format!("{}}}", &text[..at]),
        };
        let result = survives(&shorter);
        assert!(
            result
                .as_ref()
                .map_or_else(|e| !e.message.contains("deep"), |_| true),
            "{op}: {:?}",
            result.err()
        );
    }
}

#[test]
fn regression_left_associative_chains_do_not_nest() {
    // A flat sum of 201 terms failed with "nests more than 200 deep": the tracer
    // walks a left-associative chain with a loop, so it counts as one level.
    for op in ["+", "-", "*", "/"] {
        let chain = vec!["x"; 201].join(&format!(" {op} "));
        survives(&format!("fn main(x: f32[2]) {{ {chain} }}")).unwrap();
    }
    survives(&format!(
        "fn main(x: f32[2]) {{ x{} }}",
        " + x * x - x / 2".repeat(300)
    ))
    .unwrap();
    // Up to the tracer's 100,000 instructions, on a thread's default stack:
    // parsing, tracing and dropping the tree take no stack per term.
    on_small_stack(|| {
        let text = format!("fn main(x: f32[2]) {{ x{} }}", " + x".repeat(99_990));
        let program = parse(&text).unwrap();
        let module = Tracer::trace(&program, "fuzz", &KnownShapes::default()).unwrap();
        assert_eq!(module.entry().instructions.len(), 99_991);
        for op in ["+", "*"] {
            let text = format!(
                "fn main(x: f32[2]) {{ x{} }}",
                format!(" {op} x").repeat(100_010)
            );
            let program = parse(&text).unwrap();
            let e = Tracer::trace(&program, "fuzz", &KnownShapes::default()).unwrap_err();
            assert!(e.message.contains("more than 100000 instructions"), "{e}");
        }
    });
}

#[test]
fn regression_nested_indices_parse_in_linear_time() {
    // Found by the fuzzer: `index_item = slice | expr` read every index twice, so
    // `x[x[...]]` took time exponential in its depth: 2^60 here, far past
    // `PARSE_CALLS`, within which a linear parse stays.
    let text = format!(
        "fn main(x: f32[2]) {{ x[{}0{}] }}",
        "[0, 1][".repeat(60),
        "]".repeat(60)
    );
    survives(&text).unwrap();
    // Slices still read their parts.
    let text = "fn main(x: f32[4, 5]) { (x[1:3], x[:, ::2], x[-1, 1::2], x[::], x[None, 2:]) }";
    survives(text).unwrap();
}

#[test]
fn regression_deep_nesting_fits_a_2_mib_stack() {
    // Found by the fuzzer: 171 brackets `x[1:` (the limit was 200) overflowed the
    // parser's stack on a test thread in a release build; a debug build overflowed
    // past 26. At the limits now (100 brackets, expressions 200 deep, 256 levels of
    // evaluation), parsing and tracing fit, in a debug build too.
    let nested = |open: &str, close: &str| {
        format!(
            "fn main(x: f32[2]) {{ {}x{} }}",
            open.repeat(99),
            close.repeat(99)
        )
    };
    let mut texts = vec![
        nested("(", ")"),
        nested("(-", ")"),
        nested("exp(-", ")"),
        nested("[", "]"),
        nested("x[-", "]"),
        nested("x[1:-", "]"),
        nested("x[:1:-", "]"),
        nested("f(a=", ")"),
        nested("2**(", ")"),
        nested("(x,", ")"),
        format!("fn main(x: f32[2]) {{ {}x }}", "-".repeat(200)),
        format!("fn main(x: f32[2]) {{ x{} }}", "+x".repeat(200)),
        format!(
            "fn main(x: f32[2]) {{ {} let y = {}x; {} x }}",
            "for i in 0..1 {".repeat(99),
            "-".repeat(200),
            "}".repeat(99)
        ),
    ];
    // A chain of calls, 3 levels each: 85 calls (f0 to f84) fit, 86 do not.
    for n in [84, 85, 200] {
        let mut text = String::new();
        for i in 0..n {
            text += &format!("fn f{i}(x) {{ f{}(x) }}\n", i + 1);
        }
        texts.push(text + &format!("fn f{n}(x) {{ x }}\nfn main(x: f32[2]) {{ f0(x) }}"));
    }
    let results = on_small_stack(move || {
        texts
            .iter()
            .map(|text| {
                let program = parse_bounded(text)?;
                Tracer::trace(&program, "fuzz", &KnownShapes::default())
            })
            .map(|r| r.map(|_| ()).map_err(|e| e.message))
            .collect::<Vec<_>>()
    });
    assert_eq!(results[10], Ok(()));
    assert_eq!(results[11], Ok(()));
    assert_eq!(results[13], Ok(()), "85 calls");
    assert_eq!(
        results[14],
        Err("expressions and calls nest more than 256 deep".into()),
        "86 calls"
    );
    assert!(results[15].is_err(), "201 calls");
}

#[test]
fn regression_runaway_work_stops() {
    // Found reading the code: exponential calls, and lists that double, traced for
    // minutes; a list nested 100,000 deep overflowed the stack when dropped. And
    // measured: a loop tracing to a million instructions took 3 s. Each now stops
    // at a limit on work (steps, nesting, instructions), which the message names.
    let mut calls = String::from("fn f0(x) { x + 1 }\n");
    for i in 1..40 {
        calls += &format!("fn f{i}(x) {{ f{}(f{}(x)) }}\n", i - 1, i - 1);
    }
    calls += "fn main(x: f32[2]) { x + f39(1) }";
    let doubling = "fn main(x: f32[2]) { let l = [1]; for i in 0..60 { let l = [l, l]; } x }";
    let nested = "fn main(x: f32[2]) { let l = [1]; for i in 0..99999 { let l = [l]; } x }";
    let loop_ = "fn main(x: f32[2]) { let a = x; for i in 0..99999 { let a = a * 2 + x; } a }";
    for (text, message) in [
        (calls.as_str(), "steps to trace"),
        (doubling, "steps to trace"),
        (nested, "lists and tuples nest more than 64 deep"),
        (loop_, "more than 100000 instructions"),
    ] {
        let e = on_small_stack({
            let text = text.to_string();
            move || {
                let program = parse_bounded(&text).unwrap();
                Tracer::trace(&program, "fuzz", &KnownShapes::default()).unwrap_err()
            }
        });
        assert!(e.message.contains(message), "{e}");
        assert!(e.span.is_some());
    }
}

#[test]
fn regression_expand_dims_with_many_axes() {
    // Found reading the code: checking 100,000 axes for repeats took seconds (and
    // the error printed a shape of 100,000 dimensions). The rank is checked
    // first now, so the error names it.
    let axes: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let list = format!("[{}]", axes.join(", "));
    let e = rejects(
        &format!("fn main(x: f32[2]) {{ expand_dims(x, {list}) }}"),
        &list,
    );
    assert!(e.contains("rank 100001, more than 64"), "{e}");
    let e = rejects(
        &format!("fn main(x: f32[2]) {{ zeros({list}) }}"),
        &format!("zeros({list})"),
    );
    assert!(e.len() < 100, "{e}");
}

/// Merging two kernels checked paths between them only through instructions, not
/// through a third kernel, which runs as a whole: `sum(x - 1, axis=0) + y` and
/// `x * 2 + y` joined while the kernel of `x - 1` sat between them.
#[test]
fn regression_fusion_cycle_through_a_third_kernel() {
    survives(
        "fn main(x: f32[B, 3], y: i32[3]) {
            let x = x * 2;
            let z = x + y;
            let x = x - 1;
            let y = sum(x, axis=0) + y;
            (x, y, z)
        }",
    )
    .expect("traces");
}
