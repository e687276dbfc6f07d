"""A flax model's initialization as a jitted program: model.init from a PRNG key (lecun_normal, truncated normal, zeros)."""
import jax
import jax.numpy as jnp
import flax.linen as nn


class Net(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.Dense(8, kernel_init=nn.initializers.truncated_normal(0.02))(x)
        x = nn.Conv(4, (3,))(x)
        return nn.Dense(2, kernel_init=nn.initializers.xavier_uniform())(x)


def program():
    model = Net()
    x = jnp.ones((2, 5, 3))

    def init(key, x):
        return model.init(key, x)

    return init, (jax.random.PRNGKey(0), x)
