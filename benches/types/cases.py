# JAX twins of the element-type benchmarks (benches/types/*.om), in the CASES format of
# tests/jax_fixtures.py (`case`, `randn`, `randint`, `jax`, `jnp`, `np` are injected).
# Each computes what its .om computes, in the same op order. A case marked
# `__x64__` runs with jax_enable_x64 (its 64-bit inputs stay 64-bit). `exact` cases
# must agree with Omelet to the bit (integer ops and threefry): types/peers.py --omelet
# checks every case against Omelet's output on the same inputs.
BF16 = jnp.bfloat16
bits = np.random.default_rng(13)  # full-range u32 inputs and raw keys

@case("bf16_mlp", randn(256, 512).astype(BF16), randn(512, 1024).astype(BF16),
      randn(1024).astype(BF16), randn(1024, 512).astype(BF16), randn(512).astype(BF16),
      rtol=2e-2, atol=0.5)
def bf16_mlp(x, w1, b1, w2, b2):
    h = jax.nn.relu(x @ w1 + b1)
    return h @ w2 + b2

@case("f16_loss_scale", randn(4194304).astype(np.float16), rtol=0, atol=0)
def f16_loss_scale(g):
    scaled = g * 1024
    finite = jnp.sum(~jnp.isfinite(scaled)) == 0
    return jnp.where(finite, scaled.astype(jnp.float32) / 1024, 0), finite

@case("int8_matmul", randint(-127, 128, 256, 1024).astype(np.int8),
      randint(-127, 128, 1024, 1024).astype(np.int8), randn(256, 1), randn(1024), rtol=0, atol=0)
def int8_matmul(x, w, sx, sw):
    # XLA's own int8 dot (preferred_element_type) is twice as fast as a dot of the
    # converted operands, and exactly equal: it is the peer.
    acc = jax.lax.dot(x, w, preferred_element_type=jnp.int32)
    return acc.astype(jnp.float32) * sx * sw

@case("u32_hash", bits.integers(0, 2**32, 4194304, dtype=np.uint32), rtol=0, atol=0)
def u32_hash(x):
    h = x ^ (x >> 16)
    h = h * jnp.uint32(2246822507)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(3266489909)
    return h ^ (h >> 16)

@case("f64_chain", randn(2097152).astype(np.float64), rtol=1e-12, atol=1e-12)
def f64_chain(x): return jnp.tanh(2 * x + 1) * jax.nn.sigmoid(x) + x * x
f64_chain.__x64__ = True

def _dropout(key, x, rate):  # flax.linen.Dropout, deterministic=False
    keep = 1.0 - rate
    mask = jax.random.bernoulli(key, p=keep, shape=x.shape)
    return jax.lax.select(mask, x / keep, jnp.zeros_like(x))

@case("dropout", np.asarray(jax.random.PRNGKey(2026)), randn(4096, 1024), rtol=0, atol=0)
def dropout(k, x): return _dropout(k, x, 0.1)

@case("uniform", np.asarray(jax.random.PRNGKey(13)), rtol=0, atol=0)
def uniform(k): return jax.random.uniform(k, (4194304,))

# Divisors in ±[1, 49]: NumPy's // and % by zero differ from XLA's.
@case("int_divrem", randint(-100000, 100000, 4194304),
      randint(1, 50, 4194304) * (2 * randint(0, 2, 4194304) - 1), rtol=0, atol=0)
def int_divrem(x, y):
    q = x // y
    r = x % y
    return (q * 31 + r) // 7 + (x % 1000) // 3
