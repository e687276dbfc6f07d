//! What the fuzz tests share: their configuration from the environment, a
//! panic hook that records, rather than prints, the panics proptest provokes, and
//! the CPU backend's check.

use std::cell::{Cell, RefCell};
use std::sync::Once;

use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed, TestRunner};

/// A numeric environment variable, or `default`.
pub fn env(var: &str, default: u64) -> u64 {
    std::env::var(var).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{var}={v} is not a number"))
    })
}

/// A runner for `FUZZ_CASES` cases (`default_cases` unless set) from the seed
/// `FUZZ_SEED` (0 unless set), which it returns too, for failure reports.
pub fn runner(default_cases: u64) -> (TestRunner, u64) {
    let cases = env("FUZZ_CASES", default_cases);
    let seed = env("FUZZ_SEED", 0);
    let config = Config {
        cases: u32::try_from(cases).expect("FUZZ_CASES fits in 32 bits"),
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    (TestRunner::new(config), seed)
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` with the panics on this thread recorded instead of printed (proptest
/// catches them and shrinks their inputs, and a backtrace for each would drown
/// the report); returns `f`'s result and the last panic's message.
pub fn quietly<T>(f: impl FnOnce() -> T) -> (T, Option<String>) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.get() {
                LAST_PANIC.set(Some(info.to_string()));
            } else {
                default(info);
            }
        }));
    });
    QUIET.set(true);
    let result = f();
    QUIET.set(false);
    (result, LAST_PANIC.take())
}

/// Elements in all of a module's instruction shapes, saturating: whether it is
/// small enough to interpret in a fuzz case.
pub fn total_elements(module: &omelet_compiler::hlo::Module) -> usize {
    module
        .computations
        .iter()
        .flat_map(|c| &c.instructions)
        .flat_map(|i| i.shape.arrays())
        .map(|a| a.dims.iter().fold(1usize, |n, &d| n.saturating_mul(d)))
        .fold(0usize, usize::saturating_add)
}

// Text mutations that do not depend on the language mutated.

/// Deletes up to `len` bytes at a random position, on character boundaries.
pub fn delete(text: &mut String, at: &Index, len: usize) {
    let start = position(text, at);
    let end = floor_char_boundary(text, (start + len).min(text.len()));
    text.replace_range(start..end, "");
}

pub fn duplicate_line(text: &mut String, at: &Index) {
    let mut lines = lines(text);
    if !lines.is_empty() {
        let i = at.index(lines.len());
        lines.insert(i, lines[i].clone());
        *text = lines.concat();
    }
}

pub fn swap_lines(text: &mut String, a: &Index, b: &Index) {
    let mut lines = lines(text);
    if !lines.is_empty() {
        let (a, b) = (a.index(lines.len()), b.index(lines.len()));
        lines.swap(a, b);
        *text = lines.concat();
    }
}

fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// A position in the text, on a character boundary.
pub fn position(text: &str, at: &Index) -> usize {
    floor_char_boundary(text, at.index(text.len() + 1))
}

pub fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The CPU backend compiles the fused module and runs it on `inputs`; with
/// `compare_numbers`, to the interpreter's `expected` numbers (normwise: the
/// backend's polynomials and summation order may differ by ulps).
#[allow(dead_code)]
pub fn cpu_matches(
    fused: &omelet_compiler::hlo::Module,
    inputs: &[omelet_runtime::Array],
    expected: &[omelet_runtime::Array],
    compare_numbers: bool,
) -> Result<(), String> {
    let printed = || omelet_compiler::hlo::print_module(fused);
    let executable = omelet_runtime::cpu::Executable::new(fused)
        .map_err(|e| format!("the cpu backend fails: {e}\n{}", printed()))?;
    let actual = executable
        .run(inputs)
        .map_err(|e| format!("the cpu backend fails to run: {e}\n{}", printed()))?;
    if compare_numbers {
        super::compare_normwise(&actual, expected, 1e-4)
            .map_err(|e| format!("the cpu backend disagrees: {e}\n{}", printed()))?;
    }
    Ok(())
}
