//! The corpus of real programs, `tests/real/*/`: JAX, flax.linen and optax as
//! users write them (`tests/real/programs/*.py`, made by `tests/real/make.py`).
//!
//! Trials, per program:
//! - `parse::NAME::FILE`: `module.hlo` (what `jax.jit(f).lower(..).as_text()`
//!   gives), `dump.before.txt` and `dump.cpu_after.txt` (XLA's own dumps before
//!   and after its CPU optimizations) are read into a `Module` without error;
//! - `run::NAME::BACKEND` for `interp`, `cpu` and `gpu`: `module.hlo` runs on the
//!   inputs `in*.npy` to JAX's outputs `expected*.npy`, within meta.json's
//!   tolerance for float outputs and exactly for integer, bool and key outputs.
//!   `gpu` trials need an adapter: without one they are ignored with the reason
//!   printed, except where `OMELET_REQUIRE_TOOLS` is set (`.ci/run`);
//! - `remake::mlp_sgd_step`: `python3 tests/real/make.py --check` remakes one
//!   program and finds the same module, inputs and outputs (needs jax, flax and
//!   optax at the versions `.ci/run` installs; ignored without them).
//!
//! Most programs do not run yet. `tests/real/expected.txt` lists the outcome each
//! trial is expected to have, `pass` or `fail: FIRST ERROR LINE`, and a trial
//! fails on any difference either way: a regression, or an unexpected pass (so
//! the file stays current). `OMELET_REAL_UPDATE=1 cargo test -p omelet --test
//! real` rewrites the file from the actual outcomes (lines of trials that did not
//! run, filtered out or ignored, are kept). The last line of output says how many
//! programs run on every backend.

mod support;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Failed, Trial};
use omelet_compiler::hlo::Module;
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_runtime::{Array, cpu, gpu, interp, npy};

use support::{compare, gpu_device, ignore_gpu_trials, ignore_without, root};

const FILES: [&str; 3] = ["module.hlo", "dump.before.txt", "dump.cpu_after.txt"];
const BACKENDS: [&str; 3] = ["interp", "cpu", "gpu"];
const UPDATE: &str = "OMELET_REAL_UPDATE";
/// The program `remake::` regenerates: small, with flax and optax.
const REMADE: &str = "mlp_sgd_step";

/// Actual outcomes, by trial name: `pass` or `fail: ...`.
type Outcomes = Arc<Mutex<BTreeMap<String, String>>>;

fn main() {
    let args = Arguments::from_args();
    let programs = programs();
    let expected = Arc::new(read_expectations());
    let outcomes: Outcomes = Arc::default();
    let no_gpu = ignore_gpu_trials();
    let mut trials = Vec::new();
    let mut names = Vec::new();
    for dir in &programs {
        let program = dir.file_name().unwrap().to_string_lossy().to_string();
        for file in FILES {
            let path = dir.join(file);
            names.push(format!("parse::{program}::{file}"));
            trials.push(expectation_trial(
                names.last().unwrap(),
                &expected,
                &outcomes,
                false,
                move || parse_file(&path).map(|_| ()),
            ));
        }
        for backend in BACKENDS {
            let d = dir.clone();
            names.push(format!("run::{program}::{backend}"));
            trials.push(expectation_trial(
                names.last().unwrap(),
                &expected,
                &outcomes,
                backend == "gpu" && no_gpu,
                move || run_matches(&d, backend),
            ));
        }
    }
    let known = names.clone();
    let listed = expected.clone();
    trials.push(Trial::test("expected.txt::no-stale-lines", move || {
        if std::env::var_os(UPDATE).is_some() {
            return Ok(());
        }
        let stale: Vec<&String> = listed.keys().filter(|k| !known.contains(k)).collect();
        if stale.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "tests/real/expected.txt lists trials that do not exist: {stale:?} (rewrite it with {UPDATE}=1)"
            )
            .into())
        }
    }));
    let no_python = ignore_without("remake", &python_flax());
    trials.push(
        Trial::test(format!("remake::{REMADE}"), || remake(REMADE)).with_ignored_flag(no_python),
    );
    let conclusion = libtest_mimic::run(&args, trials);
    let outcomes = outcomes.lock().unwrap().clone();
    if std::env::var_os(UPDATE).is_some() {
        write_expectations(&expected, &outcomes, &names);
    }
    summary(&programs, &outcomes, &expected, no_gpu);
    conclusion.exit();
}

/// Every program folder of the corpus, sorted.
fn programs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/real"))
        .expect("tests/real exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.join("module.hlo").exists())
        .collect();
    dirs.sort();
    dirs
}

fn expectations_path() -> PathBuf {
    root().join("tests/real/expected.txt")
}

/// `tests/real/expected.txt`: trial name → `pass` or `fail: ...`.
fn read_expectations() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(expectations_path()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once(' '))
        .map(|(name, outcome)| (name.to_string(), outcome.to_string()))
        .collect()
}

fn write_expectations(
    old: &BTreeMap<String, String>,
    outcomes: &BTreeMap<String, String>,
    names: &[String],
) {
    let mut text = String::from(
        "# The outcome each trial of cli/tests/real.rs is expected to have: `TRIAL pass`\n\
         # or `TRIAL fail: FIRST ERROR LINE`. Any other outcome fails the trial.\n\
         # Rewrite from the actual outcomes: OMELET_REAL_UPDATE=1 cargo test -p omelet --test real\n",
    );
    for name in names {
        if let Some(outcome) = outcomes.get(name).or_else(|| old.get(name)) {
            text.push_str(&format!("{name} {outcome}\n"));
        }
    }
    std::fs::write(expectations_path(), text).expect("tests/real/expected.txt is writable");
    eprintln!("rewrote {}", expectations_path().display());
}

/// A trial that runs `check`, records its outcome, and passes when the outcome
/// is the one `expected` lists (always, where `OMELET_REAL_UPDATE` is set).
fn expectation_trial(
    name: &str,
    expected: &Arc<BTreeMap<String, String>>,
    outcomes: &Outcomes,
    ignored: bool,
    check: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> Trial {
    let (name_owned, expected, outcomes) = (name.to_string(), expected.clone(), outcomes.clone());
    Trial::test(name, move || {
        let outcome = match catch_unwind(AssertUnwindSafe(check)) {
            Ok(Ok(())) => "pass".to_string(),
            Ok(Err(e)) => format!("fail: {}", first_line(&e)),
            Err(panic) => format!("fail: panic: {}", first_line(&panic_message(panic))),
        };
        outcomes
            .lock()
            .unwrap()
            .insert(name_owned.clone(), outcome.clone());
        if std::env::var_os(UPDATE).is_some() {
            return Ok(());
        }
        match expected.get(&name_owned) {
            Some(e) if *e == outcome => Ok(()),
            Some(e) => Err(Failed::from(format!(
                "expected `{e}`, got `{outcome}` (if that is progress, rewrite tests/real/expected.txt with {UPDATE}=1)"
            ))),
            None => Err(Failed::from(format!(
                "tests/real/expected.txt has no line for this trial; it gives `{outcome}` (rewrite the file with {UPDATE}=1)"
            ))),
        }
    })
    .with_ignored_flag(ignored)
}

/// An error's first line, without this checkout's path, at most 200 bytes: the
/// same on every machine.
fn first_line(message: &str) -> String {
    let root = format!("{}/", root().display());
    let line = message.lines().next().unwrap_or("").replace(&root, "");
    let mut end = line.len().min(200);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line[..end].trim_end().to_string()
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".to_string())
}

fn parse_file(path: &Path) -> Result<Module, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_module(&text).map_err(|e| match e.span {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("{e} (line {line}, column {column})")
        }
        None => e.to_string(),
    })
}

/// The program's meta.json.
fn meta(dir: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(dir.join("meta.json")).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("meta.json: {e}"))
}

fn numbered(dir: &Path, prefix: &str, count: usize) -> Result<Vec<Array>, String> {
    (0..count)
        .map(|i| npy::read(&dir.join(format!("{prefix}{i}.npy"))))
        .collect()
}

fn run_matches(dir: &Path, backend: &str) -> Result<(), String> {
    let meta = meta(dir)?;
    let count = |key: &str| meta[key].as_array().map_or(0, Vec::len);
    let module = parse_file(&dir.join("module.hlo"))?;
    let inputs = numbered(dir, "in", count("inputs"))?;
    let results = match backend {
        "interp" => interp::run(&module, &inputs).map_err(|e| e.to_string())?,
        "cpu" => {
            let fused = compile(module, Stage::Fused).module;
            let executable = cpu::Executable::new(&fused).map_err(|e| e.to_string())?;
            executable.run(&inputs).map_err(|e| e.to_string())?
        }
        _ => {
            let fused = compile(module, Stage::Fused).module;
            let executable =
                gpu::Executable::new(&fused, gpu_device()?).map_err(|e| e.to_string())?;
            executable.run(&inputs).map_err(|e| e.to_string())?
        }
    };
    let expected = numbered(dir, "expected", count("outputs"))?;
    if results.len() != expected.len() {
        return Err(format!(
            "{} results, expected {}",
            results.len(),
            expected.len()
        ));
    }
    let rtol = meta["rtol"].as_f64().unwrap_or(1e-3);
    let atol = meta["atol"].as_f64().unwrap_or(1e-4);
    for (i, (result, want)) in results.iter().zip(&expected).enumerate() {
        let dtype = meta["outputs"][i]["dtype"].as_str().unwrap_or("float32");
        let (r, a) = if dtype.contains("float") {
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
        .map_err(|e| {
            let name = meta["outputs"][i]["name"].as_str().unwrap_or("?");
            format!("output {i} {name}: {}", e.trim_start_matches("result 0: "))
        })?;
    }
    Ok(())
}

/// Whether `python3` imports jax, flax and optax.
fn python_flax() -> Result<(), String> {
    let status = Command::new("python3")
        .args(["-c", "import jax, flax, optax"])
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        _ => Err("python3 with jax, flax and optax is not installed".into()),
    }
}

/// `tests/real/make.py --check NAME`: the program remade gives the same files.
fn remake(name: &str) -> Result<(), Failed> {
    let output = Command::new("python3")
        .arg(root().join("tests/real/make.py"))
        .args(["--check", name])
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "tests/real/make.py --check {name} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
    .into())
}

/// Prints how many programs run on every backend (and parse in every form):
/// from this run's outcomes, and expected.txt's for trials that did not run.
fn summary(
    programs: &[PathBuf],
    outcomes: &BTreeMap<String, String>,
    expected: &BTreeMap<String, String>,
    no_gpu: bool,
) {
    let passes = |trial: String| {
        outcomes
            .get(&trial)
            .or_else(|| expected.get(&trial))
            .is_some_and(|o| o == "pass")
    };
    let backends: Vec<&str> = BACKENDS
        .iter()
        .copied()
        .filter(|b| !(no_gpu && *b == "gpu"))
        .collect();
    let name = |dir: &PathBuf| dir.file_name().unwrap().to_string_lossy().to_string();
    let everywhere = programs
        .iter()
        .filter(|d| {
            backends
                .iter()
                .all(|b| passes(format!("run::{}::{b}", name(d))))
        })
        .count();
    let parsed = programs
        .iter()
        .filter(|d| {
            FILES
                .iter()
                .all(|f| passes(format!("parse::{}::{f}", name(d))))
        })
        .count();
    let gpu = if no_gpu {
        " (gpu not checked here)"
    } else {
        ""
    };
    println!(
        "real programs: {parsed} of {} parse in every form; {everywhere} of {} programs run on every backend{gpu}",
        programs.len(),
        programs.len()
    );
}
