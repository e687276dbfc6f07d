//! The fixtures (`tests/jax/*/` from JAX, `tests/xla/*/` hand-written with XLA's
//! outputs), each checked four ways:
//! - `interp::NAME`: the interpreter reproduces JAX's outputs within the fixture's tolerance;
//! - `print::NAME`: the printed module matches its golden `printed.hlo` (`BLESS=1` rewrites it);
//! - `roundtrip::NAME`: printing, parsing and printing again changes nothing;
//! - `xla::NAME`: XLA's own parser accepts the printed module and runs it to JAX's outputs.
//!   Needs Python with jax; skipped with a printed reason where it is missing, except in
//!   CI (`CI` set), where a missing jax is a failure.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};
use omelet_compiler::hlo::print_module;
use omelet_compiler::import::parse_module;
use omelet_runtime::interp;

use support::{check_golden, compare, fixture_dirs, fixture_name, numbered_npy, tolerances};

fn main() {
    let args = Arguments::from_args();
    let dirs = fixture_dirs();
    let xla = Arc::new(XlaBatch {
        dirs: dirs.clone(),
        result: OnceLock::new(),
    });
    let mut trials = Vec::new();
    for dir in dirs {
        let name = fixture_name(&dir);
        let d = dir.clone();
        trials.push(Trial::test(format!("interp::{name}"), move || {
            interp_matches_jax(&d)
        }));
        let d = dir.clone();
        trials.push(Trial::test(format!("print::{name}"), move || {
            printed_matches_golden(&d)
        }));
        let d = dir.clone();
        trials.push(Trial::test(format!("roundtrip::{name}"), move || {
            roundtrip(&d)
        }));
        let xla = xla.clone();
        trials.push(Trial::test(format!("xla::{name}"), move || xla.check(&dir)));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn load(dir: &Path) -> Result<omelet_compiler::hlo::Module, Failed> {
    let text = std::fs::read_to_string(dir.join("module.hlo")).map_err(|e| e.to_string())?;
    Ok(parse_module(&text).map_err(|e| format!("{e:?}"))?)
}

fn interp_matches_jax(dir: &Path) -> Result<(), Failed> {
    let module = load(dir)?;
    let results = interp::run(&module, &numbered_npy(dir, "in")).map_err(|e| e.to_string())?;
    let (rtol, atol) = tolerances(dir);
    Ok(compare(
        &results,
        &numbered_npy(dir, "expected"),
        rtol,
        atol,
    )?)
}

fn printed_matches_golden(dir: &Path) -> Result<(), Failed> {
    Ok(check_golden(
        &dir.join("printed.hlo"),
        &print_module(&load(dir)?),
    )?)
}

fn roundtrip(dir: &Path) -> Result<(), Failed> {
    let printed = print_module(&load(dir)?);
    let reparsed =
        parse_module(&printed).map_err(|e| format!("the printed module does not parse: {e:?}"))?;
    let again = print_module(&reparsed);
    if again != printed {
        return Err("print(parse(print(m))) != print(m)".into());
    }
    Ok(())
}

/// Runs every printed fixture through XLA once, in one Python process, the first
/// time any `xla::` trial asks.
struct XlaBatch {
    dirs: Vec<PathBuf>,
    result: OnceLock<Result<PathBuf, String>>,
}

impl XlaBatch {
    fn check(&self, dir: &Path) -> Result<(), Failed> {
        let work = match self.result.get_or_init(|| self.run()) {
            Ok(work) => work,
            Err(skip) if std::env::var_os("CI").is_none() => {
                println!("skipped: {skip}");
                return Ok(());
            }
            Err(e) => return Err(e.clone().into()),
        };
        let out = work.join(fixture_name(dir));
        if let Ok(error) = std::fs::read_to_string(out.join("error.txt")) {
            return Err(format!("XLA rejected or failed on the printed module: {error}").into());
        }
        let (rtol, atol) = tolerances(dir);
        Ok(compare(
            &numbered_npy(&out, "out"),
            &numbered_npy(dir, "expected"),
            rtol,
            atol,
        )?)
    }

    fn run(&self) -> Result<PathBuf, String> {
        let has_jax = Command::new("python3")
            .args(["-c", "import jax"])
            .stderr(Stdio::null())
            .status();
        if !has_jax.is_ok_and(|s| s.success()) {
            return Err("python3 with jax is not installed (pip install jax)".into());
        }
        let work = std::env::temp_dir().join(format!("omelet-xla-{}", std::process::id()));
        let mut jobs = Vec::new();
        for dir in &self.dirs {
            let out = work.join(fixture_name(dir));
            std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
            let module = out.join("printed.hlo");
            let printed = match load(dir) {
                Ok(m) => print_module(&m),
                Err(_) => continue, // the interp:: trial reports it
            };
            std::fs::write(&module, printed).map_err(|e| e.to_string())?;
            let inputs: Vec<PathBuf> = (0..)
                .map(|i| dir.join(format!("in{i}.npy")))
                .take_while(|p| p.exists())
                .collect();
            jobs.push(serde_json::json!({"module": module, "out": out, "inputs": inputs}));
        }
        let script = support::root().join("tests/xla_check.py");
        let mut child = Command::new("python3")
            .arg(script)
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let stdin = child.stdin.take().expect("piped");
        serde_json::to_writer(stdin, &jobs).map_err(|e| e.to_string())?;
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("tests/xla_check.py failed: {status}"));
        }
        Ok(work)
    }
}
