//! Error golden tests: every `tests/errors/NAME.hlo` is a bad module; `omelet hlo`
//! must exit with status 2 and print exactly `tests/errors/NAME.stderr`
//! (`BLESS=1` rewrites the expectations).

mod support;

use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let mut cases: Vec<_> = std::fs::read_dir(support::root().join("tests/errors"))
        .expect("tests/errors exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hlo"))
        .collect();
    cases.sort();
    let trials = cases
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            Trial::test(name.clone(), move || check(&name))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn check(name: &str) -> Result<(), Failed> {
    let root = support::root();
    let output = Command::new(env!("CARGO_BIN_EXE_omelet"))
        .current_dir(&root)
        .args(["hlo", &format!("tests/errors/{name}.hlo")])
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.code() != Some(2) {
        return Err(format!("exit status {:?}, expected 2", output.status.code()).into());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok(support::check_golden(
        &root.join(format!("tests/errors/{name}.stderr")),
        &stderr,
    )?)
}
