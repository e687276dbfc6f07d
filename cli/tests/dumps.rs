//! Every file of both corpora of XLA's text imports, or is refused with a
//! located E-UNSUPPORTED that names the op or type: `tests/dumps/*/*.txt`
//! (`--xla_dump_to` files before and after XLA:CPU's optimizations, and
//! `compiled.as_text()`) and `tests/real/*/` (`module.hlo`, `dump.before.txt`,
//! `dump.cpu_after.txt`). An error of any other kind, or without a place, fails.
//!
//! Trials:
//! - `import::FILE`: the outcome, `imports` or `unsupported: MESSAGE`, is the one
//!   `tests/dumps/expected.txt` lists, so a file that stops importing fails, and so
//!   does one that starts (the list stays current);
//! - `run::real/NAME/FILE` for XLA's dumps of the real programs that import: the
//!   dump runs on the interpreter, as imported and once optimized and fused, and
//!   fused on the CPU and the GPU (where there is an adapter; a failure where
//!   `OMELET_REQUIRE_TOOLS` is set), to JAX's outputs (`expected*.npy`) within
//!   meta.json's tolerance;
//! - `differential::dumps/NAME/FILE` for the after-optimization files of
//!   `tests/dumps` that import: they give what the program's
//!   `before_optimizations.txt` gives on the interpreter (they on every backend,
//!   as above), on the same seeded
//!   inputs (XLA's own rewrites are the independent side).
//!
//! - `xla_gpu_fusions`: fusions of the kinds XLA's GPU compiler writes (a
//!   `kInput` fusion whose hero is a transpose, copies with non-default
//!   layouts) import and run as written;
//! - `entry_relayouts`: an entry whose parameter and result layouts differ from
//!   the header's `entry_computation_layout` takes and gives the header's, with
//!   the same values.
//!
//! `BLESS=1 cargo test -p omelet --test dumps` rewrites `tests/dumps/expected.txt`
//! from the actual outcomes.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Failed, Trial};
use omelet_compiler::ErrorKind;
use omelet_compiler::hlo::{ArrayShape, ElementType, Kind, Module, Number, Op, Scalar};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, RuntimeErrorKind, cpu, gpu, interp, npy};

use support::{compare, gpu_if_present, has_64_bit_values, root};

const BLESS: &str = "BLESS";
const REAL_DUMPS: [&str; 2] = ["dump.before.txt", "dump.cpu_after.txt"];

/// Actual import outcomes, by file.
type Outcomes = Arc<Mutex<BTreeMap<String, String>>>;

fn main() {
    let args = Arguments::from_args();
    let expected = Arc::new(read_expectations());
    let outcomes: Outcomes = Arc::default();
    let files = corpus();
    let mut trials = Vec::new();
    for file in &files {
        let (name, path) = (relative(file), file.clone());
        let (expected, outcomes) = (expected.clone(), outcomes.clone());
        trials.push(Trial::test(format!("import::{name}"), move || {
            let outcome = import_outcome(&path)?;
            outcomes.lock().unwrap().insert(name.clone(), outcome.clone());
            if std::env::var_os(BLESS).is_some() {
                return Ok(());
            }
            match expected.get(&name) {
                Some(e) if *e == outcome => Ok(()),
                Some(e) => Err(Failed::from(format!(
                    "expected `{e}`, got `{outcome}` (if that is progress, rewrite tests/dumps/expected.txt with {BLESS}=1)"
                ))),
                None => Err(Failed::from(format!(
                    "tests/dumps/expected.txt has no line for this file; it gives `{outcome}` (rewrite it with {BLESS}=1)"
                ))),
            }
        }));
    }
    let imports = |file: &Path| {
        expected
            .get(&relative(file))
            .is_some_and(|o| o == "imports")
    };
    for file in files.iter().filter(|f| imports(f)) {
        let name = relative(file);
        let dir = file.parent().unwrap().to_path_buf();
        let file_name = file.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("tests/real/") && REAL_DUMPS.contains(&file_name.as_str()) {
            let path = file.clone();
            trials.push(Trial::test(
                format!("run::{}", name.trim_start_matches("tests/")),
                move || run_real(&dir, &path).map_err(Failed::from),
            ));
        } else if name.starts_with("tests/dumps/") && file_name != "before_optimizations.txt" {
            let before = dir.join("before_optimizations.txt");
            if imports(&before) {
                let path = file.clone();
                trials.push(Trial::test(
                    format!("differential::{}", name.trim_start_matches("tests/")),
                    move || differential(&before, &path).map_err(Failed::from),
                ));
            }
        }
    }
    trials.push(Trial::test("xla_gpu_fusions", || {
        xla_gpu_fusions().map_err(Failed::from)
    }));
    trials.push(Trial::test("entry_relayouts", || {
        entry_relayouts().map_err(Failed::from)
    }));
    let conclusion = libtest_mimic::run(&args, trials);
    let outcomes = outcomes.lock().unwrap().clone();
    if std::env::var_os(BLESS).is_some() {
        write_expectations(&files, &outcomes, &expected);
    }
    let count = |suffix: &str| {
        let of: Vec<_> = files
            .iter()
            .map(|f| relative(f))
            .filter(|f| f.ends_with(suffix))
            .collect();
        let ok = of
            .iter()
            .filter(|f| {
                outcomes
                    .get(*f)
                    .or(expected.get(*f))
                    .is_some_and(|o| o == "imports")
            })
            .count();
        format!("{suffix} {ok} of {}", of.len())
    };
    println!(
        "files that import: {}; {}; {}; {}; {}; {}",
        count("before_optimizations.txt"),
        count("cpu_after_optimizations.txt"),
        count("compiled.txt"),
        count("module.hlo"),
        count("dump.before.txt"),
        count("dump.cpu_after.txt"),
    );
    conclusion.exit();
}

/// Every file of both corpora, sorted.
fn corpus() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (folder, names) in [
        ("tests/dumps", None),
        (
            "tests/real",
            Some(["module.hlo", "dump.before.txt", "dump.cpu_after.txt"]),
        ),
    ] {
        for program in std::fs::read_dir(root().join(folder)).expect("the corpus exists") {
            let program = program.unwrap().path();
            if !program.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&program).unwrap() {
                let file = file.unwrap().path();
                let name = file.file_name().unwrap().to_string_lossy().to_string();
                let wanted = match names {
                    None => name.ends_with(".txt"),
                    Some(names) => names.contains(&name.as_str()),
                };
                if wanted {
                    files.push(file);
                }
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 29 + 3 * 42,
        "only {} files found in tests/dumps and tests/real",
        files.len()
    );
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .to_string()
}

fn expectations_path() -> PathBuf {
    root().join("tests/dumps/expected.txt")
}

/// `tests/dumps/expected.txt`: file → `imports` or `unsupported: MESSAGE`.
fn read_expectations() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(expectations_path()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once(' '))
        .map(|(name, outcome)| (name.to_string(), outcome.to_string()))
        .collect()
}

fn write_expectations(
    files: &[PathBuf],
    outcomes: &BTreeMap<String, String>,
    old: &BTreeMap<String, String>,
) {
    let mut text = String::from(
        "# What cli/tests/dumps.rs expects of each file of XLA's text: `FILE imports`\n\
         # or `FILE unsupported: MESSAGE` (a located E-UNSUPPORTED). Any other outcome fails.\n\
         # Rewrite from the actual outcomes: BLESS=1 cargo test -p omelet --test dumps\n",
    );
    for file in files {
        let name = relative(file);
        if let Some(outcome) = outcomes.get(&name).or_else(|| old.get(&name)) {
            text.push_str(&format!("{name} {outcome}\n"));
        }
    }
    std::fs::write(expectations_path(), text).expect("tests/dumps/expected.txt is writable");
    eprintln!("rewrote {}", expectations_path().display());
}

/// `imports`, or `unsupported: MESSAGE` for a located E-UNSUPPORTED; any other
/// error is a failure.
fn import_outcome(path: &Path) -> Result<String, Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    match parse_module(&text) {
        Ok(_) => Ok("imports".into()),
        Err(e) if e.kind == ErrorKind::Unsupported && e.span.is_some() => {
            Ok(format!("unsupported: {}", e.message))
        }
        Err(e) => Err(format!("{e} ({})", place(&text, e.span.map(|s| s.start))).into()),
    }
}

fn place(text: &str, at: Option<usize>) -> String {
    let Some(at) = at else {
        return "no place".into();
    };
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    format!("line {line}")
}

fn import(path: &Path) -> Result<Module, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse_module(&text).map_err(|e| format!("{e} ({})", place(&text, e.span.map(|s| s.start))))
}

/// The module on the interpreter, as imported and once optimized and fused,
/// and the fused module on the CPU and (where there is an adapter) the GPU.
fn run_every_way(
    module: Module,
    inputs: &[Array],
) -> Result<Vec<(&'static str, Vec<Array>)>, String> {
    let imported = interp::run(&module, inputs).map_err(|e| format!("as imported: {e}"))?;
    let fused = compile(module, Stage::Fused).module;
    let optimized = interp::run(&fused, inputs).map_err(|e| format!("optimized: {e}"))?;
    let mut runs = vec![("as imported", imported), ("optimized", optimized)];
    let on_cpu = cpu::Executable::new(&fused)
        .and_then(|x| x.run(inputs))
        .map_err(|e| format!("cpu: {e}"))?;
    runs.push(("cpu", on_cpu));
    if let Some(device) = gpu_if_present() {
        let too_many = binds_too_many(&fused, &device);
        match gpu::Executable::new(&fused, device).and_then(|x| x.run(inputs)) {
            Ok(on_gpu) => runs.push(("gpu", on_gpu)),
            // HLO.md lets a GPU refuse 64-bit types (by name, before running),
            // and a kernel of more arrays than the adapter binds is a clear
            // error at compile time (ARCHITECTURE.md, "Invariants").
            Err(e)
                if e.kind == RuntimeErrorKind::Unsupported
                    && (has_64_bit_values(&fused) || too_many) => {}
            Err(e) => return Err(format!("gpu: {e}")),
        }
    }
    Ok(runs)
}

/// Whether a kernel of `fused` binds more arrays (its inputs and results)
/// than `device` allows per shader.
fn binds_too_many(fused: &Module, device: &gpu::Gpu) -> bool {
    let max = device.limits.max_storage_buffers_per_shader_stage as usize;
    fused.entry().instructions.iter().any(|i| {
        matches!(i.op, Op::Fusion { .. }) && i.operands.len() + i.shape.arrays().len() > max
    })
}

/// A real program's dump runs to JAX's outputs.
fn run_real(dir: &Path, path: &Path) -> Result<(), String> {
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("meta.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("meta.json: {e}"))?;
    let count = |key: &str| meta[key].as_array().map_or(0, Vec::len);
    let numbered = |prefix: &str, n: usize| {
        (0..n)
            .map(|i| npy::read(&dir.join(format!("{prefix}{i}.npy"))))
            .collect::<Result<Vec<_>, _>>()
    };
    let inputs = numbered("in", count("inputs"))?;
    let expected = numbered("expected", count("outputs"))?;
    let rtol = meta["rtol"].as_f64().unwrap_or(1e-3);
    let atol = meta["atol"].as_f64().unwrap_or(1e-4);
    for (how, results) in run_every_way(import(path)?, &inputs)? {
        if results.len() != expected.len() {
            return Err(format!(
                "{how}: {} results, expected {}",
                results.len(),
                expected.len()
            ));
        }
        for (i, (result, want)) in results.iter().zip(&expected).enumerate() {
            let (r, a) = if want.element_type().is_float() {
                (rtol, atol)
            } else {
                (0.0, 0.0)
            };
            compare(
                std::slice::from_ref(result),
                std::slice::from_ref(want),
                r,
                a,
            )
            .map_err(|e| format!("{how}: output {i}: {e}"))?;
        }
    }
    Ok(())
}

/// An after-optimization file gives what the program before optimization gives.
fn differential(before: &Path, after: &Path) -> Result<(), String> {
    let reference = import(before)?;
    let inputs: Vec<Array> = reference
        .parameter_shapes()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_array()
                .map(|a| seeded(a, i as u64))
                .ok_or_else(|| format!("parameter {i} is a tuple"))
        })
        .collect::<Result<_, _>>()?;
    let want = interp::run(&reference, &inputs).map_err(|e| format!("before: {e}"))?;
    for (how, got) in run_every_way(import(after)?, &inputs)? {
        compare(&got, &want, 1e-2, 1e-3).map_err(|e| format!("{how}: {e}"))?;
    }
    Ok(())
}

/// Deterministic inputs of every type: small integers, floats in [-2, 2).
fn seeded(shape: &ArrayShape, seed: u64) -> Array {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let shape = ArrayShape::new(shape.element, shape.dims.clone());
    let size = shape.element.byte_size();
    let mut bytes = Vec::with_capacity(shape.element_count() * size);
    for _ in 0..shape.element_count() {
        let r = next();
        let number = match shape.element.kind() {
            Kind::Pred => Number::Bool(r & 1 == 1),
            Kind::Signed => Number::Int((r % 16) as i128 - 8),
            Kind::Unsigned => Number::Int((r % 16) as i128),
            Kind::Float => Number::Float((r >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0),
        };
        let scalar = Scalar::from_number(shape.element, number);
        bytes.extend_from_slice(&scalar.bits.to_le_bytes()[..size]);
    }
    if shape.element == ElementType::Pred {
        debug_assert!(bytes.iter().all(|&b| b <= 1));
    }
    Array::from_bytes(&shape, &bytes)
}

/// XLA:GPU's transpose fusion: `kInput`, a transpose as its hero, a copy into
/// the transposed layout. The interpreter gives the transpose (checked element
/// by element), and the CPU backend, running the fusion as written, gives the
/// interpreter's numbers or refuses it as unsupported.
fn xla_gpu_fusions() -> Result<(), String> {
    let text = "HloModule gpu_transpose, is_scheduled=true, entry_computation_layout={(f32[3,4]{1,0})->f32[4,3]{1,0}}

%fused_transpose (param_0: f32[3,4]) -> f32[4,3] {
  %param_0 = f32[3,4]{1,0} parameter(0)
  %copy.1 = f32[3,4]{0,1} copy(%param_0)
  %bitcast.1 = f32[4,3]{1,0} bitcast(%copy.1)
  ROOT %negate.1 = f32[4,3]{1,0} negate(%bitcast.1)
}

ENTRY %main (x: f32[3,4]) -> f32[4,3] {
  %x = f32[3,4]{1,0} parameter(0), sharding={replicated}
  ROOT %t = f32[4,3]{1,0} fusion(%x), kind=kInput, calls=%fused_transpose, backend_config={\"fusion_backend_config\":{\"kind\":\"__transpose\"}}
}
";
    let module = parse_module(text).map_err(|e| e.to_string())?;
    let input = seeded(&ArrayShape::new(ElementType::F32, vec![3, 4]), 7);
    let result = interp::run(&module, std::slice::from_ref(&input)).map_err(|e| e.to_string())?;
    let (x, y) = (input.to_f64_vec(), result[0].to_f64_vec());
    for i in 0..4 {
        for j in 0..3 {
            if y[i * 3 + j] != -x[j * 4 + i] {
                return Err(format!("element [{i},{j}] is {}", y[i * 3 + j]));
            }
        }
    }
    match cpu::Executable::new(&module) {
        Ok(executable) => {
            let actual = executable
                .run(std::slice::from_ref(&input))
                .map_err(|e| e.to_string())?;
            compare(&actual, &result, 0.0, 0.0).map_err(|e| format!("cpu: {e}"))
        }
        Err(e) if e.kind == RuntimeErrorKind::Unsupported => Ok(()),
        Err(e) => Err(format!("cpu: {e}")),
    }
}

fn entry_relayouts() -> Result<(), String> {
    let text = "HloModule m, entry_computation_layout={(f32[2,3]{0,1})->(f32[2,3]{0,1}, f32[3]{0})}

ENTRY main {
  x = f32[2,3]{1,0} parameter(0)
  n = f32[2,3]{1,0} negate(x)
  z = f32[3]{0} constant({1, 2, 3})
  ROOT t = (f32[2,3]{1,0}, f32[3]{0}) tuple(n, z)
}
";
    let module = parse_module(text).map_err(|e| e.to_string())?;
    let signature = format!(
        "{} -> {}",
        module.parameter_shapes()[0],
        module.entry().root_instr().shape
    );
    if signature != "f32[2,3]{0,1} -> (f32[2,3]{0,1}, f32[3]{0})" {
        return Err(format!("the entry's signature is {signature}"));
    }
    let input = seeded(&ArrayShape::new(ElementType::F32, vec![2, 3]), 3);
    let result = interp::run(&module, std::slice::from_ref(&input)).map_err(|e| e.to_string())?;
    let negated: Vec<f64> = input.to_f64_vec().iter().map(|x| -x).collect();
    if result.len() != 2
        || result[0].to_f64_vec() != negated
        || result[1].to_f64_vec() != [1.0, 2.0, 3.0]
    {
        return Err(format!("the results are {result:?}"));
    }
    Ok(())
}
