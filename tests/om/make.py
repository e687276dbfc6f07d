#!/usr/bin/env python3
"""Regenerate (and check) the `.om` test corpus under tests/om/.

    python3 tests/om/make.py            # from /work/main: regenerate every fixture, then check
    python3 tests/om/make.py --check    # only check the fixtures already on disk

Regeneration runs tests/jax_fixtures.py on tests/om/cases.py (module.hlo,
in*.npy, expected*.npy, meta.json per case), then writes each case's `.om` source as
NAME/script.om and removes fixture folders of cases that no longer exist.

The check makes sure every fixture is usable by the `.om` harness:
  - script.om exists and its `main` has one typed parameter per in*.npy, in order, with a
    matching dtype (f32/i32/bool) and shape (symbolic dimensions bound consistently);
  - the JAX module kept every input (jax.jit drops unused arguments);
  - outputs have one of the language's types and the folder is under 50 KB;
  - the script, run by the NumPy reference interpreter om_ref.py, reproduces the JAX
    twin's expected*.npy within the case's tolerances (same dtype and shape, NaN == NaN).
    om_ref.py knows the language of 2026-11 (f32/i32/bool, no bit operators, no
    random numbers): a case written with `@om(..., ref=False)` is checked against its
    twin by the Rust harness alone (meta.json gets "om_ref": false).
"""
import glob
import importlib.util
import json
import os
import re
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "jax_fixtures.py")
CASES_FILE = os.path.join(HERE, "cases.py")
MAX_BYTES = 50 * 1024

sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import om_ref  # noqa: E402


def regenerate():
    for old in glob.glob(os.path.join(HERE, "*", "*.npy")):
        os.remove(old)
    spec = importlib.util.spec_from_file_location("jax_fixtures", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main(CASES_FILE, HERE)
    names = set(tool.CASES)
    for name, (f, *_rest) in tool.CASES.items():
        src = getattr(f, "__om__", None)
        if src is None:
            sys.exit(f"case {name} has no .om script (use the @om decorator)")
        with open(os.path.join(HERE, name, "script.om"), "w") as fh:
            fh.write(src)
        if not getattr(f, "__om_ref__", True):
            path = os.path.join(HERE, name, "meta.json")
            meta = json.load(open(path))
            meta["om_ref"] = False
            with open(path, "w") as fh:
                json.dump(meta, fh)
    for meta in glob.glob(os.path.join(HERE, "*", "meta.json")):
        d = os.path.dirname(meta)
        if os.path.basename(d) not in names:
            print(f"removing stale fixture {os.path.basename(d)}")
            shutil.rmtree(d)


NP_DTYPE = {"bool": "bool", "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64",
            "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64",
            "f16": "float16", "bf16": "|V2", "f32": "float32", "f64": "float64"}  # bf16: NumPy's V2


def check_case(d):
    name = os.path.basename(d)
    errs = []
    script = os.path.join(d, "script.om")
    if not os.path.exists(script):
        return [f"{name}: no script.om"]
    src = open(script).read()
    meta = json.load(open(os.path.join(d, "meta.json")))
    ins = sorted(glob.glob(os.path.join(d, "in*.npy")), key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
    outs = sorted(glob.glob(os.path.join(d, "expected*.npy")),
                  key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
    if meta.get("om_ref", True):
        try:
            params = om_ref.main_params(src)
        except om_ref.OmError as e:
            return [f"{name}: script does not parse: {e}"]
    else:
        params = main_params(src)
    if not (len(ins) == len(params) == meta["n_inputs"]):
        errs.append(f"{name}: {len(ins)} in*.npy, {len(params)} main parameters, meta n_inputs={meta['n_inputs']}")
    if len(outs) != meta["n_outputs"]:
        errs.append(f"{name}: {len(outs)} expected*.npy but meta n_outputs={meta['n_outputs']}")
    hlo = open(os.path.join(d, "module.hlo")).read()
    entry = hlo[hlo.index("\nENTRY"):]
    n_hlo_params = len(set(re.findall(r"parameter\((\d+)\)", entry)))
    if n_hlo_params != len(ins):
        errs.append(f"{name}: the JAX module has {n_hlo_params} parameters for {len(ins)} inputs (unused input?)")
    inputs, syms = [], {}
    for k, (p, (pname, dt, dims)) in enumerate(zip(ins, params)):
        a = np.load(p)
        inputs.append(a)
        if dt is None:
            errs.append(f"{name}: main parameter {pname} is untyped")
            continue
        if str(a.dtype) != NP_DTYPE[dt]:
            errs.append(f"{name}: in{k}.npy is {a.dtype} but {pname} is {dt}")
        dims = dims or []
        if len(dims) != a.ndim:
            errs.append(f"{name}: in{k}.npy has shape {a.shape} but {pname} is {dt}{dims}")
            continue
        for dim, n in zip(dims, a.shape):
            if isinstance(dim, int) and dim != n:
                errs.append(f"{name}: in{k}.npy has shape {a.shape} but {pname} is {dt}{dims}")
            elif isinstance(dim, str) and syms.setdefault(dim, n) != n:
                errs.append(f"{name}: {pname}: {dim}={n} but {dim} was bound to {syms[dim]}")
    expected = [np.load(p) for p in outs]
    for k, e in enumerate(expected):
        if str(e.dtype) not in NP_DTYPE.values():
            errs.append(f"{name}: expected{k}.npy has dtype {e.dtype}")
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "*")))
    if size > MAX_BYTES:
        errs.append(f"{name}: fixture is {size} bytes (> {MAX_BYTES})")
    if errs or not meta.get("om_ref", True):
        return errs
    try:
        got = om_ref.run(src, inputs)
    except om_ref.OmError as e:
        return [f"{name}: reference interpreter: {e}"]
    if len(got) != len(expected):
        return [f"{name}: script returns {len(got)} outputs, JAX {len(expected)}"]
    for k, (g, e) in enumerate(zip(got, expected)):
        if g.dtype != e.dtype or g.shape != e.shape:
            errs.append(f"{name}: output {k}: script gives {g.dtype}{list(g.shape)}, JAX {e.dtype}{list(e.shape)}")
        elif not np.allclose(g, e, rtol=meta["rtol"], atol=meta["atol"], equal_nan=True):
            diff = np.max(np.abs(g.astype(np.float64) - e.astype(np.float64)))
            errs.append(f"{name}: output {k} differs from JAX (max abs diff {diff})")
    return errs


def main_params(src):
    """`main`'s parameters as (name, dtype, dims) from the script's text, for the
    scripts om_ref.py cannot parse."""
    m = re.search(r"fn\s+main\s*\((.*?)\)\s*(->|\{)", src, re.S)
    params = []
    for pm in re.finditer(r"(\w+)\s*:\s*(\w+)\s*(\[[^\]]*\])?", m.group(1)):
        dims = pm.group(3)
        dims = [] if not dims else [int(d) if d.strip().isdigit() else d.strip()
                                    for d in dims[1:-1].split(",") if d.strip()]
        params.append((pm.group(1), pm.group(2), dims))
    return params


def check():
    dirs = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(HERE, "*", "meta.json")))
    errs = [e for d in dirs for e in check_case(d)]
    if errs:
        print("\n".join(errs))
        sys.exit(1)
    print(f"OK: {len(dirs)} fixtures checked (script.om, inputs vs. main's signature, outputs vs. om_ref.py)")


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["--check"]):
        sys.exit(__doc__)
    if not sys.argv[1:]:
        regenerate()
    check()
