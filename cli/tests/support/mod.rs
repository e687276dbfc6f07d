//! Helpers shared by the integration tests: fixture paths, array comparison and
//! golden files.

#![allow(dead_code)] // each test binary uses its own subset

pub mod fuzz;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use omelet_compiler::hlo::Module;
use omelet_runtime::{Array, gpu, npy};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_path_buf()
}

/// The `omelet` binary, run from the workspace root. Mesa's drivers print a
/// warning on every device open where `XDG_RUNTIME_DIR` is unset (`.ci/run`
/// sets it): set here too, so that what a test reads is omelet's own output.
pub fn omelet_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_omelet"));
    command.current_dir(root());
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        command.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    command
}

/// Every fixture directory, sorted: JAX programs (`tests/jax`), hand-written
/// HLO whose expected outputs XLA computed (`tests/xla`), and `.om` scripts with
/// their JAX twins' outputs (`tests/om`).
pub fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = ["tests/jax", "tests/xla", "tests/om"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root().join(d)).expect("fixture folders exist"))
        .map(|e| e.expect("readable").path())
        .filter(|p| p.join("module.hlo").exists() || p.join("script.om").exists())
        .collect();
    dirs.sort();
    dirs
}

/// `jax/NAME`, `xla/NAME` or `om/NAME`: a fixture's name in test output.
pub fn fixture_name(dir: &Path) -> String {
    let parent = dir.parent().and_then(Path::file_name).unwrap_or_default();
    format!(
        "{}/{}",
        parent.to_string_lossy(),
        dir.file_name().unwrap_or_default().to_string_lossy()
    )
}

/// Whether the trials that need an external tool (`tool`: jax, valgrind, a GPU
/// adapter) are ignored here, given `probe`, whether it is available. Where
/// `OMELET_REQUIRE_TOOLS` is set (`.ci/run` sets it, after installing every tool)
/// they always run, so a missing tool fails them; elsewhere a missing tool marks
/// them ignored, and the reason is printed once.
pub fn ignore_without(tool: &str, probe: &Result<(), String>) -> bool {
    match probe {
        Ok(()) => false,
        Err(_) if tools_required() => false,
        Err(reason) => {
            eprintln!(
                "{tool} trials ignored: {reason} (.ci/run installs it; OMELET_REQUIRE_TOOLS=1 makes this a failure)"
            );
            true
        }
    }
}

/// Whether every external tool must be present (`OMELET_REQUIRE_TOOLS` set).
pub fn tools_required() -> bool {
    std::env::var_os("OMELET_REQUIRE_TOOLS").is_some()
}

/// Whether `python3` imports jax, for the trials that run XLA or JAX; checked once.
pub fn python_jax() -> Result<(), String> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let status = std::process::Command::new("python3")
                .args(["-c", "import jax"])
                .stderr(std::process::Stdio::null())
                .status();
            match status {
                Ok(s) if s.success() => Ok(()),
                _ => Err("python3 with jax is not installed (pip install jax)".into()),
            }
        })
        .clone()
}

/// The GPU the `gpu::` trials run on, opened once; or why there is none.
pub fn gpu_device() -> Result<Arc<gpu::Gpu>, String> {
    static GPU: OnceLock<Result<Arc<gpu::Gpu>, String>> = OnceLock::new();
    GPU.get_or_init(|| gpu::open(None).map_err(|e| e.to_string()))
        .clone()
}

/// The GPU device again, with subgroup operations left unused; `None` where
/// the adapter has none anyway (the `gpu::` trials then cover that code).
pub fn gpu_device_without_subgroups() -> Option<Arc<gpu::Gpu>> {
    static GPU: OnceLock<Option<Arc<gpu::Gpu>>> = OnceLock::new();
    GPU.get_or_init(|| {
        gpu_device()
            .ok()
            .filter(|g| g.subgroups)
            .map(|g| g.without_subgroups())
    })
    .clone()
}

/// The GPU for a test that checks the GPU backend too, `None` where there is no
/// adapter (skipping that check, with the reason printed once); where
/// `OMELET_REQUIRE_TOOLS` is set, a missing adapter panics instead.
pub fn gpu_if_present() -> Option<Arc<gpu::Gpu>> {
    static SAID: std::sync::Once = std::sync::Once::new();
    match gpu_device() {
        Ok(gpu) => Some(gpu),
        Err(reason) if tools_required() => {
            panic!("no GPU adapter (OMELET_REQUIRE_TOOLS is set): {reason}")
        }
        Err(reason) => {
            SAID.call_once(|| eprintln!("the gpu backend is not checked here: {reason}"));
            None
        }
    }
}

/// Whether `gpu::` trials are ignored here (see [`ignore_without`]).
pub fn ignore_gpu_trials() -> bool {
    ignore_without("gpu", &gpu_device().map(|_| ()))
}

/// `prefix0.npy`, `prefix1.npy`, ... in `dir`, as many as exist.
pub fn numbered_npy(dir: &Path, prefix: &str) -> Vec<Array> {
    (0..)
        .map(|i| dir.join(format!("{prefix}{i}.npy")))
        .take_while(|p| p.exists())
        .map(|p| npy::read(&p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// The fixture's tolerances from meta.json: (rtol, atol).
pub fn tolerances(dir: &Path) -> (f64, f64) {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).expect("meta.json"))
            .expect("valid JSON");
    (
        meta["rtol"].as_f64().unwrap_or(1e-4),
        meta["atol"].as_f64().unwrap_or(1e-5),
    )
}

/// Checks `actual` against `expected` elementwise: |a - e| <= atol + rtol * |e|,
/// NaN matching NaN and infinities matching exactly.
pub fn compare(actual: &[Array], expected: &[Array], rtol: f64, atol: f64) -> Result<(), String> {
    compare_with(actual, expected, |_| (rtol, atol))
}

/// Like `compare`, with the error of each array measured against its largest
/// finite magnitude: |a - e| <= rel * max(1, max |e|). For generated programs,
/// whose cancellations can amplify an ulp of difference in one element.
#[allow(dead_code)]
pub fn compare_normwise(actual: &[Array], expected: &[Array], rel: f64) -> Result<(), String> {
    compare_with(actual, expected, |e| {
        let scale = e
            .to_f64_vec()
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(1.0, |m: f64, v| m.max(v.abs()));
        (0.0, rel * scale)
    })
}

/// `compare` with (rtol, atol) chosen per expected array.
fn compare_with(
    actual: &[Array],
    expected: &[Array],
    tolerance: impl Fn(&Array) -> (f64, f64),
) -> Result<(), String> {
    if actual.len() != expected.len() {
        return Err(format!(
            "{} results, expected {}",
            actual.len(),
            expected.len()
        ));
    }
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let (rtol, atol) = tolerance(e);
        let close = |x: f64, y: f64| {
            if x.is_nan() || y.is_nan() {
                x.is_nan() && y.is_nan()
            } else if x.is_infinite() || y.is_infinite() {
                x == y
            } else {
                (x - y).abs() <= atol + rtol * y.abs()
            }
        };
        if a.element_type() != e.element_type() || a.dims() != e.dims() {
            return Err(format!(
                "result {i}: got {} expected {}",
                a.shape(),
                e.shape()
            ));
        }
        let (av, ev) = (a.to_f64_vec(), e.to_f64_vec());
        let bad: Vec<usize> = (0..av.len()).filter(|&j| !close(av[j], ev[j])).collect();
        if let Some(&j) = bad.first() {
            return Err(format!(
                "result {i}: {} of {} elements differ; first at flat index {j}: got {} expected {}",
                bad.len(),
                av.len(),
                av[j],
                ev[j]
            ));
        }
    }
    Ok(())
}

/// Compares `actual` with the golden file at `path`, or rewrites the file when
/// `BLESS=1` is set (review the result as a diff).
pub fn check_golden(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a golden file has a folder"))
            .map_err(|e| e.to_string())?;
        return std::fs::write(path, actual).map_err(|e| e.to_string());
    }
    let expected = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (run with BLESS=1 to create it)", path.display()))?;
    if expected == actual {
        return Ok(());
    }
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a);
    let line = line.unwrap_or(expected.lines().count().min(actual.lines().count()));
    Err(format!(
        "{} differs at line {}:\n  expected: {}\n  actual:   {}\n(run with BLESS=1 to accept the new output)",
        path.display(),
        line + 1,
        expected.lines().nth(line).unwrap_or("<end of file>"),
        actual.lines().nth(line).unwrap_or("<end of file>"),
    ))
}

/// Whether any value of `module` is of a 64-bit type, which HLO.md lets the GPU
/// backend refuse (by name, before running).
pub fn has_64_bit_values(module: &Module) -> bool {
    module.computations.iter().any(|c| {
        c.ids().any(|id| {
            c.instr(id)
                .shape
                .arrays()
                .iter()
                .any(|a| a.element.bit_width() == 64)
        })
    })
}
