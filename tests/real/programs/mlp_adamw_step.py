"""An MLP training step with optax.adamw (weight decay), a cosine schedule and silu."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.silu(nn.Dense(32)(x))
        x = nn.silu(nn.Dense(32)(x))
        return nn.Dense(5)(x)


def program():
    model = MLP()
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 16))
    y = jax.random.randint(jax.random.PRNGKey(2), (8,), 0, 5)
    params = model.init(jax.random.PRNGKey(0), x)
    schedule = optax.warmup_cosine_decay_schedule(0.0, 1e-2, 5, 100)
    tx = optax.adamw(learning_rate=schedule, weight_decay=1e-2)
    opt_state = tx.init(params)

    def train_step(params, opt_state, x, y):
        def loss_fn(p):
            logits = model.apply(p, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, opt_state, x, y)
