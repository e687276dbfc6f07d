//! Parsers for what users write: XLA's HLO text ([`hlo`]) and, later, the `.om`
//! language. Each parser turns text into a syntax tree whose nodes carry byte
//! [`Span`]s; giving it meaning (shapes, ops, types) is the compiler's job.
//! This crate knows nothing of the HLO graph.

pub mod hlo;
mod span;

pub use span::{ParseError, Span};
