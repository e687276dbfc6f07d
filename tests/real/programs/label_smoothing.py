"""A classifier training step with label smoothing (optax.smooth_labels), softmax_cross_entropy and optax.rmsprop."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


def program():
    model = nn.Sequential([nn.Dense(16), nn.tanh, nn.Dense(6)])
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 8))
    y = jax.random.randint(jax.random.PRNGKey(2), (8,), 0, 6)
    params = model.init(jax.random.PRNGKey(0), x)
    tx = optax.rmsprop(1e-2)
    opt_state = tx.init(params)

    def train_step(params, opt_state, x, y):
        def loss_fn(p):
            targets = optax.smooth_labels(jax.nn.one_hot(y, 6), alpha=0.1)
            return optax.softmax_cross_entropy(model.apply(p, x), targets).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, opt_state, x, y)
