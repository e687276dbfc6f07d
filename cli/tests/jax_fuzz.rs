//! Differential fuzzing against JAX: random JAX programs (`tests/jax_fuzz.py`:
//! index and region ops among them,
//! every op of HLO.md's first list, dots in every form, zero-size and size-1
//! dimensions, consumers that make each kind of schedule), lowered to the HLO text
//! JAX emits, run by JAX under jit for the expected outputs; each one must import
//! and run on every backend to JAX's numbers (normwise, `support::compare_normwise`:
//! summation orders and polynomials differ by ulps, and the generator keeps the
//! discontinuous ops on values every order computes exactly).
//!
//! Trials, per generated case `caseSSSS_IIIII` (seed, index):
//! - `interp::CASE`, `cpu::CASE`, `gpu::CASE`: the interpreter, the CPU backend and
//!   the GPU backend (on the adapter `OMELET_GPU` picks; ignored without one, a
//!   failure where `OMELET_REQUIRE_TOOLS` is set) reproduce JAX's outputs. The GPU
//!   compares numbers only where the interpreter meets no infinity or NaN (WGSL's
//!   leeway, `support::fuzz::gpu_numbers_may_differ`); elsewhere it only has to run.
//!   Where the adapter has subgroup operations, `gpu-nosubgroups::CASE` runs the
//!   shaders written for adapters without them.
//! - `unsupported::CASE`: the importer rejected the module as E-UNSUPPORTED (the
//!   generator keeps to supported ops, so this is a finding, counted apart);
//!   `import::CASE`: any other import error.
//!
//! A failure names the case folder and prints the JAX program (`source.py`); the
//! folder is kept when a trial fails. Environment:
//!
//! - `FUZZ_JAX_CASES=N` (default 50, about 30 s on two cores; every kind of
//!   schedule among them), `FUZZ_JAX_SEED=S` (default 0): the cases to generate;
//! - `FUZZ_JAX_DIR=PATH`: check the cases already generated in PATH instead
//!   (`python3 tests/jax_fuzz.py --seed S --first I --count N PATH` makes them);
//!   a filter (`-- case0003_00321`) compiles only the cases it selects.
//!
//! The bugs it found (of 6,200 programs over ten seeds, the CPU failed 140 and
//! the GPU 80; the interpreter none) are fixed, each with a fixture: zero-size
//! constants (`constant({...})`, which JAX makes of zero-size arrays) on both
//! backends, a GEMM reading them through a misaligned pointer, and dots with free
//! dimensions on one side only under a fused consumer (wrong rows, or a
//! corrupted heap). 2,700 programs then agreed on every backend (400 each on
//! seeds 1 to 3, 500 each on seeds 4 to 6).
//!
//! JAX itself is no oracle for NaN in a max or min reduction: XLA:CPU drops it
//! in some (`jnp.max(y, axis=(0, 1, 2))` of a `[24,5,25,3]` array with one NaN is
//! 1 under jit, where HLO's semantics, NumPy and the interpreter say NaN), so the
//! generator keeps NaN away from them.
//!
//! For example `FUZZ_JAX_CASES=1000 FUZZ_JAX_SEED=3 cargo test --release -p omelet
//! --test jax_fuzz -- --quiet`. Without Python's jax the trials are ignored with the
//! reason printed, except where `OMELET_REQUIRE_TOOLS` is set (`.ci/run`).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};
use omelet_compiler::ErrorKind;
use omelet_compiler::hlo::{Module, Op};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_kernels::kernel::{Kernel, Schedule};
use omelet_runtime::{Array, cpu, gpu, interp};

use support::fuzz::{case_dirs, env, generate, gpu_numbers_may_differ, report};
use support::{
    compare_normwise, gpu_device, gpu_device_without_subgroups, ignore_gpu_trials, ignore_without,
    numbered_npy, python_jax,
};

/// Cases checked by default: the whole test in under a minute on two cores.
const DEFAULT_CASES: u64 = 50;

/// The normwise tolerance, as the interpreter-against-backend fuzzers use.
const TOLERANCE: f64 = 1e-4;

fn main() {
    let args = Arguments::from_args();
    let seed = env("FUZZ_JAX_SEED", 0);
    let count = env("FUZZ_JAX_CASES", DEFAULT_CASES);
    let given = std::env::var_os("FUZZ_JAX_DIR").map(PathBuf::from);
    if given.is_none() && ignore_without("jax", &python_jax()) {
        let trial = Trial::test("generate", || Ok(())).with_ignored_flag(true);
        libtest_mimic::run(&args, vec![trial]).exit();
    }
    let (dir, generated) = match given {
        Some(dir) => (dir, Ok(())),
        None => {
            let dir = std::env::temp_dir().join(format!("omelet-jax-fuzz-{}", std::process::id()));
            let generated = generate("jax_fuzz.py", &dir, seed, count);
            (dir, generated)
        }
    };
    let mut trials = vec![Trial::test("generate", move || Ok(generated?))];
    let no_gpu = ignore_gpu_trials();
    let mut schedules = BTreeMap::<&str, usize>::new();
    let (mut cases, mut unsupported) = (0, 0);
    for case in case_dirs(&dir) {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        if !selected(&args, &name) {
            continue; // only the cases the filter asks for are compiled
        }
        cases += 1;
        let text = std::fs::read_to_string(case.join("module.hlo")).unwrap_or_default();
        let module = match parse_module(&text) {
            Ok(module) => module,
            Err(e) => {
                let kind = if e.kind == ErrorKind::Unsupported {
                    unsupported += 1;
                    "unsupported"
                } else {
                    "import"
                };
                let message = report(&case, &format!("{}: {}", e.kind.code(), e.message));
                trials.push(Trial::test(format!("{kind}::{name}"), move || {
                    Err(message.into())
                }));
                continue;
            }
        };
        let fused = Arc::new(compile(module.clone(), Stage::Fused).module);
        for schedule in schedule_kinds(&fused) {
            *schedules.entry(schedule).or_default() += 1;
        }
        let module = Arc::new(module);
        let mut backends = vec![Backend::Interp, Backend::Cpu, Backend::Gpu];
        if gpu_device_without_subgroups().is_some() {
            backends.push(Backend::GpuNoSubgroups);
        }
        for backend in backends {
            let (case, module, fused) = (case.clone(), module.clone(), fused.clone());
            trials.push(
                Trial::test(format!("{}::{name}", backend.name()), move || {
                    check(backend, &case, &module, &fused).map_err(|e| report(&case, &e).into())
                })
                .with_ignored_flag(backend == Backend::Gpu && no_gpu),
            );
        }
    }
    eprintln!(
        "jax_fuzz: {cases} cases in {}, {unsupported} rejected as E-UNSUPPORTED; fused kernels by schedule: {schedules:?}",
        dir.display()
    );
    let conclusion = libtest_mimic::run(&args, trials);
    if conclusion.has_failed() {
        eprintln!("jax_fuzz: the cases are kept in {}", dir.display());
    } else if std::env::var_os("FUZZ_JAX_DIR").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    conclusion.exit();
}

/// Whether any trial of the case `name` passes the command line's filter.
fn selected(args: &Arguments, name: &str) -> bool {
    let kinds = [
        "interp",
        "cpu",
        "gpu",
        "gpu-nosubgroups",
        "unsupported",
        "import",
    ];
    args.filter.as_ref().is_none_or(|filter| {
        kinds.iter().any(|kind| {
            let trial = format!("{kind}::{name}");
            if args.exact {
                trial == *filter
            } else {
                trial.contains(filter.as_str())
            }
        })
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Interp,
    Cpu,
    Gpu,
    /// The shaders written for adapters without subgroup operations, where this
    /// adapter has them.
    GpuNoSubgroups,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Interp => "interp",
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
            Backend::GpuNoSubgroups => "gpu-nosubgroups",
        }
    }
}

/// Runs the case on `backend` (the interpreter the imported module, the others
/// its fused form) and compares with JAX's outputs.
fn check(backend: Backend, case: &Path, module: &Module, fused: &Module) -> Result<(), String> {
    let inputs = numbered_npy(case, "in");
    let expected = numbered_npy(case, "expected");
    let (actual, compare_numbers) = match backend {
        Backend::Interp => (
            interp::run(module, &inputs).map_err(|e| e.to_string())?,
            true,
        ),
        Backend::Cpu => (
            cpu::Executable::new(fused)
                .and_then(|x| x.run(&inputs))
                .map_err(|e| e.to_string())?,
            true,
        ),
        Backend::Gpu | Backend::GpuNoSubgroups => {
            let device = match backend {
                Backend::Gpu => gpu_device()?,
                _ => gpu_device_without_subgroups().ok_or("the adapter has no subgroups")?,
            };
            (
                gpu::Executable::new(fused, device)
                    .and_then(|x| x.run(&inputs))
                    .map_err(|e| e.to_string())?,
                !gpu_numbers_may_differ(module, &inputs),
            )
        }
    };
    if !compare_numbers {
        return check_shapes(&actual, &expected);
    }
    compare_normwise(&actual, &expected, TOLERANCE).map_err(|e| {
        let printed = omelet_compiler::hlo::print_module(fused);
        match backend {
            Backend::Interp => e,
            _ => format!("{e}\nfused module:\n{printed}"),
        }
    })
}

/// Where numbers may differ, the results must still have JAX's shapes and types.
fn check_shapes(actual: &[Array], expected: &[Array]) -> Result<(), String> {
    let shapes = |arrays: &[Array]| arrays.iter().map(Array::shape).collect::<Vec<_>>();
    if shapes(actual) != shapes(expected) {
        return Err(format!(
            "results {:?}, expected {:?}",
            shapes(actual),
            shapes(expected)
        ));
    }
    Ok(())
}

/// The schedule of each fusion of a fused module, for the coverage line.
fn schedule_kinds(fused: &Module) -> Vec<&'static str> {
    let entry = fused.entry();
    entry
        .ids()
        .filter_map(|id| match &entry.instr(id).op {
            Op::Fusion { kind, computation } => {
                let body = fused.computation(*computation);
                let kernel = Kernel::new("k", body, *kind, Default::default()).ok()?;
                Some(match kernel.schedule {
                    Schedule::Loop => "Loop",
                    Schedule::Rows { product: None, .. } => "Rows",
                    Schedule::Rows { .. } => "Rows+product",
                    Schedule::Columns => "Columns",
                    Schedule::Gemm(_) => "Gemm",
                    Schedule::Products(_) => "Products",
                    Schedule::Scatter { .. } => "Scatter",
                    Schedule::Sort(_) => "Sort",
                })
            }
            _ => None,
        })
        .collect()
}
