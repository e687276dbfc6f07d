# JAX twins of the benchmark-suite scripts (benches/suite/*.om), in the CASES format of
# tests/jax_fixtures.py (`case`, `randn`, `jax`, `jnp`, `np` are injected).
# Each computes what its .om computes, in the same op order. Inputs are standard normal;
# like mlp.om, the mlp case scales its weights by 0.03 inside the program.

@case("ew_chain", randn(4194304))
def ew_chain(x): return jnp.tanh(2 * x + 1) * jax.nn.sigmoid(x) + x * x

@case("softmax", randn(4096, 1024))
def softmax(x): return jax.nn.softmax(x, axis=-1)

@case("layernorm", randn(4096, 1024), randn(1024), randn(1024))
def layernorm(x, g, b):
    m = jnp.mean(x, axis=-1, keepdims=True)
    v = jnp.mean(jnp.square(x - m), axis=-1, keepdims=True)
    return (x - m) * jax.lax.rsqrt(v + 1e-5) * g + b

@case("mlp", randn(512, 1024), randn(1024, 4096), randn(4096), randn(4096, 1024), randn(1024))
def mlp(x, w1, b1, w2, b2):
    h = jax.nn.gelu(x @ (w1 * 0.03) + b1, approximate=True)
    return h @ (w2 * 0.03) + b2 + x

@case("attention", randn(8, 512, 64), randn(8, 512, 64), randn(8, 512, 64))
def attention(q, k, v): return jax.nn.softmax(q @ jnp.swapaxes(k, 1, 2) / 8, axis=-1) @ v

@case("gemm", randn(1024, 1024), randn(1024, 1024))
def gemm(a, b): return a @ b

@case("gemm_nt", randn(1024, 512), randn(1024, 512))
def gemm_nt(a, b): return a @ b.T

@case("col_reduce", randn(4096, 4096))
def col_reduce(x): return jnp.sum(x, axis=0), jnp.max(x, axis=0)

@case("transpose_add", randn(2048, 2048), randn(2048, 2048))
def transpose_add(x, y): return (x.T + y).T * 2

@case("linreg_grad", randn(2048, 512), randn(512, 256), randn(2048, 256))
def linreg_grad(x, w, y): return x.T @ ((x @ w - y) * (2 / 2048))
