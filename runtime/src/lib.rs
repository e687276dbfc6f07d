//! Executing HLO modules. Today: the reference interpreter, the oracle every later
//! backend (Cranelift CPU, wgpu GPU) is tested against, and `.npy` input/output.
//! Only this crate touches devices and files of array data.

mod array;
pub mod cpu;
pub mod gpu;
pub mod interp;
pub mod npy;
mod plan;

pub use array::{Array, RuntimeError};
