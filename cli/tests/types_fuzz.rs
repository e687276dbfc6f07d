//! Differential fuzzing of every element type and bit op against XLA: random
//! programs of `lax` elementwise ops over pred, s8..s64, u8..u64, f16, bf16, f32
//! and f64 (`tests/types_fuzz.py`: XLA's edge cases for integer division, shifts,
//! conversions and bitcasts, inputs at every type's edges), lowered to the HLO
//! JAX emits and run by XLA:CPU for the expected outputs.
//!
//! Trials, per case `caseSSSS_IIIII`: `interp::CASE`, `cpu::CASE`, `gpu::CASE`.
//! An output the generator marks exact must match XLA's bit for bit (a NaN any
//! NaN); one downstream of a transcendental, normwise within the fuzzers'
//! tolerance. A backend may refuse a program only where HLO.md lets it (the GPU,
//! 64-bit types), with an E-UNSUPPORTED error naming the instruction; any other
//! refusal fails. `import::CASE`: the importer rejected the module.
//!
//! Environment: `FUZZ_TYPES_CASES=N` (default 60), `FUZZ_TYPES_SEED=S` (default
//! 0), `FUZZ_TYPES_DIR=PATH` (check cases made by `python3 tests/types_fuzz.py
//! --seed S --count N PATH` instead of generating). Without Python's jax the
//! trials are ignored with the reason printed, except where
//! `OMELET_REQUIRE_TOOLS` is set.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};
use omelet_compiler::hlo::{ElementType, Module};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, RuntimeErrorKind, cpu, gpu, interp};

use support::fuzz::{case_dirs, env, generate, report};
use support::{
    compare_normwise, gpu_device, has_64_bit_values, ignore_gpu_trials, ignore_without,
    numbered_npy, python_jax,
};

const DEFAULT_CASES: u64 = 60;

/// The normwise tolerance of outputs downstream of a transcendental: f16's
/// precision, since those compute in it.
const TOLERANCE: f64 = 2e-3;

fn main() {
    let args = Arguments::from_args();
    let seed = env("FUZZ_TYPES_SEED", 0);
    let count = env("FUZZ_TYPES_CASES", DEFAULT_CASES);
    let given = std::env::var_os("FUZZ_TYPES_DIR").map(PathBuf::from);
    if given.is_none() && ignore_without("jax", &python_jax()) {
        let trial = Trial::test("generate", || Ok(())).with_ignored_flag(true);
        libtest_mimic::run(&args, vec![trial]).exit();
    }
    let (dir, generated) = match given {
        Some(dir) => (dir, Ok(())),
        None => {
            let dir =
                std::env::temp_dir().join(format!("omelet-types-fuzz-{}", std::process::id()));
            let generated = generate("types_fuzz.py", &dir, seed, count);
            (dir, generated)
        }
    };
    let mut trials = vec![Trial::test("generate", move || Ok(generated?))];
    let no_gpu = ignore_gpu_trials();
    for case in case_dirs(&dir) {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(case.join("module.hlo")).unwrap_or_default();
        let module = match parse_module(&text) {
            Ok(module) => Arc::new(module),
            Err(e) => {
                let message = report(&case, &format!("{}: {}", e.kind.code(), e.message));
                trials.push(Trial::test(format!("import::{name}"), move || {
                    Err(message.into())
                }));
                continue;
            }
        };
        for backend in [Backend::Interp, Backend::Cpu, Backend::Gpu] {
            let (case, module) = (case.clone(), module.clone());
            trials.push(
                Trial::test(format!("{}::{name}", backend.name()), move || {
                    check(backend, &case, &module).map_err(|e| report(&case, &e).into())
                })
                .with_ignored_flag(backend == Backend::Gpu && no_gpu),
            );
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if conclusion.has_failed() {
        eprintln!("types_fuzz: the cases are kept in {}", dir.display());
    } else if std::env::var_os("FUZZ_TYPES_DIR").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    conclusion.exit();
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Interp,
    Cpu,
    Gpu,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Interp => "interp",
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        }
    }

    /// Whether HLO.md lets this backend refuse a module of `module`'s types.
    fn may_refuse(self, module: &Module) -> bool {
        self == Backend::Gpu && has_64_bit_values(module)
    }
}

fn check(backend: Backend, case: &Path, module: &Module) -> Result<(), String> {
    let inputs = numbered_npy(case, "in");
    let expected = numbered_npy(case, "expected");
    let run = || match backend {
        Backend::Interp => interp::run(module, &inputs),
        Backend::Cpu => {
            let fused = compile(module.clone(), Stage::Fused).module;
            cpu::Executable::new(&fused).and_then(|x| x.run(&inputs))
        }
        Backend::Gpu => {
            let fused = compile(module.clone(), Stage::Fused).module;
            let device = gpu_device().map_err(omelet_runtime::RuntimeError::unavailable)?;
            gpu::Executable::new(&fused, device).and_then(|x| x.run(&inputs))
        }
    };
    let actual = match run() {
        Ok(actual) => actual,
        Err(e) if e.kind == RuntimeErrorKind::Unsupported && backend.may_refuse(module) => {
            return Ok(());
        }
        Err(e) => return Err(e.to_string()),
    };
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("meta.json")).unwrap_or_default())
            .map_err(|e| format!("meta.json: {e}"))?;
    if actual.len() != expected.len() {
        return Err(format!(
            "{} results, expected {}",
            actual.len(),
            expected.len()
        ));
    }
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        let exact = meta["exact"][i].as_bool().unwrap_or(true);
        let result = if exact {
            bitwise_equal(a, e)
        } else {
            compare_normwise(std::slice::from_ref(a), std::slice::from_ref(e), TOLERANCE)
        };
        result.map_err(|m| {
            format!(
                "output {i} ({}): {m}",
                if exact { "exact" } else { "approximate" }
            )
        })?;
    }
    Ok(())
}

/// The types whose subnormals XLA:CPU flushes (those of f32's exponent range and
/// f64; f16 computes in f32, where its subnormals are normal).
fn flushes(element: ElementType) -> bool {
    matches!(
        element,
        ElementType::F32 | ElementType::Bf16 | ElementType::F64
    )
}

/// Zero or subnormal in `element`.
fn tiny(element: ElementType, x: f64) -> bool {
    let smallest_normal = match element {
        ElementType::F64 => f64::MIN_POSITIVE,
        _ => f32::MIN_POSITIVE as f64,
    };
    x.abs() < smallest_normal
}

/// Equal shapes and bits, a NaN matching any NaN, and a subnormal `f32`, `bf16`
/// or `f64` matching zero: XLA:CPU flushes those to zero, HLO's semantics do not.
fn bitwise_equal(actual: &Array, expected: &Array) -> Result<(), String> {
    if actual.shape() != expected.shape() {
        return Err(format!(
            "got {}, expected {}",
            actual.shape(),
            expected.shape()
        ));
    }
    let shape = expected.shape();
    let size = shape.element.byte_size();
    let (a, e) = (actual.to_bytes(&shape), expected.to_bytes(&shape));
    let (av, ev) = (actual.to_f64_vec(), expected.to_f64_vec());
    let differ: Vec<usize> = (0..shape.element_count())
        .filter(|&j| {
            let both_nan = shape.element.is_float() && av[j].is_nan() && ev[j].is_nan();
            let flushed =
                flushes(shape.element) && tiny(shape.element, av[j]) && tiny(shape.element, ev[j]);
            !both_nan && !flushed && a[j * size..(j + 1) * size] != e[j * size..(j + 1) * size]
        })
        .collect();
    match differ.first() {
        None => Ok(()),
        Some(&j) => {
            let bits = |b: &[u8]| {
                let mut word = [0u8; 8];
                word[..size].copy_from_slice(&b[j * size..(j + 1) * size]);
                u64::from_le_bytes(word)
            };
            Err(format!(
                "{} of {} elements differ; first at flat index {j}: got {} ({:#x}) expected {} ({:#x}) as {}",
                differ.len(),
                av.len(),
                av[j],
                bits(&a),
                ev[j],
                bits(&e),
                if shape.element == ElementType::Pred {
                    "pred"
                } else {
                    shape.element.name()
                }
            ))
        }
    }
}
