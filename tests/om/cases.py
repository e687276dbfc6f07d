# `.om` scripts and their JAX twins: the test corpus for Omelet's language front end.
#
# Regenerate every fixture (from /work/main), then check them:
#     python3 tests/om/make.py
# (`python3 tests/om/make.py --check` only checks what is on disk.)
#
# make.py runs tests/jax_fixtures.py on this file, which writes
# tests/om/NAME/{module.hlo, in*.npy, expected*.npy, meta.json}, and then writes the
# `.om` source recorded by `@om(...)` as tests/om/NAME/script.om. It finally runs each
# script on a small NumPy reference interpreter (om_ref.py) and compares with JAX, so a
# script and its twin cannot silently disagree.
#
# Conventions the harness relies on:
#   - in0.npy, in1.npy, ... bind to `main`'s parameters by position; every parameter is
#     typed and every input is used (jax.jit drops unused arguments);
#   - expected0.npy, ... are main's results in order (a tuple = several outputs);
#   - NaN compares equal to NaN.
#
# Interpretations chosen where LANGUAGE.md is terse (JAX semantics decide the numbers):
#   - weak typing as JAX: an int literal with an f32 array is f32; a float literal with
#     an i32 array gives f32; `/` on i32 arrays is true division giving f32;
#   - compile-time `int / int` is true division too (`1 / B` is 0.2 for B = 5), as NumPy;
#   - `sum` of bool counts as i32; `mean` of i32 is f32; `full` takes its value's type;
#   - `logsumexp(x, axis=a)` removes the reduced axis (as jax.nn.logsumexp);
#   - a compile-time bool (a `const` or `true`/`false`) works as `where`'s condition and
#     as a keyword value; `!` applies to it;
#   - a zero-parameter function returning a compile-time scalar is fine;
#   - symbolic dimensions of `main` are integers in main's body; scripts pass them to
#     helpers as arguments rather than using them inside helper bodies; helpers' typed
#     parameters may mention main's symbolic names (same binding);
#   - nothing here mixes i32 and f32 arrays in one operation (convert explicitly).
#
# `case`, `randn`, `uniform`, `randint`, `jax`, `jnp`, `np` are injected by jax_fixtures.py.
# Inputs are drawn from one shared RNG in definition order: regenerate all fixtures together.

import textwrap

from jax import lax

F32 = np.float32
I32 = np.int32


def om(src, ref=True, x64=False):
    """Record the `.om` twin of a case; make.py writes it to NAME/script.om.

    ref=False: om_ref.py (the language of 2026-11) cannot run the script; the Rust
    harness alone checks it against the twin. x64=True: the twin runs with
    jax_enable_x64, for 64-bit inputs and results."""
    def deco(f):
        f.__om__ = textwrap.dedent(src).strip("\n") + "\n"
        f.__om_ref__ = ref
        f.__x64__ = x64
        return f
    return deco


def away(*shape, lo=0.5, hi=2.0):
    """Values with |v| in [lo, hi] and a random sign (safe divisors)."""
    mag = uniform(*shape, lo=lo, hi=hi)
    return np.where(randn(*shape) >= 0, mag, -mag).astype(F32)


def with_zeros(*shape):
    """Standard normal values with about a third of them exactly 0."""
    v = randn(*shape)
    return np.where(np.abs(v) < 0.45, F32(0), v).astype(F32)


def bools(*shape):
    return randn(*shape) > 0


def nonzero_int(lo, hi, *shape):
    v = randint(lo, hi, *shape)
    return np.where(v == 0, 1, v).astype(I32)


def scalar(v):
    return np.array(v, dtype=F32)


def layernorm_ref(x, g, b, eps=1e-5):
    m = jnp.mean(x, axis=-1, keepdims=True)
    v = jnp.mean((x - m) ** 2, axis=-1, keepdims=True)
    return (x - m) / jnp.sqrt(v + eps) * g + b


def rmsnorm_ref(x, g, eps=1e-6):
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps) * g


# ---------------------------------------------------------------------------
# Operators: precedence, associativity, comparisons
# ---------------------------------------------------------------------------

@case("ops_arith_precedence", randn(3, 5), away(3, 5), away(3, 5), away(5))
@om("""
# Additive and multiplicative operators are left-associative; * and / bind tighter.
fn main(a: f32[3, 5], b: f32[3, 5], c: f32[3, 5], d: f32[5]) {
    let left = a - b - c;            # (a - b) - c
    let plus = a - b + c;            # (a - b) + c
    let div = a / b / d;             # (a / b) / d
    let mixed = a + b * c - d / b;   # a + (b * c) - (d / b)
    let chain = a * b / c * d;       # ((a * b) / c) * d
    (left, plus, div, mixed, chain)
}
""")
def f(a, b, c, d):
    return (a - b) - c, (a - b) + c, (a / b) / d, a + (b * c) - (d / b), ((a * b) / c) * d


@case("ops_power", randn(7), uniform(2, 7, lo=0.5, hi=1.5), uniform(7, lo=0.5, hi=1.5))
@om("""
# ** is right-associative and binds tighter than a unary minus on its left.
fn main(x: f32[7], p: f32[2, 7], q: f32[7]) {
    let neg_sq = -x**2;              # -(x ** 2), never (-x) ** 2
    let paren = (-x) ** 2;
    let right = p ** q ** 2.0;       # p ** (q ** 2.0)
    let consts = x * 2 ** 3 ** 2;    # 2 ** (3 ** 2) = 512
    let mix = 1 - x ** 2 * 3;        # 1 - ((x ** 2) * 3)
    let neg_plus = -x ** 2 + x;      # (-(x ** 2)) + x
    let root = p ** 0.5;
    (neg_sq, paren, right, consts, mix, neg_plus, root)
}
""")
def f(x, p, q):
    return (-(x ** 2), (-x) ** 2, p ** (q ** 2.0), x * 512, 1 - (x ** 2) * 3,
            -(x ** 2) + x, p ** 0.5)


@case("ops_unary", randn(4, 5), bools(4, 5))
@om("""
fn main(x: f32[4, 5], b: bool[4, 5]) {
    let n = -x;
    let nn = -(-x);
    let not_b = !b;
    let not_cmp = !(x > 0.5);
    let neg_scaled = -x * 3;         # (-x) * 3
    let not_eq = !b == b;            # (!b) == b: all false
    let lit = x * -3 + -1.5;         # unary minus on literals
    (n, nn, not_b, not_cmp, neg_scaled, not_eq, lit)
}
""")
def f(x, b):
    return -x, x, ~b, ~(x > 0.5), (-x) * 3, (~b) == b, x * -3 + -1.5


@case("ops_compare", randint(-2, 3, 17).astype(F32), randint(-2, 3, 17).astype(F32))
@om("""
# Comparisons give bool and bind loosest of all operators.
fn main(x: f32[17], y: f32[17]) {
    (x == y, x != y, x < y, x <= y, x > y, x >= y, x + 1 > y * 2, x >= 0)
}
""")
def f(x, y):
    return x == y, x != y, x < y, x <= y, x > y, x >= y, (x + 1) > (y * 2), x >= 0


@case("ops_mixed_no_parens", randn(5, 4), randn(4, 3), randn(3), randn(5, 3))
@om("""
# All precedence levels mixed without parentheses.
fn main(x: f32[B, 4], w: f32[4, 3], b: f32[3], t: f32[B, 3]) {
    let s = x @ w * 2 + b - t / 4 ** 2;   # ((x @ w) * 2) + b - (t / 16)
    let m = x @ w @ w.T;                  # (x @ w) @ (w.T)
    let d = x / 2 @ w;                    # (x / 2) @ w
    let u = -x @ w ** 2;                  # (-x) @ (w ** 2)
    let c = x @ w + b > t * 2 - 1;        # ((x @ w) + b) > ((t * 2) - 1)
    (s, m, d, u, c)
}
""")
def f(x, w, b, t):
    return ((x @ w) * 2 + b - t / 16, (x @ w) @ w.T, (x / 2) @ w, (-x) @ (w ** 2),
            (x @ w + b) > (t * 2 - 1))


# ---------------------------------------------------------------------------
# Matmul in every NumPy form
# ---------------------------------------------------------------------------

@case("matmul_2d", randn(5, 7), randn(7, 3), randn(3, 4))
@om("""
fn main(a: f32[5, 7], b: f32[7, 3], c: f32[3, 4]) {
    (a @ b, a @ b @ c, a @ (b @ c) * 0.5)
}
""")
def f(a, b, c):
    return a @ b, (a @ b) @ c, (a @ (b @ c)) * 0.5


@case("matmul_vector_forms", randn(7), randn(7, 3), randn(5, 7), randn(7))
@om("""
# A 1-D operand is promoted to a matrix and the added axis removed afterwards.
fn main(v: f32[7], m: f32[7, 3], n: f32[5, 7], u: f32[7]) {
    let vm = v @ m;     # [7] @ [7, 3] -> [3]
    let nv = n @ v;     # [5, 7] @ [7] -> [5]
    let vv = v @ u;     # [7] @ [7] -> [] (a 0-d array)
    (vm, nv, vv)
}
""")
def f(v, m, n, u):
    return v @ m, n @ v, v @ u


@case("matmul_batched", randn(2, 1, 3, 4), randn(5, 4, 6), randn(3, 4, 5), randn(5, 2),
      randn(4), randn(2, 4))
@om("""
# Batched matmul with broadcast batch dimensions, and N-D mixed with 2-D and 1-D.
fn main(a: f32[2, 1, 3, 4], b: f32[5, 4, 6], c: f32[3, 4, 5], w: f32[5, 2],
        v: f32[4], n: f32[2, 4]) {
    let ab = a @ b;     # [2, 1, 3, 4] @ [5, 4, 6] -> [2, 5, 3, 6]
    let cw = c @ w;     # [3, 4, 5] @ [5, 2] -> [3, 4, 2]
    let nc = n @ c;     # [2, 4] @ [3, 4, 5] -> [3, 2, 5]
    let vc = v @ c;     # [4] @ [3, 4, 5] -> [3, 5]
    let av = a @ v;     # [2, 1, 3, 4] @ [4] -> [2, 1, 3]
    (ab, cw, nc, vc, av)
}
""")
def f(a, b, c, w, v, n):
    return a @ b, c @ w, n @ c, v @ c, a @ v


# ---------------------------------------------------------------------------
# Broadcasting, weak typing, integer and bool arrays
# ---------------------------------------------------------------------------

@case("broadcast_kinds", randn(6, 5), randn(5), randn(6, 1), scalar(1.75), randn(3, 1, 5),
      randn(4, 1), randn(1, 1))
@om("""
fn main(x: f32[B, 5], row: f32[5], col: f32[B, 1], s: f32, p: f32[3, 1, 5],
        q: f32[4, 1], one: f32[1, 1]) {
    let r = x + row;           # [B, 5] + [5]
    let c = x * col;           # [B, 5] * [B, 1]
    let outer = col - row;     # [B, 1] - [5] -> [B, 5]
    let expand = p + q;        # [3, 1, 5] + [4, 1] -> [3, 4, 5]
    let sc = x * s + s;        # a 0-d input broadcasts to anything
    let unit = one * q;        # [1, 1] * [4, 1] -> [4, 1]
    (r, c, outer, expand, sc, unit)
}
""")
def f(x, row, col, s, p, q, one):
    return x + row, x * col, col - row, p + q, x * s + s, one * q


@case("weak_typing", randn(3, 5), randint(-5, 6, 3, 5))
@om("""
fn main(x: f32[3, 5], i: i32[3, 5]) {
    let a = x * 2;             # an int literal on an f32 array stays f32
    let b = 1 - x;
    let c = i + 1.5;           # a float literal makes an i32 array f32
    let d = i * 2 - 3;         # stays i32
    let e = i / 2;             # true division: f32
    let g = x / 4 + i * 0.5;   # f32 + f32
    (a, b, c, d, e, g)
}
""")
def f(x, i):
    return x * 2, 1 - x, i + 1.5, i * 2 - 3, i / 2, x / 4 + i * 0.5


@case("int_arrays", randint(-6, 7, 4, 6), nonzero_int(-4, 5, 6))
@om("""
fn main(i: i32[4, 6], j: i32[6]) {
    let s = i + j;
    let d = i - j * 3;
    let n = -i;
    let a = abs(i);
    let mx = maximum(i, j);
    let mn = minimum(i, 0);
    let sq = i ** 2;
    let q = i / j;                 # true division: f32
    let rs = sum(i, axis=0);       # i32
    let rm = max(i, axis=1);
    let lt = i < j;
    (s, d, n, a, mx, mn, sq, q, rs, rm, lt, sign(i), min(i))
}
""")
def f(i, j):
    return (i + j, i - j * 3, -i, jnp.abs(i), jnp.maximum(i, j), jnp.minimum(i, 0), i ** 2,
            i / j, jnp.sum(i, axis=0), jnp.max(i, axis=1), i < j, jnp.sign(i), jnp.min(i))


@case("bool_arrays", bools(3, 7), bools(7), with_zeros(3, 7), randint(-2, 3, 3, 7))
@om("""
fn main(b: bool[3, 7], c: bool[7], x: f32[3, 7], i: i32[3, 7]) {
    let same = b == c;
    let xor = b != c;
    let pick = where(b, x, -x);
    let count = sum(b);              # i32: the number of true values
    let per_col = sum(b, axis=0);
    let frac = mean(f32(b));
    let from_f = bool(x);            # x != 0
    let from_i = bool(i);
    let as_i = i32(b) + i;
    (same, xor, pick, count, per_col, frac, from_f, from_i, as_i)
}
""")
def f(b, c, x, i):
    return (b == c, b != c, jnp.where(b, x, -x), jnp.sum(b), jnp.sum(b, axis=0),
            jnp.mean(b.astype(F32)), x != 0, i != 0, b.astype(I32) + i)


@case("where_broadcast", bools(4, 1), randn(5), randn(4, 5), randint(-3, 4, 4, 5))
@om("""
fn main(c: bool[4, 1], a: f32[5], b: f32[4, 5], i: i32[4, 5]) {
    (where(c, a, b), where(c, a, 0), where(b > 0, i, -1), where(!c, 1, i),
     where(b > 0, 1.0, -1.0))
}
""")
def f(c, a, b, i):
    return (jnp.where(c, a, b), jnp.where(c, a, 0), jnp.where(b > 0, i, -1),
            jnp.where(~c, 1, i), jnp.where(b > 0, 1.0, -1.0))


# ---------------------------------------------------------------------------
# Bindings, functions, consts, loops, symbolic dimensions
# ---------------------------------------------------------------------------

@case("let_shadowing", randn(4, 3), randn(3))
@om("""
fn main(x: f32[B, 3], y: f32[3]) {
    let x = x * 2;             # shadows the input
    let z = x + y;
    let x = x - 1;             # shadows again; z keeps the earlier x
    let y = sum(x, axis=0) + y;
    (x, y, z)
}
""")
def f(x, y):
    x2 = x * 2
    z = x2 + y
    x3 = x2 - 1
    return x3, jnp.sum(x3, axis=0) + y, z


@case("tuple_destructure", randn(5, 4))
@om("""
fn main(x: f32[5, 4]) {
    let (m, s) = stats(x);
    let (a, b) = (x - m, s * 2);
    let (lo, hi) = split(x);
    (a, b, lo + hi, m)
}

fn stats(x) {
    (mean(x, axis=0), sum(x, axis=0))
}

fn split(x) {
    let lo = x[:, :2];
    let hi = x[:, 2:];
    return (lo, hi);
}
""")
def f(x):
    m, s = jnp.mean(x, axis=0), jnp.sum(x, axis=0)
    return x - m, s * 2, x[:, :2] + x[:, 2:], m


@case("fn_tuple_result", randn(3, 4), randn(3, 4))
@om("""
# main's value is a helper's tuple: two outputs. `half()` is a compile-time scalar.
fn main(x: f32[3, 4], y: f32[3, 4]) {
    pair((x + y) * half(), x * y)
}

fn pair(a, b) {
    (maximum(a, b), minimum(a, b))
}

fn half() { 0.5 }
""")
def f(x, y):
    a, b = (x + y) * 0.5, x * y
    return jnp.maximum(a, b), jnp.minimum(a, b)


@case("fn_return_styles", randn(4, 5))
@om("""
fn with_return(x: f32[4, 5]) -> f32[4, 5] {
    let y = x * x;
    return y + 1;
}

fn with_tail(x) -> f32[4] {
    sum(x, axis=1)             # a trailing expression, no semicolon
}

fn nested(x) {
    let y = with_return(x);
    return with_tail(y);
}

fn total(x) -> f32 {            # a scalar type: a 0-d array
    sum(x)
}

fn main(x: f32[4, 5]) -> f32[4] {
    nested(x) + with_tail(x) + total(x)
}
""")
def f(x):
    return jnp.sum(x * x + 1, axis=1) + jnp.sum(x, axis=1) + jnp.sum(x)


@case("fn_kwargs_later", randn(5, 6), randn(6, 8, scale=0.4), randn(8), randn(8, 3, scale=0.4),
      randn(3))
@om("""
# main comes first and calls functions defined later, with keyword arguments.
fn main(x: f32[B, 6], w1: f32[6, 8], b1: f32[8], w2: f32[8, 3], b2: f32[3]) {
    let h = relu(dense(x, w=w1, b=b1));
    let o1 = dense(h, b=b2, w=w2);           # keyword order does not matter
    let o2 = dense(x=h, w=w2, b=b2 * 2);     # all by keyword
    let o3 = scaled(h, w2, b2, scale=0.5);
    (o1, o2, o3)
}

fn dense(x, w, b) {
    x @ w + b
}

fn scaled(x, w: f32[8, 3], b: f32[3], scale) {
    dense(x, w, b) * scale
}
""")
def f(x, w1, b1, w2, b2):
    h = jax.nn.relu(x @ w1 + b1)
    return h @ w2 + b2, h @ w2 + b2 * 2, (h @ w2 + b2) * 0.5


@case("fn_typed_symbolic", randn(6, 4), randn(4, 4))
@om("""
# Helpers' typed parameters and return types may use main's symbolic names.
fn main(x: f32[B, 4], w: f32[4, 4]) {
    let y = affine(x, w);
    center(y, B)
}

fn affine(x: f32[B, 4], w: f32[4, 4]) -> f32[B, 4] {
    x @ w + 1
}

fn center(x: f32[B, 4], n) -> f32[B, 4] {
    x - sum(x, axis=0) / n
}
""")
def f(x, w):
    y = x @ w + 1
    return y - jnp.sum(y, axis=0) / 6


@case("const_items", randn(4, 6))
@om("""
const N = 3;
const SCALE = 0.5;
const EPS = 1e-5;
const BIG = 2.0e3;
const SHIFT = -2;
const APPROX = false;
const KEEP = true;
const TWICE = N * 2;             # a const from a const
const NEG_SQ = -2 ** 2;          # -(2 ** 2) = -4

fn main(x: f32[4, 6]) {
    let a = x * SCALE + EPS;
    let b = gelu(x, approximate=APPROX);
    let c = gelu(x, approximate=!APPROX);
    let d = x[:, N:] * TWICE;    # x[:, 3:] * 6
    let e = x / BIG + SHIFT;
    let g = sum(x, axis=1, keepdims=KEEP);
    let w = where(KEEP, x, -x);  # a compile-time bool as a condition
    (a, b, c, d, e, g, w, x * NEG_SQ)
}
""")
def f(x):
    return (x * 0.5 + 1e-5, jax.nn.gelu(x, approximate=False), jax.nn.gelu(x, approximate=True),
            x[:, 3:] * 6, x / 2000.0 - 2, jnp.sum(x, axis=1, keepdims=True), x, x * -4)


@case("for_loop_layers", randn(5, 8), randn(3, 8, 8, scale=0.4), randn(3, 8))
@om("""
# A static loop threads `h` through three layers; `i` is a compile-time integer.
fn main(x: f32[B, 8], w: f32[3, 8, 8], b: f32[3, 8]) {
    let h = x;
    for i in 0..3 {
        let h = layer(h, w[i], b[i]) * (i + 1);
    }
    h
}

fn layer(h, w, b) {
    tanh(h @ w + b)
}
""")
def f(x, w, b):
    h = x
    for i in range(3):
        h = jnp.tanh(h @ w[i] + b[i]) * (i + 1)
    return h


@case("for_loop_nested", randn(5, 6))
@om("""
fn main(x: f32[5, 6]) {
    let acc = zeros([5]);
    for i in 0..3 {
        for j in 0..2 {
            let acc = acc + x[:, i * 2 + j] * (i + j);
        }
    }
    let cols = x[:, 0:1];
    for k in 1..6 {                          # a range that does not start at 0
        let cols = concat([cols, x[:, k:k + 1] * k], axis=1);
        let last = x[k - 1];                 # bound inside, used after the loop
    }
    (acc, cols, last)
}
""")
def f(x):
    acc = jnp.zeros((5,), F32)
    for i in range(3):
        for j in range(2):
            acc = acc + x[:, i * 2 + j] * (i + j)
    cols = x[:, 0:1]
    for k in range(1, 6):
        cols = jnp.concatenate([cols, x[:, k:k + 1] * k], axis=1)
    return acc, cols, x[4]


@case("symbolic_dims", randn(5, 3), randn(3))
@om("""
# Symbolic dimensions are integer constants in expressions, lists and loop bounds.
fn main(x: f32[B, N], v: f32[N]) {
    let m = sum(x, axis=0) / B;          # the column mean
    let scaled = x / B + v * N;
    let total = sum(x) / (B * N);
    let grid = reshape(reshape(x, [B * N]), [N, B]);
    let z = zeros([B, 2]) + B;
    let r = arange(N) * B + v;
    let inv = x * (1 / B);               # compile-time 1 / 5 is 0.2 (true division)
    let acc = v;
    for i in 0..N {
        let acc = acc + x[i];
    }
    (m, scaled, total, grid, z, r, inv, acc)
}
""")
def f(x, v):
    acc = v
    for i in range(3):
        acc = acc + x[i]
    return (jnp.sum(x, axis=0) / 5, x / 5 + v * 3, jnp.sum(x) / 15, jnp.reshape(x, (3, 5)),
            jnp.zeros((5, 2), F32) + 5, jnp.arange(3, dtype=F32) * 5 + v, x * 0.2, acc)


@case("literals_comments", randn(2, 9), randn(9))
@om("""
# Number literal forms and comments in odd places.
fn main(x: f32[2, 9],   # a comment inside the parameter list
        y: f32[9]) {
    let a = x * 42 + 1.5;            # int and float literals
    let b = x * 1e-5 + y * 2.0e3;    # exponents
    let c = maximum(x, -inf);        # == x
    let d = minimum(x, inf) - y;
    let e = where(x > 0, x, nan);    # NaN where x <= 0 (NaN equals NaN in the harness)
    # a full-line comment between statements
    let g = clip(x, -inf, 0.25);
    let h = x +
        # a comment inside an expression
        y;
    (a, b, c, d, e, g, h)            # trailing comment
}
""")
def f(x, y):
    return (x * 42 + 1.5, x * 1e-5 + y * 2.0e3, jnp.maximum(x, -jnp.inf), jnp.minimum(x, jnp.inf) - y,
            jnp.where(x > 0, x, jnp.nan), jnp.clip(x, -jnp.inf, 0.25), x + y)


# ---------------------------------------------------------------------------
# Indexing, slicing, None, .T
# ---------------------------------------------------------------------------

@case("index_int", randn(4, 5, 6), randn(5, 7))
@om("""
# Integer indices drop their axis; negative ones count from the end; missing trailing
# axes mean `:`.
fn main(x: f32[4, 5, 6], m: f32[5, 7]) {
    (x[1], x[-1], x[1, 2], x[-1, -2, 3], x[:, 0], m[:, -1], m[2, 6], x[2, :, -6])
}
""")
def f(x, m):
    return x[1], x[-1], x[1, 2], x[-1, -2, 3], x[:, 0], m[:, -1], m[2, 6], x[2, :, -6]


@case("slice_forms", randn(9, 7), randn(11))
@om("""
fn main(x: f32[9, 7], v: f32[11]) {
    (v[2:5], v[::2], v[1:10:3], v[-3:], v[:-1], v[3:], v[:4], v[:], v[-5:-1:2],
     x[:, 1:], x[1:7:2, ::3], x[-2:, :-2], x[::4], x[2:3, 5:], x[1:, 2])
}
""")
def f(x, v):
    return (v[2:5], v[::2], v[1:10:3], v[-3:], v[:-1], v[3:], v[:4], v[:], v[-5:-1:2],
            x[:, 1:], x[1:7:2, ::3], x[-2:, :-2], x[::4], x[2:3, 5:], x[1:, 2])


@case("index_none_transpose", randn(5), randn(3, 4), randn(2, 3, 4))
@om("""
fn main(v: f32[5], x: f32[3, 4], t: f32[2, 3, 4]) {
    let outer = v[:, None] * v[None, :];    # [5, 1] * [1, 5]
    let lead = x[None];                     # [1, 3, 4]
    let mid = x[:, None, 1:];               # [3, 1, 3]
    let pick = t[None, 1, :, None, 2];      # [1, 3, 1]
    (outer, lead, mid, pick, x.T, t.T, v.T, x.T @ x)
}
""")
def f(v, x, t):
    return (v[:, None] * v[None, :], x[None], x[:, None, 1:], t[None, 1, :, None, 2], x.T,
            jnp.transpose(t), v, x.T @ x)


# ---------------------------------------------------------------------------
# Builtins
# ---------------------------------------------------------------------------

@case("unary_math_1", with_zeros(3, 7), uniform(3, 7, lo=0.1, hi=5.0))
@om("""
fn main(x: f32[3, 7], p: f32[3, 7]) {
    (neg(x), abs(x), sign(x), exp(x), expm1(x), log(p), log1p(p), sqrt(p), rsqrt(p))
}
""")
def f(x, p):
    return (-x, jnp.abs(x), jnp.sign(x), jnp.exp(x), jnp.expm1(x), jnp.log(p), jnp.log1p(p),
            jnp.sqrt(p), jax.lax.rsqrt(p))


@case("unary_math_2", away(5, 7, lo=0.2, hi=3.0))
@om("""
fn main(x: f32[5, 7]) {
    (tanh(x), sigmoid(x), relu(x), sin(x), cos(x), erf(x), square(x), reciprocal(x))
}
""")
def f(x):
    return (jnp.tanh(x), jax.nn.sigmoid(x), jax.nn.relu(x), jnp.sin(x), jnp.cos(x),
            jax.scipy.special.erf(x), jnp.square(x), 1 / x)


@case("round_floor_ceil", np.array([-4.5, -3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5,
                                   -2.7, -0.2, 0.0, 0.49, 1.51, 7.0, -6.25], F32))
@om("""
# round is half-to-even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2.
fn main(x: f32[17]) {
    (round(x), floor(x), ceil(x), round(x * 2) / 2)
}
""")
def f(x):
    return jnp.round(x), jnp.floor(x), jnp.ceil(x), jnp.round(x * 2) / 2


@case("binary_builtins", randn(4, 5), randn(4, 5), uniform(4, 5, lo=0.5, hi=2.0), randn(5))
@om("""
fn main(x: f32[4, 5], y: f32[4, 5], p: f32[4, 5], lo: f32[5]) {
    let mx = maximum(x, y);
    let mn = minimum(x, 0.0);
    let pw = pow(p, y);
    let pw2 = pow(p, 2);
    let w = where(x > y, x, y * 2);
    let c1 = clip(x, -0.5, 0.5);
    let c2 = clip(x, lo, 1);         # an array lower bound, an int upper bound
    (mx, mn, pw, pw2, w, c1, c2)
}
""")
def f(x, y, p, lo):
    return (jnp.maximum(x, y), jnp.minimum(x, 0.0), jnp.power(p, y), jnp.power(p, 2),
            jnp.where(x > y, x, y * 2), jnp.clip(x, -0.5, 0.5), jnp.minimum(jnp.maximum(x, lo), 1))


@case("reductions_axis", randn(3, 4, 5), uniform(3, 4, 5, lo=0.8, hi=1.25))
@om("""
fn main(x: f32[3, 4, 5], p: f32[3, 4, 5]) {
    (sum(x), sum(x, axis=1), mean(x, axis=-1), max(x, axis=[0, 2]), min(x, axis=0),
     prod(p, axis=2), mean(x), max(x), min(x, axis=[-1, -2]), prod(p, axis=[0, 1]),
     prod(p), sum(x, axis=[0, 1, 2]))
}
""")
def f(x, p):
    return (jnp.sum(x), jnp.sum(x, axis=1), jnp.mean(x, axis=-1), jnp.max(x, axis=(0, 2)),
            jnp.min(x, axis=0), jnp.prod(p, axis=2), jnp.mean(x), jnp.max(x),
            jnp.min(x, axis=(-1, -2)), jnp.prod(p, axis=(0, 1)), jnp.prod(p), jnp.sum(x))


@case("reductions_keepdims", randn(3, 4, 5), randint(-9, 10, 3, 4, 5))
@om("""
fn main(x: f32[3, 4, 5], i: i32[3, 4, 5]) {
    let centered = x - max(x, axis=1, keepdims=true);
    let k_all = sum(x, keepdims=true);                  # [1, 1, 1]
    let k_list = mean(x, axis=[0, 2], keepdims=true);   # [1, 4, 1]
    let k_neg = min(x, axis=-1, keepdims=true);         # [3, 4, 1]
    let k_prod = prod(x, axis=0, keepdims=false);
    let isum = sum(i, axis=-1, keepdims=true);          # i32
    let imean = mean(i, axis=0);                        # f32
    let imax = max(i);
    (centered, k_all, k_list, k_neg, k_prod, isum, imean, imax)
}
""")
def f(x, i):
    return (x - jnp.max(x, axis=1, keepdims=True), jnp.sum(x, keepdims=True),
            jnp.mean(x, axis=(0, 2), keepdims=True), jnp.min(x, axis=-1, keepdims=True),
            jnp.prod(x, axis=0), jnp.sum(i, axis=-1, keepdims=True), jnp.mean(i, axis=0), jnp.max(i))


@case("softmax_family", randn(4, 7, scale=2.0), randn(2, 3, 5))
@om("""
# softmax / log_softmax / logsumexp: axis=-1 by default; large inputs need the max shift.
fn main(x: f32[4, 7], t: f32[2, 3, 5]) {
    (softmax(x), softmax(x, axis=0), log_softmax(x), log_softmax(x, axis=0),
     logsumexp(x), logsumexp(x, axis=0), softmax(x * 50), logsumexp(x * 50),
     softmax(t, axis=1), log_softmax(t, axis=-2), logsumexp(t, axis=1))
}
""")
def f(x, t):
    return (jax.nn.softmax(x), jax.nn.softmax(x, axis=0), jax.nn.log_softmax(x),
            jax.nn.log_softmax(x, axis=0), jax.nn.logsumexp(x, axis=-1), jax.nn.logsumexp(x, axis=0),
            jax.nn.softmax(x * 50), jax.nn.logsumexp(x * 50, axis=-1), jax.nn.softmax(t, axis=1),
            jax.nn.log_softmax(t, axis=-2), jax.nn.logsumexp(t, axis=1))


@case("gelu_silu", randn(3, 11, scale=3.0))
@om("""
fn main(x: f32[3, 11]) {
    (gelu(x), gelu(x, approximate=true), gelu(x, approximate=false), silu(x))
}
""")
def f(x):
    return (jax.nn.gelu(x, approximate=True), jax.nn.gelu(x, approximate=True),
            jax.nn.gelu(x, approximate=False), jax.nn.silu(x))


@case("layernorm_rmsnorm", randn(2, 3, 8, scale=2.0), randn(8), randn(8))
@om("""
# Both normalize over the last axis; eps defaults to 1e-5 (layernorm) and 1e-6 (rmsnorm).
fn main(x: f32[2, 3, 8], g: f32[8], b: f32[8]) {
    (layernorm(x, g, b), layernorm(x, g, b, eps=1e-3), rmsnorm(x, g), rmsnorm(x, g, eps=0.1))
}
""")
def f(x, g, b):
    return (layernorm_ref(x, g, b), layernorm_ref(x, g, b, 1e-3), rmsnorm_ref(x, g),
            rmsnorm_ref(x, g, 0.1))


@case("shape_reshape_transpose", randn(2, 3, 4))
@om("""
fn main(x: f32[2, 3, 4]) {
    let a = reshape(x, [6, 4]);
    let b = reshape(x, [4, -1]);            # [4, 6]
    let c = reshape(x, [-1]);               # [24]
    let d = reshape(x, [2, -1, 2]);         # [2, 6, 2]
    let e = transpose(x);                   # no perm: reverse, [4, 3, 2]
    let g = transpose(x, [1, 0, 2]);        # [3, 2, 4]
    let h = reshape(transpose(x, [2, 0, 1]), [4, 6]);
    (a, b, c, d, e, g, h)
}
""")
def f(x):
    return (x.reshape(6, 4), x.reshape(4, -1), x.reshape(-1), x.reshape(2, -1, 2),
            jnp.transpose(x), jnp.transpose(x, (1, 0, 2)), jnp.transpose(x, (2, 0, 1)).reshape(4, 6))


@case("shape_broadcast_expand_squeeze", randn(5), randn(3, 1, 4))
@om("""
fn main(v: f32[5], m: f32[3, 1, 4]) {
    let b1 = broadcast_to(v, [3, 5]);
    let b2 = broadcast_to(m, [2, 3, 6, 4]);
    let e0 = expand_dims(v, 0);     # [1, 5]
    let e1 = expand_dims(v, -1);    # [5, 1]
    let e2 = expand_dims(m, 3);     # [3, 1, 4, 1]
    let s1 = squeeze(m, 1);         # [3, 4]
    let s2 = squeeze(e1, -1);       # [5]
    (b1, b2, e0, e1, e2, s1, s2 + v)
}
""")
def f(v, m):
    e1 = jnp.expand_dims(v, -1)
    return (jnp.broadcast_to(v, (3, 5)), jnp.broadcast_to(m, (2, 3, 6, 4)), jnp.expand_dims(v, 0),
            e1, jnp.expand_dims(m, 3), jnp.squeeze(m, 1), jnp.squeeze(e1, -1) + v)


@case("concat_axes", randn(2, 3), randn(4, 3), randn(2, 5))
@om("""
fn main(a: f32[2, 3], b: f32[4, 3], c: f32[2, 5]) {
    (concat([a, b]), concat([a, b, a], axis=0), concat([a, c], axis=1), concat([c, a, c], axis=-1))
}
""")
def f(a, b, c):
    return (jnp.concatenate([a, b]), jnp.concatenate([a, b, a], axis=0),
            jnp.concatenate([a, c], axis=1), jnp.concatenate([c, a, c], axis=-1))


@case("creation", randn(3, 4), randint(-5, 6, 3, 4))
@om("""
fn main(x: f32[3, 4], i: i32[3, 4]) {
    let z = zeros([3, 4]) + x;
    let o = ones([4]) * 2 - x;
    let f = full([3, 4], 2.5) * x;
    let fi = full([3, 4], 7) + i;               # an int value fills an i32 array
    let fb = full([3, 4], false) != (x > 0);    # a bool value fills a bool array
    let r = arange(4) * x;                      # [0, 1, 2, 3] along the rows
    let ex = x @ eye(4) + eye(3) @ x;
    (z, o, f, fi, fb, r, ex, eye(3), arange(5))
}
""")
def f(x, i):
    return (jnp.zeros((3, 4), F32) + x, jnp.ones((4,), F32) * 2 - x, jnp.full((3, 4), 2.5, F32) * x,
            jnp.full((3, 4), 7, I32) + i, jnp.full((3, 4), False) != (x > 0),
            jnp.arange(4, dtype=F32) * x, x @ jnp.eye(4, dtype=F32) + jnp.eye(3, dtype=F32) @ x,
            jnp.eye(3, dtype=F32), jnp.arange(5, dtype=F32))


@case("type_conversions",
      np.array([-2.7, -1.5, -0.5, -0.2, 0.0, 0.3, 0.5, 1.0, 1.9, 2.5, 100.6], F32),
      randint(-3, 4, 11), bools(11))
@om("""
# i32(x) truncates toward zero; bool(x) is x != 0.
fn main(x: f32[11], i: i32[11], b: bool[11]) {
    (i32(x), f32(i) * 0.5, bool(x), bool(i), i32(b), f32(b), f32(i32(x)) - x, i32(x > 0))
}
""")
def f(x, i, b):
    return (x.astype(I32), i.astype(F32) * 0.5, x != 0, i != 0, b.astype(I32), b.astype(F32),
            x.astype(I32).astype(F32) - x, (x > 0).astype(I32))


@case("shape_builtin", randn(4, 6), randn(3, 2, 4))
@om("""
# shape(x) is a compile-time list; its elements are integers.
fn main(x: f32[B, 6], y: f32[3, 2, B]) {
    let s = shape(x);
    let n = s[0] * s[1];
    let back = reshape(reshape(x, [n]), shape(x));    # a shape list as reshape dims
    let cols = reshape(x, [shape(x)[0] * 2, -1]);     # [2B, 3]
    let mean_cols = sum(x, axis=1) / shape(x)[1];
    let r = arange(shape(x)[1]) + x;
    let o = ones(shape(y)) * y;
    let yy = reshape(y, [shape(y)[2], -1]);           # [B, 6]
    (back, cols, mean_cols, r, o, yy + x)
}
""")
def f(x, y):
    return (x, x.reshape(8, -1), jnp.sum(x, axis=1) / 6, jnp.arange(6, dtype=F32) + x, y,
            y.reshape(4, -1) + x)


# ---------------------------------------------------------------------------
# Realistic programs
# ---------------------------------------------------------------------------

@case("mlp_forward", randn(7, 13), randn(13, 16, scale=0.3), randn(16), randn(16, 10, scale=0.3),
      randn(10))
@om("""
# Two-layer perceptron (the LANGUAGE.md example at a small size).
const EPS = 1e-5;

fn dense(x, w, b) {
    x @ w + b                       # the last expression is the value of a block
}

fn main(x: f32[B, 13], w1: f32[13, 16], b1: f32[16],
        w2: f32[16, 10], b2: f32[10]) {
    let h = relu(dense(x, w1, b1));
    let logits = dense(h, w2, b2);
    return (softmax(logits, axis=-1), mean(logits) + EPS);   # a tuple: two outputs
}
""")
def f(x, w1, b1, w2, b2):
    logits = jax.nn.relu(x @ w1 + b1) @ w2 + b2
    return jax.nn.softmax(logits, axis=-1), jnp.mean(logits) + 1e-5


@case("mlp_gelu_residual", randn(6, 8), randn(8, 16, scale=0.3), randn(16), randn(16, 8, scale=0.3),
      randn(8))
@om("""
# The benchmark suite's `mlp` workload at a small size: gelu_tanh(x@w1+b1) @ w2 + b2 + x.
fn main(x: f32[B, D], w1: f32[D, 16], b1: f32[16], w2: f32[16, D], b2: f32[D]) {
    gelu(x @ w1 + b1) @ w2 + b2 + x
}
""")
def f(x, w1, b1, w2, b2):
    return jax.nn.gelu(x @ w1 + b1, approximate=True) @ w2 + b2 + x


def mha(x, wq, wk, wv, wo, heads=3, dh=4):
    b, t, d = x.shape
    split = lambda z: jnp.transpose(z.reshape(b, t, heads, dh), (0, 2, 1, 3))
    q, k, v = split(x @ wq), split(x @ wk), split(x @ wv)
    p = jax.nn.softmax(q @ jnp.transpose(k, (0, 1, 3, 2)) / dh ** 0.5, axis=-1)
    o = jnp.transpose(p @ v, (0, 2, 1, 3)).reshape(b, t, d)
    return o @ wo, p


@case("attention_mha", randn(2, 5, 12), *[randn(12, 12, scale=0.3) for _ in range(4)])
@om("""
# Multi-head self-attention: project, split into heads, scaled dot product, merge heads.
const H = 3;
const DH = 4;

fn main(x: f32[B, T, D], wq: f32[D, D], wk: f32[D, D], wv: f32[D, D], wo: f32[D, D]) {
    let q = heads(x @ wq, B, T);                                 # [B, H, T, DH]
    let k = heads(x @ wk, B, T);
    let v = heads(x @ wv, B, T);
    let scores = q @ transpose(k, [0, 1, 3, 2]) / DH ** 0.5;    # [B, H, T, T]
    let p = softmax(scores);
    let o = transpose(p @ v, [0, 2, 1, 3]);                      # [B, T, H, DH]
    let merged = reshape(o, [B, T, H * DH]);
    return (merged @ wo, p);
}

fn heads(t, b, n) {
    transpose(reshape(t, [b, n, H, DH]), [0, 2, 1, 3])
}
""")
def f(x, wq, wk, wv, wo):
    return mha(x, wq, wk, wv, wo)


@case("transformer_block_causal", randn(6, 8), uniform(8, lo=0.5, hi=1.5), randn(8, scale=0.1),
      randn(8, 24, scale=0.3), randn(8, 8, scale=0.3), uniform(8, lo=0.5, hi=1.5),
      randn(8, scale=0.1), randn(8, 16, scale=0.3), randn(16, 8, scale=0.3))
@om("""
# A pre-LN transformer block on one sequence with a causal mask built from arange.
const H = 2;
const DH = 4;

fn main(x: f32[T, D], ln1_g: f32[D], ln1_b: f32[D], wqkv: f32[D, 24], wo: f32[D, D],
        ln2_g: f32[D], ln2_b: f32[D], w1: f32[D, 16], w2: f32[16, D]) {
    let qkv = layernorm(x, ln1_g, ln1_b) @ wqkv;                         # [T, 3D]
    let q = transpose(reshape(qkv[:, 0:D], [T, H, DH]), [1, 0, 2]);        # [H, T, DH]
    let k = transpose(reshape(qkv[:, D:2 * D], [T, H, DH]), [1, 2, 0]);    # [H, DH, T]
    let v = transpose(reshape(qkv[:, 2 * D:], [T, H, DH]), [1, 0, 2]);     # [H, T, DH]
    let pos = arange(T);
    let causal = pos[:, None] >= pos[None, :];                           # bool [T, T]
    let s = where(causal, q @ k / DH ** 0.5, -inf);
    let a = reshape(transpose(softmax(s) @ v, [1, 0, 2]), [T, D]);
    let x = x + a @ wo;
    let x = x + gelu(layernorm(x, ln2_g, ln2_b) @ w1) @ w2;
    x
}
""")
def f(x, g1, b1, wqkv, wo, g2, b2, w1, w2):
    t, d = x.shape
    qkv = layernorm_ref(x, g1, b1) @ wqkv
    q = jnp.transpose(qkv[:, :d].reshape(t, 2, 4), (1, 0, 2))
    k = jnp.transpose(qkv[:, d:2 * d].reshape(t, 2, 4), (1, 2, 0))
    v = jnp.transpose(qkv[:, 2 * d:].reshape(t, 2, 4), (1, 0, 2))
    pos = jnp.arange(t, dtype=F32)
    s = jnp.where(pos[:, None] >= pos[None, :], q @ k / 2.0, -jnp.inf)
    a = jnp.transpose(jax.nn.softmax(s, axis=-1) @ v, (1, 0, 2)).reshape(t, d)
    x = x + a @ wo
    return x + jax.nn.gelu(layernorm_ref(x, g2, b2) @ w1, approximate=True) @ w2


@case("mlp_backward_mse", randn(7, 6), randn(7, 3), randn(6, 8, scale=0.5), randn(8, scale=0.5),
      randn(8, 3, scale=0.5), randn(3))
@om("""
# A hand-written backward pass of a 2-layer ReLU MLP with a mean-squared-error loss.
fn main(x: f32[B, 6], y: f32[B, 3], w1: f32[6, 8], b1: f32[8], w2: f32[8, 3], b2: f32[3]) {
    # forward
    let z = x @ w1 + b1;
    let h = relu(z);
    let out = h @ w2 + b2;
    let err = out - y;
    let loss = mean(err ** 2);
    # backward: d loss / d out = 2 (out - y) / (B * 3)
    let d_out = err * (2.0 / (B * 3));
    let d_w2 = h.T @ d_out;
    let d_b2 = sum(d_out, axis=0);
    let d_h = d_out @ w2.T;
    let d_z = where(z > 0, d_h, 0.0);
    let d_w1 = x.T @ d_z;
    let d_b1 = sum(d_z, axis=0);
    (loss, d_w1, d_b1, d_w2, d_b2)
}
""")
def f(x, y, w1, b1, w2, b2):
    def loss(w1, b1, w2, b2):
        return jnp.mean((jax.nn.relu(x @ w1 + b1) @ w2 + b2 - y) ** 2)
    l, g = jax.value_and_grad(loss, argnums=(0, 1, 2, 3))(w1, b1, w2, b2)
    return (l, *g)


@case("mlp_backward_gelu", randn(5, 4), randn(5, 2), randn(4, 6, scale=0.5), randn(6, scale=0.5),
      randn(6, 2, scale=0.5), randn(2), rtol=1e-3, atol=1e-5)
@om("""
# Backward pass through a tanh-approximated gelu, its derivative written out by hand.
const C = 0.7978845608028654;     # sqrt(2 / pi)

fn gelu_grad(z) {
    let t = tanh(C * (z + 0.044715 * z ** 3));
    0.5 * (1 + t) + 0.5 * z * (1 - t * t) * C * (1 + 3 * 0.044715 * z ** 2)
}

fn main(x: f32[B, 4], y: f32[B, 2], w1: f32[4, 6], b1: f32[6], w2: f32[6, 2], b2: f32[2]) {
    let z = x @ w1 + b1;
    let h = gelu(z);
    let err = h @ w2 + b2 - y;
    let loss = sum(err * err) / (2 * B);
    let d_out = err / B;
    let d_z = d_out @ w2.T * gelu_grad(z);
    (loss, x.T @ d_z, sum(d_z, axis=0), h.T @ d_out, sum(d_out, axis=0))
}
""")
def f(x, y, w1, b1, w2, b2):
    def loss(w1, b1, w2, b2):
        e = jax.nn.gelu(x @ w1 + b1, approximate=True) @ w2 + b2 - y
        return jnp.sum(e * e) / (2 * 5)
    l, g = jax.value_and_grad(loss, argnums=(0, 1, 2, 3))(w1, b1, w2, b2)
    return (l, *g)


@case("residual_loop", randn(5, 8), uniform(4, 8, lo=0.5, hi=1.5), randn(4, 8, scale=0.1),
      randn(4, 8, 8, scale=0.3), randn(4, 8, scale=0.1))
@om("""
# Four pre-norm residual blocks in a static loop, then an RMS norm.
fn block(h, g, b, w, c) {
    h + relu(layernorm(h, g, b) @ w + c)
}

fn main(x: f32[B, 8], g: f32[4, 8], b: f32[4, 8], w: f32[4, 8, 8], c: f32[4, 8]) {
    let h = x;
    for i in 0..4 {
        let h = block(h, g[i], b[i], w[i], c[i]);
    }
    (h, rmsnorm(h, g[3]))
}
""")
def f(x, g, b, w, c):
    h = x
    for i in range(4):
        h = h + jax.nn.relu(layernorm_ref(h, g[i], b[i]) @ w[i] + c[i])
    return h, rmsnorm_ref(h, g[3])


@case("rnn_unrolled", randn(3, 5, 4), randn(4, 6, scale=0.5), randn(6, 6, scale=0.5), randn(6))
@om("""
# An Elman RNN unrolled over S time steps (a symbolic dimension as the loop bound).
fn main(xs: f32[B, S, 4], wx: f32[4, 6], wh: f32[6, 6], b: f32[6]) {
    let h = zeros([B, 6]);
    let total = zeros([B, 6]);
    for t in 0..S {
        let h = tanh(xs[:, t] @ wx + h @ wh + b);
        let total = total + h;
    }
    (h, total / S)
}
""")
def f(xs, wx, wh, b):
    h = jnp.zeros((3, 6), F32)
    total = jnp.zeros((3, 6), F32)
    for t in range(5):
        h = jnp.tanh(xs[:, t] @ wx + h @ wh + b)
        total = total + h
    return h, total / 5


@case("cross_entropy", randn(6, 5, scale=2.0), randint(0, 5, 6))
@om("""
# Softmax cross-entropy with integer labels turned into a one-hot matrix.
fn main(logits: f32[B, C], labels: i32[B]) {
    let onehot = f32(f32(labels)[:, None] == arange(C));
    let nll = -sum(onehot * log_softmax(logits), axis=-1);
    (mean(nll), onehot)
}
""")
def f(logits, labels):
    onehot = (labels.astype(F32)[:, None] == jnp.arange(5, dtype=F32)).astype(F32)
    return jnp.mean(-jnp.sum(onehot * jax.nn.log_softmax(logits), axis=-1)), onehot


@case("linreg_grad", randn(9, 6), randn(6, 4), randn(9, 4))
@om("""
# The suite's `linreg_grad` at a small size.
fn main(x: f32[B, 6], w: f32[6, 4], y: f32[B, 4]) {
    x.T @ ((x @ w - y) * (2.0 / B))
}
""")
def f(x, w, y):
    return x.T @ ((x @ w - y) * (2.0 / 9))


@case("suite_small", randn(17), randn(5, 7), randn(7, 5), randn(6, 4), randn(3, 4))
@om("""
# Small versions of the suite's ew_chain, transpose_add, col_reduce and gemm_nt.
fn main(x: f32[17], a: f32[5, 7], bt: f32[7, 5], m: f32[6, 4], n: f32[3, 4]) {
    let ew = tanh(2 * x + 1) * sigmoid(x) + x * x;
    let ta = (a.T + bt).T * 2;
    (ew, ta, sum(a, axis=0), max(a, axis=0), m @ n.T)
}
""")
def f(x, a, bt, m, n):
    return (jnp.tanh(2 * x + 1) * jax.nn.sigmoid(x) + x * x, (a.T + bt).T * 2,
            jnp.sum(a, axis=0), jnp.max(a, axis=0), m @ n.T)


# ---------------------------------------------------------------------------------
# The language grows (2026-12): every element type, `% // & | ^ ~ << >>`, and
# jax.random. These twins compare exactly (rtol = atol = 0) wherever JAX is
# deterministic, and are checked by the Rust harness only (ref=False). Cases with
# 64-bit types run their twin with jax_enable_x64 (x64=True): with x64 disabled JAX
# has no 64-bit arrays, while the language does.

BF16 = jnp.bfloat16


def int_edges(dtype):
    """Edge values of an integer type, and divisors and shift amounts to meet them."""
    info = np.iinfo(dtype)
    w = info.bits
    if info.min < 0:
        x = [info.min, info.min + 1, -7, -1, 0, 1, 7, info.max - 1, info.max, 5, -3, 6]
        y = [-1, 3, 2, -2, 5, 0, -2, 1, -1, 0, 4, -4]
        s = [0, 1, 3, w - 1, w, w + 1, -1, -w, 2, 5, 7, 1]
    else:
        x = [0, 1, 2, 7, info.max, info.max - 1, info.max // 2, 5, 3, 6, 9, 100]
        y = [1, 0, 3, 2, 1, 7, 0, 5, 4, 2, 3, 9]
        s = [0, 1, 3, w - 1, w, w + 1, info.max, 2, 5, 7, 1, 4]
    return np.array(x, dtype), np.array(y, dtype), np.array(s, dtype)


INT_OPS_OM = """
fn main(x: {t}[12], y: {t}[12], s: {t}[12]) {{
    (x + y, x - y, x * y, x // y, x % y, x & y, x | y, x ^ y, ~x, x << s, x >> s, -x,
     x // 3, x % 3, 7 // y, x << 1, x >> 2, popcount(x), clz(x), x == y, maximum(x, y),
     x & 6 | y ^ 3 << 1)
}}
"""


def int_ops(x, y, s):
    return (x + y, x - y, x * y, x // y, x % y, x & y, x | y, x ^ y, ~x, x << s, x >> s, -x,
            x // 3, x % 3, 7 // y, x << 1, x >> 2, jax.lax.population_count(x), jax.lax.clz(x),
            x == y, jnp.maximum(x, y), x & 6 | y ^ 3 << 1)


for _t, _np in [("i8", np.int8), ("i16", np.int16), ("i32", np.int32), ("i64", np.int64),
                ("u8", np.uint8), ("u16", np.uint16), ("u32", np.uint32), ("u64", np.uint64)]:
    case(f"ops_int_{_t}", *int_edges(_np), rtol=0, atol=0)(
        om(INT_OPS_OM.format(t=_t), ref=False, x64=_t in ("i64", "u64"))(
            lambda x, y, s: int_ops(x, y, s)))


def float_edges(dtype):
    x = [5.5, -5.5, 7, -7, 0, -0.0, np.inf, -np.inf, np.nan, 1e-3, 3, 2.5]
    y = [2, 2, -2, -2, 3, 0, 2, 3, 1, 0, -0.0, -0.5]
    return np.array(x, dtype), np.array(y, dtype)


FLOAT_OPS_OM = """
fn main(x: {t}[12], y: {t}[12]) {{
    (x // y, x % y, x / y, x * y + 1.5, x // 2, x % 2.5, -7 % y, isfinite(x), x < y)
}}
"""


def float_ops(x, y):
    return (x // y, x % y, x / y, x * y + 1.5, x // 2, x % 2.5, -7 % y, jnp.isfinite(x), x < y)


for _t, _np in [("f16", np.float16), ("bf16", BF16), ("f32", np.float32), ("f64", np.float64)]:
    case(f"ops_float_{_t}", *float_edges(_np), rtol=0, atol=0)(
        om(FLOAT_OPS_OM.format(t=_t), ref=False, x64=_t == "f64")(
            lambda x, y: float_ops(x, y)))


@case("ops_bool_bitwise", np.array([True, True, False, False]), np.array([True, False, True, False]),
      rtol=0, atol=0)
@om("""
fn main(a: bool[4], b: bool[4]) {
    (a & b, a | b, a ^ b, ~a, !a, a << b, a >> b, a // b, a % b, a & true, a ^ true)
}
""", ref=False)
def f(a, b):
    return (a & b, a | b, a ^ b, ~a, ~a, a << b, a >> b, a // b, a % b, a & True, a ^ True)


@case("ops_precedence_bits", randint(-50, 50, 6), randint(0, 5, 6), rtol=0, atol=0)
@om("""
# Python's precedence: comparison < | < ^ < & < shifts < + - < * / // % < unary < **.
fn main(x: i32[6], s: i32[6]) {
    (x | s ^ x & s, x + 1 << s, x << s + 1, x & 7 == 3, -x // 4 % 3, ~x ** 2, x * 3 // 2,
     x >> s | x << 2, 5 | 3 ^ 1 & 7, -7 // 2, -7 % 3, 7.5 // 2, -7.5 % 2, 1 << 10, ~5)
}
""", ref=False)
def f(x, s):
    return (x | s ^ x & s, x + 1 << s, x << s + 1, x & 7 == 3, -x // 4 % 3, ~x ** 2, x * 3 // 2,
            x >> s | x << 2, jnp.int32(5 | 3 ^ 1 & 7), jnp.int32(-7 // 2), jnp.int32(-7 % 3),
            jnp.float32(7.5 // 2), jnp.float32(-7.5 % 2), jnp.int32(1 << 10), jnp.int32(~5))


@case("types_promotion",
      np.array([-128, -1, 5, 127], np.int8), np.array([0, 255, 7, 128], np.uint8),
      np.array([0, 1, 4000000000, 7], np.uint32), np.array([-5, 2147483647, 3, -1], np.int32),
      np.array([1.5, -2.25, 3e3, 0.1], BF16), np.array([0.5, 65504, -1e-3, 0.1], np.float16),
      np.array([True, False, True, False]), np.array([0, 1, 2**63, 2**64 - 1], np.uint64),
      rtol=0, atol=0)
@om("""
# JAX's lattice: i8 + u8 is i16, u32 + i32 is i64, bf16 + f16 is f32, i32 + f16 is f16,
# bool + i8 is i8; literals take the array's type.
fn main(a: i8[4], b: u8[4], c: u32[4], d: i32[4], e: bf16[4], f: f16[4], g: bool[4],
        h: u64[4]) {
    (a + b, c + d, e + f, d + f, g + a, b + 200, a * 2, h + 1, e * 2.5, c - 1, b * a,
     f * 3, h >> 63, c * d)
}
""", ref=False, x64=True)
def f(a, b, c, d, e, f, g, h):
    return (a + b, c + d, e + f, d + f, g + a, b + 200, a * 2, h + 1, e * 2.5, c - 1, b * a,
            f * 3, h >> 63, c * d)


CONVERT_TYPES = ["bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f16", "bf16",
                 "f32", "f64"]
CONVERT_NP = dict(zip(CONVERT_TYPES, [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                                       np.uint16, np.uint32, np.uint64, np.float16, BF16,
                                       np.float32, np.float64]))


def convert_case(src_t, values):
    body = ", ".join(f"{t}(x)" for t in CONVERT_TYPES) + ", astype(x, u16)"

    def f(x):
        return tuple(x.astype(CONVERT_NP[t]) for t in CONVERT_TYPES) + (x.astype(np.uint16),)
    src = f"fn main(x: {src_t}[{len(values)}]) {{\n    ({body})\n}}\n"
    case(f"types_convert_{src_t}", np.array(values, dtype=CONVERT_NP[src_t]), rtol=0, atol=0)(
        om(src, ref=False, x64=True)(f))


# Float to integer conversions of values out of the integer's range are
# implementation-defined in XLA; only values in every type's range go here.
convert_case("f32", [0.0, -0.0, 1.5, 5.25, 2.75, 100.25, 0.1, 1e-3, 127.9, 3.0, 65.5, 12.5])
convert_case("f64", [0.0, 1.5, 2.75, 100.25, 0.1, 1e-3, 127.9, 3.0, 65.5, 12.5, 1 / 3, 2 / 3])
convert_case("f16", [0.0, 1.5, 2.75, 100.25, 0.1, 1e-3, 127.9, 3.0, 65.5, 12.5, 1 / 3, 2 / 3])
convert_case("bf16", [0.0, 1.5, 2.75, 100.25, 0.1, 1e-3, 127.9, 3.0, 65.5, 12.5, 1 / 3, 2 / 3])
convert_case("i32", [0, 1, -1, 127, 128, 255, 256, -129, 65535, 65536, 2**31 - 1, -2**31])
convert_case("u8", [0, 1, 127, 128, 255, 200, 17, 3, 64, 99, 254, 100])
convert_case("i64", [0, 1, -1, 2**40 + 3, -2**40, 2**62, 2**63 - 1, -2**63, 16777217, 255, 7, 3])
convert_case("u64", [0, 1, 2**63, 2**64 - 1, 2**32, 16777217, 255, 7, 3, 2**53 + 1, 9, 4])
convert_case("bool", [True, False, True, False])


@case("math_types", np.array([0.5, -1.25, 3.0, 1e-3, -0.0, 8.0], np.float32),
      np.array([1.0, 2.0, -3.0, 0.0, -1.0, 0.5], np.float32),
      np.array([0.5, -1.25, 3.0, 1e-3, -0.0, 8.0], np.float16),
      np.array([0, 1, 7, -1, 255, -128], np.int32), np.array([0, 1, 7, 255, 128, 3], np.uint8),
      rtol=1e-3, atol=1e-6)
@om("""
fn main(x: f32[6], y: f32[6], h: f16[6], i: i32[6], u: u8[6]) {
    (arctan2(x, y), tan(x), cbrt(x), isfinite(x / 0), tan(h), cbrt(h), arctan2(h, 2),
     arctan2(i, 3), popcount(i), clz(i), popcount(u), clz(u), sqrt(u), mean(u), sin(i))
}
""", ref=False)
def f(x, y, h, i, u):
    return (jnp.arctan2(x, y), jnp.tan(x), jnp.cbrt(x), jnp.isfinite(x / 0), jnp.tan(h),
            jnp.cbrt(h), jnp.arctan2(h, 2), jnp.arctan2(i, 3), jax.lax.population_count(i),
            jax.lax.clz(i), jax.lax.population_count(u), jax.lax.clz(u), jnp.sqrt(u), jnp.mean(u),
            jnp.sin(i))


def keys(*seeds):
    return [np.asarray(jax.random.PRNGKey(s)) for s in seeds]


def random_case(name, seeds, om_outputs, jax_outputs, rtol=0, atol=0):
    """A case of jax.random calls on raw keys of `seeds` (k0, k1, ...). JAX's HLO
    for threefry is large: a few calls per case keep each fixture small."""
    params = ", ".join(f"k{i}: u32[2]" for i in range(len(seeds)))
    src = f"fn main({params}) {{\n    ({om_outputs})\n}}\n"
    case(name, *keys(*seeds), rtol=rtol, atol=atol)(om(src, ref=False)(jax_outputs))


R = jax.random
random_case("random_uniform", [0, 42, 12345],
            "uniform(k0, [3, 4]), uniform(k1, [7]), uniform(k2, [2, 3, 5], lo=1, hi=2), "
            "uniform(k0, [])",
            lambda k0, k1, k2: (R.uniform(k0, (3, 4)), R.uniform(k1, (7,)),
                                R.uniform(k2, (2, 3, 5), minval=1, maxval=2), R.uniform(k0, ())))
# XLA:CPU computes `u * (hi - lo) + lo` and erf_inv's Horner steps with FMAs, which
# HLO cannot express: these agree with JAX to an ulp or two, not to the bit.
ULP = dict(rtol=2.5e-7, atol=1e-7)
random_case("random_uniform_bounds", [42, 9],
            "uniform(k0, [7], -2.0, 3.0), uniform(k1, [3, 5], 0.5, 10)",
            lambda k0, k1: (R.uniform(k0, (7,), minval=-2.0, maxval=3.0),
                            R.uniform(k1, (3, 5), minval=0.5, maxval=10)), **ULP)
random_case("random_split_fold", [0, 42, 12345],
            "split(k0), split(k1, 3), split(k2, [2, 2]), fold_in(k0, 7), fold_in(k1, 123456789)",
            lambda k0, k1, k2: (R.split(k0), R.split(k1, 3), R.split(k2, (2, 2)), R.fold_in(k0, 7),
                                R.fold_in(k1, 123456789)))
random_case("random_randint", [0, 42],
            "randint(k0, [3, 4], 0, 10), randint(k1, [9], -5, 5)",
            lambda k0, k1: (R.randint(k0, (3, 4), 0, 10), R.randint(k1, (9,), -5, 5)))
random_case("random_randint_edges", [12345, 3],
            "randint(k0, [4], 3, 3), randint(k1, [5], -2147483648, 2147483647)",
            lambda k0, k1: (R.randint(k0, (4,), 3, 3),
                            R.randint(k1, (5,), -2147483648, 2147483647)))
random_case("random_bernoulli", [0, 42, 12345],
            "bernoulli(k0, 0.3, [8]), bernoulli(k1, 0.9, [2, 5]), bernoulli(k2, shape=[6])",
            lambda k0, k1, k2: (R.bernoulli(k0, 0.3, (8,)), R.bernoulli(k1, 0.9, (2, 5)),
                                R.bernoulli(k2, shape=(6,))))
random_case("random_normal", [0, 7],
            "normal(k0, [4, 8]), normal(k1, [33])",
            lambda k0, k1: (R.normal(k0, (4, 8)), R.normal(k1, (33,))), **ULP)
random_case("random_normal_keys", [2024, 5],
            "normal(k0, [2, 3, 4]), normal(split(k1)[1], [6])",
            lambda k0, k1: (R.normal(k0, (2, 3, 4)), R.normal(R.split(k1)[1], (6,))), **ULP)


@case("random_keys_dropout", np.int32(77), randn(4, 6), rtol=0, atol=0)
@om("""
# Keys from seeds (a run-time one, and compile-time ones), and flax's Dropout.
fn main(seed: i32, x: f32[4, 6]) {
    let k = key(seed);
    let (a, b) = (split(k)[0], split(k)[1]);
    (k, key(0), key(-1), key(2147483647), uniform(a, [5]), dropout(b, x, 0.5),
     dropout(key(3), x, 0.1), dropout(a, x, 0.0), dropout(a, x, 1.0))
}
""", ref=False)
def f(seed, x):
    r = jax.random

    def dropout(key, x, rate):  # flax.linen.Dropout, deterministic=False
        if rate == 0.0:
            return x
        if rate == 1.0:
            return jnp.zeros_like(x)
        keep = 1.0 - rate
        mask = r.bernoulli(key, p=keep, shape=x.shape)
        return jax.lax.select(mask, x / keep, jnp.zeros_like(x))
    k = r.PRNGKey(seed)
    a, b = r.split(k)
    return (k, r.PRNGKey(0), r.PRNGKey(-1), r.PRNGKey(2147483647), r.uniform(a, (5,)),
            dropout(b, x, 0.5), dropout(r.PRNGKey(3), x, 0.1), dropout(a, x, 0.0),
            dropout(a, x, 1.0))


@case("reductions_types", np.array([[-128, 5, 127], [3, -7, 100]], np.int8),
      np.array([[250, 5, 7], [3, 200, 100]], np.uint8),
      np.array([[0.1, 2.5, 1000], [3.25, -7.5, 60000]], np.float16),
      np.array([[0.1, 2.5, 1000], [3.25, -7.5, 3e38]], BF16), rtol=1e-3, atol=1e-3)
@om("""
# jnp's reductions: small integers sum as 32-bit ones, f16 and bf16 in f32.
fn main(a: i8[2, 3], b: u8[2, 3], h: f16[2, 3], g: bf16[2, 3]) {
    (sum(a), sum(a, axis=0), prod(a, axis=1), max(a), mean(a), sum(b), prod(b, axis=0),
     mean(b, axis=1), min(b), sum(h), mean(h, axis=0), prod(h, axis=1), max(h),
     sum(g, axis=1), mean(g), min(g, axis=0))
}
""", ref=False)
def f(a, b, h, g):
    return (jnp.sum(a), jnp.sum(a, axis=0), jnp.prod(a, axis=1), jnp.max(a), jnp.mean(a),
            jnp.sum(b), jnp.prod(b, axis=0), jnp.mean(b, axis=1), jnp.min(b), jnp.sum(h),
            jnp.mean(h, axis=0), jnp.prod(h, axis=1), jnp.max(h), jnp.sum(g, axis=1),
            jnp.mean(g), jnp.min(g, axis=0))


@case("index_builtins", randn(5, 6), randn(2, 6), np.array(3, np.int32), np.array(-2, np.int32),
      np.array(9, np.int32), rtol=0, atol=0)
@om("""
# flip, pad, dynamic_slice and dynamic_update_slice, with run-time starts that
# JAX wraps (negative) and XLA clamps (past the end).
fn main(x: f32[5, 6], row: f32[2, 6], i: i32, neg: i32, big: i32) {
    (flip(x), flip(x, axis=1), flip(x, axis=[0, -1]),
     pad(x, [(1, 2), (0, 3)]), pad(x, 1, value=-1.5), pad(x, [(2, 0), (1, 1)], value=7),
     dynamic_slice(x, [i, 1], [2, 4]), dynamic_slice(x, [neg, big], [3, 2]),
     dynamic_slice(x, [big, neg], [1, 6]),
     dynamic_update_slice(x, row, [i, 0]), dynamic_update_slice(x, row, [neg, 0]),
     dynamic_update_slice(x, row * 2.0, [big, 0]))
}
""", ref=False)
def f(x, row, i, neg, big):
    lax = jax.lax
    return (jnp.flip(x), jnp.flip(x, axis=1), jnp.flip(x, axis=(0, -1)),
            jnp.pad(x, ((1, 2), (0, 3))), jnp.pad(x, 1, constant_values=-1.5),
            jnp.pad(x, ((2, 0), (1, 1)), constant_values=7),
            lax.dynamic_slice(x, (i, 1), (2, 4)), lax.dynamic_slice(x, (neg, big), (3, 2)),
            lax.dynamic_slice(x, (big, neg), (1, 6)),
            lax.dynamic_update_slice(x, row, (i, 0)), lax.dynamic_update_slice(x, row, (neg, 0)),
            lax.dynamic_update_slice(x, row * 2.0, (big, 0)))


@case("order_builtins", np.array([[0, 3, 9], [-1, 2, 2]], np.int32), randn(4, 5),
      randn(2, 3, 4), rtol=0, atol=0)
@om("""
# one_hot (indices outside [0, n) give no class), tril and triu with offsets,
# roll along an axis and over the flattened array.
fn main(ids: i32[2, 3], m: f32[4, 5], x: f32[2, 3, 4]) {
    (one_hot(ids, 4), tril(m), tril(m, k=1), triu(m), triu(m, k=-2), tril(x, k=-1),
     roll(x, 1, axis=2), roll(x, -4, axis=1), roll(x, 5), roll(m, 0, axis=0))
}
""", ref=False)
def f(ids, m, x):
    return (jax.nn.one_hot(ids, 4), jnp.tril(m), jnp.tril(m, k=1), jnp.triu(m),
            jnp.triu(m, k=-2), jnp.tril(x, k=-1), jnp.roll(x, 1, axis=2),
            jnp.roll(x, -4, axis=1), jnp.roll(x, 5), jnp.roll(m, 0, axis=0))


@case("index_arrays", randn(6, 4), np.array([[0, 5, -1], [7, -9, 2]], np.int32),
      np.array(3, np.int32), rtol=0, atol=0)
@om("""
# An integer array (or run-time scalar) indexing the first axis: an embedding
# lookup; negative indices count from the end, others out of range clamp.
fn main(table: f32[6, 4], ids: i32[2, 3], i: i32) {
    (table[ids] * 2.0, table[i], table[ids][1])
}
""", ref=False)
def f(table, ids, i):
    return table[ids] * 2.0, table[i], table[ids][1]


@case("take_fill", randn(4, 5), np.array([[0, -1, 4], [7, -6, 2]], np.int32),
      np.array([3, -5, 9, 1], np.int32), np.array([[1, 2], [3, 4]], np.int32), rtol=0, atol=0)
@om("""
# jnp.take's default fill mode: negative indices count from the end once, the
# rest out of range give NaN (floats) or the most negative integer.
fn main(x: f32[4, 5], ids: i32[2, 3], flat: i32[4], n: i32[2, 2]) {
    (take(x, ids, axis=1), take(x, flat), take(x, flat, axis=0), take(n, flat, axis=-1))
}
""", ref=False)
def f(x, ids, flat, n):
    return (jnp.take(x, ids, axis=1), jnp.take(x, flat), jnp.take(x, flat, axis=0),
            jnp.take(n, flat, axis=-1))


# --- order builtins and indexing with arrays (issue 14) --------------------------
# Edge cases: NaN (argmax counts it greatest, sort puts it last), ties (the first
# index wins, sorts are stable), -0 beside 0, negative and out-of-range indices
# (gathers clamp, take_along_axis fills, scatters drop), duplicate scatter indices.

def special(*shape, every=7):
    """Ties (small integers as floats), a NaN every `every` elements, -0 and inf."""
    x = randint(-3, 3, *shape).astype(F32)
    flat = x.reshape(-1)
    flat[::every] = np.nan
    flat[1::every + 4] = -0.0
    flat[3::every + 6] = np.inf
    return x


@case("argmax_argmin", special(6, 10), randint(-2, 2, 4, 9), randn(3, 5) > 0, rtol=0, atol=0)
@om("""
# argmax/argmin: a variadic reduce of (value, index); NaN wins, ties go to the
# first index; over the flattened array without an axis; keepdims.
fn main(x: f32[6, 10], i: i32[4, 9], b: bool[3, 5]) {
    (argmax(x, axis=1), argmin(x, axis=1), argmax(x, axis=0), argmax(x), argmin(i, axis=-1),
     argmax(i, axis=0, keepdims=true), argmax(b, axis=1), argmin(x, keepdims=true))
}
""", ref=False)
def f(x, i, b):
    return (jnp.argmax(x, axis=1), jnp.argmin(x, axis=1), jnp.argmax(x, axis=0), jnp.argmax(x),
            jnp.argmin(i, axis=-1), jnp.argmax(i, axis=0, keepdims=True), jnp.argmax(b, axis=1),
            jnp.argmin(x, keepdims=True))


@case("any_all", randn(3, 5) > 0, special(3, 5, every=4), randint(0, 2, 4), rtol=0, atol=0)
@om("""
# any/all: nonzero elements (NaN counts) reduced by or/and.
fn main(b: bool[3, 5], x: f32[3, 5], i: i32[4]) {
    (any(b, axis=1), all(b), any(x, axis=0), all(x, axis=1, keepdims=true), any(i), all(i))
}
""", ref=False)
def f(b, x, i):
    return (jnp.any(b, axis=1), jnp.all(b), jnp.any(x, axis=0),
            jnp.all(x, axis=1, keepdims=True), jnp.any(i), jnp.all(i))


@case("cumulative", special(4, 9, every=11), randint(-9, 9, 12), randn(3, 5) > 0,
      rtol=1e-6, atol=0)
@om("""
# cumsum/cumprod (flattened without an axis, bools as i32), cummax/cummin (lax's
# default axis 0; NaN propagates), reverse=true, and an empty axis.
fn main(x: f32[4, 9], i: i32[12], b: bool[3, 5]) {
    (cumsum(x, axis=1), cumsum(x), cumprod(x, axis=0), cummax(x, axis=1), cummin(x),
     cumsum(i, reverse=true), cummax(i), cummin(i, reverse=true), cumprod(i, axis=0),
     cumsum(b, axis=1), cumprod(b, axis=0), cumsum(x[:, 0:0], axis=1))
}
""", ref=False)
def f(x, i, b):
    return (jnp.cumsum(x, axis=1), jnp.cumsum(x), jnp.cumprod(x, axis=0), lax.cummax(x, axis=1),
            lax.cummin(x), lax.cumsum(i, reverse=True), lax.cummax(i),
            lax.cummin(i, reverse=True), jnp.cumprod(i, axis=0), jnp.cumsum(b, axis=1),
            jnp.cumprod(b, axis=0), jnp.cumsum(x[:, 0:0], axis=1))


@case("sort_argsort", special(4, 11, every=5), randint(-3, 3, 3, 7), randn(2, 6) > 0,
      rtol=0, atol=0)
@om("""
# sort/argsort: stable, NaNs last, -0 and 0 tie; descending (argsort keeps equal
# elements in order); axis=None flattens.
fn main(x: f32[4, 11], i: i32[3, 7], b: bool[2, 6]) {
    (sort(x), sort(x, axis=0), argsort(x), argsort(x, axis=0), sort(x, descending=true),
     argsort(x, descending=true), sort(i, axis=None), argsort(i), argsort(i, axis=0, descending=true),
     sort(b), argsort(b, axis=-1))
}
""", ref=False)
def f(x, i, b):
    return (jnp.sort(x), jnp.sort(x, axis=0), jnp.argsort(x), jnp.argsort(x, axis=0),
            jnp.sort(x, descending=True), jnp.argsort(x, descending=True), jnp.sort(i, axis=None),
            jnp.argsort(i), jnp.argsort(i, axis=0, descending=True), jnp.sort(b),
            jnp.argsort(b, axis=-1))


@case("top_k", special(3, 9, every=5), randint(-3, 3, 2, 8), rtol=0, atol=0)
@om("""
# top_k: the k greatest along the last axis, ties by smaller index.
fn main(x: f32[3, 9], i: i32[2, 8]) {
    let (v, ix) = top_k(x, 4);
    let (w, jx) = top_k(i, 8);
    let (u, kx) = top_k(x, 0);
    (v, ix, w, jx, u, kx)
}
""", ref=False)
def f(x, i):
    return lax.top_k(x, 4) + lax.top_k(i, 8) + lax.top_k(x, 0)


@case("take_along_axis", randn(3, 5), np.array([[0, 4, -1, 5], [-5, -6, 2, 2], [9, 1, 0, 3]], I32),
      np.array([[2], [-1], [7]], I32), np.array([[4, 0, -2, 1, 3]], I32), randn(2, 3, 4),
      np.array([[[3, 0, -1, 8]], [[1, 1, 2, -4]]], I32), rtol=0, atol=0)
@om("""
# take_along_axis: negative indices count from the end, others out of range fill
# NaN; index axes of 1 take the whole axis, array axes of 1 broadcast.
fn main(x: f32[3, 5], idx: i32[3, 4], col: i32[3, 1], row: i32[1, 5], y: f32[2, 3, 4],
        idy: i32[2, 1, 4]) {
    (take_along_axis(x, idx, axis=1), take_along_axis(x, col, 1), take_along_axis(x, row, axis=0),
     take_along_axis(y, idy, axis=-1), take_along_axis(x[0:1, :], idx, axis=1),
     take_along_axis(i32(x * 4.0), col, axis=1))
}
""", ref=False)
def f(x, idx, col, row, y, idy):
    t = jnp.take_along_axis
    return (t(x, idx, axis=1), t(x, col, 1), t(x, row, axis=0), t(y, idy, axis=-1),
            t(x[0:1, :], idx, axis=1), t((x * 4.0).astype(jnp.int32), col, axis=1))


@case("index_multi", randn(4, 5, 6), np.array([0, -1, 7], I32), np.array([2, -6, 4], I32),
      np.array([[1], [3]], I32), np.array(9, I32), rtol=0, atol=0)
@om("""
# NumPy advanced indexing: index arrays broadcast together; adjacent ones replace
# their axes in place, separated ones (by a slice or None) come first; integers
# beside arrays join them; out-of-range indices clamp.
fn main(x: f32[4, 5, 6], r: i32[3], c: i32[3], m: i32[2, 1], i: i32) {
    (x[r, c], x[r, :, c], x[:, r, c], x[m, c], x[1, r], x[:, 1, r], x[r, 1:4],
     x[None, r, ::2], x[r, None, c], x[i, r], x[i, 1:3], x[m, 2:5, c], x[:, :, i])
}
""", ref=False)
def f(x, r, c, m, i):
    return (x[r, c], x[r, :, c], x[:, r, c], x[m, c], x[1, r], x[:, 1, r], x[r, 1:4],
            x[None, r, ::2], x[r, None, c], x[i, r], x[i, 1:3], x[m, 2:5, c], x[:, :, i])


@case("at_updates", randn(5, 4), np.array([1, 3, 3, -1, 9, -7], I32), randn(6, 4),
      np.array([0, 2, 2, 3, 1, -1], I32), randn(6), np.array(-2, I32),
      randint(-5, 5, 5), randn(5) > 0, rtol=0, atol=0)
@om("""
# x.at[idx].set/add/mul/min/max: a scatter; duplicate indices all apply (set:
# the last wins), negative ones count from the end, out-of-range ones are dropped;
# the value broadcasts and converts to the array's type.
fn main(x: f32[5, 4], r: i32[6], v: f32[6, 4], c: i32[6], w: f32[6], i: i32, n: i32[5],
        b: bool[5]) {
    (x.at[r].set(v), x.at[r].add(v), x.at[r, c].mul(w), x.at[r, c].min(w), x.at[r, c].max(w),
     x.at[1].add(2.0), x.at[:, 1:3].set(0.5), x.at[i, c].add(w), x.at[-1].set(x[0]),
     x.at[r, ::2].add(1), x.at[i].mul(3.0), n.at[r].max(3), n.at[r[0:2]].set(7.9),
     b.at[r].set(true), x.at[r].min(v[0]))
}
""", ref=False)
def f(x, r, v, c, w, i, n, b):
    return (x.at[r].set(v), x.at[r].add(v), x.at[r, c].mul(w), x.at[r, c].min(w),
            x.at[r, c].max(w), x.at[1].add(2.0), x.at[:, 1:3].set(0.5), x.at[i, c].add(w),
            x.at[-1].set(x[0]), x.at[r, ::2].add(1), x.at[i].mul(3.0), n.at[r].max(3),
            n.at[r[0:2]].set(7.9), b.at[r].set(True), x.at[r].min(v[0]))
