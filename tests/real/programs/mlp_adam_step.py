"""An MLP regression training step with optax.adam (mean squared error, gelu)."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.gelu(nn.Dense(24)(x))
        return nn.Dense(3)(x)


def program():
    model = MLP()
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 10))
    y = jax.random.normal(jax.random.PRNGKey(2), (8, 3))
    params = model.init(jax.random.PRNGKey(0), x)
    tx = optax.adam(learning_rate=1e-2)
    opt_state = tx.init(params)

    @jax.jit
    def train_step(params, opt_state, x, y):
        def loss_fn(p):
            return jnp.mean((model.apply(p, x) - y) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    # One step first, so that the moments the program reads are not zero.
    params, opt_state, _ = train_step(params, opt_state, x, y)
    return train_step, (params, opt_state, x, y)
