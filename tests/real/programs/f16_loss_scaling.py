"""Mixed precision with float16 and dynamic loss scaling: scaled loss, unscaled grads, an all-finite check, a conditional update."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax

TOLERANCE = (1e-2, 1e-2)


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(16, dtype=jnp.float16)(x))
        return nn.Dense(4, dtype=jnp.float16)(x)


def program():
    model = MLP()
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 8)).astype(jnp.float16)
    y = jax.random.randint(jax.random.PRNGKey(2), (8,), 0, 4)
    params = model.init(jax.random.PRNGKey(0), x)
    tx = optax.sgd(0.1)
    opt_state = tx.init(params)
    scale = jnp.float32(2.0**10)

    def train_step(params, opt_state, scale, x, y):
        def loss_fn(p):
            logits = model.apply(p, x).astype(jnp.float32)
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
            return (loss * scale).astype(jnp.float16), loss

        (_, loss), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        grads = jax.tree_util.tree_map(lambda g: g.astype(jnp.float32) / scale, grads)
        finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(g)) for g in jax.tree_util.tree_leaves(grads)]))
        updates, new_opt_state = tx.update(grads, opt_state)
        new_params = optax.apply_updates(params, updates)
        params = jax.tree_util.tree_map(lambda n, o: jnp.where(finite, n, o), new_params, params)
        scale = jnp.where(finite, scale * 2, scale / 2)
        return params, new_opt_state, scale, loss, finite

    return train_step, (params, opt_state, scale, x, y)
