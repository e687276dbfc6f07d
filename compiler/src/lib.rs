//! The compiler: the HLO graph and everything that builds, reads, writes and
//! estimates it. Later stages (tracer, optimizer, fusion) live here too.

#![forbid(unsafe_code)]

pub mod cost;
pub mod dump;
mod error;
pub mod explain;
pub mod fusion;
pub mod hlo;
pub mod import;
pub mod opt;
pub mod pipeline;
pub mod trace;
pub use error::{CompileError, ErrorKind, Span};
// The 16-bit float types, for crates that name `Element` types.
pub use half;
