//! Parsers for what users write: XLA's HLO text ([`hlo`]) and the `.om`
//! language ([`omelet`]). Each parser turns text into a syntax tree whose nodes carry byte
//! [`Span`]s; giving it meaning (shapes, ops, types) is the compiler's job.
//! This crate knows nothing of the HLO graph.

#![forbid(unsafe_code)]

pub mod hlo;
pub mod omelet;
mod span;

pub use span::{ParseError, Span};
