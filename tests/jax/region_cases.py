# JAX programs whose HLO has ops with regions or several results: scatter, sort,
# variadic reduce (argmax/argmin), reduce-window, select-and-scatter.
#
# Regenerate (from the repository root; every case together, inputs share one RNG;
# a file of its own, so that the inputs of cases.py stay as they are):
#     python3 tests/jax_fixtures.py tests/jax/region_cases.py tests/jax
#
# `case`, `randn`, `uniform`, `randint`, `jax`, `jnp`, `np` are injected by
# jax_fixtures.py. The expected outputs are XLA:CPU's (jax.jit), edge cases included:
# duplicate and out-of-range scatter indices, NaN in sort and argmax, ties.

import flax.linen as nn
import optax
from jax import lax

F32 = np.float32
NAN = F32("nan")


def with_nans(x, every=5):
    x = x.copy()
    x.reshape(-1)[::every] = NAN
    return x


def with_ties(*shape, values=4):
    return randint(0, values, *shape).astype(F32)


# --- scatter: x.at[i].op(u) ---------------------------------------------------
# Indices include duplicates, negative ones (JAX wraps them before the scatter)
# and out-of-range ones (dropped: JAX's default mode for .at[] updates).

IDX = np.array([0, 3, 3, -1, 12, 3, -20, 7], dtype=np.int32)

@case("region_scatter_add_dup_oob", randn(10), IDX, randn(8))
def f(x, i, u): return x.at[i].add(u)

@case("region_scatter_set_oob", randn(10), np.array([1, 4, 9, 15, -3], dtype=np.int32), randn(5))
def f(x, i, u): return x.at[i].set(u)

@case("region_scatter_set_dup", randn(10), IDX, randn(8))
def f(x, i, u):
    # Duplicates of .set: XLA applies updates in index order, the last one stays.
    return x.at[i].set(u)

@case("region_scatter_apply_region", randn(10), IDX)
def f(x, i):
    # .apply's update region ignores the update: sin applied once per index hit.
    return x.at[i].apply(jnp.sin)

@case("region_scatter_modes_flags", randn(10), np.array([1, 2, 5, 9], dtype=np.int32), randn(4),
      np.array([-3, 0, 11, 4], dtype=np.int32))
def f(x, i, u, j):
    # Sorted/unique flags as attributes; clip mode clamps (no scatter drops).
    return (x.at[i].set(u, indices_are_sorted=True, unique_indices=True),
            x.at[j].add(u, mode="clip"),
            x.at[j].max(u, mode="drop"))

@case("region_scatter_mul_dup", uniform(10, lo=0.5, hi=2.0), IDX, uniform(8, lo=0.5, hi=2.0))
def f(x, i, u): return x.at[i].multiply(u)

@case("region_scatter_min_max_s32", randint(-50, 50, 10), IDX, randint(-50, 50, 8))
def f(x, i, u): return x.at[i].min(u), x.at[i].max(u)

@case("region_scatter_add_rows_2d", randn(6, 4), np.array([[0, 1], [5, 5], [2, 9], [-1, 0]], dtype=np.int32), randn(4, 3))
def f(x, i, u): return x.at[i[:, 0], i[:, 1]].add(u[:, 0]), x.at[i[:, 0]].add(u[:, :1])

@case("region_scatter_embedding_grad", randint(0, 16, 4, 7), randn(4, 7, 8))
def f(tokens, g): return jnp.zeros((16, 8), F32).at[tokens].add(g)

@case("region_scatter_embedding_grad_autodiff", randn(16, 8), randint(0, 16, 12), randn(12, 8))
def f(emb, tokens, w):
    # The gradient does not read emb (jit would drop it): take an SGD step.
    return emb - 0.1 * jax.grad(lambda e: jnp.sum(jnp.take(e, tokens, axis=0) * w))(emb)

@case("region_scatter_batched_vmap", randn(3, 10), randint(0, 10, 3, 4), randn(3, 4))
def f(x, i, u): return jax.vmap(lambda x, i, u: x.at[i].add(u))(x, i, u)

@case("region_cross_entropy_grad", randn(6, 10), randint(0, 10, 6))
def f(logits, labels):
    # optax's integer-label loss reads the label's logit by a gather: its
    # gradient scatter-adds into zeros.
    loss = lambda l: optax.softmax_cross_entropy_with_integer_labels(l, labels).mean()
    return jax.grad(loss)(logits)

@case("region_embedding_grad_duplicates", randn(8, 4), np.array([[1, 1, 1], [7, 1, 0]], dtype=np.int32),
      randn(2, 3, 4))
def f(table, ids, w):
    # flax's nn.Embed lookup (jnp.take) and its gradient: repeated ids add up
    # (an SGD step, so that jit keeps the table).
    return table - 0.1 * jax.grad(lambda t: jnp.sum(jnp.take(t, ids, axis=0) * w))(table)

@case("region_scatter_add_f16", randn(10).astype(np.float16), IDX, randn(8).astype(np.float16), rtol=1e-2, atol=1e-2)
def f(x, i, u): return x.at[i].add(u)


# --- sort ---------------------------------------------------------------------

@case("region_sort_nan_rows", with_nans(randn(5, 9)))
def f(x): return jnp.sort(x, axis=1), jnp.sort(x, axis=0)

@case("region_argsort_ties_nan", with_nans(with_ties(4, 11), every=7))
def f(x): return jnp.argsort(x, axis=-1), jnp.argsort(-x, axis=0)

@case("region_sort_two_keys", with_ties(17), with_ties(17), randn(17))
def f(a, b, c): return lax.sort((a, b, c), num_keys=2)

@case("region_sort_key_value_s32", randint(-5, 5, 3, 13), randn(3, 13))
def f(k, v): return lax.sort((k, v), dimension=1, num_keys=1, is_stable=True)

@case("region_sort_u8", randint(0, 255, 20).astype(np.uint8))
def f(x): return jnp.sort(x)

@case("region_top_k_via_sort", with_ties(3, 16, values=9))
def f(x):
    order = jnp.argsort(-x, axis=-1, stable=True)[:, :5]
    return order, -jnp.sort(-x, axis=-1)[:, :5]


@case("region_sort_descending_keys", with_nans(with_ties(3, 12), every=5), randint(0, 100, 3, 12))
def f(x, v):
    # Two operands, descending float key with NaNs and ties, values carried along.
    return lax.sort((-x, v), dimension=1, num_keys=1, is_stable=True)


# --- variadic reduce: argmax / argmin ---------------------------------------

@case("region_argmax_nan_ties", with_nans(with_ties(6, 10), every=13))
def f(x): return jnp.argmax(x, axis=1), jnp.argmin(x, axis=1), jnp.argmax(x, axis=0)

@case("region_argmax_s32", randint(-3, 3, 4, 9))
def f(x): return jnp.argmax(x, axis=-1), jnp.argmin(x, axis=0)

@case("region_argmax_accuracy", randn(8, 10), randint(0, 10, 8))
def f(logits, labels): return jnp.mean(jnp.argmax(logits, -1) == labels)


# --- reduce-window ------------------------------------------------------------

@case("region_cumsum_cumprod_cummax", randn(4, 9), uniform(9, lo=0.5, hi=1.5))
def f(x, y):
    return jnp.cumsum(x, axis=1), jnp.cumsum(x, axis=0), jnp.cumprod(y), lax.cummax(x, axis=1)

@case("region_cumsum_s32_reverse", randint(-9, 9, 12))
def f(x): return jnp.cumsum(x), lax.cumsum(x, reverse=True), lax.cummin(x)

@case("region_max_pool_same", randn(2, 9, 9, 3))
def f(x): return lax.reduce_window(x, -jnp.inf, lax.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME")

@case("region_avg_pool_valid", randn(2, 8, 8, 3))
def f(x): return lax.reduce_window(x, 0.0, lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") / 4.0

@case("region_reduce_window_dilated", randn(11, 10))
def f(x):
    return (lax.reduce_window(x, 0.0, lax.add, (3, 2), (2, 1), ((1, 2), (0, 1)),
                              base_dilation=(2, 1), window_dilation=(1, 3)),
            lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (1, 3), ((0, 0), (2, 2)),
                              window_dilation=(2, 2)))

@case("region_reduce_window_s32_min", randint(-100, 100, 7, 7))
def f(x): return lax.reduce_window(x, np.int32(2**31 - 1), lax.min, (2, 3), (1, 2), "SAME")


@case("region_flax_pools", randn(2, 7, 7, 3))
def f(x):
    return (nn.max_pool(x, (3, 3), (2, 2), "SAME"), nn.avg_pool(x, (3, 3), (2, 2), "SAME"),
            nn.avg_pool(x, (2, 2), (2, 2), "VALID"))

@case("region_flax_pool_grads", randn(2, 7, 7, 3))
def f(x):
    # max_pool's gradient: pad, then select-and-scatter; avg_pool's: pad
    # (interior), then reduce-window.
    def loss(x):
        return (jnp.sum(nn.max_pool(x, (3, 3), (2, 2), "SAME") ** 2)
                + jnp.sum(nn.avg_pool(x, (3, 3), (2, 2), "SAME") ** 2))
    return jax.grad(loss)(x)


# --- select-and-scatter: max-pool's gradient --------------------------------

# JAX pads the operand itself (a `pad`) for "SAME" pooling's gradient: VALID here.
def max_pool(x):
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 3, 3, 1), (1, 2, 2, 1), "VALID")

@case("region_max_pool_grad", randn(2, 9, 9, 3), randn(2, 4, 4, 3))
def f(x, w): return jax.grad(lambda x: jnp.sum(max_pool(x) * w))(x)

@case("region_max_pool_grad_ties", with_ties(1, 6, 6, 2, values=2), randn(1, 3, 3, 2))
def f(x, w):
    pool = lambda x: lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    return jax.grad(lambda x: jnp.sum(pool(x) * w))(x)

@case("region_max_pool_grad_overlap", randn(1, 7, 7, 1), randn(1, 5, 5, 1))
def f(x, w):
    pool = lambda x: lax.reduce_window(x, -jnp.inf, lax.max, (1, 3, 3, 1), (1, 1, 1, 1), "VALID")
    return jax.grad(lambda x: jnp.sum(pool(x) * w))(x)


# --- reduce-window with a region that is not a ReduceOp -----------------------

@case("region_cumlogsumexp", with_nans(randn(3, 8), every=11))
def f(x):
    # Cumulative log-add-exp: a reduce-window whose region selects around NaN
    # and infinities (XLA skips padding: the init is folded in once).
    return lax.cumlogsumexp(x, axis=1), lax.cumlogsumexp(x, axis=0, reverse=True)


# --- topk ---------------------------------------------------------------------

def special_row():
    x = np.array([1, 3, np.nan, 3, 0, -0.0, 0.0, np.inf, -np.inf, 3], F32)
    x[4] = -NAN  # a negative NaN: least in total order
    return x

@case("region_top_k", np.stack([special_row(), special_row()[::-1]]), with_ties(2, 3, 9, values=3))
def f(x, t):
    # XLA's TopK: total order (NaN greatest, +0 above -0), ties by smaller index.
    return lax.top_k(x, 10) + lax.top_k(-x, 4) + lax.top_k(t, 3)


# --- scatter windows that overhang the operand ----------------------------------

@case("region_scatter_partial_window", randn(10, 4), np.array([[0], [7], [8], [-1], [3]], np.int32),
      randn(5, 3, 4))
def f(x, i, u):
    # Three-row windows: starting at 8 (overhangs) or -1 they are dropped whole;
    # clip mode moves the start back inside instead.
    dn = lax.ScatterDimensionNumbers(update_window_dims=(1, 2), inserted_window_dims=(),
                                     scatter_dims_to_operand_dims=(0,))
    return (lax.scatter_add(x, i, u, dn, mode=lax.GatherScatterMode.FILL_OR_DROP),
            lax.scatter(x, i, u, dn, mode=lax.GatherScatterMode.CLIP),
            lax.scatter_mul(x, i, u, dn, mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS))
