//! The micro-kernels: each computes one `MR × NR` tile of C from a packed A strip
//! (`MR × kc`, row-major) and a packed B panel (`kc × NR`, row-major), keeping
//! the whole tile in registers across the `kc` loop. Per step it loads the B row
//! as vectors, broadcasts each A value and issues one FMA per accumulator
//! vector, so the tile shape fills the register file but for the B vectors and
//! one broadcast. The strip is row-major, not interleaved by step as in BLIS,
//! so that packing a row-major A is a plain copy per row: the broadcasts read
//! `MR` lines at once instead of one, all in L1 either way.

/// One micro-kernel. `run` writes the tile `C = A·B`, or `C += A·B` when
/// `accumulate` (the later `kc` blocks of a long `k`).
pub(super) trait Tile {
    const MR: usize;
    const NR: usize;

    /// # Safety
    /// `a` holds `MR × kc` floats, `b` holds `kc × NR`; `c` points at `MR` rows of
    /// `NR` writable floats, `ldc` apart; the CPU supports the kernel.
    unsafe fn run(
        kc: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    );
}

#[cfg(target_arch = "x86_64")]
pub(super) use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Tile;
    use std::arch::x86_64::*;

    /// 12 × 32: 24 zmm accumulators, two B vectors and a broadcast make 27 of 32
    /// registers; per step 24 FMAs against 14 loads keep both FMA ports busy.
    pub struct Avx512;

    impl Tile for Avx512 {
        const MR: usize = 12;
        const NR: usize = 32;

        unsafe fn run(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, acc: bool) {
            // SAFETY: the caller's contract; `sgemm_with` checked the CPU feature.
            unsafe { avx512::<12, 2>(kc, a, b, c, ldc, acc) }
        }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn avx512<const MR: usize, const NV: usize>(
        kc: usize,
        a: *const f32,
        mut b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        // Constant trip counts: LLVM unrolls the `i`/`v` loops and keeps `tile`
        // in registers.
        prefetch_tile::<MR>(c, ldc, NV * 16);
        let mut tile = [[_mm512_setzero_ps(); NV]; MR];
        for p in 0..kc {
            let mut bv = [_mm512_setzero_ps(); NV];
            for (v, bv) in bv.iter_mut().enumerate() {
                // SAFETY: `v * 16 + 16 <= NR` floats of this step's B row.
                *bv = unsafe { _mm512_loadu_ps(b.add(v * 16)) };
            }
            for (i, row) in tile.iter_mut().enumerate() {
                // SAFETY: step `p < kc` of row `i < MR` of the strip.
                let ai = _mm512_set1_ps(unsafe { *a.add(i * kc + p) });
                for (t, &bv) in row.iter_mut().zip(&bv) {
                    *t = _mm512_fmadd_ps(ai, bv, *t);
                }
            }
            // SAFETY: advancing within the packed panel.
            b = unsafe { b.add(NV * 16) };
        }
        for (i, row) in tile.iter().enumerate() {
            for (v, &t) in row.iter().enumerate() {
                // SAFETY: row `i < MR`, columns `v * 16..v * 16 + 16 <= NR` of C.
                unsafe {
                    let p = c.add(i * ldc + v * 16);
                    let t = if accumulate {
                        _mm512_add_ps(t, _mm512_loadu_ps(p))
                    } else {
                        t
                    };
                    _mm512_storeu_ps(p, t);
                }
            }
        }
    }

    /// Starts loading the C tile, which is read (or written) only after the
    /// `kc` loop: when it comes from L3 its misses overlap the arithmetic.
    #[inline(always)]
    fn prefetch_tile<const MR: usize>(c: *mut f32, ldc: usize, nr: usize) {
        for i in 0..MR {
            for j in (0..nr).step_by(16) {
                // SAFETY: SSE is baseline on x86-64, and a prefetch never
                // faults, so any address will do (hence `wrapping_add`).
                unsafe { _mm_prefetch::<_MM_HINT_T0>(c.wrapping_add(i * ldc + j).cast()) };
            }
        }
    }

    /// 6 × 16: 12 ymm accumulators, two B vectors and a broadcast make 15 of 16.
    pub struct Avx2;

    impl Tile for Avx2 {
        const MR: usize = 6;
        const NR: usize = 16;

        unsafe fn run(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, acc: bool) {
            // SAFETY: the caller's contract; `sgemm_with` checked the CPU features.
            unsafe { avx2::<6, 2>(kc, a, b, c, ldc, acc) }
        }
    }

    /// The AVX-512 kernel in 8-lane ymm vectors; see `avx512`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2<const MR: usize, const NV: usize>(
        kc: usize,
        a: *const f32,
        mut b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        prefetch_tile::<MR>(c, ldc, NV * 8);
        let mut tile = [[_mm256_setzero_ps(); NV]; MR];
        for p in 0..kc {
            let mut bv = [_mm256_setzero_ps(); NV];
            for (v, bv) in bv.iter_mut().enumerate() {
                // SAFETY: as in `avx512`.
                *bv = unsafe { _mm256_loadu_ps(b.add(v * 8)) };
            }
            for (i, row) in tile.iter_mut().enumerate() {
                // SAFETY: as in `avx512`.
                let ai = _mm256_set1_ps(unsafe { *a.add(i * kc + p) });
                for (t, &bv) in row.iter_mut().zip(&bv) {
                    *t = _mm256_fmadd_ps(ai, bv, *t);
                }
            }
            // SAFETY: as in `avx512`.
            b = unsafe { b.add(NV * 8) };
        }
        for (i, row) in tile.iter().enumerate() {
            for (v, &t) in row.iter().enumerate() {
                // SAFETY: as in `avx512`.
                unsafe {
                    let p = c.add(i * ldc + v * 8);
                    let t = if accumulate {
                        _mm256_add_ps(t, _mm256_loadu_ps(p))
                    } else {
                        t
                    };
                    _mm256_storeu_ps(p, t);
                }
            }
        }
    }
}

/// 4 × 8 in plain Rust: LLVM vectorizes the `j` loop for whatever the target's
/// baseline is (two SSE vectors per row on x86-64). No `mul_add`: without
/// hardware FMA it is a libm call.
pub(super) struct Portable;

impl Tile for Portable {
    const MR: usize = 4;
    const NR: usize = 8;

    unsafe fn run(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, acc: bool) {
        // SAFETY: the caller's contract gives exactly these lengths.
        let (a, b) = unsafe {
            (
                std::slice::from_raw_parts(a, kc * 4),
                std::slice::from_raw_parts(b, kc * 8),
            )
        };
        let mut tile = [[0f32; 8]; 4];
        for (p, b) in b.chunks_exact(8).enumerate() {
            for (i, row) in tile.iter_mut().enumerate() {
                let ai = a[i * kc + p];
                for (t, &bj) in row.iter_mut().zip(b) {
                    *t += ai * bj;
                }
            }
        }
        for (i, row) in tile.iter().enumerate() {
            // SAFETY: row `i < MR` of the tile, `NR` floats.
            let out = unsafe { std::slice::from_raw_parts_mut(c.add(i * ldc), 8) };
            for (o, &t) in out.iter_mut().zip(row) {
                *o = if acc { *o + t } else { t };
            }
        }
    }
}
