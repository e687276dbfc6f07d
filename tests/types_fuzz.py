#!/usr/bin/env python3
"""Random programs over every element type and bit op, checked against XLA.

    python3 tests/types_fuzz.py [--seed S] [--first I] [--count N] OUTDIR

Writes OUTDIR/caseSSSS_IIIII/ for cases I .. I+N-1 of seed S: module.hlo (the HLO
JAX emits under jit), in0.npy ..., expected0.npy ... (XLA:CPU's outputs),
meta.json ({"exact": [one bool per output]}) and source.py (the program, for repro).
`cli/tests/types_fuzz.rs` runs them on every backend and compares.

Each program is a random DAG of `lax` elementwise ops over 2-3 parameters of
random element types (pred, s8..s64, u8..u64, f16, bf16, f32, f64): integer
arithmetic with XLA's edge cases (division and remainder by 0 and of MIN by -1,
shifts by 0, width-1, width, more, and negative amounts, overflow), bitwise
ops, popcnt, count-leading-zeros, conversions between every pair of types,
bitcast-convert between equal widths, compare and select, and float ops. Inputs
are bit patterns that hit the edges: 0, ±1, MIN, MAX, powers of two, NaN, ±inf,
±0 and f16 subnormals. (XLA:CPU flushes f32, bf16 and f64 subnormals to zero,
inputs and results, where HLO's semantics and the interpreter keep them: no
input is one, and `types_fuzz.rs` lets a result that is one be zero.)

An output computed only by exactly rounded ops (integer and bitwise ops,
conversions, float add/subtract/multiply/divide/max/min/floor/ceil/round/abs/
negate/sign/compare) must be matched bit for bit ("exact": NaN matching any NaN);
one downstream of a transcendental (tan, cbrt, atan2, exp, log, sqrt, tanh)
within a normwise tolerance. Discontinuous ops (conversions, compares, integer
and bitwise ops, rounding) only ever take exact values, so that an ulp of
difference in a transcendental never flips them. XLA runs with --xla_allow_excess_precision=false, so that it rounds each
f16 and bf16 op to its type as HLO's semantics (and Omelet) do.
"""
import argparse, json, os, sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_allow_excess_precision=false"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np
import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
from jax import lax
import ml_dtypes

INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float16", "bfloat16", "float32", "float64"]
TYPES = ["bool"] + INTS + FLOATS
WIDTH = {"bool": 8, "int8": 8, "uint8": 8, "int16": 16, "uint16": 16, "float16": 16,
         "bfloat16": 16, "int32": 32, "uint32": 32, "float32": 32, "int64": 64,
         "uint64": 64, "float64": 64}


def np_dtype(name):
    return ml_dtypes.bfloat16 if name == "bfloat16" else np.dtype(name)


def kind(name):
    if name == "bool":
        return "pred"
    if name in FLOATS:
        return "float"
    return "unsigned" if name.startswith("u") else "signed"


# (name, the kinds it takes, exact?) for ops of two operands of one type.
BINARY = [
    ("lax.add", {"signed", "unsigned", "float"}, True),
    ("lax.sub", {"signed", "unsigned", "float"}, True),
    ("lax.mul", {"signed", "unsigned", "float"}, True),
    ("lax.div", {"signed", "unsigned", "float"}, True),
    ("lax.rem", {"signed", "unsigned", "float"}, True),
    ("lax.max", {"signed", "unsigned", "float", "pred"}, True),
    ("lax.min", {"signed", "unsigned", "float", "pred"}, True),
    ("lax.bitwise_and", {"signed", "unsigned", "pred"}, True),
    ("lax.bitwise_or", {"signed", "unsigned", "pred"}, True),
    ("lax.bitwise_xor", {"signed", "unsigned", "pred"}, True),
    ("lax.shift_left", {"signed", "unsigned"}, True),
    ("lax.shift_right_logical", {"signed", "unsigned"}, True),
    ("lax.shift_right_arithmetic", {"signed", "unsigned"}, True),
    ("lax.atan2", {"float"}, False),
]
UNARY = [
    ("lax.neg", {"signed", "unsigned", "float"}, True),
    ("lax.abs", {"signed", "float"}, True),
    ("lax.sign", {"signed", "unsigned", "float"}, True),
    ("lax.bitwise_not", {"signed", "unsigned", "pred"}, True),
    ("lax.population_count", {"signed", "unsigned"}, True),
    ("lax.clz", {"signed", "unsigned"}, True),
    ("lax.floor", {"float"}, True),
    ("lax.ceil", {"float"}, True),
    ("lax.round", {"float"}, True),
    ("lax.is_finite", {"float"}, True),
    ("lax.tan", {"float"}, False),
    ("lax.cbrt", {"float"}, False),
    ("lax.exp", {"float"}, False),
    ("lax.log", {"float"}, False),
    ("lax.sqrt", {"float"}, False),
    ("lax.tanh", {"float"}, False),
]
COMPARE = ["lax.eq", "lax.ne", "lax.lt", "lax.le", "lax.gt", "lax.ge"]


def edge_values(name, rng, n):
    """n values of type `name` with its edge cases over-represented."""
    dtype = np_dtype(name)
    if name == "bool":
        return rng.integers(0, 2, n).astype(bool)
    if kind(name) in ("signed", "unsigned"):
        info = np.iinfo(dtype)
        width = WIDTH[name]
        edges = [0, 1, info.max, info.min, width - 1, width, width + 1, 2, 3, 7]
        if kind(name) == "signed":
            edges += [-1, -2, info.min + 1, -width]
        out = []
        for _ in range(n):
            r = rng.random()
            if r < 0.4:
                out.append(edges[rng.integers(len(edges))])
            elif r < 0.7:
                out.append(int(rng.integers(-20 if info.min < 0 else 0, 21)))
            else:
                out.append(int(rng.integers(info.min, int(info.max) + 1, dtype=np.int64 if name != "uint64" else np.uint64)))
        return np.array(out, dtype=object).astype(dtype)
    # Floats: a mix of ordinary values, exact small ones, and specials.
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, 65504.0, 1e-7,
                3.0e38 if name in ("float32", "bfloat16") else 1.0]
    if name == "float16":
        specials += [6.0e-8, 6.1e-5]
    if name == "float64":
        specials += [1e300]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.25:
            out.append(specials[rng.integers(len(specials))])
        elif r < 0.6:
            out.append(float(rng.integers(-64, 65)) / 8.0)
        else:
            out.append(float(rng.standard_normal() * 10.0 ** rng.integers(-3, 4)))
    return np.array(out, dtype=np.float64).astype(dtype)


# Ops that are continuous in their float operands: they may take approximate
# values (results of transcendentals) without a small error becoming a large one.
CONTINUOUS = {"lax.add", "lax.sub", "lax.mul", "lax.div", "lax.max", "lax.min",
              "lax.neg", "lax.abs", "lax.tan", "lax.cbrt", "lax.exp", "lax.log",
              "lax.sqrt", "lax.tanh", "lax.atan2"}


class Gen:
    def __init__(self, seed, index):
        self.rng = np.random.default_rng([seed, index, 7])
        self.shape = [(8,), (3, 5), (17,), (2, 3, 4)][self.rng.integers(4)]
        self.values = []  # (python name, type name, approximate?)
        self.converted = set()  # names of values that are conversions
        self.lines = []
        self.params = []

    def pick(self, kinds=None, typ=None, exact=False, unconverted=False):
        pool = [v for v in self.values
                if (kinds is None or kind(v[1]) in kinds) and (typ is None or v[1] == typ)
                and not (exact and v[2]) and not (unconverted and v[0] in self.converted)]
        if not pool:
            return None
        # Prefer recent values, so chains grow.
        i = len(pool) - 1 - min(int(self.rng.exponential(2.0)), len(pool) - 1)
        return pool[i]

    def new(self, expr, typ, approx=False):
        name = f"v{len(self.values)}"
        self.lines.append(f"    {name} = {expr}")
        self.values.append((name, typ, approx))
        return (name, typ, approx)

    def coerce(self, value, typ):
        """`value` as type `typ`, converted if it is not."""
        if value[1] == typ or value[0] in self.converted:
            return None
        converted = self.new(f"lax.convert_element_type({value[0]}, jnp.{typ})", typ)
        self.converted.add(converted[0])
        return converted

    def step(self):
        r = self.rng.random()
        if r < 0.35:
            op, kinds, exact = BINARY[self.rng.integers(len(BINARY))]
            continuous = op in CONTINUOUS
            a = self.pick(kinds, exact=not continuous)
            if a is None:
                return
            b = self.pick(typ=a[1], exact=not continuous) or a
            if self.rng.random() < 0.3:
                # The other operand converted from any type: conversions' edges.
                c = self.pick(exact=True)
                if c is not None:
                    b = self.coerce(c, a[1]) or b
            # XLA folds `x - x` and `x ^ x` to a constant zero, and its constant
            # folder then divides by it in C++ (SIGFPE on integers): never the
            # same value twice there.
            if b[0] == a[0] and op in ("lax.sub", "lax.bitwise_xor", "lax.div", "lax.rem"):
                return
            approx = a[2] or b[2] or not exact
            self.new(f"{op}({a[0]}, {b[0]})", a[1], approx)
        elif r < 0.6:
            op, kinds, exact = UNARY[self.rng.integers(len(UNARY))]
            a = self.pick(kinds, exact=op not in CONTINUOUS)
            if a is None:
                return
            # lax.round rounds half away from zero unless told: XLA's
            # round-nearest-even is the other method.
            args = ", lax.RoundingMethod.TO_NEAREST_EVEN" if op == "lax.round" else ""
            typ = "bool" if op == "lax.is_finite" else a[1]
            # tan of a huge argument is ill-conditioned (its range reduction
            # decides every digit): keep it within (-1, 1).
            operand = f"lax.tanh({a[0]})" if op == "lax.tan" else a[0]
            self.new(f"{op}({operand}{args})", typ, a[2] or not exact)
        elif r < 0.8:
            # XLA's simplifier merges two conversions in a row, even where the
            # first changes the value (s32 -> u32 -> f64 becomes s32 -> f64):
            # never convert a conversion.
            a = self.pick(exact=True, unconverted=True)
            if a is None:
                return
            to = TYPES[self.rng.integers(len(TYPES))]
            self.converted.add(self.new(f"lax.convert_element_type({a[0]}, jnp.{to})", to)[0])
        elif r < 0.88:
            a = self.pick({"signed", "unsigned", "float"}, exact=True)
            # The bits of a NaN an op makes (its sign, its payload) are the
            # hardware's, not HLO's: only parameters' floats are bitcast.
            if a is None or (kind(a[1]) == "float" and not a[0].startswith("p")):
                return
            # Bit patterns read as f32, bf16 or f64 are often subnormal, which
            # XLA:CPU flushes: bitcasts go to integers and f16 only.
            same = [t for t in TYPES if t != "bool" and WIDTH[t] == WIDTH[a[1]] and t != a[1]
                    and t not in ("float32", "bfloat16", "float64")]
            if not same:
                return
            to = same[self.rng.integers(len(same))]
            self.new(f"lax.bitcast_convert_type({a[0]}, jnp.{to})", to)
        else:
            a = self.pick(exact=True)
            b = self.pick(typ=a[1], exact=True) or a
            cmp = COMPARE[self.rng.integers(len(COMPARE))]
            if kind(a[1]) == "pred" and cmp not in ("lax.eq", "lax.ne"):
                cmp = "lax.eq"
            p = self.new(f"{cmp}({a[0]}, {b[0]})", "bool")
            c = self.pick(typ=a[1], exact=True) or a
            self.new(f"lax.select({p[0]}, {a[0]}, {c[0]})", a[1])

    def build(self):
        nparams = 2 + self.rng.integers(2)
        for i in range(nparams):
            t = TYPES[self.rng.integers(len(TYPES))]
            self.values.append((f"p{i}", t, False))
            size = int(np.prod(self.shape))
            data = edge_values(t, self.rng, size).reshape(self.shape)
            self.params.append((f"p{i}", t, data))
        for _ in range(3 + self.rng.integers(8)):
            self.step()
        # Outputs: the last value and one or two others.
        outs = [self.values[-1]]
        for _ in range(self.rng.integers(3)):
            v = self.values[self.rng.integers(len(self.values))]
            if v not in outs:
                outs.append(v)
        self.exact = [not v[2] for v in outs]
        args = ", ".join(p[0] for p in self.params)
        body = "\n".join(self.lines)
        return f"def f({args}):\n{body}\n    return ({', '.join(v[0] for v in outs)},)\n"


def write_case(out, seed, index):
    g = Gen(seed, index)
    source = g.build()
    scope = {"lax": lax, "jnp": jnp}
    exec(source, scope)
    f = scope["f"]
    inputs = [p[2] for p in g.params]
    folder = os.path.join(out, f"case{seed:04d}_{index:05d}")
    os.makedirs(folder, exist_ok=True)
    jitted = jax.jit(f, keep_unused=True)
    text = jitted.lower(*inputs).as_text(dialect="hlo")
    results = jitted(*inputs)
    with open(os.path.join(folder, "module.hlo"), "w") as fh:
        fh.write(text)
    for i, x in enumerate(inputs):
        np.save(os.path.join(folder, f"in{i}.npy"), x)
    for i, y in enumerate(results):
        np.save(os.path.join(folder, f"expected{i}.npy"), np.asarray(y))
    with open(os.path.join(folder, "meta.json"), "w") as fh:
        json.dump({"exact": g.exact}, fh)
    header = "import numpy as np, jax\njax.config.update('jax_enable_x64', True)\nimport jax.numpy as jnp\nfrom jax import lax\n\n"
    with open(os.path.join(folder, "source.py"), "w") as fh:
        fh.write(header + source)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("out")
    args = parser.parse_args()
    for index in range(args.first, args.first + args.count):
        write_case(args.out, args.seed, index)


if __name__ == "__main__":
    main()
