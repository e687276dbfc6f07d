#!/usr/bin/env python3
"""Makes test fixtures from JAX programs: the HLO text JAX emits, inputs, JAX's outputs.

    python3 tests/jax_fixtures.py CASES.py OUTDIR

CASES.py defines its programs with the `case` decorator, which this script puts in
its scope together with `randn`, `uniform`, `randint`, `jax`, `jnp` and `np`:

    @case("softmax_rows", randn(37, 101))
    def f(x): return jax.nn.softmax(x, axis=-1)

For each case, OUTDIR/NAME/ gets module.hlo (`jax.jit(f).lower(*args).as_text(
dialect="hlo")`), in0.npy ..., expected0.npy ... (JAX's results, one per output)
and meta.json (tolerances, and how many kernels XLA:CPU's optimized module has).
Inputs come from one generator seeded once, in definition order: regenerate every
case of a file together. Needs `pip install jax numpy` (.ci/run installs them).
"""
import json, os, re, sys

import numpy as np
import jax
import jax.numpy as jnp

rng = np.random.default_rng(0)


def randn(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def uniform(*shape, lo=0.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def randint(lo, hi, *shape):
    return rng.integers(lo, hi, shape).astype(np.int32)


CASES = {}


def case(name, *args, rtol=1e-4, atol=1e-5):
    def register(f):
        CASES[name] = (f, args, rtol, atol)
        return f
    return register


# Instructions that are no kernel of their own in XLA's optimized module.
NOT_KERNELS = {"parameter", "constant", "tuple", "get-tuple-element", "bitcast"}


def xla_kernel_count(optimized_text):
    """The instructions of the entry computation that XLA runs as kernels."""
    entry = optimized_text[optimized_text.index("ENTRY"):]
    opcodes = (re.search(r"=\s*(?:\([^)]*\)|\S+)\s+([\w-]+)\(", line)
               for line in entry.splitlines()[1:])
    return sum(1 for m in opcodes if m and m.group(1) not in NOT_KERNELS)


def load_cases(cases_file):
    """The cases a file defines, by name: (function, inputs, rtol, atol)."""
    CASES.clear()
    scope = dict(case=case, randn=randn, uniform=uniform, randint=randint,
                 jax=jax, jnp=jnp, np=np)
    exec(compile(open(cases_file).read(), cases_file, "exec"), scope)
    return dict(CASES)



def write_hlo(cases_file):
    """Writes each case of `cases_file` as NAME.hlo beside it: the HLO text JAX emits
    (`jax.jit(f).lower(*args).as_text(dialect="hlo")`), as the HLO benchmarks keep it."""
    folder = os.path.dirname(os.path.abspath(cases_file))
    for name, (f, args, _, _) in load_cases(cases_file).items():
        path = os.path.join(folder, f"{name}.hlo")
        with open(path, "w") as fh:
            fh.write(jax.jit(f).lower(*args).as_text(dialect="hlo"))
        print(f"wrote {os.path.relpath(path)}", file=sys.stderr)

def write_case(folder, f, args, rtol, atol):
    # A case marked `f.__x64__ = True` runs with jax_enable_x64, so that its 64-bit
    # inputs stay 64-bit.
    with jax.enable_x64(getattr(f, "__x64__", False)):
        return _write_case(folder, f, args, rtol, atol)


def _write_case(folder, f, args, rtol, atol):
    os.makedirs(folder, exist_ok=True)
    lowered = jax.jit(f).lower(*args)
    with open(os.path.join(folder, "module.hlo"), "w") as fh:
        fh.write(lowered.as_text(dialect="hlo"))
    results = jax.jit(f)(*args)
    results = results if isinstance(results, (tuple, list)) else (results,)
    for i, a in enumerate(args):
        np.save(os.path.join(folder, f"in{i}.npy"), np.asarray(a))
    for i, r in enumerate(results):
        np.save(os.path.join(folder, f"expected{i}.npy"), np.asarray(r))
    meta = dict(rtol=rtol, atol=atol, n_inputs=len(args), n_outputs=len(results),
                xla_kernels=xla_kernel_count(lowered.compile().as_text()))
    with open(os.path.join(folder, "meta.json"), "w") as fh:
        json.dump(meta, fh)
    return meta


def main(cases_file, out):
    for name, (f, args, rtol, atol) in load_cases(cases_file).items():
        print(name, write_case(os.path.join(out, name), f, args, rtol, atol))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
