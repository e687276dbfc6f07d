//! Every file of the dump corpus (`tests/dumps/`, written by
//! `python3 tests/dumps/make.py`) parses: the `--xla_dump_to` files XLA writes
//! before and after optimization, and `compiled.as_text()`.
//!
//! The parse is checked against the text too, so that a rule which swallowed
//! instructions would not pass: each module has one entry, as many instructions
//! as the file has `name = ...` lines, and the debug tables XLA prints.

use std::fs;
use std::path::{Path, PathBuf};

use omelet_grammar::hlo::{self, ModuleAst};

/// The corpus has at least this many files; fewer means they were not found.
const MIN_FILES: usize = 29;

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/dumps");
    let mut files = Vec::new();
    for program in fs::read_dir(&root).expect("tests/dumps exists") {
        let program = program.unwrap().path();
        if !program.is_dir() {
            continue;
        }
        for file in fs::read_dir(&program).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "txt") {
                files.push(file);
            }
        }
    }
    files.sort();
    files
}

/// The instruction lines of a module's text: inside a computation, `name = ...`.
fn instruction_lines(text: &str) -> usize {
    text.lines()
        .filter(|line| line.starts_with("  "))
        .map(|line| line.trim_start().trim_start_matches("ROOT "))
        .filter(|line| {
            line.split_once(" = ")
                .is_some_and(|(name, _)| !name.contains(' '))
        })
        .count()
}

fn check(path: &Path, text: &str, module: &ModuleAst) -> Result<(), String> {
    let entries = module.computations.iter().filter(|c| c.is_entry).count();
    if entries != 1 {
        return Err(format!("{entries} entry computations"));
    }
    let parsed: usize = module
        .computations
        .iter()
        .map(|c| c.instructions.len())
        .sum();
    let written = instruction_lines(text);
    if parsed != written {
        return Err(format!("{parsed} instructions parsed, {written} written"));
    }
    let tables: Vec<&str> = module.tables.iter().map(|t| t.name.as_str()).collect();
    let expected = ["FileNames", "FunctionNames", "FileLocations", "StackFrames"];
    if tables != expected {
        return Err(format!("tables {tables:?}, expected {expected:?}"));
    }
    if module.tables.iter().any(|t| t.entries.is_empty()) {
        return Err("an empty table".to_string());
    }
    if path.ends_with("cpu_after_optimizations.txt")
        && !module.attributes.iter().any(|a| a.name == "is_scheduled")
    {
        return Err("no is_scheduled attribute".to_string());
    }
    Ok(())
}

#[test]
fn every_dump_file_parses() {
    let files = corpus();
    assert!(
        files.len() >= MIN_FILES,
        "found {} dump files under tests/dumps, expected at least {MIN_FILES}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let text = fs::read_to_string(path).unwrap();
        let result = hlo::parse(&text).map_err(|e| {
            let line = text[..e.span.start].matches('\n').count() + 1;
            format!("line {line}: {}", e.message)
        });
        if let Err(e) = result.and_then(|m| check(path, &text, &m)) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} dump files fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
