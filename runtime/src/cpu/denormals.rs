//! Subnormal floats flushed to zero while kernels run, as XLA:CPU runs its
//! kernels: on x86 an operation that reads or makes a subnormal costs about a
//! hundred cycles, and softmax over widely spread scores makes little else
//! (`exp` of a very negative number). Results differ from the interpreter only
//! below 2^-126.

/// While alive, the current thread flushes subnormal inputs and results to zero
/// (MXCSR's DAZ and FTZ bits); dropping it restores the thread's mode.
pub struct FlushToZero {
    #[cfg(target_arch = "x86_64")]
    saved: u32,
}

#[cfg(target_arch = "x86_64")]
#[allow(deprecated)] // `_mm_getcsr`/`_mm_setcsr`: the only way to reach MXCSR here.
impl FlushToZero {
    /// FTZ (bit 15) and DAZ (bit 6).
    const BITS: u32 = 0x8040;

    pub fn new() -> FlushToZero {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        // Safety: SSE is part of x86-64; only the flush bits change.
        let saved = unsafe { _mm_getcsr() };
        unsafe { _mm_setcsr(saved | Self::BITS) };
        FlushToZero { saved }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(deprecated)]
impl Drop for FlushToZero {
    fn drop(&mut self) {
        // Safety: restores what `new` read.
        unsafe { std::arch::x86_64::_mm_setcsr(self.saved) };
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl FlushToZero {
    pub fn new() -> FlushToZero {
        FlushToZero {}
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
