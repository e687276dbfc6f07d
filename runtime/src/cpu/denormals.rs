//! Subnormal floats flushed to zero while kernels run, as XLA:CPU runs its
//! kernels: on x86 an operation that reads or makes a subnormal costs about a
//! hundred cycles, and softmax over widely spread scores makes little else
//! (`exp` of a very negative number). Results differ from the interpreter only
//! below 2^-126.

use omelet_kernels::gemm::{FpMode, FpModeGuard};

/// While alive, the current thread flushes subnormal inputs and results to zero
/// (MXCSR's DAZ and FTZ bits); dropping it restores the thread's mode. A GEMM
/// started under it flushes on every thread it uses (`sgemm` carries its
/// caller's mode to its workers).
pub struct FlushToZero {
    _mode: FpModeGuard,
}

impl FlushToZero {
    pub fn new() -> FlushToZero {
        FlushToZero {
            _mode: FpMode::current().flushing_subnormals().enter(),
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use std::hint::black_box;

    use super::FlushToZero;

    #[test]
    fn subnormal_results_flush_to_zero_only_while_the_guard_lives() {
        let product = || black_box(1e-30f32) * black_box(1e-10f32);
        assert!(product() > 0.0, "1e-40 is a subnormal, not zero");
        {
            let _flush = FlushToZero::new();
            assert_eq!(product(), 0.0);
        }
        assert!(product() > 0.0, "the mode is restored");
    }
}
