//! Loading a program and binding its inputs: an HLO text file is imported as it
//! is; a `.om` script is traced for the shapes its input files (or `--shape`)
//! fix.

use std::path::Path;

use omelet_compiler::hlo::Module;
use omelet_compiler::import::parse_module;
use omelet_compiler::trace::{self, KnownShapes};
use omelet_runtime::Array;

use crate::CliError;
use crate::diagnostics::render;
use crate::inputs::{self, InputArgs};

/// The module and one array per entry parameter.
pub struct Loaded {
    pub module: Module,
    pub inputs: Vec<Array>,
}

/// Reads, parses (or traces) `path`, and binds its inputs; every error is
/// rendered against its source.
pub fn load(path: &Path, args: &InputArgs, bind_inputs: bool) -> Result<Loaded, CliError> {
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| CliError::User(format!("error: cannot read {name}: {e}")))?;
    let files = inputs::read_files(&args.inputs)?;
    let is_hlo = path.extension().is_some_and(|e| e == "hlo")
        || source.trim_start().starts_with("HloModule");
    let module = if is_hlo {
        parse_module(&source).map_err(|e| CliError::User(render(&name, &source, &e)))?
    } else {
        let rendered = |e| CliError::User(render(&name, &source, &e));
        let program = omelet_grammar::omelet::parse(&source).map_err(|e| rendered(e.into()))?;
        let params = trace::main_parameters(&program).map_err(rendered)?;
        let mut known = KnownShapes {
            dims: args.shapes.iter().map(Into::into).collect(),
            ..KnownShapes::default()
        };
        for (target, array) in &files {
            let param = inputs::resolve(target, &params)?;
            known.inputs.insert(params[param].clone(), array.shape());
        }
        let module_name = path
            .file_stem()
            .map_or("main".into(), |s| s.to_string_lossy().to_string());
        trace::Tracer::trace(&program, &module_name, &known).map_err(rendered)?
    };
    let inputs = if bind_inputs {
        inputs::bind(&module, files, args.random)?
    } else {
        Vec::new()
    };
    Ok(Loaded { module, inputs })
}
