# JAX programs for the index ops (gather, dynamic-slice, dynamic-update-slice,
# pad, reverse) and reduce-precision: each op's edge cases, XLA:CPU's results
# as the expected outputs.
#
# Regenerate (from the repository root; a file of its own, so that the inputs
# of cases.py stay as they are):
#     python3 tests/jax_fixtures.py tests/jax/index_cases.py tests/jax
#
# `case`, `randn`, `uniform`, `randint`, `jax`, `jnp`, `np` are injected by
# jax_fixtures.py. Start indices are inputs, not constants, wherever the case is
# about XLA's clamping: JAX folds what it can see.

from jax import lax

F32 = np.float32
I32 = np.int32
BF16 = jnp.bfloat16


def exact(name, *args):
    """Every op here picks or rounds elements exactly: no tolerance."""
    return case(name, *args, rtol=0.0, atol=0.0)


def x64(f):
    f.__x64__ = True
    return f


def scalar(v, dtype=I32):
    return np.array(v, dtype)


# ---------------------------------------------------------------------------
# dynamic-slice and dynamic-update-slice: XLA clamps the starts so that the
# slice is in bounds (JAX first wraps a negative start once by the size).
# ---------------------------------------------------------------------------

@exact("index_dynamic_slice_clamped", randn(5, 6), scalar(-9), scalar(4), scalar(10))
def f(x, neg, mid, big):
    return (lax.dynamic_slice(x, (neg, big), (2, 3)),
            lax.dynamic_slice(x, (mid, mid), (2, 3)),
            lax.dynamic_slice(x, (big, neg), (5, 1)),
            lax.dynamic_slice(x, (1, 2), (3, 3)))


@exact("index_dynamic_update_slice_edge", randn(5, 6), randn(2, 3), scalar(4), scalar(-1),
      np.arange(16, dtype=np.int8).reshape(4, 4), np.full((2, 2), -7, np.int8),
      scalar(3, np.uint32))
def f(x, u, i, j, b, c, k):
    return (lax.dynamic_update_slice(x, u, (i, j)),
            lax.dynamic_update_slice(x, u, (j, i)),
            lax.dynamic_update_slice(b, c, (k, k)))


# ---------------------------------------------------------------------------
# gather in the forms JAX emits.
# ---------------------------------------------------------------------------

@exact("index_gather_embedding", randn(10, 4),
      np.array([[0, 9, 12, -1, 3], [100, -100, 5, 5, 2], [1, 2, 3, 4, 10]], I32))
def f(table, ids):
    # Default indexing (JAX wraps negatives, XLA clamps the rest), and the raw
    # gather whose out-of-range ids XLA alone clamps.
    return table[ids], table.at[ids].get(mode="promise_in_bounds")


@exact("index_gather_forms", randn(6, 7), np.array([5, 0, 3, 3], I32),
      randint(0, 7, 6, 3), np.array([1, 6, 0], I32))
def f(x, ids, along, cols):
    return (x[ids], x[:, cols], jnp.take_along_axis(x, along, axis=1),
            x[ids[:3], cols], jnp.take(x, cols, axis=1, mode="clip"))


@exact("index_gather_batched", randn(4, 6, 5), randint(0, 5, 4, 6), randint(0, 6, 4, 3))
def f(x, i, rows):
    # vmap of a take: the batch dimension becomes operand_batching_dims.
    pick = jax.vmap(jax.vmap(lambda v, k: v[k]))(x, i)
    take_rows = jax.vmap(lambda m, r: m[r])(x, rows)
    return pick, take_rows


@exact("index_gather_windows", randn(6, 7), np.array([0, 5, -2, 3], I32))
def f(x, starts):
    # vmap of dynamic_slice: a gather with slice sizes above 1, clamped at the edge.
    return jax.vmap(lambda s: lax.dynamic_slice(x, (s, 1), (2, 5)))(starts)


@exact("index_gather_types", np.arange(-12, 12, dtype=np.int8).reshape(6, 4),
      np.arange(24, dtype=np.uint16).reshape(6, 4),
      (randn(6, 4) * 100).astype(np.float16), randn(6, 4).astype(BF16),
      randn(6, 4) > 0, np.array([5, 1, 7, -3], I32))
def f(a, b, c, d, e, ids):
    return tuple(t.at[ids].get(mode="promise_in_bounds") for t in (a, b, c, d, e))


@x64
def gather_x64(a, b, ids):
    return a[ids], b[:, ids], lax.dynamic_slice(a, (ids[0], ids[1]), (2, 2))


exact("index_gather_x64", np.arange(20, dtype=np.int64).reshape(5, 4) * (1 << 40),
     np.linspace(-1, 1, 20).reshape(4, 5), np.array([4, -1, 2], np.int64))(gather_x64)


# ---------------------------------------------------------------------------
# pad and reverse.
# ---------------------------------------------------------------------------

@exact("index_pad", randn(3, 4), scalar(0.5, F32),
      np.arange(12, dtype=np.int8).reshape(3, 4))
def f(x, v, b):
    return (lax.pad(x, v, [(1, 2, 0), (-1, 3, 2)]),
            lax.pad(x, v, [(-2, -1, 1), (0, 0, 0)]),
            jnp.pad(x, ((1, 1), (2, 0))),
            lax.pad(b, np.int8(-5), [(0, -3, 3), (2, -4, 1)]))


@exact("index_reverse", randn(2, 3, 4), np.arange(6, dtype=np.uint16).reshape(2, 3),
      randn(3, 2) > 0)
def f(x, u, p):
    return jnp.flip(x, (0, 2)), jnp.flip(x, 1), jnp.flip(u), jnp.flip(p, 0)


# ---------------------------------------------------------------------------
# reduce-precision: to f16's and bf16's widths and below, with NaN, infinities,
# overflow, ties and values below the narrow format's normals.
# ---------------------------------------------------------------------------

EDGES = np.array([0.0, -0.0, 1.0, -1.5, np.nan, -np.nan, np.inf, -np.inf,
                  65504.0, 65519.0, 65520.0, -70000.0, 1e-5, -1e-5, 6.1035156e-05,
                  6.0e-05, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 1.0 + 2.0 ** -8,
                  3.4028235e38, 1e-40, -1e-45, 3.1415927, 1e30], F32)


@exact("index_reduce_precision_f32", EDGES, randn(7, 5, scale=1e3))
def f(x, y):
    return (lax.reduce_precision(x, 5, 10), lax.reduce_precision(x, 8, 7),
            lax.reduce_precision(x, 4, 3), lax.reduce_precision(x, 8, 0),
            lax.reduce_precision(y, 5, 2))


@exact("index_reduce_precision_half", EDGES.astype(np.float16), EDGES.astype(BF16))
def f(h, b):
    return (lax.reduce_precision(h, 4, 3), lax.reduce_precision(h, 5, 1),
            lax.reduce_precision(b, 5, 4), lax.reduce_precision(b, 8, 3))


@x64
def reduce_precision_f64(x):
    return lax.reduce_precision(x, 8, 23), lax.reduce_precision(x, 5, 10)


exact("index_reduce_precision_f64",
     np.concatenate([EDGES.astype(np.float64), [1e300, 1e-300, 1.0 + 2.0 ** -24]]))(
    reduce_precision_f64)


# ---------------------------------------------------------------------------
# Wide enough for the CPU's four-lane loops, and fused with elementwise work:
# lanes along a gather's slice, a pad's untouched dimension, a dynamic slice.
@case("index_fused_wide", randn(50, 64), np.array([3, 49, 0, 7, 60, -4, 3, 12], I32),
      randn(12, 64), scalar(3), scalar(9), randn(2, 64), rtol=1e-6, atol=1e-6)
def f(table, ids, x, i, j, row):
    embedded = table[ids] * 2.0 + 1.0
    padded = jnp.tanh(jnp.pad(x, ((2, 1), (0, 0)), constant_values=-1.0))
    window = lax.dynamic_slice(x, (i, j), (6, 40)) + jnp.flip(x, 0)[:6, :40]
    updated = lax.dynamic_update_slice(x, row * 3.0, (i, 0)) - x
    return embedded, padded, window, updated
