"""A pre-LayerNorm transformer block's forward pass: nn.MultiHeadDotProductAttention, gelu MLP, residuals."""
import jax
import jax.numpy as jnp
import flax.linen as nn


class Block(nn.Module):
    d: int = 16
    heads: int = 2

    @nn.compact
    def __call__(self, x, mask):
        h = nn.LayerNorm()(x)
        h = nn.MultiHeadDotProductAttention(num_heads=self.heads, qkv_features=self.d)(h, h, mask=mask)
        x = x + h
        h = nn.LayerNorm()(x)
        h = nn.Dense(4 * self.d)(h)
        h = nn.Dense(self.d)(nn.gelu(h))
        return x + h


def program():
    model = Block()
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 16))
    lengths = jnp.array([8, 5])
    mask = nn.make_attention_mask(jnp.arange(8)[None] < lengths[:, None],
                                  jnp.arange(8)[None] < lengths[:, None])
    params = model.init(jax.random.PRNGKey(0), x, mask)
    return (lambda params, x, mask: model.apply(params, x, mask)), (params, x, mask)
