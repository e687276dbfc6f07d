//! Error golden tests: every `tests/errors/NAME.hlo` or `NAME.om` is a bad
//! program; `omelet hlo` on it must exit with status 2 and print exactly
//! `tests/errors/NAME.stderr` (`BLESS=1` rewrites the expectations). A first line
//! `# omelet: ARGS` passes extra flags (input files, `--shape`).

mod support;

use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let mut cases: Vec<_> = std::fs::read_dir(support::root().join("tests/errors"))
        .expect("tests/errors exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hlo" || e == "om"))
        .collect();
    cases.sort();
    let trials = cases
        .into_iter()
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            Trial::test(file.clone(), move || check(&file))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn check(file: &str) -> Result<(), Failed> {
    let root = support::root();
    let path = format!("tests/errors/{file}");
    let source = std::fs::read_to_string(root.join(&path)).map_err(|e| e.to_string())?;
    let extra = source
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# omelet:"))
        .unwrap_or_default();
    let output = Command::new(env!("CARGO_BIN_EXE_omelet"))
        .current_dir(&root)
        .args(["hlo", &path])
        .args(extra.split_whitespace())
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.code() != Some(2) {
        return Err(format!("exit status {:?}, expected 2", output.status.code()).into());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let golden = root.join(&path).with_extension("stderr");
    Ok(support::check_golden(&golden, &stderr)?)
}
