"""A LLaMA-style block piece: RMSNorm (nn.RMSNorm), SwiGLU MLP, rotary position embeddings (sin/cos, slicing, concatenate)."""
import jax
import jax.numpy as jnp
import flax.linen as nn


def rotary(x):
    t, d = x.shape[-2], x.shape[-1]
    freqs = 1.0 / (10000 ** (jnp.arange(0, d, 2) / d))
    angles = jnp.arange(t)[:, None] * freqs[None, :]
    sin, cos = jnp.sin(angles), jnp.cos(angles)
    x1, x2 = x[..., ::2], x[..., 1::2]
    return jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)


class Block(nn.Module):
    @nn.compact
    def __call__(self, x):
        h = nn.RMSNorm()(x)
        gate, up = nn.Dense(32, use_bias=False)(h), nn.Dense(32, use_bias=False)(h)
        return x + nn.Dense(16, use_bias=False)(nn.silu(gate) * up), rotary(h)


def program():
    model = Block()
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 16))
    params = model.init(jax.random.PRNGKey(0), x)
    return (lambda p, x: model.apply(p, x)), (params, x)
