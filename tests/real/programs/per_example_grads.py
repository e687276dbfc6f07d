"""Per-example gradients with jax.vmap(jax.grad), their norms clipped as in DP-SGD, averaged, and an sgd step."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


def program():
    model = nn.Sequential([nn.Dense(8), nn.relu, nn.Dense(2)])
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 4))
    y = jax.random.randint(jax.random.PRNGKey(2), (6,), 0, 2)
    params = model.init(jax.random.PRNGKey(0), x)

    def step(params, x, y):
        def loss(p, xi, yi):
            logits = model.apply(p, xi[None])
            return optax.softmax_cross_entropy_with_integer_labels(logits, yi[None]).sum()

        grads = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(params, x, y)
        norms = jnp.sqrt(sum(jnp.sum(g.reshape(6, -1) ** 2, axis=1) for g in jax.tree_util.tree_leaves(grads)))
        factor = jnp.minimum(1.0, 1.0 / norms)
        clipped = jax.tree_util.tree_map(lambda g: jnp.einsum("b,b...->...", factor, g) / 6, grads)
        return jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, clipped), norms

    return step, (params, x, y)
