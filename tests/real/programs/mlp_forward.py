"""A two-layer flax MLP's forward pass (Dense, relu, log_softmax)."""
import jax
import jax.numpy as jnp
import flax.linen as nn


class MLP(nn.Module):
    hidden: int = 32
    classes: int = 10

    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(self.hidden)(x))
        return nn.log_softmax(nn.Dense(self.classes)(x))


def program():
    model = MLP()
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 16))
    params = model.init(jax.random.PRNGKey(0), x)

    def forward(params, x):
        return model.apply(params, x)

    return forward, (params, x)
