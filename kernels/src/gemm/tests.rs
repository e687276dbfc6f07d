//! `sgemm` against an f64 triple loop, on every micro-kernel this machine runs
//! and on one and two threads: edge sizes, several depth blocks and column
//! chunks, strided and transposed operands, a padded `ldc`. Every run also
//! checks the epilogue's contract: it sees each row once, with its final values,
//! and what it writes stays.

use super::{MatMut, MatRef, MicroKernel, sgemm_with};
use std::sync::Mutex;

/// Deterministic values in [-1, 1).
fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// Runs `a · b` on every kernel and thread count, into a C whose rows are 3
/// floats longer than `n`, with an epilogue that negates the rows it is given.
fn product(a: MatRef, b: MatRef) {
    let (m, k, n, ldc) = (a.rows, a.cols, b.cols, b.cols + 3);
    let at = |m: MatRef, i: usize, j: usize| m.data[i * m.row_stride + j * m.col_stride] as f64;
    // The f64 product, and the rounding bound of a `k`-term f32 sum of these
    // magnitudes.
    let (mut want, mut tol) = (vec![0.0; m * n], vec![0.0; m * n]);
    for i in 0..m {
        for j in 0..n {
            for p in 0..k {
                want[i * n + j] += at(a, i, p) * at(b, p, j);
                tol[i * n + j] += (at(a, i, p) * at(b, p, j)).abs();
            }
            tol[i * n + j] *= 2.0 * (k + 1) as f64 * f32::EPSILON as f64;
        }
    }
    let kernels = [
        MicroKernel::Avx512,
        MicroKernel::Avx2,
        MicroKernel::Portable,
    ];
    for kernel in kernels.into_iter().filter(|k| k.is_supported()) {
        for threads in [1, 2] {
            let what = format!("{kernel:?} {m}×{k}×{n} threads {threads}");
            let seen = Mutex::new(Vec::new());
            let epilogue = |r0: usize, r1: usize, mut rows: MatMut| {
                let rows = rows.as_mut_slice();
                assert_eq!(rows.len(), (r1 - r0 - 1) * ldc + n, "{what}");
                for row in rows.chunks_mut(ldc) {
                    row[..n].iter_mut().for_each(|x| *x = -*x);
                }
                seen.lock().unwrap().push((r0, r1));
            };
            // NaN, so that a kernel that adds to C instead of writing it fails.
            let mut c = vec![f32::NAN; m * ldc];
            sgemm_with(
                kernel,
                a,
                b,
                MatMut::new(&mut c, m, n, ldc),
                threads,
                &epilogue,
            );

            let mut seen = seen.into_inner().unwrap();
            seen.sort();
            let mut next = 0;
            for &(r0, r1) in &seen {
                assert!(r0 == next && r1 > r0, "{what}: epilogue blocks {seen:?}");
                next = r1;
            }
            assert_eq!(next, m, "{what}: epilogue blocks {seen:?}");
            for i in 0..m {
                for j in 0..n {
                    let (got, want) = (-c[i * ldc + j] as f64, want[i * n + j]);
                    let ok = (got - want).abs() <= tol[i * n + j];
                    assert!(ok, "{what}: C[{i},{j}] = {got}, want {want}");
                }
                let padding = &c[i * ldc + n..][..3];
                assert!(padding.iter().all(|x| x.is_nan()), "{what}: wrote past n");
            }
        }
    }
}

fn row_major(m: usize, k: usize, n: usize) {
    let (a, b) = (values(m * k, 1), values(k * n, 2));
    product(MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
}

#[test]
fn edge_sizes() {
    // Zero depth writes zeros; zero rows call no epilogue.
    let sizes = [0, 1, 3, 17, 64, 65];
    for m in sizes {
        for k in sizes {
            for n in sizes {
                row_major(m, k, n);
            }
        }
    }
}

#[test]
fn blocks_and_chunks() {
    // Several depth blocks (1023, 600: ragged), row blocks (1023, 300 rows:
    // more than the threads) and column chunks (2100 wide: ragged).
    for (m, k, n) in [
        (17, 1023, 3),
        (3, 600, 65),
        (1023, 3, 17),
        (5, 17, 1023),
        (300, 9, 40),
    ] {
        row_major(m, k, n);
    }
    row_major(13, 300, 2100);
}

#[test]
fn strided_operands() {
    let (m, k, n) = (19, 37, 45);
    let data = values(4 * 64 * 64, 3);
    // Transposed A and B, from offset starts.
    let (a, at) = (
        MatRef::row_major(&data, m, k),
        MatRef::row_major(&data[7..], k, m).t(),
    );
    let (b, bt) = (
        MatRef::row_major(&data[5..], k, n),
        MatRef::row_major(&data[1..], n, k).t(),
    );
    product(at, b);
    product(a, bt);
    product(at, bt);
    // A column step of 2, and a zero row stride (every row of B the same).
    let a = MatRef {
        data: &data[3..],
        rows: m,
        cols: k,
        row_stride: 101,
        col_stride: 2,
    };
    let b = MatRef {
        data: &data[9..],
        rows: k,
        cols: n,
        row_stride: 0,
        col_stride: 3,
    };
    product(a, b);
}

#[test]
#[should_panic(expected = "sgemm: B (5×4, strides 4, 1) reaches index 19 of 18")]
fn short_operand_is_refused() {
    let (a, b) = (vec![0.0; 10], vec![0.0; 18]);
    let a = MatRef::row_major(&a, 2, 5);
    let b = MatRef {
        data: &b,
        rows: 5,
        cols: 4,
        row_stride: 4,
        col_stride: 1,
    };
    sgemm_with(
        MicroKernel::Portable,
        a,
        b,
        MatMut::new(&mut [0.0; 8], 2, 4, 4),
        1,
        &super::no_epilogue,
    );
}

#[test]
fn epilogue_writes_through_the_callers_pointer() {
    // The CPU engine's use: C is a raw view of a buffer whose address the
    // epilogue also holds, and writes the rows it is handed through that (no
    // `&mut` over C is live meanwhile; Miri checks this under Stacked Borrows).
    let (m, k, n) = (40, 9, 33);
    let (a, b) = (values(m * k, 4), values(k * n, 5));
    let (a, b) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
    let mut buffer = vec![f32::NAN; m * n];
    let out = Ptr(buffer.as_mut_ptr());
    for threads in [1, 2] {
        let epilogue = |r0: usize, r1: usize, _: MatMut| {
            for i in r0 * n..r1 * n {
                // SAFETY: rows `r0..r1` are this call's alone.
                unsafe { *out.get().add(i) = 1.0 - *out.get().add(i) };
            }
        };
        // SAFETY: the buffer holds `m × n` floats; only the epilogue touches
        // them while `sgemm` runs, on its rows.
        let c = unsafe { MatMut::from_raw(out.get(), m, n, n) };
        super::sgemm(a, b, c, threads, &epilogue);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|p| a.data[i * k + p] * b.data[p * n + j]).sum();
                let got = 1.0 - buffer[i * n + j];
                assert!((got - want).abs() < 1e-4, "C[{i},{j}] = {got}, want {want}");
            }
        }
    }
}

/// The buffer's address, shared with the epilogue on every thread.
#[derive(Clone, Copy)]
struct Ptr(*mut f32);

// SAFETY: the threads write disjoint rows through it.
unsafe impl Sync for Ptr {}

impl Ptr {
    /// By method, so closures capture the `Sync` wrapper, not the raw field.
    fn get(self) -> *mut f32 {
        self.0
    }
}
