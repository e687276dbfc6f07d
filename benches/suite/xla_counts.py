#!/usr/bin/env python3
"""What XLA:CPU makes of the benchmark suite: kernels in its optimized module, minimum bytes.

Usage:  python3 benches/suite/xla_counts.py [--hlo DIR]
Prints one JSON line per case of benches/suite/cases.py: {"program", "xla_kernels" (as
tests/jax_fixtures.py counts them), "min_bytes" (all inputs plus all outputs)}.
With --hlo DIR, also writes each case's optimized HLO text to DIR/NAME.txt.
"""
import argparse, json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests"))
import jax_fixtures as jf

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--hlo", metavar="DIR")
opts = ap.parse_args()
cases_file = os.path.join(here, "cases.py")
scope = dict(case=jf.case, randn=jf.randn, uniform=jf.uniform, randint=jf.randint,
             jax=jf.jax, jnp=jf.jnp, np=jf.np)
exec(compile(open(cases_file).read(), cases_file, "exec"), scope)
if opts.hlo:
    os.makedirs(opts.hlo, exist_ok=True)
for name, (f, args, _, _) in jf.CASES.items():
    lowered = jf.jax.jit(f).lower(*args)
    text = lowered.compile().as_text()
    if opts.hlo:
        with open(os.path.join(opts.hlo, name + ".txt"), "w") as fh:
            fh.write(text)
    outs = jf.jax.tree_util.tree_leaves(lowered.out_info)
    min_bytes = sum(a.nbytes for a in args) + sum(o.size * o.dtype.itemsize for o in outs)
    print(json.dumps(dict(program=name, xla_kernels=jf.xla_kernel_count(text), min_bytes=int(min_bytes))))
