"""Scaled dot-product attention written by hand with einsum, a causal mask and jax.nn.softmax, plus jax.nn.dot_product_attention."""
import jax
import jax.numpy as jnp


def program():
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    q = jax.random.normal(k1, (2, 8, 2, 8))  # batch, time, heads, head dim
    k = jax.random.normal(k2, (2, 8, 2, 8))
    v = jax.random.normal(k3, (2, 8, 2, 8))

    def attention(q, k, v):
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(q.shape[-1])
        causal = jnp.tril(jnp.ones((8, 8), bool))
        scores = jnp.where(causal, scores, -1e9)
        weights = jax.nn.softmax(scores, axis=-1)
        mine = jnp.einsum("bhqk,bkhd->bqhd", weights, v)
        theirs = jax.nn.dot_product_attention(q, k, v, is_causal=True)
        return mine, theirs, weights

    return attention, (q, k, v)
