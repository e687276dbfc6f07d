//! Single-precision GEMM for the CPU backend's `dot` kernels: `C = A · B` over
//! strided operands, with an epilogue hook that sees each block of finished rows
//! of `C` while they are still in cache (bias, activation, residual add).
//!
//! The algorithm is Goto/BLIS: blocks of B are packed into `KC × NR` panels,
//! row blocks of A into `MR × KC` strips, and a register-blocked micro-kernel
//! (`microkernel.rs`) computes one `MR × NR` tile of C at a time; `driver.rs`
//! owns the blocking, the packing and the split of the rows between threads.
//!
//! Every index is checked here, once, before any work starts (C's when it is
//! made from a slice, `MatMut::new`): the driver and the micro-kernels read and
//! write through raw pointers.

mod driver;
mod fpmode;
mod microkernel;
#[cfg(test)]
mod tests;

pub use fpmode::{FpMode, FpModeGuard};

use std::marker::PhantomData;
use std::sync::OnceLock;

/// A read-only strided f32 matrix: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]` (strides in elements, any values, zero
/// included). Slice `data` to start at an offset; swap the strides to transpose.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A dense row-major `rows × cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, as a view of the same data.
    pub fn t(self) -> Self {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// The largest index any element uses, or `None` when the matrix is empty;
    /// checked arithmetic, so absurd strides fail the bounds check, not wrap.
    fn max_index(&self) -> Option<usize> {
        if self.rows == 0 || self.cols == 0 {
            return None;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .zip((self.cols - 1).checked_mul(self.col_stride))
            .and_then(|(r, c)| r.checked_add(c));
        Some(last.unwrap_or(usize::MAX))
    }
}

/// A writable row-major f32 matrix through a raw pointer: `rows` rows of `cols`
/// elements, row `i` starting `i * ldc` elements after the first. C is one, so
/// that a caller may keep raw pointers of its own into C while `sgemm` runs
/// (the CPU engine's epilogue writes the rows it is handed through the
/// output's address) without holding a `&mut` that those writes would alias.
#[derive(Debug)]
pub struct MatMut<'a> {
    ptr: *mut f32,
    rows: usize,
    cols: usize,
    ldc: usize,
    _c: PhantomData<&'a mut [f32]>,
}

// SAFETY: a `MatMut` is the exclusive view of its elements, like `&mut [f32]`.
unsafe impl Send for MatMut<'_> {}

impl<'a> MatMut<'a> {
    /// `rows × cols` in `c`, rows `ldc` apart; panics unless they fit.
    pub fn new(c: &'a mut [f32], rows: usize, cols: usize, ldc: usize) -> Self {
        if rows > 1 {
            assert!(ldc >= cols, "sgemm: ldc {ldc} is less than n {cols}");
        }
        if rows > 0 {
            let need = (rows - 1)
                .checked_mul(ldc)
                .and_then(|x| x.checked_add(cols));
            assert!(
                need.is_some_and(|need| need <= c.len()),
                "sgemm: C ({rows}×{cols}, ldc {ldc}) does not fit in {} elements",
                c.len()
            );
        }
        // SAFETY: checked to fit in `c`, which is borrowed for `'a`.
        unsafe { Self::from_raw(c.as_mut_ptr(), rows, cols, ldc) }
    }

    /// # Safety
    /// For `'a`, `ptr` is valid for reads and writes of the `rows` rows of
    /// `cols` elements `ldc` apart (`ldc >= cols` when `rows > 1`), and nothing
    /// else reads or writes them except through this view, with one exception:
    /// while `sgemm` runs an epilogue on some rows, that epilogue may read and
    /// write those rows through any pointer.
    pub unsafe fn from_raw(ptr: *mut f32, rows: usize, cols: usize, ldc: usize) -> Self {
        MatMut {
            ptr,
            rows,
            cols,
            ldc,
            _c: PhantomData,
        }
    }

    /// The elements from the first of the first row to the last of the last
    /// (`(rows - 1) * ldc + cols`, the gaps between rows included).
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        let len = self
            .rows
            .checked_sub(1)
            .map_or(0, |r| r * self.ldc + self.cols);
        // SAFETY: the view owns these elements exclusively (see `from_raw`).
        unsafe { std::slice::from_raw_parts_mut(self.ptr, len) }
    }
}

/// A micro-kernel family. `best()` is what `sgemm` uses; tests and benchmarks
/// pick one explicitly through `sgemm_with`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MicroKernel {
    /// 12 × 32 tiles on AVX-512F: 24 of the 32 zmm registers accumulate.
    Avx512,
    /// 6 × 16 tiles on AVX2 + FMA: 12 of the 16 ymm registers accumulate.
    Avx2,
    /// 4 × 8 tiles in plain Rust, for any target.
    Portable,
}

impl MicroKernel {
    /// The fastest kernel this machine supports, detected once.
    pub fn best() -> Self {
        static BEST: OnceLock<MicroKernel> = OnceLock::new();
        *BEST.get_or_init(|| {
            [MicroKernel::Avx512, MicroKernel::Avx2]
                .into_iter()
                .find(|k| k.is_supported())
                .unwrap_or(MicroKernel::Portable)
        })
    }

    /// Whether this machine can run the kernel.
    pub fn is_supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            MicroKernel::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            MicroKernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            MicroKernel::Portable => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

/// The hook `sgemm` calls on finished rows: `(r0, r1, rows)` where `rows` views
/// rows `r0..r1` of C. It may run on any thread, in the caller's
/// floating-point mode (`FpMode`).
pub type Epilogue<'e> = dyn Fn(usize, usize, MatMut) + Sync + 'e;

/// An epilogue that does nothing, for a plain product.
pub fn no_epilogue(_: usize, _: usize, _: MatMut) {}

/// `C (m × n) = A (m × k) · B (k × n)`.
///
/// After a block of complete rows `[r0, r1)` of C holds its final values, calls
/// `epilogue(r0, r1, rows)` (see `Epilogue`); every row is in exactly one call.
/// With `threads > 1` the rows are split evenly between that many workers of the
/// current rayon pool (at most all of them), each in the caller's
/// floating-point mode, with one fork-join per `KC × NC` block of B; with 1
/// everything runs on the caller. Packing buffers are kept per thread, so a
/// warm call allocates nothing.
pub fn sgemm(a: MatRef, b: MatRef, c: MatMut, threads: usize, epilogue: &Epilogue) {
    sgemm_with(MicroKernel::best(), a, b, c, threads, epilogue);
}

/// `sgemm` with a chosen micro-kernel, which must be supported on this machine.
pub fn sgemm_with(
    kernel: MicroKernel,
    a: MatRef,
    b: MatRef,
    c: MatMut,
    threads: usize,
    epilogue: &Epilogue,
) {
    assert!(
        kernel.is_supported(),
        "sgemm: {kernel:?} micro-kernel unsupported here"
    );
    assert_eq!(
        a.cols, b.rows,
        "sgemm: A is {}×{} but B is {}×{}",
        a.rows, a.cols, b.rows, b.cols
    );
    for (name, mat) in [("A", &a), ("B", &b)] {
        if let Some(last) = mat.max_index() {
            assert!(
                last < mat.data.len(),
                "sgemm: {name} ({}×{}, strides {}, {}) reaches index {last} of {}",
                mat.rows,
                mat.cols,
                mat.row_stride,
                mat.col_stride,
                mat.data.len()
            );
        }
    }
    assert!(
        (c.rows, c.cols) == (a.rows, b.cols),
        "sgemm: C is {}×{} but A · B is {}×{}",
        c.rows,
        c.cols,
        a.rows,
        b.cols
    );
    let threads = threads.max(1);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        MicroKernel::Avx512 => driver::run::<microkernel::Avx512>(a, b, c, threads, epilogue),
        #[cfg(target_arch = "x86_64")]
        MicroKernel::Avx2 => driver::run::<microkernel::Avx2>(a, b, c, threads, epilogue),
        MicroKernel::Portable => driver::run::<microkernel::Portable>(a, b, c, threads, epilogue),
        #[allow(unreachable_patterns)]
        _ => unreachable!("checked by is_supported"),
    }
}
