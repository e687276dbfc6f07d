#!/usr/bin/env python3
"""Makes fixtures from hand-written HLO, with XLA itself as the oracle.

For each tests/xla/NAME/module.hlo: writes random inputs in0.npy ... (unless the
folder already has them: hand-picked edge values stay), runs the module on XLA
(tests/xla_check.py) and saves XLA's results as expected0.npy ..., plus
meta.json. The folders then look like JAX fixtures and the same tests run them.

Usage (from the repository root):  python3 tests/xla/make.py
"""
import glob, json, os, re, shutil, sys, tempfile
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(here))
import xla_check  # noqa: E402
rng = np.random.default_rng(0)
PARAM = re.compile(r"^\s*(?:ROOT\s+)?\S+\s*=\s*(f32|s32|pred)\[([\d,]*)\]\S*\s+parameter\((\d+)\)")

def entry_parameters(text):
    entry = text[text.index("ENTRY"):]
    params = {}
    for line in entry.splitlines():
        m = PARAM.match(line)
        if m:
            dims = tuple(int(d) for d in m.group(2).split(",") if d)
            params[int(m.group(3))] = (m.group(1), dims)
    return [params[i] for i in range(len(params))]

def random_input(dtype, dims):
    if dtype == "f32":
        return rng.standard_normal(dims).astype(np.float32)
    if dtype == "s32":
        return rng.integers(-5, 6, dims).astype(np.int32)
    return rng.integers(0, 2, dims).astype(bool)

for module in sorted(glob.glob(os.path.join(here, "*", "module.hlo"))):
    d = os.path.dirname(module)
    params = entry_parameters(open(module).read())
    inputs = [os.path.join(d, f"in{i}.npy") for i in range(len(params))]
    for path, (dtype, dims) in zip(inputs, params):
        if not os.path.exists(path):
            np.save(path, random_input(dtype, dims))
    with tempfile.TemporaryDirectory() as out:
        xla_check.run_module(module, out, inputs)
        for f in sorted(os.listdir(out)):
            shutil.copy(os.path.join(out, f), os.path.join(d, f.replace("out", "expected")))
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump({"rtol": 1e-4, "atol": 1e-5, "n_inputs": len(params)}, f)
    print(os.path.basename(d), len(params), "inputs")
