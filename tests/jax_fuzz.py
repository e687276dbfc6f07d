#!/usr/bin/env python3
"""Random JAX programs for differential fuzzing: HLO text, inputs and JAX's outputs.

    python3 tests/jax_fuzz.py [--seed S] [--first I] [--count N] OUTDIR

Writes OUTDIR/caseSSSS_IIIII/ for cases I .. I+N-1 of seed S (each case depends
only on the pair, so one case can be regenerated alone): module.hlo (`jax.jit(f)
.lower(*args).as_text(dialect="hlo")`), in0.npy ..., expected0.npy ... (JAX's
outputs under jit) and source.py (the program, runnable on its own, for repro).
`cli/tests/jax_fuzz.rs` runs them on every backend and compares.

The programs use the ops of ../shared/spec/HLO.md's first list: elementwise unary and binary ops on f32, s32 and
pred, compare, select, clamp, convert, broadcast, reshape, transpose, strided
slices, concatenate, iota, reductions (sum, product, max, min, and, or) over any
axes, and dot_general in every form (batch dimensions, free dimensions on one
side, on both or on none, contractions over several dimensions), with zero-size
and size-1 dimensions; and, from its "Real programs" list, the index ops (jnp.flip, lax.pad, dynamic slices and
updates, x[ids]) with starts and indices in [-8, 8], so that JAX's wrap of
negatives and XLA's clamp both run; and the region ops as users write them:
jnp.argmax/argmin (variadic reduce), jnp.cumsum/cumprod and lax.cummax/cummin
(reduce-window), lax.reduce_window sum/max/min with strides, padding and
dilations and flax's max_pool/avg_pool, x.at[idx].set/add/min/max/multiply
with duplicate, negative and out-of-range indices (scatter), jnp.sort/argsort,
lax.sort of two operands and lax.top_k, and the gradients of a max pool
(select-and-scatter) and of an embedding lookup (scatter-add). Their consumers (epilogues, row reductions, softmax,
column sums, dots of dots, sibling products sharing an operand) make the fusion
pass build each kind of schedule.

Numbers are chosen so that every backend must agree with JAX within a normwise
tolerance. Most f32 inputs lie on a grid of eighths in [-2, 2]: sums, products,
dots and reductions of such values are exact in f32 in any order while they
stay under 2^24 units of their grid, and the generator tracks that ("exact"
values). Ops that are discontinuous (floor, ceil, round, sign, compare,
remainder, conversion to s32 or pred) only ever see exact values, so that an
ulp of difference elsewhere never flips them; transcendentals see bounded
values (squashed by tanh where they could grow), and a divisor is kept >= 1.
A tenth of the programs have infinities and NaN among their f32 inputs.

The region ops keep the same discipline. Selections (argmax, sorts, top_k, the
element a max pool's gradient routes to) read exact values only, often rounded
to integers first so that ties are frequent: every backend must break them as
XLA does (first index, stable sorts), and NaN, in the tenth that has it, must be
ordered as JAX orders it. Duplicate .at[].set indices write in an order XLA
leaves open, so .set's updates are equal along the index dimensions; .add,
.multiply, .min and .max agree in any order on exact values. A window that
covers only padding gives its init (an infinity for max and min), which marks
the value as holding specials.

Programs keep XLA:CPU's jit semantics equal to op-by-op semantics (HLO's, the
interpreter's), which they are not everywhere: no max or min (relu, a max
reduction, a max pool, cummax, .at[].max) reads NaN, as XLA:CPU's jit drops it;
no dynamic slice, gather or scatter reads a dynamic slice, as XLA:CPU folds
the two (a gather or scatter of one index becomes a dynamic slice) and clamps
the summed start.
"""
import argparse, os, re, sys

import numpy as np

F32, S32, PRED = "f32", "s32", "pred"
NP = {F32: np.float32, S32: np.int32, PRED: np.bool_}
JNP = {F32: "jnp.float32", S32: "jnp.int32", PRED: "jnp.bool_"}
# An exact f32 value stays exact while bound * 2^frac stays under this.
EXACT_LIMIT = 2.0 ** 22
# Inexact f32 values are squashed back under this magnitude.
INEXACT_LIMIT = 64.0
# Elements of one array at most.
MAX_ELEMENTS = 40_000


class Value:
    """A value of the program: its Python name, shape, element type, a bound on
    its magnitude, and whether it is exact (for f32: a multiple of 2^-frac)."""

    def __init__(self, name, shape, dtype, bound, exact, frac=0):
        self.name, self.shape, self.dtype = name, tuple(shape), dtype
        self.bound, self.exact, self.frac = float(bound), exact, frac
        self.special = False  # may hold infinities or NaN

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))


def exact_f32(bound, frac):
    return bound * 2.0 ** frac < EXACT_LIMIT


class Gen:
    def __init__(self, seed, index):
        self.rng = np.random.default_rng([seed, index])
        self.params = []  # (Value, numpy input)
        self.lines = []
        self.pool = []
        self.count = 0
        self.used = set()  # names some value reads
        self.by_name = {}
        self.large = self.p(0.2)  # whether dimensions may be large
        self.specials = self.p(0.1)  # whether f32 inputs hold infinities and NaN
        self.imports = set()  # imports beyond jax's that the program needs

    # -- helpers --------------------------------------------------------------

    def r(self, n):
        return int(self.rng.integers(n))

    def p(self, prob):
        return self.rng.random() < prob

    def choice(self, xs):
        return xs[self.r(len(xs))]

    def dim(self, big=False):
        if big and self.p(0.5):
            return int(self.rng.integers(8, 48))
        if self.large and self.p(0.3):
            # Past a vector's lanes, a workgroup's threads and the CPU's split.
            return int(self.rng.integers(33, 300))
        u = self.rng.random()
        if u < 0.03:
            return 0
        if u < 0.25:
            return 1
        return int(self.rng.integers(2, 8))

    def shape(self, rank=None, big=False):
        rank = self.choice([0, 1, 1, 2, 2, 2, 3, 3, 4]) if rank is None else rank
        return self.bounded([self.dim(big) for _ in range(rank)])

    def bounded(self, dims):
        """`dims` with its largest dimensions cut until it has at most
        MAX_ELEMENTS elements (the interpreter's time grows with them)."""
        dims = list(dims)
        while np.prod(dims, dtype=np.int64) > MAX_ELEMENTS:
            i = int(np.argmax(dims))
            dims[i] = max(1, dims[i] // 4)
        return tuple(dims)

    def emit(self, expr, shape, dtype, bound, exact, frac=0):
        name = f"v{self.count}"
        self.count += 1
        operands = re.findall(r"\b[vx]\d+\b", expr)
        self.used.update(operands)
        self.lines.append(f"    {name} = {expr}")
        if dtype == F32 and exact and not exact_f32(bound, frac):
            exact = False
        if dtype != F32:
            exact = True
        v = Value(name, shape, dtype, bound, exact, frac)
        v.special = any(self.by_name[o].special for o in operands)
        self.by_name[name] = v
        self.pool.append(v)
        return v

    def param(self, shape, dtype, exact=None):
        name = f"x{len(self.params)}"
        rng = self.rng
        if dtype == F32:
            exact = self.p(0.75) if exact is None else exact
            if exact:
                data = rng.integers(-16, 17, shape).astype(np.float32) / 8
                v = Value(name, shape, F32, 2.0, True, 3)
            else:
                data = rng.uniform(-2, 2, shape).astype(np.float32)
                v = Value(name, shape, F32, 2.0, False)
            data = np.array(data, np.float32).reshape(shape)
            if self.specials:
                # IEEE's special values propagate the same way in any order, so
                # they leave a value exact; the GPU then only has to run. No
                # max or min reduction reads them: XLA:CPU's drop NaN (jit gives
                # inf, eager 1.9 and HLO's semantics NaN for one max; the
                # interpreter keeps HLO's).
                hit = rng.random(shape) < 0.15
                data[hit] = rng.choice(np.array([np.inf, -np.inf, np.nan], np.float32),
                                       int(hit.sum()))
        elif dtype == S32:
            data = rng.integers(-8, 9, shape).astype(np.int32)
            v = Value(name, shape, S32, 8, True)
        else:
            data = rng.random(shape) < 0.5
            v = Value(name, shape, PRED, 1, True)
        v.special = dtype == F32 and self.specials
        self.by_name[name] = v
        self.params.append((v, data))
        self.pool.append(v)
        return v

    def pick(self, dtype=None, pred=None):
        """A value of the pool, most often the newest (chains fuse)."""
        cands = [v for v in self.pool
                 if (dtype is None or v.dtype == dtype) and (pred is None or pred(v))]
        if not cands:
            return None
        if self.p(0.55):
            return cands[-1]
        return self.choice(cands)

    def need(self, shape, dtype, exact=False):
        """A value of exactly this shape and type: from the pool, a broadcast of
        a smaller one, or a new parameter."""
        shape = tuple(shape)
        ok = lambda v: v.dtype == dtype and (v.exact or not exact)
        same = [v for v in self.pool if v.shape == shape and ok(v)]
        if same and self.p(0.5):
            return self.choice(same)
        if self.p(0.25):
            # A broadcast of a value whose shape is a sub-sequence of this one.
            smaller = [v for v in self.pool if ok(v) and len(v.shape) < len(shape)
                       and subsequence(v.shape, shape)]
            if smaller:
                v = self.choice(smaller)
                dims = subsequence(v.shape, shape)
                return self.emit(f"lax.broadcast_in_dim({v.name}, {shape}, {tuple(dims)})",
                                 shape, dtype, v.bound, v.exact, v.frac)
        if dtype == F32 and self.p(0.1):
            k = self.choice([0.0, 1.0, -0.5, 2.0, 0.25])
            return self.emit(f"jnp.full({shape}, {k}, jnp.float32)", shape, F32, abs(k), True, 2)
        return self.param(shape, dtype, exact=True if exact else None)

    def squash(self, v):
        """v itself, or v brought under INEXACT_LIMIT."""
        if v.dtype != F32 or v.bound <= INEXACT_LIMIT:
            return v
        if v.exact and self.p(0.5):
            k = int(np.ceil(np.log2(v.bound / 4)))
            return self.emit(f"{v.name} * {2.0 ** -k!r}", v.shape, F32, v.bound * 2.0 ** -k,
                             True, v.frac + k)
        return self.emit(f"jnp.tanh({v.name})", v.shape, F32, 1, False)

    # -- ops ------------------------------------------------------------------

    def unary(self):
        v = self.pick()
        if v is None:
            return
        n, s = v.name, v.shape
        if v.dtype == PRED:
            return self.emit(f"jnp.logical_not({n})", s, PRED, 1, True)
        if v.dtype == S32:
            op = self.choice(["-{}", "jnp.abs({})", "jnp.sign({})", "~{}"])
            return self.emit(op.format(n), s, S32, v.bound + 1, True)
        if v.exact and self.p(0.4):
            op, bound, frac = self.choice([
                ("-{}", v.bound, v.frac), ("jnp.abs({})", v.bound, v.frac),
                ("jnp.sign({})", 1, 0), ("jnp.floor({})", v.bound + 1, 0),
                ("jnp.ceil({})", v.bound + 1, 0), ("jnp.round({})", v.bound + 1, 0),
                ("lax.round({}, lax.RoundingMethod.TO_NEAREST_EVEN)", v.bound + 1, 0),
                ("{} * 0.5", v.bound / 2, v.frac + 1)])
            if self.p(0.1):
                return self.emit(f"jnp.sqrt(jnp.abs({n}))", s, F32, np.sqrt(v.bound), False)
            return self.emit(op.format(n), s, F32, bound, True, frac)
        if self.p(0.1):
            return self.emit(f"jnp.isfinite({n})", s, PRED, 1, True)
        b = v.bound
        small = lambda lim: n if b <= lim else f"jnp.tanh({n})"
        op, bound = self.choice([
            (f"-{n}", b), (f"jnp.abs({n})", b),
            (f"jnp.exp({small(3)})", np.exp(min(b, 3))),
            (f"jnp.expm1({small(3)})", np.exp(min(b, 3))),
            (f"jnp.log(jnp.abs({n}) + 1.0)", np.log1p(b) + 1),
            (f"jnp.log1p(jnp.abs({n}))", np.log1p(b) + 1),
            # sqrt's slope is unbounded at 0: an inexact operand stays away from it.
            (f"jnp.sqrt(jnp.abs({n}) + 0.25)", np.sqrt(b) + 1),
            (f"lax.rsqrt(jnp.abs({n}) + 1.0)", 1),
            (f"jnp.tanh({n})", 1), (f"jax.nn.sigmoid({n})", 1), (f"lax.logistic({n})", 1),
            (f"jnp.sin({small(50)})", 1), (f"jnp.cos({small(50)})", 1),
            (f"lax.erf({n})", 1)])
        return self.emit(op, s, F32, bound, False)

    def binary(self):
        a = self.pick()
        if a is None:
            return
        exact_needed = False
        if a.dtype == F32:
            op = self.choice(["+", "-", "*", "max", "min", "div", "pow", "rem", "remainder"])
            if op in ("rem", "remainder"):
                if not a.exact:
                    op = "+"
                else:
                    exact_needed = True
        elif a.dtype == S32:
            op = self.choice(["+", "-", "*", "max", "min", "div", "rem", "&", "|", "//"])
        else:
            op = self.choice(["&", "|", "==", "!="])
        bshape = self.broadcastable(a.shape)
        b = self.need(bshape, a.dtype, exact=exact_needed)
        if a.dtype == F32 and op in ("div", "pow"):
            a = self.squash(a)
        if op == "pow" and b.bound > 3:
            b = self.emit(f"jnp.clip({b.name}, -2.0, 2.0)", b.shape, F32, 2, b.exact, b.frac)
        x, y = (a, b) if self.p(0.7) else (b, a)
        s = np.broadcast_shapes(x.shape, y.shape)
        X, Y = x.name, y.name
        ex = x.exact and y.exact
        if a.dtype == PRED:
            return self.emit(f"{X} {op} {Y}", s, PRED, 1, True)
        if a.dtype == S32:
            bound = {"+": x.bound + y.bound, "-": x.bound + y.bound, "*": x.bound * y.bound,
                     "&": max(x.bound, y.bound), "|": 2 * max(x.bound, y.bound)}.get(op, max(x.bound, y.bound))
            expr = {"max": f"jnp.maximum({X}, {Y})", "min": f"jnp.minimum({X}, {Y})",
                    "div": f"lax.div({X}, {Y})" if x.shape == y.shape else f"{X} // {Y}",
                    "rem": f"lax.rem({X}, {Y})" if x.shape == y.shape else f"jnp.remainder({X}, {Y})",
                    }.get(op, f"{X} {op} {Y}")
            return self.emit(expr, s, S32, min(bound, 2.0 ** 31), True)
        frac = max(x.frac, y.frac)
        if op in "+-":
            return self.emit(f"{X} {op} {Y}", s, F32, x.bound + y.bound, ex, frac)
        if op == "*":
            return self.emit(f"{X} * {Y}", s, F32, x.bound * y.bound, ex, x.frac + y.frac)
        if op in ("max", "min"):
            f = "jnp.maximum" if op == "max" else "jnp.minimum"
            return self.emit(f"{f}({X}, {Y})", s, F32, max(x.bound, y.bound), ex, frac)
        if op == "div":
            return self.emit(f"{X} / (jnp.abs({Y}) + 1.0)", s, F32, x.bound, False)
        if op == "pow":
            b = max(y.bound, 0)
            return self.emit(f"jnp.power(jnp.abs({X}) + 0.5, {Y})", s, F32,
                             max((x.bound + 0.5) ** b, 2.0 ** b), False)
        # Remainders of exact values are exact; divisors kept >= 1.
        f = "lax.rem" if op == "rem" and x.shape == y.shape else "jnp.remainder"
        return self.emit(f"{f}({X}, jnp.abs({Y}) + 1.0)", s, F32, y.bound + 1, True, frac)

    def broadcastable(self, shape):
        """A shape that broadcasts to `shape` (NumPy rules), often `shape` itself."""
        u = self.rng.random()
        if u < 0.55:
            return shape
        if u < 0.7:
            return ()
        out = list(shape[self.r(len(shape) + 1):])
        for i in range(len(out)):
            if self.p(0.4):
                out[i] = 1
        return tuple(out)

    def compare(self):
        a = self.pick(pred=lambda v: v.exact and v.dtype != PRED)
        if a is None:
            return
        b = self.need(self.broadcastable(a.shape), a.dtype, exact=True)
        op = self.choice(["<", "<=", ">", ">=", "==", "!="])
        s = np.broadcast_shapes(a.shape, b.shape)
        return self.emit(f"{a.name} {op} {b.name}", s, PRED, 1, True)

    def select(self):
        a = self.pick()
        if a is None:
            return
        c = self.need(self.broadcastable(a.shape), PRED)
        b = self.need(self.broadcastable(a.shape), a.dtype)
        x, y = (a, b) if self.p(0.5) else (b, a)
        s = np.broadcast_shapes(c.shape, x.shape, y.shape)
        return self.emit(f"jnp.where({c.name}, {x.name}, {y.name})", s, a.dtype,
                         max(x.bound, y.bound), x.exact and y.exact, max(x.frac, y.frac))

    def clamp(self):
        a = self.pick(pred=lambda v: v.dtype != PRED)
        if a is None:
            return
        if a.dtype == S32:
            lo, hi = sorted(int(x) for x in self.rng.integers(-6, 7, 2))
        else:
            lo, hi = sorted(int(x) / 4 for x in self.rng.integers(-8, 9, 2))
        bound = max(abs(lo), abs(hi))
        if self.p(0.25):
            # Bounds that are arrays too (lo <= hi elementwise).
            lo_v = self.need(a.shape, a.dtype, exact=a.exact)
            hi = self.emit(f"{lo_v.name} + {JNP[a.dtype]}({abs(hi - lo)})", a.shape, a.dtype,
                           lo_v.bound + abs(hi - lo), lo_v.exact, max(lo_v.frac, 2))
            return self.emit(f"lax.clamp({lo_v.name}, {a.name}, {hi.name})", a.shape, a.dtype,
                             max(hi.bound, lo_v.bound), a.exact and hi.exact,
                             max(a.frac, hi.frac))
        if self.p(0.5):
            return self.emit(f"lax.clamp({JNP[a.dtype]}({lo}), {a.name}, {JNP[a.dtype]}({hi}))",
                             a.shape, a.dtype, bound, a.exact, max(a.frac, 2))
        return self.emit(f"jnp.clip({a.name}, {lo}, {hi})", a.shape, a.dtype, bound, a.exact,
                         max(a.frac, 2))

    def convert(self):
        a = self.pick()
        if a is None:
            return
        to = self.choice([t for t in (F32, S32, PRED) if t != a.dtype])
        if a.dtype == F32 and not a.exact:
            return  # truncation and != 0 are discontinuous
        if to == F32:
            return self.emit(f"{a.name}.astype(jnp.float32)", a.shape, F32, a.bound, True, 0)
        if to == S32:
            return self.emit(f"{a.name}.astype(jnp.int32)", a.shape, S32, a.bound, True)
        return self.emit(f"{a.name}.astype(jnp.bool_)", a.shape, PRED, 1, True)

    def iota(self):
        s = self.shape(rank=self.choice([1, 2, 3]))
        d = self.r(len(s))
        t = self.choice([F32, S32])
        return self.emit(f"lax.broadcasted_iota({JNP[t]}, {s}, {d})", s, t, max(s), True)

    def broadcast(self):
        a = self.pick()
        if a is None:
            return
        rank = len(a.shape) + self.r(3)
        if rank > 5:
            return
        dims = sorted(self.rng.choice(rank, len(a.shape), replace=False).tolist())
        out = [self.dim() for _ in range(rank)]
        for i, d in zip(dims, a.shape):
            out[i] = d if d != 1 or self.p(0.5) else self.dim()
        out = tuple(out)
        if out == a.shape or np.prod(out, dtype=np.int64) > MAX_ELEMENTS:
            return
        return self.emit(f"lax.broadcast_in_dim({a.name}, {out}, {tuple(dims)})", out, a.dtype,
                         a.bound, a.exact, a.frac)

    def reshape(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0)
        if a is None:
            return
        out = random_factorization(self, a.shape)
        if out == a.shape:
            return
        return self.emit(f"{a.name}.reshape({out})", out, a.dtype, a.bound, a.exact, a.frac)

    def transpose(self):
        a = self.pick(pred=lambda v: len(v.shape) > 1)
        if a is None:
            return
        perm = tuple(self.rng.permutation(len(a.shape)).tolist())
        out = tuple(a.shape[i] for i in perm)
        return self.emit(f"jnp.transpose({a.name}, {perm})", out, a.dtype, a.bound, a.exact, a.frac)

    def slice(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0)
        if a is None:
            return
        start, limit, strides, out = [], [], [], []
        for d in a.shape:
            lo = self.r(d + 1) if self.p(0.6) else 0
            hi = lo + self.r(d - lo + 1) if self.p(0.6) else d
            st = self.choice([1, 1, 2, 3])
            start.append(lo), limit.append(hi), strides.append(st)
            out.append(max(0, -(-(hi - lo) // st)))
        if self.p(0.3) and all(s == 1 for s in strides):
            idx = ", ".join(f"{lo}:{hi}" for lo, hi in zip(start, limit))
            expr = f"{a.name}[{idx}]"
        else:
            expr = f"lax.slice({a.name}, {tuple(start)}, {tuple(limit)}, {tuple(strides)})"
        return self.emit(expr, tuple(out), a.dtype, a.bound, a.exact, a.frac)

    # -- index ops: starts and indices from s32 parameters in [-8, 8], so that
    # JAX's wrap of negatives and XLA's clamp both run -------------------------

    def index_param(self, shape):
        return self.param(tuple(shape), S32)

    def flip(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0)
        if a is None:
            return
        axes = tuple(d for d in range(len(a.shape)) if self.p(0.5)) or (0,)
        return self.emit(f"jnp.flip({a.name}, {axes})", a.shape, a.dtype, a.bound, a.exact,
                         a.frac)

    def pad(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0)
        if a is None:
            return
        config = [(self.r(3) - 1, self.r(3) - 1, self.r(2)) for _ in a.shape]
        out = tuple(lo + hi + d + max(d - 1, 0) * i for (lo, hi, i), d in zip(config, a.shape))
        if any(n < 0 for n in out):
            return
        value = {F32: "jnp.float32(0.5)", S32: "jnp.int32(-3)", PRED: "True"}[a.dtype]
        return self.emit(f"lax.pad({a.name}, {value}, {config})", out, a.dtype,
                         max(a.bound, 3), a.exact, max(a.frac, 1))

    def dynamic_slice(self):
        # Not of another dynamic slice: XLA:CPU's jit folds the two into one
        # and clamps the summed start, which op-by-op semantics (JAX eager, the
        # interpreter) do not. Nor does a gather or a scatter read one (XLA
        # turns those of one index into dynamic slices, then folds them too).
        a = self.pick(pred=lambda v: len(v.shape) > 0 and not sliced(v))
        if a is None:
            return
        starts = self.index_param((len(a.shape),))
        sizes = tuple(self.r(d + 1) for d in a.shape)
        idx = ", ".join(f"{starts.name}[{d}]" for d in range(len(a.shape)))
        v = self.emit(f"lax.dynamic_slice({a.name}, ({idx},), {sizes})", sizes, a.dtype,
                      a.bound, a.exact, a.frac)
        v.sliced = True
        return v

    def dynamic_update_slice(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0)
        if a is None:
            return
        sizes = tuple(self.r(d + 1) for d in a.shape)
        u = self.need(sizes, a.dtype)
        starts = self.index_param((len(a.shape),))
        idx = ", ".join(f"{starts.name}[{d}]" for d in range(len(a.shape)))
        return self.emit(f"lax.dynamic_update_slice({a.name}, {u.name}, ({idx},))", a.shape,
                         a.dtype, max(a.bound, u.bound), a.exact and u.exact,
                         max(a.frac, u.frac))

    def take_rows(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0 and v.shape[0] > 0 and not sliced(v))
        if a is None:
            return
        ids = self.index_param(self.shape(rank=self.r(3)))
        out = self.bounded(ids.shape + a.shape[1:])
        if out != ids.shape + a.shape[1:]:
            return
        return self.emit(f"{a.name}[{ids.name}]", out, a.dtype, a.bound, a.exact, a.frac)

    # -- region ops as users write them: argmax, cumulative ops, windows and
    # pools, .at[] updates, sorts, and the gradients that JAX turns into
    # select-and-scatter and scatter-add. Selections (argmax, sort, top_k, the
    # max a pool's gradient routes to) read exact values only, where ties among
    # eighths are frequent and deliberate (first index wins, stable sorts).
    # Max and min (pools, cummax, .at[].max) never read NaN: XLA:CPU's jit drops
    # it where op-by-op semantics keep it. --------------------------------------

    def coarse(self, v):
        """v itself, or now and then v rounded to integers (more ties)."""
        if v.dtype == F32 and v.exact and self.p(0.3):
            return self.emit(f"jnp.round({v.name})", v.shape, F32, v.bound + 1, True, 0)
        return v

    def argmax(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0 and v.size > 0 and v.exact
                      and v.dtype != PRED)
        if a is None:
            return
        a = self.coarse(a)
        f = self.choice(["jnp.argmax", "jnp.argmin"])
        if self.p(0.2):
            return self.emit(f"{f}({a.name})", (), S32, a.size, True)
        axis = self.r(len(a.shape))
        keep = self.p(0.2)
        out = tuple(1 if keep else d for i, d in enumerate(a.shape) if keep or i != axis)
        kd = ", keepdims=True" if keep else ""
        return self.emit(f"{f}({a.name}, axis={axis}{kd})", out, S32, a.shape[axis], True)

    def cumulative(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0 and v.dtype != PRED)
        if a is None:
            return
        axis = self.r(len(a.shape))
        n = a.shape[axis]
        kinds = ["cumsum", "cumsum"] + ([] if a.special else ["cummax", "cummin"])
        if n <= 6 and a.bound <= 2 and (a.exact or n <= 3):
            kinds.append("cumprod")
        k = self.choice(kinds)
        if self.p(0.4) or k in ("cummax", "cummin"):  # jnp has no cummax
            expr = f"lax.{k}({a.name}, axis={axis}, reverse={self.p(0.5)})"
        else:
            expr = f"jnp.{k}({a.name}, axis={axis})"
        if k == "cumsum":
            return self.emit(expr, a.shape, a.dtype, a.bound * max(n, 1), a.exact, a.frac)
        if k == "cumprod":
            return self.emit(expr, a.shape, a.dtype, max(1.0, a.bound) ** n, a.exact,
                             a.frac * n)
        return self.emit(expr, a.shape, a.dtype, a.bound, a.exact, a.frac)

    def window(self, rank, shape, dilations=True):
        """A random window over `shape`: (dims, strides, padding as JAX takes it,
        (lo, hi) pairs, base dilation, window dilation)."""
        dims = tuple(1 + self.r(3) if self.p(0.7) else 1 for _ in range(rank))
        strides = tuple(self.choice([1, 1, 2, 3]) for _ in range(rank))
        base = tuple(2 if dilations and self.p(0.15) else 1 for _ in range(rank))
        wdil = tuple(2 if dilations and self.p(0.15) else 1 for _ in range(rank))
        if self.p(0.5) and base == wdil == (1,) * rank:
            padding = self.choice(["SAME", "VALID"])
            pads = same_pads(shape, dims, strides) if padding == "SAME" else [(0, 0)] * rank
            return dims, strides, repr(padding), pads, base, wdil
        pads = [(self.r(3), self.r(3)) for _ in range(rank)]
        return dims, strides, repr(tuple(pads)), pads, base, wdil

    def reduce_window(self):
        a = self.pick(pred=lambda v: 0 < len(v.shape) <= 4 and v.dtype != PRED)
        if a is None:
            return
        rank = len(a.shape)
        dims, strides, padding, pads, base, wdil = self.window(rank, a.shape)
        out = window_out(a.shape, dims, strides, pads, base, wdil)
        if out is None:
            return
        kinds = ["sum"] + ([] if a.special else ["max", "max", "min"])
        k = self.choice(kinds)
        count = int(np.prod(dims))
        empty = has_empty_window(a.shape, dims, strides, pads, base, wdil)
        tail = f"{dims}, {strides}, {padding}, {base}, {wdil})"
        if k == "sum":
            zero = "0.0" if a.dtype == F32 else "jnp.int32(0)"
            return self.emit(f"lax.reduce_window({a.name}, {zero}, lax.add, {tail}", out,
                             a.dtype, a.bound * count, a.exact, a.frac)
        if a.dtype == F32:
            init = "-jnp.inf" if k == "max" else "jnp.inf"
        else:
            init = "jnp.int32(-2**31)" if k == "max" else "jnp.int32(2**31 - 1)"
        v = self.emit(f"lax.reduce_window({a.name}, {init}, lax.{k}, {tail}", out, a.dtype,
                      2.0 ** 31 if empty and a.dtype == S32 else a.bound, a.exact, a.frac)
        # An empty window gives the init, an infinity.
        v.special = v.special or (empty and a.dtype == F32)
        return v

    def flax_pool(self):
        """flax.linen's max_pool and avg_pool over the middle dimensions of a
        (batch, spatial..., features) array."""
        a = self.pick(F32, pred=lambda v: len(v.shape) in (3, 4) and not v.special)
        if a is None:
            return
        rank = len(a.shape)
        dims, strides, padding, pads, _, _ = self.window(rank - 2, a.shape[1:-1], False)
        full = lambda t, one: (one,) + tuple(t) + (one,)
        out = window_out(a.shape, full(dims, 1), full(strides, 1), full(pads, (0, 0)),
                         (1,) * rank, (1,) * rank)
        if out is None or has_empty_window(a.shape, full(dims, 1), full(strides, 1),
                                           full(pads, (0, 0)), (1,) * rank, (1,) * rank):
            return
        self.imports.add("import flax.linen as nn")
        count = int(np.prod(dims))
        if self.p(0.5):
            return self.emit(f"nn.max_pool({a.name}, {dims}, {strides}, {padding})", out, F32,
                             a.bound, a.exact, a.frac)
        # Divided by the window's size: exact where that is a power of two.
        exact = a.exact and count & (count - 1) == 0
        return self.emit(f"nn.avg_pool({a.name}, {dims}, {strides}, {padding})", out, F32,
                         a.bound, exact, a.frac + int(np.log2(count)))

    def max_pool_grad(self):
        """The gradient of a max pool: select-and-scatter (a pad before it
        where the pool pads). The pool reads exact values, often with ties."""
        a = self.pick(F32, pred=lambda v: 0 < len(v.shape) <= 4 and v.exact and not v.special)
        if a is None:
            a = self.need(self.shape(rank=self.choice([2, 3, 4])), F32, exact=True)
            if a.special or not a.shape:
                return
        a = self.coarse(a)
        rank = len(a.shape)
        dims, strides, padding, pads, base, wdil = self.window(rank, a.shape, False)
        out = window_out(a.shape, dims, strides, pads, base, wdil)
        if out is None or has_empty_window(a.shape, dims, strides, pads, base, wdil):
            return
        w = self.need(out, F32)
        w = w if w.bound <= INEXACT_LIMIT else self.squash(w)
        if self.p(0.3) and rank in (3, 4) and dims[0] == dims[-1] == strides[0] == strides[-1] \
                == 1 and pads[0] == pads[-1] == (0, 0):
            self.imports.add("import flax.linen as nn")
            inner = lambda t: t[1:-1]
            pool = f"nn.max_pool(t, {inner(dims)}, {inner(strides)}, {inner(pads)})"
        else:
            pool = f"lax.reduce_window(t, -jnp.inf, lax.max, {dims}, {strides}, {tuple(pads)})"
        # Each element receives the cotangents of the windows it wins.
        overlap = int(np.prod([-(-d // s) for d, s in zip(dims, strides)]))
        return self.emit(f"jax.grad(lambda t: jnp.sum({pool} * {w.name}))({a.name})", a.shape,
                         F32, w.bound * overlap, w.exact, w.frac)

    def embedding_grad(self):
        """The gradient of an embedding lookup (jnp.take or x[ids]): a
        scatter-add of the cotangent rows, duplicate ids adding up."""
        t = self.pick(F32, pred=lambda v: len(v.shape) == 2)
        if t is None:
            t = self.need((self.dim(True), self.dim(True)), F32)
        ids = self.index_param(self.shape(rank=1 + self.r(2)))
        rows = ids.shape + t.shape[1:]
        if self.bounded(rows) != rows:
            return
        w = self.need(rows, F32)
        w = w if w.bound <= INEXACT_LIMIT else self.squash(w)
        look = self.choice(["jnp.take(e, {}, axis=0)", "e[{}]"]).format(ids.name)
        return self.emit(f"jax.grad(lambda e: jnp.sum({look} * {w.name}))({t.name})", t.shape,
                         F32, w.bound * max(ids.size, 1), w.exact, w.frac)

    def scatter(self):
        """x.at[idx].set/add/min/max/multiply with indices in [-8, 8]: negative
        ones wrap, out-of-range ones are dropped, duplicates are frequent."""
        # JAX rejects an index into an empty axis.
        a = self.pick(pred=lambda v: len(v.shape) > 0 and v.shape[0] > 0 and v.dtype != PRED
                      and not sliced(v))
        if a is None:
            return
        form = self.choice(["rows", "rows", "cols", "pair"]) if len(a.shape) > 1 \
            and a.shape[1] > 0 else "rows"
        ids = self.index_param(self.shape(rank=self.r(3)))
        if form == "rows":
            idx, lead, window = ids.name, ids.shape, a.shape[1:]
        elif form == "cols":
            idx, lead, window = f":, {ids.name}", a.shape[:1] + ids.shape, a.shape[2:]
        else:
            jds = self.index_param(ids.shape)
            idx, lead, window = f"{ids.name}, {jds.name}", ids.shape, a.shape[2:]
        indexed = lead + window
        if self.bounded(indexed) != indexed:
            return
        ops = ["set", "add", "add"] + ([] if a.special else ["min", "max"])
        n = ids.size
        if n <= 6 and (a.exact or n <= 3):
            ops.append("multiply")
        op = self.choice(ops)
        if op == "set":
            # Duplicates of .set write in an order XLA leaves open: updates
            # equal along the index dimensions agree in every order.
            ushape = window if form != "cols" else a.shape[:1] + (1,) * len(ids.shape) + window
            u = self.need(ushape, a.dtype) if self.p(0.8) else self.need((), a.dtype)
        else:
            u = self.need(self.broadcastable(indexed), a.dtype)
        if a.dtype == F32 and op == "multiply" and u.bound > 2:
            u = self.emit(f"jnp.clip({u.name}, -2.0, 2.0)", u.shape, F32, 2, u.exact, u.frac)
        expr = f"{a.name}.at[{idx}].{op}({u.name})"
        if op == "add":
            return self.emit(expr, a.shape, a.dtype, a.bound + u.bound * max(n, 1),
                             a.exact and u.exact, max(a.frac, u.frac))
        if op == "multiply":
            return self.emit(expr, a.shape, a.dtype, a.bound * max(1.0, u.bound) ** n,
                             a.exact and u.exact, a.frac + u.frac * n)
        return self.emit(expr, a.shape, a.dtype, max(a.bound, u.bound), a.exact and u.exact,
                         max(a.frac, u.frac))

    def sort(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0 and v.exact and v.dtype != PRED)
        if a is None:
            return
        a = self.coarse(a)
        axis = self.r(len(a.shape))
        n = a.shape[axis]
        kind = self.choice(["sort", "argsort", "lax_sort", "top_k"])
        if kind == "sort":
            desc = ", descending=True" if self.p(0.3) else ""
            return self.emit(f"jnp.sort({a.name}, axis={axis}{desc})", a.shape, a.dtype, a.bound,
                             True, a.frac)
        if kind == "argsort":
            desc = ", descending=True" if self.p(0.3) else ""
            return self.emit(f"jnp.argsort({a.name}, axis={axis}{desc})", a.shape, S32, n, True)
        if kind == "top_k":
            k = self.r(n + 1)
            out = a.shape[:axis] + (k,) + a.shape[axis + 1:]
            ax = "" if axis == len(a.shape) - 1 else f", axis={axis}"
            if self.p(0.5):
                return self.emit(f"lax.top_k({a.name}, {k}{ax})[0]", out, a.dtype, a.bound, True,
                                 a.frac)
            return self.emit(f"lax.top_k({a.name}, {k}{ax})[1]", out, S32, n, True)
        # Two operands, the second carried along (or a second key), stable.
        b = self.need(a.shape, self.choice([F32, S32]))
        keys = 2 if b.exact and self.p(0.3) else 1
        which = self.r(2)
        v = (a, b)[which]
        return self.emit(f"lax.sort(({a.name}, {b.name}), dimension={axis}, num_keys={keys}, "
                         f"is_stable=True)[{which}]", a.shape, v.dtype, v.bound, v.exact, v.frac)

    def concatenate(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0)
        if a is None:
            return
        axis = self.r(len(a.shape))
        parts = [a]
        for _ in range(1 + self.r(2)):
            s = list(a.shape)
            s[axis] = self.choice([0, 1, 2, 3, a.shape[axis]])
            parts.append(self.need(s, a.dtype))
        order = self.rng.permutation(len(parts))
        parts = [parts[i] for i in order]
        out = list(a.shape)
        out[axis] = sum(p.shape[axis] for p in parts)
        names = ", ".join(p.name for p in parts)
        return self.emit(f"jnp.concatenate([{names}], axis={axis})", tuple(out), a.dtype,
                         max(p.bound for p in parts), all(p.exact for p in parts),
                         max(p.frac for p in parts))

    def reduce(self):
        a = self.pick(pred=lambda v: len(v.shape) > 0)
        if a is None:
            return
        rank = len(a.shape)
        if self.p(0.5):
            axes = tuple(range(rank - 1 - self.r(rank), rank))  # trailing axes
        else:
            axes = tuple(sorted(self.rng.choice(rank, 1 + self.r(rank), replace=False).tolist()))
        n = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
        out = tuple(d for i, d in enumerate(a.shape) if i not in axes)
        keep = self.p(0.2)
        kd = ", keepdims=True" if keep else ""
        if keep:
            out = tuple(1 if i in axes else d for i, d in enumerate(a.shape))
        if a.dtype == PRED:
            f = self.choice(["jnp.all", "jnp.any"])
            return self.emit(f"{f}({a.name}, axis={axes}{kd})", out, PRED, 1, True)
        kinds = ["sum", "sum", "mean", "prod"] + ([] if a.special else ["max", "min"])
        k = self.choice(kinds)
        if k == "mean" and (a.dtype != F32 or n == 0):
            k = "sum"
        if k == "prod" and (n > 6 or a.bound > 2 or (a.dtype == F32 and not a.exact and n > 3)):
            k = "sum"
        if k in ("max", "min") and n == 0:
            # jnp.max has no identity for an empty axis; lax's reductions do.
            if keep:
                return
            f = "lax.reduce_max" if k == "max" else "lax.reduce_min"
            inf = float(2 ** 31) if a.dtype == S32 else float("inf")
            return self.emit(f"{f}({a.name}, {axes})", out, a.dtype, inf, True, a.frac)
        if k in ("max", "min"):
            return self.emit(f"jnp.{k}({a.name}, axis={axes}{kd})", out, a.dtype, a.bound,
                             a.exact, a.frac)
        if k == "mean":
            return self.emit(f"jnp.mean({a.name}, axis={axes}{kd})", out, F32, a.bound, False)
        if k == "prod":
            return self.emit(f"jnp.prod({a.name}, axis={axes}{kd})", out, a.dtype,
                             max(1.0, a.bound) ** n, a.exact, a.frac * n)
        return self.emit(f"jnp.sum({a.name}, axis={axes}{kd})", out, a.dtype,
                         a.bound * max(n, 1), a.exact, a.frac)

    def dot(self, lhs=None):
        """lax.dot_general in a random form, of a pool value or new operands."""
        big = self.p(0.3)
        nb, nc = self.choice([0, 0, 0, 1, 1, 2]), self.choice([0, 1, 1, 1, 1, 2])
        lf, rf = self.choice([0, 1, 1, 1, 2]), self.choice([0, 1, 1, 1, 2])
        if lhs is not None:
            lrank = len(lhs.shape)
            if lrank == 0:
                return
            nb = min(nb, lrank)
            nc = min(max(nc, 1), lrank - nb)
            lf = lrank - nb - nc
            lperm = list(range(lrank))
            if self.p(0.3):
                lperm = self.rng.permutation(lrank).tolist()
            bdims, cdims = lperm[:nb], lperm[nb:nb + nc]
            bsz = [lhs.shape[i] for i in bdims]
            csz = [lhs.shape[i] for i in cdims]
        else:
            bsz = [self.dim() for _ in range(nb)]
            csz = [self.dim(big) for _ in range(nc)]
        lfs = [self.dim(big) for _ in range(lf)]
        rfs = [self.dim(big) for _ in range(rf)]
        if np.prod(bsz + csz + lfs + rfs, dtype=np.int64) > 60000:
            return
        dtype = F32 if self.p(0.9) else S32
        if lhs is not None:
            dtype = lhs.dtype
            if dtype == PRED:
                return
        else:
            # The lhs: batch, contracting and free dims in a random order.
            lperm = self.rng.permutation(nb + nc + lf).tolist()
            lshape = [0] * (nb + nc + lf)
            for i, d in enumerate(bsz + csz + lfs):
                lshape[lperm[i]] = d
            bdims, cdims = lperm[:nb], lperm[nb:nb + nc]
            lhs = self.need(lshape, dtype)
        rperm = self.rng.permutation(nb + nc + rf).tolist()
        rshape = [0] * (nb + nc + rf)
        for i, d in enumerate(bsz + csz + rfs):
            rshape[rperm[i]] = d
        rhs = self.need(rshape, dtype)
        lhs, rhs = self.squash(lhs), self.squash(rhs)
        rb, rc = rperm[:nb], rperm[nb:nb + nc]
        lfree = [i for i in range(len(lhs.shape)) if i not in bdims and i not in cdims]
        rfree = [j for j in range(len(rhs.shape)) if j not in rb and j not in rc]
        out = tuple(bsz + [lhs.shape[i] for i in lfree] + [rhs.shape[j] for j in rfree])
        k = int(np.prod(csz, dtype=np.int64))
        if self.p(0.5) and lhs.shape != rhs.shape:
            # The same product as an einsum (JAX adds transposes around it).
            letters = iter("abcdefghijklmnop")
            ll, rl = [None] * len(lhs.shape), [None] * len(rhs.shape)
            for i, j in zip(bdims + cdims, rb + rc):
                ll[i] = rl[j] = next(letters)
            for i in range(len(ll)):
                ll[i] = ll[i] or next(letters)
            for j in range(len(rl)):
                rl[j] = rl[j] or next(letters)
            o = [ll[i] for i in bdims] + [ll[i] for i in lfree] + [rl[j] for j in rfree]
            spec = f"'{''.join(ll)},{''.join(rl)}->{''.join(o)}'"
            expr = f"jnp.einsum({spec}, {lhs.name}, {rhs.name})"
        else:
            dn = f"(({tuple(cdims)}, {tuple(rc)}), ({tuple(bdims)}, {tuple(rb)}))"
            expr = f"lax.dot_general({lhs.name}, {rhs.name}, {dn})"
        return self.emit(expr, out, dtype, lhs.bound * rhs.bound * max(k, 1),
                         lhs.exact and rhs.exact, lhs.frac + rhs.frac)

    def dot_of(self):
        """A dot that consumes the newest value (a product of a computed row)."""
        a = self.pick(pred=lambda v: len(v.shape) > 0 and v.dtype != PRED)
        if a is None:
            return
        return self.dot(lhs=self.squash(a))

    def softmax(self):
        a = self.pick(F32, pred=lambda v: len(v.shape) > 0 and not v.special)
        if a is None:
            return
        a = self.squash(a)
        if self.p(0.5):
            return self.emit(f"jax.nn.softmax({a.name}, axis=-1)", a.shape, F32, 1, False)
        # Written out, as models do: max, exp, sum, divide.
        axis = len(a.shape) - 1
        m = self.emit(f"jnp.max({a.name}, axis={axis}, keepdims=True)" if a.shape[-1] else
                      f"jnp.zeros({a.shape[:-1] + (1,)}, jnp.float32)",
                      a.shape[:-1] + (1,), F32, a.bound, a.exact, a.frac)
        e = self.emit(f"jnp.exp({a.name} - {m.name})", a.shape, F32, 1, False)
        return self.emit(f"{e.name} / jnp.sum({e.name}, axis={axis}, keepdims=True)", a.shape,
                         F32, 1, False)

    def layernorm(self):
        a = self.pick(F32, pred=lambda v: len(v.shape) > 0 and v.shape[-1] > 0 and not v.special)
        if a is None:
            return
        a = self.squash(a)
        mu = self.emit(f"jnp.mean({a.name}, axis=-1, keepdims=True)", a.shape[:-1] + (1,),
                       F32, a.bound, False)
        c = self.emit(f"{a.name} - {mu.name}", a.shape, F32, 2 * a.bound, False)
        return self.emit(f"{c.name} * lax.rsqrt(jnp.mean({c.name} * {c.name}, axis=-1, "
                         f"keepdims=True) + 1.0)", a.shape, F32, 2 * a.bound, False)

    def siblings(self):
        """Products sharing their left operand (attention's projections)."""
        a = self.pick(F32, pred=lambda v: len(v.shape) in (2, 3))
        if a is None:
            a = self.need(self.shape(rank=2, big=self.p(0.3)), F32)
        a = self.squash(a)
        k = a.shape[-1]
        outs = []
        for _ in range(2 + self.r(2)):
            w = self.need((k, self.dim(self.p(0.3))), F32)
            outs.append(self.emit(f"{a.name} @ {w.name}", a.shape[:-1] + w.shape[1:], F32,
                                  a.bound * w.bound * max(k, 1), a.exact and w.exact,
                                  a.frac + w.frac))
        return outs[-1]

    def columns(self):
        """A reduction over leading dimensions (a column kernel), often with a
        consumer that broadcasts it back (centering by the column mean)."""
        a = self.pick(pred=lambda v: len(v.shape) >= 2 and v.dtype != PRED)
        if a is None or self.p(0.3):
            a = self.need(self.shape(rank=self.choice([2, 2, 3])), self.choice([F32, F32, S32]))
        lead = 1 + self.r(len(a.shape) - 1)
        axes = tuple(range(lead))
        n = int(np.prod(a.shape[:lead], dtype=np.int64))
        rest = a.shape[lead:]
        k = self.choice(["sum", "sum", "max", "min"] if n and not a.special else ["sum"])
        r = self.emit(f"jnp.{k}({a.name}, axis={axes})", rest, a.dtype,
                      a.bound * max(n, 1) if k == "sum" else a.bound, a.exact, a.frac)
        if self.p(0.5):
            return r
        return self.emit(f"{a.name} - {r.name}", a.shape, a.dtype, a.bound + r.bound,
                         a.exact and r.exact, a.frac)

    def gemm(self):
        """x @ w (+ bias, activation): a product of inputs, the GEMM schedule with
        an epilogue; operands transposed now and then, a batch dimension too."""
        big = self.p(0.4)
        m, k, n = self.dim(big), self.dim(big), self.dim(big)
        batch = (self.dim(),) if self.p(0.3) else ()
        if np.prod(batch + (m, k, n), dtype=np.int64) > 200_000:
            return
        x = self.need(batch + ((k, m) if self.p(0.3) else (m, k)), F32)
        w = self.need((n, k) if self.p(0.3) else (k, n), F32)
        xs = f"jnp.swapaxes({x.name}, -1, -2)" if x.shape[-2:] == (k, m) and (k, m) != (m, k) \
            else x.name
        ws = f"{w.name}.T" if w.shape == (n, k) and (n, k) != (k, n) else w.name
        y = self.emit(f"{xs} @ {ws}", batch + (m, n), F32, x.bound * w.bound * max(k, 1),
                      x.exact and w.exact, x.frac + w.frac)
        if self.p(0.6):
            b = self.need((n,), F32)
            y = self.emit(f"{y.name} + {b.name}", y.shape, F32, y.bound + b.bound,
                          y.exact and b.exact, max(y.frac, b.frac))
        # No relu of NaN: XLA:CPU's maximum drops it, HLO's semantics keep it.
        act = self.choice(["", "jnp.tanh({})", "jax.nn.gelu({})", "{} * 0.5"]
                          + ([] if y.special else ["jax.nn.relu({})"]))
        if act:
            y = self.squash(y) if "relu" not in act and "0.5" not in act else y
            exact = y.exact and ("relu" in act or "0.5" in act)
            y = self.emit(act.format(y.name), y.shape, F32, y.bound, exact, y.frac + 1)
        return y

    def attention(self):
        """softmax(q k^T) v: a row kernel whose second dot reads the first's rows."""
        if self.specials:
            return  # its max reduction would read NaN
        lead = self.shape(rank=self.r(2))
        t, s, d, e = self.dim(), self.dim(self.p(0.3)), self.dim(self.p(0.3)), self.dim()
        if max(np.prod(lead + x, dtype=np.int64) for x in [(t, s), (t, d), (s, d), (s, e)]) \
                > MAX_ELEMENTS:
            return
        q = self.squash(self.need(lead + (t, d), F32))
        k = self.squash(self.need(lead + (s, d), F32))
        v = self.squash(self.need(lead + (s, e), F32))
        scores = self.emit(f"jnp.einsum('...td,...sd->...ts', {q.name}, {k.name}) * 0.125",
                           lead + (t, s), F32, q.bound * k.bound * max(d, 1) / 8, False)
        scores = self.squash(scores)
        p = self.emit(f"jax.nn.softmax({scores.name}, axis=-1)", lead + (t, s), F32, 1, False)
        return self.emit(f"jnp.einsum('...ts,...se->...te', {p.name}, {v.name})",
                         lead + (t, e), F32, v.bound, False)

    # -- programs -------------------------------------------------------------

    OPS = [("unary", 10), ("binary", 14), ("compare", 4), ("select", 4), ("clamp", 2),
           ("convert", 4), ("iota", 1), ("broadcast", 4), ("reshape", 4), ("transpose", 4),
           ("slice", 4), ("concatenate", 3), ("reduce", 8), ("columns", 4), ("dot", 14), ("gemm", 5),
           ("dot_of", 5), ("softmax", 3), ("layernorm", 1), ("siblings", 3), ("attention", 2),
           ("flip", 2), ("pad", 2), ("dynamic_slice", 2), ("dynamic_update_slice", 2),
           ("take_rows", 2), ("argmax", 3), ("cumulative", 3), ("reduce_window", 3),
           ("flax_pool", 2), ("scatter", 4), ("sort", 6), ("max_pool_grad", 2),
           ("embedding_grad", 2)]

    def program(self):
        first = self.choice([F32, F32, F32, S32, PRED])
        self.param(self.shape(), first)
        steps = 1 + self.r(7)
        names, weights = zip(*self.OPS)
        weights = np.array(weights, float) / sum(weights)
        done = 0
        while done < steps:
            op = names[self.rng.choice(len(names), p=weights)]
            v = getattr(self, op)()
            if v is not None:
                done += 1
            # A consumer of every dot and reduction now and then (epilogues).
            if v is not None and self.p(0.5) and op in ("dot", "dot_of", "reduce", "columns",
                                                         "siblings", "attention", "gemm"):
                self.unary() if self.p(0.5) else self.binary()
        # Every computed value nothing reads is an output (JAX would drop it).
        computed = [v for v in self.pool if v.name.startswith("v")]
        outs = [v for v in computed if v.name not in self.used][-4:]
        if self.pool[-1] not in outs and computed:
            outs.append(self.pool[-1] if self.pool[-1] in computed else computed[-1])
        return outs

    def source(self, outs, seed, index):
        args = ", ".join(v.name for v, _ in self.params)
        shapes = ", ".join(f"{v.name}: {v.dtype}{list(v.shape)}" for v, _ in self.params)
        ret = ", ".join(v.name for v in outs) + ("," if len(outs) > 1 else "")
        return "\n".join([
            f"# jax_fuzz seed {seed} case {index}: python3 tests/jax_fuzz.py --seed {seed} "
            f"--first {index} --count 1 OUT",
            f"# inputs: {shapes}",
            "import jax, jax.numpy as jnp",
            "from jax import lax",
            *sorted(self.imports),
            "",
            f"def f({args}):",
            *self.lines,
            f"    return {ret}" if len(outs) > 1 else f"    return {outs[0].name}",
            ""])


def sliced(v):
    """Whether v is a dynamic slice (which no dynamic slice, gather or scatter
    may read: XLA:CPU's jit folds them and departs from op-by-op semantics)."""
    return getattr(v, "sliced", False)


def subsequence(small, big):
    """Positions of `small`'s dims inside `big`, in order, or None."""
    dims, j = [], 0
    for d in small:
        while j < len(big) and big[j] != d:
            j += 1
        if j == len(big):
            return None
        dims.append(j)
        j += 1
    return dims


def same_pads(shape, dims, strides):
    """The (lo, hi) padding of JAX's "SAME" (lax.padtype_to_pads)."""
    pads = []
    for d, w, s in zip(shape, dims, strides):
        total = max(0, (-(-d // s) - 1) * s + w - d)
        pads.append((total // 2, total - total // 2))
    return pads


def window_positions(d, w, s, pad, b, wd):
    """Per output position of one dimension of a window, whether the window
    covers an element of the operand (not only padding or dilation holes), or
    None where the padded operand is shorter than the window."""
    lo, hi = pad
    padded = lo + hi + (0 if d == 0 else (d - 1) * b + 1)
    span = (w - 1) * wd + 1
    if padded < span:
        return None
    real = {lo + j * b for j in range(d)}
    return [any(i * s + k * wd in real for k in range(w)) for i in range((padded - span) // s + 1)]


def window_out(shape, dims, strides, pads, base, wdil):
    """The shape of a reduce-window, or None where JAX would reject it or it
    is over MAX_ELEMENTS."""
    out = []
    for args in zip(shape, dims, strides, pads, base, wdil):
        pos = window_positions(*args)
        if pos is None:
            return None
        out.append(len(pos))
    return tuple(out) if np.prod(out, dtype=np.int64) <= MAX_ELEMENTS else None


def has_empty_window(shape, dims, strides, pads, base, wdil):
    """Whether some window of a non-empty result covers no operand element
    (its result is the init value)."""
    per_dim = [window_positions(*args) for args in zip(shape, dims, strides, pads, base, wdil)]
    return all(per_dim) and not all(all(p) for p in per_dim)


def random_factorization(g, shape):
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        out = [g.dim() or 1 for _ in range(g.r(3))]
        out.insert(g.r(len(out) + 1), 0)
        return tuple(out)
    factors = []
    m, p = n, 2
    while m > 1:
        while m % p == 0:
            factors.append(p)
            m //= p
        p += 1
    g.rng.shuffle(factors)
    rank = 1 + g.r(min(4, max(1, len(factors))))
    out = [1] * rank
    for f in factors:
        out[g.r(rank)] *= f
    if g.p(0.2):
        out.insert(g.r(len(out) + 1), 1)
    return tuple(out)


def make_case(seed, index):
    """The program and its inputs, as (source, args)."""
    g = Gen(seed, index)
    outs = g.program()
    return g.source(outs, seed, index), [data for _, data in g.params]


def write_case(folder, src, args):
    import jax
    scope = {}
    exec(compile(src, os.path.join(folder, "source.py"), "exec"), scope)
    f = jax.jit(scope["f"], keep_unused=True)
    text = f.lower(*args).as_text(dialect="hlo")
    results = f(*args)
    results = results if isinstance(results, tuple) else (results,)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "source.py"), "w") as fh:
        fh.write(src + "\n# check: jax.jit(f, keep_unused=True)(*inputs)\n")
    with open(os.path.join(folder, "module.hlo"), "w") as fh:
        fh.write(text)
    for i, a in enumerate(args):
        np.save(os.path.join(folder, f"in{i}.npy"), np.asarray(a))
    for i, r in enumerate(results):
        np.save(os.path.join(folder, f"expected{i}.npy"), np.asarray(r))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("out")
    a = ap.parse_args()
    import jax
    jax.config.update("jax_platforms", "cpu")
    failed = 0
    for i in range(a.first, a.first + a.count):
        src, args = make_case(a.seed, i)
        folder = os.path.join(a.out, f"case{a.seed:04d}_{i:05d}")
        try:
            write_case(folder, src, args)
        except Exception as e:  # a program JAX rejects: the generator's bug
            failed += 1
            print(f"{folder}: JAX rejects the program: {type(e).__name__}: {e}\n{src}",
                  file=sys.stderr)
    print(f"jax_fuzz: seed {a.seed}: {a.count - failed} cases written, {failed} rejected by JAX",
          file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
