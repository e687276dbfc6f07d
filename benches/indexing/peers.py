#!/usr/bin/env python3
"""Time issue 14's indexing benchmarks (benches/indexing/*.hlo) on XLA:CPU, and on Omelet.

Usage:  python3 benches/indexing/peers.py [--iters N] [--only NAME,...] [--no-stream]
            [--omelet target/release/omelet --backends cpu --omelet-iters N
             --omelet-json omelet.json] > peers.json
        python3 benches/suite/report.py omelet.json peers.json --backend cpu
The same measurement as benches/suite/peers.py (whose code this reuses: jax.jit on
XLA:CPU, NumPy twins where NumPy has the operation, STREAM, the load from other
processes) on the cases of benches/indexing/cases.py, with the minimum traffic of each
program: its inputs and outputs once, except that an embedding lookup need only read
the table's rows its tokens name. With --omelet, each case's inputs are written to
target/indexing-bench/NAME/, `omelet run NAME.hlo` on the first of --backends checks
its results against XLA's ("omelet_matches_xla"), and `omelet bench NAME.hlo` times
it on every backend of --backends, into --omelet-json (report.py's first document;
`omelet bench --random` would make token ids in [-10, 10], hence the files).
"""
import os, sys
import numpy as np
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
sys.path.insert(0, os.path.join(root, "benches", "suite"))
import peers  # noqa: E402

f32 = np.float32

def _embedding_grad(table, tokens, cotangent):
    grad = np.zeros_like(table)
    np.add.at(grad, tokens, cotangent)
    return table[tokens], grad

def _xent_loss(logits, labels):
    m = logits.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(axis=-1)) + m[:, 0]
    return np.mean(lse - logits[np.arange(len(labels)), labels])

def _xent_grad(logits, labels):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    grad = e / e.sum(axis=-1, keepdims=True)
    grad[np.arange(len(labels)), labels] -= f32(1)
    return _xent_loss(logits, labels), grad / f32(len(labels))

def _max_pool(x):
    # SAME for 3x3 stride 2 on an even size: one row and column of -inf after.
    p = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)), constant_values=-np.inf)
    w = np.lib.stride_tricks.sliding_window_view(p, (3, 3), axis=(1, 2))[:, ::2, ::2]
    return w.max(axis=(-2, -1))

NUMPY = {
    "embedding_lookup": lambda table, tokens: table[tokens],
    "embedding_grad": _embedding_grad,
    "xent_loss": _xent_loss,
    "xent_grad": _xent_grad,
    "max_pool": _max_pool,
}

def min_bytes(name, args, xla_out):
    """An embedding lookup reads only the rows its tokens name, not the whole table."""
    if name.startswith("embedding_"):
        table, tokens = args[0], args[1]
        rows = len(np.unique(tokens)) * table.shape[1] * table.itemsize
        rest = sum(a.nbytes for a in args[1:]) + sum(r.nbytes for r in xla_out)
        return rows + rest
    return None

if __name__ == "__main__":
    peers.measure_hlo_bench("indexing", NUMPY, __doc__, min_bytes=min_bytes)
