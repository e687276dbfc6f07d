"""Cumulative ops: jnp.cumsum, cumprod, lax.cummax, cumlogsumexp, and a running mean from cumsum."""
import jax
import jax.numpy as jnp
from jax import lax


def program():
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 12))
    counts = jax.random.randint(jax.random.PRNGKey(2), (10,), 0, 5)

    def cumulative(x, counts):
        return (
            jnp.cumsum(x, axis=-1),
            jnp.cumprod(1 + 0.1 * x, axis=0),
            lax.cummax(x, axis=1),
            lax.cumlogsumexp(x, axis=1),
            jnp.cumsum(counts),
            jnp.cumsum(x, axis=-1) / jnp.arange(1, 13),
        )

    return cumulative, (x, counts)
