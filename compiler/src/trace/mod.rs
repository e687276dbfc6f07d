//! The tracer: evaluates a `.om` program's `main` once, for concrete input shapes,
//! and records every array operation as HLO.
//!
//! Expects a parsed [`Program`]. Guarantees a verified [`Module`] (its entry, then the regions its ops
//! reference) whose parameters are `main`'s (named as in the script) and whose
//! results are `main`'s return value, a tuple flattened. User functions are
//! inlined, `for` loops unrolled, compile-time scalars folded; every error a
//! script can cause comes back as a located [`CompileError`].

mod arguments;
mod arith;
mod builtins;
mod cumulative;
mod eval;
mod gather_index;
mod graph;
mod index;
mod index_builtins;
mod jnp_ops;
mod nn;
mod order_builtins;
mod promote;
mod random;
mod regions;
mod shape_builtins;
mod signature;
mod value;

use rustc_hash::FxHashMap;

use omelet_grammar::omelet::{Item, Program};

use crate::error::{CompileError, ErrorKind, Span};
use crate::hlo::{ArrayShape, Module};

pub use eval::Tracer;
pub use value::element_of;

/// What is known of `main`'s inputs before tracing.
#[derive(Clone, Debug, Default)]
pub struct KnownShapes {
    /// Shapes of inputs given as files, by parameter name.
    pub inputs: FxHashMap<String, ArrayShape>,
    /// Symbolic dimensions bound on the command line (`--shape B=64`).
    pub dims: FxHashMap<String, usize>,
}

/// Parses and traces a script into an HLO module named `name`.
pub fn trace_source(source: &str, name: &str, known: &KnownShapes) -> Result<Module, CompileError> {
    let program = omelet_grammar::omelet::parse(source)?;
    Tracer::trace(&program, name, known)
}

/// The names of `main`'s parameters, in order (for binding inputs by position).
pub fn main_parameters(program: &Program) -> Result<Vec<String>, CompileError> {
    program
        .items
        .iter()
        .find_map(|item| match item {
            Item::Fn(f) if f.name.name == "main" => {
                Some(f.params.iter().map(|p| p.name.name.clone()).collect())
            }
            _ => None,
        })
        .ok_or_else(|| {
            CompileError::at(
                ErrorKind::UnknownName,
                Span::new(0, 0),
                "the program has no `fn main`",
            )
        })
}
