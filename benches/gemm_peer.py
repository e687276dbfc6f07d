"""NumPy (OpenBLAS) on the shapes of `benches/benches/gemm.rs`, in GFLOP/s, for the
ratio against `cargo bench -p omelet-benches --bench gemm` run on the same machine.

    python3 benches/gemm_peer.py --threads 2

The thread count must be fixed before NumPy loads OpenBLAS, hence the flag.
"""

import argparse
import os
import time

# (name, m, k, n, B stored transposed), as in gemm.rs.
SHAPES = [
    ("gemm_1024", 1024, 1024, 1024, False),
    ("mlp_up_512x1024x4096", 512, 1024, 4096, False),
    ("mlp_down_512x4096x1024", 512, 4096, 1024, False),
    ("gemm_nt_1024x512x1024", 1024, 512, 1024, True),
    ("attn_scores_512x64x512", 512, 64, 512, True),
    ("attn_values_512x512x64", 512, 512, 64, False),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    import numpy as np

    rng = np.random.default_rng(0)
    for name, m, k, n, nt in SHAPES:
        a = rng.random((m, k), dtype=np.float32)
        b = rng.random((n, k) if nt else (k, n), dtype=np.float32)
        out = np.empty((m, n), dtype=np.float32)
        rhs = b.T if nt else b
        reps = max(1, int(2e9 / (2 * m * n * k)))
        np.matmul(a, rhs, out=out)
        best = float("inf")
        for _ in range(args.rounds):
            start = time.perf_counter()
            for _ in range(reps):
                np.matmul(a, rhs, out=out)
            best = min(best, (time.perf_counter() - start) / reps)
        print(f"{name} threads {args.threads}: {best * 1e3:.3f} ms, "
              f"{2 * m * n * k / best / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
