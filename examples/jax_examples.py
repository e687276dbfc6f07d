# The JAX programs behind examples/*.hlo. Regenerate (from the repository root):
#   python3 tests/jax_fixtures.py examples/jax_examples.py /tmp/ex && \
#   for d in /tmp/ex/*/; do cp $d/module.hlo examples/$(basename $d).hlo; done

@case("mlp", randn(64, 784), randn(784, 256, scale=0.03), randn(256), randn(256, 10, scale=0.03), randn(10))
def mlp(x, w1, b1, w2, b2):
    h = jax.nn.relu(x @ w1 + b1)
    logits = h @ w2 + b2
    return jax.nn.softmax(logits, axis=-1), jnp.mean(logits)

@case("attention", randn(8, 128, 64), randn(8, 128, 64), randn(8, 128, 64))
def attention(q, k, v):
    s = q @ jnp.swapaxes(k, 1, 2) / 8.0
    return jax.nn.softmax(s, axis=-1) @ v

@case("mlp_grad", randn(128, 32), randn(32, 64, scale=0.2), randn(64, 1, scale=0.2), randn(128, 1))
def mlp_grad(x, w1, w2, y):
    def loss(w1, w2):
        return jnp.mean((jnp.tanh(x @ w1) @ w2 - y) ** 2)
    return jax.grad(loss, argnums=(0, 1))(w1, w2)
