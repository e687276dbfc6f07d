#!/usr/bin/env python3
"""Makes the corpus of real programs: JAX, flax.linen and optax as users write them.

    python3 tests/real/make.py            # regenerate every program
    python3 tests/real/make.py NAME...    # only these (tests/real/programs/NAME.py)
    python3 tests/real/make.py --check NAME...   # remake into a temporary folder and
                                                 # compare with tests/real/NAME/

Each program is a file `tests/real/programs/NAME.py` whose `program()` returns
`(fn, args)`: a function and a tuple of example arguments, any pytrees (flax
params, optax states, PRNG keys, batches), made from fixed seeds. Optional
module attributes: `TOLERANCE = (rtol, atol)` for its float outputs (default
(1e-3, 1e-4); integer, bool and key outputs are compared exactly), `X64 = True`
to run it with `jax_enable_x64`, `NOTES = [...]` for meta.json.

For each program, in a subprocess of its own with XLA_FLAGS=--xla_dump_to=TMP,
this flattens the arguments (jax.tree_util), jits the flattened function
(`keep_unused=True`, so that every leaf stays a parameter) and writes into
`tests/real/NAME/`:

- `module.hlo`: `jax.jit(f).lower(*leaves).as_text(dialect="hlo")`;
- `in{i}.npy`: the leaves; `expected{i}.npy`: JAX's results, flattened. bfloat16
  arrays are saved with ml_dtypes' dtype, which numpy writes as `<V2`: their
  dtype is in meta.json;
- `dump.before.txt`, `dump.cpu_after.txt`: XLA's own dump of the jitted module,
  before optimization and after XLA:CPU's optimization (a dump over 300 KB is
  left out and said so in meta.json's notes);
- `meta.json`: the program's description, inputs and outputs (pytree path,
  dtype, shape), tolerances, the jax/jaxlib/flax/optax/numpy versions, notes.

Deterministic: the same versions give the same files (metadata names source
files relative to the repository root where they are the program's own).
Needs jax==0.10.2, flax==0.12.8 and optax==0.2.8 (`.ci/run` installs them).
The test is `cargo test -p omelet --test real` (`cli/tests/real.rs`).
"""
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROGRAMS = os.path.join(HERE, "programs")
DUMP_LIMIT = 300 * 1024
DEFAULT_TOLERANCE = (1e-3, 1e-4)


def program_names():
    return sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(PROGRAMS, "*.py"))
                  if not os.path.basename(p).startswith("_"))


def load(name):
    path = os.path.join(PROGRAMS, name + ".py")
    # Compiled under its path relative to the repository root, so that the
    # source locations in the HLO metadata do not depend on the checkout.
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    source = open(path).read()
    sys.path.insert(0, PROGRAMS)  # for programs/_common.py
    exec(compile(source, os.path.relpath(path, ROOT), "exec"), module.__dict__)
    return module


def make_one(name, dump_dir, out_root=HERE):
    """Runs in its own process: writes OUT_ROOT/NAME/ (from XLA's dump in dump_dir)."""
    module = load(name)
    import jax
    if getattr(module, "X64", False):
        jax.config.update("jax_enable_x64", True)
    import numpy as np
    import ml_dtypes
    import flax
    import optax
    import jaxlib

    fn, args = module.program()
    leaves_with_paths, treedef = jax.tree_util.tree_flatten_with_path(tuple(args))
    paths = [jax.tree_util.keystr(p) for p, _ in leaves_with_paths]
    leaves = [np.asarray(leaf) for _, leaf in leaves_with_paths]
    out_paths = []

    def flat(*leaves):
        outs = fn(*jax.tree_util.tree_unflatten(treedef, leaves))
        with_paths, _ = jax.tree_util.tree_flatten_with_path(outs)
        out_paths[:] = [jax.tree_util.keystr(p) for p, _ in with_paths]
        return [leaf for _, leaf in with_paths]

    flat.__name__ = flat.__qualname__ = "real_" + name
    jitted = jax.jit(flat, keep_unused=True)
    lowered = jitted.lower(*leaves)
    results = [np.asarray(r) for r in lowered.compile()(*leaves)]

    out = os.path.join(out_root, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with open(os.path.join(out, "module.hlo"), "w") as fh:
        fh.write(lowered.as_text(dialect="hlo"))
    for i, a in enumerate(leaves):
        np.save(os.path.join(out, f"in{i}.npy"), a)
    for i, r in enumerate(results):
        np.save(os.path.join(out, f"expected{i}.npy"), r)

    notes = list(getattr(module, "NOTES", []))
    for kind, target in [("before_optimizations", "dump.before.txt"),
                         ("cpu_after_optimizations", "dump.cpu_after.txt")]:
        found = sorted(glob.glob(os.path.join(dump_dir, f"module_*.jit_real_{name}.{kind}.txt")))
        if not found:
            notes.append(f"{target}: XLA wrote no {kind} dump")
            continue
        size = os.path.getsize(found[-1])
        if size > DUMP_LIMIT:
            notes.append(f"{target}: left out, {size} bytes (over {DUMP_LIMIT})")
            continue
        shutil.copyfile(found[-1], os.path.join(out, target))

    def describe(path, a):
        return dict(name=path, dtype=str(a.dtype), shape=list(a.shape))

    rtol, atol = getattr(module, "TOLERANCE", DEFAULT_TOLERANCE)
    doc = (module.__doc__ or "").strip()
    meta = dict(
        name=name,
        description=doc.splitlines()[0] if doc else "",
        rtol=rtol,
        atol=atol,
        exact="integer, bool and PRNG-key outputs are compared exactly",
        x64=bool(getattr(module, "X64", False)),
        inputs=[describe(p, a) for p, a in zip(paths, leaves)],
        outputs=[describe(p, r) for p, r in zip(out_paths, results)],
        versions=dict(jax=jax.__version__, jaxlib=jaxlib.__version__, flax=flax.__version__,
                      optax=optax.__version__, numpy=np.__version__,
                      ml_dtypes=ml_dtypes.__version__),
        notes=notes,
    )
    with open(os.path.join(out, "meta.json"), "w") as fh:
        fh.write(meta_text(meta))
    sizes = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"{name}: {len(leaves)} inputs, {len(results)} outputs, {sizes // 1024} KB"
          + "".join(f"; {n}" for n in notes if n.startswith("dump")))


def meta_text(meta):
    """JSON with one line per key, and one line per input and output."""
    lines = []
    for key, value in meta.items():
        if isinstance(value, list) and value:
            items = ",\n".join("  " + json.dumps(v) for v in value)
            lines.append(f" {json.dumps(key)}: [\n{items}\n ]")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(names, out_root=HERE):
    names = names or program_names()
    unknown = [n for n in names if n not in program_names()]
    if unknown:
        sys.exit(f"no such program: {', '.join(unknown)} (see {PROGRAMS})")
    failed = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"real-{name}-") as dump:
            env = dict(os.environ, XLA_FLAGS=f"--xla_dump_to={dump}", JAX_PLATFORMS="cpu",
                       PYTHONHASHSEED="0")
            # Run from the repository root by a relative path, so that the file
            # names in XLA's dumps are the same in every checkout.
            script = os.path.relpath(os.path.abspath(__file__), ROOT)
            status = subprocess.run([sys.executable, script, "--one", name, dump, out_root],
                                    env=env, cwd=ROOT)
            if status.returncode != 0:
                failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


def check(names):
    """Remakes `names` in a temporary folder: their module.hlo and inputs must
    be the files in tests/real/ byte for byte, and their expected outputs the
    same to 1e-5 (XLA's code for another CPU may round differently)."""
    import numpy as np
    import ml_dtypes  # noqa: F401 (bfloat16 files)

    def close(x, y):
        if x.dtype != y.dtype or x.shape != y.shape:
            return False
        if x.dtype.kind == "V":  # bfloat16
            x, y = x.view(ml_dtypes.bfloat16), y.view(ml_dtypes.bfloat16)
        if np.issubdtype(x.dtype, np.inexact) or x.dtype == ml_dtypes.bfloat16:
            return np.allclose(x.astype(np.float64), y.astype(np.float64),
                               rtol=1e-5, atol=1e-6, equal_nan=True)
        return np.array_equal(x, y)

    names = names or program_names()
    differ = []
    with tempfile.TemporaryDirectory(prefix="real-check-") as tmp:
        main(names, tmp)
        for name in names:
            ours, theirs = os.path.join(HERE, name), os.path.join(tmp, name)
            files = sorted(f for f in os.listdir(theirs)
                           if f == "module.hlo" or f.endswith(".npy"))
            for f in files:
                a, b = os.path.join(ours, f), os.path.join(theirs, f)
                if not os.path.exists(a):
                    differ.append(f"{name}/{f} (missing)")
                elif open(a, "rb").read() == open(b, "rb").read():
                    continue
                elif not (f.startswith("expected") and close(np.load(a), np.load(b))):
                    differ.append(f"{name}/{f}")
    if differ:
        sys.exit("remade files differ from tests/real/: " + ", ".join(differ))
    print(f"{len(names)} programs remade to the same files")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        make_one(*sys.argv[2:5])
    elif sys.argv[1:2] == ["--check"]:
        check(sys.argv[2:])
    elif any(a.startswith("-") for a in sys.argv[1:]):
        sys.exit(__doc__)
    else:
        main(sys.argv[1:])
