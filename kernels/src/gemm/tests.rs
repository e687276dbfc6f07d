//! `sgemm` against an f64 triple loop, on every micro-kernel this machine runs:
//! edge sizes, several depth blocks, strided and transposed operands, padded
//! `ldc`, one and two threads, and the epilogue's once-per-row contract.

use super::{MatRef, MicroKernel, no_epilogue, sgemm_with};
use std::sync::Mutex;

fn kernels() -> Vec<MicroKernel> {
    let all = [
        MicroKernel::Avx512,
        MicroKernel::Avx2,
        MicroKernel::Portable,
    ];
    all.into_iter().filter(|k| k.is_supported()).collect()
}

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

fn at(m: MatRef, i: usize, j: usize) -> f64 {
    m.data[i * m.row_stride + j * m.col_stride] as f64
}

/// Checks `c` (ldc `ldc`) against the f64 product, each element within the
/// rounding bound of a `k`-term f32 sum of these magnitudes.
fn check(a: MatRef, b: MatRef, c: &[f32], ldc: usize, what: &str) {
    for i in 0..a.rows {
        for j in 0..b.cols {
            let (mut want, mut magnitude) = (0.0, 0.0);
            for p in 0..a.cols {
                want += at(a, i, p) * at(b, p, j);
                magnitude += (at(a, i, p) * at(b, p, j)).abs();
            }
            let got = c[i * ldc + j] as f64;
            let tol = 2.0 * (a.cols + 1) as f64 * f32::EPSILON as f64 * magnitude + 1e-30;
            assert!(
                (got - want).abs() <= tol,
                "{what}: C[{i},{j}] = {got}, want {want}"
            );
        }
    }
}

/// Runs one product of row-major operands on every kernel and thread count.
fn product(m: usize, k: usize, n: usize) {
    let (a, b) = (values(m * k, 1), values(k * n, 2));
    let (a, b) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
    for kernel in kernels() {
        for threads in [1, 2] {
            let mut c = vec![f32::NAN; m * n];
            sgemm_with(kernel, a, b, &mut c, n, threads, &no_epilogue);
            check(
                a,
                b,
                &c,
                n,
                &format!("{kernel:?} {m}×{k}×{n} threads {threads}"),
            );
        }
    }
}

#[test]
fn edge_sizes() {
    let sizes = [0, 1, 3, 17, 64, 65];
    for m in sizes {
        for k in sizes {
            for n in sizes {
                product(m, k, n);
            }
        }
    }
}

#[test]
fn long_and_wide() {
    // Depth 1023 and 600 cut into several depth blocks; 1023 rows into several
    // row blocks; 1023 columns into many panels and a ragged last one.
    for (m, k, n) in [
        (17, 1023, 3),
        (3, 600, 65),
        (1023, 3, 17),
        (5, 17, 1023),
        (130, 300, 47),
    ] {
        product(m, k, n);
    }
}

#[test]
fn strided_operands() {
    let (m, k, n) = (19, 37, 45);
    let data = values(4 * 64 * 64, 3);
    // Transposed A and B, a column step of 2 with an offset start, and a zero
    // row stride (every row of B the same).
    let cases = [
        (
            "A transposed",
            MatRef::row_major(&data, k, m).t(),
            MatRef::row_major(&data[7..], k, n),
        ),
        (
            "B transposed",
            MatRef::row_major(&data, m, k),
            MatRef::row_major(&data[5..], n, k).t(),
        ),
        (
            "both",
            MatRef::row_major(&data, k, m).t(),
            MatRef::row_major(&data[1..], n, k).t(),
        ),
        (
            "stepped",
            MatRef {
                data: &data[3..],
                rows: m,
                cols: k,
                row_stride: 101,
                col_stride: 2,
            },
            MatRef {
                data: &data[9..],
                rows: k,
                cols: n,
                row_stride: 0,
                col_stride: 3,
            },
        ),
    ];
    for kernel in kernels() {
        for (what, a, b) in cases {
            let mut c = vec![f32::NAN; m * n];
            sgemm_with(kernel, a, b, &mut c, n, 2, &no_epilogue);
            check(a, b, &c, n, &format!("{kernel:?} {what}"));
        }
    }
}

#[test]
fn padded_ldc_is_left_alone() {
    let (m, k, n, ldc) = (13, 20, 33, 40);
    let (a, b) = (values(m * k, 4), values(k * n, 5));
    let (a, b) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
    for kernel in kernels() {
        let mut c = vec![-7.0; (m - 1) * ldc + n];
        sgemm_with(kernel, a, b, &mut c, ldc, 1, &no_epilogue);
        check(a, b, &c, ldc, &format!("{kernel:?}"));
        let padding = c
            .chunks(ldc)
            .flat_map(|row| row.get(n..).unwrap_or_default());
        assert!(
            padding.copied().all(|x| x == -7.0),
            "{kernel:?} wrote past n"
        );
    }
}

#[test]
fn epilogue_sees_final_rows_once() {
    let (m, k, n, ldc) = (512, 9, 40, 41);
    let (a, b) = (values(m * k, 6), values(k * n, 7));
    let (a, b) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
    let mut want = vec![0.0; (m - 1) * ldc + n];
    sgemm_with(MicroKernel::Portable, a, b, &mut want, ldc, 1, &no_epilogue);
    for kernel in kernels() {
        for threads in [1, 2] {
            let seen = Mutex::new(Vec::new());
            let epilogue = |r0: usize, r1: usize, rows: &mut [f32]| {
                assert_eq!(rows.len(), (r1 - r0 - 1) * ldc + n);
                for (i, row) in rows.chunks_mut(ldc).enumerate() {
                    check_row(&row[..n], &want[(r0 + i) * ldc..][..n]);
                    row[..n].iter_mut().for_each(|x| *x += 1.0);
                }
                seen.lock().unwrap().push((r0, r1));
            };
            let mut c = vec![f32::NAN; want.len()];
            sgemm_with(kernel, a, b, &mut c, ldc, threads, &epilogue);
            let mut seen = seen.into_inner().unwrap();
            seen.sort();
            assert!(
                seen.len() >= threads,
                "{kernel:?}: {threads} threads, blocks {seen:?}"
            );
            let ends: Vec<_> = seen.iter().flat_map(|&(r0, r1)| [r0, r1]).collect();
            let mut expected = vec![0];
            expected.extend(seen.iter().skip(1).flat_map(|&(r0, _)| [r0, r0]));
            expected.push(m);
            assert_eq!(ends, expected, "{kernel:?}: blocks must tile the rows once");
            for row in 0..m {
                check_row(
                    &c[row * ldc..][..n]
                        .iter()
                        .map(|x| x - 1.0)
                        .collect::<Vec<_>>(),
                    &want[row * ldc..][..n],
                );
            }
        }
    }
}

fn check_row(got: &[f32], want: &[f32]) {
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "got {g}, want {w}");
    }
}

#[test]
fn empty_depth_zeroes_c_and_runs_the_epilogue() {
    let calls = Mutex::new(Vec::new());
    let epilogue = |r0: usize, r1: usize, _: &mut [f32]| calls.lock().unwrap().push((r0, r1));
    let mut c = vec![f32::NAN; 3 * 4];
    let empty = MatRef::row_major(&[], 3, 0);
    sgemm_with(
        MicroKernel::best(),
        empty,
        MatRef::row_major(&[], 0, 4),
        &mut c,
        4,
        2,
        &epilogue,
    );
    assert!(c.iter().all(|&x| x == 0.0));
    assert_eq!(*calls.lock().unwrap(), [(0, 3)]);
    sgemm_with(
        MicroKernel::best(),
        MatRef::row_major(&[], 0, 0),
        empty.t(),
        &mut [],
        0,
        2,
        &epilogue,
    );
    assert_eq!(calls.lock().unwrap().len(), 1, "no rows, no epilogue");
}

#[test]
#[should_panic(expected = "sgemm: B (5×4, strides 4, 1) reaches index 19 of 18")]
fn short_operand_is_refused() {
    let (a, b) = (vec![0.0; 10], vec![0.0; 18]);
    let b = MatRef {
        data: &b,
        rows: 5,
        cols: 4,
        row_stride: 4,
        col_stride: 1,
    };
    sgemm_with(
        MicroKernel::Portable,
        MatRef::row_major(&a, 2, 5),
        b,
        &mut [0.0; 8],
        4,
        1,
        &no_epilogue,
    );
}
