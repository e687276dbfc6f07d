"""An MLP with nn.Dropout in train mode (rngs={'dropout': key}): a training step with optax.sgd."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool):
        x = nn.relu(nn.Dense(32)(x))
        x = nn.Dropout(0.5, deterministic=not train)(x)
        return nn.Dense(4)(x)


def program():
    model = MLP()
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 10))
    y = jax.random.randint(jax.random.PRNGKey(2), (8,), 0, 4)
    params = model.init(jax.random.PRNGKey(0), x, train=False)
    tx = optax.sgd(0.1)
    opt_state = tx.init(params)
    key = jax.random.PRNGKey(7)

    def train_step(params, opt_state, x, y, key):
        dropout_key = jax.random.fold_in(key, 0)

        def loss_fn(p):
            logits = model.apply(p, x, train=True, rngs={"dropout": dropout_key})
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, opt_state, x, y, key)
