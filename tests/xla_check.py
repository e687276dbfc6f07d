#!/usr/bin/env python3
"""Runs HLO text modules on XLA itself: XLA's own parser, XLA:CPU's compiler.

This is the project's independent oracle for its HLO dumps: a module Omelet
prints must parse in XLA and compute what Omelet computes.

    python3 tests/xla_check.py MODULE.hlo OUTDIR [IN0.npy ...]   # one module
    python3 tests/xla_check.py < jobs.json                       # a batch

One module: writes OUTDIR/out0.npy ... (one per result, tuples flattened) and
prints the median time of 20 runs; exit status 2, with XLA's message, when XLA
rejects the text. A batch: a JSON list of {"module", "out", "inputs"} jobs, each
done as above, in one process (JAX starts once per test run); a job that XLA
rejects or fails on gets "out"/error.txt with the reason instead.

Omelet's `fusion(...), kind=K, calls=C` instructions are handed to XLA as the
equivalent `call(...), to_apply=C`: XLA:CPU does not take fusions as input, and
fuses again on its own. Needs `pip install jax numpy` (.ci/run installs them).
"""
import contextlib, io, json, os, re, statistics, sys, time

import numpy as np
import jax
import jax.numpy as jnp

# Inputs go to XLA with their own types: no canonicalization of 64-bit arrays.
jax.config.update("jax_enable_x64", True)
from jax._src import xla_bridge
from jax._src.lib import xla_client as xc

FUSION = re.compile(r"\sfusion\(")


class Rejected(Exception):
    """XLA's parser refused the text."""


def as_call(line):
    """`x = T fusion(a, b), kind=kLoop, calls=%f` -> `x = T call(a, b), to_apply=%f`."""
    if not FUSION.search(line):
        return line
    line = FUSION.sub(" call(", line, count=1)
    line = re.sub(r",\s*kind=k\w+", "", line)
    return line.replace("calls=", "to_apply=")


def compile_text(text):
    """XLA:CPU's executable for an HLO module's text; raises Rejected."""
    text = "\n".join(as_call(line) for line in text.splitlines())
    try:
        module = xc.hlo.hlo_module_from_text(text)
    except Exception as e:  # XLA's parser error says what and where
        raise Rejected(str(e)) from e
    backend = xla_bridge.get_backend("cpu")
    mlir = xc._xla.mlir.xla_computation_to_mlir_module(
        xc.XlaComputation(module.as_serialized_hlo_module_proto()))
    devices = xc.DeviceList(tuple(backend.devices()[:1]))
    return backend.compile_and_load(mlir, devices, xc.CompileOptions())


def load(path):
    """An .npy input; NumPy saves bf16 as raw 2-byte records (V2)."""
    a = np.load(path)
    return a.view(jnp.bfloat16) if a.dtype == np.dtype("V2") else a


def run_module(path, out, inputs, repeats=0):
    """Runs the module at `path` on the .npy files `inputs`, saves the results in
    `out` as out0.npy ...; returns the median of `repeats` timed runs in ms."""
    exe = compile_text(open(path).read())
    args = [jax.device_put(load(p)) for p in inputs]
    results = exe.execute(args)
    os.makedirs(out, exist_ok=True)
    for i, r in enumerate(results):
        np.save(os.path.join(out, f"out{i}.npy"), np.asarray(r))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(exe.execute(args))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3 if times else None


def run_batch(jobs):
    for job in jobs:
        os.makedirs(job["out"], exist_ok=True)
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(captured):
                run_module(job["module"], job["out"], job["inputs"])
        except Rejected as e:
            reason = f"XLA rejected the text: {e}"
        except Exception as e:  # XLA's compile- and run-time errors
            reason = f"{type(e).__name__}: {e} {captured.getvalue()}"
        else:
            continue
        with open(os.path.join(job["out"], "error.txt"), "w") as f:
            f.write(reason)


def main(argv):
    if len(argv) == 1:
        run_batch(json.load(sys.stdin))
        return
    if len(argv) < 3:
        sys.exit(__doc__)
    try:
        ms = run_module(argv[1], argv[2], argv[3:], repeats=20)
    except Rejected as e:
        print(f"XLA rejected {argv[1]}: {e}", file=sys.stderr)
        sys.exit(2)
    print(f"xla median run: {ms:.3f} ms")


if __name__ == "__main__":
    main(sys.argv)
