//! Kernel generators: the backend-neutral kernel description ([`kernel::Kernel`])
//! that fusion's outlined computations become, and the code generators that
//! consume it: Cranelift for the CPU (`cpu`, with its vector math in `math` and
//! the GEMM micro-kernels in `gemm`) and WGSL for the GPU (`gpu`, whose
//! transcendentals are the same `math` algorithms written as WGSL). Only this crate emits code.
pub mod cpu;
pub mod elemental;
pub mod gemm;
pub mod gpu;
pub mod kernel;
pub mod math;
pub mod scatter;
pub mod sort;
