#!/usr/bin/env python3
"""Time the peers of the element-type benchmarks (benches/types/*.om) on this CPU.

Usage:  python3 benches/types/peers.py [--iters N] [--only NAME,...] [--no-stream]
                                      [--omelet target/release/omelet] > peers.json
The same measurement as benches/suite/peers.py (whose code this reuses: XLA:CPU through
jax.jit, NumPy, STREAM, NumPy SGEMM, the load from other processes) on the cases of
benches/types/cases.py. NumPy twins are written out below where NumPy has the operation
(it has no bf16 matmul, no integer BLAS and no threefry). With --omelet, each case's
inputs are written to target/types-bench/NAME/ and `omelet run` computes it on them:
"omelet_matches_xla" records whether its results agree with XLA's, to the bit for the
exact cases (integers, threefry: dropout and uniform), within the case's tolerance
otherwise. benches/suite/report.py turns the document into a table.
"""
import os, subprocess, sys
import numpy as np
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
sys.path.insert(0, os.path.join(root, "benches", "suite"))
import peers  # noqa: E402

f32 = np.float32

def _f16_loss_scale(g):
    scaled = g * np.float16(1024)
    finite = np.sum(~np.isfinite(scaled)) == 0
    return np.where(finite, scaled.astype(f32) / f32(1024), f32(0)), np.bool_(finite)

def _u32_hash(x):
    h = x ^ (x >> np.uint32(16))
    h = h * np.uint32(2246822507)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(3266489909)
    return h ^ (h >> np.uint32(16))

def _int_divrem(x, y):
    q, r = x // y, x % y
    return (q * 31 + r) // 7 + (x % 1000) // 3

NUMPY = {
    "f16_loss_scale": _f16_loss_scale,
    "u32_hash": _u32_hash,
    "f64_chain": lambda x: np.tanh(2 * x + 1) * (1 / (1 + np.exp(-x))) + x * x,
    "int_divrem": _int_divrem,
}

def check(omelet, name, args, xla_out, rtol, atol):
    """Run the case's .om on its inputs with `omelet run` and compare with XLA."""
    folder = os.path.join(root, "target", "types-bench", name)
    os.makedirs(folder, exist_ok=True)
    binds = []
    for i, a in enumerate(args):
        path = os.path.join(folder, f"in{i}.npy")
        np.save(path, np.asarray(a))
        binds += ["--input", f"{i}={path}"]
    out = os.path.join(folder, "out")
    run = subprocess.run([omelet, "run", os.path.join(here, f"{name}.om"), *binds, "--out", out],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return dict(omelet_matches_xla=False, omelet_error=run.stderr.strip()[-500:])
    # Omelet writes bf16 as NumPy's raw V2, which JAX's bfloat16 reads by view.
    mine = [np.load(os.path.join(out, f"out{i}.npy")).view(x.dtype) for i, x in enumerate(xla_out)]
    diff = max(float(np.max(np.abs(m.astype(np.float64) - x.astype(np.float64)), initial=0))
               for m, x in zip(mine, xla_out))
    return dict(omelet_matches_xla=all(peers.same(m, x, rtol, atol) for m, x in zip(mine, xla_out)),
                exact=rtol == 0 and atol == 0, omelet_max_abs_diff=diff)

if __name__ == "__main__":
    peers.measure(os.path.join(here, "cases.py"), NUMPY, description=__doc__, check=check,
                  gemm={"bf16_mlp", "int8_matmul"})
