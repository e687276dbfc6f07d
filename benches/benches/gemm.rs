//! `sgemm` on the suite's dot shapes, with throughput in FLOP/s (criterion's
//! "elem/s" is 2·m·n·k per second). `benches/gemm_peer.py` times NumPy on the same
//! shapes, for the ratio. Run with `cargo bench -p omelet-benches --bench gemm`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use omelet_kernels::gemm::{MatMut, MatRef, MicroKernel, no_epilogue, sgemm_with};

/// One shape: `name`, `(m, k, n)`, whether B is stored transposed (`n × k`), and
/// the thread counts to run.
const SHAPES: &[(&str, [usize; 3], bool, &[usize])] = &[
    ("gemm_1024", [1024, 1024, 1024], false, &[1, 2]),
    ("mlp_up_512x1024x4096", [512, 1024, 4096], false, &[2]),
    ("mlp_down_512x4096x1024", [512, 4096, 1024], false, &[2]),
    ("gemm_nt_1024x512x1024", [1024, 512, 1024], true, &[2]),
    ("attn_scores_512x64x512", [512, 64, 512], true, &[1]),
    ("attn_values_512x512x64", [512, 512, 64], false, &[1]),
];

fn input(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 31 + seed) % 97) as f32 / 97.0 - 0.5)
        .collect()
}

fn gemm(c: &mut Criterion) {
    for &(name, [m, k, n], b_transposed, threads) in SHAPES {
        let (a, b) = (input(m * k, 1), input(k * n, 2));
        let a = MatRef::row_major(&a, m, k);
        let b = if b_transposed {
            MatRef::row_major(&b, n, k).t()
        } else {
            MatRef::row_major(&b, k, n)
        };
        let mut out = vec![0.0; m * n];
        let mut group = c.benchmark_group(name);
        group
            .sample_size(20)
            .throughput(Throughput::Elements((2 * m * n * k) as u64));
        for kernel in [MicroKernel::Avx512, MicroKernel::Avx2]
            .into_iter()
            .filter(|k| k.is_supported())
        {
            for &t in threads {
                group.bench_function(format!("{kernel:?}/threads{t}"), |bench| {
                    bench.iter(|| {
                        let c = MatMut::new(&mut out, m, n, n);
                        sgemm_with(kernel, a, b, c, t, &no_epilogue)
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, gemm);
criterion_main!(benches);
