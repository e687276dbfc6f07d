//! Executing HLO modules: the reference interpreter (the oracle every backend is
//! tested against), the CPU engine (Cranelift), the GPU engine (wgpu), the buffer
//! plan they share, and `.npy` input/output. Only this crate touches devices and
//! files of array data.

mod array;
pub mod cpu;
mod flow;
pub mod gpu;
pub mod interp;
pub mod memory;
pub mod npy;
mod plan;

pub use array::{Array, RuntimeError, RuntimeErrorKind};
