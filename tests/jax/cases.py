# JAX test programs for Omelet's HLO front end.
#
# Regenerate fixtures (from /work/main):
#     python3 tests/jax_fixtures.py tests/jax/cases.py tests/jax
#     tests/jax/check_ops.sh
#
# `case`, `randn`, `uniform`, `randint`, `jax`, `jnp`, `np` are injected by jax_fixtures.py.
# Inputs are drawn from one shared RNG in definition order, so adding a case in the
# middle changes the inputs of every later case (regenerate all fixtures together).
#
# Constraints: only the HLO opcodes listed in check_ops.sh, element types f32/s32/pred,
# no variadic reduce, and every fixture directory under ~100 KB.
# Every input must be live in the result: jax.jit drops unused arguments from the lowered
# module, which would desync module parameters from in*.npy (check_ops.sh checks this).

from jax import lax

F32 = np.float32
I32 = np.int32


def signed_away_from_zero(*shape, lo=0.5, hi=3.0):
    """Values with |v| in [lo, hi] and a random sign (safe divisors / reciprocals)."""
    mag = uniform(*shape, lo=lo, hi=hi)
    sgn = np.where(randn(*shape) >= 0, F32(1), F32(-1)).astype(F32)
    return (mag * sgn).astype(F32)


def nonzero_int(lo, hi, *shape):
    """int32 values in [lo, hi) with zero replaced by 1."""
    v = randint(lo, hi, *shape)
    return np.where(v == 0, 1, v).astype(I32)


def flat(tree):
    """The fixture tool wants a flat tuple of outputs."""
    return tuple(jax.tree_util.tree_leaves(tree))


def bools(*shape):
    return randn(*shape) > 0


# ---------------------------------------------------------------------------
# Elementwise float math
# ---------------------------------------------------------------------------

@case("unary_exp", randn(17, 37))
def f(x): return jnp.exp(x)

@case("unary_expm1", randn(37, scale=0.01), randn(3, 5, scale=2.0))
def f(x, y): return jnp.expm1(x), jnp.expm1(y)

@case("unary_log", uniform(3, 17, lo=0.01, hi=20.0))
def f(x): return jnp.log(x)

@case("unary_log1p", uniform(37, lo=-0.9, hi=5.0), uniform(1, 17, lo=-1e-4, hi=1e-4))
def f(x, y): return jnp.log1p(x), jnp.log1p(y)

@case("unary_sqrt_rsqrt", uniform(5, 7, lo=0.05, hi=10.0))
def f(x): return jnp.sqrt(x), lax.rsqrt(x)

@case("unary_tanh", randn(17, 3, scale=3.0))
def f(x): return jnp.tanh(x)

@case("unary_sigmoid", randn(37, 1, scale=4.0))
def f(x): return jax.nn.sigmoid(x)

@case("unary_sin_cos", randn(3, 37, scale=3.0))
def f(x): return jnp.sin(x), jnp.cos(x)

@case("unary_erf", randn(17, 17, scale=1.5))
def f(x): return jax.scipy.special.erf(x), lax.erf(x * 0.25)

@case("unary_floor_ceil", randn(5, 17, scale=5.0))
def f(x): return jnp.floor(x), jnp.ceil(x)

@case("unary_round_half_even",
      np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 3.7, -3.7, 0.0, -0.0, 1e7 + 1.0],
               np.float32),
      randn(17, scale=10.0))
def f(x, y): return jnp.round(x), jnp.round(y)

@case("unary_sign_abs_neg",
      np.array([[-2.0, -0.0, 0.0, 3.5], [1e-30, -1e-30, 7.0, -7.0]], np.float32),
      randn(3, 17))
def f(x, y): return jnp.sign(x), jnp.abs(x), -x, jnp.sign(y) * jnp.abs(y) - (-y)

@case("unary_square_reciprocal", signed_away_from_zero(7, 17))
def f(x): return jnp.square(x), jnp.reciprocal(x), 1.0 / x

@case("power_float", uniform(5, 17, lo=0.1, hi=4.0), randn(5, 17))
def f(x, y): return jnp.power(x, y), x ** 2.5, x ** 0.5

@case("power_integer_exponent", randn(3, 17), signed_away_from_zero(17))
def f(x, y): return x ** 2, x ** 3, y ** -2, lax.integer_pow(x, 5)

@case("binary_max_min", randn(17, 5), randn(17, 5))
def f(x, y): return jnp.maximum(x, y), jnp.minimum(x, y)

@case("clip_and_clamp", randn(37, scale=3.0), randn(5, 3, scale=3.0))
def f(x, y): return jnp.clip(x, -1.0, 2.0), lax.clamp(F32(-0.5), y, F32(0.5))

@case("remainder_float", randn(5, 17, scale=10.0), signed_away_from_zero(5, 17, lo=0.7, hi=4.0))
def f(x, y): return jnp.remainder(x, y), lax.rem(x, y), jnp.fmod(x, y)

@case("remainder_int", randint(-100, 100, 37), nonzero_int(-9, 10, 37))
def f(x, y): return jnp.remainder(x, y), lax.rem(x, y)

@case("is_finite",
      np.array([0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 3.4e38, -1e-45], np.float32))
def f(x): return jnp.isfinite(x)

@case("logical_ops", bools(5, 17), bools(5, 17))
def f(a, b):
    return jnp.logical_not(a), jnp.logical_and(a, b), jnp.logical_or(a, b), ~a | (a & b)

@case("compare_all_directions_f32",
      np.round(randn(7, 5) * 2).astype(np.float32), np.round(randn(7, 5) * 2).astype(np.float32))
def f(x, y): return x < y, x <= y, x > y, x >= y, x == y, x != y

@case("where_select", randn(17, 5), randn(17, 5), bools(17, 5))
def f(x, y, c):
    return jnp.where(x > 0, x, y * 2.0), jnp.where(c, x, y), jnp.where(x < y, 1.0, -1.0)

@case("elementwise_chain", randn(37, 17))
def f(x):
    y = jnp.exp(-jnp.abs(x)) * jnp.sin(x) + jnp.tanh(x) * jnp.cos(x * 0.5)
    return jnp.sqrt(y * y + 1.0) - jnp.log1p(jnp.abs(y))

# ---------------------------------------------------------------------------
# Broadcasting
# ---------------------------------------------------------------------------

@case("bcast_scalar_const", randn(7, 5))
def f(x): return x * 3.0 + 1.5, 2.0 - x, x / 4.0

@case("bcast_scalar_input", randn(7, 5), np.array(2.5, np.float32))
def f(x, s): return x * s, s - x, s * s

@case("bcast_row", randn(17, 5), randn(5))
def f(x, b): return x + b, x * b[None, :]

@case("bcast_col", randn(17, 5), randn(17, 1), randn(17))
def f(x, c, d): return x - c, x * d[:, None]

@case("bcast_size1_dims", randn(3, 1, 5), randn(1, 4, 1))
def f(a, b): return a * b, a + b

@case("bcast_rank_expand", randn(2, 3, 4), randn(4), randn(3, 1))
def f(a, b, c): return a + b + c, b * c

@case("bcast_outer", randn(17, 1), randn(1, 37))
def f(a, b): return a - b

@case("bcast_size1_to_size1", randn(1, 1), randn(1, 1, 1))
def f(a, b): return a + b, a * 2.0

# ---------------------------------------------------------------------------
# Reductions (3-D input; prod-safe magnitudes)
# ---------------------------------------------------------------------------

def red5(x, axis, keepdims=False):
    return (jnp.sum(x, axis=axis, keepdims=keepdims),
            jnp.max(x, axis=axis, keepdims=keepdims),
            jnp.min(x, axis=axis, keepdims=keepdims),
            jnp.prod(x, axis=axis, keepdims=keepdims),
            jnp.mean(x, axis=axis, keepdims=keepdims))

@case("reduce_axis_0", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, 0)

@case("reduce_axis_1", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, 1)

@case("reduce_axis_2", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, 2)

@case("reduce_axis_01", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, (0, 1))

@case("reduce_axis_02", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, (0, 2))

@case("reduce_axis_12", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, (1, 2))

@case("reduce_all", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, None)

@case("reduce_keepdims_1", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, 1, keepdims=True)

@case("reduce_keepdims_02", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, (0, 2), keepdims=True)

@case("reduce_keepdims_all", signed_away_from_zero(3, 17, 5, lo=0.7, hi=1.3))
def f(x): return red5(x, None, keepdims=True)

@case("reduce_size1_dims", randn(1, 37, 1))
def f(x): return jnp.sum(x, axis=0), jnp.max(x, axis=(0, 2)), jnp.mean(x, axis=2, keepdims=True)

@case("reduce_large_sum", randn(64, 64))
def f(x): return jnp.sum(x), jnp.sum(x, axis=0), jnp.mean(x * x, axis=1)

@case("reduce_int", randint(-50, 50, 3, 17, 5))
def f(x):
    return jnp.sum(x, axis=1), jnp.max(x, axis=(0, 2)), jnp.min(x), jnp.prod(x[:, :3, 0] % 5 + 1, axis=1)

@case("reduce_bool_any_all", bools(5, 17), np.ones((3, 4), bool))
def f(a, b): return jnp.any(a, axis=1), jnp.all(a, axis=0), jnp.all(b), jnp.any(~b)

# ---------------------------------------------------------------------------
# Dots / einsum
# ---------------------------------------------------------------------------

@case("dot_matmul", randn(17, 37), randn(37, 5))
def f(x, w): return x @ w

@case("dot_matvec", randn(37, 17), randn(17))
def f(m, v): return m @ v

@case("dot_vecmat", randn(17), randn(17, 3))
def f(v, m): return v @ m

@case("dot_vecvec", randn(37), randn(37))
def f(a, b): return jnp.dot(a, b)

@case("dot_x_wT", randn(17, 37), randn(5, 37), randn(5))
def f(x, w, b): return x @ w.T + b

@case("dot_matmul_64", randn(64, 64), randn(64, 64))
def f(a, b): return a @ b

@case("dot_size1", randn(1, 37), randn(37, 1))
def f(a, b): return a @ b, b @ a

@case("dot_int32", randint(-10, 10, 5, 7), randint(-10, 10, 7, 3))
def f(a, b): return a @ b

@case("einsum_batch_first", randn(3, 5, 7), randn(3, 7, 4))
def f(a, b): return jnp.einsum("bij,bjk->bik", a, b)

@case("einsum_batch_middle", randn(5, 3, 7), randn(7, 3, 4))
def f(a, b): return jnp.einsum("ibj,jbk->bik", a, b)

@case("einsum_batch_last", randn(5, 7, 3), randn(3, 4, 7))
def f(a, b): return jnp.einsum("ijb,bkj->bik", a, b)

@case("einsum_batch_vecvec", randn(17, 37), randn(17, 37))
def f(a, b): return jnp.einsum("bi,bi->b", a, b)

@case("einsum_two_contracting", randn(5, 3, 7), randn(3, 7, 4))
def f(a, b): return jnp.einsum("ijk,jkl->il", a, b)

@case("einsum_two_batch", randn(2, 3, 5, 4), randn(2, 3, 7, 4))
def f(q, k): return jnp.einsum("bhqd,bhkd->bhqk", q, k)

@case("einsum_outer", randn(17), randn(5))
def f(a, b): return jnp.einsum("i,j->ij", a, b)

@case("einsum_transposed_out", randn(5, 7), randn(7, 3))
def f(a, b): return jnp.einsum("ij,jk->ki", a, b)

# ---------------------------------------------------------------------------
# Shape manipulation
# ---------------------------------------------------------------------------

@case("transpose_2d", randn(17, 5))
def f(x): return x.T, jnp.transpose(x) + 1.0

@case("transpose_3d_perms", randn(2, 3, 5))
def f(x):
    return (jnp.transpose(x, (1, 0, 2)), jnp.transpose(x, (2, 0, 1)),
            jnp.transpose(x, (0, 2, 1)), jnp.transpose(x, (2, 1, 0)))

@case("reshape_various", randn(6, 4))
def f(x): return x.reshape(2, 3, 4), x.reshape(24), x.reshape(4, 6), x.reshape(1, 24, 1)

@case("reshape_transpose_mix", randn(4, 6))
def f(x): return jnp.transpose(x.reshape(2, 2, 3, 2), (3, 1, 0, 2)).reshape(6, 4) * 2.0

@case("slice_steps", randn(9, 17))
def f(x): return x[1:7:2, ::3], x[::2, 1::4], x[3:4, 5:6]

@case("slice_negative_index", randn(9, 17))
def f(x): return x[-3:, :-2], x[-1], x[:, -1:], x[-5:-1:2, -7]

@case("slice_3d", randn(4, 5, 6))
def f(x): return x[1:3, ::2, 2:], x[:, 2, :], x[..., 0]

@case("concat_axis0", randn(2, 3, 4), randn(5, 3, 4))
def f(a, b): return jnp.concatenate([a, b], axis=0)

@case("concat_axis1", randn(2, 3, 4), randn(2, 1, 4), randn(2, 5, 4))
def f(a, b, c): return jnp.concatenate([a, b, c], axis=1)

@case("concat_axis2", randn(2, 3, 4), randn(2, 3, 7))
def f(a, b): return jnp.concatenate([a, b], axis=2), jnp.concatenate([b, a, a], axis=-1)

@case("concat_stack", randn(17), randn(17))
def f(a, b): return jnp.stack([a, b]), jnp.stack([a, b], axis=1)

@case("iota_arange", randn(12))
def f(x):
    return (jnp.arange(12), x * jnp.arange(12, dtype=jnp.float32),
            lax.broadcasted_iota(jnp.int32, (3, 5), 1), jnp.arange(2, 37, 5) * 2)

@case("eye", randn(5, 5), randn(3, 5))
def f(x, y): return jnp.eye(5) * x, jnp.eye(3, 5, k=1) + y, jnp.eye(4, dtype=jnp.int32)

@case("broadcast_to", randn(3, 1), randn(4))
def f(x, v): return jnp.broadcast_to(x, (2, 3, 4)), jnp.broadcast_to(v, (3, 4))

@case("expand_squeeze", randn(5, 3), randn(1, 5, 1))
def f(x, y):
    return jnp.expand_dims(x, (0, 2)), jnp.squeeze(y), jnp.squeeze(y, axis=2), x[:, None, :]

@case("tile", randn(2, 3))
def f(x): return jnp.tile(x, (2, 3))

# ---------------------------------------------------------------------------
# Integer ops and conversions
# ---------------------------------------------------------------------------

@case("int_arith", randint(-1000, 1000, 5, 17), randint(-1000, 1000, 5, 17))
def f(a, b): return a + b, a - b, a * b, -a, a * 3 - 7

@case("int_max_min_abs_sign", randint(-20, 20, 37), randint(-20, 20, 37))
def f(a, b): return jnp.maximum(a, b), jnp.minimum(a, b), jnp.abs(a), jnp.sign(b)

@case("int_compare", randint(-3, 3, 7, 5), randint(-3, 3, 7, 5))
def f(a, b): return a < b, a <= b, a > b, a >= b, a == b, a != b

@case("int_floor_divide", randint(-100, 100, 37), nonzero_int(-9, 10, 37))
def f(a, b): return jnp.floor_divide(a, b), lax.div(a, b)

@case("int_power", randint(-10, 10, 17))
def f(a): return a ** 2, a ** 3, lax.integer_pow(a, 4)

@case("int_clip_where", randint(-50, 50, 5, 7))
def f(a): return jnp.clip(a, -10, 10), jnp.where(a > 0, a, 0), lax.clamp(-3, a, 3)

@case("convert_float_int", randn(5, 17, scale=50.0), randint(-1000, 1000, 17))
def f(x, i):
    return x.astype(jnp.int32), i.astype(jnp.float32), (x.astype(jnp.int32) + i).astype(jnp.float32) * 0.5

@case("convert_bool", randn(7, 5), bools(7, 5), randint(-2, 3, 7, 5))
def f(x, b, i):
    return ((x > 0).astype(jnp.float32), b.astype(jnp.float32), b.astype(jnp.int32),
            i.astype(bool), x.astype(bool))

# ---------------------------------------------------------------------------
# Multiple outputs
# ---------------------------------------------------------------------------

@case("multi_out_mixed", randn(5, 7), randint(-5, 5, 7))
def f(x, i): return jnp.sum(x), i * 2, x > 0, x @ i.astype(jnp.float32)

@case("multi_out_passthrough", randn(3, 4), randn(4))
def f(x, y): return x, x * 2.0, y, x

@case("multi_out_two", randn(17))
def f(x): return jnp.max(x), jnp.min(x)

# ---------------------------------------------------------------------------
# NN pieces
# ---------------------------------------------------------------------------

@case("nn_softmax", randn(37, 17, scale=3.0))
def f(x): return jax.nn.softmax(x, axis=-1), jax.nn.softmax(x, axis=0)

@case("nn_log_softmax", randn(17, 37, scale=3.0))
def f(x): return jax.nn.log_softmax(x, axis=-1)

@case("nn_logsumexp", randn(5, 17, scale=5.0))
def f(x): return jax.nn.logsumexp(x, axis=1), jax.nn.logsumexp(x), jax.nn.logsumexp(x, axis=0, keepdims=True)

@case("nn_layernorm_manual", randn(17, 37, scale=2.0), randn(37), randn(37))
def f(x, g, b):
    mu = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return (x - mu) * lax.rsqrt(var + 1e-5) * g + b

@case("nn_gelu_tanh", randn(17, 37, scale=2.0))
def f(x): return jax.nn.gelu(x, approximate=True)

@case("nn_gelu_erf", randn(17, 37, scale=2.0))
def f(x): return jax.nn.gelu(x, approximate=False)

@case("nn_silu_relu", randn(17, 37, scale=2.0))
def f(x): return jax.nn.silu(x), jax.nn.relu(x)

@case("nn_attention", randn(7, 16), randn(9, 16), randn(9, 8))
def f(q, k, v):
    s = q @ k.T / jnp.sqrt(16.0)
    return jax.nn.softmax(s, axis=-1) @ v

@case("nn_mlp_forward", randn(5, 17), randn(17, 32, scale=0.3), randn(32), randn(32, 3, scale=0.3), randn(3))
def f(x, w1, b1, w2, b2):
    return jax.nn.log_softmax(jax.nn.relu(x @ w1 + b1) @ w2 + b2)

# ---------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------

@case("grad_linreg_mse", randn(37, 5), randn(37), randn(5), np.array(0.3, np.float32))
def f(x, y, w, b):
    def loss(w, b):
        return jnp.mean((x @ w + b - y) ** 2)
    return flat(jax.value_and_grad(loss, argnums=(0, 1))(w, b))

@case("grad_mlp_tanh", randn(8, 5), randn(8, 3), randn(5, 16, scale=0.5), randn(16),
      randn(16, 3, scale=0.5), randn(3))
def f(x, y, w1, b1, w2, b2):
    def loss(p):
        w1, b1, w2, b2 = p
        h = jnp.tanh(x @ w1 + b1)
        return jnp.mean(jnp.sum((h @ w2 + b2 - y) ** 2, axis=1))
    return flat(jax.value_and_grad(loss)((w1, b1, w2, b2)))

@case("grad_mlp_relu", randn(8, 5), randn(8, 3), randn(5, 16, scale=0.5), randn(16),
      randn(16, 3, scale=0.5), randn(3))
def f(x, y, w1, b1, w2, b2):
    def loss(w1, b1, w2, b2):
        h = jax.nn.relu(x @ w1 + b1)
        return 0.5 * jnp.sum((h @ w2 + b2 - y) ** 2)
    return jax.grad(loss, argnums=(0, 1, 2, 3))(w1, b1, w2, b2)

@case("grad_softmax_xent",
      randn(7, 5), np.eye(5, dtype=np.float32)[np.array([0, 3, 1, 4, 4, 2, 0])],
      randn(5, 5, scale=0.5), randn(5))
def f(x, onehot, w, b):
    def loss(w, b):
        logits = x @ w + b
        return -jnp.mean(jnp.sum(onehot * jax.nn.log_softmax(logits, axis=-1), axis=-1))
    return flat(jax.value_and_grad(loss, argnums=(0, 1))(w, b))

@case("grad_layernorm", randn(5, 17, scale=2.0), randn(17), randn(17), randn(5, 17))
def f(x, g, b, t):
    def loss(x, g, b):
        mu = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
        y = (x - mu) / jnp.sqrt(var + 1e-5) * g + b
        return jnp.sum(jnp.tanh(y) * t)  # tanh keeps b live (unused args get pruned)
    return jax.grad(loss, argnums=(0, 1, 2))(x, g, b)

@case("grad_elementwise", randn(37))
def f(x):
    return jax.grad(lambda x: jnp.sum(jnp.sin(x) * jnp.exp(0.5 * x) + jax.nn.sigmoid(x) * jnp.tanh(x)))(x)

@case("grad_gelu_silu", randn(17, 3, scale=2.0), rtol=1e-3, atol=1e-5)
def f(x):
    return (jax.grad(lambda x: jnp.sum(jax.nn.gelu(x, approximate=False)))(x),
            jax.grad(lambda x: jnp.sum(jax.nn.gelu(x, approximate=True)))(x),
            jax.grad(lambda x: jnp.sum(jax.nn.silu(x)))(x))

# ---------------------------------------------------------------------------
# Nested jit (call) and constants
# ---------------------------------------------------------------------------

@jax.jit
def _inner_affine(x, w):
    return jnp.tanh(x @ w) + 1.0

@jax.jit
def _outer_block(x, w):
    return _inner_affine(x, w) * _inner_affine(x, w * 0.5)

@case("nested_jit_call", randn(5, 7), randn(7, 7))
def f(x, w):
    return _inner_affine(x, w) + _inner_affine(x * 2.0, w)

@case("nested_jit_deep", randn(3, 7), randn(7, 7, scale=0.5))
def f(x, w):
    return _outer_block(x, w), jnp.sum(_inner_affine(x, w))

@case("nested_jit_multi_out", randn(17))
def f(x):
    g = jax.jit(lambda v: (jnp.max(v), jnp.exp(v - jnp.max(v))))
    m, e = g(x)
    return m, e / jnp.sum(e)

@case("const_array", randn(4, 3))
def f(x):
    return (jnp.array([1.0, 2.0, -3.5]) * x,
            x @ jnp.array([[1.0, 0.0], [0.5, -2.0], [0.25, 1e-3]]),
            jnp.array([1, -2, 3, 4], jnp.int32) * 2)

@case("const_special_values", randn(5))
def f(x):
    c = jnp.array([np.inf, -np.inf, np.nan, 0.0, -0.0])
    big = jnp.array([3.4028235e38, -3.4028235e38, 1e-30, 1.17549435e-38, 1e-45])
    return (jnp.minimum(x, np.inf), jnp.maximum(x, -np.inf), c + 0.0 * x,
            jnp.where(jnp.isfinite(c), x, 0.0), big * 1.0, x * F32(1e38) * F32(10.0))

@case("const_bool_and_int", randn(3, 4), randint(-5, 5, 3, 4))
def f(x, i):
    m = jnp.array([[True, False, True, False]])
    return jnp.where(m, x, -1.0), jnp.where(m, i, jnp.array([7, 8, 9, 10], jnp.int32)), m & (i > 0)

# ---------------------------------------------------------------------------
# Degenerate modules
# ---------------------------------------------------------------------------

@case("identity_root_parameter", randn(3, 17))
def f(x): return x

@case("no_parameters")
def f(): return jnp.arange(5, dtype=jnp.float32) * 2.0, jnp.full((2, 3), 7, jnp.int32)

# ---------------------------------------------------------------------------
# XLA's semantics at the edges, taken from XLA itself (lax ops emit the HLO op
# directly): integer division by zero and overflow, NaN through max/min, the sign
# of zero, saturating float-to-int conversion, integer powers with negative
# exponents.
# ---------------------------------------------------------------------------

@case("edge_int_division", np.array([7, -7, 7, -7, 0, -2147483648, 5, -5], np.int32),
      np.array([2, 2, -2, -2, 0, -1, 0, 0], np.int32))
def f(a, b):
    return lax.div(a, b), lax.rem(a, b)

@case("edge_nan_max_min_sign", np.array([np.nan, 1.0, -np.inf, 0.0, -0.0, 2.0, np.nan], np.float32),
      np.array([1.0, np.nan, 3.0, -0.0, 0.0, np.inf, np.nan], np.float32))
def f(a, b):
    return lax.max(a, b), lax.min(a, b), lax.sign(a), lax.abs(a), lax.neg(b)

@case("edge_convert_saturates", np.array([np.nan, 3.7, -3.7, 1e10, -1e10, np.inf, -np.inf, 0.5, -0.5], np.float32))
def f(x):
    return lax.convert_element_type(x, jnp.int32), lax.convert_element_type(x, jnp.bool_)

@case("edge_int_overflow", np.array([2147483647, -2147483648, -2147483648, 65536], np.int32),
      np.array([1, -1, 1, 65536], np.int32))
def f(a, b):
    return a + b, a - b, a * b, lax.abs(a), lax.neg(a)

# ---------------------------------------------------------------------------
# GEMM epilogues (issue 12): every dot form with an elementwise consumer. The
# CPU backend runs the epilogue on blocks of the product's rows only where they
# are rows of the output's first dimension; these cover free dimensions on one
# side only, batch dimensions (of size 1 too), transposed operands, outputs
# whose leading dimensions merge into the product's rows, and sizes past the
# GEMM's parallel threshold (2^21 multiply-adds), whose big operands are
# computed in the program (a column sum, or a right operand, which stay kernels
# of their own) so the fixtures stay small.
# ---------------------------------------------------------------------------

def cos_grid(u, v):
    return jnp.cos(u[:, None] * v[None, :])

@case("epilogue_vec_mat3", randn(2), randn(2, 2, 2))
def f(x, y): return jnp.einsum("a,abc->bc", x, y) + 1.0

@case("epilogue_mat3_vec", randn(2, 3, 4), randn(4))
def f(y, x): return lax.dot_general(y, x, (((2,), (0,)), ((), ()))) + 1.0

@case("epilogue_vec_mat3_large", randn(5), randn(5, 13, 17))
def f(x, y): return jnp.einsum("a,abc->bc", x, y) * 2.0 - 1.0

@case("epilogue_mat3_vec_large", randn(9, 13, 21), randn(21), randn(13))
def f(y, x, b): return jnp.maximum(lax.dot_general(y, x, (((2,), (0,)), ((), ()))) + b, 0.0)

@case("epilogue_matvec", randn(37, 19), randn(19), randn(37))
def f(w, x, b): return jnp.tanh(w @ x + b)

@case("epilogue_vecmat", randn(19), randn(19, 37), randn(37))
def f(x, w, b): return jnp.tanh(x @ w + b)

@case("epilogue_batch_matvec", randn(3, 5, 7), randn(3, 7))
def f(a, x): return jnp.einsum("bij,bj->bi", a, x) + 1.0

@case("epilogue_batch_vecmat", randn(3, 7), randn(3, 7, 5))
def f(x, a): return jnp.einsum("bi,bij->bj", x, a) + 1.0

@case("epilogue_batch1_matvec", randn(1, 5, 7), randn(1, 7))
def f(a, x): return jnp.einsum("bij,bj->bi", a, x) + 1.0

@case("epilogue_batch1_vecmat", randn(1, 7), randn(1, 7, 5))
def f(x, a): return jnp.einsum("bi,bij->bj", x, a) + 1.0

@case("epilogue_batch1_matmul", randn(1, 5, 7), randn(1, 7, 3))
def f(a, b): return jnp.einsum("bij,bjk->bik", a, b) * 3.0

@case("epilogue_batch_matmul", randn(3, 5, 7), randn(3, 7, 4), randn(4))
def f(a, b, c): return jnp.einsum("bij,bjk->bik", a, b) + c

@case("epilogue_transposed", randn(7, 5), randn(3, 7))
def f(a, b): return a.T @ b.T + 1.0

@case("epilogue_permuted_out", randn(5, 7), randn(7, 3))
def f(a, b): return jnp.einsum("ij,jk->ki", a, b) + 1.0

@case("epilogue_rank3_lhs", randn(4, 3, 7), randn(7, 5), randn(5))
def f(x, w, b): return x @ w + b

@case("epilogue_rank3_lhs_unit", randn(5, 1, 7), randn(7, 3))
def f(x, w): return x @ w + 1.0

@case("epilogue_parallel_matmul", randn(32, 256), randn(256), randn(256), rtol=1e-3, atol=1e-3)
def f(a, u, v): return jnp.tanh(a @ cos_grid(u * 0.1, v) * 0.1) + 1.0

@case("epilogue_parallel_vecmat", randn(2048), randn(1024), rtol=1e-3, atol=1e-3)
def f(x, v): return x @ cos_grid(x * 0.01, v) + 1.0

@case("epilogue_parallel_batch_vecmat", randn(2, 2048), randn(1024), rtol=1e-3, atol=1e-3)
def f(x, v):
    w = jnp.cos(x[:, :, None] * 0.01 * v[None, None, :])
    return jnp.einsum("bi,bij->bj", x, w) + 1.0

@case("epilogue_parallel_batch_matmul", randn(2, 8, 512), randn(512), rtol=1e-3, atol=1e-3)
def f(a, v):
    w = jnp.cos(v[None, :, None] * v[None, None, :] * jnp.array([0.1, 0.2])[:, None, None])
    return jnp.einsum("bij,bjk->bik", a, w) - 1.0

@case("epilogue_parallel_matvec", randn(2, 1024), randn(2048), rtol=1e-3, atol=1e-3)
def f(y, v):
    w = jnp.sum(jnp.cos(y[:, :, None] * v[None, None, :]), axis=0)
    return w @ v + 1.0

@case("epilogue_parallel_mat3_vec", randn(2, 16, 64), randn(2048), rtol=1e-3, atol=1e-3)
def f(y, v):
    w = jnp.sum(jnp.cos(y[:, :, :, None] * v[None, None, None, :]), axis=0)
    return lax.dot_general(w, v, (((2,), (0,)), ((), ()))) * 0.5 + 1.0

# Zero-size arrays: JAX passes them as `constant({})`, which kernels read no
# element of (a dot over an empty contraction is zeros).
@case("zero_size_constant_dot", randn(0), randn(0, 2), randn(2))
def f(a, b, c): return jnp.einsum("a,ab->b", a, b) + c

@case("zero_size_constant_matmul", randn(3, 0), randn(0, 4), randint(-3, 3, 3, 0), randint(-3, 3, 0, 4), randint(-3, 3, 4))
def f(a, b, ai, bi, i): return a @ b + 1.0, ai @ bi + i
