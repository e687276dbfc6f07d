//! Loading a program: an HLO text file today, `.om` scripts once the language lands.

use std::path::Path;

use omelet_compiler::hlo::Module;
use omelet_compiler::import::parse_module;

use crate::CliError;
use crate::diagnostics::render;

/// Reads and imports `path`, rendering any error against its source.
pub fn load(path: &Path) -> Result<Module, CliError> {
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| CliError::User(format!("error: cannot read {name}: {e}")))?;
    let is_hlo = path.extension().is_some_and(|e| e == "hlo")
        || source.trim_start().starts_with("HloModule");
    if !is_hlo {
        return Err(CliError::User(format!(
            "error: {name} is not an HLO module (the .om language is not supported yet)"
        )));
    }
    parse_module(&source).map_err(|e| CliError::User(render(&name, &source, &e)))
}
