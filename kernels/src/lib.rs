//! Kernel generators: the backend-neutral kernel description ([`kernel::Kernel`])
//! that fusion's outlined computations become, and the code generators that
//! consume it — Cranelift for the CPU (`cpu`, with its vector math in `math` and
//! the GEMM micro-kernels in `gemm`). Only this crate emits code.
pub mod cpu;
pub mod gemm;
pub mod kernel;
pub mod math;
