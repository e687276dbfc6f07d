//! A thread's floating-point mode (x86's MXCSR: rounding and subnormal
//! flushing), which `sgemm` carries from its caller to the threads that share
//! a product, so that every row and its epilogue compute alike whatever the
//! size: the CPU engine runs kernels with subnormals flushed to zero, and a
//! product split across the pool must flush on every worker too.

/// A floating-point mode; on targets other than x86-64, the only one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpMode {
    #[cfg(target_arch = "x86_64")]
    csr: u32,
}

/// While alive, its thread runs in the mode it entered; dropping it restores
/// the thread's previous mode.
#[must_use = "the mode lasts only while the guard lives"]
pub struct FpModeGuard {
    saved: FpMode,
}

#[cfg(target_arch = "x86_64")]
#[allow(deprecated)] // `_mm_getcsr`/`_mm_setcsr`: the only way to reach MXCSR here.
impl FpMode {
    /// FTZ (bit 15) and DAZ (bit 6).
    const FLUSH: u32 = 0x8040;

    /// The current thread's mode.
    pub fn current() -> FpMode {
        // Safety: SSE is part of x86-64.
        FpMode {
            csr: unsafe { std::arch::x86_64::_mm_getcsr() },
        }
    }

    /// This mode with subnormal inputs and results flushed to zero.
    pub fn flushing_subnormals(self) -> FpMode {
        FpMode {
            csr: self.csr | Self::FLUSH,
        }
    }

    fn set(self) {
        // Safety: a value read from MXCSR, at most with flush bits added.
        unsafe { std::arch::x86_64::_mm_setcsr(self.csr) };
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl FpMode {
    pub fn current() -> FpMode {
        FpMode {}
    }

    pub fn flushing_subnormals(self) -> FpMode {
        self
    }

    fn set(self) {}
}

impl FpMode {
    /// Makes this the current thread's mode while the guard lives.
    pub fn enter(self) -> FpModeGuard {
        let saved = FpMode::current();
        self.set();
        FpModeGuard { saved }
    }
}

impl Drop for FpModeGuard {
    fn drop(&mut self) {
        self.saved.set();
    }
}
