"""A GRU over a sequence with nn.scan (variable_broadcast params), returning every hidden state."""
import jax
import jax.numpy as jnp
import flax.linen as nn


class GRU(nn.Module):
    @nn.compact
    def __call__(self, carry, xs):
        scan = nn.scan(nn.GRUCell, variable_broadcast="params", split_rngs={"params": False},
                       in_axes=1, out_axes=1)
        return scan(features=12)(carry, xs)


def program():
    model = GRU()
    xs = jax.random.normal(jax.random.PRNGKey(1), (4, 7, 5))
    carry = jnp.zeros((4, 12))
    params = model.init(jax.random.PRNGKey(0), carry, xs)
    return (lambda params, carry, xs: model.apply(params, carry, xs)), (params, carry, xs)
