"""A CNN training step (Conv, strided Conv, max_pool) with optax.adam: convolution gradients and select-and-scatter."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Conv(8, (3, 3))(x))
        x = nn.max_pool(x, (2, 2), strides=(2, 2))
        x = nn.relu(nn.Conv(8, (3, 3), strides=(2, 2))(x))
        x = jnp.mean(x, axis=(1, 2))
        return nn.Dense(4)(x)


def program():
    model = CNN()
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 8, 8, 2))
    y = jax.random.randint(jax.random.PRNGKey(2), (4,), 0, 4)
    params = model.init(jax.random.PRNGKey(0), x)
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)

    def train_step(params, opt_state, x, y):
        def loss_fn(p):
            logits = model.apply(p, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, opt_state, x, y)
