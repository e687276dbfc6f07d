//! Loading a program and binding its inputs: an HLO text file is imported as it
//! is; a `.om` script is traced for the shapes its input files (or `--shape`)
//! fix.

use std::io::Read;
use std::path::Path;

use omelet_compiler::hlo::Module;
use omelet_compiler::import::parse_module;
use omelet_compiler::trace::{self, KnownShapes};
use omelet_runtime::{Array, memory};

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
    args.check_unique()?;
    let name = path.display().to_string();
    let source = read_source(path)
        .map_err(|e| CliError::User(format!("error[E-INPUT]: cannot read {name}: {e}")))?;
    // A byte-order mark, as some Windows editors write, is not part of the
    // program; spans count from after it, and the text rendered is the same.
    let source = source.strip_prefix('\u{feff}').unwrap_or(&source);
    let files = inputs::read_files(&args.inputs)?;
    let is_hlo = path.extension().is_some_and(|e| e == "hlo")
        || source.trim_start().starts_with("HloModule");
    let module = if is_hlo {
        parse_module(source).map_err(|e| CliError::User(render(&name, source, &e)))?
    } else {
        let rendered = |e| CliError::User(render(&name, source, &e));
        let program = omelet_grammar::omelet::parse(source).map_err(|e| rendered(e.into()))?;
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
        // Before any random input is made: every backend holds the inputs and
        // results at once.
        memory::check(memory::edge_bytes(&module), "its inputs and results")
            .map_err(|e| CliError::from_runtime("the program cannot run", e))?;
        inputs::bind(&module, files, args.random)?
    } else {
        Vec::new()
    };
    Ok(Loaded { module, inputs })
}

/// The largest program read, in bytes: far beyond any real script or HLO
/// module (JAX's largest fixtures are a few MiB), and small enough that reading
/// `/dev/zero` or a huge file by mistake ends at once.
pub const MAX_PROGRAM_BYTES: u64 = 64 << 20;

/// A program's text: from a regular file of at most [`MAX_PROGRAM_BYTES`], in
/// UTF-8. A directory, a FIFO (which could block for ever) or a device is an
/// error.
fn read_source(path: &Path) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if metadata.is_dir() {
        return Err("it is a directory".to_string());
    }
    if !metadata.is_file() {
        return Err("not a regular file (a FIFO, a device or a socket); \
                    programs are read from files"
            .to_string());
    }
    let too_large = || {
        format!(
            "it is larger than the {} MiB a program may take",
            MAX_PROGRAM_BYTES >> 20
        )
    };
    if metadata.len() > MAX_PROGRAM_BYTES {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // The file may grow after the check: read no more than the cap allows.
    let mut bytes = Vec::new();
    file.take(MAX_PROGRAM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_PROGRAM_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| format!("it is not UTF-8 text ({e})"))
}
