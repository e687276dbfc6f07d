"""Sorting: jnp.sort, argsort (stable), lax.top_k, sort by key with several operands, median."""
import jax
import jax.numpy as jnp
from jax import lax


def program():
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 10))
    keys = jax.random.randint(jax.random.PRNGKey(2), (12,), 0, 4)
    values = jnp.arange(12, dtype=jnp.float32)

    def sorting(x, keys, values):
        top_values, top_indices = lax.top_k(x, 3)
        sorted_keys, sorted_values = lax.sort((keys, values), num_keys=1)
        return (
            jnp.sort(x, axis=-1),
            jnp.argsort(-x, axis=0, stable=True),
            top_values, top_indices,
            sorted_keys, sorted_values,
            jnp.median(x, axis=-1),
        )

    return sorting, (x, keys, values)
