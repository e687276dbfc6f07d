"""Mixed precision forward: f32 params computed in bfloat16 (dtype=jnp.bfloat16), LayerNorm in f32, bf16 and f32 outputs."""
import jax
import jax.numpy as jnp
import flax.linen as nn

TOLERANCE = (2e-2, 2e-2)


class Net(nn.Module):
    @nn.compact
    def __call__(self, x):
        h = nn.Dense(24, dtype=jnp.bfloat16)(x)
        h = nn.LayerNorm(dtype=jnp.float32)(h)
        h = nn.gelu(h).astype(jnp.bfloat16)
        return nn.Dense(8, dtype=jnp.bfloat16)(h)


def program():
    model = Net()
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 16))
    params = model.init(jax.random.PRNGKey(0), x)

    def forward(params, x):
        y = model.apply(params, x)
        return y, y.astype(jnp.float32).sum(axis=-1)

    return forward, (params, x)
