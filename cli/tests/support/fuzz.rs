//! What the fuzz tests share: their configuration from the environment, a
//! panic hook that records, rather than prints, the panics proptest provokes,
//! the backends' check against the interpreter, and the driving of the Python
//! generators of the differential fuzzers against JAX.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once};

use omelet_compiler::hlo::{InstrId, Instruction, Module, Op, Shape, UnaryOp};
use omelet_kernels::math::TRIG_EXACT_LIMIT;
use omelet_runtime::Array;

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
/// Runs the generator `tests/SCRIPT` for `count` cases of `seed` into `dir`.
pub fn generate(script: &str, dir: &Path, seed: u64, count: u64) -> Result<(), String> {
    let output = Command::new("python3")
        .arg(super::root().join("tests").join(script))
        .args(["--seed", &seed.to_string(), "--count", &count.to_string()])
        .arg(dir)
        .output()
        .map_err(|e| format!("python3 tests/{script}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "tests/{script} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The generated case folders in `dir` (those with a `module.hlo`), in order.
pub fn case_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("module.hlo").exists());
    dirs.sort();
    dirs
}

/// A failure's message with the case folder and the JAX program that made it.
pub fn report(case: &Path, error: &str) -> String {
    let source = std::fs::read_to_string(case.join("source.py")).unwrap_or_default();
    format!("{error}\ncase: {}\n{source}", case.display())
}

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
pub fn total_elements(module: &Module) -> usize {
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

// The backends' check.

/// A backend the fuzzers check against the interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Cpu,
    Gpu,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        })
    }
}

/// One backend to check a module on, and whether its numbers must match the
/// interpreter's or it only has to compile and run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    pub backend: Backend,
    pub compare_numbers: bool,
}

/// Which of the modules a fuzz test compiles the GPU checks too: every
/// `FUZZ_GPU_EVERY`th one (default 3; 0: none), and, once a check has failed, every
/// one, so that proptest shrinks a GPU failure as far as a CPU one.
///
/// Not every one: lavapipe compiles each new shader through LLVM, tens of
/// milliseconds apiece, and on a fresh CI machine, with Mesa's shader cache
/// empty, all of them took the fuzzers from 10 s to 65 s (two cores; with a warm
/// cache, 15 s). A third of them took 41 s.
#[derive(Debug)]
pub struct GpuSample {
    every: u64,
    seen: AtomicU64,
    failed: AtomicBool,
}

impl Default for GpuSample {
    fn default() -> GpuSample {
        GpuSample {
            every: env("FUZZ_GPU_EVERY", 3),
            seen: AtomicU64::new(0),
            failed: AtomicBool::new(false),
        }
    }
}

impl GpuSample {
    /// Whether the GPU checks the next module.
    fn next(&self) -> bool {
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        self.failed.load(Ordering::Relaxed) || (self.every > 0 && n.is_multiple_of(self.every))
    }
}

/// What to check the fused form of `module` on: the CPU, and with `on_gpu` the
/// GPU, comparing numbers with `compare_numbers` (on the GPU, not where
/// `gpu_numbers_may_differ`). `inputs` are the interpreter's.
fn checks(module: &Module, inputs: &[Array], compare_numbers: bool, on_gpu: bool) -> Vec<Check> {
    let mut checks = vec![Check {
        backend: Backend::Cpu,
        compare_numbers,
    }];
    if on_gpu {
        checks.push(Check {
            backend: Backend::Gpu,
            compare_numbers: compare_numbers && !gpu_numbers_may_differ(module, inputs),
        });
    }
    checks
}

/// Whether the GPU's numbers for `module` on `inputs` may differ from the
/// interpreter's by what WGSL allows, going by the value of every live
/// instruction of its entry as the interpreter computes it (modules whose
/// instructions hold more elements than the fuzzers interpret never come here).
pub fn gpu_numbers_may_differ(module: &Module, inputs: &[Array]) -> bool {
    // The entry with a root that returns every live array.
    let mut probe = module.clone();
    let entry = &mut probe.computations[probe.entry.index()];
    let live = entry.live();
    let ids: Vec<InstrId> = entry
        .ids()
        .filter(|id| live[id.index()] && entry.instr(*id).shape.as_array().is_some())
        .collect();
    entry.instructions.push(Instruction {
        name: "fuzz.every.value".into(),
        op: Op::Tuple,
        operands: ids.clone(),
        shape: Shape::Tuple(
            ids.iter()
                .map(|&id| entry.instr(id).array_shape().clone())
                .collect(),
        ),
    });
    entry.root = InstrId::new(entry.instructions.len() - 1);
    let Ok(values) = omelet_runtime::interp::run(&probe, inputs) else {
        return false;
    };
    let entry = probe.entry();
    let mut value_of = vec![None; entry.instructions.len()];
    for (&id, value) in ids.iter().zip(&values) {
        value_of[id.index()] = Some(value);
    }
    // WGSL lets shader compilers assume there are no infinities or NaNs, and
    // lavapipe compiles with LLVM's fast-math flags: it folds a division by a
    // constant 0 to 0, `x - x` to 0 for an infinite x, and `remainder(x, 0)`
    // to x (with zeros and infinities that arrive at run time, the same ops are
    // right). So the GPU's numbers are compared only where the interpreter
    // meets no infinity or NaN.
    // (`f16` and `bf16` compute in `f32` on the GPU, so the same holds.)
    let non_finite = values
        .iter()
        .any(|v| v.element_type().is_float() && v.to_f64_vec().iter().any(|x| !x.is_finite()));
    // sin, cos and tan meet their bound only up to TRIG_EXACT_LIMIT: beyond it the
    // GPU's Cody–Waite products are no longer exact (the CPU's fma keeps them
    // exact further, to 3e5 at least), and `sine(275131.25)` gives -0.0058
    // where the interpreter gives 0.0098.
    let large_trig = [UnaryOp::Sin, UnaryOp::Cos, UnaryOp::Tan]
        .into_iter()
        .any(|op| {
            entry.instructions.iter().any(|i| {
                i.op == Op::Unary(op)
                    && value_of[i.operands[0].index()].is_some_and(|v| {
                        v.to_f64_vec()
                            .iter()
                            .any(|x| x.abs() > f64::from(TRIG_EXACT_LIMIT))
                    })
            })
        });
    non_finite || large_trig
}

/// The backends compile `fused`, the optimized form of `module`, and run it on
/// `inputs`; with `compare_numbers`, to the interpreter's `expected` numbers
/// (normwise: the backends' polynomials and summation order may differ by ulps).
/// The CPU checks every module, the GPU those `gpu` picks (see `checks`). Returns the checks that ran: without a GPU adapter the
/// GPU is skipped, saying so once per process, except where `OMELET_REQUIRE_TOOLS`
/// is set (`.ci/run`, which installs Mesa's software Vulkan): there it is an error.
#[allow(dead_code)]
pub fn backends_match(
    module: &Module,
    fused: &Module,
    inputs: &[Array],
    expected: &[Array],
    compare_numbers: bool,
    gpu: &GpuSample,
) -> Result<Vec<Check>, String> {
    let checks = checks(module, inputs, compare_numbers, gpu.next());
    let result = run_checks(fused, inputs, expected, &checks);
    if result.is_err() {
        gpu.failed.store(true, Ordering::Relaxed);
    }
    result
}

fn run_checks(
    fused: &Module,
    inputs: &[Array],
    expected: &[Array],
    checks: &[Check],
) -> Result<Vec<Check>, String> {
    let printed = || omelet_compiler::hlo::print_module(fused);
    let mut ran = Vec::new();
    for &check in checks {
        let Check {
            backend,
            compare_numbers,
        } = check;
        let actual = match backend {
            Backend::Cpu => omelet_runtime::cpu::Executable::new(fused)
                .map_err(|e| format!("the cpu backend fails: {e}\n{}", printed()))?
                .run(inputs),
            Backend::Gpu => {
                let Some(gpu) = gpu()? else { continue };
                match omelet_runtime::gpu::Executable::new(fused, gpu) {
                    // A backend may refuse, by name, what it does not compile yet.
                    Err(e) if e.kind == omelet_runtime::RuntimeErrorKind::Unsupported => {
                        continue;
                    }
                    compiled => compiled
                        .map_err(|e| format!("the gpu backend fails: {e}\n{}", printed()))?
                        .run(inputs),
                }
            }
        }
        .map_err(|e| format!("the {backend} backend fails to run: {e}\n{}", printed()))?;
        if compare_numbers {
            // f16 and bf16 round every op: another order of a sum or a
            // transcendental an ulp off moves results by their ulps.
            let rel = expected
                .iter()
                .map(|e| match e.element_type() {
                    omelet_compiler::hlo::ElementType::F16 => 1e-2,
                    omelet_compiler::hlo::ElementType::Bf16 => 5e-2,
                    _ => 1e-4,
                })
                .fold(1e-4, f64::max);
            super::compare_normwise(&actual, expected, rel)
                .map_err(|e| format!("the {backend} backend disagrees: {e}\n{}", printed()))?;
        }
        ran.push(check);
    }
    Ok(ran)
}

/// The GPU to check, `None` to skip it (no adapter and tools not required; the
/// reason is printed once per process), or an error (no adapter where
/// `OMELET_REQUIRE_TOOLS` is set).
fn gpu() -> Result<Option<Arc<omelet_runtime::gpu::Gpu>>, String> {
    match super::gpu_device() {
        Ok(gpu) => Ok(Some(gpu)),
        Err(reason) if super::tools_required() => Err(format!(
            "no GPU adapter to check the gpu backend on (OMELET_REQUIRE_TOOLS is set): {reason}"
        )),
        Err(reason) => {
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                // Past the harness's capture, so that the skip shows.
                let _ = writeln!(
                    std::io::stderr(),
                    "fuzz: the gpu backend is not checked here: {reason}"
                );
            });
            Ok(None)
        }
    }
}
