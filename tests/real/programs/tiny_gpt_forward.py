"""A tiny GPT's forward pass: token and position nn.Embed, two causal transformer blocks, tied output logits."""
import jax
import jax.numpy as jnp
import flax.linen as nn

VOCAB, T, D, HEADS = 32, 8, 16, 2


class Block(nn.Module):
    @nn.compact
    def __call__(self, x):
        mask = nn.make_causal_mask(jnp.ones(x.shape[:2]))
        x = x + nn.SelfAttention(num_heads=HEADS)(nn.LayerNorm()(x), mask=mask)
        h = nn.Dense(4 * D)(nn.LayerNorm()(x))
        return x + nn.Dense(D)(nn.gelu(h))


class GPT(nn.Module):
    @nn.compact
    def __call__(self, tokens):
        embed = nn.Embed(VOCAB, D)
        x = embed(tokens) + nn.Embed(T, D)(jnp.arange(tokens.shape[1]))
        for _ in range(2):
            x = Block()(x)
        return embed.attend(nn.LayerNorm()(x))


def program():
    model = GPT()
    tokens = jax.random.randint(jax.random.PRNGKey(1), (4, T), 0, VOCAB)
    params = model.init(jax.random.PRNGKey(0), tokens)
    return (lambda params, tokens: model.apply(params, tokens)), (params, tokens)
