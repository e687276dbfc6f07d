"""An MLP classifier's training step with optax.sgd (momentum) and jax.value_and_grad."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(32)(x))
        x = nn.relu(nn.Dense(16)(x))
        return nn.Dense(4)(x)


def program():
    model = MLP()
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 12))
    y = jax.random.randint(jax.random.PRNGKey(2), (8,), 0, 4)
    params = model.init(jax.random.PRNGKey(0), x)
    tx = optax.sgd(learning_rate=0.1, momentum=0.9)
    opt_state = tx.init(params)

    def train_step(params, opt_state, x, y):
        def loss_fn(p):
            logits = model.apply(p, x)
            return optax.softmax_cross_entropy(logits, jax.nn.one_hot(y, 4)).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, opt_state, x, y)
