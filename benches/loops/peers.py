#!/usr/bin/env python3
"""Time issue 15's loop benchmarks (benches/loops/*.hlo) on XLA:CPU, and on Omelet.

Usage:  python3 benches/loops/peers.py [--iters N] [--only NAME,...] [--no-stream]
            [--omelet target/release/omelet --backends cpu --omelet-iters N
             --omelet-json omelet.json] > peers.json
        python3 benches/suite/report.py omelet.json peers.json --backend cpu
The measurement of benches/suite/peers.py (jax.jit on XLA:CPU, STREAM, the load
from other processes) on the cases of benches/loops/cases.py, which have no NumPy
twins. With --omelet, each case's inputs are written to target/loops-bench/NAME/,
`omelet run NAME.hlo` on the first of --backends checks its results against XLA's
("omelet_matches_xla"), and `omelet bench NAME.hlo` times it on every backend of
--backends, into --omelet-json (report.py's first document).
"""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "suite"))
import peers  # noqa: E402

if __name__ == "__main__":
    peers.measure_hlo_bench("loops", {}, __doc__)
