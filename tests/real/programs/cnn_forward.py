"""A small CNN's forward pass: nn.Conv, avg_pool, max_pool, Dense, softmax."""
import jax
import jax.numpy as jnp
import flax.linen as nn


class CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Conv(8, (3, 3))(x))
        x = nn.avg_pool(x, (2, 2), strides=(2, 2))
        x = nn.relu(nn.Conv(16, (3, 3), padding="VALID")(x))
        x = nn.max_pool(x, (2, 2), strides=(2, 2))
        x = x.reshape((x.shape[0], -1))
        return nn.softmax(nn.Dense(10)(x))


def program():
    model = CNN()
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 12, 12, 1))
    params = model.init(jax.random.PRNGKey(0), x)
    return (lambda params, x: model.apply(params, x)), (params, x)
