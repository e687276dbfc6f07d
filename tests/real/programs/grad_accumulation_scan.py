"""Gradient accumulation over micro-batches with lax.scan, then one optax.adam update (optax.MultiSteps-style by hand)."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax
from jax import lax


def program():
    model = nn.Sequential([nn.Dense(12), nn.swish, nn.Dense(1)])
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 4, 6))  # 4 micro-batches of 4
    y = jax.random.normal(jax.random.PRNGKey(2), (4, 4, 1))
    params = model.init(jax.random.PRNGKey(0), x[0])
    tx = optax.adam(1e-2)
    opt_state = tx.init(params)

    def step(params, opt_state, x, y):
        def micro(acc, batch):
            xb, yb = batch
            loss, g = jax.value_and_grad(lambda p: jnp.mean((model.apply(p, xb) - yb) ** 2))(params)
            return jax.tree_util.tree_map(jnp.add, acc, g), loss

        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        grads, losses = lax.scan(micro, zeros, (x, y))
        grads = jax.tree_util.tree_map(lambda g: g / x.shape[0], grads)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, losses

    return step, (params, opt_state, x, y)
